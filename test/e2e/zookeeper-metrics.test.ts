import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Chart, Size, Testing } from 'cdk8s';
import { Storage, ZooKeeperEnsemble } from '../../src';
import { scraped, series } from '../support/alert-cases';
import { alertsOf, havePromtool, Labels, seriesFromScrape, testRules } from '../support/promtool';
import { BinaryShim, LocalCluster } from './harness/cluster';
import { describeWithNamespaces, until } from './harness/testing';
import { ZOOKEEPER_IMAGE } from './images';

// A 3-member ensemble rendered with `monitoring`, on Debian's ZooKeeper 3.8
// with the Prometheus provider the official image ships (its jars come from
// Maven Central: scripts/maven/zookeeper-prometheus.sh). Each member serves
// /metrics on port 7000 as rendered; the series the alerts use are there
// with the values the rules expect, and the scraped pages, labelled as the
// ServiceMonitor would label them, are fed to promtool: healthy, a follower
// lost, then the quorum lost.

const JARS = execFileSync(path.join(__dirname, '../../scripts/maven/zookeeper-prometheus.sh'), ['--print'], { encoding: 'utf-8' }).trim();
const JAR_DIR_IN_PODS = '/e2e-bin/zookeeper-prometheus';
const NS = 'streaming';

function jarsPresent(): boolean {
  const ok = fs.existsSync(JARS) && fs.readdirSync(JARS).filter((f) => f.endsWith('.jar')).length === 5;
  if (ok) return true;
  const what = `ZooKeeper's Prometheus provider jars in ${JARS} (run scripts/maven/zookeeper-prometheus.sh)`;
  if (process.env.CI) throw new Error(`${what} are required in CI`);
  process.stderr.write(`\n*** SKIPPED: ${what} are missing, so ZooKeeper's metrics were not checked ***\n`);
  return false;
}

/** The image's zkServer.sh stand-in with the provider's jars (and the servlet API Debian's Jetty needs) on the classpath. */
function withProvider(shims: BinaryShim[]): BinaryShim[] {
  return shims.map((s) => {
    if (s.name !== 'zkServer.sh') return s;
    const script = s.script.replace('/usr/share/java/slf4j-simple.jar', `/usr/share/java/slf4j-simple.jar:/usr/share/java/servlet-api.jar:${JAR_DIR_IN_PODS}/*`);
    if (script === s.script) throw new Error('the zkServer.sh stand-in changed: cannot add the Prometheus provider to its classpath');
    return {
      ...s, script,
      local: `${s.local}, plus zookeeper-prometheus-metrics 3.8.0 and simpleclient 0.9.0 (Maven Central) and Debian's servlet-api`,
      why: `${s.why}; the official image has the Prometheus provider's jars in its lib directory, Debian's package does not`,
    };
  });
}

function render(): { zk: ZooKeeperEnsemble; objects: any[] } {
  const chart = new Chart(Testing.app(), 'e2e', { namespace: NS });
  const zk = new ZooKeeperEnsemble(chart, 'zk', { name: 'zk', storage: Storage.persistent({ size: Size.gibibytes(1) }), monitoring: {} });
  return { zk, objects: Testing.synth(chart) };
}

const describeIfReady = jarsPresent() ? describeWithNamespaces : describe.skip;

