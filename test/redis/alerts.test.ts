import { Chart, Duration, Testing } from 'cdk8s';
import { MonitoringOptions, RedisCluster, RedisClusterProps } from '../../src';
import { scraped, series, sharedAlertCases } from '../support/alert-cases';
import { alertsOf, AlertCase, describeAlertCases, describeWithPromtool, Labels, testRules } from '../support/promtool';

// The Redis rules evaluated by promtool on redis_exporter series as the
// ServiceMonitor scrapes them. The exporter serves redis_up,
// redis_cluster_state, redis_cluster_slots_ok, redis_cluster_slots_fail,
// redis_connected_slaves, redis_memory_used_bytes, redis_memory_max_bytes and
// redis_rejected_connections_total without labels of their own, and
// redis_instance_info with the INFO server fields as labels (role,
// redis_mode, redis_version, ...), as Debian's prometheus-redis-exporter 1.45
// serves them beside a cluster-mode redis-server; test/e2e/redis-ops.test.ts
// checks that every metric the rules read is served by a real cluster.

const NS = 'cache';
const MIB = 1024 * 1024;

function render(props: RedisClusterProps = {}): any[] {
  const chart = new Chart(Testing.app(), 'c', { namespace: NS });
  new RedisCluster(chart, 'cache', { name: 'cache', monitoring: {}, ...props });
  return Testing.synth(chart);
}

function build(monitoring: MonitoringOptions, props: RedisClusterProps = {}): () => RedisCluster {
  return () => new RedisCluster(new Chart(Testing.app(), 'c', { namespace: NS }), 'cache', { name: 'cache', monitoring, ...props });
}

/** Labels of the exporter series of node `ordinal` of cluster `name`. */
function node(ordinal: number, name = 'cache'): Labels {
  return scraped(NS, name, ordinal, 'exporter', 9121);
}

const cluster = { namespace: NS, job: 'cache-headless' };
const gauge = (metric: string, ordinal: number, v: string, name = 'cache') => ({ [series(metric, node(ordinal, name))]: v });
const up = (ordinal: number, v: string, name = 'cache') => gauge('redis_up', ordinal, v, name);
const upAll = (nodes: number, v = '1x20') => Object.assign({}, ...Array.from({ length: nodes }, (_, i) => up(i, v)));
/** redis_instance_info of a node, with the INFO server fields the exporter makes labels. */
const info = (ordinal: number, role: 'master' | 'slave') => ({
  [series('redis_instance_info', {
    ...node(ordinal), maxmemory_policy: 'noeviction', os: 'Linux 6.1.0-18-amd64 x86_64', process_id: '1', redis_build_id: 'ae4d7c971a948f0',
    redis_mode: 'cluster', redis_version: '7.2.7', role, run_id: `7c3f0b1e9a${ordinal}d2c4e6f8a0b1c3d5e7f9a1b3c5d7e9f1a3`, tcp_port: '6379',
  })]: '1x20',
});
/** Node `ordinal`'s memory: `usedMib` of `maxMib` (maxmemory; 0 = unset). */
const memory = (ordinal: number, usedMib: number, maxMib: number) => ({
  ...gauge('redis_memory_used_bytes', ordinal, `${usedMib * MIB}x20`), ...gauge('redis_memory_max_bytes', ordinal, `${maxMib * MIB}x20`),
});
const rejected = (ordinal: number, values: string) => gauge('redis_rejected_connections_total', ordinal, values);

