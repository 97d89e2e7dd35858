import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Size, Testing } from 'cdk8s';
import { BackupTarget, RedisCluster, RedisClusterProps, Resources, Storage } from '../../src';
import { scraped } from '../support/alert-cases';
import { havePromtool, seriesFromScrape, testRules } from '../support/promtool';
import { CLAIM_NOTE, withExistingClaims } from './claims';
import { BinaryShim, LocalCluster } from './harness/cluster';
import { describeWithNamespaces, until } from './harness/testing';

// Day-2 operations of a RedisCluster on Debian's redis-server, exactly as
// rendered: the redis_exporter sidecar (Debian's prometheus-redis-exporter
// with the rendered arguments and env) shows every node up and the cluster
// ok; the backup CronJob takes a set of RDBs (one per master); a FRESH
// cluster in another namespace restores from it with the same slot
// assignment and serves every key from the master that holds it; the
// restore-verify Job checks the set in scratch servers; a corrupted file and
// a master-count mismatch are refused.

type Json = any;

const BACKUP_CLAIM = 'redis-backups';
const KEYS = 4000;

/** Redis Cluster's hash slot of `key` (CRC16-XMODEM mod 16384; the keys here have no hash tags). */
function slotOf(key: string): number {
  let crc = 0;
  for (const byte of Buffer.from(key)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

interface ClusterNode { id: string; address: string; master: boolean; masterId: string; ranges: [number, number][] }

/** `CLUSTER NODES`, parsed. */
function parseNodes(text: string): ClusterNode[] {
  return text.trim().split('\n').map((line) => {
    const [id, address, flags, masterId, , , , , ...slots] = line.trim().split(' ');
    const ranges = slots.filter((s) => !s.startsWith('[')).map((s): [number, number] => {
      const [a, b] = s.split('-').map(Number);
      return [a, b ?? a];
    });
    return { id, address: address.split('@')[0], master: flags.includes('master'), masterId, ranges };
  });
}

const owns = (n: ClusterNode, slot: number) => n.ranges.some(([a, b]) => slot >= a && slot <= b);

function render(namespace: string, props: RedisClusterProps) {
  const chart = new Chart(Testing.app(), 'e2e', { namespace });
  const redis = new RedisCluster(chart, 'redis', {
    masters: 3, replicasPerMaster: 1,
    storage: Storage.persistent({ size: Size.gibibytes(1) }),
    resources: Resources.of({ cpuMillis: 100, memory: Size.mebibytes(128) }),
    ...props,
  });
  const objects = Testing.synth(chart);
  const pods = Array.from({ length: redis.nodes }, (_, i) => redis.workload.podName(i));
  const generator: string = objects.find((o) => o.kind === 'Job' && o.metadata.annotations?.['cdk8s-stateful.io/generates-secret']).metadata.name;
  return { redis, objects, name: redis.workload.name, pods, generator };
}

/** The exporter image's binary, at / in the image, on PATH here. */
const EXPORTER_SHIM: BinaryShim = {
  name: 'redis_exporter',
  manifest: 'command /redis_exporter (docker.io/oliver006/redis_exporter: the binary at the image\'s root)',
  local: 'Debian\'s prometheus-redis-exporter 1.45 with the rendered arguments and REDIS_PASSWORD env; the test changes the command to `redis_exporter` (on PATH) and nothing else',
  why: 'no container images here, and the harness\'s container roots hold only the host\'s /usr and /etc plus /e2e-bin',
  script: 'exec /usr/bin/prometheus-redis-exporter "$@"',
};

/** The manifest with the exporter's absolute command replaced by the shim's name (see EXPORTER_SHIM). */
function withExporterShim(objects: Json[]): Json[] {
  for (const o of objects.filter((x) => x.kind === 'StatefulSet')) {
    for (const c of o.spec.template.spec.containers) {
      if (c.command?.[0] === '/redis_exporter') c.command = ['redis_exporter', ...c.command.slice(1)];
    }
  }
  return objects;
}

interface Manifest { masters: number; shards: { n: number; file: string; sha256: string; masterId: string; ranges: string }[] }

function readManifest(setDir: string): Manifest {
  const lines = fs.readFileSync(path.join(setDir, 'manifest'), 'utf-8').trim().split('\n');
  const masters = Number(lines.find((l) => l.startsWith('masters '))!.split(' ')[1]);
  const shards = lines.filter((l) => l.startsWith('shard ')).map((l) => {
    const [, n, file, sha256, masterId, ranges] = l.split(' ');
    return { n: Number(n), file, sha256, masterId, ranges };
  });
  return { masters, shards };
}

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const sets = (dir: string) => fs.readdirSync(dir).filter((d) => /^\d{8}T\d{6}Z$/.test(d)).sort();

describeWithNamespaces('RedisCluster operations on real Redis servers: metrics, backup, restore', () => {
  const claimsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-ops-claims-'));
  const source = render('cache', {
    monitoring: {},
    backup: { target: BackupTarget.volume({ existingClaim: BACKUP_CLAIM }), keep: 2 },
  });
  withExporterShim(source.objects);
  const backupJob = source.redis.backupCronJob!.name;
  const verifyJob = source.redis.backupVerifyCronJob!.name;
  const backupDir = path.join(claimsDir, 'source', BACKUP_CLAIM);
  const keys = Array.from({ length: KEYS }, (_, i) => `ops:key:${i}`);
  const valueOf = (key: string) => `v-${createHash('sha1').update(key).digest('hex').slice(0, 12)}`;
  const others: LocalCluster[] = [];
  let cluster: LocalCluster;
  let masters: ClusterNode[];
  const cli = (c: LocalCluster, pod: string, cmd: string) => c.sh(pod, `redis-cli ${cmd}`);

  /** The pods of `c` that are masters, with their views, once each of `pods` sees 3 masters and cluster_state:ok. */
  const topology = (c: LocalCluster, pods: string[]) => until('3 masters with 16384 slots, cluster_state:ok on every node', 60000, async () => {
    for (const p of pods) {
      if (!(await cli(c, p, 'cluster info')).includes('cluster_state:ok')) return undefined;
    }
    const nodes = parseNodes(await cli(c, pods[0], 'cluster nodes'));
    const m = nodes.filter((n) => n.master && n.ranges.length > 0);
    return m.length === 3 && nodes.filter((n) => !n.master).length === 3 ? { nodes, masters: m } : undefined;
  });
  const podOf = (c: LocalCluster, pods: string[], n: ClusterNode) => pods.find((p) => n.address.startsWith(`${c.ipOf(p)}:`))!;

  beforeAll(async () => {
    cluster = new LocalCluster(source.objects, { readyTimeoutMs: 120000, binaries: [EXPORTER_SHIM], notes: [CLAIM_NOTE] });
    withExistingClaims(cluster, path.join(claimsDir, 'source'));
    console.log(`substitutions (Redis operations):\n${cluster.table()}`);
    await cluster.runJob(source.generator);
    await cluster.startStatefulSet(source.name, { whileStarting: async () => { await cluster.runJob(source.redis.bootstrapJob.name, 120000); } });
    masters = (await topology(cluster, source.pods)).masters;
    // every master gets its keys straight (no redirections): the slot of each key decides where it goes
    const t0 = Date.now();
    for (const m of masters) {
      const mine = keys.filter((k) => owns(m, slotOf(k)));
      const out = await cluster.sh(podOf(cluster, source.pods, m), `redis-cli <<'EOF2'\n${mine.map((k) => `SET ${k} ${valueOf(k)}`).join('\n')}\nEOF2`);
      expect(out.trim().split('\n').filter((l) => l.trim() === 'OK')).toHaveLength(mine.length);
    }
    const sizes = await Promise.all(masters.map((m) => cli(cluster, podOf(cluster, source.pods, m), 'dbsize').then(Number)));
    console.log(`Redis operations: ${KEYS} keys written in ${Date.now() - t0} ms, per master ${sizes.join('+')}`);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(KEYS);
    // every replica holds its master's keys before the backup reads from it
    await until('every replica to have its master\'s keys', 30000, async () => {
      const nodes = parseNodes(await cli(cluster, source.pods[0], 'cluster nodes'));
      const counts = await Promise.all(nodes.filter((n) => !n.master).map(async (r) => [
        Number(await cli(cluster, podOf(cluster, source.pods, r), 'dbsize')),
        Number(await cli(cluster, podOf(cluster, source.pods, nodes.find((x) => x.id === r.masterId)!), 'dbsize')),
      ]));
      return counts.every(([a, b]) => a === b) ? true : undefined;
    });
  }, 300000);

  afterAll(async () => {
    for (const c of [cluster, ...others]) await c?.destroy();
    fs.rmSync(claimsDir, { recursive: true, force: true });
  }, 120000);

  test('the exporter sidecar, run with the rendered arguments and env, shows every node up and the cluster ok', async () => {
    const sts = source.objects.find((o) => o.kind === 'StatefulSet');
    const exporter = sts.spec.template.spec.containers.find((c: Json) => c.name === 'exporter');
    const password = cluster.secret(source.redis.credentials!.secretName).password;
    expect(JSON.stringify(exporter)).not.toContain(password);
    const scrapes = await Promise.all(source.pods.map((p) => until(`${p}'s exporter`, 30000, () =>
      cluster.sh(p, `curl -fsS http://${cluster.ipOf(p)}:9121/metrics`, 'exporter'))));
    const metric = (text: string, name: string) => new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];
    const seen = scrapes.map((t, i) => `${source.pods[i]}: redis_up ${metric(t, 'redis_up')}, redis_cluster_state ${metric(t, 'redis_cluster_state')}, `
      + `slots_ok ${metric(t, 'redis_cluster_slots_ok')}, connected_slaves ${metric(t, 'redis_connected_slaves')}, role ${/redis_instance_info\{[^}]*role="(\w+)"/.exec(t)?.[1]}`);
    console.log(`Redis exporter (Debian's prometheus-redis-exporter, rendered args ${exporter.args.join(' ')}):\n  ${seen.join('\n  ')}`);
    for (const t of scrapes) {
      expect(metric(t, 'redis_up')).toBe('1');
      expect(metric(t, 'redis_cluster_state')).toBe('1');
      expect(metric(t, 'redis_cluster_slots_ok')).toBe('16384');
    }
    // every master has its one replica, as RedisMasterWithoutReplica expects
    const masterScrapes = scrapes.filter((t) => /redis_instance_info\{[^}]*role="master"/.test(t));
    expect(masterScrapes.map((t) => metric(t, 'redis_connected_slaves'))).toEqual(['1', '1', '1']);
    // every metric the cluster's own alerts use is served
    const rules = source.objects.find((o) => o.kind === 'PrometheusRule').spec.groups[0].rules;
    const used = [...new Set(rules.flatMap((r: Json) => r.expr.match(/redis_[a-z_]+(?=\{)/g) as string[]))] as string[];
    for (const r of rules) {
      for (const m of r.expr.match(/redis_[a-z_]+(?=\{)/g) as string[]) {
        expect({ alert: r.alert, metric: m, served: new RegExp(`^${m}[{ ]`, 'm').test(scrapes[0]) }).toEqual({ alert: r.alert, metric: m, served: true });
      }
    }
    // and promtool, fed every node's page as the ServiceMonitor labels it, finds none of them firing on the healthy cluster
    if (havePromtool()) {
      const input = Object.assign({}, ...scrapes.map((t, i) => seriesFromScrape(t, used, scraped('cache', source.name, i, 'exporter', 9121))));
      const r = testRules(source.objects, rules.map((x: Json) => ({ name: `${x.alert} on the scraped pages`, alert: x.alert, at: '10m', series: input, fires: [] })));
      expect(r.ok || r.output).toBe(true);
    }
  }, 90000);

  test('the backup CronJob writes one set: an RDB per master named by its slots and node ID, checksummed, read from replicas, no temporary names left', async () => {
    const t0 = Date.now();
    const out = await cluster.runCronJob(backupJob, 120000);
    const took = Date.now() - t0;
    const [set] = sets(backupDir);
    const setDir = path.join(backupDir, set);
    const manifest = readManifest(setDir);
    const files = fs.readdirSync(setDir).sort();
    console.log(`Redis backup: set ${set} in ${took} ms: ${files.map((f) => `${f} (${fs.statSync(path.join(setDir, f)).size} B)`).join(', ')}\n${out.trim()}`);
    expect(manifest.masters).toBe(3);
    expect(manifest.shards.map((s) => s.masterId).sort()).toEqual(masters.map((m) => m.id).sort());
    for (const s of manifest.shards) {
      const m = masters.find((x) => x.id === s.masterId)!;
      expect(s.ranges).toBe(m.ranges.map(([a, b]) => `${a}-${b}`).join(','));
      expect(s.file).toBe(`slots-${s.ranges.replace(/,/g, '_')}-${m.id}.rdb`);
      expect(sha256(path.join(setDir, s.file))).toBe(s.sha256);
    }
    expect(files).toEqual([...manifest.shards.map((s) => s.file), 'manifest'].sort());
    expect(fs.readdirSync(backupDir).filter((f) => f.includes('partial'))).toEqual([]);
    // each master's snapshot came from its replica (every master has a healthy one)
    const nodes = parseNodes(await cli(cluster, source.pods[0], 'cluster nodes'));
    for (const m of masters) {
      const replica = nodes.find((n) => n.masterId === m.id)!;
      expect(out).toMatch(new RegExp(`master ${m.id} \\(slots [0-9,-]+\\) read from node ${replica.id} `));
    }
  }, 180000);

  test('later runs keep only the newest `keep` (2) sets', async () => {
    const before = sets(backupDir);
    for (let i = 0; i < 2; i++) {
      await new Promise((r) => setTimeout(r, 1100));
      await cluster.runCronJob(backupJob, 120000);
    }
    const after = sets(backupDir);
    console.log(`Redis backup retention: ${before.join(',')} then two more runs -> ${after.join(',')}`);
    expect(after).toHaveLength(2);
    expect(after.includes(before[0])).toBe(false);
  }, 240000);

  test('the restore-verify Job loads every RDB of the newest set into a scratch server and checks it', async () => {
    const t0 = Date.now();
    const out = await cluster.runCronJob(verifyJob, 120000);
    console.log(`Redis restore-verify in ${Date.now() - t0} ms:\n${out.trim()}`);
    const lines = out.split('\n').filter((l) => /^shard \d .*sha256 ok, redis-check-rdb ok, \d+ keys in \d+ slots, all within/.test(l));
    expect(lines).toHaveLength(3);
    const total = lines.map((l) => Number(/ok, (\d+) keys/.exec(l)![1])).reduce((a, b) => a + b, 0);
    expect(total).toBe(KEYS);
    expect(out).toContain(`backup set /backup/${sets(backupDir).pop()} verified`);
  }, 180000);

  test('a FRESH cluster in another namespace restores the set: same slot assignment, every key served by the master that holds it', async () => {
    // GIVEN a copy of the backup claim in namespace 'restored' (as a clone from a VolumeSnapshot would be)
    const newest = sets(backupDir).pop()!;
    const manifest = readManifest(path.join(backupDir, newest));
    fs.cpSync(path.join(claimsDir, 'source'), path.join(claimsDir, 'restored'), { recursive: true });
    const target = render('restored', { restore: { source: BackupTarget.volume({ existingClaim: BACKUP_CLAIM }) } });
    const restored = new LocalCluster(target.objects, { readyTimeoutMs: 180000, notes: [CLAIM_NOTE] });
    others.push(restored);
    withExistingClaims(restored, path.join(claimsDir, 'restored'));
    await restored.runJob(target.generator);
    // WHEN it starts (init containers load the shards) and its bootstrap Job forms it
    const t0 = Date.now();
    let bootstrap = '';
    await restored.startStatefulSet(target.name, { whileStarting: async () => { bootstrap = await restored.runJob(target.redis.bootstrapJob.name, 180000); } });
    const formed = await topology(restored, target.pods);
    const tookMs = Date.now() - t0;
    console.log(`Redis restore: ${target.pods.length} fresh nodes Ready and cluster_state:ok in ${tookMs} ms\n${bootstrap.trim()}\n`
      + target.pods.slice(0, 3).map((p) => restored.logs(p, 400).split('\n').filter((l) => l.startsWith('restore:')).join('\n')).join('\n'));
    // THEN each shard's ranges belong to the master at its ordinal, with new node IDs
    for (const s of manifest.shards) {
      const m = formed.masters.find((x) => podOf(restored, target.pods, x) === target.pods[s.n])!;
      expect(m.ranges.map(([a, b]) => `${a}-${b}`).join(',')).toBe(s.ranges);
      expect(m.id).not.toBe(s.masterId);
    }
    // and every key is read, without redirection, from the master that owns its slot
    let read = 0;
    for (const m of formed.masters) {
      const mine = keys.filter((k) => owns(m, slotOf(k)));
      const got = await restored.sh(podOf(restored, target.pods, m), `redis-cli <<'EOF2'\n${mine.map((k) => `GET ${k}`).join('\n')}\nEOF2`);
      expect(got.trim().split('\n').map((l) => l.trim())).toEqual(mine.map(valueOf));
      read += mine.length;
    }
    expect(read).toBe(KEYS);
    const sizes = await Promise.all(formed.masters.map((m) => cli(restored, podOf(restored, target.pods, m), 'dbsize').then(Number)));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(KEYS);
    // the replicas copied their masters
    const replicas = formed.nodes.filter((n) => !n.master);
    expect(replicas.map((r) => r.masterId).sort()).toEqual(formed.masters.map((m) => m.id).sort());
    console.log(`Redis restore: all ${read} keys equal their original values, each read from its slot's master; masters hold ${sizes.join('+')}`);
  }, 400000);

  test('a corrupted RDB and a master-count mismatch are refused with a clear error', async () => {
    const newest = sets(backupDir).pop()!;
    const copy = (ns: string) => fs.cpSync(path.join(claimsDir, 'source'), path.join(claimsDir, ns), { recursive: true });
    // GIVEN a set whose shard 0 file has one byte changed
    copy('corrupt');
    const manifest = readManifest(path.join(claimsDir, 'corrupt', BACKUP_CLAIM, newest));
    const damaged = path.join(claimsDir, 'corrupt', BACKUP_CLAIM, newest, manifest.shards[0].file);
    const bytes = fs.readFileSync(damaged);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    fs.writeFileSync(damaged, bytes);
    const corrupt = render('corrupt', { restore: { source: BackupTarget.volume({ existingClaim: BACKUP_CLAIM }) } });
    const c1 = new LocalCluster(corrupt.objects, { notes: [CLAIM_NOTE] });
    others.push(c1);
    withExistingClaims(c1, path.join(claimsDir, 'corrupt'));
    await c1.runJob(corrupt.generator);
    // THEN the master that would load it does not start
    const refused = await c1.startPod(corrupt.name, 0).then(() => 'started', (e: Error) => e.message);
    expect(refused).toContain(`init container restore failed`);
    expect(refused).toMatch(new RegExp(`restore: /restore/${newest}/${manifest.shards[0].file.replace(/[.]/g, '\\.')} is corrupted: its sha256 is [0-9a-f]{64}, the manifest says ${manifest.shards[0].sha256}`));
    // GIVEN a cluster of 4 masters and the set of 3
    copy('four');
    const four = render('four', { masters: 4, restore: { source: BackupTarget.volume({ existingClaim: BACKUP_CLAIM }) } });
    const c2 = new LocalCluster(four.objects, { notes: [CLAIM_NOTE] });
    others.push(c2);
    withExistingClaims(c2, path.join(claimsDir, 'four'));
    await c2.runJob(four.generator);
    const mismatch = await c2.startPod(four.name, 5).then(() => 'started', (e: Error) => e.message);
    expect(mismatch).toContain(`restore: backup set /restore/${newest} has 3 masters and this cluster has 4: restore it into a cluster with masters: 3`);
    console.log(`Redis restore refusals:\n  ${[refused, mismatch].map((m) => m.split('\n').find((l) => l.startsWith('restore:'))).join('\n  ')}`);
  }, 180000);
});
