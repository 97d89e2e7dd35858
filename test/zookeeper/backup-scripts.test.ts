// The backup, restore and restore-verify scripts of a ZooKeeperEnsemble under
// bash, with real gzip, sha256sum, od, find and mv: the backup against a
// stand-in `curl` that answers like ZooKeeper 3.9's AdminServer (a
// `last_zxid` header and a snapshot body ending in the sealed last zxid),
// the restore and the verify's checksum guard against files on disk. The
// real servers run them in test/e2e/zookeeper-ops.test.ts.
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gunzipSync, gzipSync } from 'zlib';
import { renderZkBackupScript, renderZkRestoreScript, renderZkRestoreVerifyScript } from '../../src/zookeeper/backup';
import { haveShellcheck, shellcheck } from '../support/shellcheck';

const SEAL = Buffer.from('000000012f', 'hex');
/** A snapshot body as 3.9 streams it: header, tree, then "<last zxid><CRC>/" after a sealed part. */
function snapshotBody(tree: string, lastZxid: bigint): Buffer {
  const zxid = Buffer.alloc(8);
  zxid.writeBigUInt64BE(lastZxid);
  return Buffer.concat([Buffer.from('ZKSN'), Buffer.from(tree), Buffer.alloc(8, 7), SEAL, zxid, Buffer.alloc(8, 9), SEAL]);
}

let dirs: string[] = [];
afterEach(() => {
  dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
  dirs = [];
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-backup-'));
  dirs.push(d);
  return d;
}
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** Runs `script` under bash with only `PATH` (stdin closed: bash reads no rc file). */
const bash = (script: string, pathDirs = '/usr/bin:/bin') => spawnSync('bash', ['-c', script], { encoding: 'utf-8', stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: pathDirs } });

/**
 * A `curl` that serves `answers[host]` (a body and the header's zxid, or an
 * HTTP status to fail with) for GET /commands/snapshot?streaming=true with a
 * digest Authorization, and records the hosts asked.
 */
function curlStandIn(dir: string, answers: { [host: string]: { body?: Buffer; zxid?: string; status?: number } }): string {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  for (const [host, a] of Object.entries(answers)) if (a.body) fs.writeFileSync(path.join(dir, `${host}.body`), a.body);
  const cases = Object.entries(answers).map(([host, a]) => (a.body
    ? `  ${host}) printf 'HTTP/1.1 200 OK\\r\\nlast_zxid: 0x${a.zxid}\\r\\nContent-Type: application/octet-stream\\r\\n\\r\\n' >"$headers"; cat ${dir}/${host}.body ;;`
    : `  ${host}) echo "curl: (22) The requested URL returned error: ${a.status}" >&2; exit 22 ;;`)).join('\n');
  fs.writeFileSync(path.join(bin, 'curl'), `#!/bin/bash
set -euo pipefail
headers= auth= url=
while (($#)); do
  case "$1" in
    -D) headers=$2; shift 2 ;;
    -H) auth=$2; shift 2 ;;
    --connect-timeout) shift 2 ;;
    -fsS) shift ;;
    *) url=$1; shift ;;
  esac
done
[[ "$auth" =~ ^Authorization:\\ digest\\ cdk8s-backup:[0-9a-f]{32}$ ]] || { echo "curl stand-in: bad auth '$auth'" >&2; exit 2; }
host=\${url#http://}; host=\${host%%:*}
[[ "$url" == "http://$host:8080/commands/snapshot?streaming=true" ]] || { echo "curl stand-in: bad url $url" >&2; exit 2; }
echo "$host" >>${dir}/asked
case "$host" in
${cases}
  *) echo "curl: (6) Could not resolve host: $host" >&2; exit 6 ;;
esac
`, { mode: 0o755 });
  return bin;
}

