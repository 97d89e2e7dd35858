/** Server-side apply of synthesized objects, and what the API server said about each. */
import { CRD_FILES } from '../support/schemas';
import { ControlPlane, sleep } from './harness';

type Json = any;

export const FIELD_MANAGER = 'cdk8s-stateful';

export interface ApplyResult {
  /** Objects sent. */
  readonly objects: number;
  /** Objects the API server accepted (one `kubectl -o name` line each). */
  readonly applied: number;
  /** Every `error` line kubectl printed (one per rejected object). */
  readonly rejections: string[];
  /** Every `Warning:` the API server returned (Pod Security, deprecations). */
  readonly warnings: string[];
}

/** `kubectl apply --server-side` of `objects` in one call (strict field validation). */
export function applyServerSide(cp: ControlPlane, objects: Json[], extra: string[] = []): ApplyResult {
  const r = cp.kubectl(['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--validate=strict', '-o', 'name', ...extra, '-f', '-'],
    { input: objects.map((o) => JSON.stringify(o)).join('\n') });
  const lines = r.stderr.split('\n').filter(Boolean);
  return {
    objects: objects.length,
    applied: r.stdout.split('\n').filter(Boolean).length,
    rejections: lines.filter((l) => !l.startsWith('Warning:')),
    warnings: lines.filter((l) => l.startsWith('Warning:')),
  };
}

/** How to address `o` with kubectl: [resource/name, -n ns]. */
export function ref(o: Json): string[] {
  const [group] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : [''];
  const kind = group ? `${o.kind}.${o.apiVersion.split('/')[1]}.${group}` : o.kind;
  return [`${kind}/${o.metadata.name}`, ...(o.metadata.namespace ? ['-n', o.metadata.namespace] : [])];
}

/**
 * What our field manager owns on each object, and the object's generation:
 * a server-side apply that changes any field changes this (the Apply entry of
 * managedFields gets a new time and field set; spec changes bump generation).
 */
export function ownedState(cp: ControlPlane, objects: Json[]): Map<string, string> {
  const state = new Map<string, string>();
  const live = JSON.parse(cp.must(['get', '-o', 'json', '-f', '-'], { input: objects.map((o) => JSON.stringify(o)).join('\n') }));
  for (const o of live.items ?? [live]) {
    const mine = (o.metadata.managedFields ?? []).filter((m: Json) => m.manager === FIELD_MANAGER && m.operation === 'Apply');
    state.set(`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`,
      JSON.stringify({ generation: o.metadata.generation, resourceVersionIfNoStatus: o.status === undefined ? o.metadata.resourceVersion : undefined, mine }));
  }
  return state;
}

/** Names of the objects whose owned state differs between two snapshots. */
export function changedBetween(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...after.keys()].filter((k) => before.get(k) !== after.get(k));
}

/** Installs the Prometheus Operator CRDs the project carries (schemas/crds) and waits until they are Established. */
export async function installCrds(cp: ControlPlane): Promise<string[]> {
  const args = CRD_FILES.flatMap((f) => ['-f', f]);
  cp.must(['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, ...args]);
  cp.must(['wait', '--for=condition=Established', '--timeout=60s', ...args]);
  // discovery of the new group may lag a moment behind Established
  await cp.waitFor('monitoring.coreos.com in discovery', () => cp.kubectl(['api-resources', '--api-group=monitoring.coreos.com', '-o', 'name']).stdout.includes('servicemonitors'), 30_000);
  await sleep(200);
  return cp.must(['get', 'crd', '-o', 'name']).split('\n').filter(Boolean);
}

/** Namespaces the objects live in (and the charts' own). */
export function namespacesOf(objects: Json[]): string[] {
  const ns = new Set<string>();
  for (const o of objects) {
    if (o.metadata?.namespace) ns.add(o.metadata.namespace);
    if (o.kind === 'Namespace') ns.delete(o.metadata.name);
  }
  ns.delete('default');
  return [...ns].sort();
}

/** A fixed-width text table. */
export function table(header: string[], rows: (string | number)[][]): string {
  const all = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  return all.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n');
}
