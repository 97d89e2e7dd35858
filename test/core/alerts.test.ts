import { Chart, Duration, Size, Testing } from 'cdk8s';
import { MonitoringOptions, PortRole, Probe, StatefulWorkload, StatefulWorkloadProps, Storage, ZooKeeperEnsemble } from '../../src';
import { series, sharedAlertCases, volume, volumeLabels } from '../support/alert-cases';
import { alertsOf, checkRules, describeAlertCases, describeWithPromtool, testRules } from '../support/promtool';

// The alerts every monitored workload gets and the user's options on them,
// on a generic StatefulWorkload: construction errors for every bad option,
// and promtool runs that show what each option changes.

const NS = 'data';
const GIB = 1024 * 1024 * 1024;

function props(monitoring: MonitoringOptions | undefined, extra: Partial<StatefulWorkloadProps> = {}): StatefulWorkloadProps {
  return {
    name: 'db',
    appName: 'db',
    volumes: [{ name: 'data', storage: Storage.persistent({ size: Size.gibibytes(10) }) }],
    containers: [{
      name: 'db',
      image: 'example/db:1.0.0',
      ports: [{ name: 'client', port: 5000 }, { name: 'metrics', port: 9100, role: PortRole.METRICS }],
      mounts: [{ volume: 'data', path: '/data' }],
      readinessProbe: Probe.tcp('client'),
    }],
    monitoring,
    ...extra,
  };
}

function render(monitoring: MonitoringOptions | undefined, extra: Partial<StatefulWorkloadProps> = {}, namespace: string | null = NS): any[] {
  const chart = new Chart(Testing.app(), 'c', { namespace: namespace ?? undefined });
  new StatefulWorkload(chart, 'db', props(monitoring, extra));
  return Testing.synth(chart);
}

function build(monitoring: MonitoringOptions | undefined, extra: Partial<StatefulWorkloadProps> = {}): () => StatefulWorkload {
  return () => new StatefulWorkload(new Chart(Testing.app(), 'c', { namespace: NS }), 'db', props(monitoring, extra));
}

const BACKUP = { cronJobs: ['db-backup-full', 'db-backup-incr'], maxAge: Duration.hours(26) };
const dbUp = { name: 'DbDown', expr: 'up{job="db-headless"} == 0', summary: 'db {{ $labels.pod }} is down' };

describe('alerts every monitored workload gets', () => {
  test('StatefulSet alerts always, volume alerts with claims, BackupTooOld with backupAlert; the system\'s own alerts come first, in their group', () => {
    const names = (objects: any[]) => [...alertsOf(objects).keys()];
    const kubernetes = ['StatefulSetReplicasMismatch', 'StatefulSetGenerationMismatch', 'StatefulSetUpdateNotRolledOut'];
    expect(names(render({}, { volumes: [], containers: [{ ...props({}).containers[0], mounts: [] }] }))).toEqual(kubernetes);
    expect(names(render({}))).toEqual([...kubernetes, 'VolumeFillingUp', 'VolumeAlmostFull']);
    const all = render({}, { alerts: [dbUp], backupAlert: BACKUP });
    expect(names(all)).toEqual(['DbDown', ...kubernetes, 'VolumeFillingUp', 'VolumeAlmostFull', 'BackupTooOld']);
    expect(all.find((o) => o.kind === 'PrometheusRule').spec.groups.map((g: any) => g.name)).toEqual(['db.rules', 'db.kubernetes.rules']);
  });

  test('every alert links to its runbook section: <runbookBaseUrl>#<name in lower case>, unless the rule has its own link', () => {
    const objects = render({ runbookBaseUrl: 'https://wiki.example.com/runbooks/db' }, { alerts: [dbUp, { ...dbUp, name: 'DbSlow', runbookUrl: 'https://wiki.example.com/slow' }] });
    const links = [...alertsOf(objects).values()].map((r) => [r.alert, r.annotations.runbook_url]);
    expect(links).toEqual(expect.arrayContaining([
      ['DbDown', 'https://wiki.example.com/runbooks/db#dbdown'],
      ['DbSlow', 'https://wiki.example.com/slow'],
      ['VolumeFillingUp', 'https://wiki.example.com/runbooks/db#volumefillingup'],
    ]));
    expect(links.every(([, url]) => typeof url === 'string' && url.length > 0)).toBe(true);
  });

  test('a chart without a namespace renders rules scoped by StatefulSet and claim names only', () => {
    const rules = [...alertsOf(render({}, { backupAlert: BACKUP }, null)).values()];
    for (const r of rules) expect(r.expr).not.toContain('namespace="');
    expect(rules.find((r) => r.alert === 'StatefulSetGenerationMismatch').expr).toContain('{statefulset="db"}');
  });
});

