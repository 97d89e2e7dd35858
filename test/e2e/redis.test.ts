import { Chart, Size, Testing } from 'cdk8s';
import { RedisCluster, Resources, Storage } from '../../src';
import { LocalCluster } from './harness/cluster';
import { describeWithNamespaces, until } from './harness/testing';

// A 3 masters x 1 replica Redis Cluster, exactly as rendered, on Debian's
// redis-server: the generator Job makes the password, the bootstrap Job forms
// the cluster once, every slot is served, a node that comes back with a new
// address rejoins (the stale-IP failure), and auth is enforced.


interface ClusterNode { id: string; address: string; role: 'master' | 'slave'; masterId: string; slots: number; healthy: boolean }

/** `CLUSTER NODES`, parsed. */
function parseNodes(text: string): ClusterNode[] {
  return text.trim().split('\n').map((line) => {
    const [id, address, flags, masterId, , , , , ...slots] = line.trim().split(' ');
    const count = slots.filter((s) => !s.startsWith('[')).reduce((n, s) => {
      const [a, b] = s.split('-').map(Number);
      return n + (b === undefined ? 1 : b - a + 1);
    }, 0);
    return {
      id, address: address.split('@')[0], role: flags.includes('master') ? 'master' : 'slave', masterId,
      slots: count, healthy: !/fail|handshake|noaddr/.test(flags),
    };
  });
}

describeWithNamespaces('RedisCluster on real Redis servers', () => {
  const chart = new Chart(Testing.app(), 'e2e', { namespace: 'cache' });
  const redis = new RedisCluster(chart, 'redis', {
    masters: 3, replicasPerMaster: 1,
    storage: Storage.persistent({ size: Size.gibibytes(1) }),
    resources: Resources.of({ cpuMillis: 100, memory: Size.mebibytes(128) }),
  });
  const objects = Testing.synth(chart);
  const name = redis.workload.name;
  const pods = Array.from({ length: redis.nodes }, (_, i) => redis.workload.podName(i));
  const generator = objects.find((o) => o.kind === 'Job' && o.metadata.annotations?.['cdk8s-stateful.io/generates-secret']).metadata.name;
  const bootstrap = redis.bootstrapJob.name;
  let cluster: LocalCluster;
  let bootstrapOutput = '';

  beforeAll(async () => {
    cluster = new LocalCluster(objects, { readyTimeoutMs: 90000 });
    console.log(`substitutions (Redis Cluster):\n${cluster.table()}`);
    await cluster.runJob(generator);
    // Parallel pods; readiness needs cluster_state:ok, which the bootstrap Job creates
    await cluster.startStatefulSet(name, { whileStarting: async () => { bootstrapOutput = await cluster.runJob(bootstrap, 90000); } });
  }, 180000);
  afterAll(async () => {
    if (cluster) {
      await cluster.destroy();
    }
  }, 60000);

  test('the bootstrap Job forms the cluster: state ok, all 16384 slots covered, every master has one replica', async () => {
    expect(bootstrapOutput).toContain('[OK] All 16384 slots covered');
    const info = await cluster.sh(pods[0], 'redis-cli cluster info');
    expect(info).toContain('cluster_state:ok');
    expect(info).toMatch(/cluster_slots_assigned:16384\b/);
    expect(info).toMatch(/cluster_slots_ok:16384\b/);
    // the replicas' roles reach every node by gossip, a moment after the Job ends
    const nodes = await until('every node to see 3 masters and 3 replicas', 30000, async () => {
      const n = parseNodes(await cluster.sh(pods[0], 'redis-cli cluster nodes'));
      return n.filter((x) => x.role === 'master').length === 3 ? n : undefined;
    });
    const masters = nodes.filter((n) => n.role === 'master');
    expect(masters).toHaveLength(3);
    expect(masters.reduce((n, m) => n + m.slots, 0)).toBe(16384);
    const replicasPer = masters.map((m) => nodes.filter((n) => n.role === 'slave' && n.masterId === m.id).length);
    expect(replicasPer).toEqual([1, 1, 1]);
    console.log(`Redis Cluster: ${masters.length} masters with slots ${masters.map((m) => m.slots).join('+')} = 16384, replicas per master ${replicasPer.join(',')}`);
  });

  test('running the bootstrap Job again changes nothing', async () => {
    const before = parseNodes(await cluster.sh(pods[0], 'redis-cli cluster nodes')).map((n) => n.id).sort();
    const out = await cluster.runJob(bootstrap, 60000);
    expect(out).not.toContain('Performing hash slots allocation');
    expect(parseNodes(await cluster.sh(pods[0], 'redis-cli cluster nodes')).map((n) => n.id).sort()).toEqual(before);
  }, 90000);

  test('a key written through one node is read through another (-c follows MOVED)', async () => {
    await cluster.sh(pods[0], `redis-cli -c -h ${redis.podFqdn(0)} set e2e:key written-via-0`);
    expect((await cluster.sh(pods[4], `redis-cli -c -h ${redis.podFqdn(4)} get e2e:key`)).trim()).toBe('written-via-0');
  });

  test('auth is enforced: a command without the password is refused, with it accepted', async () => {
    const anonymous = await cluster.exec(pods[2], ['bash', '-c', `env -u REDISCLI_AUTH redis-cli -h ${redis.podFqdn(2)} get e2e:key`]);
    expect(anonymous.output).toMatch(/NOAUTH/);
    const wrong = await cluster.exec(pods[2], ['bash', '-c', `REDISCLI_AUTH=wrong redis-cli -h ${redis.podFqdn(2)} ping`]);
    expect(wrong.output).toMatch(/WRONGPASS|invalid username-password/);
    expect((await cluster.sh(pods[2], `redis-cli -h ${redis.podFqdn(2)} ping`)).trim()).toBe('PONG');
    const cm = objects.filter((o) => o.kind === 'ConfigMap').map((o) => JSON.stringify(o.data)).join();
    expect(cm).not.toContain(cluster.secret(redis.credentials!.secretName).password);
  });

  test('a pod that comes back with a different address rejoins and the cluster returns to ok', async () => {
    const oldIp = cluster.ipOf(pods[1]);
    await cluster.stopPod(pods[1]);
    await cluster.startPod(name, 1, { newAddress: true });
    const newIp = cluster.ipOf(pods[1]);
    expect(newIp).not.toBe(oldIp);
    const seen = await until('the other nodes to see the new address', 60000, async () => {
      const nodes = parseNodes(await cluster.sh(pods[3], 'redis-cli cluster nodes'));
      const info = await cluster.sh(pods[3], 'redis-cli cluster info');
      return nodes.some((n) => n.address === `${newIp}:6379` && n.healthy) && nodes.every((n) => n.healthy) && info.includes('cluster_state:ok') ? nodes : undefined;
    });
    console.log(`Redis rejoin: ${pods[1]} moved ${oldIp} -> ${newIp}; ${seen.filter((n) => n.healthy).length}/${seen.length} nodes healthy, cluster_state:ok`);
    expect(seen.some((n) => n.address.startsWith(oldIp + ':'))).toBe(false);
    expect((await cluster.sh(pods[1], `redis-cli -c -h ${redis.podFqdn(1)} get e2e:key`)).trim()).toBe('written-via-0');
  }, 120000);
});
