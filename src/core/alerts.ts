// The alert framework: the rules every monitored workload gets (StatefulSet,
// volume and backup alerts on kube-state-metrics and kubelet series, as the
// kubernetes-mixin writes them), and the user's options applied to a system's
// own rules and to those: disabled rules, per-rule severity, pendingFor and
// threshold, extra labels, runbook links.
//
// Series and labels used:
// - kube-state-metrics: kube_statefulset_{replicas, status_replicas_ready,
//   status_replicas_updated, status_observed_generation, metadata_generation,
//   status_current_revision, status_update_revision} with `namespace` and
//   `statefulset` (the revision ones add `revision`); kube_cronjob_created and
//   kube_cronjob_status_last_successful_time with `namespace` and `cronjob`
//   (the latter exists only once the CronJob succeeded);
// - kubelet: kubelet_volume_stats_{available,capacity,used}_bytes with
//   `namespace` and `persistentvolumeclaim`
//   (pkg/kubelet/metrics/collectors/volume_stats.go).
import { Duration } from 'cdk8s';
import type { AlertOverride, AlertRule, BackupAlertOptions, MonitoringOptions } from './monitoring';
import { describe, Problem } from './names';

/** What the shared rules are scoped to. */
export interface AlertScope {
  readonly namespace: string | undefined;
  readonly statefulSet: string;
  /** Names of the volume claim templates (claims are `<template>-<statefulSet>-<ordinal>`). */
  readonly claimTemplates: string[];
  readonly backup?: BackupAlertOptions;
}

/** A rule as Prometheus reads it. */
export interface RenderedAlert {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: { [key: string]: string };
  readonly annotations: { [key: string]: string };
}

/** The rules of one group, and the prop that supplied them (for error messages). */
export interface AlertGroupInput {
  readonly name: string;
  readonly rules: AlertRule[];
  readonly prop: string;
  /** The rules every monitored workload gets (not the system's or the user's). */
  readonly builtIn?: boolean;
}

/** Default of `MonitoringOptions.runbookBaseUrl`: docs/runbooks.md of this project on GitHub. */
export const DEFAULT_RUNBOOK_BASE_URL = 'https://github.com/cdk8s-stateful/cdk8s-stateful/blob/main/docs/runbooks.md';

const THRESHOLD = '$threshold';
const ALERT_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const SEVERITY = /^[a-zA-Z][a-zA-Z0-9_-]*$/;
const RESERVED_ALERT_LABELS = ['severity', 'alertname'];

