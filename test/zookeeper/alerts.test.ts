import { Chart, Size, Testing } from 'cdk8s';
import { Storage, ZooKeeperEnsemble, ZooKeeperEnsembleProps } from '../../src';
import { scraped, series, sharedAlertCases } from '../support/alert-cases';
import { AlertCase, describeAlertCases, Labels } from '../support/promtool';

// The ZooKeeper rules evaluated by promtool on series as the ServiceMonitor
// scrapes them from ZooKeeper's Prometheus provider: `job` is the headless
// Service, and the Prometheus Operator adds namespace, pod, service,
// endpoint, container and instance. test/e2e/zookeeper-metrics.test.ts shows
// that a real ensemble serves these series with these values.

const NS = 'streaming';

function render(props: ZooKeeperEnsembleProps = {}): any[] {
  const chart = new Chart(Testing.app(), 'c', { namespace: NS });
  new ZooKeeperEnsemble(chart, 'zk', {
    name: 'zk',
    storage: Storage.persistent({ size: Size.gibibytes(1) }),
    monitoring: { alertLabels: { team: 'streaming' } },
    ...props,
  });
  return Testing.synth(chart);
}

/** The labels of a scraped series of member `ordinal` of ensemble `name`. */
function member(ordinal: number, name = 'zk'): Labels {
  return scraped(NS, name, ordinal, 'zookeeper', 7000);
}

const team = { team: 'streaming' };
const ensemble = { namespace: NS, job: 'zk-headless' };
const up = (ordinal: number, values: string, name = 'zk') => ({ [series('up', member(ordinal, name))]: values });
const allUp = { ...up(0, '1x20'), ...up(1, '1x20'), ...up(2, '1x20') };

const zooKeeperCases: AlertCase[] = [
  {
    name: 'member 1 down for 10 minutes: fires for that member',
    alert: 'ZooKeeperMemberDown', at: '10m',
    series: { ...up(0, '1x20'), ...up(1, '0x20'), ...up(2, '1x20') },
    fires: [{ ...member(1), severity: 'warning', ...team }],
  },
  {
    name: 'a member down for 3 minutes (a restart), and a member of another ensemble down: silent',
    alert: 'ZooKeeperMemberDown', at: '10m',
    series: { ...up(0, '1x20'), ...up(1, '1x6 0x3 1x10'), ...up(2, '1x20'), ...up(0, '0x20', 'zk-b') },
    fires: [],
  },
  {
    name: 'every member up but none serves leader_uptime, while another ensemble has a leader: fires',
    alert: 'ZooKeeperNoLeader', at: '10m',
    series: {
      ...allUp,
      [series('quorum_size', member(0))]: '3x20',
      [series('leader_uptime', member(0, 'zk-b'))]: '0+60000x20',
    },
    fires: [{ ...ensemble, severity: 'critical', ...team }],
  },
  {
    name: 'member 2 leads: silent',
    alert: 'ZooKeeperNoLeader', at: '10m',
    series: { ...allUp, [series('leader_uptime', member(2))]: '0+60000x20' },
    fires: [],
  },
  {
    name: 'two of three members down: fires',
    alert: 'ZooKeeperQuorumLost', at: '10m',
    series: { ...up(0, '0x20'), ...up(1, '1x20'), ...up(2, '0x20') },
    fires: [{ ...ensemble, severity: 'critical', ...team }],
  },
  {
    name: 'no member scraped at all: fires',
    alert: 'ZooKeeperQuorumLost', at: '10m',
    series: up(0, '1x20', 'zk-b'),
    fires: [{ ...ensemble, severity: 'critical', ...team }],
  },
  {
    name: 'one of three members down (a majority is up): silent',
    alert: 'ZooKeeperQuorumLost', at: '10m',
    series: { ...up(0, '1x20'), ...up(1, '0x20'), ...up(2, '1x20') },
    fires: [],
  },
  {
    name: 'the leader has one synced follower of two: fires for the leader',
    alert: 'ZooKeeperFollowersBelowExpected', at: '10m',
    series: { [series('synced_followers', member(2))]: '1x20' },
    fires: [{ ...member(2), severity: 'warning', ...team }],
  },
  {
    name: 'the leader has both followers synced: silent',
    alert: 'ZooKeeperFollowersBelowExpected', at: '10m',
    series: { [series('synced_followers', member(2))]: '2x20', [series('synced_followers', member(0, 'zk-b'))]: '0x20' },
    fires: [],
  },
];

describeAlertCases('ZooKeeper alerts of a 3-member ensemble (promtool)', () => render(), [
  ...zooKeeperCases,
  ...sharedAlertCases({ namespace: NS, statefulSet: 'zk', claim: 'data-zk-1', extraLabels: team }),
]);

describeAlertCases('ZooKeeper alerts of a 5-member ensemble with a transaction-log volume (promtool)', () => render({
  replicas: 5,
  transactionLogStorage: Storage.persistent({ size: Size.gibibytes(1) }),
}), [
  {
    name: 'three of five members down: fires',
    alert: 'ZooKeeperQuorumLost', at: '10m',
    series: { ...up(0, '0x20'), ...up(1, '1x20'), ...up(2, '0x20'), ...up(3, '0x20'), ...up(4, '1x20') },
    fires: [{ ...ensemble, severity: 'critical', ...team }],
  },
  {
    name: 'two of five members down: silent',
    alert: 'ZooKeeperQuorumLost', at: '10m',
    series: { ...up(0, '0x20'), ...up(1, '1x20'), ...up(2, '0x20'), ...up(3, '1x20'), ...up(4, '1x20') },
    fires: [],
  },
  {
    name: 'the leader has three synced followers of four: fires',
    alert: 'ZooKeeperFollowersBelowExpected', at: '10m',
    series: { [series('synced_followers', member(0))]: '3x20' },
    fires: [{ ...member(0), severity: 'warning', ...team }],
  },
  {
    name: 'four synced followers: silent',
    alert: 'ZooKeeperFollowersBelowExpected', at: '10m',
    series: { [series('synced_followers', member(0))]: '4x20' },
    fires: [],
  },
  ...zooKeeperCases.filter((c) => ['ZooKeeperMemberDown', 'ZooKeeperNoLeader'].includes(c.alert)),
  // the transaction-log claim is watched like the data claim
  ...sharedAlertCases({ namespace: NS, statefulSet: 'zk', claim: 'datalog-zk-4', extraLabels: team }),
]);

describeAlertCases('ZooKeeper alerts of a standalone member on ephemeral storage (promtool)', () => render({
  replicas: 1,
  storage: Storage.ephemeral(),
}), [
  ...zooKeeperCases.filter((c) => c.alert === 'ZooKeeperMemberDown'),
  ...sharedAlertCases({ namespace: NS, statefulSet: 'zk', extraLabels: team }),
]);
