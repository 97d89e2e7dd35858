import { Chart, Size, Testing } from 'cdk8s';
import { MySqlFlavor, MySqlReplicaSet, PostgresReplicaSet, RedisCluster, Resources, Storage, ZooKeeperEnsemble } from '../../src';
import { postgres, postgresDropSlotsScript } from '../../src/cli/systems/postgres';
import { mySql } from '../../src/cli/systems/mysql';
import { redis } from '../../src/cli/systems/redis';
import { Check, CheckResult, keyValues, System } from '../../src/cli/systems/system';
import { zooKeeper } from '../../src/cli/systems/zookeeper';
import { LocalCluster } from './harness/cluster';
import { postgresHarnessOptions, PG_DEBIAN_VERSION } from './harness/postgres';
import { describeWithNamespaces, until } from './harness/testing';
import { ZOOKEEPER_IMAGE } from './images';

// The checks of `cdk8s-stateful` (its rollout health gates, the roles and
// lag of `status`, the PostgreSQL slot clean-up of `scale`) run inside pods
// of real servers, exactly as `kubectl exec <pod> -c <container> -- bash -c
// <script> <pod> <args>` runs them: healthy systems pass with the right
// roles, and broken ones fail with the reason.

/** Runs `check` in `pod`'s container as the CLI does; the result as the CLI reads it. */
async function run(cluster: LocalCluster, system: System, pod: string, check: Check): Promise<CheckResult> {
  const r = await cluster.exec(pod, ['bash', '-c', check.script, pod, ...(check.args ?? [])], { container: system.container, timeoutMs: 60_000 });
  return { pod, ordinal: Number(pod.slice(pod.lastIndexOf('-') + 1)), check: check.name, ok: r.code === 0, stdout: r.output, values: keyValues(r.output), output: r.output.trim() };
}

const members = (cluster: LocalCluster, system: System, pods: string[]) => Promise.all(pods.map((p) => run(cluster, system, p, system.member!)));

describeWithNamespaces('cdk8s-stateful checks on real ZooKeeper servers', () => {
  const chart = new Chart(Testing.app(), 'e2e', { namespace: 'streaming' });
  const zk = new ZooKeeperEnsemble(chart, 'zk', { storage: Storage.persistent({ size: Size.gibibytes(1) }) });
  const objects = Testing.synth(chart);
  const pods = [0, 1, 2].map((i) => zk.workload.podName(i));
  const system = zooKeeper(zk.clientPort);
  let cluster: LocalCluster;

  beforeAll(async () => {
    cluster = new LocalCluster(objects, { binaries: ZOOKEEPER_IMAGE });
    await cluster.startStatefulSet(zk.workload.name);
  }, 120_000);
  afterAll(async () => {
    await cluster?.destroy();
  }, 60_000);

  test('the quorum gate: every member answers srvr, one leads, the others follow', async () => {
    const results = await until('a quorum with every member', 45_000, async () => {
      const r = await members(cluster, system, pods);
      return r.every((m) => m.ok) && system.judge!(r).length === 0 ? r : undefined;
    });
    expect(results.map((m) => m.values.role).sort()).toEqual(['follower', 'follower', 'leader']);
    expect(results.every((m) => /^0x[0-9a-f]+$/.test(m.values.zxid))).toBe(true);
    console.log(`ZooKeeper gate: ${results.map((m) => `${m.pod}=${m.values.role}`).join(', ')}`);
  }, 60_000);

  test('a member left without a quorum fails the gate, saying it serves no requests', async () => {
    // GIVEN two of three members stopped
    await cluster.stopPod(pods[1]);
    await cluster.stopPod(pods[2]);
    // THEN the survivor's check fails with srvr's own words
    const lone = await until('the survivor to lose its quorum', 45_000, async () => {
      const r = await run(cluster, system, pods[0], system.member!);
      return r.ok ? undefined : r;
    });
    expect(lone.output).toContain(`srvr on port ${zk.clientPort} reported no mode: This ZooKeeper instance is not currently serving requests`);
    console.log(`ZooKeeper without quorum: ${lone.output}`);
  }, 60_000);
});