describe('alert options are checked at construction', () => {
  const zk = (monitoring: MonitoringOptions) => () => new ZooKeeperEnsemble(new Chart(Testing.app(), 'c', { namespace: NS }), 'zk', { monitoring });

  test('an override of an unknown alert names the property and lists the alerts', () => {
    expect(zk({ alertOverrides: { ZooKeeperLeaderLost: { severity: 'critical' } } })).toThrow(
      "ZooKeeperEnsemble 'c/zk': monitoring.alertOverrides names 'ZooKeeperLeaderLost', which is not an alert of this workload; the alerts are: "
      + 'ZooKeeperMemberDown, ZooKeeperNoLeader, ZooKeeperQuorumLost, ZooKeeperFollowersBelowExpected, StatefulSetReplicasMismatch, '
      + 'StatefulSetGenerationMismatch, StatefulSetUpdateNotRolledOut, VolumeFillingUp, VolumeAlmostFull',
    );
  });

  test('a threshold override of an alert without a threshold lists the alerts that have one', () => {
    expect(zk({ alertOverrides: { ZooKeeperNoLeader: { threshold: 2 } } })).toThrow(
      "ZooKeeperEnsemble 'c/zk': monitoring.alertOverrides 'ZooKeeperNoLeader' threshold cannot be set: 'ZooKeeperNoLeader' has no threshold; alerts with one: VolumeFillingUp, VolumeAlmostFull",
    );
  });

  test('a threshold outside the rule\'s range, or not a number, is an error with the range and the unit', () => {
    expect(build({ alertOverrides: { VolumeFillingUp: { threshold: 150 } } })).toThrow(
      "StatefulWorkload 'c/db': monitoring.alertOverrides 'VolumeFillingUp' threshold must be a number from 0 to 100 (percent of the volume free), got 150",
    );
    expect(build({ alertOverrides: { VolumeAlmostFull: { threshold: '5' as any } } })).toThrow(
      "monitoring.alertOverrides 'VolumeAlmostFull' threshold must be a number from 0 to 100 (percent of the volume free), got the string '5'",
    );
    expect(build({ alertOverrides: { BackupTooOld: { threshold: 0.5 } } }, { backupAlert: BACKUP })).toThrow(
      "monitoring.alertOverrides 'BackupTooOld' threshold must be a number >= 1 (hours since the last successful backup), got 0.5",
    );
  });

  test('a bad severity, a pendingFor that is not a Duration, and unknown fields are errors', () => {
    expect(build({ alertOverrides: { VolumeFillingUp: { severity: 'very bad' } } })).toThrow(
      "monitoring.alertOverrides 'VolumeFillingUp' severity must be a word such as 'critical', 'warning' or 'info' (letters, digits, '_' and '-'), got the string 'very bad'",
    );
    expect(build({ alertOverrides: { VolumeFillingUp: { pendingFor: '2h' as any } } })).toThrow(
      "monitoring.alertOverrides 'VolumeFillingUp' pendingFor must be a Duration such as Duration.minutes(10), got the string '2h'",
    );
    expect(build({ alertOverrides: { VolumeFillingUp: { for: '2h' } as any } })).toThrow(
      "monitoring.alertOverrides 'VolumeFillingUp' has unknown fields for; an override sets severity, pendingFor or threshold",
    );
  });

  test('disabling an unknown alert, or disabling and overriding one, is an error', () => {
    expect(build({ disabledAlerts: ['VolumeFull'] })).toThrow(
      "StatefulWorkload 'c/db': monitoring.disabledAlerts names 'VolumeFull', which is not an alert of this workload; the alerts are: "
      + 'StatefulSetReplicasMismatch, StatefulSetGenerationMismatch, StatefulSetUpdateNotRolledOut, VolumeFillingUp, VolumeAlmostFull',
    );
    expect(build({ disabledAlerts: ['VolumeFillingUp'], alertOverrides: { VolumeFillingUp: { threshold: 20 } } })).toThrow(
      "monitoring.alertOverrides 'VolumeFillingUp' overrides an alert that monitoring.disabledAlerts turns off; drop one of the two",
    );
    expect(build({ disabledAlerts: 'VolumeFillingUp' as any })).toThrow("monitoring.disabledAlerts must be a list of alert names, got the string 'VolumeFillingUp'");
  });

  test('alertLabels must be Prometheus label names with string values, and may not set severity or alertname', () => {
    expect(build({ alertLabels: { 'team-name': 'data' } })).toThrow(
      "monitoring.alertLabels key 'team-name' is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with '__')",
    );
    expect(build({ alertLabels: { severity: 'page' } })).toThrow(
      "monitoring.alertLabels must not set 'severity': it is set per alert (change a severity with alertOverrides)",
    );
    expect(build({ alertLabels: { team: 3 as any } })).toThrow("monitoring.alertLabels 'team' must be a non-empty string, got 3");
  });

  test('runbookBaseUrl must be an http(s) URL without a fragment', () => {
    expect(build({ runbookBaseUrl: 'docs/runbooks.md' })).toThrow(
      "StatefulWorkload 'c/db': monitoring.runbookBaseUrl must be an http(s) URL without a '#fragment' (the alert's section is appended), got the string 'docs/runbooks.md'",
    );
    expect(build({ runbookBaseUrl: 'https://wiki.example.com/runbooks#top' })).toThrow('monitoring.runbookBaseUrl must be an http(s) URL without a');
  });

  test('a user alert named like a built-in one, or with an unused or undeclared $threshold, is an error', () => {
    expect(build({}, { alerts: [{ ...dbUp, name: 'VolumeAlmostFull' }] })).toThrow(
      "StatefulWorkload 'c/db': alerts has an alert named 'VolumeAlmostFull' like a built-in alert; give yours another name (and turn the built-in one off with monitoring.disabledAlerts if yours replaces it)",
    );
    expect(build({}, { alerts: [{ ...dbUp, threshold: { value: 1, unit: 'pods' } }] })).toThrow(
      "alerts 'DbDown' declares a threshold, so its expr must write the number as $threshold",
    );
    expect(build({}, { alerts: [{ ...dbUp, expr: 'up < $threshold' }] })).toThrow("alerts 'DbDown' writes $threshold in its expr but declares no threshold");
  });

  test('backupAlert needs monitoring, at least one CronJob name and a maxAge of an hour or more', () => {
    expect(build(undefined, { backupAlert: BACKUP })).toThrow(
      "StatefulWorkload 'c/db': backupAlert needs monitoring: the alert is rendered into the PrometheusRule that monitoring creates",
    );
    expect(build({}, { backupAlert: { cronJobs: [], maxAge: Duration.hours(24) } })).toThrow("StatefulWorkload 'c/db': backupAlert.cronJobs must name at least one CronJob, got none");
    expect(build({}, { backupAlert: { cronJobs: ['db-backup'], maxAge: Duration.minutes(30) } })).toThrow(
      'backupAlert.maxAge must be at least 1 hour (a backup takes time), got 1800 seconds',
    );
  });
});

