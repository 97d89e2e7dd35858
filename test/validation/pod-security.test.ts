import { Testing } from 'cdk8s';
import { addExamples } from '../../examples';
import { WebChart } from '../../examples/web';
import { podSecurityFindings } from '../../plugin/src/pod-security';
import { monokleProblems } from '../support/manifest';

// The plugin's Pod Security Standards (restricted) check, control by control.
// @monokle/validation's implementation of the same standard is the second
// opinion: every object we flag it flags too, and every manifest we pass it
// passes.

type Json = any;
const web = (): Json[] => Testing.synth(new WebChart(Testing.app(), 'web'));
const podSpec = (objects: Json[]) => objects.find((o) => o.kind === 'StatefulSet').spec.template.spec;
const nginx = (objects: Json[]) => podSpec(objects).containers[0];
/** `rule location: message` of each finding, the StatefulSet's name left out. */
const found = (objects: Json[]) => podSecurityFindings(objects).map((f) => `${f.rule} ${f.location}: ${f.message}`);

describe('Pod Security Standards, restricted', () => {
  test('every example passes, and monokle agrees', () => {
    // GIVEN every example chart
    const app = Testing.app();
    addExamples(app);
    const objects = app.charts.flatMap((c) => Testing.synth(c));
    // THEN neither implementation finds anything
    expect(podSecurityFindings(objects)).toEqual([]);
    expect(monokleProblems(objects).filter((p) => p.startsWith('PSS'))).toEqual([]);
  });

  // each case breaks one control in the web example's StatefulSet
  const cases: [string, (o: Json[]) => void, string[]][] = [
    ['a privileged container', (o) => { nginx(o).securityContext.privileged = true; },
      ["pod-security/privileged container 'nginx': securityContext.privileged is true"]],
    ['the host network', (o) => { podSpec(o).hostNetwork = true; },
      ['pod-security/host-namespaces pod: hostNetwork is true']],
    ['the host PID namespace', (o) => { podSpec(o).hostPID = true; },
      ['pod-security/host-namespaces pod: hostPID is true']],
    ['a hostPath volume', (o) => { podSpec(o).volumes.find((v: Json) => v.name === 'tmp').hostPath = { path: '/tmp' }; delete podSpec(o).volumes.find((v: Json) => v.name === 'tmp').emptyDir; },
      ["pod-security/volume-types volume 'tmp': is a hostPath volume"]],
    ['a host port', (o) => { nginx(o).ports[0].hostPort = 8080; },
      ["pod-security/host-ports container 'nginx': port web has hostPort 8080"]],
    ['an added capability', (o) => { nginx(o).securityContext.capabilities.add = ['SYS_ADMIN']; },
      ["pod-security/capabilities container 'nginx': securityContext.capabilities.add has SYS_ADMIN, which even the baseline profile forbids"]],
    ['capabilities not dropped', (o) => { delete nginx(o).securityContext.capabilities; },
      ["pod-security/capabilities container 'nginx': securityContext.capabilities.drop does not include ALL"]],
    ['privilege escalation allowed', (o) => { delete nginx(o).securityContext.allowPrivilegeEscalation; },
      ["pod-security/allow-privilege-escalation container 'nginx': securityContext.allowPrivilegeEscalation is not set; it must be false"]],
    ['runAsNonRoot missing', (o) => { delete nginx(o).securityContext.runAsNonRoot; delete podSpec(o).securityContext.runAsNonRoot; },
      ["pod-security/run-as-non-root container 'nginx': runAsNonRoot is set to true neither in the container nor in the pod securityContext"]],
    ['runAsNonRoot false in the container', (o) => { nginx(o).securityContext.runAsNonRoot = false; },
      ["pod-security/run-as-non-root container 'nginx': securityContext.runAsNonRoot is false"]],
    ['uid 0', (o) => { podSpec(o).securityContext.runAsUser = 0; },
      ['pod-security/run-as-user pod: securityContext.runAsUser is 0']],
    ['no seccomp profile', (o) => { delete nginx(o).securityContext.seccompProfile; delete podSpec(o).securityContext.seccompProfile; },
      ["pod-security/seccomp container 'nginx': no seccomp profile is set, neither in the container nor in the pod securityContext"]],
    ['an Unconfined seccomp profile', (o) => { nginx(o).securityContext.seccompProfile.type = 'Unconfined'; },
      ["pod-security/seccomp container 'nginx': securityContext.seccompProfile.type is Unconfined"]],
    ['an unmasked /proc', (o) => { nginx(o).securityContext.procMount = 'Unmasked'; },
      ["pod-security/proc-mount container 'nginx': securityContext.procMount is Unmasked"]],
    ['an unsafe sysctl', (o) => { podSpec(o).securityContext.sysctls = [{ name: 'kernel.msgmax', value: '65536' }]; },
      ["pod-security/sysctls pod: securityContext.sysctls sets 'kernel.msgmax', which is not a safe sysctl"]],
    ['a custom SELinux user', (o) => { nginx(o).securityContext.seLinuxOptions = { user: 'system_u' }; },
      ["pod-security/selinux container 'nginx': securityContext.seLinuxOptions.user is 'system_u'"]],
  ];

  test.each(cases)('%s is a finding naming the field, and monokle flags it too', (_name, breakIt, expected) => {
    // GIVEN the web example, which passes
    const objects = web();
    expect(found(objects)).toEqual([]);
    // WHEN one control is broken
    breakIt(objects);
    // THEN exactly that finding, and monokle's restricted rules flag the manifest as well
    expect(found(objects)).toEqual(expected);
    expect(monokleProblems(objects).filter((p) => p.startsWith('PSS')).length).toBeGreaterThan(0);
  });

  // monokle checks neither of these AppArmor forms
  test('AppArmor disabled, by field or by annotation, is a finding', () => {
    const objects = web();
    nginx(objects).securityContext.appArmorProfile = { type: 'Unconfined' };
    objects.find((x) => x.kind === 'StatefulSet').spec.template.metadata.annotations['container.apparmor.security.beta.kubernetes.io/nginx'] = 'unconfined';
    expect(found(objects)).toEqual([
      "pod-security/apparmor pod: annotation container.apparmor.security.beta.kubernetes.io/nginx is 'unconfined'",
      "pod-security/apparmor container 'nginx': securityContext.appArmorProfile.type is Unconfined",
    ]);
  });

  test('a Windows HostProcess container is a finding', () => {
    const objects = web();
    nginx(objects).securityContext.windowsOptions = { hostProcess: true };
    expect(found(objects)).toEqual(["pod-security/host-process container 'nginx': securityContext.windowsOptions.hostProcess is true"]);
  });

  test('init containers are held to the profile too, each finding naming the container', () => {
    // GIVEN an init container without a securityContext, in a pod whose securityContext sets runAsNonRoot and seccomp
    const objects = web();
    podSpec(objects).initContainers = [{ name: 'prepare', image: 'busybox' }];
    // THEN what the pod does not provide is missing for it
    expect(found(objects)).toEqual([
      "pod-security/allow-privilege-escalation container 'prepare': securityContext.allowPrivilegeEscalation is not set; it must be false",
      "pod-security/capabilities container 'prepare': securityContext.capabilities.drop does not include ALL",
    ]);
  });

  test('the pod securityContext satisfies runAsNonRoot and seccomp for containers that do not set them', () => {
    const objects = web();
    delete nginx(objects).securityContext.runAsNonRoot;
    delete nginx(objects).securityContext.seccompProfile;
    expect(found(objects)).toEqual([]);
  });

  test('the controls that do not apply to Windows pods are skipped for them', () => {
    const objects = web();
    podSpec(objects).os = { name: 'windows' };
    delete nginx(objects).securityContext.seccompProfile;
    delete podSpec(objects).securityContext.seccompProfile;
    delete nginx(objects).securityContext.capabilities;
    delete nginx(objects).securityContext.allowPrivilegeEscalation;
    expect(found(objects)).toEqual([]);
  });

  test('Pods, CronJobs and every workload kind are checked; other objects are not', () => {
    // GIVEN the same privileged pod spec in every kind that runs pods
    const spec = { containers: [{ name: 'c', image: 'x', securityContext: { privileged: true } }] };
    const template = { metadata: {}, spec };
    const objects = [
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec },
      { apiVersion: 'v1', kind: 'PodTemplate', metadata: { name: 't' }, template },
      { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'cj' }, spec: { schedule: '@daily', jobTemplate: { spec: { template } } } },
      ...['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'ReplicationController'].map((kind) => ({ apiVersion: 'apps/v1', kind, metadata: { name: kind.toLowerCase() }, spec: { template } })),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { spec: 'privileged: true' } },
    ];
    // THEN each pod-running object has its privileged finding
    const privileged = podSecurityFindings(objects).filter((f) => f.rule === 'pod-security/privileged').map((f) => `${f.kind}/${f.name}`);
    expect(privileged).toEqual(['Pod/p', 'PodTemplate/t', 'CronJob/cj', 'Deployment/deployment', 'StatefulSet/statefulset', 'DaemonSet/daemonset',
      'ReplicaSet/replicaset', 'Job/job', 'ReplicationController/replicationcontroller']);
  });
});
