import { Chart, Testing } from 'cdk8s';
import { PostgresReplicaSet, PostgresReplicaSetProps } from '../../src';
import { scraped, series, sharedAlertCases } from '../support/alert-cases';
import { AlertCase, describeAlertCases, Labels } from '../support/promtool';

// The PostgreSQL rules evaluated by promtool on postgres_exporter series as
// the ServiceMonitor scrapes them (label names as the exporter serves them:
// application_name, client_addr, slot_name, state for pg_stat_replication;
// slot_name, database for pg_replication_slots; datname, state for
// pg_stat_activity_count; test/e2e/postgres.test.ts checks a real exporter
// serves every metric the rules use).

const NS = 'shop';
const MIB = 1024 * 1024;

function render(props: PostgresReplicaSetProps = {}): any[] {
  const chart = new Chart(Testing.app(), 'c', { namespace: NS });
  new PostgresReplicaSet(chart, 'pg', { name: 'pg', monitoring: {}, ...props });
  return Testing.synth(chart);
}

/** Labels of the exporter series of member `ordinal` of set `name`. */
function member(ordinal: number, name = 'pg'): Labels {
  return scraped(NS, name, ordinal, 'exporter', 9187);
}

const standby2 = { ...member(0), application_name: 'pg-2', client_addr: '10.244.0.12', slot_name: 'standby_2', state: 'streaming' };
// the exporter serves database="" for a physical slot; Prometheus drops empty labels
const slot1 = { ...member(0), slot_name: 'standby_1' };
const activity = (state: string, n: number) => ({ [series('pg_stat_activity_count', { ...member(0), datname: 'shop', state })]: `${n}x20` });

const postgresCases: AlertCase[] = [
  {
    name: 'pg_up 0 on member 1 for 5 minutes: fires for it',
    alert: 'PostgresInstanceDown', at: '5m',
    series: { [series('pg_up', member(0))]: '1x20', [series('pg_up', member(1))]: '0x20', [series('pg_up', member(2))]: '1x20' },
    fires: [{ ...member(1), severity: 'critical' }],
  },
  {
    name: 'every member up, another set\'s member down: silent',
    alert: 'PostgresInstanceDown', at: '5m',
    series: { [series('pg_up', member(0))]: '1x20', [series('pg_up', member(1))]: '1x20', [series('pg_up', member(0, 'other'))]: '0x20' },
    fires: [],
  },
  {
    name: 'standby pg-2 300 MiB behind for 10 minutes: fires for it',
    alert: 'PostgresReplicationLagHigh', at: '10m',
    series: { [series('pg_stat_replication_pg_wal_lsn_diff', standby2)]: `${300 * MIB}x20` },
    fires: [{ ...standby2, severity: 'warning' }],
  },
  {
    name: 'standby pg-2 200 MiB behind: silent',
    alert: 'PostgresReplicationLagHigh', at: '10m',
    series: { [series('pg_stat_replication_pg_wal_lsn_diff', standby2)]: `${200 * MIB}x20` },
    fires: [],
  },
  {
    name: 'slot standby_1 holds 4.5 GiB of the 5 GiB max_slot_wal_keep_size for 15 minutes: fires',
    alert: 'PostgresSlotWalRetained', at: '15m',
    series: { [series('pg_replication_slots_pg_wal_lsn_diff', slot1)]: `${4608 * MIB}x20` },
    fires: [{ ...slot1, severity: 'warning' }],
  },
  {
    name: 'slot standby_1 holds 3.5 GiB (70%): silent',
    alert: 'PostgresSlotWalRetained', at: '15m',
    series: { [series('pg_replication_slots_pg_wal_lsn_diff', slot1)]: `${3584 * MIB}x20` },
    fires: [],
  },
  {
    name: '95 of 100 connections in use on the primary: fires for it',
    alert: 'PostgresConnectionsNearMax', at: '10m',
    series: { ...activity('active', 50), ...activity('idle', 45), [series('pg_settings_max_connections', member(0))]: '100x20' },
    fires: [{ namespace: NS, pod: 'pg-0', severity: 'warning' }],
  },
  {
    name: '80 of 100 connections: silent',
    alert: 'PostgresConnectionsNearMax', at: '10m',
    series: { ...activity('active', 40), ...activity('idle', 40), [series('pg_settings_max_connections', member(0))]: '100x20' },
    fires: [],
  },
];

describeAlertCases('PostgreSQL alerts of a monitored set (promtool)', () => render(), [
  ...postgresCases,
  ...sharedAlertCases({ namespace: NS, statefulSet: 'pg', claim: 'data-pg-1' }),
]);

describeAlertCases('PostgreSQL alerts of a monitored set with backups (promtool)', () => render({ image: 'registry.example.com/postgres-pgbackrest:18.3', backup: {} }), [
  ...postgresCases,
  ...sharedAlertCases({ namespace: NS, statefulSet: 'pg', claim: 'data-pg-2', backup: { cronJobs: ['pg-backup-full', 'pg-backup-diff'], maxAgeHours: 48 } }),
]);
