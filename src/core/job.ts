import { createHash } from 'crypto';
import { Cron, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { Problem } from './names';
import { PodBuilder, SecretVolume, WorkloadContainer, WorkloadVolume } from './pod-spec';
import { k8s } from './private/k8s';
import { Resources } from './resources';
import { RunAs } from './security';
import { ImagePullPolicy } from './system';

/**
 * A one-shot Job's pod and its limits.
 * @internal
 */
export interface OneShotJobProps {
  /** Errors name the owning construct. */
  readonly problem: Problem;
  /** Name of the Job (and of its ServiceAccount and Role, when it has rules). */
  readonly name: string;
  /**
   * Name of the Job alone, when it must change with its content (a Job's
   * template is immutable, so a changed script needs a new Job).
   * @default - `name`
   */
  readonly jobName?: string;
  /** Labels of the Job and its pod; must not select any workload's pods. */
  readonly labels: { [key: string]: string };
  /** Annotations of the Job. */
  readonly annotations?: { [key: string]: string };
  /** User and group of the pod. */
  readonly runAs: RunAs;
  /** The container; its resources default to `Resources.tiny()`. */
  readonly container: WorkloadContainer;
  /**
   * Containers run to completion, in order, before `container` (e.g. a dump
   * that an uploader then ships).
   * @default - none
   */
  readonly initContainers?: WorkloadContainer[];
  readonly imagePullPolicy?: ImagePullPolicy;
  /** Scratch volumes (ephemeral only). */
  readonly volumes?: WorkloadVolume[];
  readonly secretVolumes?: SecretVolume[];
  /**
   * Retries before the Job fails.
   * @default 6
   */
  readonly backoffLimit?: number;
  /**
   * Time the Job may run in all, retries included.
   * @default Duration.minutes(10)
   */
  readonly activeDeadline?: Duration;
  /**
   * Time a finished Job is kept before Kubernetes deletes it.
   * @default Duration.hours(1)
   */
  readonly ttl?: Duration;
  /**
   * API permissions of the Job, granted through a ServiceAccount, Role and
   * RoleBinding of its own (the only pods of this library with an API token).
   * @default - no ServiceAccount token, no API access
   */
  readonly rules?: k8s.PolicyRule[];
}

/**
 * The Job spec of a one-shot pod: restricted, bounded in retries and time,
 * cleaned up after a while. CronJobs use the same spec as their template.
 * @internal
 */
export function renderJobSpec(scope: OneShotJobProps, serviceAccountName: string | undefined, withTtl: boolean = true): k8s.JobSpec {
  const pod = new PodBuilder({
    problem: scope.problem,
    runAs: scope.runAs,
    containers: [scope.container],
    initContainers: scope.initContainers,
    resources: Resources.tiny(),
    imagePullPolicy: scope.imagePullPolicy,
    volumes: scope.volumes,
    secretVolumes: scope.secretVolumes,
    oneShot: true,
  });
  const problem = scope.problem;
  const deadline = (scope.activeDeadline ?? Duration.minutes(10)).toSeconds();
  problem.integer(`job '${scope.name}' activeDeadline (seconds)`, deadline, 1);
  return {
    backoffLimit: problem.integer(`job '${scope.name}' backoffLimit`, scope.backoffLimit ?? 6, 0, 100),
    activeDeadlineSeconds: deadline,
    ...(withTtl ? { ttlSecondsAfterFinished: (scope.ttl ?? Duration.hours(1)).toSeconds() } : {}),
    template: {
      metadata: { labels: scope.labels },
      spec: {
        restartPolicy: 'OnFailure',
        ...(serviceAccountName ? { serviceAccountName } : {}),
        automountServiceAccountToken: serviceAccountName !== undefined,
        enableServiceLinks: false,
        securityContext: pod.securityContext(),
        initContainers: pod.initContainers(),
        containers: pod.containers(),
        volumes: pod.podVolumes(),
      },
    },
  };
}

/**
 * A Job that runs one container to completion (a Secret generator, a
 * cluster bootstrap, a replica-set initiation), with least-privilege RBAC
 * when it needs the API server.
 * @internal
 */
export class OneShotJob extends Construct {
  /** The Job. */
  public readonly job: k8s.KubeJob;
  /** The ServiceAccount, when the Job has API permissions. */
  public readonly serviceAccount: k8s.KubeServiceAccount | undefined;
  /** The Role, when the Job has API permissions. */
  public readonly role: k8s.KubeRole | undefined;

  private readonly labels: { [key: string]: string };

  public constructor(scope: Construct, id: string, props: OneShotJobProps) {
    super(scope, id);
    const name = props.problem.dnsLabel(`job name '${props.name}'`, props.name);
    this.labels = props.labels;
    const metadata = { name, labels: props.labels };
    this.serviceAccount = grantJobRules(this, name, props);
    this.role = this.serviceAccount ? this.node.findChild('Role') as k8s.KubeRole : undefined;
    const jobName = props.problem.dnsLabel(`job name '${props.jobName ?? name}'`, props.jobName ?? name);
    this.job = new k8s.KubeJob(this, 'Job', {
      metadata: { ...metadata, name: jobName, ...(props.annotations ? { annotations: props.annotations } : {}) },
      spec: renderJobSpec(props, this.serviceAccount ? name : undefined),
    });
  }

  /**
   * The Job's pods as a cdk8s-plus peer, to admit them to a system's client
   * ports. They are selected by their instance and component labels, which
   * stay put across image upgrades (the version label does not), or by every
   * label when the Job has no such pair.
   */
  public peer(): kplus.Pods {
    return kplus.Pods.select(this, 'Pods', { labels: stableLabels(this.labels) });
  }
}

/**
 * A one-shot pod on a schedule, and its overlap policy.
 * @internal
 */
export interface ScheduledJobProps extends OneShotJobProps {
  /** When it runs (cron syntax, in the controller manager's time zone). */
  readonly schedule: Cron;
  /**
   * How late a missed run may still start; later runs are skipped (and a
   * controller that was down does not fire a burst of them).
   * @default Duration.minutes(30)
   */
  readonly startingDeadline?: Duration;
  /**
   * Finished Jobs kept for inspection (successful and failed, each).
   * @default 3
   */
  readonly historyLimit?: number;
}

/**
 * A CronJob whose runs never overlap (`concurrencyPolicy: Forbid`: a backup
 * that outlives its period delays the next one instead of racing it), with
 * the one-shot Job's limits for each run: backups, restore checks.
 * @internal
 */
export class ScheduledJob extends Construct {
  /** The CronJob. */
  public readonly cronJob: k8s.KubeCronJob;
  /** The ServiceAccount, when the Job has API permissions. */
  public readonly serviceAccount: k8s.KubeServiceAccount | undefined;

  private readonly labels: { [key: string]: string };

  public constructor(scope: Construct, id: string, props: ScheduledJobProps) {
    super(scope, id);
    const problem = props.problem;
    const name = problem.dnsLabel(`job name '${props.name}'`, props.name, 52);
    this.labels = props.labels;
    const metadata = { name, labels: props.labels };
    this.serviceAccount = grantJobRules(this, name, props);
    const startingDeadline = (props.startingDeadline ?? Duration.minutes(30)).toSeconds();
    problem.integer(`job '${name}' startingDeadline (seconds)`, startingDeadline, 10);
    const history = problem.integer(`job '${name}' historyLimit`, props.historyLimit ?? 3, 0, 100);
    this.cronJob = new k8s.KubeCronJob(this, 'CronJob', {
      metadata: { ...metadata, ...(props.annotations ? { annotations: props.annotations } : {}) },
      spec: {
        schedule: props.schedule.expressionString,
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: startingDeadline,
        successfulJobsHistoryLimit: history,
        failedJobsHistoryLimit: history,
        jobTemplate: {
          metadata: { labels: props.labels },
          // finished runs are kept by the history limits, not by a TTL
          spec: renderJobSpec({ ...props, ttl: undefined }, this.serviceAccount ? name : undefined, false),
        },
      },
    });
  }

  /** The runs' pods as a cdk8s-plus peer, to admit them to a system's ports. */
  public peer(): kplus.Pods {
    return kplus.Pods.select(this, 'Pods', { labels: stableLabels(this.labels) });
  }
}

/** ServiceAccount, Role and RoleBinding of a Job with API permissions. */
function grantJobRules(scope: Construct, name: string, props: OneShotJobProps): k8s.KubeServiceAccount | undefined {
  if (!props.rules || props.rules.length === 0) return undefined;
  const metadata = { name, labels: props.labels };
  const sa = new k8s.KubeServiceAccount(scope, 'ServiceAccount', { metadata, automountServiceAccountToken: false });
  new k8s.KubeRole(scope, 'Role', { metadata, rules: props.rules });
  new k8s.KubeRoleBinding(scope, 'RoleBinding', {
    metadata,
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name }],
  });
  return sa;
}

/** The instance and component labels (stable across upgrades), or every label when there is no such pair. */
function stableLabels(labels: { [key: string]: string }): { [key: string]: string } {
  const stable = ['app.kubernetes.io/instance', 'app.kubernetes.io/component'];
  return stable.every((k) => k in labels) ? Object.fromEntries(stable.map((k) => [k, labels[k]])) : labels;
}

/**
 * Four hex digits of a sha256 of `content`: a Job whose script depends on
 * props carries it in its name, so a changed script is a new Job rather than
 * an update the API server rejects (a Job's template is immutable).
 * @internal
 */
export function contentHash(content: string): string {
  return createHash('sha256').update(content).digest('hex').slice(0, 4);
}
