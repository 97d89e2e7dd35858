import { Chart, Duration, Testing } from 'cdk8s';
import { MongoReplicaSet, MongoReplicaSetProps } from '../../src';
import { scraped, series, sharedAlertCases } from '../support/alert-cases';
import { AlertCase, describeAlertCases, Labels } from '../support/promtool';

// The MongoDB rules evaluated by promtool on percona mongodb_exporter series
// (--compatible-mode names, see src/mongodb/alerts.ts) as the ServiceMonitor
// scrapes them. MongoDB cannot run here, so these names rest on the
// exporter's source; the scenarios prove what the rules do with them.

const NS = 'db';

function render(props: MongoReplicaSetProps = {}): any[] {
  const chart = new Chart(Testing.app(), 'c', { namespace: NS });
  new MongoReplicaSet(chart, 'mongo', { name: 'mongo', monitoring: {}, ...props });
  return Testing.synth(chart);
}

function member(ordinal: number, name = 'mongo'): Labels {
  return scraped(NS, name, ordinal, 'metrics', 9216);
}

const up = (ordinal: number, v: string, name = 'mongo') => ({ [series('mongodb_up', member(ordinal, name))]: v });
const state = (ordinal: number, v: string) => ({ [series('mongodb_mongod_replset_my_state', { ...member(ordinal), set: 'rs0' })]: v });
const lag = (ordinal: number, seconds: number) => ({
  [series('mongodb_mongod_replset_member_replication_lag', { ...member(0), name: `mongo-${ordinal}.mongo-headless.db.svc.cluster.local:27017`, set: 'rs0', state: 'SECONDARY' })]: `${seconds}x30`,
});

const mongoCases: AlertCase[] = [
  {
    name: 'one of three data members down for 5 minutes: fires',
    alert: 'MongoMemberDown', at: '5m',
    series: { ...up(0, '1x20'), ...up(1, '1x20'), ...up(2, '0x20') },
    fires: [{ severity: 'warning' }],
  },
  {
    name: 'no exporter scraped at all: fires',
    alert: 'MongoMemberDown', at: '5m',
    series: up(0, '1x20', 'other'),
    fires: [{ severity: 'warning' }],
  },
  {
    name: 'every data member up, another set\'s member down: silent',
    alert: 'MongoMemberDown', at: '5m',
    series: { ...up(0, '1x20'), ...up(1, '1x20'), ...up(2, '1x20'), ...up(0, '0x20', 'other') },
    fires: [],
  },
  {
    name: 'every member SECONDARY (state 2) for 2 minutes: fires',
    alert: 'MongoNoPrimary', at: '3m',
    series: { ...state(0, '2x20'), ...state(1, '2x20'), ...state(2, '2x20') },
    fires: [{ severity: 'critical' }],
  },
  {
    name: 'member 1 PRIMARY (state 1): silent',
    alert: 'MongoNoPrimary', at: '3m',
    series: { ...state(0, '2x20'), ...state(1, '1x20'), ...state(2, '2x20') },
    fires: [],
  },
  {
    name: 'member 2 two minutes behind for 10 minutes: fires for it',
    alert: 'MongoReplicationLag', at: '11m',
    series: { ...lag(1, 5), ...lag(2, 120) },
    fires: [{ name: 'mongo-2.mongo-headless.db.svc.cluster.local:27017', severity: 'warning' }],
  },
  {
    name: 'members 30 s behind: silent',
    alert: 'MongoReplicationLag', at: '11m',
    series: { ...lag(1, 30), ...lag(2, 30) },
    fires: [],
  },
];

describeAlertCases('MongoDB alerts of a monitored replica set with backups (promtool)', () => render({ backup: { maxAge: Duration.hours(30) } }), [
  ...mongoCases,
  ...sharedAlertCases({ namespace: NS, statefulSet: 'mongo', claim: 'data-mongo-0', backup: { cronJobs: ['mongo-backup'], maxAgeHours: 30 } }),
]);

describeAlertCases('MongoDB alerts of two data members and an arbiter (promtool)', () => render({ replicas: 2, arbiter: true }), [
  {
    name: 'both data members up while the arbiter\'s exporter reports 0: silent',
    alert: 'MongoMemberDown', at: '5m',
    series: { ...up(0, '1x20'), ...up(1, '1x20'), ...up(2, '0x20') },
    fires: [],
  },
  {
    name: 'one data member down: fires',
    alert: 'MongoMemberDown', at: '5m',
    series: { ...up(0, '1x20'), ...up(1, '0x20'), ...up(2, '0x20') },
    fires: [{ severity: 'warning' }],
  },
  ...mongoCases.filter((c) => c.alert !== 'MongoMemberDown'),
  ...sharedAlertCases({ namespace: NS, statefulSet: 'mongo', claim: 'data-mongo-1' }),
]);

describe('MongoDB backup age alert', () => {
  test('backup.maxAge becomes the threshold of BackupTooOld on the mongodump CronJob, and must be a Duration', () => {
    // GIVEN / WHEN a monitored set whose backups may be 30 hours old
    const objects = render({ backup: { maxAge: Duration.hours(30) } });
    // THEN the alert watches the CronJob the set renders, with 30 hours as threshold
    const cronJob = objects.find((o) => o.kind === 'CronJob').metadata.name;
    const rule = objects.find((o) => o.kind === 'PrometheusRule').spec.groups.flatMap((g: any) => g.rules).find((r: any) => r.alert === 'BackupTooOld');
    expect(rule.expr).toContain(`cronjob=~"${cronJob}"`);
    expect(rule.annotations.summary).toBe('No backup of db/mongo succeeded in the last 30 hours');
    expect(() => render({ backup: { maxAge: '30h' as any } })).toThrow(
      "MongoReplicaSet 'c/mongo': backup.maxAge must be a Duration such as Duration.hours(48), got the string '30h'",
    );
  });
});