function runBackup(dir: string, bin: string, members: string[], keep?: number) {
  fs.mkdirSync(path.join(dir, 'backup'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  const script = renderZkBackupScript({ members, adminPort: 8080, dir: path.join(dir, 'backup'), keep, tmpDir: path.join(dir, 'tmp') });
  return bash(script, `${bin}:/usr/bin:/bin`);
}
const files = (d: string) => fs.readdirSync(d).sort();

describe('the backup script', () => {
  test('takes the snapshot of the first member that serves one, names it after its zxid, and records its sha256', () => {
    // GIVEN member 0 refuses (rate limit), member 1 serves a snapshot that ends at the zxid it started at
    const dir = tmp();
    const body = snapshotBody('tree of znodes', 0x30000012an);
    const bin = curlStandIn(dir, { m0: { status: 429 }, m1: { body, zxid: '30000012A' }, m2: { body, zxid: '1' } });
    // WHEN it runs
    const r = runBackup(dir, bin, ['m0', 'm1', 'm2'], 7);
    // THEN it succeeded from m1 without asking m2
    expect(r.stderr).toContain('m0 did not serve a snapshot');
    expect(r.status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'asked'), 'utf-8')).toBe('m0\nm1\n');
    const backup = path.join(dir, 'backup');
    const [name, sumFile] = files(backup);
    expect(name).toMatch(/^snapshot-\d{8}T\d{6}Z-30000012a\.zk\.gz$/);
    expect(sumFile).toBe(`${name}.sha256`);
    const gz = fs.readFileSync(path.join(backup, name));
    expect(gunzipSync(gz).equals(body)).toBe(true);
    expect(fs.readFileSync(path.join(backup, sumFile), 'utf-8')).toBe(`${sha256(gz)}  ${name}\n`);
    expect(r.stdout).toContain(`wrote ${backup}/${name} from m1 (${gz.length} bytes, sha256 ${sha256(gz)}), exact at zxid 0x30000012a`);
  });

  test('says a snapshot is fuzzy when transactions were applied while it was written', () => {
    const dir = tmp();
    const bin = curlStandIn(dir, { m0: { body: snapshotBody('tree', 0x500000010n), zxid: '500000002' } });
    const r = runBackup(dir, bin, ['m0'], 7);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('fuzzy: transactions after zxid 0x500000002 up to 0x0000000500000010 were applied while it was written');
  });

  test('refuses a snapshot that does not end with the seal and leaves no backup under a final name', () => {
    const dir = tmp();
    const body = snapshotBody('tree', 0x10n);
    const bin = curlStandIn(dir, { m0: { body: body.subarray(0, body.length - 3), zxid: '10' } });
    const r = runBackup(dir, bin, ['m0'], 7);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('the snapshot from m0 is incomplete: it does not end with ZooKeeper\'s seal');
    expect(files(path.join(dir, 'backup')).filter((f) => !f.startsWith('.'))).toEqual([]);
  });

  test('fails naming every member when none serves a snapshot, and leaves no temporary file', () => {
    const dir = tmp();
    const bin = curlStandIn(dir, { m0: { status: 401 }, m1: { status: 500 } });
    const r = runBackup(dir, bin, ['m0', 'm1'], 7);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no member served a snapshot (m0 m1)');
    expect(files(path.join(dir, 'backup'))).toEqual([]);
  });

  test('keeps the newest `keep` snapshots with their checksums and removes an interrupted run\'s temporary file', () => {
    // GIVEN three older snapshots and a partial file
    const dir = tmp();
    const backup = path.join(dir, 'backup');
    fs.mkdirSync(backup, { recursive: true });
    const old = ['snapshot-20240101T000000Z-1.zk.gz', 'snapshot-20240102T000000Z-2.zk.gz', 'snapshot-20240103T000000Z-3.zk.gz'];
    for (const o of old) {
      fs.writeFileSync(path.join(backup, o), 'x');
      fs.writeFileSync(path.join(backup, `${o}.sha256`), 'x');
    }
    fs.writeFileSync(path.join(backup, '.snapshot-20240104T000000Z.partial'), 'half');
    const bin = curlStandIn(dir, { m0: { body: snapshotBody('tree', 0x4n), zxid: '4' } });
    // WHEN a run with keep 2 succeeds
    const r = runBackup(dir, bin, ['m0'], 2);
    // THEN the new one and the newest old one remain
    expect(r.status).toBe(0);
    const now = files(backup).filter((f) => f.endsWith('.zk.gz'));
    expect(now).toHaveLength(2);
    expect(now[0]).toBe(old[2]);
    expect(files(backup)).toEqual([now[0], `${now[0]}.sha256`, now[1], `${now[1]}.sha256`]);
    expect(r.stdout).toContain(`removed ${backup}/${old[1]}`);
  });

  test('without keep (an uploader ships it) removes nothing', () => {
    const dir = tmp();
    const backup = path.join(dir, 'backup');
    fs.mkdirSync(backup, { recursive: true });
    fs.writeFileSync(path.join(backup, 'snapshot-20240101T000000Z-1.zk.gz'), 'x');
    const bin = curlStandIn(dir, { m0: { body: snapshotBody('tree', 0x4n), zxid: '4' } });
    expect(runBackup(dir, bin, ['m0']).status).toBe(0);
    expect(files(backup).filter((f) => f.endsWith('.zk.gz'))).toHaveLength(2);
  });
});