const redisCases: AlertCase[] = [
  {
    name: 'cluster_state 0 on node 2 for 5 minutes: fires for it',
    alert: 'RedisClusterStateNotOk', at: '5m',
    series: { ...gauge('redis_cluster_state', 0, '1x20'), ...gauge('redis_cluster_state', 2, '0x20') },
    fires: [{ ...node(2), severity: 'critical' }],
  },
  {
    name: 'cluster_state 1 everywhere, 0 in another cluster: silent',
    alert: 'RedisClusterStateNotOk', at: '5m',
    series: { ...gauge('redis_cluster_state', 0, '1x20'), ...gauge('redis_cluster_state', 1, '1x20'), ...gauge('redis_cluster_state', 0, '0x20', 'other') },
    fires: [],
  },
  {
    name: 'node 0 sees 10923 slots ok and 5461 failing (a master lost) for 5 minutes: fires once for it',
    alert: 'RedisClusterSlotsNotOk', at: '5m',
    series: { ...gauge('redis_cluster_slots_ok', 0, '10923x20'), ...gauge('redis_cluster_slots_fail', 0, '5461x20') },
    fires: [{ ...node(0), severity: 'critical' }],
  },
  {
    name: 'node 1 sees 5461 slots unassigned (none failing): fires for it',
    alert: 'RedisClusterSlotsNotOk', at: '5m',
    series: { ...gauge('redis_cluster_slots_ok', 1, '10923x20'), ...gauge('redis_cluster_slots_fail', 1, '0x20') },
    fires: [{ ...node(1), severity: 'critical' }],
  },
  {
    name: 'every slot ok here, another cluster\'s slots failing: silent',
    alert: 'RedisClusterSlotsNotOk', at: '5m',
    series: {
      ...gauge('redis_cluster_slots_ok', 0, '16384x20'), ...gauge('redis_cluster_slots_fail', 0, '0x20'),
      ...gauge('redis_cluster_slots_ok', 0, '10923x20', 'other'), ...gauge('redis_cluster_slots_fail', 0, '5461x20', 'other'),
    },
    fires: [],
  },
  {
    name: 'node 3 at 650 of 683 MiB maxmemory (95%) for 15 minutes: fires for it',
    alert: 'RedisMemoryNearMax', at: '15m',
    series: { ...memory(0, 100, 683), ...memory(3, 650, 683) },
    fires: [{ ...node(3), severity: 'warning' }],
  },
  {
    name: 'node 3 at 550 of 683 MiB (80%), a node without maxmemory using 900 MiB: silent',
    alert: 'RedisMemoryNearMax', at: '15m',
    series: { ...memory(3, 550, 683), ...memory(4, 900, 0) },
    fires: [],
  },
  {
    name: 'node 1 rejects 3 connections a minute (maxclients reached) for 10 minutes: fires for it',
    alert: 'RedisRejectedConnections', at: '10m',
    series: { ...rejected(0, '0x20'), ...rejected(1, '0+3x20') },
    fires: [{ ...node(1), severity: 'warning' }],
  },
  {
    name: 'node 1 rejected 12 connections long ago, none since: silent',
    alert: 'RedisRejectedConnections', at: '10m',
    series: { ...rejected(0, '0x20'), ...rejected(1, '12x20') },
    fires: [],
  },
];

const replicaCases: AlertCase[] = [
  {
    name: 'master node 1 without its replica for 15 minutes: fires for it',
    alert: 'RedisMasterWithoutReplica', at: '15m',
    series: {
      ...info(0, 'master'), ...gauge('redis_connected_slaves', 0, '1x20'),
      ...info(1, 'master'), ...gauge('redis_connected_slaves', 1, '0x20'),
    },
    fires: [{ ...node(1), severity: 'warning' }],
  },
  {
    name: 'every master with its replica, the replicas themselves without (as replicas are): silent',
    alert: 'RedisMasterWithoutReplica', at: '15m',
    series: {
      ...info(0, 'master'), ...gauge('redis_connected_slaves', 0, '1x20'),
      ...info(3, 'slave'), ...gauge('redis_connected_slaves', 3, '0x20'),
    },
    fires: [],
  },
];

const nodeDownCases = (nodes: number): AlertCase[] => [
  {
    name: `node 4 with redis_up 0 for 5 minutes (${nodes - 1} of ${nodes} up): fires`,
    alert: 'RedisNodeDown', at: '5m',
    series: { ...upAll(nodes), ...up(4, '0x20') },
    fires: [{ ...cluster, severity: 'critical' }],
  },
  {
    name: 'node 2 not scraped at all (its pod gone): fires',
    alert: 'RedisNodeDown', at: '5m',
    series: Object.fromEntries(Object.entries(upAll(nodes)).filter(([s]) => !s.includes('pod="cache-2"'))),
    fires: [{ ...cluster, severity: 'critical' }],
  },
  {
    name: 'no node of this cluster scraped: fires',
    alert: 'RedisNodeDown', at: '5m',
    series: up(0, '1x20', 'other'),
    fires: [{ ...cluster, severity: 'critical' }],
  },
  {
    name: `all ${nodes} nodes up, another cluster's node down: silent`,
    alert: 'RedisNodeDown', at: '5m',
    series: { ...upAll(nodes), ...up(0, '0x20', 'other') },
    fires: [],
  },
];

describeAlertCases('Redis alerts of a monitored 3 × 1 cluster with backups (promtool)', () => render({ backup: {} }), [
  ...nodeDownCases(6),
  ...redisCases,
  ...replicaCases,
  ...sharedAlertCases({ namespace: NS, statefulSet: 'cache', claim: 'data-cache-5', backup: { cronJobs: ['cache-backup'], maxAgeHours: 48 } }),
]);

