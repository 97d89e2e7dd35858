import { Chart, Testing } from 'cdk8s';
import { ZooKeeperEnsemble } from '../../src';
import { sharedAlertCases } from './alert-cases';
import { AlertCase, checkRules, describeWithPromtool, testRules } from './promtool';

// The promtool proof must itself catch what it claims to: each test breaks a
// known-good rendered rule in one way (a wrong metric, a wrong label, an
// annotation naming a label the series lack, a syntax error) and expects
// promtool to fail.

function objects(): any[] {
  const chart = new Chart(Testing.app(), 'c', { namespace: 'streaming' });
  new ZooKeeperEnsemble(chart, 'zk', { name: 'zk', monitoring: {} });
  return Testing.synth(chart);
}

function rule(o: any[], alert: string): any {
  return o.find((x) => x.kind === 'PrometheusRule').spec.groups.flatMap((g: any) => g.rules).find((r: any) => r.alert === alert);
}

const cases = (alert: string): AlertCase[] => sharedAlertCases({ namespace: 'streaming', statefulSet: 'zk', claim: 'data-zk-0' }).filter((c) => c.alert === alert);

describeWithPromtool('promtool checks', () => {
  test('the known-good rules pass their scenarios', () => {
    const r = testRules(objects(), [...cases('StatefulSetReplicasMismatch'), ...cases('VolumeAlmostFull')]);
    expect(r.ok || r.output).toBe(true);
  });

  test('a rule on a metric kube-state-metrics does not export fails its firing scenario', () => {
    const o = objects();
    const r0 = rule(o, 'StatefulSetReplicasMismatch');
    r0.expr = r0.expr.replace(/kube_statefulset_replicas\{/g, 'kube_statefulset_spec_replicas{');
    const r = testRules(o, cases('StatefulSetReplicasMismatch'));
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/alertname: StatefulSetReplicasMismatch, time: 30m,[\s\S]*got:\[\]/);
  });

  test('a rule on a label the kubelet does not set fails its firing scenario', () => {
    const o = objects();
    const r0 = rule(o, 'VolumeAlmostFull');
    r0.expr = r0.expr.replace(/persistentvolumeclaim=~/g, 'pvc=~');
    expect(testRules(o, cases('VolumeAlmostFull')).ok).toBe(false);
  });

  test('an annotation naming a label the alert does not carry is an error (Prometheus would render it empty)', () => {
    const o = objects();
    rule(o, 'VolumeAlmostFull').annotations.summary = 'Volume {{ $labels.claim }} is almost full';
    expect(() => testRules(o, cases('VolumeAlmostFull'))).toThrow('annotation summary of VolumeAlmostFull uses $labels.claim, which the alert does not carry');
  });

  test('check rules rejects an expression that does not parse', () => {
    const o = objects();
    rule(o, 'ZooKeeperNoLeader').expr = 'absent(leader_uptime{job="zk-headless"}';
    const r = checkRules(o);
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/unclosed left parenthesis|unexpected end of input/);
  });
});
