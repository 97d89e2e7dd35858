/**
 * The Pod Security Standards' "restricted" profile (which includes
 * "baseline"), checked on every pod spec of a manifest: Pods, pod templates
 * of workloads and CronJobs. Each control of
 * https://kubernetes.io/docs/concepts/security/pod-security-standards/ is one
 * rule, and each finding names the container and the field, so that the
 * report says what to change. The controls are those of the latest policy
 * version, as `pod-security.kubernetes.io/enforce: restricted` applies them.
 */
import { Finding, Rule } from './findings';

type Json = any;

const rule = (id: string, recommendation: string, fix: string): Rule => ({ id: `pod-security/${id}`, recommendation, fix });

/** The controls, as the validation report names and explains them. */
export const POD_SECURITY_RULES = {
  hostProcess: rule('host-process', 'Windows HostProcess containers are not allowed (baseline).', 'Remove windowsOptions.hostProcess or set it to false.'),
  hostNamespaces: rule('host-namespaces', 'Sharing the host network, PID or IPC namespace is not allowed (baseline).', 'Remove hostNetwork, hostPID and hostIPC or set them to false.'),
  privileged: rule('privileged', 'Privileged containers are not allowed (baseline).', 'Remove securityContext.privileged or set it to false.'),
  capabilities: rule('capabilities', 'Containers drop ALL capabilities and add back at most NET_BIND_SERVICE (restricted).', "Set securityContext.capabilities to { drop: ['ALL'] }, adding only NET_BIND_SERVICE if the process binds a port below 1024."),
  volumeTypes: rule('volume-types', 'Only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected and secret volumes are allowed (restricted; hostPath is not allowed even in baseline).', 'Use a persistentVolumeClaim (or one of the allowed types) instead.'),
  hostPorts: rule('host-ports', 'Host ports are not allowed (baseline).', 'Remove hostPort; expose the port through a Service.'),
  appArmor: rule('apparmor', 'AppArmor may not be disabled: only RuntimeDefault or Localhost profiles (baseline).', 'Remove the Unconfined AppArmor profile (appArmorProfile or the container.apparmor.security.beta.kubernetes.io annotation).'),
  seLinux: rule('selinux', 'Custom SELinux users and roles are not allowed, and only the container_t, container_init_t, container_kvm_t and container_engine_t types (baseline).', 'Remove seLinuxOptions.user and role, and use an allowed type.'),
  procMount: rule('proc-mount', 'The default /proc masks are required (baseline).', 'Remove securityContext.procMount or set it to Default.'),
  sysctls: rule('sysctls', 'Only the safe namespaced sysctls are allowed (baseline).', 'Remove the sysctl, or run the workload in a namespace with a less strict profile.'),
  privilegeEscalation: rule('allow-privilege-escalation', 'Every container sets allowPrivilegeEscalation: false (restricted).', 'Set securityContext.allowPrivilegeEscalation: false on every container (and init container).'),
  runAsNonRoot: rule('run-as-non-root', 'Containers run as non-root: runAsNonRoot: true in the pod securityContext, or in every container (restricted).', 'Set spec.securityContext.runAsNonRoot: true (with runAsUser, if the image runs as root by default).'),
  runAsUser: rule('run-as-user', 'runAsUser may not be 0 (restricted).', 'Set runAsUser to a non-zero uid, or leave it to the image.'),
  seccomp: rule('seccomp', 'A seccomp profile is set to RuntimeDefault or Localhost, for the pod or for every container, and never Unconfined (restricted).', "Set spec.securityContext.seccompProfile: { type: RuntimeDefault }."),
} satisfies { [key: string]: Rule };
const R = POD_SECURITY_RULES;

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'ReplicationController']);
const BASELINE_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE',
  'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
const RESTRICTED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const SAFE_SYSCTLS = new Set(['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes']);
const APPARMOR_ANNOTATION = 'container.apparmor.security.beta.kubernetes.io/';

/** The pod (metadata and spec) an object runs, if it runs one. */
export function podOf(o: Json): { metadata: Json; spec: Json } | undefined {
  const template = o.kind === 'Pod' ? o
    : o.kind === 'PodTemplate' ? o.template
      : o.kind === 'CronJob' ? o.spec?.jobTemplate?.spec?.template
        : WORKLOADS.has(o.kind) ? o.spec?.template : undefined;
  return template ? { metadata: template.metadata ?? {}, spec: template.spec ?? {} } : undefined;
}

/** Every control of the restricted profile that a pod of `objects` breaks. */
export function podSecurityFindings(objects: Json[]): Finding[] {
  return objects.flatMap((o) => {
    const pod = podOf(o);
    return pod ? podFindings(o, pod.metadata, pod.spec) : [];
  });
}

