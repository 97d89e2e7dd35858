// The PrometheusRule of a MySqlReplicaSet with `monitoring`, on the metrics of
// the mysqld_exporter sidecar (names checked against its
// collector/slave_status.go, global_status.go, global_variables.go and
// exporter.go, and against Debian's 0.14 beside real MariaDB servers in
// test/e2e/mysql-ops.test.ts):
// - `mysql_up`: 1 while the exporter reaches its server;
// - `mysql_slave_status_<column>`: one series per column of SHOW [ALL] SLAVES
//   STATUS, lower-cased; Yes/No become 1/0 and NULL is left out. MariaDB and
//   the SHOW SLAVE STATUS of older MySQL name them slave_io_running,
//   slave_sql_running and seconds_behind_master; exporters that read MySQL
//   8.4's SHOW REPLICA STATUS get replica_io_running, replica_sql_running and
//   seconds_behind_source: the rules accept either;
// - `mysql_global_status_threads_connected`, `mysql_global_variables_max_connections`.
// Ordinal 0 is the primary, so the replication rules read the other ordinals.
// The shared StatefulSet, volume and backup alerts are added by the core.
import { Duration } from 'cdk8s';
import { displayName, scrapeSelector } from '../core/alerts';
import { WorkloadIdentity } from '../core/identity';
import { AlertRule } from '../core/monitoring';

/**
 * Member down; with replicas, replication stopped or lagging; connections
 * near max_connections. `maxLagSeconds` (the readiness limit,
 * `maxReplicaLag`) is the lag alert's default threshold.
 */
export function mysqlAlerts(identity: WorkloadIdentity, replicas: number, maxLagSeconds: number): AlertRule[] {
  const all = scrapeSelector(identity);
  const replicasSel = `${all}, pod=~"${identity.name}-[1-9][0-9]*"`;
  const either = (a: string, b: string) => `(mysql_slave_status_${a}{${replicasSel}} or mysql_slave_status_${b}{${replicasSel}})`;
  const set = displayName(identity.namespaceName, identity.name);
  const down: AlertRule = {
    name: 'MySQLDown', severity: 'critical', pendingFor: Duration.minutes(1),
    expr: `mysql_up{${all}} == 0 or absent(mysql_up{${all}})`,
    summary: `A member of MySQL replica set ${set} does not answer its exporter, or no member is scraped`,
    description: 'With a `pod` label: the exporter beside that member cannot query its server; on the primary (ordinal 0) writes fail, a replica drops out of the read Service. '
      + 'Without one: no member of the set is scraped at all (every pod down, or Prometheus does not select the ServiceMonitor).',
  };
  const connections: AlertRule = {
    name: 'MySQLTooManyConnections', severity: 'warning', pendingFor: Duration.minutes(5),
    threshold: { value: 90, unit: 'percent of max_connections', min: 1, max: 100 },
    expr: `max by (namespace, pod) (mysql_global_status_threads_connected{${all}}) > $threshold / 100 * max by (namespace, pod) (mysql_global_variables_max_connections{${all}})`,
    summary: `MySQL {{ $labels.pod }} of ${set} uses over $threshold% of max_connections`,
    description: 'New connections will soon be refused. Look for connection leaks, add a pooler, or raise maxConnections.',
  };
  if (replicas === 1) return [down, connections];
  return [
    down,
    {
      name: 'MySQLReplicationStopped', severity: 'critical', pendingFor: Duration.minutes(2),
      expr: `mysql_up{${replicasSel}} == 1 unless on (namespace, pod) (${either('slave_io_running', 'replica_io_running')} == 1`
        + ` and on (namespace, pod) ${either('slave_sql_running', 'replica_sql_running')} == 1)`,
      summary: `Replication is stopped on replica {{ $labels.pod }} of ${set}`,
      description: 'Its IO thread (connection to the primary) or SQL thread (applying changes) does not run, or replication was never set up, so it serves ever staler data and is not Ready. SHOW REPLICA STATUS shows Last_IO_Error / Last_SQL_Error.',
    },
    {
      name: 'MySQLReplicationLag', severity: 'warning', pendingFor: Duration.minutes(5),
      threshold: { value: maxLagSeconds, unit: 'seconds behind the primary', min: 1 },
      expr: `max by (namespace, pod) ${either('seconds_behind_master', 'seconds_behind_source')} > $threshold`,
      summary: `Replica {{ $labels.pod }} of ${set} is more than $threshold s behind the primary`,
      description: 'A replica lagging more than maxReplicaLag (the default threshold) is not Ready, so reads go to the others. Check its disk and CPU, long transactions on the primary, and the SQL thread\'s state.',
    },
    connections,
  ];
}
