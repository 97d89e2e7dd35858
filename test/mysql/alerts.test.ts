import { Chart, Duration, Testing } from 'cdk8s';
import { MonitoringOptions, MySqlReplicaSet, MySqlReplicaSetProps } from '../../src';
import { scraped, series, sharedAlertCases } from '../support/alert-cases';
import { alertsOf, AlertCase, describeAlertCases, describeWithPromtool, Labels, testRules } from '../support/promtool';

// The MySQL rules evaluated by promtool on mysqld_exporter series as the
// ServiceMonitor scrapes them. The exporter serves mysql_up,
// mysql_global_status_threads_connected and
// mysql_global_variables_max_connections without labels of their own, and
// each SHOW SLAVE STATUS column as mysql_slave_status_<column> with
// master_host, master_uuid, channel_name and connection_name (Prometheus
// drops the empty ones: MariaDB's default connection keeps master_host only).
// test/e2e/mysql-ops.test.ts shows Debian's mysqld_exporter 0.14 serving
// every metric the rules read beside real MariaDB servers. The replica_* /
// seconds_behind_source names of MySQL 8.4's SHOW REPLICA STATUS rest on the
// exporter's source (MySQL 8.4 cannot run here).

const NS = 'shop';

function render(props: MySqlReplicaSetProps = {}): any[] {
  const chart = new Chart(Testing.app(), 'c', { namespace: NS });
  new MySqlReplicaSet(chart, 'db', { name: 'db', monitoring: {}, ...props });
  return Testing.synth(chart);
}

function build(monitoring: MonitoringOptions, props: MySqlReplicaSetProps = {}): () => MySqlReplicaSet {
  return () => new MySqlReplicaSet(new Chart(Testing.app(), 'c', { namespace: NS }), 'db', { name: 'db', monitoring, ...props });
}

/** Labels of the exporter series of member `ordinal` of set `name`. */
function member(ordinal: number, name = 'db'): Labels {
  return scraped(NS, name, ordinal, 'exporter', 9104);
}

/** The primary's FQDN, which a replica's Master_Host names. */
const primaryHost = (name = 'db') => `${name}-0.${name}-headless.${NS}.svc.cluster.local`;
const up = (ordinal: number, v: string, name = 'db') => ({ [series('mysql_up', member(ordinal, name))]: v });
const allUp = { ...up(0, '1x20'), ...up(1, '1x20'), ...up(2, '1x20') };
/** A replica's SHOW SLAVE STATUS series (MariaDB, or `mysql84` for SHOW REPLICA STATUS names). */
function slave(ordinal: number, io: number, sql: number, behind: number | undefined, opts: { name?: string; mysql84?: boolean } = {}): { [s: string]: string } {
  const labels = { ...member(ordinal, opts.name), master_host: primaryHost(opts.name), ...(opts.mysql84 ? { master_uuid: '3e11fa47-71ca-11e1-9e33-c80aa9429562' } : {}) };
  const [ioName, sqlName, lagName] = opts.mysql84
    ? ['replica_io_running', 'replica_sql_running', 'seconds_behind_source']
    : ['slave_io_running', 'slave_sql_running', 'seconds_behind_master'];
  return {
    [series(`mysql_slave_status_${ioName}`, labels)]: `${io}x20`,
    [series(`mysql_slave_status_${sqlName}`, labels)]: `${sql}x20`,
    // NULL while the SQL thread is stopped: the exporter leaves it out
    ...(behind === undefined ? {} : { [series(`mysql_slave_status_${lagName}`, labels)]: `${behind}x20` }),
  };
}
const connections = (ordinal: number, used: number, max = 200) => ({
  [series('mysql_global_status_threads_connected', member(ordinal))]: `${used}x20`,
  [series('mysql_global_variables_max_connections', member(ordinal))]: `${max}x20`,
});

const mysqlDownCases: AlertCase[] = [
  {
    name: 'member 1 answers its exporter with mysql_up 0 for 5 minutes: fires for it',
    alert: 'MySQLDown', at: '5m',
    series: { ...up(0, '1x20'), ...up(1, '0x20'), ...up(2, '1x20') },
    fires: [{ ...member(1), severity: 'critical' }],
  },
  {
    name: 'no member of this set scraped at all: fires without a pod',
    alert: 'MySQLDown', at: '5m',
    series: up(0, '1x20', 'other'),
    fires: [{ job: 'db-headless', namespace: NS, severity: 'critical' }],
  },
  {
    name: 'every member up, another set\'s member down: silent',
    alert: 'MySQLDown', at: '5m',
    series: { ...allUp, ...up(0, '0x20', 'other') },
    fires: [],
  },
];