function podFindings(o: Json, metadata: Json, spec: Json): Finding[] {
  const findings: Finding[] = [];
  const report = (r: Rule, location: string, message: string) => findings.push({
    rule: r.id, kind: o.kind, name: o.metadata?.name, namespace: o.metadata?.namespace, location, message,
  });
  const pod = 'pod';
  const psc = spec.securityContext ?? {};
  const containers: Json[] = [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
  const where = (c: Json) => `container '${c.name}'`;
  const windows = spec.os?.name === 'windows';

  // baseline
  if (psc.windowsOptions?.hostProcess === true) report(R.hostProcess, pod, 'securityContext.windowsOptions.hostProcess is true');
  for (const ns of ['hostNetwork', 'hostPID', 'hostIPC']) if (spec[ns] === true) report(R.hostNamespaces, pod, `${ns} is true`);
  for (const v of spec.volumes ?? []) {
    const type = Object.keys(v).find((k) => k !== 'name');
    if (type && !RESTRICTED_VOLUMES.has(type)) report(R.volumeTypes, `volume '${v.name}'`, `is a ${type} volume`);
  }
  if (psc.appArmorProfile?.type === 'Unconfined') report(R.appArmor, pod, 'securityContext.appArmorProfile.type is Unconfined');
  for (const [k, v] of Object.entries(metadata.annotations ?? {})) {
    if (k.startsWith(APPARMOR_ANNOTATION) && v !== 'runtime/default' && !String(v).startsWith('localhost/')) {
      report(R.appArmor, pod, `annotation ${k} is '${v}'`);
    }
  }
  seLinux(psc.seLinuxOptions, pod, 'securityContext.seLinuxOptions');
  for (const s of psc.sysctls ?? []) if (!SAFE_SYSCTLS.has(s.name)) report(R.sysctls, pod, `securityContext.sysctls sets '${s.name}', which is not a safe sysctl`);

  // restricted, pod level
  if (psc.runAsUser === 0) report(R.runAsUser, pod, 'securityContext.runAsUser is 0');
  const allowedSeccomp = (type: string | undefined) => type === 'RuntimeDefault' || type === 'Localhost';
  if (psc.seccompProfile && !allowedSeccomp(psc.seccompProfile.type)) report(R.seccomp, pod, `securityContext.seccompProfile.type is ${psc.seccompProfile.type}`);

  for (const c of containers) {
    const sc = c.securityContext ?? {};
    const at = where(c);
    if (sc.windowsOptions?.hostProcess === true) report(R.hostProcess, at, 'securityContext.windowsOptions.hostProcess is true');
    if (sc.privileged === true) report(R.privileged, at, 'securityContext.privileged is true');
    for (const p of c.ports ?? []) if (p.hostPort) report(R.hostPorts, at, `port ${p.name ?? p.containerPort} has hostPort ${p.hostPort}`);
    if (sc.appArmorProfile?.type === 'Unconfined') report(R.appArmor, at, 'securityContext.appArmorProfile.type is Unconfined');
    seLinux(sc.seLinuxOptions, at, 'securityContext.seLinuxOptions');
    if (sc.procMount !== undefined && sc.procMount !== 'Default') report(R.procMount, at, `securityContext.procMount is ${sc.procMount}`);

    const runAsNonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
    if (sc.runAsNonRoot === false) report(R.runAsNonRoot, at, 'securityContext.runAsNonRoot is false');
    else if (runAsNonRoot !== true) report(R.runAsNonRoot, at, 'runAsNonRoot is set to true neither in the container nor in the pod securityContext');
    if (sc.runAsUser === 0) report(R.runAsUser, at, 'securityContext.runAsUser is 0');
    if (windows) continue; // the remaining controls do not apply to Windows pods

    if (sc.allowPrivilegeEscalation !== false) {
      report(R.privilegeEscalation, at, `securityContext.allowPrivilegeEscalation is ${sc.allowPrivilegeEscalation === undefined ? 'not set' : sc.allowPrivilegeEscalation}; it must be false`);
    }
    if (sc.seccompProfile && !allowedSeccomp(sc.seccompProfile.type)) report(R.seccomp, at, `securityContext.seccompProfile.type is ${sc.seccompProfile.type}`);
    else if (!sc.seccompProfile && !psc.seccompProfile) report(R.seccomp, at, 'no seccomp profile is set, neither in the container nor in the pod securityContext');
    const drop: string[] = sc.capabilities?.drop ?? [];
    if (!drop.includes('ALL')) report(R.capabilities, at, 'securityContext.capabilities.drop does not include ALL');
    for (const cap of sc.capabilities?.add ?? []) {
      if (cap !== 'NET_BIND_SERVICE') report(R.capabilities, at, `securityContext.capabilities.add has ${cap}${BASELINE_CAPABILITIES.has(cap) ? '' : ', which even the baseline profile forbids'}`);
    }
  }
  return findings;

  function seLinux(options: Json, at: string, field: string) {
    if (!options) return;
    if (!SELINUX_TYPES.has(options.type ?? '')) report(R.seLinux, at, `${field}.type is '${options.type}'`);
    if (options.user) report(R.seLinux, at, `${field}.user is '${options.user}'`);
    if (options.role) report(R.seLinux, at, `${field}.role is '${options.role}'`);
  }
}
