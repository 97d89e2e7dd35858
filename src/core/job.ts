import { Duration } from 'cdk8s';
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
  /** Labels of the Job and its pod; must not select any workload's pods. */
  readonly labels: { [key: string]: string };
  /** Annotations of the Job. */
  readonly annotations?: { [key: string]: string };
  /** User and group of the pod. */
  readonly runAs: RunAs;
  /** The container; its resources default to `Resources.tiny()`. */
  readonly container: WorkloadContainer;
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
export function renderJobSpec(scope: OneShotJobProps, serviceAccountName: string | undefined): k8s.JobSpec {
  const pod = new PodBuilder({
    problem: scope.problem,
    runAs: scope.runAs,
    containers: [scope.container],
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
    ttlSecondsAfterFinished: (scope.ttl ?? Duration.hours(1)).toSeconds(),
    template: {
      metadata: { labels: scope.labels },
      spec: {
        restartPolicy: 'OnFailure',
        ...(serviceAccountName ? { serviceAccountName } : {}),
        automountServiceAccountToken: serviceAccountName !== undefined,
        enableServiceLinks: false,
        securityContext: pod.securityContext(),
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
    if (props.rules && props.rules.length > 0) {
      this.serviceAccount = new k8s.KubeServiceAccount(this, 'ServiceAccount', { metadata, automountServiceAccountToken: false });
      this.role = new k8s.KubeRole(this, 'Role', { metadata, rules: props.rules });
      new k8s.KubeRoleBinding(this, 'RoleBinding', {
        metadata,
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [{ kind: 'ServiceAccount', name }],
      });
    }
    this.job = new k8s.KubeJob(this, 'Job', {
      metadata: { ...metadata, ...(props.annotations ? { annotations: props.annotations } : {}) },
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
    const stable = ['app.kubernetes.io/instance', 'app.kubernetes.io/component'];
    const labels = stable.every((k) => k in this.labels)
      ? Object.fromEntries(stable.map((k) => [k, this.labels[k]]))
      : this.labels;
    return kplus.Pods.select(this, 'Pods', { labels });
  }
}