describe('the restore script of a fresh member', () => {
  /** A source dir with snapshots (body, optional wrong checksum) and an empty data dir. */
  function setup(snapshots: { name: string; body: Buffer; corrupt?: boolean; noSum?: boolean }[]) {
    const dir = tmp();
    const source = path.join(dir, 'source');
    fs.mkdirSync(source);
    for (const s of snapshots) {
      const gz = gzipSync(s.body);
      if (!s.noSum) fs.writeFileSync(path.join(source, `${s.name}.sha256`), `${sha256(gz)}  ${s.name}\n`);
      if (s.corrupt) gz[Math.floor(gz.length / 2)] ^= 0xff;
      fs.writeFileSync(path.join(source, s.name), gz);
    }
    const data = path.join(dir, 'data');
    fs.mkdirSync(data);
    return { dir, source, data };
  }
  const run = (source: string, data: string, backup?: string, dataLogDir?: string) => bash(renderZkRestoreScript({ dataDir: data, dataLogDir, source, backup }));
  const A = { name: 'snapshot-20260101T021500Z-300000a2c.zk.gz', body: snapshotBody('older tree', 0x300000a2cn) };
  const B = { name: 'snapshot-20260102T021500Z-300000b00.zk.gz', body: snapshotBody('newest tree', 0x300000b00n) };

  test('installs the newest snapshot, verified, as version-2/snapshot.<zxid>', () => {
    const { source, data } = setup([A, B]);
    const r = run(source, data);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`sha256 of ${B.name} verified`);
    expect(files(path.join(data, 'version-2'))).toEqual(['snapshot.300000b00']);
    expect(fs.readFileSync(path.join(data, 'version-2', 'snapshot.300000b00')).equals(B.body)).toBe(true);
  });

  test('installs the named snapshot rather than the newest', () => {
    const { source, data } = setup([A, B]);
    expect(run(source, data, A.name).status).toBe(0);
    expect(files(path.join(data, 'version-2'))).toEqual(['snapshot.300000a2c']);
  });

  test('refuses a corrupted snapshot, naming the file and both checksums, and installs nothing', () => {
    const { source, data } = setup([A, { ...B, corrupt: true }]);
    const actual = sha256(fs.readFileSync(path.join(source, B.name)));
    const recorded = fs.readFileSync(path.join(source, `${B.name}.sha256`), 'utf-8').split(' ')[0];
    const r = run(source, data);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`refusing to restore ${B.name}: its sha256 is ${actual} but ${B.name}.sha256 records ${recorded}; the backup is corrupt`);
    expect(fs.existsSync(path.join(data, 'version-2'))).toBe(false);
  });

  test('refuses a snapshot without its checksum', () => {
    const { source, data } = setup([{ ...B, noSum: true }]);
    const r = run(source, data);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`refusing to restore ${B.name}: there is no ${B.name}.sha256 beside it`);
  });

  test('fails when there is no backup to restore', () => {
    const { source, data } = setup([]);
    const r = run(source, data);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`no backup in ${source} to restore`);
  });

  test('leaves a member with data alone: a snapshot in the data dir or a log in the log dir', () => {
    const { dir, source, data } = setup([B]);
    fs.mkdirSync(path.join(data, 'version-2'));
    fs.writeFileSync(path.join(data, 'version-2', 'snapshot.5'), 'own');
    let r = run(source, data);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`this member has data in ${data}/version-2; nothing to restore`);
    expect(files(path.join(data, 'version-2'))).toEqual(['snapshot.5']);
    // a member whose transaction logs are on their own volume
    fs.rmSync(path.join(data, 'version-2'), { recursive: true });
    const log = path.join(dir, 'datalog');
    fs.mkdirSync(path.join(log, 'version-2'), { recursive: true });
    fs.writeFileSync(path.join(log, 'version-2', 'log.100000001'), 'own');
    r = run(source, data, undefined, log);
    expect(r.stdout).toContain(`this member has data in ${log}/version-2; nothing to restore`);
    expect(fs.existsSync(path.join(data, 'version-2'))).toBe(false);
  });
});

