import { refusal, timeout } from './errors';
import { Json, Kubectl } from './kubectl';
import { formatDuration } from './units';

/** Where the CLI writes: progress and results to `out`, problems to `err`. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export const REVISION_LABEL = 'controller-revision-hash';

/** The StatefulSet `name`, or a refusal that says where the CLI looked. */
export function loadStatefulSet(k: Kubectl, name: string): Json {
  const sts = k.get(['statefulset', name]);
  if (!sts) {
    const others = k.list(['statefulsets']).map((s) => s.metadata.name);
    throw refusal(`statefulset "${name}" not found in namespace "${k.namespace}"`
      + (others.length > 0 ? ` (it has: ${others.join(', ')})` : ' (it has no StatefulSets; pass -n/--namespace or --context)'));
  }
  return sts;
}

/** The ordinal in a pod name `<statefulset>-<ordinal>`. */
export function ordinalOf(pod: Json): number {
  const name: string = pod.metadata.name;
  return Number(name.slice(name.lastIndexOf('-') + 1));
}

/** The StatefulSet's pods (by name: `<name>-<ordinal>`, selected by its labels), by ordinal. */
export function podsOf(k: Kubectl, sts: Json): Json[] {
  const labels: { [k: string]: string } = sts.spec.selector?.matchLabels ?? {};
  const selector = Object.entries(labels).map(([key, v]) => `${key}=${v}`).join(',');
  const pattern = new RegExp(`^${sts.metadata.name.replace(/[.]/g, '\\.')}-\\d+$`);
  return k.list(['pods', ...(selector ? ['-l', selector] : [])])
    .filter((p) => pattern.test(p.metadata.name))
    .sort((a, b) => ordinalOf(a) - ordinalOf(b));
}

export function isReady(pod: Json): boolean {
  return !pod.metadata.deletionTimestamp && (pod.status?.conditions ?? []).some((c: Json) => c.type === 'Ready' && c.status === 'True');
}

export function restartsOf(pod: Json): number {
  return (pod.status?.containerStatuses ?? []).reduce((n: number, c: Json) => n + (c.restartCount ?? 0), 0);
}

/** Why a pod is not Ready, in a few words (phase, condition, waiting container). */
export function notReadyReason(pod: Json | undefined): string {
  if (!pod) return 'does not exist yet';
  if (pod.metadata.deletionTimestamp) return 'is terminating';
  const phase = pod.status?.phase ?? 'Pending';
  const waiting = (pod.status?.containerStatuses ?? []).map((c: Json) => c.state?.waiting ? `${c.name}: ${c.state.waiting.reason}${c.state.waiting.message ? ` (${c.state.waiting.message})` : ''}` : '').filter(Boolean);
  const ready = (pod.status?.conditions ?? []).find((c: Json) => c.type === 'Ready');
  const scheduled = (pod.status?.conditions ?? []).find((c: Json) => c.type === 'PodScheduled' && c.status !== 'True');
  const parts = [`phase ${phase}`];
  if (scheduled) parts.push(`not scheduled: ${scheduled.reason ?? ''} ${scheduled.message ?? ''}`.trim());
  if (ready && ready.status !== 'True') parts.push(`Ready=${ready.status}${ready.reason ? ` (${ready.reason})` : ''}`);
  parts.push(...waiting);
  return parts.join(', ');
}

/** Short form of a revision name for tables and progress lines: the hash after the StatefulSet name. */
export function shortRevision(sts: Json, revision: string | undefined): string {
  if (!revision) return '-';
  const prefix = `${sts.metadata.name}-`;
  return revision.startsWith(prefix) ? revision.slice(prefix.length) : revision;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** How long to wait between two looks at the cluster (overridable for tests through CDK8S_STATEFUL_POLL_MS). */
export function pollInterval(): number {
  const v = Number(process.env.CDK8S_STATEFUL_POLL_MS);
  return Number.isFinite(v) && v > 0 ? v : 1000;
}

/**
 * Polls `check` until it says done; prints its progress line whenever the
 * line changes (and at least every 30 s); throws a timeout whose message is
 * `report()` when `timeoutMs` passes first.
 */
export async function waitFor(o: Output, timeoutMs: number, check: () => { done: boolean; progress: string }, report: (waited: string) => string): Promise<void> {
  const start = Date.now();
  let last = '';
  let lastPrinted = 0;
  for (;;) {
    const r = check();
    if (r.done) return;
    const now = Date.now();
    if (r.progress !== last || now - lastPrinted > 30_000) {
      o.out(`  ${r.progress}`);
      last = r.progress;
      lastPrinted = now;
    }
    if (now - start > timeoutMs) throw timeout(report(formatDuration(timeoutMs)));
    await sleep(pollInterval());
  }
}

/** Waits until the StatefulSet controller has seen the latest spec; the fresh object. */
export async function observed(k: Kubectl, o: Output, name: string, timeoutMs: number): Promise<Json> {
  let sts: Json;
  await waitFor(o, timeoutMs, () => {
    sts = loadStatefulSet(k, name);
    return { done: (sts.status?.observedGeneration ?? 0) >= sts.metadata.generation, progress: `waiting for the StatefulSet controller to observe generation ${sts.metadata.generation}` };
  }, (w) => `the StatefulSet controller did not observe statefulset/${name} generation ${sts.metadata.generation} within ${w}: is kube-controller-manager running?`);
  return sts;
}
