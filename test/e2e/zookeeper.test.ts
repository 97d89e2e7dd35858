import { Chart, Size, Testing } from 'cdk8s';
import { Storage, ZooKeeperEnsemble } from '../../src';
import { LocalCluster } from './harness/cluster';
import { allowedClients, describeWithNamespaces, DROPPED, startClientAndStranger, tcpConnect, until } from './harness/testing';
import { ZOOKEEPER_IMAGE } from './images';

// A 3-member ensemble, exactly as rendered, on Debian's ZooKeeper: it forms a
// quorum with one leader, serves reads of writes made elsewhere, survives the
// leader's death, and takes the old leader back as a follower with its myid.
// Clients are restricted to the test's allowed client pods: a stranger is dropped.

function render(): { zk: ZooKeeperEnsemble; objects: any[] } {
  const chart = new Chart(Testing.app(), 'e2e', { namespace: 'streaming' });
  const zk = new ZooKeeperEnsemble(chart, 'zk', { storage: Storage.persistent({ size: Size.gibibytes(1) }), allowClientsFrom: [allowedClients(chart)] });
  return { zk, objects: Testing.synth(chart) };
}

/** Sends a four-letter word to a member from inside `from` and returns the answer. */
async function fourLetter(cluster: LocalCluster, from: string, host: string, word: string): Promise<string> {
  return cluster.sh(from, `exec 3<>/dev/tcp/${host}/2181; printf '${word}' >&3; cat <&3`);
}

async function mode(cluster: LocalCluster, from: string, host: string): Promise<string> {
  const out = await fourLetter(cluster, from, host, 'srvr');
  return /Mode: (\w+)/.exec(out)?.[1] ?? `unknown (${out.trim()})`;
}


describeWithNamespaces('ZooKeeperEnsemble on real ZooKeeper servers', () => {
  const { zk, objects } = render();
  const pods = [0, 1, 2].map((i) => zk.workload.podName(i));
  let cluster: LocalCluster;

  beforeAll(async () => {
    cluster = new LocalCluster(objects, { binaries: ZOOKEEPER_IMAGE });
    console.log(`substitutions (ZooKeeper):\n${cluster.table()}`);
    await cluster.startStatefulSet(zk.workload.name);
  }, 120000);
  afterAll(async () => {
    await cluster?.destroy();
  }, 60000);

  test('the ensemble forms a quorum: exactly one leader and two followers', async () => {
    const roles = await until('a quorum with every member', 45000, async () => {
      const r = await Promise.all(pods.map((p, i) => mode(cluster, p, zk.podFqdn(i))));
      // wait for every member: the last one to start may still be syncing with the leader
      return r.filter((m) => m === 'leader').length === 1 && r.filter((m) => m === 'follower').length === 2 ? r : undefined;
    });
    console.log(`ZooKeeper roles: ${pods.map((p, i) => `${p}=${roles[i]}`).join(', ')}`);
    expect(roles.filter((m) => m === 'leader')).toHaveLength(1);
    expect(roles.filter((m) => m === 'follower')).toHaveLength(2);
  }, 60000);

  test('each member holds myid = ordinal + 1 on its own volume', async () => {
    for (const [i, p] of pods.entries()) {
      expect((await cluster.sh(p, 'cat /data/myid')).trim()).toBe(String(i + 1));
    }
  });

  test('a znode created through one member is read through another', async () => {
    await cluster.sh(pods[0], `zkCli.sh -server ${zk.podFqdn(0)}:2181 create /e2e hello-from-0`);
    const out = await cluster.sh(pods[2], `zkCli.sh -server ${zk.podFqdn(2)}:2181 get /e2e`);
    expect(out).toContain('hello-from-0');
  }, 60000);

  test('the NetworkPolicy admits an allowed client pod to the client port and drops a stranger\'s connection', async () => {
    // GIVEN a pod with the allowed client labels and a stranger without, in the ensemble's namespace
    const { client, stranger } = await startClientAndStranger(cluster, 'zk', 'streaming');
    const service = zk.workload.serviceFqdn(zk.workload.clientService!.name);
    // THEN the client is served through the client Service, and the stranger cannot even connect
    expect((await fourLetter(cluster, client, service, 'ruok')).trim()).toBe('imok');
    expect(await tcpConnect(cluster, stranger, service, zk.clientPort)).toBe(DROPPED);
  }, 60000);

  test('when the leader dies a new leader is elected, the ensemble keeps serving, and the old leader rejoins as a follower', async () => {
    const roles = await Promise.all(pods.map((p, i) => mode(cluster, p, zk.podFqdn(i))));
    const leader = roles.indexOf('leader');
    const survivors = [0, 1, 2].filter((i) => i !== leader);
    await cluster.stopPod(pods[leader]);

    const newLeader = await until('a new leader', 45000, async () => {
      const r = await Promise.all(survivors.map((i) => mode(cluster, pods[i], zk.podFqdn(i))));
      return r.includes('leader') ? survivors[r.indexOf('leader')] : undefined;
    });
    console.log(`ZooKeeper failover: leader ${pods[leader]} stopped, ${pods[newLeader]} elected`);
    const s = survivors.find((i) => i !== newLeader)!;
    await cluster.sh(pods[s], `zkCli.sh -server ${zk.podFqdn(s)}:2181 create /after-failover still-serving`);
    expect(await cluster.sh(pods[newLeader], `zkCli.sh -server ${zk.podFqdn(newLeader)}:2181 get /after-failover`)).toContain('still-serving');

    await cluster.startPod(zk.workload.name, leader);
    const back = await until('the old leader to rejoin', 45000, async () => {
      const m = await mode(cluster, pods[leader], zk.podFqdn(leader));
      return m === 'follower' ? m : undefined;
    });
    console.log(`ZooKeeper rejoin: ${pods[leader]} is back as ${back} with myid ${(await cluster.sh(pods[leader], 'cat /data/myid')).trim()}`);
    expect(back).toBe('follower');
    expect((await cluster.sh(pods[leader], 'cat /data/myid')).trim()).toBe(String(leader + 1));
    expect(await cluster.sh(pods[leader], `zkCli.sh -server ${zk.podFqdn(leader)}:2181 get /after-failover`)).toContain('still-serving');
  }, 120000);
});

describeWithNamespaces('the ZooKeeper harness catches a broken renderer', () => {
  test('myid = ordinal (instead of ordinal + 1) keeps the ensemble from starting', async () => {
    // GIVEN the rendered start script, broken the way the issue describes
    const { zk, objects } = render();
    const cm = objects.find((o) => o.kind === 'ConfigMap');
    const script = cm.data['zk-start.sh'];
    expect(script).toContain('myid=$((ordinal + 1))');
    cm.data['zk-start.sh'] = script.replace('myid=$((ordinal + 1))', 'myid=$((ordinal))');
    const cluster = new LocalCluster(objects, { binaries: ZOOKEEPER_IMAGE, readyTimeoutMs: 20000 });
    try {
      // WHEN the ensemble starts THEN the first member never becomes Ready
      await expect(cluster.startStatefulSet(zk.workload.name)).rejects.toThrow(/exited|never became Ready/);
    } finally {
      await cluster.destroy();
    }
  }, 60000);
});
