/**
 * promtool scenarios for the alerts every monitored workload gets, on series
 * written as kube-state-metrics and the kubelet export them (label names
 * from their sources: `namespace`, `statefulset`, `revision`, `cronjob`,
 * `persistentvolumeclaim`), plus the labels their scrape adds (`job`,
 * `instance`, ...). Each alert has scenarios where it fires and where it
 * stays silent, including a neighbour that is broken while this workload is
 * healthy (the rules must be scoped to their own StatefulSet).
 */
import { AlertCase, Labels } from './promtool';

/** `name{a="x", b="y"}` */
export function series(metric: string, labels: Labels): string {
  return `${metric}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(', ')}}`;
}

/**
 * The labels of a series the ServiceMonitor of StatefulSet `statefulSet`
 * scrapes from pod `<statefulSet>-<ordinal>`: the Prometheus Operator names the
 * job after the Service (the headless one) and adds namespace, service,
 * endpoint (the port name), container, pod and instance.
 */
export function scraped(namespace: string, statefulSet: string, ordinal: number, container: string, port: number): Labels {
  return {
    namespace, job: `${statefulSet}-headless`, service: `${statefulSet}-headless`, endpoint: 'metrics', container,
    pod: `${statefulSet}-${ordinal}`, instance: `10.244.0.${10 + ordinal}:${port}`,
  };
}

/** What the shared scenarios are about. */
export interface SharedScope {
  readonly namespace: string;
  readonly statefulSet: string;
  /** One claim of this StatefulSet, e.g. `data-zk-1`. */
  readonly claim?: string;
  /** The backup CronJobs and the alert's threshold in hours. */
  readonly backup?: { readonly cronJobs: string[]; readonly maxAgeHours: number };
  /** Labels the user adds to every alert. */
  readonly extraLabels?: Labels;
}

const KSM = { job: 'kube-state-metrics', instance: '10.244.1.7:8080' };
const KUBELET = { job: 'kubelet', metrics_path: '/metrics', instance: '10.0.0.4:10250', node: 'node-1', service: 'kube-prometheus-stack-kubelet', endpoint: 'https-metrics' };
const GIB = 1024 * 1024 * 1024;

/** Scenarios for StatefulSetReplicasMismatch, ...GenerationMismatch, ...UpdateNotRolledOut, the volume alerts (with a claim) and BackupTooOld (with backups). */
export function sharedAlertCases(s: SharedScope): AlertCase[] {
  const extra = s.extraLabels ?? {};
  const sts = { namespace: s.namespace, statefulset: s.statefulSet, ...KSM };
  const neighbour = { ...sts, statefulset: `${s.statefulSet}-other` };
  const ksm = (metric: string, labels: Labels = sts) => series(`kube_statefulset_${metric}`, labels);
  const cases: AlertCase[] = [
    {
      name: 'one pod not Ready for 30 minutes and no pod updated: fires',
      alert: 'StatefulSetReplicasMismatch', at: '30m',
      series: { [ksm('replicas')]: '3x40', [ksm('status_replicas_ready')]: '2x40', [ksm('status_replicas_updated')]: '3x40' },
      fires: [{ ...sts, severity: 'warning', ...extra }],
    },
    {
      name: 'a rollout that updated a pod 4 minutes ago (still progressing), and a broken neighbour StatefulSet: silent',
      alert: 'StatefulSetReplicasMismatch', at: '30m',
      series: {
        [ksm('replicas')]: '3x40', [ksm('status_replicas_ready')]: '2x40', [ksm('status_replicas_updated')]: '1x25 2x15',
        [ksm('replicas', neighbour)]: '3x40', [ksm('status_replicas_ready', neighbour)]: '1x40', [ksm('status_replicas_updated', neighbour)]: '3x40',
      },
      fires: [],
    },
    {
      name: 'observed generation behind metadata generation for 30 minutes: fires',
      alert: 'StatefulSetGenerationMismatch', at: '30m',
      series: { [ksm('status_observed_generation')]: '4x40', [ksm('metadata_generation')]: '5x40' },
      fires: [{ ...sts, severity: 'warning', ...extra }],
    },
    {
      name: 'generations equal here, behind in the neighbour: silent',
      alert: 'StatefulSetGenerationMismatch', at: '30m',
      series: {
        [ksm('status_observed_generation')]: '5x40', [ksm('metadata_generation')]: '5x40',
        [ksm('status_observed_generation', neighbour)]: '4x40', [ksm('metadata_generation', neighbour)]: '5x40',
      },
      fires: [],
    },
    {
      name: 'current revision differs from the update revision, one of three pods updated, no progress for 30 minutes: fires',
      alert: 'StatefulSetUpdateNotRolledOut', at: '30m',
      series: {
        [ksm('status_current_revision', { ...sts, revision: `${s.statefulSet}-6b8f7d9c4` })]: '1x40',
        [ksm('status_update_revision', { ...sts, revision: `${s.statefulSet}-7c9d5f8b6` })]: '1x40',
        [ksm('replicas')]: '3x40', [ksm('status_replicas_updated')]: '1x40',
      },
      fires: [{ ...sts, severity: 'warning', ...extra }],
    },
    {
      name: 'update finished (revisions equal, every pod updated), and a stuck neighbour: silent',
      alert: 'StatefulSetUpdateNotRolledOut', at: '30m',
      series: {
        [ksm('status_current_revision', { ...sts, revision: `${s.statefulSet}-7c9d5f8b6` })]: '1x40',
        [ksm('status_update_revision', { ...sts, revision: `${s.statefulSet}-7c9d5f8b6` })]: '1x40',
        [ksm('replicas')]: '3x40', [ksm('status_replicas_updated')]: '3x40',
        [ksm('status_current_revision', { ...neighbour, revision: 'x-1' })]: '1x40',
        [ksm('status_update_revision', { ...neighbour, revision: 'x-2' })]: '1x40',
        [ksm('replicas', neighbour)]: '3x40', [ksm('status_replicas_updated', neighbour)]: '1x40',
      },
      fires: [],
    },
  ];
  if (s.claim) cases.push(...volumeCases(s.namespace, s.claim, extra));
  if (s.backup) cases.push(...backupCases(s.namespace, s.backup, extra));
  return cases;
}

