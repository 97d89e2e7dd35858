/**
 * Checks that the objects of one manifest fit together: what the API server
 * accepts one object at a time but the cluster then fails on (a selector
 * that selects nothing, a mount of a volume that does not exist, a probe on a
 * port the container lacks, a StatefulSet name too long for its pods).
 */

import { Finding, formatFinding, Rule } from './findings';

type Json = any;

/**
 * The annotations by which a cdk8s-stateful generator Job says which Secret
 * it creates and with which keys (src/core/credentials.ts sets them; a test
 * keeps the two in step).
 */
export const GENERATES_SECRET = 'cdk8s-stateful.io/generates-secret';
export const GENERATES_KEYS = 'cdk8s-stateful.io/generates-keys';

/** The cross-reference rules, as the validation report names and explains them. */
export const CROSS_REFERENCE_RULES = {
  selectors: {
    id: 'cross-references/selectors',
    recommendation: 'Every selector selects the pods it is meant for: a workload its own pod template; a Service, PodDisruptionBudget or NetworkPolicy at least one pod template of the manifest.',
    fix: 'Derive selectors and pod labels from one set of labels, or correct the selector so that it is a subset of the pod template labels.',
  },
  statefulSetService: {
    id: 'cross-references/stateful-set-service',
    recommendation: "A StatefulSet's serviceName names a headless Service (clusterIP: None) of the manifest that selects its pods: the pods' DNS names come from it.",
    fix: 'Create the headless Service, or point serviceName at it.',
  },
  volumes: {
    id: 'cross-references/volumes',
    recommendation: 'Every volume mount names a pod volume or a claim template, every volume and claim template is mounted, and a persistentVolumeClaim volume names a claim of the manifest.',
    fix: 'Correct the mount or volume name, or remove what is never mounted.',
  },
  configAndSecrets: {
    id: 'cross-references/config-and-secrets',
    recommendation: 'Every ConfigMap and Secret a pod reads exists with the keys it reads: in the manifest, created by a generator Job, or declared external.',
    fix: "Add the object or key, mark the reference optional, or (for a Secret managed outside the app) list it in the plugin's externalSecrets property.",
  },
  portsAndProbes: {
    id: 'cross-references/ports-and-probes',
    recommendation: 'Probes, Service targetPorts and NetworkPolicy ports name ports the pods declare; port names are valid and unique in the pod; readiness and liveness probes differ.',
    fix: 'Declare the port on the container, or correct the name the probe, Service or policy uses.',
  },
  disruption: {
    id: 'cross-references/disruption',
    recommendation: 'A PodDisruptionBudget allows at least one of its pods to be disrupted, or node drains hang.',
    fix: 'Lower minAvailable below the replica count, or set maxUnavailable to at least 1.',
  },
  names: {
    id: 'cross-references/names',
    recommendation: 'Names and label values fit their limits: a StatefulSet name 52 characters (its pods get a controller-revision-hash label), pod and Service names a DNS label, label values 63 characters, port names an IANA service name.',
    fix: 'Shorten the name (a shorter construct id or chart name).',
  },
  serviceAccounts: {
    id: 'cross-references/service-accounts',
    recommendation: 'ServiceAccounts and Roles that pods and RoleBindings name exist in the manifest.',
    fix: "Add the ServiceAccount or Role, or (for a ServiceAccount managed outside the app) list it in the plugin's externalServiceAccounts property.",
  },
} satisfies { [key: string]: Rule };
const R = CROSS_REFERENCE_RULES;

export interface CrossRefOptions {
  /** Secrets that exist outside the manifest (user-managed), with their keys. */
  readonly externalSecrets?: { [name: string]: string[] };
  /** ServiceAccounts that exist outside the manifest (user-managed). */
  readonly externalServiceAccounts?: string[];
}

const POD_OWNERS = new Set(['StatefulSet', 'Deployment', 'DaemonSet', 'Job', 'ReplicaSet']);
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function subset(sel: { [k: string]: string } | undefined, labels: { [k: string]: string } | undefined): boolean {
  if (!sel || Object.keys(sel).length === 0) return false;
  return Object.entries(sel).every(([k, v]) => labels?.[k] === v);
}

function podTemplate(o: Json): Json | undefined {
  if (o.kind === 'CronJob') return o.spec?.jobTemplate?.spec?.template;
  return POD_OWNERS.has(o.kind) ? o.spec?.template : undefined;
}