/** `a="x", b=~"y"` from matchers; an undefined value leaves the matcher out. */
export function matchers(m: { [label: string]: string | undefined }, regex: { [label: string]: string } = {}): string {
  return [
    ...Object.entries(m).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}="${v}"`),
    ...Object.entries(regex).map(([k, v]) => `${k}=~"${v}"`),
  ].join(', ');
}

/**
 * Selects the series a workload's ServiceMonitor scrapes: the Prometheus
 * Operator names the job after the Service (the headless one, which has the
 * METRICS port) and labels each series with `namespace` and `pod`.
 */
export function scrapeSelector(id: { namespaceName: string | undefined; headlessServiceName: string }): string {
  return matchers({ job: id.headlessServiceName, namespace: id.namespaceName });
}

/** `namespace/name`, or `name` when the chart has no namespace. */
export function displayName(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/**
 * The rules every monitored workload gets: the kubernetes-mixin's
 * StatefulSet alerts, volume filling (with claims), and the backup age
 * (with `scope.backup`).
 */
export function kubernetesAlerts(problem: Problem, backupProp: string, scope: AlertScope): AlertRule[] {
  const sts = matchers({ namespace: scope.namespace, statefulset: scope.statefulSet });
  const set = '{{ $labels.namespace }}/{{ $labels.statefulset }}';
  const rules: AlertRule[] = [
    {
      name: 'StatefulSetReplicasMismatch',
      severity: 'warning',
      pendingFor: Duration.minutes(15),
      expr: `(kube_statefulset_status_replicas_ready{${sts}} != kube_statefulset_replicas{${sts}}) and (changes(kube_statefulset_status_replicas_updated{${sts}}[10m]) == 0)`,
      summary: `StatefulSet ${set} does not have its desired number of Ready pods`,
      description: 'Ready pods differ from spec.replicas and no pod was updated for 10 minutes: a pod is Pending (no node, no volume), crash-looping or failing its readiness probe.',
    },
    {
      name: 'StatefulSetGenerationMismatch',
      severity: 'warning',
      pendingFor: Duration.minutes(15),
      expr: `kube_statefulset_status_observed_generation{${sts}} != kube_statefulset_metadata_generation{${sts}}`,
      summary: `StatefulSet ${set} has a spec change the controller has not acted on`,
      description: 'The StatefulSet controller has not observed the latest generation: the change was not applied (controller-manager down, or the update is rejected).',
    },
    {
      name: 'StatefulSetUpdateNotRolledOut',
      severity: 'warning',
      pendingFor: Duration.minutes(15),
      expr: `(max without (revision) (kube_statefulset_status_current_revision{${sts}} unless kube_statefulset_status_update_revision{${sts}})`
        + ` * (kube_statefulset_replicas{${sts}} != kube_statefulset_status_replicas_updated{${sts}}))`
        + ` and (changes(kube_statefulset_status_replicas_updated{${sts}}[5m]) == 0)`,
      summary: `The update of StatefulSet ${set} is not rolled out`,
      description: 'Some pods still run the old revision and none was updated for 5 minutes: the rollout is stuck on a pod that does not become Ready, or is held by a partition or the OnDelete strategy.',
    },
  ];
  if (scope.claimTemplates.length > 0) {
    const vol = matchers({ namespace: scope.namespace }, { persistentvolumeclaim: `(${scope.claimTemplates.join('|')})-${scope.statefulSet}-[0-9]+` });
    const free = `kubelet_volume_stats_available_bytes{${vol}} / kubelet_volume_stats_capacity_bytes{${vol}}`;
    const used = `kubelet_volume_stats_used_bytes{${vol}} > 0`;
    const claim = '{{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }}';
    rules.push(
      {
        name: 'VolumeFillingUp',
        severity: 'warning',
        pendingFor: Duration.hours(1),
        threshold: { value: 15, unit: 'percent of the volume free', min: 0, max: 100 },
        expr: `(${free}) < ${THRESHOLD} / 100 and ${used} and predict_linear(kubelet_volume_stats_available_bytes{${vol}}[6h], 4 * 24 * 3600) < 0`,
        summary: `Volume ${claim} has less than ${THRESHOLD}% free and will be full within 4 days`,
        description: 'At the rate of the last 6 hours the volume fills up within 4 days. Expand the claim or free space before the server stops writing.',
      },
      {
        name: 'VolumeAlmostFull',
        severity: 'critical',
        pendingFor: Duration.minutes(1),
        threshold: { value: 3, unit: 'percent of the volume free', min: 0, max: 100 },
        expr: `(${free}) < ${THRESHOLD} / 100 and ${used}`,
        summary: `Volume ${claim} has less than ${THRESHOLD}% free`,
        description: 'The server will soon fail writes (or stop). Expand the claim or free space now.',
      },
    );
  }
  if (scope.backup) rules.push(backupTooOld(problem, backupProp, scope, scope.backup));
  return rules;
}

/** No backup CronJob succeeded for maxAge (or, never succeeded, it exists for longer than that). */
function backupTooOld(problem: Problem, prop: string, scope: AlertScope, backup: BackupAlertOptions): AlertRule {
  if (!Array.isArray(backup.cronJobs) || backup.cronJobs.length === 0) {
    throw problem.error(`${prop}.cronJobs`, `must name at least one CronJob, got ${Array.isArray(backup.cronJobs) ? 'none' : describe(backup.cronJobs)}`);
  }
  backup.cronJobs.forEach((c) => problem.dnsLabel(`${prop}.cronJobs`, c, 52));
  problem.instanceOf(`${prop}.maxAge`, backup.maxAge, Duration, 'a Duration such as Duration.hours(48)');
  const hours = backup.maxAge.toSeconds() / 3600;
  if (!(hours >= 1)) throw problem.error(`${prop}.maxAge`, `must be at least 1 hour (a backup takes time), got ${backup.maxAge.toSeconds()} seconds`);
  const cj = matchers({ namespace: scope.namespace }, { cronjob: backup.cronJobs.join('|') });
  const limit = `${THRESHOLD} * 3600`;
  return {
    name: 'BackupTooOld',
    severity: 'warning',
    pendingFor: Duration.minutes(30),
    threshold: { value: hours, unit: 'hours since the last successful backup', min: 1 },
    expr: `(time() - max by (namespace) (kube_cronjob_status_last_successful_time{${cj}}) > ${limit})`
      + ` or (time() - min by (namespace) (kube_cronjob_created{${cj}}) > ${limit}`
      + ` unless on (namespace) count by (namespace) (kube_cronjob_status_last_successful_time{${cj}}))`,
    summary: `No backup of ${displayName(scope.namespace, scope.statefulSet)} succeeded in the last ${THRESHOLD} hours`,
    description: `None of the backup CronJobs (${backup.cronJobs.join(', ')}) completed successfully in that time, or none ever did. Restores reach back only to the last good backup.`,
  };
}

/**
 * Checks the user's options against the rules and applies them: drops the
 * disabled rules, applies overrides, substitutes thresholds, adds the extra
 * labels and the runbook links. Every mistake is an error naming the option
 * and what is allowed.
 */
export function applyAlertOptions(
  problem: Problem, option: (name: string) => string, options: MonitoringOptions, groups: AlertGroupInput[],
): { name: string; rules: AlertRule[]; rendered: RenderedAlert[] }[] {
  const byName = new Map<string, AlertRule>();
  const from = new Map<string, AlertGroupInput>();
  for (const g of groups) {
    if (!Array.isArray(g.rules)) throw problem.error(g.prop, `must be a list of alert rules, got ${describe(g.rules)}`);
    for (const r of g.rules) {
      checkRule(problem, g.prop, r);
      const first = from.get(r.name);
      if (first && (first.builtIn || g.builtIn)) {
        const mine = first.builtIn ? g : first;
        throw problem.error(mine.prop, `has an alert named '${r.name}' like a built-in alert; give yours another name (and turn the built-in one off with ${option('disabledAlerts')} if yours replaces it)`);
      }
      if (first) throw problem.error(g.prop, `has two alerts named '${r.name}'`);
      byName.set(r.name, r);
      from.set(r.name, g);
    }
  }
  const known = () => [...byName.keys()].join(', ');
  const baseUrl = runbookBase(problem, option('runbookBaseUrl'), options.runbookBaseUrl);
  const extraLabels = alertLabels(problem, option('alertLabels'), options.alertLabels);

  const disabled = new Set<string>();
  if (options.disabledAlerts !== undefined) {
    if (!Array.isArray(options.disabledAlerts)) throw problem.error(option('disabledAlerts'), `must be a list of alert names, got ${describe(options.disabledAlerts)}`);
    for (const n of options.disabledAlerts) {
      if (!byName.has(n)) throw problem.error(option('disabledAlerts'), `names '${n}', which is not an alert of this workload; the alerts are: ${known()}`);
      disabled.add(n);
    }
  }

  const overrides = options.alertOverrides ?? {};
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw problem.error(option('alertOverrides'), `must map alert names to overrides, got ${describe(overrides)}`);
  }
  for (const [n, o] of Object.entries(overrides)) {
    const prop = `${option('alertOverrides')} '${n}'`;
    const rule = byName.get(n);
    if (!rule) throw problem.error(option('alertOverrides'), `names '${n}', which is not an alert of this workload; the alerts are: ${known()}`);
    if (disabled.has(n)) throw problem.error(prop, `overrides an alert that ${option('disabledAlerts')} turns off; drop one of the two`);
    checkOverride(problem, prop, rule, o, [...byName.values()].filter((r) => r.threshold).map((r) => r.name));
  }

  return groups.map((g) => {
    const rules = g.rules.filter((r) => !disabled.has(r.name)).map((r) => withOverride(r, overrides[r.name] ?? {}));
    return { name: g.name, rules, rendered: rules.map((r) => render(r, extraLabels, baseUrl)) };
  });
}

/** The rule with the user's override applied. */
function withOverride(r: AlertRule, o: AlertOverride): AlertRule {
  return {
    ...r,
    severity: o.severity ?? r.severity ?? 'warning',
    pendingFor: o.pendingFor ?? r.pendingFor ?? Duration.minutes(5),
    threshold: r.threshold && { ...r.threshold, value: o.threshold ?? r.threshold.value },
  };
}

function checkRule(problem: Problem, prop: string, r: AlertRule): void {
  if (typeof r !== 'object' || r === null) throw problem.error(prop, `must hold alert rules ({ name, expr, summary, ... }), got ${describe(r)}`);
  if (typeof r.name !== 'string' || !ALERT_NAME.test(r.name)) throw problem.error(prop, `alert name '${r.name}' must match [a-zA-Z_][a-zA-Z0-9_]*`);
  for (const k of ['expr', 'summary'] as const) {
    if (typeof r[k] !== 'string' || r[k].trim() === '') throw problem.error(`${prop} '${r.name}'`, `needs a non-empty ${k}, got ${describe(r[k])}`);
  }
  problem.instanceOf(`${prop} '${r.name}' pendingFor`, r.pendingFor, Duration, 'a Duration such as Duration.minutes(5)');
  if (r.severity !== undefined) checkSeverity(problem, `${prop} '${r.name}' severity`, r.severity);
  const uses = r.expr.includes(THRESHOLD);
  if (r.threshold && !uses) throw problem.error(`${prop} '${r.name}'`, `declares a threshold, so its expr must write the number as ${THRESHOLD}`);
  if (!r.threshold && uses) throw problem.error(`${prop} '${r.name}'`, `writes ${THRESHOLD} in its expr but declares no threshold`);
  if (r.threshold) checkThreshold(problem, `${prop} '${r.name}' threshold`, r.threshold.value, r);
}

function checkOverride(problem: Problem, prop: string, rule: AlertRule, o: AlertOverride, withThreshold: string[]): void {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw problem.error(prop, `must be { severity, pendingFor, threshold }, got ${describe(o)}`);
  const unknown = Object.keys(o).filter((k) => !['severity', 'pendingFor', 'threshold'].includes(k));
  if (unknown.length > 0) throw problem.error(prop, `has unknown fields ${unknown.join(', ')}; an override sets severity, pendingFor or threshold`);
  if (o.severity !== undefined) checkSeverity(problem, `${prop} severity`, o.severity);
  problem.instanceOf(`${prop} pendingFor`, o.pendingFor, Duration, 'a Duration such as Duration.minutes(10)');
  if (o.threshold !== undefined) {
    if (!rule.threshold) {
      throw problem.error(`${prop} threshold`, `cannot be set: '${rule.name}' has no threshold; alerts with one: ${withThreshold.join(', ') || 'none'}`);
    }
    checkThreshold(problem, `${prop} threshold`, o.threshold, rule);
  }
}

function checkThreshold(problem: Problem, prop: string, value: number, rule: AlertRule): void {
  const t = rule.threshold!;
  const min = t.min ?? 0;
  const max = t.max ?? Number.POSITIVE_INFINITY;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = Number.isFinite(max) ? `from ${min} to ${max}` : `>= ${min}`;
    throw problem.error(prop, `must be a number ${range} (${t.unit}), got ${describe(value)}`);
  }
}

function checkSeverity(problem: Problem, prop: string, severity: string): void {
  if (typeof severity !== 'string' || !SEVERITY.test(severity)) {
    throw problem.error(prop, `must be a word such as 'critical', 'warning' or 'info' (letters, digits, '_' and '-'), got ${describe(severity)}`);
  }
}

function runbookBase(problem: Problem, prop: string, url: string | undefined): string {
  if (url === undefined) return DEFAULT_RUNBOOK_BASE_URL;
  if (typeof url !== 'string' || !/^https?:\/\/[^\s#]+$/.test(url)) {
    throw problem.error(prop, `must be an http(s) URL without a '#fragment' (the alert's section is appended), got ${describe(url)}`);
  }
  return url;
}

