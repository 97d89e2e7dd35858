import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gunzipSync } from 'zlib';
import { Chart, Size, Testing } from 'cdk8s';
import { BackupTarget, Storage, ZooKeeperEnsemble, ZooKeeperEnsembleProps } from '../../src';
import { CLAIM_NOTE, withExistingClaims } from './claims';
import { BinaryShim, LocalCluster } from './harness/cluster';
import { describeWithNamespaces, until } from './harness/testing';

// Backups of a ZooKeeperEnsemble, exactly as rendered, on ZooKeeper 3.9.4
// (the default image's release, from Maven Central: Debian's 3.8 has no
// AdminServer snapshot command):
// - the backup CronJob streams a snapshot from a member's AdminServer onto
//   the backup claim, with its sha256, no temporary name left, and keeps the
//   newest two;
// - a FRESH 3-member ensemble in another namespace starts from the snapshot
//   (every member loads it) and has every znode with the same value, plus the
//   ACLs, data versions and sequence counters of the original;
// - the restore-verify CronJob loads the newest snapshot into a scratch
//   standalone server and checks it;
// - a corrupted snapshot is refused by the restore-verify Job and by a fresh
//   ensemble, naming the file and both checksums.

type Json = any;

const FETCH = path.join(__dirname, '..', '..', 'scripts', 'zookeeper', 'fetch.sh');
/** Where the jars appear in every pod: the harness binds its API stand-in's store there. */
const POD_LIBS = '/e2e-api/secrets/.zookeeper-libs';
const QUIET = `${POD_LIBS}/quiet`;
const GROUPS = 10;
const ITEMS = 30;

/** The official image's zkServer.sh / zkCli.sh on the jars of its release. */
const ZOOKEEPER_39_IMAGE: BinaryShim[] = [
  {
    name: 'zkServer.sh',
    manifest: 'zkServer.sh start-foreground (official zookeeper:3.9.4 image, on PATH)',
    local: 'java QuorumPeerMain with $ZOOCFGDIR/zoo.cfg, -Xmx$ZK_SERVER_HEAP m, on ZooKeeper 3.9.4 and the jars of its lib/ from Maven Central (scripts/zookeeper/fetch.sh)',
    why: 'no container images here, and Debian\'s ZooKeeper 3.8 has no AdminServer snapshot command; the jars sit in the harness\'s shared store because container roots hold only the host\'s /usr and /etc',
    script: `set -euo pipefail
[ "\${1:-}" = start-foreground ] || { echo "zkServer.sh stand-in: only start-foreground" >&2; exit 2; }
: "\${ZOOCFGDIR:?ZOOCFGDIR must be set}"
heap=()
[ -z "\${ZK_SERVER_HEAP:-}" ] || heap=("-Xmx\${ZK_SERVER_HEAP}m" "-Xms\${ZK_SERVER_HEAP}m")
exec java "\${heap[@]}" -cp "\${ZOOCFGDIR}:${POD_LIBS}/*" org.apache.zookeeper.server.quorum.QuorumPeerMain "\${ZOOCFGDIR}/zoo.cfg"`,
  },
  {
    name: 'zkCli.sh',
    manifest: 'zkCli.sh (official zookeeper:3.9.4 image, on PATH)',
    local: 'java ZooKeeperMain on the same 3.9.4 jars, logging as $ZOOCFGDIR/logback.xml says',
    why: 'as for zkServer.sh',
    script: `set -euo pipefail
# shellcheck disable=SC2086
exec java \${CLIENT_JVMFLAGS:-} -cp "\${ZOOCFGDIR:-${QUIET}}:${POD_LIBS}/*" org.apache.zookeeper.ZooKeeperMain "$@"`,
  },
];

function render(namespace: string, props: ZooKeeperEnsembleProps): { zk: ZooKeeperEnsemble; objects: Json[]; pods: string[] } {
  const chart = new Chart(Testing.app(), 'e2e', { namespace });
  const zk = new ZooKeeperEnsemble(chart, 'zk', { storage: Storage.persistent({ size: Size.gibibytes(1) }), ...props });
  return { zk, objects: Testing.synth(chart), pods: [0, 1, 2].map((i) => zk.workload.podName(i)) };
}

