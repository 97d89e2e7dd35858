// The PrometheusRule of a PostgresReplicaSet with `monitoring`, on the
// metrics of the postgres_exporter sidecar (its built-in collectors, served
// by every release since 0.8 and checked against the running exporter by
// test/e2e/postgres.test.ts):
// - `pg_up`: 1 while the exporter can query the server;
// - `pg_stat_replication_pg_wal_lsn_diff{application_name}`: on the primary,
//   bytes of WAL each standby has still to replay;
// - `pg_replication_slots_pg_wal_lsn_diff{slot_name}`: bytes of WAL a slot holds back;
// - `pg_stat_activity_count{datname,state}` and `pg_settings_max_connections`.
// The shared StatefulSet, volume and backup alerts are added by the core.
import { Duration } from 'cdk8s';
import { displayName, scrapeSelector } from '../core/alerts';
import { WorkloadIdentity } from '../core/identity';
import { AlertRule } from '../core/monitoring';

/** Alerts on the exporter's metrics, scoped to the series this set's ServiceMonitor scrapes. */
export function postgresAlerts(identity: WorkloadIdentity, maxSlotWalKeepMebibytes: number): AlertRule[] {
  const sel = scrapeSelector(identity);
  const set = displayName(identity.namespaceName, identity.name);
  return [
    {
      name: 'PostgresInstanceDown', severity: 'critical', pendingFor: Duration.minutes(1),
      expr: `pg_up{${sel}} == 0`,
      summary: `PostgreSQL {{ $labels.pod }} of ${set} does not answer its exporter`,
      description: 'The exporter runs beside the server but cannot query it. On the primary writes fail; on a standby reads move to the others.',
    },
    {
      name: 'PostgresReplicationLagHigh', severity: 'warning', pendingFor: Duration.minutes(5),
      threshold: { value: 256, unit: 'MiB of WAL not yet replayed', min: 1 },
      expr: `pg_stat_replication_pg_wal_lsn_diff{${sel}} > $threshold * 1048576`,
      summary: `Standby {{ $labels.application_name }} of ${set} replays more than $threshold MiB of WAL behind the primary`,
      description: 'Reads from it are stale. Check the standby\'s resources, its disk and its WAL receiver (pg_stat_wal_receiver).',
    },
    {
      name: 'PostgresSlotWalRetained', severity: 'warning', pendingFor: Duration.minutes(10),
      threshold: { value: 80, unit: 'percent of max_slot_wal_keep_size', min: 1, max: 100 },
      expr: `pg_replication_slots_pg_wal_lsn_diff{${sel}} > $threshold / 100 * ${maxSlotWalKeepMebibytes * 1048576}`,
      summary: `Replication slot {{ $labels.slot_name }} on ${set} retains over $threshold% of max_slot_wal_keep_size`,
      description: 'A standby is down or far behind; once the limit is passed its slot is invalidated and it must bootstrap again.',
    },
    {
      name: 'PostgresConnectionsNearMax', severity: 'warning', pendingFor: Duration.minutes(5),
      threshold: { value: 90, unit: 'percent of max_connections', min: 1, max: 100 },
      expr: `sum by (namespace, pod) (pg_stat_activity_count{${sel}}) > $threshold / 100 * max by (namespace, pod) (pg_settings_max_connections{${sel}})`,
      summary: `PostgreSQL {{ $labels.pod }} of ${set} uses over $threshold% of max_connections`,
      description: 'New connections will soon be refused. Look for connection leaks or add a pooler (PgBouncer).',
    },
  ];
}