describe('the restore-verify script', () => {
  test('refuses a corrupted newest snapshot before it starts a server', () => {
    const dir = tmp();
    const name = 'snapshot-20260102T021500Z-b00.zk.gz';
    const gz = gzipSync(snapshotBody('tree', 0xb00n));
    fs.writeFileSync(path.join(dir, `${name}.sha256`), `${sha256(gz)}  ${name}\n`);
    gz[10] ^= 0xff;
    fs.writeFileSync(path.join(dir, name), gz);
    // no zkServer.sh on PATH: reaching it would fail differently
    const r = bash(renderZkRestoreVerifyScript({ dir, scratchDir: path.join(dir, 'scratch'), port: 2181 }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`refusing to restore ${name}: its sha256 is ${sha256(gz)} but`);
    expect(fs.existsSync(path.join(dir, 'scratch'))).toBe(false);
  });

  test('fails when there is no backup to verify', () => {
    const dir = tmp();
    const r = bash(renderZkRestoreVerifyScript({ dir, scratchDir: path.join(dir, 'scratch'), port: 2181 }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`no backup in ${dir} to verify`);
  });
});

(haveShellcheck() ? test : test.skip)('every variant of the scripts passes shellcheck', () => {
  const scripts = [
    renderZkBackupScript({ members: ['a', 'b'], adminPort: 8080, dir: '/backup', keep: 3, tmpDir: '/tmp' }),
    renderZkBackupScript({ members: ['a'], adminPort: 8080, dir: '/backup', tmpDir: '/tmp' }),
    renderZkRestoreScript({ dataDir: '/data', source: '/restore-source' }),
    renderZkRestoreScript({ dataDir: '/data', dataLogDir: '/datalog', source: '/data/restore', backup: 'snapshot-20260101T021500Z-1.zk.gz' }),
    renderZkRestoreVerifyScript({ dir: '/backup', scratchDir: '/tmp/v', port: 2181 }),
    renderZkRestoreVerifyScript({ dir: '/backup', scratchDir: '/tmp/v', port: 2181, path: '/brokers/ids' }),
  ];
  for (const [i, text] of scripts.entries()) expect(shellcheck({ where: `variant ${i}`, shell: 'bash', text })).toEqual([]);
});
