import { Chart, Size, Testing } from 'cdk8s';
import { RedisCluster, Resources, Storage } from '../../src';
import { BinaryShim, LocalCluster } from './harness/cluster';
import { describeWithNamespaces, until } from './harness/testing';

// A 3 masters x 1 replica Redis Cluster, exactly as rendered, on Debian's
// redis-server: the generator Job makes the password, the bootstrap Job forms
// the cluster once, every slot is served, a node that comes back with a new
// address rejoins (the stale-IP failure), and auth is enforced. A second
// cluster restarts all its nodes at once, each on a new IP, and reassembles.


interface ClusterNode { id: string; address: string; role: 'master' | 'slave'; masterId: string; slots: number; healthy: boolean; connected: boolean }

/** `CLUSTER NODES`, parsed. */
function parseNodes(text: string): ClusterNode[] {
  return text.trim().split('\n').map((line) => {
    const [id, address, flags, masterId, , , , link, ...slots] = line.trim().split(' ');
    const count = slots.filter((s) => !s.startsWith('[')).reduce((n, s) => {
      const [a, b] = s.split('-').map(Number);
      return n + (b === undefined ? 1 : b - a + 1);
    }, 0);
    return {
      id, address: address.split('@')[0], role: flags.includes('master') ? 'master' : 'slave', masterId,
      slots: count, healthy: !/fail|handshake|noaddr/.test(flags), connected: link === 'connected',
    };
  });
}

/** A 3 masters x 1 replica cluster in `namespace`, synthesized, with the names the scenarios use. */
function render(namespace: string) {
  const chart = new Chart(Testing.app(), 'e2e', { namespace });
  const redis = new RedisCluster(chart, 'redis', {
    masters: 3, replicasPerMaster: 1,
    storage: Storage.persistent({ size: Size.gibibytes(1) }),
    resources: Resources.of({ cpuMillis: 100, memory: Size.mebibytes(128) }),
  });
  const objects = Testing.synth(chart);
  const pods = Array.from({ length: redis.nodes }, (_, i) => redis.workload.podName(i));
  const generator: string = objects.find((o) => o.kind === 'Job' && o.metadata.annotations?.['cdk8s-stateful.io/generates-secret']).metadata.name;
  return { redis, objects, name: redis.workload.name, pods, generator };
}