describeIfReady('ZooKeeper\'s Prometheus provider on a real ensemble, and the alerts on what it serves', () => {
  const { zk, objects } = render();
  const pods = [0, 1, 2].map((i) => zk.workload.podName(i));
  const zkRules = [...alertsOf(objects).keys()].filter((a) => a.startsWith('ZooKeeper'));
  // the provider's metrics the rules read (`up` is Prometheus's own)
  const used = [...new Set([...alertsOf(objects).values()].filter((r) => r.alert.startsWith('ZooKeeper'))
    .flatMap((r) => r.expr.match(/[a-z_]+(?=\{)/g) as string[]))].filter((m) => m !== 'up');
  let cluster: LocalCluster;

  const scrape = (i: number) => cluster.sh(pods[i], `curl -fsS http://${cluster.ipOf(pods[i])}:7000/metrics`);
  const value = (page: string, metric: string) => {
    const m = new RegExp(`^${metric} (\\S+)$`, 'm').exec(page);
    return m ? Number(m[1]) : undefined;
  };
  /** The labels Prometheus gives the series of member `i` through the ServiceMonitor. */
  const target = (i: number): Labels => scraped(NS, zk.workload.name, i, 'zookeeper', 7000);
  /** promtool input: each running member's scraped page with up 1, each stopped member up 0. */
  const inputFrom = (pages: (string | undefined)[]) => Object.assign({}, ...pages.map((page, i) => (page === undefined
    ? { [series('up', target(i))]: '0x30' }
    : { [series('up', target(i))]: '1x30', ...seriesFromScrape(page, used, target(i)) })));
  /** Which ZooKeeper alerts promtool says fire 10 minutes into `input`, and whether it agrees with `expected`. */
  const evaluate = (input: { [s: string]: string }, expected: { [alert: string]: Labels[] }) => testRules(objects, zkRules.map((alert) => ({
    name: `${alert} on the scraped pages`, alert, at: '10m', series: input, fires: expected[alert] ?? [],
  })));

  beforeAll(async () => {
    cluster = new LocalCluster(objects, {
      binaries: withProvider(ZOOKEEPER_IMAGE),
      notes: [{
        manifest: 'the image\'s lib/*.jar (Prometheus provider)', local: `jars from ${JARS}, copied to ${JAR_DIR_IN_PODS}`,
        why: 'the image has them, Debian\'s zookeeper package does not',
      }],
    });
    fs.cpSync(JARS, path.join(cluster.dir, 'bin', 'zookeeper-prometheus'), { recursive: true });
    console.log(`substitutions (ZooKeeper metrics):\n${cluster.table()}`);
    await cluster.startStatefulSet(zk.workload.name);
  }, 180000);
  afterAll(async () => {
    await cluster?.destroy();
  }, 60000);

  test('every member serves /metrics on port 7000; one leads with 2 synced followers, every member counts a quorum of 3', async () => {
    const pages = await until('a leader with two synced followers', 60000, async () => {
      const p = await Promise.all(pods.map((_, i) => scrape(i)));
      return p.filter((page) => value(page, 'synced_followers') === 2).length === 1 ? p : undefined;
    });
    const leaders = pages.map((p, i) => (value(p, 'leader_uptime') !== undefined ? pods[i] : undefined)).filter((x) => x);
    console.log(`ZooKeeper metrics: leader_uptime served by ${leaders.join(', ')}; quorum_size ${pages.map((p) => value(p, 'quorum_size')).join('/')}; `
      + `synced_followers ${pages.map((p) => value(p, 'synced_followers') ?? '-').join('/')}; the rules read ${used.join(', ')}`);
    expect(leaders).toHaveLength(1);
    expect(pages.map((p) => value(p, 'quorum_size'))).toEqual([3, 3, 3]);
    // every metric the ZooKeeper rules read is served by the ensemble
    for (const m of used) expect({ metric: m, served: pages.some((p) => new RegExp(`^${m}[{ ]`, 'm').test(p)) }).toEqual({ metric: m, served: true });
  }, 90000);

  (havePromtool() ? test : test.skip)('on the pages of the healthy ensemble no ZooKeeper alert fires', async () => {
    const pages = await Promise.all(pods.map((_, i) => scrape(i)));
    const r = evaluate(inputFrom(pages), {});
    expect(r.ok || r.output).toBe(true);
  }, 60000);

  (havePromtool() ? test : test.skip)('a follower stopped: the leader serves 1 synced follower, and ZooKeeperFollowersBelowExpected and ZooKeeperMemberDown fire', async () => {
    const first = await Promise.all(pods.map((_, i) => scrape(i)));
    const leader = first.findIndex((p) => value(p, 'leader_uptime') !== undefined);
    const follower = [0, 1, 2].find((i) => i !== leader)!;
    await cluster.stopPod(pods[follower]);
    const leaderPage = await until('the leader to count one synced follower', 60000, async () => {
      const p = await scrape(leader);
      return value(p, 'synced_followers') === 1 ? p : undefined;
    });
    const pages = await Promise.all(pods.map(async (_, i) => (i === follower ? undefined : i === leader ? leaderPage : scrape(i))));
    console.log(`ZooKeeper metrics: ${pods[follower]} stopped; leader ${pods[leader]} serves synced_followers ${value(leaderPage, 'synced_followers')}`);
    const r = evaluate(inputFrom(pages), {
      ZooKeeperFollowersBelowExpected: [{ ...target(leader), severity: 'warning' }],
      ZooKeeperMemberDown: [{ ...target(follower), severity: 'warning' }],
    });
    expect(r.ok || r.output).toBe(true);
  }, 120000);

  (havePromtool() ? test : test.skip)('the leader stopped too: the last member serves no leader_uptime, and ZooKeeperNoLeader and ZooKeeperQuorumLost fire', async () => {
    const pages = await Promise.all(pods.map(async (p, i) => ((await cluster.exec(p, ['true']).then(() => true, () => false)) ? scrape(i) : undefined)));
    const leader = pages.findIndex((p) => p !== undefined && value(p, 'leader_uptime') !== undefined);
    expect(leader).toBeGreaterThanOrEqual(0);
    await cluster.stopPod(pods[leader]);
    const last = pages.findIndex((p, i) => p !== undefined && i !== leader);
    const lastPage = await until('the last member to stop serving leader metrics', 60000, async () => {
      const p = await scrape(last);
      return value(p, 'leader_uptime') === undefined && value(p, 'synced_followers') === undefined ? p : undefined;
    });
    console.log(`ZooKeeper metrics: ${pods[leader]} stopped as well; ${pods[last]} serves ${value(lastPage, 'quorum_size') === undefined ? 'neither quorum_size nor leader_uptime' : 'no leader_uptime'}`);
    const all = pods.map((_, i) => (i === last ? lastPage : undefined));
    const ensemble = { namespace: NS, job: zk.workload.headlessServiceName };
    const r = evaluate(inputFrom(all), {
      ZooKeeperNoLeader: [{ ...ensemble, severity: 'critical' }],
      ZooKeeperQuorumLost: [{ ...ensemble, severity: 'critical' }],
      ZooKeeperMemberDown: [0, 1, 2].filter((i) => i !== last).map((i) => ({ ...target(i), severity: 'warning' })),
    });
    expect(r.ok || r.output).toBe(true);
  }, 120000);
});
