import { Chart, Size, Testing } from 'cdk8s';
import { RedisCluster, Resources, Storage } from '../../src';
import { LocalCluster } from './harness/cluster';
import { allowedClients, describeWithNamespaces, DROPPED, startClientAndStranger, tcpConnect, until } from './harness/testing';

// A Redis Cluster whose clients are restricted (allowClientsFrom) to the
// test's allowed client pods, with the harness enforcing its NetworkPolicy:
// replicas still sync from their masters (over the client port), an allowed
// client pod reads and writes through the cluster, a stranger is dropped.

describeWithNamespaces('RedisCluster with restricted clients on real Redis servers', () => {
  const chart = new Chart(Testing.app(), 'e2e', { namespace: 'cache' });
  const redis = new RedisCluster(chart, 'redis', {
    masters: 3, replicasPerMaster: 1,
    storage: Storage.persistent({ size: Size.gibibytes(1) }),
    resources: Resources.of({ cpuMillis: 100, memory: Size.mebibytes(128) }),
    allowClientsFrom: [allowedClients(chart)],
  });
  const objects = Testing.synth(chart);
  const pods = Array.from({ length: redis.nodes }, (_, i) => redis.workload.podName(i));
  const generator = objects.find((o) => o.kind === 'Job' && o.metadata.annotations?.['cdk8s-stateful.io/generates-secret']).metadata.name;
  let cluster: LocalCluster;

  beforeAll(async () => {
    cluster = new LocalCluster(objects, { readyTimeoutMs: 90000 });
    await cluster.runJob(generator);
    await cluster.startStatefulSet(redis.workload.name, { whileStarting: async () => { await cluster.runJob(redis.bootstrapJob.name, 90000); } });
  }, 180000);
  afterAll(async () => {
    await cluster?.destroy();
  }, 60000);

  test('every replica syncs from its master (over the client port, which only named clients may use)', async () => {
    const links = await until('every replica linked to its master', 45000, async () => {
      const roles = await Promise.all(pods.map((p) => cluster.sh(p, 'redis-cli info replication')));
      const replicas = roles.filter((r) => /^role:slave/m.test(r));
      const up = replicas.filter((r) => /^master_link_status:up/m.test(r));
      return replicas.length === redis.nodes / 2 && up.length === replicas.length ? up.length : undefined;
    }).catch(async (e) => {
      throw new Error(`${(e as Error).message}\n${(await Promise.all(pods.map((p) => cluster.sh(p, 'redis-cli info replication')))).join('\n')}`);
    });
    expect(links).toBe(3);
  }, 60000);

  test('an allowed client pod writes and reads through the cluster; a stranger\'s connection is dropped', async () => {
    // GIVEN a pod with the allowed client labels and a stranger without, in the cluster's namespace
    const { client, stranger } = await startClientAndStranger(cluster, 'redis', 'cache');
    const password = cluster.secret(redis.credentials!.secretName).password;
    const cli = (args: string) => cluster.sh(client, `REDISCLI_AUTH='${password}' redis-cli -c -h ${redis.podFqdn(0)} ${args}`);
    // THEN the client follows MOVED to whichever master owns the key, and reads it back
    for (const k of ['a', 'b', 'c']) expect((await cli(`set e2e:${k} ${k}`)).trim()).toBe('OK');
    expect((await cli('mget e2e:a')).trim()).toBe('a');
    expect((await cli('get e2e:c')).trim()).toBe('c');
    // AND the stranger cannot even connect to a node
    expect(await tcpConnect(cluster, stranger, redis.podFqdn(0), redis.workload.port('client').port)).toBe(DROPPED);
  }, 60000);
});
