import { failure } from './errors';
import { describeFindings, healthOf, membersOf } from './health';
import { Json, Kubectl } from './kubectl';
import { System } from './systems/system';
import { loadStatefulSet, Output, podsOf, pollInterval, sleep } from './workload';
import { formatDuration } from './units';

/**
 * Runs the system's health checks over the StatefulSet's members until they
 * pass, for at most `gateTimeoutMs` (a member that just restarted may need a
 * moment to rejoin); then throws a failure that starts with `stopped` and
 * says which pod, which check and what it printed, followed by `advice`.
 */
export async function passGate(k: Kubectl, o: Output, system: System, name: string, gateTimeoutMs: number, stopped: string, advice: string): Promise<void> {
  const deadline = Date.now() + gateTimeoutMs;
  let lastSummary = '';
  for (;;) {
    const sts: Json = loadStatefulSet(k, name);
    const health = healthOf(k, system, membersOf(podsOf(k, sts), sts.spec.replicas ?? 1));
    if (health.findings.length === 0) {
      const roles = health.members.map((m) => `${m.pod} ${system.role?.(m) ?? 'ok'}`);
      const cluster = health.cluster ? [`${health.cluster.check}: ${Object.entries(health.cluster.values).map(([key, v]) => `${key}=${v}`).join(' ') || 'ok'}`] : [];
      o.out(`  ${system.title} health gate passed: ${[...roles, ...cluster].join(', ')}`);
      return;
    }
    if (Date.now() >= deadline) {
      throw failure(`${stopped}: the ${system.title} health gate failed${gateTimeoutMs > 0 ? ` for ${formatDuration(gateTimeoutMs)}` : ''}:\n${describeFindings(health.findings)}\n${advice}`);
    }
    const summary = health.findings.map((f) => `${f.pod ?? 'cluster'}: ${f.check}`).join('; ');
    if (summary !== lastSummary) o.out(`  health gate not passed yet (${summary}); checking again until ${formatDuration(gateTimeoutMs)} have passed`);
    lastSummary = summary;
    await sleep(pollInterval() * 5);
  }
}