const connectionCases: AlertCase[] = [
  {
    name: '190 of 200 connections on the primary for 10 minutes: fires for it',
    alert: 'MySQLTooManyConnections', at: '10m',
    series: { ...connections(0, 190), ...connections(1, 20) },
    fires: [{ namespace: NS, pod: 'db-0', severity: 'warning' }],
  },
  {
    name: '150 of 200 connections: silent',
    alert: 'MySQLTooManyConnections', at: '10m',
    series: { ...connections(0, 150), ...connections(1, 20) },
    fires: [],
  },
];

const replicationCases: AlertCase[] = [
  {
    name: 'replica 2\'s SQL thread stopped (an SQL error) for 5 minutes: fires for it',
    alert: 'MySQLReplicationStopped', at: '5m',
    series: { ...allUp, ...slave(1, 1, 1, 0), ...slave(2, 1, 0, undefined) },
    fires: [{ ...member(2), severity: 'critical' }],
  },
  {
    name: 'replica 1 with no slave status at all (replication never set up): fires for it',
    alert: 'MySQLReplicationStopped', at: '5m',
    series: { ...allUp, ...slave(2, 1, 1, 0) },
    fires: [{ ...member(1), severity: 'critical' }],
  },
  {
    name: 'MySQL 8.4 names: replica 1\'s IO thread stopped (primary unreachable): fires for it',
    alert: 'MySQLReplicationStopped', at: '5m',
    series: { ...allUp, ...slave(1, 0, 1, undefined, { mysql84: true }), ...slave(2, 1, 1, 0, { mysql84: true }) },
    fires: [{ ...member(1), severity: 'critical' }],
  },
  {
    name: 'both replicas replicating, the primary without slave status, another set\'s replica stopped: silent',
    alert: 'MySQLReplicationStopped', at: '5m',
    series: { ...allUp, ...slave(1, 1, 1, 0), ...slave(2, 1, 1, 3), ...up(1, '1x20', 'other'), ...slave(1, 1, 0, undefined, { name: 'other' }) },
    fires: [],
  },
  {
    name: 'MySQL 8.4 names, both replicas replicating: silent',
    alert: 'MySQLReplicationStopped', at: '5m',
    series: { ...allUp, ...slave(1, 1, 1, 0, { mysql84: true }), ...slave(2, 1, 1, 0, { mysql84: true }) },
    fires: [],
  },
  {
    name: 'a replica whose server is down (mysql_up 0, MySQLDown\'s case): silent',
    alert: 'MySQLReplicationStopped', at: '5m',
    series: { ...up(0, '1x20'), ...up(1, '0x20'), ...up(2, '1x20'), ...slave(2, 1, 1, 0) },
    fires: [],
  },
  {
    name: 'replica 1 five minutes behind for 10 minutes (threshold 60 s): fires for it',
    alert: 'MySQLReplicationLag', at: '10m',
    series: { ...slave(1, 1, 1, 300), ...slave(2, 1, 1, 0) },
    fires: [{ namespace: NS, pod: 'db-1', severity: 'warning' }],
  },
  {
    name: 'MySQL 8.4 names: replica 2 five minutes behind: fires for it',
    alert: 'MySQLReplicationLag', at: '10m',
    series: { ...slave(1, 1, 1, 0, { mysql84: true }), ...slave(2, 1, 1, 300, { mysql84: true }) },
    fires: [{ namespace: NS, pod: 'db-2', severity: 'warning' }],
  },
  {
    name: 'replicas 30 s behind, another set\'s replica an hour behind: silent',
    alert: 'MySQLReplicationLag', at: '10m',
    series: { ...slave(1, 1, 1, 30), ...slave(2, 1, 1, 30), ...slave(1, 1, 1, 3600, { name: 'other' }) },
    fires: [],
  },
];

describeAlertCases('MySQL alerts of a monitored set of three with backups (promtool)', () => render({ backup: {} }), [
  ...mysqlDownCases,
  ...replicationCases,
  ...connectionCases,
  ...sharedAlertCases({ namespace: NS, statefulSet: 'db', claim: 'data-db-1', backup: { cronJobs: ['db-backup'], maxAgeHours: 48 } }),
]);

