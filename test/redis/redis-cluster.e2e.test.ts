import { Chart, Size, Testing } from 'cdk8s';
import { RedisCluster, Storage, Resources } from '../../src';
import { LocalCluster } from '../e2e/harness/cluster';
import { canCreateNamespaces } from '../e2e/harness/sandbox';
import { synthValid } from '../support/manifest';

const enabled = canCreateNamespaces();
const testIf = enabled ? test : test.skip;

// Real redis-server processes run the rendered redis.conf, start.sh and bootstrap Job.
testIf('six nodes form a cluster once, and survive restarts with new addresses', async () => {
  const chart = new Chart(Testing.app(), 'r', { namespace: 'e2e' });
  const rc = new RedisCluster(chart, 'cache', { storage: Storage.persistent({ size: Size.gibibytes(1) }), resources: Resources.of({ cpuMillis: 100, memory: Size.mebibytes(128) }) });
  const objects = synthValid(chart);
  const cluster = new LocalCluster(objects, { readyTimeoutMs: 120000 });
  try {
    await cluster.runJob('r-cache-credentials-generate');
    const errors: any[] = [];
    const starts = Array.from({ length: rc.nodes }, (_, i) => cluster.startPod('r-cache', i).catch((e) => { errors.push(e); }));
    await new Promise((r) => setTimeout(r, 3000));
    if (errors.length) throw errors[0];
    await new Promise((r) => setTimeout(r, 3000));
    expect(await cluster.runJob('r-cache-bootstrap', 120000)).toContain('[OK] All 16384 slots covered');
    await Promise.all(starts);
    expect(await cluster.sh('r-cache-0', 'redis-cli cluster info')).toContain('cluster_state:ok');
    expect(await cluster.runJob('r-cache-bootstrap', 120000)).toContain('cluster exists');
    expect((await cluster.exec('r-cache-0', ['bash', '-c', 'REDISCLI_AUTH=wrong redis-cli set a b'])).output).toMatch(/WRONGPASS|NOAUTH/);
    // restart one pod with new address, then all
    await cluster.stopPod('r-cache-1');
    await cluster.startPod('r-cache', 1, { newAddress: true });
    for (let i = 0; i < rc.nodes; i++) await cluster.stopPod(`r-cache-${i}`);
    await Promise.all(Array.from({ length: rc.nodes }, (_, i) => cluster.startPod('r-cache', i, { newAddress: true })));
    const nodes = await cluster.sh('r-cache-0', 'redis-cli cluster nodes');
    expect(nodes).not.toMatch(/fail|disconnected/);
    expect(nodes).toContain(`${cluster.ipOf('r-cache-5')}:6379`);
    expect(await cluster.sh('r-cache-0', 'redis-cli cluster info')).toContain('cluster_state:ok');
    expect((await cluster.sh('r-cache-0', 'redis-cli -c set foo bar >/dev/null; redis-cli -c get foo')).trim()).toBe('bar');
  } catch (e) {
    for (let i = 0; i < rc.nodes; i++) console.log(cluster.logs(`r-cache-${i}`, 15));
    throw e;
  } finally {
    await cluster.destroy();
  }
}, 400000);
