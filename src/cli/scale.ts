import { passGate } from './gate';
import { runCheck } from './health';
import { Json, Kubectl } from './kubectl';
import { detectSystem } from './systems';
import { ScaleContext } from './systems/system';
import { isReady, loadStatefulSet, notReadyReason, observed, ordinalOf, Output, podsOf, waitFor } from './workload';

export interface ScaleOptions {
  readonly name: string;
  readonly replicas: number;
  readonly timeoutMs: number;
  /** 'auto': the system's health check once scaled; 'none': readiness only. */
  readonly gate: string;
  readonly gateTimeoutMs: number;
}

/** The files of the ConfigMaps the pod template mounts (the rendered configuration). */
export function configFilesOf(k: Kubectl, sts: Json): { [file: string]: string } {
  const names: string[] = (sts.spec.template.spec.volumes ?? []).filter((v: Json) => v.configMap?.name).map((v: Json) => v.configMap.name);
  return Object.assign({}, ...names.map((n) => k.get(['configmap', n])?.data ?? {}));
}

/**
 * Changes the replicas with the system's own steps around it: refusals that
 * would lose data or break a quorum, member removal before the pods go,
 * joining new members, clean-up after; then waits for the pods and runs the
 * health check.
 */
export async function scale(k: Kubectl, o: Output, opts: ScaleOptions): Promise<void> {
  const name = opts.name;
  const sts = await observed(k, o, name, opts.timeoutMs);
  const from: number = sts.spec.replicas ?? 1;
  const to = opts.replicas;
  const system = detectSystem(sts);
  if (to === from) {
    o.out(`statefulset/${name} already has ${to} replicas: nothing to do`);
    return;
  }
  o.out(`scaling statefulset/${name}${system ? ` (${system.title})` : ''} from ${from} to ${to}`);
  const ctx: ScaleContext | undefined = system && {
    k, o, sts, system, from, to,
    kubectl: `kubectl -n ${k.namespace}`,
    run: (pod, check) => runCheck(k, system, pod, check),
    configFiles: () => configFilesOf(k, sts),
  };
  const notes: string[] = [];
  if (ctx && system?.beforeScale) notes.push(...await system.beforeScale(ctx));
  k.patch(`statefulset/${name}`, { spec: { replicas: to } });
  if (ctx && system?.join && to > from) {
    await waitForPods(k, o, name, to, opts.timeoutMs, 'running', (p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);
    notes.push(...system.join(ctx));
  }
  await waitForPods(k, o, name, to, opts.timeoutMs, 'Ready', isReady);
  if (ctx && system?.afterScale) notes.push(...await system.afterScale(ctx));
  notes.forEach((n) => o.out(n));
  if (system && opts.gate !== 'none' && to > 0) {
    await passGate(k, o, system, name, opts.gateTimeoutMs, `statefulset/${name} was scaled to ${to}`, 'Check the members with: cdk8s-stateful status ' + name);
  }
  o.out(`statefulset/${name} has ${to} Ready replicas`);
}

/** Waits until the pods below `to` exist and pass `ok`, and those at or above it are gone. */
async function waitForPods(k: Kubectl, o: Output, name: string, to: number, timeoutMs: number, what: string, ok: (p: Json) => boolean): Promise<void> {
  let behind: string[] = [];
  await waitFor(o, timeoutMs, () => {
    const pods = podsOf(k, loadStatefulSet(k, name));
    const byOrdinal = new Map(pods.map((p) => [ordinalOf(p), p]));
    const extra = pods.filter((p) => ordinalOf(p) >= to).map((p) => `${p.metadata.name}: still there (${p.metadata.deletionTimestamp ? 'terminating' : p.status?.phase ?? 'Pending'})`);
    const missing = Array.from({ length: to }, (_, i) => i).filter((i) => !byOrdinal.has(i) || !ok(byOrdinal.get(i)))
      .map((i) => `${name}-${i}: not ${what} (${notReadyReason(byOrdinal.get(i))})`);
    behind = [...extra, ...missing];
    const good = to - missing.length;
    return { done: behind.length === 0, progress: `${good}/${to} pods ${what}${extra.length ? `, ${extra.length} to remove` : ''}${behind.length ? `; waiting for ${behind[0].split(':')[0]}` : ''}` };
  }, (waited) => `scaling statefulset/${name} to ${to} did not finish within ${waited}:\n${behind.map((b) => `  ${b}`).join('\n')}`);
}