describeAlertCases('Redis alerts of a monitored cluster of 5 masters without replicas (promtool)', () => render({ masters: 5, replicasPerMaster: 0 }), [
  ...nodeDownCases(5),
  ...redisCases,
  ...sharedAlertCases({ namespace: NS, statefulSet: 'cache', claim: 'data-cache-4' }),
]);

describeWithPromtool('Redis thresholds, as promtool sees them', () => {
  test('a threshold override of RedisMemoryNearMax at 75%: 80% of maxmemory fires, and the summary says 75%', () => {
    const objects = render({ monitoring: { alertOverrides: { RedisMemoryNearMax: { threshold: 75 } } } });
    const r = testRules(objects, [{
      name: 'node 3 at 550 of 683 MiB, threshold 75%', alert: 'RedisMemoryNearMax', at: '15m', series: memory(3, 550, 683), fires: [{ ...node(3), severity: 'warning' }],
    }]);
    expect(r.ok || r.output).toBe(true);
    expect(alertsOf(objects).get('RedisMemoryNearMax').annotations.summary).toBe('Redis node {{ $labels.pod }} of cache/cache uses over 75% of maxmemory');
  });

  test('a threshold override of RedisRejectedConnections at 20 tolerates 15 rejections in 5 minutes; the default does not', () => {
    const few = { name: 'node 1 rejects 3 connections a minute', alert: 'RedisRejectedConnections', at: '10m', series: rejected(1, '0+3x20') };
    const byDefault = testRules(render(), [{ ...few, fires: [{ ...node(1), severity: 'warning' }] }]);
    const at20 = testRules(render({ monitoring: { alertOverrides: { RedisRejectedConnections: { threshold: 20 } } } }), [{ ...few, fires: [] }]);
    expect({ byDefault: byDefault.ok || byDefault.output, at20: at20.ok || at20.output }).toEqual({ byDefault: true, at20: true });
  });

  test('backup.maxAge is BackupTooOld\'s threshold: 30 hours fires 31 hours after the last good set', () => {
    const objects = render({ backup: { maxAge: Duration.hours(30) } });
    const r = testRules(objects, sharedAlertCases({ namespace: NS, statefulSet: 'cache', backup: { cronJobs: ['cache-backup'], maxAgeHours: 30 } })
      .filter((c) => c.alert === 'BackupTooOld'));
    expect(r.ok || r.output).toBe(true);
  });
});

describe('Redis alert options are checked at construction', () => {
  test('a threshold outside the rule\'s range names the construct, the property, the range and the unit', () => {
    expect(build({ alertOverrides: { RedisMemoryNearMax: { threshold: 0.9 } } })).toThrow(
      "RedisCluster 'c/cache': monitoring.alertOverrides 'RedisMemoryNearMax' threshold must be a number from 1 to 100 (percent of maxmemory), got 0.9",
    );
    expect(build({ alertOverrides: { RedisRejectedConnections: { threshold: -1 } } })).toThrow(
      "RedisCluster 'c/cache': monitoring.alertOverrides 'RedisRejectedConnections' threshold must be a number >= 0 (connections rejected in 5 minutes), got -1",
    );
  });

  test('RedisNodeDown has no threshold (the node count is the cluster\'s): an override lists the alerts that have one', () => {
    expect(build({ alertOverrides: { RedisNodeDown: { threshold: 5 } } })).toThrow(
      "RedisCluster 'c/cache': monitoring.alertOverrides 'RedisNodeDown' threshold cannot be set: 'RedisNodeDown' has no threshold; "
      + 'alerts with one: RedisMemoryNearMax, RedisRejectedConnections, VolumeFillingUp, VolumeAlmostFull',
    );
  });

  test('RedisBackupTooOld is gone (the shared BackupTooOld replaces it): naming it lists the alerts there are', () => {
    expect(build({ disabledAlerts: ['RedisBackupTooOld'] }, { replicasPerMaster: 0, backup: {} })).toThrow(
      "RedisCluster 'c/cache': monitoring.disabledAlerts names 'RedisBackupTooOld', which is not an alert of this workload; the alerts are: "
      + 'RedisNodeDown, RedisClusterStateNotOk, RedisClusterSlotsNotOk, RedisMemoryNearMax, RedisRejectedConnections, StatefulSetReplicasMismatch, '
      + 'StatefulSetGenerationMismatch, StatefulSetUpdateNotRolledOut, VolumeFillingUp, VolumeAlmostFull, BackupTooOld',
    );
  });
});
