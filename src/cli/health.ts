import { Json, Kubectl } from './kubectl';
import { Check, CheckResult, Finding, indent, keyValues, System } from './systems/system';
import { isReady, ordinalOf } from './workload';

const KUBECTL_EXIT = /(^|\n)(command terminated with exit code \d+|error: [\s\S]*exit (status|code) \d+)\s*$/;

/** Runs `check` in `pod`'s system container. */
export function runCheck(k: Kubectl, system: System, pod: string, check: Check): CheckResult {
  const r = k.exec(pod, system.container, check.script, check.args ?? []);
  // kubectl ends with its own words about the exit code (some runtimes quote the whole command): the script's are enough
  const stderr = r.stderr.replace(KUBECTL_EXIT, '');
  return {
    pod, ordinal: Number(pod.slice(pod.lastIndexOf('-') + 1)), check: check.name, ok: r.code === 0,
    stdout: r.stdout, values: keyValues(r.stdout), output: [r.stdout.trim(), stderr.trim()].filter(Boolean).join('\n'),
  };
}

/** The system's health: every member's check, the cluster check, and the cross-member rules. */
export interface Health {
  readonly members: CheckResult[];
  readonly cluster?: CheckResult;
  readonly findings: Finding[];
}

export function healthOf(k: Kubectl, system: System, pods: Json[]): Health {
  const members = system.member ? pods.map((p) => runCheck(k, system, p.metadata.name, system.member!)) : [];
  const findings: Finding[] = members.filter((m) => !m.ok).map((m) => ({ pod: m.pod, check: m.check, detail: m.output || 'failed without output' }));
  if (findings.length === 0 && system.judge && members.length > 0) findings.push(...system.judge(members));
  let cluster: CheckResult | undefined;
  if (system.cluster) {
    const where = pods.find((p) => isReady(p)) ?? pods[0];
    if (where) {
      cluster = runCheck(k, system, where.metadata.name, system.cluster);
      if (!cluster.ok) findings.push({ pod: cluster.pod, check: cluster.check, detail: cluster.output || 'failed without output' });
    }
  }
  return { members, cluster, findings };
}

/** Findings as report lines: which pod, which check, what it printed. */
export function describeFindings(findings: Finding[]): string {
  return findings.map((f) => {
    const where = f.pod ? `pod ${f.pod}, check "${f.check}"` : `check "${f.check}"`;
    return f.detail.includes('\n') ? `  ${where} printed:\n${indent(f.detail)}` : `  ${where}: ${f.detail}`;
  }).join('\n');
}

/** Pods sorted by ordinal that exist among `pods` for ordinals below `replicas`. */
export function membersOf(pods: Json[], replicas: number): Json[] {
  return pods.filter((p) => ordinalOf(p) < replicas);
}