function alertLabels(problem: Problem, prop: string, labels: { [key: string]: string } | undefined): { [key: string]: string } {
  if (labels === undefined) return {};
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) throw problem.error(prop, `must map label names to values, got ${describe(labels)}`);
  for (const [k, v] of Object.entries(labels)) {
    if (!LABEL_NAME.test(k) || k.startsWith('__')) throw problem.error(prop, `key '${k}' is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with '__')`);
    if (RESERVED_ALERT_LABELS.includes(k)) throw problem.error(prop, `must not set '${k}': it is set per alert (change a severity with alertOverrides)`);
    if (typeof v !== 'string' || v === '') throw problem.error(`${prop} '${k}'`, `must be a non-empty string, got ${describe(v)}`);
  }
  return labels;
}

function render(r: AlertRule, extraLabels: { [key: string]: string }, baseUrl: string): RenderedAlert {
  const threshold = r.threshold?.value;
  const fill = (text: string) => (threshold === undefined ? text : text.split(THRESHOLD).join(String(threshold)));
  const description = r.description === undefined ? undefined : fill(r.description);
  return {
    alert: r.name,
    expr: fill(r.expr),
    for: `${(r.pendingFor ?? Duration.minutes(5)).toSeconds()}s`,
    labels: { ...extraLabels, severity: r.severity ?? 'warning' },
    annotations: {
      summary: fill(r.summary),
      ...(description !== undefined ? { description } : {}),
      runbook_url: r.runbookUrl ?? `${baseUrl}#${r.name.toLowerCase()}`,
    },
  };
}