/** Problems found, as `Kind/name: message` lines (empty when all references resolve). */
export function crossReferenceProblems(objects: Json[], options: CrossRefOptions = {}): string[] {
  return crossReferenceFindings(objects, options).map(formatFinding);
}

/**
 * What does not fit together in `objects`, one manifest or the objects of
 * one namespace (names are resolved among them).
 */
export function crossReferenceFindings(objects: Json[], options: CrossRefOptions = {}): Finding[] {
  const problems: Finding[] = [];
  /** Where a finding is: an object, and optionally a place in it (`container 'x'`). */
  interface Where { readonly o: Json; readonly loc?: string }
  const at = (o: Json, loc?: string): Where => ({ o, loc });
  const inside = (w: Where, loc: string): Where => at(w.o, w.loc ? `${w.loc} ${loc}` : loc);
  const report = (rule: Rule, w: Where, message: string) => problems.push({
    rule: rule.id, kind: w.o.kind, name: w.o.metadata?.name, namespace: w.o.metadata?.namespace, location: w.loc, message,
  });
  const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata?.name === name);

  // Secrets: in the manifest, created by a generator Job, or declared external.
  const secretKeys = new Map<string, Set<string>>();
  for (const s of byKind('Secret')) secretKeys.set(s.metadata.name, new Set([...Object.keys(s.data ?? {}), ...Object.keys(s.stringData ?? {})]));
  for (const j of objects) {
    const name = j.metadata?.annotations?.[GENERATES_SECRET];
    if (name) secretKeys.set(name, new Set(String(j.metadata.annotations[GENERATES_KEYS] ?? '').split(',').filter(Boolean)));
  }
  for (const [name, keys] of Object.entries(options.externalSecrets ?? {})) secretKeys.set(name, new Set(keys));
  const configKeys = new Map<string, Set<string>>();
  for (const c of byKind('ConfigMap')) configKeys.set(c.metadata.name, new Set([...Object.keys(c.data ?? {}), ...Object.keys(c.binaryData ?? {})]));

  const checkSecretKey = (where: Where, name: string, key: string | undefined, optional: boolean) => {
    const keys = secretKeys.get(name);
    if (!keys) {
      if (!optional) report(R.configAndSecrets, where, `Secret '${name}' is neither in the manifest, created by a generator Job, nor declared external`);
    } else if (key !== undefined && !keys.has(key)) {
      report(R.configAndSecrets, where, `Secret '${name}' has no key '${key}' (keys: ${[...keys].join(', ')})`);
    }
  };
  const checkConfigKey = (where: Where, name: string, key: string | undefined, optional: boolean) => {
    const keys = configKeys.get(name);
    if (!keys) {
      if (!optional) report(R.configAndSecrets, where, `ConfigMap '${name}' is not in the manifest`);
    } else if (key !== undefined && !keys.has(key)) {
      report(R.configAndSecrets, where, `ConfigMap '${name}' has no key '${key}'`);
    }
  };

  const pods: { owner: Json; template: Json; replicas: number }[] = [];
  for (const o of objects) {
    const template = podTemplate(o);
    if (!template) continue;
    const where = at(o);
    const labels = template.metadata?.labels ?? {};
    if (o.spec?.selector && !subset(o.spec.selector.matchLabels, labels)) {
      report(R.selectors, where, `selector ${JSON.stringify(o.spec.selector.matchLabels)} does not match the pod template labels`);
    }
    pods.push({ owner: o, template, replicas: o.kind === 'StatefulSet' ? (o.spec.replicas ?? 1) : 1 });
    const spec = template.spec ?? {};
    const claimNames = new Set<string>((o.spec?.volumeClaimTemplates ?? []).map((c: Json) => c.metadata?.name));
    const volumeNames = new Set<string>((spec.volumes ?? []).map((v: Json) => v.name));
    for (const c of claimNames) if (volumeNames.has(c)) report(R.volumes, where, `claim template '${c}' is shadowed by a pod volume of the same name`);
    const mounted = new Set<string>();
    const containers: Json[] = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];

    if (o.kind === 'StatefulSet') {
      const name = o.metadata.name;
      if (name.length > 52) report(R.names, where, `StatefulSet name is ${name.length} characters (max 52)`);
      const lastPod = `${name}-${Math.max(0, (o.spec.replicas ?? 1) - 1)}`;
      if (lastPod.length > 63 || !DNS_LABEL.test(lastPod)) report(R.names, where, `pod name '${lastPod}' is not a DNS label of at most 63 characters`);
      const svc = find('Service', o.spec.serviceName);
      if (!svc) report(R.statefulSetService, where, `serviceName '${o.spec.serviceName}' names no Service in the manifest`);
      else {
        if (svc.spec?.clusterIP !== 'None') report(R.statefulSetService, where, `serviceName '${o.spec.serviceName}' is not headless (clusterIP: None)`);
        if (!subset(svc.spec?.selector, labels)) report(R.statefulSetService, where, `headless Service '${svc.metadata.name}' does not select the pods`);
      }
    }
    const sa = spec.serviceAccountName;
    if (sa && sa !== 'default' && !find('ServiceAccount', sa) && !(options.externalServiceAccounts ?? []).includes(sa)) report(R.serviceAccounts, where, `serviceAccountName '${sa}' is not in the manifest`);

    for (const v of spec.volumes ?? []) {
      if (v.configMap) {
        if (v.configMap.items) v.configMap.items.forEach((i: Json) => checkConfigKey(inside(where, `volume '${v.name}'`), v.configMap.name, i.key, !!v.configMap.optional));
        else checkConfigKey(inside(where, `volume '${v.name}'`), v.configMap.name, undefined, !!v.configMap.optional);
      }
      if (v.secret) {
        if (v.secret.items) v.secret.items.forEach((i: Json) => checkSecretKey(inside(where, `volume '${v.name}'`), v.secret.secretName, i.key, !!v.secret.optional));
        else checkSecretKey(inside(where, `volume '${v.name}'`), v.secret.secretName, undefined, !!v.secret.optional);
      }
      if (v.persistentVolumeClaim && !find('PersistentVolumeClaim', v.persistentVolumeClaim.claimName)) {
        report(R.volumes, inside(where, `volume '${v.name}'`), `PersistentVolumeClaim '${v.persistentVolumeClaim.claimName}' is not in the manifest`);
      }
    }

    const portNames = new Set<string>();
    for (const c of containers) {
      const cw = inside(where, `container '${c.name}'`);
      for (const m of c.volumeMounts ?? []) {
        if (!volumeNames.has(m.name) && !claimNames.has(m.name)) report(R.volumes, cw, `mounts '${m.name}', which is neither a volume nor a claim template`);
        mounted.add(m.name);
      }
      for (const e of c.env ?? []) {
        const s = e.valueFrom?.secretKeyRef;
        if (s) checkSecretKey(inside(cw, `env ${e.name}`), s.name, s.key, !!s.optional);
        const cm = e.valueFrom?.configMapKeyRef;
        if (cm) checkConfigKey(inside(cw, `env ${e.name}`), cm.name, cm.key, !!cm.optional);
      }
      for (const ef of c.envFrom ?? []) {
        if (ef.secretRef) checkSecretKey(inside(cw, 'envFrom'), ef.secretRef.name, undefined, !!ef.secretRef.optional);
        if (ef.configMapRef) checkConfigKey(inside(cw, 'envFrom'), ef.configMapRef.name, undefined, !!ef.configMapRef.optional);
      }
      const own = new Set<string>();
      const numbers = new Set<number>();
      for (const p of c.ports ?? []) {
        numbers.add(p.containerPort);
        if (p.name === undefined) continue;
        if (p.name.length > 15 || !PORT_NAME.test(p.name) || !/[a-z]/.test(p.name)) report(R.portsAndProbes, cw, `port name '${p.name}' is not a valid IANA service name (max 15)`);
        if (portNames.has(p.name)) report(R.portsAndProbes, where, `port name '${p.name}' is used twice in the pod`);
        portNames.add(p.name);
        own.add(p.name);
      }
      for (const probeName of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
        const probe = c[probeName];
        const port = probe?.tcpSocket?.port ?? probe?.httpGet?.port ?? probe?.grpc?.port;
        if (port === undefined) continue;
        if (typeof port === 'string' ? !own.has(port) : !numbers.has(port)) report(R.portsAndProbes, cw, `${probeName} targets port '${port}', which the container does not declare`);
      }
      if (c.readinessProbe && c.livenessProbe && JSON.stringify(c.readinessProbe) === JSON.stringify(c.livenessProbe)) {
        report(R.portsAndProbes, cw, `readiness and liveness probes are identical (a slow node is then restarted instead of taken out of rotation)`);
      }
    }
    for (const c of claimNames) if (!mounted.has(c)) report(R.volumes, where, `claim template '${c}' is never mounted`);
    for (const v of volumeNames) if (!mounted.has(v)) report(R.volumes, where, `volume '${v}' is never mounted`);
  }

  const selects = (selector: Json) => pods.filter((p) => subset(selector, p.template.metadata?.labels));
  const podPortNames = (p: { template: Json }) => new Set<string>(
    (p.template.spec?.containers ?? []).flatMap((c: Json) => (c.ports ?? []).map((x: Json) => x.name)));

  for (const svc of byKind('Service')) {
    const where = at(svc);
    if (!DNS_LABEL.test(svc.metadata.name) || svc.metadata.name.length > 63) report(R.names, where, `name is not a DNS label of at most 63 characters`);
    if (!svc.spec?.selector) continue;
    const podName = svc.spec.selector['statefulset.kubernetes.io/pod-name'];
    const { ['statefulset.kubernetes.io/pod-name']: _ignored, ...rest } = svc.spec.selector;
    const targets = selects(rest);
    if (targets.length === 0) report(R.selectors, where, `selector selects no pod template in the manifest`);
    if (podName) {
      const ok = targets.some((t) => t.owner.kind === 'StatefulSet' && podName.startsWith(`${t.owner.metadata.name}-`)
        && Number(podName.slice(t.owner.metadata.name.length + 1)) < t.replicas);
      if (!ok) report(R.selectors, where, `selects pod '${podName}', which no StatefulSet in the manifest creates`);
    }
    for (const p of svc.spec.ports ?? []) {
      if (typeof p.targetPort === 'string' && !targets.every((t) => podPortNames(t).has(p.targetPort))) {
        report(R.portsAndProbes, where, `targetPort '${p.targetPort}' is not a port name of every selected pod`);
      }
    }
  }

  for (const pdb of byKind('PodDisruptionBudget')) {
    const where = at(pdb);
    const targets = selects(pdb.spec?.selector?.matchLabels);
    if (targets.length === 0) { report(R.selectors, where, `selects no pods`); continue; }
    const replicas = targets.reduce((n, t) => n + t.replicas, 0);
    const { maxUnavailable, minAvailable } = pdb.spec;
    const allows = maxUnavailable !== undefined
      ? (typeof maxUnavailable === 'number' ? maxUnavailable >= 1 : parseInt(maxUnavailable, 10) > 0)
      : (typeof minAvailable === 'number' ? minAvailable < replicas : parseInt(minAvailable, 10) < 100);
    if (!allows) report(R.disruption, where, `allows no disruption of its ${replicas} pods (node drains would hang)`);
  }

  for (const np of byKind('NetworkPolicy')) {
    const where = at(np);
    const targets = selects(np.spec?.podSelector?.matchLabels);
    if (targets.length === 0) { report(R.selectors, where, `podSelector selects no pods`); continue; }
    for (const rule of np.spec?.ingress ?? []) {
      for (const p of rule.ports ?? []) {
        if (typeof p.port === 'string' && !targets.every((t) => podPortNames(t).has(p.port))) report(R.portsAndProbes, where, `port '${p.port}' is not a port name of the selected pods`);
      }
      // a same-namespace peer that names one of our instances (a member, a bootstrap or backup Job)
      // must select pods of this manifest: a typo there silently locks the peer out
      for (const peer of rule.from ?? []) {
        const sel = peer.podSelector?.matchLabels;
        if (peer.namespaceSelector || !sel?.['app.kubernetes.io/instance']) continue;
        if (selects(sel).length === 0) report(R.selectors, where, `ingress peer ${JSON.stringify(sel)} selects no pod of the manifest`);
      }
    }
  }

  for (const rb of [...byKind('RoleBinding'), ...byKind('ClusterRoleBinding')]) {
    const where = at(rb);
    if (rb.roleRef?.kind === 'Role' && !find('Role', rb.roleRef.name)) report(R.serviceAccounts, where, `Role '${rb.roleRef.name}' is not in the manifest`);
    for (const s of rb.subjects ?? []) {
      if (s.kind === 'ServiceAccount' && !find('ServiceAccount', s.name)) report(R.serviceAccounts, where, `ServiceAccount '${s.name}' is not in the manifest`);
    }
  }

  for (const o of objects) {
    const name = o.metadata?.name;
    if (typeof name === 'string' && name.length > 253) report(R.names, at(o), `name longer than 253 characters`);
    for (const [k, v] of Object.entries(o.metadata?.labels ?? {})) {
      if (typeof v !== 'string' || v.length > 63) report(R.names, at(o), `label ${k} value '${v}' is longer than 63 characters`);
    }
  }
  return problems;
}
