import { healthOf, describeFindings } from './health';
import { Kubectl } from './kubectl';
import { detectSystem } from './systems';
import { CheckResult } from './systems/system';
import { isReady, loadStatefulSet, ordinalOf, Output, podsOf, REVISION_LABEL, restartsOf, shortRevision } from './workload';

export interface StatusOptions {
  readonly name: string;
  /** 'auto': run the system's checks for roles and lag; 'none': only what the API says. */
  readonly gate: string;
  /** 'table' or 'json'. */
  readonly output: string;
}

/** A fixed-width text table. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

/**
 * The members of a StatefulSet: pod, ordinal, readiness, revision, the
 * role and lag the system reports, restarts. True when every member is
 * Ready and the system's checks found nothing.
 */
export function status(k: Kubectl, o: Output, opts: StatusOptions): boolean {
  const sts = loadStatefulSet(k, opts.name);
  const replicas: number = sts.spec.replicas ?? 1;
  const system = opts.gate === 'none' ? undefined : detectSystem(sts);
  const pods = podsOf(k, sts);
  const health = system ? healthOf(k, system, pods.filter((p) => ordinalOf(p) < replicas && p.status?.phase === 'Running')) : undefined;
  const byPod = new Map<string, CheckResult>((health?.members ?? []).map((m) => [m.pod, m]));
  const update: string | undefined = sts.status?.updateRevision;
  const current: string | undefined = sts.status?.currentRevision;
  const rows = Array.from({ length: Math.max(replicas, ...pods.map((p) => ordinalOf(p) + 1)) }, (_, i) => {
    const pod = pods.find((p) => ordinalOf(p) === i);
    const podName = `${opts.name}-${i}`;
    if (!pod) return { pod: podName, ordinal: i, ready: 'missing', revision: '-', role: '-', lag: '-', restarts: '-' };
    const rev: string | undefined = pod.metadata.labels?.[REVISION_LABEL];
    const which = rev === update ? 'update' : rev === current ? 'current' : 'other';
    const m = byPod.get(podName);
    return {
      pod: podName, ordinal: i,
      ready: i >= replicas ? 'removing' : isReady(pod) ? 'yes' : 'no',
      revision: `${shortRevision(sts, rev)} (${update === current && which === 'update' ? 'current' : which})`,
      role: !m ? '-' : m.ok ? system!.role?.(m) ?? 'ok' : m.values.role ? `${system!.role?.(m)} (failing)` : 'failing',
      lag: m ? system!.lag?.(m) || '-' : '-',
      restarts: String(restartsOf(pod)),
    };
  });
  const partition: number | undefined = sts.spec.updateStrategy?.rollingUpdate?.partition;
  const healthy = rows.every((r) => r.ready === 'yes' || r.ready === 'removing') && (health?.findings.length ?? 0) === 0;
  if (opts.output === 'json') {
    o.out(JSON.stringify({
      statefulSet: opts.name, namespace: k.namespace, system: system?.title ?? null, replicas,
      readyReplicas: sts.status?.readyReplicas ?? 0, updatedReplicas: sts.status?.updatedReplicas ?? 0,
      updateStrategy: sts.spec.updateStrategy?.type ?? 'RollingUpdate', partition: partition ?? null,
      currentRevision: current ?? null, updateRevision: update ?? null, healthy,
      members: rows, findings: health?.findings ?? [],
    }, undefined, 2));
    return healthy;
  }
  o.out(`statefulset/${opts.name} in namespace ${k.namespace}: ${system ? system.title : 'no health checks (no system the CLI knows by its labels)'}, `
    + `${sts.status?.readyReplicas ?? 0}/${replicas} ready, ${sts.status?.updatedReplicas ?? 0}/${replicas} updated`);
  o.out(`update strategy ${sts.spec.updateStrategy?.type ?? 'RollingUpdate'}${partition !== undefined ? ` (partition ${partition})` : ''}, `
    + `revisions: current ${shortRevision(sts, current)}, update ${shortRevision(sts, update)}`);
  o.out('');
  o.out(table(['POD', 'ORDINAL', 'READY', 'REVISION', 'ROLE', 'LAG', 'RESTARTS'],
    rows.map((r) => [r.pod, String(r.ordinal), r.ready, r.revision, r.role, r.lag, r.restarts])));
  if (health) {
    o.out('');
    o.out(health.findings.length === 0 ? `health: ok (${[system!.member?.name, system!.cluster?.name].filter(Boolean).join(', ')})` : `health: problems\n${describeFindings(health.findings)}`);
  }
  return healthy;
}