describeAlertCases('alerts of a generic workload with a claim and backups (promtool)', () => render({}, { backupAlert: BACKUP }), [
  ...sharedAlertCases({ namespace: NS, statefulSet: 'db', claim: 'data-db-2', backup: { cronJobs: BACKUP.cronJobs, maxAgeHours: 26 } }),
]);

describeWithPromtool('what the user\'s options change, as promtool sees it', () => {
  // 18% free and losing 0.06 GiB an hour (full in 30 hours): at minute 75 17.25% free, under a 20% threshold, over the default 15%
  const eighteenPercent = volume(NS, 'data-db-0', `${1.8 * GIB}-${0.001 * GIB}x90`, `${8.2 * GIB}+${0.001 * GIB}x90`);
  const filling = { name: '18% free and falling for 75 minutes', alert: 'VolumeFillingUp', at: '75m', series: eighteenPercent };

  test('a threshold override moves the point where VolumeFillingUp fires', () => {
    const byDefault = testRules(render({}), [{ ...filling, fires: [] }]);
    const at20 = testRules(render({ alertOverrides: { VolumeFillingUp: { threshold: 20 } } }), [{ ...filling, fires: [{ ...volumeLabels(NS, 'data-db-0'), severity: 'warning' }] }]);
    expect({ byDefault: byDefault.ok || byDefault.output, at20: at20.ok || at20.output }).toEqual({ byDefault: true, at20: true });
  });

  test('the overridden threshold is in the summary too', () => {
    const rule = alertsOf(render({ alertOverrides: { VolumeFillingUp: { threshold: 20 } } })).get('VolumeFillingUp');
    expect(rule.annotations.summary).toBe('Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has less than 20% free and will be full within 4 days');
  });

  test('severity and pendingFor overrides change the label and when the alert fires', () => {
    const objects = render({ alertOverrides: { StatefulSetReplicasMismatch: { severity: 'critical', pendingFor: Duration.minutes(40) } } });
    const ksm = { namespace: NS, statefulset: 'db', job: 'kube-state-metrics', instance: '10.244.1.7:8080' };
    const input = {
      [series('kube_statefulset_replicas', ksm)]: '3x60', [series('kube_statefulset_status_replicas_ready', ksm)]: '2x60',
      [series('kube_statefulset_status_replicas_updated', ksm)]: '3x60',
    };
    const r = testRules(objects, [
      { name: 'not yet after 30 minutes (pendingFor 40m)', alert: 'StatefulSetReplicasMismatch', at: '30m', series: input, fires: [] },
      { name: 'after 50 minutes, critical', alert: 'StatefulSetReplicasMismatch', at: '50m', series: input, fires: [{ ...ksm, severity: 'critical' }] },
    ]);
    expect(r.ok || r.output).toBe(true);
  });

  test('alertLabels reach every alert', () => {
    const objects = render({ alertLabels: { team: 'payments', pager: 'db-oncall' } });
    const labels = { team: 'payments', pager: 'db-oncall' };
    const r = testRules(objects, sharedAlertCases({ namespace: NS, statefulSet: 'db', claim: 'data-db-0', extraLabels: labels }));
    expect(r.ok || r.output).toBe(true);
    for (const rule of alertsOf(objects).values()) expect(rule.labels).toEqual(expect.objectContaining(labels));
  });

  test('a disabled alert is not in the rule file promtool loads; the others are', () => {
    const all = alertsOf(render({}));
    const objects = render({ disabledAlerts: ['StatefulSetUpdateNotRolledOut', 'VolumeAlmostFull'] });
    const check = checkRules(objects);
    expect(check.output).toContain(`SUCCESS: ${all.size - 2} rules found`);
    expect([...alertsOf(objects).keys()]).toEqual([...all.keys()].filter((n) => !['StatefulSetUpdateNotRolledOut', 'VolumeAlmostFull'].includes(n)));
  });

  test('a user alert with a threshold is rendered with the override, as promtool sees it', () => {
    const ready = { name: 'DbReplicasLow', expr: 'count(up{job="db-headless"} == 1) < $threshold', summary: 'fewer than $threshold members up', threshold: { value: 2, unit: 'members up', min: 1 } };
    const objects = render({ alertOverrides: { DbReplicasLow: { threshold: 3, pendingFor: Duration.minutes(1) } } }, { alerts: [ready] });
    const up = (i: number, v: string) => ({ [series('up', { namespace: NS, job: 'db-headless', pod: `db-${i}` })]: v });
    const r = testRules(objects, [
      { name: 'two of three up, threshold 3: fires', alert: 'DbReplicasLow', at: '5m', series: { ...up(0, '1x10'), ...up(1, '1x10'), ...up(2, '0x10') }, fires: [{ severity: 'warning' }] },
      { name: 'three up: silent', alert: 'DbReplicasLow', at: '5m', series: { ...up(0, '1x10'), ...up(1, '1x10'), ...up(2, '1x10') }, fires: [] },
    ]);
    expect(r.ok || r.output).toBe(true);
    expect(alertsOf(objects).get('DbReplicasLow').annotations.summary).toBe('fewer than 3 members up');
  });
});
