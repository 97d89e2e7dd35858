import { refusal } from './errors';
import { passGate } from './gate';
import { Json, Kubectl } from './kubectl';
import { detectSystem } from './systems';
import { System } from './systems/system';
import { defaultStages, parseStages } from './units';
import {
  isReady, loadStatefulSet, notReadyReason, observed, ordinalOf, Output, podsOf, REVISION_LABEL, shortRevision, waitFor,
} from './workload';

export interface RolloutOptions {
  readonly name: string;
  /** The stage list (`1,50%,100%`); default: `defaultStages`. */
  readonly stages?: string;
  /** Longest wait for one stage's pods. */
  readonly timeoutMs: number;
  /** Go back to the previous revision instead. */
  readonly undo: boolean;
  /** 'auto': the system's health gate after each stage; 'none': readiness only. */
  readonly gate: string;
  /** How long the gate may take to pass once a stage's pods are Ready. */
  readonly gateTimeoutMs: number;
}

/**
 * The partition canary: lowers `spec.updateStrategy.rollingUpdate.partition`
 * stage by stage, so that the StatefulSet controller updates the highest
 * ordinals first; after each stage it waits until those pods run the update
 * revision and are Ready, then runs the system's health gate. A failure or
 * a timeout stops it there: the partition stays, the lower ordinals keep the
 * current revision.
 */
export async function rollout(k: Kubectl, o: Output, opts: RolloutOptions): Promise<void> {
  let sts = await observed(k, o, opts.name, opts.timeoutMs);
  const name = opts.name;
  const type = sts.spec.updateStrategy?.type ?? 'RollingUpdate';
  if (type !== 'RollingUpdate') {
    throw refusal(`statefulset/${name} uses updateStrategy ${type}: a partition rollout needs RollingUpdate `
      + '(UpdateStrategy.rollingUpdate(partition) on the construct); with OnDelete, pods take the new template only when deleted');
  }
  const replicas: number = sts.spec.replicas ?? 1;
  const system = opts.gate === 'none' ? undefined : detectSystem(sts);
  const counts = opts.undo ? [] : opts.stages === undefined ? defaultStages(replicas) : parseStages(opts.stages, replicas);
  o.out(system
    ? `statefulset/${name} runs ${system.title}: the health gate after each step runs ${[system.member?.name, system.cluster?.name].filter(Boolean).join(' and ')}`
    : `statefulset/${name}: ${opts.gate === 'none' ? 'health gate off (--gate none)' : 'no system the CLI knows (by its app.kubernetes.io labels)'}: pods must be Ready, nothing more`);
  if (opts.undo) return undo(k, o, sts, system, opts);

  const pods = podsOf(k, sts);
  const update: string = sts.status.updateRevision;
  if (update === sts.status.currentRevision && pods.length >= replicas && pods.every((p) => p.metadata.labels?.[REVISION_LABEL] === update)) {
    o.out(`nothing to roll out: every pod of statefulset/${name} runs revision ${shortRevision(sts, update)}. `
      + `Apply the new template with the partition at ${replicas} (UpdateStrategy.rollingUpdate(${replicas})), then run the rollout`);
    return;
  }
  o.out(`rolling statefulset/${name} from revision ${shortRevision(sts, sts.status.currentRevision)} to ${shortRevision(sts, update)} `
    + `in ${counts.length} stage(s): ${counts.map((c) => `${c} pod(s) (partition ${replicas - c})`).join(', ')}`);
  for (const [i, count] of counts.entries()) {
    const partition = replicas - count;
    const label = `stage ${i + 1}/${counts.length} (${count} of ${replicas} pods, partition ${partition})`;
    o.out(`${label}: setting the partition`);
    sts = k.patch(`statefulset/${name}`, { spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition } } } });
    const advice = `The partition stays at ${partition}: pods below ordinal ${partition} keep revision ${shortRevision(sts, sts.status?.currentRevision)}. `
      + `Fix the cause, then run the rollout again to continue, or go back: cdk8s-stateful rollout ${name} --undo`;
    await waitForRevision(k, o, name, partition, label, opts.timeoutMs, `rollout of statefulset/${name} stopped`, advice);
    if (system) await passGate(k, o, system, name, opts.gateTimeoutMs, `rollout of statefulset/${name} stopped after ${label}`, advice);
    o.out(`${label}: done`);
  }
  sts = loadStatefulSet(k, name);
  o.out(`rolled out revision ${shortRevision(sts, sts.status.updateRevision)} to all ${replicas} pods of statefulset/${name}`);
}

/**
 * Waits until the pods at ordinals >= partition run the StatefulSet's update
 * revision and are Ready, printing progress; on timeout, says which pod is
 * behind and why.
 */