describeWithNamespaces('RedisCluster on real Redis servers', () => {
  const { redis, objects, name, pods, generator } = render('cache');
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

/** Seconds after pods appear before their names resolve (cluster DNS follows the endpoints with a lag). */
const DNS_LAG_SECONDS = 5;
const DNS_LAG: BinaryShim = {
  name: 'getent',
  manifest: 'cluster DNS: a new pod\'s record appears a moment after the pod (endpoints, then DNS)',
  local: `getent stand-in: \`getent hosts\` answers "not found" until ${DNS_LAG_SECONDS} s after the hosts file last changed, then as Debian's getent`,
  why: 'the private /etc/hosts has a pod\'s name the instant it exists; pods starting in parallel must not rely on that',
  script: `if [[ "\${1:-}" == hosts ]] && (( $(date +%s) < $(stat -c %Y /etc/hosts) + ${DNS_LAG_SECONDS} )); then exit 2; fi\nexec /usr/bin/getent "$@"`,
};

// Every node stops, then all start again at once (podManagementPolicy
// Parallel), each with a new IP: nodes.conf holds only stale peer addresses,
// so the cluster reassembles only if start.sh points them at the peers' new IPs.
describeWithNamespaces('RedisCluster after a full restart in which every node gets a new IP', () => {
  const { redis, objects, name, pods, generator } = render('restart');
  const keys = Array.from({ length: 300 }, (_, i) => `restart:key:${i}`);
  const valueOf = (key: string) => `value-of-${key}`;
  let cluster: LocalCluster;
  /** Per pod, before the restart: its address and node ID; and the topology (replica ID -> master ID). */
  let before: { ip: string; id: string }[];
  let masterOf: Map<string, string>;

  /**
   * Every node's view, parsed, once each node is connected to all nodes, sees
   * them healthy (3 masters) and says cluster_state:ok; with `expected`
   * (`<id> <ip>:<port>` of every node), also at those addresses. Until then
   * the last reason is what a timeout reports.
   */
  const converged = (what: string, timeoutMs: number, expected?: string[]) => until(what, timeoutMs, async () => {
    const views = await Promise.all(pods.map((p) => cluster.sh(p, 'redis-cli cluster nodes').then(parseNodes)));
    for (const [i, view] of views.entries()) {
      const state = (await cluster.sh(pods[i], 'redis-cli cluster info')).match(/cluster_state:\w+/)?.[0];
      const seen = view.map((n) => `${n.id} ${n.address}${n.healthy ? '' : ' (failing)'}${n.connected ? '' : ' (disconnected)'}`).sort();
      const good = view.length === pods.length && view.every((n) => n.healthy && n.connected) && view.filter((n) => n.role === 'master').length === 3
        && state === 'cluster_state:ok' && (!expected || seen.join() === expected.join());
      if (!good) throw new Error(`${pods[i]} has ${state} and sees ${seen.join(', ')}`);
    }
    return views;
  });

  beforeAll(async () => {
    cluster = new LocalCluster(objects, { readyTimeoutMs: 120000, binaries: [DNS_LAG] });
    console.log(`substitutions (Redis full restart):\n${cluster.table()}`);
    await cluster.runJob(generator);
    await cluster.startStatefulSet(name, { whileStarting: async () => { await cluster.runJob(redis.bootstrapJob.name, 90000); } });
    const views = await converged('the new cluster to converge', 60000);
    // N keys over every master's slots, through a cluster-aware client
    const set = await cluster.sh(pods[0], `redis-cli -c -h ${redis.podFqdn(0)} <<'EOF2'\n${keys.map((k) => `SET ${k} ${valueOf(k)}`).join('\n')}\nEOF2`);
    expect(set.trim().split('\n').filter((l) => l.trim() === 'OK')).toHaveLength(keys.length);
    before = await Promise.all(pods.map(async (p) => ({ ip: cluster.ipOf(p), id: (await cluster.sh(p, 'redis-cli cluster myid')).trim() })));
    masterOf = new Map(views[0].filter((n) => n.role === 'slave').map((n) => [n.id, n.masterId]));
    // the keys landed on every master, and every replica has them before the nodes stop
    const masters = views[0].filter((n) => n.role === 'master').map((n) => pods[before.findIndex((b) => b.id === n.id)]);
    const perMaster = await Promise.all(masters.map((p) => cluster.sh(p, 'redis-cli dbsize').then(Number)));
    expect(perMaster.filter((n) => n === 0)).toEqual([]);
    expect(perMaster.reduce((a, b) => a + b, 0)).toBe(keys.length);
    await until('every replica to reach its master\'s replication offset', 30000, async () => {
      const offsets = new Map(await Promise.all(pods.map(async (p, i) =>
        [before[i].id, /master_repl_offset:(\d+)/.exec(await cluster.sh(p, 'redis-cli info replication'))![1]] as const)));
      return [...masterOf].every(([replica, master]) => offsets.get(replica) === offsets.get(master)) ? true : undefined;
    });
  }, 300000);
  afterAll(async () => {
    await cluster?.destroy();
  }, 60000);

  test('all nodes stop, start at once with new IPs, and the cluster returns to ok with every node at its new address', async () => {
    // WHEN every node stops and all start again at once, each on an address none of them had
    await Promise.all(pods.map((p) => cluster.stopPod(p)));
    const started = Date.now();
    await Promise.all(pods.map((_, i) => cluster.startPod(name, i, { newAddress: true })));
    const readyMs = Date.now() - started;
    const after = pods.map((p) => cluster.ipOf(p));
    const expected = pods.map((_, i) => `${before[i].id} ${after[i]}:6379`).sort();
    // THEN (each pod's readiness probe may pass before its peers are back: wait for the real thing)
    const views = await converged('every node to see every other, connected, at its new address', 90000, expected);
    const convergedMs = Date.now() - started;
    const oldIps = new Set(before.map((b) => b.ip));
    expect(after.filter((ip) => oldIps.has(ip))).toEqual([]);
    for (const view of views) {
      expect(view.map((n) => `${n.id} ${n.address}`).sort()).toEqual(expected);
      expect(view.filter((n) => n.role === 'master').reduce((s, m) => s + m.slots, 0)).toBe(16384);
      // the same roles, or (after a failover) another valid split: each master with one replica
      const masters = view.filter((n) => n.role === 'master').map((n) => n.id).sort();
      expect(view.filter((n) => n.role === 'slave').map((n) => n.masterId).sort()).toEqual(masters);
    }
    const sameRoles = [...masterOf].every(([replica, master]) => views[0].find((n) => n.id === replica)?.masterId === master);
    console.log(`Redis full restart: ${pods.map((p, i) => `${p} ${before[i].ip} -> ${after[i]}`).join(', ')}; `
      + `every pod's readiness probe passed after ${(readyMs / 1000).toFixed(1)} s; cluster_state:ok on every node, each connected to all ${pods.length} at their new addresses, after ${(convergedMs / 1000).toFixed(1)} s; `
      + `${sameRoles ? 'the same masters and replicas as before' : 'roles changed by a failover'}`);
  }, 240000);

  test('every key written before the restart is read back through the cluster', async () => {
    const got = await cluster.sh(pods[3], `redis-cli -c -h ${redis.podFqdn(3)} <<'EOF2'\n${keys.map((k) => `GET ${k}`).join('\n')}\nEOF2`);
    // redis-cli -c reports each MOVED it follows on a line of its own
    const values = got.trim().split('\n').map((l) => l.trim()).filter((l) => !l.startsWith('-> Redirected'));
    expect(values).toEqual(keys.map(valueOf));
  }, 60000);
});