/** A cluster of `objects` whose pods see the 3.9.4 jars, and existing claims under `claims`. */
function clusterOf(objects: Json[], libs: string, claims: string): LocalCluster {
  const cluster = new LocalCluster(objects, { binaries: ZOOKEEPER_39_IMAGE, notes: [CLAIM_NOTE], readyTimeoutMs: 120000 });
  const dir = path.join(cluster.dir, 'api-secrets', '.zookeeper-libs');
  fs.cpSync(libs, dir, { recursive: true });
  fs.mkdirSync(path.join(dir, 'quiet'));
  fs.writeFileSync(path.join(dir, 'quiet', 'logback.xml'), '<configuration><root level="OFF"/></configuration>\n');
  execFileSync('chmod', ['-R', 'a+rX', dir]);
  withExistingClaims(cluster, claims);
  return cluster;
}

/** Runs zkCli commands (one a line) in one session on `pod` against its own member; returns the output. */
async function zkCli(cluster: LocalCluster, pod: string, host: string, commands: string[]): Promise<string> {
  return cluster.sh(pod, `ZOOCFGDIR=${QUIET} zkCli.sh -server ${host}:2181 <<'EOF'\n${commands.join('\n')}\nquit\nEOF`);
}

/** The answer of command `cmd` in a zkCli session's output: the lines after its echo up to the next prompt. */
function answers(output: string, cmd: string): string[][] {
  const lines = output.split('\n');
  const out: string[][] = [];
  for (let i = 0; i < lines.length; i++) {
    if (new RegExp(`^\\[zk: [^\\]]*\\] ${cmd.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')}( |$)`).test(lines[i])) {
      const a: string[] = [];
      for (let j = i + 1; j < lines.length && !lines[j].startsWith('[zk: '); j++) if (lines[j].trim() !== '') a.push(lines[j]);
      out.push(a);
    }
  }
  return out;
}

const valueOf = (g: number, i: number) => `value-${g}-${i}-${createHash('sha1').update(`${g}/${i}`).digest('hex').slice(0, 10)}`;

/** Every znode below /app with its value (and the data version and ACL of a few). */
async function tree(cluster: LocalCluster, pod: string, host: string): Promise<{ values: Map<string, string>; stats: string[] }> {
  const ls = answers(await zkCli(cluster, pod, host, ['ls -R /app']), 'ls -R /app')[0];
  const paths = ls.filter((l) => l.startsWith('/app'));
  const out = await zkCli(cluster, pod, host, [...paths.map((p) => `get ${p}`), 'stat /app/g0/i0', 'getAcl /app/readonly']);
  const gets = answers(out, 'get');
  const values = new Map(paths.map((p, k) => [p, gets[k].join('\n')]));
  const stats = [...answers(out, 'stat')[0].filter((l) => /^(dataVersion|numChildren) =/.test(l)), ...answers(out, 'getAcl')[0]];
  return { values, stats };
}

