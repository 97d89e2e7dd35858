import { Chart, Duration, Size, Testing } from 'cdk8s';
import { MetricsMonitor, PortRole, Probe, StatefulWorkload, Storage } from '../../src';
import { only, synthValid } from '../support/manifest';

function workload(chart: Chart, metrics = true): StatefulWorkload {
  return new StatefulWorkload(chart, 'db', {
    appName: 'db',
    volumes: [{ name: 'data', storage: Storage.persistent({ size: Size.gibibytes(1) }) }],
    containers: [{
      name: 'db',
      image: 'example/db:1.0.0',
      ports: [{ name: 'client', port: 5000 }, ...(metrics ? [{ name: 'metrics', port: 9100, role: PortRole.METRICS }] : [])],
      mounts: [{ volume: 'data', path: '/data' }],
      readinessProbe: Probe.tcp('client'),
    }],
  });
}

describe('MetricsMonitor', () => {
  test('scrapes the METRICS port of every pod through the workload selector, in its namespace', () => {
    // GIVEN
    const chart = new Chart(Testing.app(), 'm', { namespace: 'data' });
    const w = workload(chart);
    // WHEN
    new MetricsMonitor(chart, 'mon', { workload: w, interval: Duration.seconds(15), labels: { release: 'prom' } });
    // THEN
    const sm = only(synthValid(chart), 'ServiceMonitor');
    expect(sm.metadata.labels.release).toBe('prom');
    expect(sm.spec.selector.matchLabels).toEqual(w.selectorLabels);
    expect(sm.spec.namespaceSelector).toEqual({ matchNames: ['data'] });
    expect(sm.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '15s', scrapeTimeout: '10s', honorLabels: false }]);
  });

  test('renders alerts into a PrometheusRule that passes the CRD schema', () => {
    const chart = new Chart(Testing.app(), 'm');
    new MetricsMonitor(chart, 'mon', {
      workload: workload(chart),
      alerts: [{ name: 'DbDown', expr: 'up{job="m-db"} == 0', summary: 'a db pod is down', severity: 'critical', pendingFor: Duration.minutes(2) }],
    });
    const rule = only(synthValid(chart), 'PrometheusRule');
    expect(rule.spec.groups[0]).toEqual({
      name: 'm-db.rules',
      rules: [{
        alert: 'DbDown', expr: 'up{job="m-db"} == 0', for: '120s', labels: { severity: 'critical' },
        annotations: { summary: 'a db pod is down', runbook_url: `${MetricsMonitor.DEFAULT_RUNBOOK_BASE_URL}#dbdown` },
      }],
    });
    // the StatefulSet and volume alerts every workload gets, in a group of their own
    expect(rule.spec.groups[1].name).toBe('m-db.kubernetes.rules');
  });

  test('a workload without a metrics port is an error naming the ports it has', () => {
    const chart = new Chart(Testing.app(), 'm');
    expect(() => new MetricsMonitor(chart, 'mon', { workload: workload(chart, false) }))
      .toThrow("MetricsMonitor 'm/mon': port must name a port of 'm-db'; it has no METRICS port (ports: client)");
  });

  test('invalid and duplicate alert names are errors', () => {
    const chart = new Chart(Testing.app(), 'm');
    const w = workload(chart);
    expect(() => new MetricsMonitor(chart, 'a', { workload: w, alerts: [{ name: 'bad-name', expr: '1', summary: 's' }] }))
      .toThrow("alert name 'bad-name' must match");
    expect(() => new MetricsMonitor(chart, 'b', { workload: w, alerts: [{ name: 'A', expr: '1', summary: 's' }, { name: 'A', expr: '1', summary: 's' }] }))
      .toThrow("alerts has two alerts named 'A'");
  });
});

describe('alerts of a workload', () => {
  test('render into a PrometheusRule with summary, description and runbook, and need monitoring', () => {
    // GIVEN
    const c = new Chart(Testing.app(), 'm', { namespace: 'data' });
    const props = {
      appName: 'db',
      containers: [{
        name: 'db', image: 'example/db:1.0.0',
        ports: [{ name: 'client', port: 5000 }, { name: 'metrics', port: 9100, role: PortRole.METRICS }],
        readinessProbe: Probe.tcp('client'),
      }],
      alerts: [{ name: 'DbDown', expr: 'up == 0', summary: 'a member is down', description: 'check the pod', runbookUrl: 'https://runbooks.example/db-down' }],
    };
    // WHEN
    new StatefulWorkload(c, 'db', { ...props, monitoring: {} });
    // THEN
    const rule = only(synthValid(c), 'PrometheusRule');
    expect(rule.spec.groups[0].rules[0].annotations).toEqual({ summary: 'a member is down', description: 'check the pod', runbook_url: 'https://runbooks.example/db-down' });
    expect(() => new StatefulWorkload(new Chart(Testing.app(), 'n'), 'db', props)).toThrow("StatefulWorkload 'n/db': alerts need monitoring");
  });
});