describeWithNamespaces('cdk8s-stateful checks on real Redis Cluster nodes', () => {
  const chart = new Chart(Testing.app(), 'e2e', { namespace: 'cache' });
  const cache = new RedisCluster(chart, 'redis', {
    masters: 3, replicasPerMaster: 1, storage: Storage.persistent({ size: Size.gibibytes(1) }),
    resources: Resources.of({ cpuMillis: 100, memory: Size.mebibytes(128) }),
  });
  const objects = Testing.synth(chart);
  const pods = Array.from({ length: cache.nodes }, (_, i) => cache.workload.podName(i));
  const generator = objects.find((o) => o.kind === 'Job' && o.metadata.annotations?.['cdk8s-stateful.io/generates-secret']).metadata.name;
  const system = redis(6379);
  let cluster: LocalCluster;

  beforeAll(async () => {
    cluster = new LocalCluster(objects, { readyTimeoutMs: 90_000 });
    await cluster.runJob(generator);
    await cluster.startStatefulSet(cache.workload.name, { whileStarting: async () => { await cluster.runJob(cache.bootstrapJob.name, 90_000); } });
  }, 180_000);
  afterAll(async () => {
    await cluster?.destroy();
  }, 60_000);

  test('every node reports cluster_state ok, its role, id and slots: 3 masters hold all 16384 slots, replicas linked up', async () => {
    const results = await until('every node to know its role', 30_000, async () => {
      const r = await members(cluster, system, pods);
      return r.every((m) => m.ok) && r.filter((m) => m.values.role === 'master').length === 3 && r.filter((m) => m.values.link === 'up').length === 3 ? r : undefined;
    });
    const masters = results.filter((m) => m.values.role === 'master');
    expect(masters.reduce((n, m) => n + Number(m.values.slots), 0)).toBe(16384);
    expect(results.filter((m) => m.values.role === 'slave').map((m) => m.values.slots)).toEqual(['0', '0', '0']);
    expect(new Set(results.map((m) => m.values.id)).size).toBe(6);
    expect(results.every((m) => /^[0-9a-f]{40}$/.test(m.values.id))).toBe(true);
    console.log(`Redis gate: ${results.map((m) => `${m.pod}=${system.role!(m)}/${m.values.slots} slots`).join(', ')}`);
  }, 60_000);

  test('with a master and its replica gone, the remaining nodes fail the gate with cluster_state:fail', async () => {
    // GIVEN a master and the replica of it stopped: its slots have no owner
    const results = await members(cluster, system, pods);
    const master = results.find((m) => m.values.role === 'master')!;
    const nodes = await cluster.sh(pods[0], 'redis-cli cluster nodes');
    const replicaId = nodes.split('\n').find((l) => l.split(' ')[3] === master.values.id)!.split(' ')[0];
    const replica = results.find((m) => m.values.id === replicaId)!;
    await cluster.stopPod(master.pod);
    await cluster.stopPod(replica.pod);
    const survivor = pods.find((p) => p !== master.pod && p !== replica.pod)!;
    // THEN, once the failure is detected, the check fails with the cluster's own state
    const failed = await until('cluster_state:fail', 60_000, async () => {
      const r = await run(cluster, system, survivor, system.member!);
      return r.ok ? undefined : r;
    });
    expect(failed.values.cluster_state).toBe('fail');
    expect(failed.output).toMatch(/cluster_state:fail \(cluster_slots_ok:\d+ cluster_slots_pfail:\d+ cluster_slots_fail:\d+ cluster_known_nodes:6 cluster_size:3/);
    console.log(`Redis after losing ${master.pod} and ${replica.pod}: ${failed.output.split('\n').pop()}`);
  }, 90_000);
});

describeWithNamespaces('cdk8s-stateful checks on real MariaDB replication', () => {
  const chart = new Chart(Testing.app(), 'e2e', { namespace: 'orders' });
  const db = new MySqlReplicaSet(chart, 'db', {
    flavor: MySqlFlavor.mariadb(), replicas: 3,
    storage: Storage.persistent({ size: Size.gibibytes(1) }), resources: Resources.of({ cpuMillis: 200, memory: Size.mebibytes(512) }),
  });
  const objects = Testing.synth(chart);
  const pods = [0, 1, 2].map((i) => db.workload.podName(i));
  const generator = objects.find((o) => o.kind === 'Job' && o.metadata.annotations?.['cdk8s-stateful.io/generates-secret']).metadata.name;
  const system = mySql('mariadb');
  let cluster: LocalCluster;

  beforeAll(async () => {
    cluster = new LocalCluster(objects, { readyTimeoutMs: 90_000 });
    await cluster.runJob(generator);
    await cluster.startStatefulSet(db.workload.name);
  }, 240_000);
  afterAll(async () => {
    await cluster?.destroy();
  }, 60_000);

  test('the primary is the writable member; each replica runs both threads from it, with its lag', async () => {
    const results = await until('replication on both replicas', 30_000, async () => {
      const r = await members(cluster, system, pods);
      return r.every((m) => m.ok) ? r : undefined;
    });
    expect(results.map((m) => m.values.role)).toEqual(['primary', 'replica', 'replica']);
    expect(system.judge!(results)).toEqual([]);
    for (const m of results.slice(1)) {
      expect(m.values.source).toBe(db.podFqdn(0));
      expect(m.values.lag).toMatch(/^\d+$/);
    }
    console.log(`MariaDB gate: ${results.map((m) => `${m.pod}=${m.values.role}${m.values.lag ? ` lag ${m.values.lag}s` : ''}`).join(', ')}`);
  }, 60_000);

  test('a replica whose replication is stopped fails the gate with both threads named', async () => {
    const secret = cluster.secret(db.credentials.secretName);
    const stop = await cluster.exec(pods[2], ['mariadb', '--protocol=socket', '-S', '/var/run/mysqld/mysqld.sock', '-uroot', `-p${secret['root-password']}`, '-e', 'STOP REPLICA']);
    expect(stop.code).toBe(0);
    const r = await run(cluster, system, pods[2], system.member!);
    expect(r.ok).toBe(false);
    expect(r.output).toContain('replication is not running: IO thread No, SQL thread No');
    expect(r.output).not.toContain(secret['root-password']);
    console.log(`MariaDB stopped replica: ${r.output.split('\n').filter((l) => !l.includes('=')).join(' / ')}`);
  }, 60_000);
});

describeWithNamespaces('cdk8s-stateful checks on real PostgreSQL streaming replication', () => {
  const chart = new Chart(Testing.app(), 'e2e', { namespace: 'orders' });
  const db = new PostgresReplicaSet(chart, 'pg', {
    image: `docker.io/library/postgres:${PG_DEBIAN_VERSION}`, replicas: 3,
    storage: Storage.persistent({ size: Size.gibibytes(1) }), resources: Resources.of({ cpuMillis: 200, memory: Size.mebibytes(256) }),
    runAs: { uid: 101, gid: 104 },
  });
  const objects = Testing.synth(chart);
  const pods = [0, 1, 2].map((i) => db.workload.podName(i));
  const generator = objects.find((o) => o.kind === 'Job' && o.metadata.annotations?.['cdk8s-stateful.io/generates-secret']).metadata.name;
  const system = postgres();
  let cluster: LocalCluster;
  const slots = async () => (await cluster.sh(pods[0], 'psql -X -A -t -q -h /var/run/postgresql -U postgres -d postgres -c "SELECT slot_name FROM pg_replication_slots ORDER BY 1"', 'postgres')).trim().split('\n');

  beforeAll(async () => {
    cluster = new LocalCluster(objects, postgresHarnessOptions(objects, 120_000));
    await cluster.runJob(generator);
    await cluster.startStatefulSet(db.workload.name);
  }, 300_000);
  afterAll(async () => {
    await cluster?.destroy();
  }, 60_000);

  test('the primary lists both standbys as streaming; each standby streams and reports its replay lag', async () => {
    const results = await until('both standbys streaming', 30_000, async () => {
      const r = await members(cluster, system, pods);
      return r.every((m) => m.ok) && system.judge!(r).length === 0 ? r : undefined;
    });
    expect(results.map((m) => m.values.role)).toEqual(['primary', 'standby', 'standby']);
    expect(results[0].values.streaming).toBe(`${pods[1]},${pods[2]}`);
    for (const m of results.slice(1)) expect(m.values.lag_bytes).toMatch(/^\d+$/);
    console.log(`PostgreSQL gate: ${results.map((m) => `${m.pod}=${m.values.role}${m.values.streaming ? ` streaming to ${m.values.streaming}` : ` lag ${m.values.lag_bytes} bytes`}`).join(', ')}`);
  }, 60_000);

  test('scale-down step: with standby 2 gone, its slot is dropped on the primary and the others stay', async () => {
    // GIVEN pod 2 removed, as a scale to 2 does
    expect(await slots()).toEqual(['standby_1', 'standby_2']);
    await cluster.stopPod(pods[2]);
    // WHEN the CLI's step runs on the primary (again while the slot is still in use, as the CLI does)
    const drop = { name: 'drop', script: postgresDropSlotsScript(), args: ['2'] };
    const r = await until('the slot to be idle and dropped', 30_000, async () => {
      const x = await run(cluster, system, pods[0], drop);
      expect(x.ok).toBe(true);
      return x.stdout.includes('active=') ? undefined : x;
    });
    // THEN standby_2 is gone and standby_1 streams on
    expect(r.stdout.trim()).toBe('dropped=standby_2');
    expect(await slots()).toEqual(['standby_1']);
    const left = await members(cluster, system, pods.slice(0, 2));
    expect(left.every((m) => m.ok)).toBe(true);
    expect(system.judge!(left)).toEqual([]);
    // and running it again finds nothing to drop
    expect((await run(cluster, system, pods[0], drop)).stdout.trim()).toBe('');
  }, 60_000);

  test('a standby whose primary is gone fails the gate: its WAL receiver no longer streams', async () => {
    await cluster.stopPod(pods[0]);
    const r = await until('the standby to notice', 30_000, async () => {
      const x = await run(cluster, system, pods[1], system.member!);
      return x.ok ? undefined : x;
    });
    expect(r.values.role).toBe('standby');
    expect(r.output).toMatch(/in recovery, but its WAL receiver is (not running|\w+): not streaming from the primary/);
    console.log(`PostgreSQL standby without primary: ${r.output.split('\n').pop()}`);
  }, 60_000);
});
