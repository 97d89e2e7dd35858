import { Chart, Cron, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { RestrictedProfile } from '../../src';
import { monokleProblems, only } from '../support/manifest';

function chart(): Chart {
  return new Chart(Testing.app(), 'apps', { namespace: 'apps' });
}

const container = { image: 'example/api:1.0.0', portNumber: 8080, securityContext: { user: 10001, group: 10001 } };

describe('RestrictedProfile', () => {
  test('a plain cdk8s-plus Deployment fails the restricted profile; hardened, it passes', () => {
    // GIVEN two identical Deployments, one hardened
    const plain = chart();
    new kplus.Deployment(plain, 'api', { containers: [container] });
    const hardened = chart();
    const d = new kplus.Deployment(hardened, 'api', { containers: [container], initContainers: [{ ...container, portNumber: undefined, name: 'init' }] });
    // WHEN
    RestrictedProfile.applyTo(d);
    // THEN the Pod Security checks find problems only in the plain one
    expect(monokleProblems(Testing.synth(plain)).join('\n')).toMatch(/seccomp|capabilit/i);
    const objects = Testing.synth(hardened);
    expect(monokleProblems(objects)).toEqual([]);
    const pod = only(objects, 'Deployment').spec.template.spec;
    expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(pod.containers[0].securityContext.capabilities).toEqual({ drop: ['ALL'] });
    expect(pod.initContainers[0].securityContext.capabilities).toEqual({ drop: ['ALL'] });
  });

  test('Pods and CronJobs are patched at their own pod spec paths', () => {
    const c = chart();
    const pod = new kplus.Pod(c, 'pod', { containers: [container] });
    const cron = new kplus.CronJob(c, 'cron', { containers: [container], schedule: Cron.hourly() });
    RestrictedProfile.applyTo(pod);
    RestrictedProfile.applyTo(cron);
    const objects = Testing.synth(c);
    expect(only(objects, 'Pod').spec.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    const cronPod = only(objects, 'CronJob').spec.jobTemplate.spec.template.spec;
    expect(cronPod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(cronPod.containers[0].securityContext.capabilities).toEqual({ drop: ['ALL'] });
  });
});