export async function waitForRevision(k: Kubectl, o: Output, name: string, partition: number, label: string, timeoutMs: number, stopped: string, advice: string): Promise<void> {
  let behind: string[] = [];
  await waitFor(o, timeoutMs, () => {
    const sts = loadStatefulSet(k, name);
    const replicas: number = sts.spec.replicas ?? 1;
    if ((sts.status?.observedGeneration ?? 0) < sts.metadata.generation) return { done: false, progress: `${label}: waiting for the StatefulSet controller` };
    const update: string = sts.status.updateRevision;
    const byOrdinal = new Map(podsOf(k, sts).map((p) => [ordinalOf(p), p]));
    const ordinals = Array.from({ length: replicas - partition }, (_, i) => partition + i);
    const updated = ordinals.filter((n) => { const p = byOrdinal.get(n); return p && !p.metadata.deletionTimestamp && p.metadata.labels?.[REVISION_LABEL] === update; });
    const ready = updated.filter((n) => isReady(byOrdinal.get(n)));
    behind = ordinals.filter((n) => !ready.includes(n)).sort((a, b) => b - a).map((n) => {
      const p: Json | undefined = byOrdinal.get(n);
      const rev = p?.metadata.labels?.[REVISION_LABEL];
      return `${name}-${n}: ${!p ? 'does not exist yet' : rev !== update ? `still runs revision ${shortRevision(sts, rev)}, not the update ${shortRevision(sts, update)} (${notReadyReason(p)})` : `runs the update revision ${shortRevision(sts, update)} but is not Ready (${notReadyReason(p)})`}`;
    });
    return {
      done: behind.length === 0,
      progress: `${label}: updated ${updated.length}/${ordinals.length}, ready ${ready.length}/${ordinals.length}${behind.length ? `; waiting for ${behind[0].split(':')[0]}` : ''}`,
    };
  }, (waited) => `${stopped}: ${label} did not finish within ${waited}:\n${behind.map((b) => `  ${b}`).join('\n')}\n${advice}`);
}

/**
 * Back to the revision the not-yet-updated pods run (`status.currentRevision`),
 * or, after a finished rollout, to the revision before it: `kubectl rollout
 * undo --to-revision` with that ControllerRevision's number. The controller
 * then replaces the updated pods (ordinals >= partition) with it.
 */
async function undo(k: Kubectl, o: Output, sts: Json, system: System | undefined, opts: RolloutOptions): Promise<void> {
  const name = opts.name;
  const revisions: Json[] = k.list(['controllerrevisions'])
    .filter((r) => (r.metadata.ownerReferences ?? []).some((x: Json) => x.kind === 'StatefulSet' && x.name === name));
  const byName = new Map(revisions.map((r) => [r.metadata.name, r]));
  const update = byName.get(sts.status.updateRevision);
  const target: Json | undefined = sts.status.currentRevision !== sts.status.updateRevision
    ? byName.get(sts.status.currentRevision)
    : revisions.filter((r) => update && r.revision < update.revision).sort((a, b) => b.revision - a.revision)[0];
  if (!target) {
    throw refusal(`statefulset/${name} has no earlier revision to go back to: every pod runs ${shortRevision(sts, sts.status.updateRevision)} and no older ControllerRevision is kept`);
  }
  const partition: number = sts.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
  o.out(`rolling statefulset/${name} back from revision ${shortRevision(sts, sts.status.updateRevision)} to ${shortRevision(sts, target.metadata.name)} (ControllerRevision ${target.metadata.name}, revision ${target.revision})`);
  o.out(`  ${k.must(['rollout', 'undo', `statefulset/${name}`, `--to-revision=${target.revision}`]).trim()}`);
  const label = `undo (pods from ordinal ${partition} up)`;
  const advice = `The template is back at revision ${shortRevision(sts, target.metadata.name)}; the controller keeps replacing pods. Find the cause (kubectl describe pod), then check again with: cdk8s-stateful status ${name}`;
  const reverted = await observed(k, o, name, opts.timeoutMs);
  // With OrderedReady, the controller waits for a broken pod to become Ready before it replaces it, which
  // never happens: the forced rollback of the StatefulSet documentation is to delete those pods.
  const stuck = reverted.spec.podManagementPolicy === 'Parallel' ? [] : podsOf(k, reverted)
    .filter((p) => ordinalOf(p) >= partition && p.metadata.labels?.[REVISION_LABEL] !== reverted.status.updateRevision && !isReady(p));
  for (const p of stuck) {
    o.out(`  deleting ${p.metadata.name}: it runs revision ${shortRevision(reverted, p.metadata.labels?.[REVISION_LABEL])} and is not Ready, and the controller would wait for it before replacing it`);
    k.must(['delete', 'pod', p.metadata.name, '--wait=false']);
  }
  await waitForRevision(k, o, name, partition, label, opts.timeoutMs, `undo of statefulset/${name} stopped`, advice);
  if (system) await passGate(k, o, system, name, opts.gateTimeoutMs, `undo of statefulset/${name}`, advice);
  const after = loadStatefulSet(k, name);
  const pods = podsOf(k, after);
  const mixed = pods.filter((p) => p.metadata.labels?.[REVISION_LABEL] !== after.status.updateRevision).map((p) => p.metadata.name);
  o.out(`statefulset/${name} is back at revision ${shortRevision(after, after.status.updateRevision)}`
    + (mixed.length ? `; ${mixed.join(', ')} (below the partition ${partition}) still run another revision` : ` on all ${pods.length} pods`));
}