describeWithNamespaces('ZooKeeperEnsemble backups on real ZooKeeper 3.9.4 servers: snapshot, restore, restore-verify', () => {
  const claims = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-ops-claims-'));
  const source = render('streaming', { backup: { keep: 2, verifyPath: '/app/g3/i7' } });
  const backupClaim = `${source.zk.workload.name}-backup`;
  const backupDir = path.join(claims, 'source', backupClaim);
  const snapshots = () => (fs.existsSync(backupDir) ? fs.readdirSync(backupDir).filter((f) => /^snapshot-.*\.zk\.gz$/.test(f)).sort() : []);
  const fqdn = (i: number) => source.zk.podFqdn(i);
  const others: LocalCluster[] = [];
  let libs: string;
  let cluster: LocalCluster;
  let original: { values: Map<string, string>; stats: string[] };

  beforeAll(async () => {
    const t0 = Date.now();
    libs = execFileSync(FETCH, { encoding: 'utf-8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    console.log(`ZooKeeper jars: ${libs} (${fs.readdirSync(libs).length} jars, ${Date.now() - t0} ms)`);
    cluster = clusterOf(source.objects, libs, path.join(claims, 'source'));
    console.log(`substitutions (ZooKeeper operations):\n${cluster.table()}`);
    await cluster.startStatefulSet(source.zk.workload.name);
    await until('a quorum', 60000, async () => {
      const modes = await Promise.all(source.pods.map((p, i) => cluster.sh(p, `exec 3<>/dev/tcp/${fqdn(i)}/2181; printf srvr >&3; cat <&3`)));
      return modes.filter((m) => /Mode: leader/.test(m)).length === 1 && modes.filter((m) => /Mode: follower/.test(m)).length === 2 ? true : undefined;
    });
    // GIVEN 318 znodes with data below /app (10 groups of 30), a read-only ACL, a value set twice and five sequential znodes
    const t1 = Date.now();
    const commands = [
      'create /app root',
      ...Array.from({ length: GROUPS }, (_, g) => [`create /app/g${g} group-${g}`, ...Array.from({ length: ITEMS }, (__, i) => `create /app/g${g}/i${i} ${valueOf(g, i)}`)]).flat(),
      'create /app/readonly ro world:anyone:r',
      'set /app/g0/i0 changed-once', `set /app/g0/i0 ${valueOf(0, 0)}`,
      'create /app/seq queue', ...Array.from({ length: 5 }, (_, k) => `create -s /app/seq/job- job-${k}`),
    ];
    await zkCli(cluster, source.pods[0], fqdn(0), commands);
    original = await tree(cluster, source.pods[2], fqdn(2));
    console.log(`ZooKeeper operations: ${original.values.size} znodes below /app written through ${source.pods[0]} and read through ${source.pods[2]} in ${Date.now() - t1} ms`);
    expect(original.values.size).toBe(1 + GROUPS * (1 + ITEMS) + 1 + 1 + 5);
  }, 300000);
  afterAll(async () => {
    for (const c of [...others, cluster]) await c?.destroy();
    fs.rmSync(claims, { recursive: true, force: true });
  }, 120000);

  test('the jars are the release of the default image', () => {
    expect(path.basename(path.dirname(libs))).toBe(`zookeeper-${ZooKeeperEnsemble.DEFAULT_IMAGE.split(':')[1]}`);
    expect(fs.existsSync(path.join(libs, `zookeeper-${ZooKeeperEnsemble.DEFAULT_IMAGE.split(':')[1]}.jar`))).toBe(true);
  });

  test('the backup CronJob streams an exact snapshot onto the claim with its sha256, and keeps the newest two', async () => {
    // WHEN it runs
    const t0 = Date.now();
    const log = await cluster.runCronJob(source.zk.backupCronJob!.name, 120000);
    const seconds = (Date.now() - t0) / 1000;
    // THEN one snapshot and its checksum are on the claim, and no temporary file
    const [name] = snapshots();
    expect(fs.readdirSync(backupDir).sort()).toEqual([name, `${name}.sha256`]);
    const bytes = fs.readFileSync(path.join(backupDir, name));
    const sum = createHash('sha256').update(bytes).digest('hex');
    expect(fs.readFileSync(path.join(backupDir, `${name}.sha256`), 'utf-8')).toBe(`${sum}  ${name}\n`);
    // AND it is ZooKeeper's snapshot format, named after its zxid, sealed, taken while no write was applied
    const raw = gunzipSync(bytes);
    expect(raw.subarray(0, 4).toString('latin1')).toBe('ZKSN');
    expect(raw.subarray(raw.length - 5).toString('hex')).toBe('000000012f');
    const zxid = /-([0-9a-f]+)\.zk\.gz$/.exec(name)![1];
    // (3.9's last part: the zxid applied last when the snapshot was done, its CRC and the seal)
    expect(raw.readBigUInt64BE(raw.length - 21).toString(16)).toBe(zxid);
    expect(log).toContain(`wrote /backup/${name} from ${fqdn(0)} (${bytes.length} bytes, sha256 ${sum}), exact at zxid 0x${zxid}`);
    console.log(`backup: ${name}, ${bytes.length} bytes gzipped (${raw.length} bytes of snapshot), sha256 ${sum}, job ${seconds.toFixed(1)} s`);

    // WHEN it runs twice more (a snapshot's name carries the second it started)
    for (let run = 0; run < 2; run++) {
      await new Promise((r) => setTimeout(r, 1100));
      await cluster.runCronJob(source.zk.backupCronJob!.name, 120000);
    }
    // THEN only the newest two remain, each with its checksum
    const kept = snapshots();
    expect(kept).toHaveLength(2);
    expect(kept[0] > name).toBe(true);
    expect(fs.readdirSync(backupDir).sort()).toEqual(kept.flatMap((s) => [s, `${s}.sha256`]));
    console.log(`retention (keep 2) after 3 runs: ${kept.join(', ')}`);
  }, 400000);

  test('a FRESH ensemble in another namespace starts from the newest snapshot with every znode, value, ACL, version and sequence counter', async () => {
    // GIVEN a copy of the backup claim in namespace 'restored' (as a clone from a VolumeSnapshot would be)
    fs.cpSync(path.join(claims, 'source'), path.join(claims, 'restored'), { recursive: true });
    const target = render('restored', { restore: { source: BackupTarget.volume({ existingClaim: backupClaim }) } });
    const restored = clusterOf(target.objects, libs, path.join(claims, 'restored'));
    others.push(restored);
    // WHEN it starts
    const t0 = Date.now();
    await restored.startStatefulSet(target.zk.workload.name);
    const seconds = (Date.now() - t0) / 1000;
    // THEN every member verified and installed the same newest snapshot
    const newest = snapshots()[1];
    const zxid = /-([0-9a-f]+)\.zk\.gz$/.exec(newest)![1];
    for (const p of target.pods) {
      const log = restored.logs(p, 400);
      expect(log).toMatch(new RegExp(`sha256 of ${newest.replace(/\./g, '\\.')} verified`));
      expect(log).toContain(`restored ${newest} as /data/version-2/snapshot.${zxid}`);
    }
    // AND the ensemble has every znode below /app with the same value, the ACL, the data version
    const copy = await until('the restored ensemble to serve /app', 60000, async () => tree(restored, target.pods[1], target.zk.podFqdn(1)));
    expect([...copy.values.keys()].sort()).toEqual([...original.values.keys()].sort());
    for (const [p, v] of original.values) expect(copy.values.get(p)).toBe(v);
    expect(copy.stats).toEqual(original.stats);
    expect(copy.stats).toContain('dataVersion = 2');
    expect(copy.stats).toContain('\'world,\'anyone');
    // AND sequential znodes continue after the original's five
    const seq = await zkCli(restored, target.pods[2], target.zk.podFqdn(2), ['create -s /app/seq/job- after-restore']);
    expect(seq).toContain('Created /app/seq/job-0000000005');
    // AND a restarted member keeps its data instead of restoring again
    await restored.stopPod(target.pods[0]);
    await restored.startPod(target.zk.workload.name, 0);
    expect(restored.logs(target.pods[0], 400)).toContain('this member has data in /data/version-2; nothing to restore');
    console.log(`restore into namespace restored: ${newest} loaded by ${target.pods.length} members, ensemble Ready in ${seconds.toFixed(1)} s; `
      + `${copy.values.size} znodes below /app equal the original's (paths and values), ${copy.stats.join(', ')}; next sequential: job-0000000005`);
  }, 400000);

  test('the restore-verify CronJob loads the newest snapshot into a scratch server and finds the verify path', async () => {
    const t0 = Date.now();
    const log = await cluster.runCronJob(source.zk.restoreVerifyCronJob!.name, 180000);
    const newest = snapshots()[1];
    const zxid = /-([0-9a-f]+)\.zk\.gz$/.exec(newest)![1];
    expect(log).toContain(`sha256 of ${newest} verified`);
    // the scratch server holds /app and all below it, and its own session's zxid is at or past the snapshot's
    const line = log.split('\n').find((l) => l.startsWith(`restore of ${newest} verified`));
    expect(line).toMatch(new RegExp(`^restore of ${newest.replace(/\./g, '\\.')} verified: zxid 0x([0-9a-f]+), ${original.values.size} znodes, /app/g3/i7 exists$`));
    expect(BigInt(`0x${/zxid 0x([0-9a-f]+)/.exec(line!)![1]}`) >= BigInt(`0x${zxid}`)).toBe(true);
    console.log(`restore-verify: ${line} (job ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }, 240000);

  test('a corrupted snapshot is refused by the restore-verify Job and by a fresh ensemble, naming the file and both checksums', async () => {
    // GIVEN the newest snapshot with one byte changed in the middle
    const newest = snapshots()[1];
    const file = path.join(backupDir, newest);
    const bytes = fs.readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    fs.writeFileSync(file, bytes);
    const recorded = fs.readFileSync(`${file}.sha256`, 'utf-8').split(' ')[0];
    const actual = createHash('sha256').update(bytes).digest('hex');
    const refusal = `refusing to restore ${newest}: its sha256 is ${actual} but ${newest}.sha256 records ${recorded}; the backup is corrupt`;
    // WHEN the restore-verify Job runs, THEN it fails with the refusal
    await expect(cluster.runCronJob(source.zk.restoreVerifyCronJob!.name, 120000)).rejects.toThrow(refusal);
    // WHEN a fresh ensemble would restore it, THEN its first member stops with the refusal and installs nothing
    fs.cpSync(path.join(claims, 'source'), path.join(claims, 'corrupt'), { recursive: true });
    const target = render('corrupt', { restore: { source: BackupTarget.volume({ existingClaim: backupClaim }) } });
    const corrupt = clusterOf(target.objects, libs, path.join(claims, 'corrupt'));
    others.push(corrupt);
    await expect(corrupt.startStatefulSet(target.zk.workload.name)).rejects.toThrow(refusal);
    console.log(`corrupted backup refused: ${refusal}`);
  }, 300000);
});