describeAlertCases('MySQL alerts of a monitored set of one (promtool)', () => render({ replicas: 1 }), [
  {
    name: 'the only member down: fires for it',
    alert: 'MySQLDown', at: '5m',
    series: up(0, '0x20'),
    fires: [{ ...member(0), severity: 'critical' }],
  },
  {
    name: 'the only member up: silent',
    alert: 'MySQLDown', at: '5m',
    series: up(0, '1x20'),
    fires: [],
  },
  ...connectionCases,
  ...sharedAlertCases({ namespace: NS, statefulSet: 'db', claim: 'data-db-0' }),
]);

describeWithPromtool('MySQL thresholds, as promtool sees them', () => {
  const lagging = (seconds: number) => ({ name: `replica 1 ${seconds} s behind`, alert: 'MySQLReplicationLag', at: '10m', series: slave(1, 1, 1, seconds) });
  const firesFor1 = [{ namespace: NS, pod: 'db-1', severity: 'warning' }];

  test('maxReplicaLag is the lag alert\'s default threshold: 2 minutes fires at 150 s behind, not at 100 s', () => {
    const objects = render({ maxReplicaLag: Duration.minutes(2) });
    const r = testRules(objects, [{ ...lagging(100), fires: [] }, { ...lagging(150), fires: firesFor1 }]);
    expect(r.ok || r.output).toBe(true);
    expect(alertsOf(objects).get('MySQLReplicationLag').annotations.summary).toBe('Replica {{ $labels.pod }} of shop/db is more than 120 s behind the primary');
  });

  test('a threshold override of MySQLReplicationLag beats maxReplicaLag: 600 s keeps 300 s behind silent', () => {
    const byDefault = testRules(render(), [{ ...lagging(300), fires: firesFor1 }]);
    const at600 = testRules(render({ monitoring: { alertOverrides: { MySQLReplicationLag: { threshold: 600 } } } }), [{ ...lagging(300), fires: [] }]);
    expect({ byDefault: byDefault.ok || byDefault.output, at600: at600.ok || at600.output }).toEqual({ byDefault: true, at600: true });
  });

  test('a threshold override of MySQLTooManyConnections at 70%: 150 of 200 fires, and the summary says 70%', () => {
    const objects = render({ monitoring: { alertOverrides: { MySQLTooManyConnections: { threshold: 70 } } } });
    const r = testRules(objects, [{
      name: '150 of 200 connections, threshold 70%', alert: 'MySQLTooManyConnections', at: '10m',
      series: connections(0, 150), fires: [{ namespace: NS, pod: 'db-0', severity: 'warning' }],
    }]);
    expect(r.ok || r.output).toBe(true);
    expect(alertsOf(objects).get('MySQLTooManyConnections').annotations.summary).toBe('MySQL {{ $labels.pod }} of shop/db uses over 70% of max_connections');
  });
});

describe('MySQL alert options are checked at construction', () => {
  test('a threshold outside the rule\'s range names the construct, the property, the range and the unit', () => {
    expect(build({ alertOverrides: { MySQLTooManyConnections: { threshold: 150 } } })).toThrow(
      "MySqlReplicaSet 'c/db': monitoring.alertOverrides 'MySQLTooManyConnections' threshold must be a number from 1 to 100 (percent of max_connections), got 150",
    );
    expect(build({ alertOverrides: { MySQLReplicationLag: { threshold: 0 } } })).toThrow(
      "MySqlReplicaSet 'c/db': monitoring.alertOverrides 'MySQLReplicationLag' threshold must be a number >= 1 (seconds behind the primary), got 0",
    );
  });

  test('MySQLBackupTooOld is gone (the shared BackupTooOld replaces it): naming it lists the alerts there are', () => {
    expect(build({ alertOverrides: { MySQLBackupTooOld: { threshold: 72 } } }, { replicas: 1, backup: {} })).toThrow(
      "MySqlReplicaSet 'c/db': monitoring.alertOverrides names 'MySQLBackupTooOld', which is not an alert of this workload; the alerts are: "
      + 'MySQLDown, MySQLTooManyConnections, StatefulSetReplicasMismatch, StatefulSetGenerationMismatch, StatefulSetUpdateNotRolledOut, '
      + 'VolumeFillingUp, VolumeAlmostFull, BackupTooOld',
    );
  });

  test('the replication alerts of a set of one do not exist, so they cannot be disabled', () => {
    expect(build({ disabledAlerts: ['MySQLReplicationLag'] }, { replicas: 1 })).toThrow(
      "MySqlReplicaSet 'c/db': monitoring.disabledAlerts names 'MySQLReplicationLag', which is not an alert of this workload",
    );
  });
});