/** The kubelet's volume series of `claim`: capacity 10 GiB, `available` and `used` as given. */
export function volume(namespace: string, claim: string, available: string, used: string): { [series: string]: string } {
  const l = { namespace, persistentvolumeclaim: claim, ...KUBELET };
  return {
    [series('kubelet_volume_stats_capacity_bytes', l)]: `${10 * GIB}x150`,
    [series('kubelet_volume_stats_available_bytes', l)]: available,
    [series('kubelet_volume_stats_used_bytes', l)]: used,
  };
}

/** Labels of a volume alert about `claim`. */
export function volumeLabels(namespace: string, claim: string): Labels {
  return { namespace, persistentvolumeclaim: claim, ...KUBELET };
}

/** 16% free at the start, 0.01 GiB (0.1%) less a minute: under 15% from minute 11, 1% free at minute 150. */
export const FILLING = `${1.6 * GIB}-${0.01 * GIB}x150`;
/** The matching used bytes. */
export const FILLING_USED = `${8.4 * GIB}+${0.01 * GIB}x150`;

function volumeCases(namespace: string, claim: string, extra: Labels): AlertCase[] {
  const other = claim.replace(/-(\d+)$/, '-other-$1');
  return [
    {
      name: 'under 15% free and losing 0.6 GiB an hour (full within 4 days), for over an hour: fires',
      alert: 'VolumeFillingUp', at: '150m',
      series: volume(namespace, claim, FILLING, FILLING_USED),
      fires: [{ ...volumeLabels(namespace, claim), severity: 'warning', ...extra }],
    },
    {
      name: 'under 15% free but steady, and another workload\'s claim filling up: silent',
      alert: 'VolumeFillingUp', at: '150m',
      series: { ...volume(namespace, claim, `${1.2 * GIB}x150`, `${8.8 * GIB}x150`), ...volume(namespace, other, FILLING, FILLING_USED) },
      fires: [],
    },
    {
      name: '2% free for 5 minutes: fires',
      alert: 'VolumeAlmostFull', at: '5m',
      series: volume(namespace, claim, `${0.2 * GIB}x10`, `${9.8 * GIB}x10`),
      fires: [{ ...volumeLabels(namespace, claim), severity: 'critical', ...extra }],
    },
    {
      name: '5% free, and another workload\'s claim at 1%: silent',
      alert: 'VolumeAlmostFull', at: '5m',
      series: { ...volume(namespace, claim, `${0.5 * GIB}x10`, `${9.5 * GIB}x10`), ...volume(namespace, other, `${0.1 * GIB}x10`, `${9.9 * GIB}x10`) },
      fires: [],
    },
  ];
}

function backupCases(namespace: string, b: { cronJobs: string[]; maxAgeHours: number }, extra: Labels): AlertCase[] {
  const cj = (metric: string, cronjob: string) => series(`kube_cronjob_${metric}`, { namespace, cronjob, ...KSM });
  const at = `${b.maxAgeHours + 1}h`;
  // one sample every 4 minutes (within Prometheus's 5-minute lookback), past the evaluation time
  const points = `x${15 * (b.maxAgeHours + 2)}`;
  const fires = [{ namespace, severity: 'warning', ...extra }];
  const [first, ...rest] = b.cronJobs;
  return [
    {
      name: `last success at 0 h, evaluated at ${at} (over ${b.maxAgeHours} h): fires`,
      alert: 'BackupTooOld', at, interval: '4m', evaluationInterval: '10m',
      series: { [cj('created', first)]: `0${points}`, [cj('status_last_successful_time', first)]: `0${points}` },
      fires,
    },
    {
      name: `one CronJob never succeeded but ${b.cronJobs[b.cronJobs.length - 1]} did ${b.maxAgeHours / 2} h ago: silent`,
      alert: 'BackupTooOld', at, interval: '4m', evaluationInterval: '10m',
      series: {
        [cj('created', first)]: `0${points}`,
        ...Object.fromEntries(rest.map((c) => [cj('created', c), `0${points}`])),
        [cj('status_last_successful_time', b.cronJobs[b.cronJobs.length - 1])]: `${(b.maxAgeHours / 2 + 1) * 3600}${points}`,
      },
      fires: [],
    },
    {
      name: `never succeeded, created ${b.maxAgeHours + 1} h ago: fires`,
      alert: 'BackupTooOld', at, interval: '4m', evaluationInterval: '10m',
      series: { [cj('created', first)]: `0${points}` },
      fires,
    },
    {
      name: 'never succeeded, created an hour ago, and a neighbour\'s CronJob long overdue: silent',
      alert: 'BackupTooOld', at, interval: '4m', evaluationInterval: '10m',
      series: { [cj('created', first)]: `${b.maxAgeHours * 3600}${points}`, [cj('status_last_successful_time', `${first}-other`)]: `0${points}` },
      fires: [],
    },
  ];
}
