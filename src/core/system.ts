import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { MonitoringOptions } from './monitoring';
import { describe, Problem } from './names';
import { AntiAffinity, PlacementProps } from './placement';
import { k8s } from './private/k8s';
import { checkedResources, Resources } from './resources';
import { RunAs } from './security';
import { Storage } from './storage';
import { DisruptionBudget, UpdateStrategy } from './policies';
import type { StatefulWorkload } from './stateful-workload';

/** When the kubelet pulls a container image. */
export enum ImagePullPolicy {
  /** Pull only when the node does not have the image (right for pinned tags and digests). */
  IF_NOT_PRESENT = 'IfNotPresent',
  /** Check the registry on every container start (a registry outage then blocks restarts). */
  ALWAYS = 'Always',
  /** Never pull: the image must be preloaded on the node. */
  NEVER = 'Never',
}

/**
 * The knobs every system shares, named and documented once. Every system's
 * props extend this interface and add only what is specific to the system;
 * a system documents its own defaults where they differ (image, resources,
 * storage size, user, grace period).
 */
export interface StatefulSystemProps {
  /**
   * Name of the StatefulSet (at most 52 characters); pods are
   * `<name>-<ordinal>` and the other objects derive their names from it.
   * @default - the construct path from the chart, joined with '-'
   */
  readonly name?: string;
  /**
   * Container image of the system, with a pinned tag or digest (never `latest`).
   * @default - the system's pinned default image
   */
  readonly image?: string;
  /**
   * When the kubelet pulls the image.
   * @default ImagePullPolicy.IF_NOT_PRESENT
   */
  readonly imagePullPolicy?: ImagePullPolicy;
  /**
   * CPU and memory of each member's main container; heap and cache sizes
   * are derived from the memory limit.
   * @default - the system's default (`Resources.small()` or `Resources.medium()`)
   */
  readonly resources?: Resources;
  /**
   * Storage of each member's data volume: a claim per pod
   * (`Storage.persistent`) or an emptyDir (`Storage.ephemeral`).
   * @default - `Storage.persistent` with the system's default size and the cluster's default StorageClass
   */
  readonly storage?: Storage;
  /**
   * Pod placement: anti-affinity, zone spread, node selector, tolerations,
   * priority class.
   * @default - soft anti-affinity by node
   */
  readonly placement?: PlacementProps;
  /**
   * How pods are replaced when the template changes: a rolling update with
   * a partition (staged rollouts) or OnDelete.
   * @default UpdateStrategy.rollingUpdate()
   */
  readonly updateStrategy?: UpdateStrategy;
  /**
   * Override of the PodDisruptionBudget.
   * @default - what the system must keep running (a quorum's majority, or one member at a time)
   */
  readonly disruptionBudget?: DisruptionBudget;
  /**
   * Create a NetworkPolicy that admits members to each other on the peer
   * ports, `allowClientsFrom` (and `allowClients` peers) on the client ports,
   * and every namespace on the metrics port.
   * @default true
   */
  readonly networkPolicy?: boolean;
  /**
   * Who may reach the client ports: cdk8s-plus peers such as
   * `kplus.Pods.select(...)`, `kplus.Namespaces.select(...)`, a Deployment or
   * StatefulSet, or `kplus.Pods.all(...)`; add more later with `allowClients`.
   * @default - every pod in the system's namespace
   */
  readonly allowClientsFrom?: kplus.INetworkPolicyPeer[];
  /**
   * Export Prometheus metrics, create a ServiceMonitor for them and a
   * PrometheusRule with the system's alerts and those every monitored
   * workload gets (extra labels, disabled alerts and per-alert overrides in
   * the options).
   * @default - no metrics endpoint, no ServiceMonitor, no alerts
   */
  readonly monitoring?: MonitoringOptions;
  /**
   * ServiceAccount of the pods, e.g. one bound to a cloud identity
   * (`kplus.ServiceAccount.fromServiceAccountName(...)`). The API token is
   * never mounted: no container of ours talks to the API server.
   * @default - a ServiceAccount of the system's own
   */
  readonly serviceAccount?: kplus.IServiceAccount;
  /**
   * User and group of every process; the group also owns the volumes.
   * @default - the uid and gid of the default image's service user
   */
  readonly runAs?: RunAs;
  /**
   * Time a member gets to shut down cleanly before it is killed.
   * @default - the system's default (enough for its clean shutdown)
   */
  readonly terminationGracePeriod?: Duration;
  /**
   * Extra labels on the pods (not on the selector): cost centers, mesh
   * opt-ins. The `app.kubernetes.io/*` labels are reserved.
   * @default - none
   */
  readonly podLabels?: { [key: string]: string };
  /**
   * Extra annotations on the pods.
   * @default - none
   */
  readonly podAnnotations?: { [key: string]: string };
  /**
   * Cluster DNS domain, used in the members' FQDNs.
   * @default 'cluster.local'
   */
  readonly clusterDomain?: string;
}

/**
 * The base props a system hands to its unit: exactly the shared knobs,
 * type-checked (JavaScript and jsii callers can pass anything), so nothing
 * system-specific leaks into the unit by a spread.
 * @internal
 */
export function sharedProps(problem: Problem, props: StatefulSystemProps): StatefulSystemProps {
  if (props.image !== undefined && typeof props.image !== 'string') {
    throw problem.error('image', `must be an image reference (a string such as 'registry.example.com/name:1.2.3'), got ${describe(props.image)}`);
  }
  for (const k of ['name', 'clusterDomain'] as const) {
    if (props[k] !== undefined && typeof props[k] !== 'string') throw problem.error(k, `must be a string, got ${describe(props[k])}`);
  }
  for (const k of ['podLabels', 'podAnnotations'] as const) {
    const v = props[k];
    if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string'))) {
      throw problem.error(k, `must map names to strings, got ${describe(v)}`);
    }
  }
  if (props.allowClientsFrom !== undefined && !Array.isArray(props.allowClientsFrom)) {
    throw problem.error('allowClientsFrom', `must be a list of cdk8s-plus peers, got ${describe(props.allowClientsFrom)}`);
  }
  problem.instanceOf('storage', props.storage, Storage, 'Storage.persistent({ size: Size.gibibytes(10) }) or Storage.ephemeral()');
  problem.instanceOf('resources', props.resources, Resources, 'a Resources such as Resources.medium() or Resources.of({ cpuMillis, memory })');
  problem.instanceOf('updateStrategy', props.updateStrategy, UpdateStrategy, 'UpdateStrategy.rollingUpdate(partition) or UpdateStrategy.onDelete()');
  problem.instanceOf('terminationGracePeriod', props.terminationGracePeriod, Duration, 'a Duration such as Duration.seconds(60)');
  problem.instanceOf('placement.antiAffinity', props.placement?.antiAffinity, AntiAffinity, 'AntiAffinity.soft(), AntiAffinity.hard() or AntiAffinity.none()');
  problem.instanceOf('monitoring.interval', props.monitoring?.interval, Duration, 'a Duration such as Duration.seconds(30)');
  if (props.imagePullPolicy !== undefined && !Object.values(ImagePullPolicy).includes(props.imagePullPolicy)) {
    throw problem.error('imagePullPolicy', `must be one of ${Object.values(ImagePullPolicy).join(', ')}, got ${props.imagePullPolicy}`);
  }
  return {
    name: props.name,
    image: props.image,
    imagePullPolicy: props.imagePullPolicy,
    resources: props.resources,
    storage: props.storage,
    placement: props.placement,
    updateStrategy: props.updateStrategy,
    disruptionBudget: props.disruptionBudget,
    networkPolicy: props.networkPolicy,
    allowClientsFrom: props.allowClientsFrom,
    monitoring: props.monitoring,
    serviceAccount: props.serviceAccount,
    runAs: props.runAs,
    terminationGracePeriod: props.terminationGracePeriod,
    podLabels: props.podLabels,
    podAnnotations: props.podAnnotations,
    clusterDomain: props.clusterDomain,
  };
}

/**
 * A system's own defaults for the shared knobs a user leaves unset.
 * @internal
 */
export interface SystemDefaults {
  /** The pinned image. */
  readonly image: string;
  readonly resources: Resources;
  /** Size of the data claim of `Storage.persistent`. */
  readonly storageSize: Size;
  /** The image's service user. */
  readonly runAs: RunAs;
  readonly terminationGracePeriod: Duration;
  /** What the system must keep running. */
  readonly disruptionBudget: DisruptionBudget;
}

/**
 * The shared knobs with a system's defaults applied.
 * @internal
 */
export interface SystemUnitProps extends StatefulSystemProps {
  readonly image: string;
  readonly resources: Resources;
  readonly storage: Storage;
  readonly runAs: RunAs;
  readonly terminationGracePeriod: Duration;
  readonly disruptionBudget: DisruptionBudget;
}

/**
 * What a system hands its unit: the shared props, type-checked, with the
 * system's defaults where the user set nothing. `name` and `clusterDomain`
 * are left out: the system turns them into the `identity` it gives the unit
 * (it needs its members' names before the unit exists).
 * @internal
 */
export function systemUnitProps(problem: Problem, props: StatefulSystemProps, defaults: SystemDefaults): SystemUnitProps {
  const shared = sharedProps(problem, props);
  const resources = checkedResources(problem, 'resources', shared.resources ?? defaults.resources);
  return {
    ...shared,
    name: undefined,
    clusterDomain: undefined,
    image: shared.image ?? defaults.image,
    resources,
    storage: shared.storage ?? Storage.persistent({ size: defaults.storageSize }),
    runAs: shared.runAs ?? defaults.runAs,
    terminationGracePeriod: shared.terminationGracePeriod ?? defaults.terminationGracePeriod,
    disruptionBudget: shared.disruptionBudget ?? defaults.disruptionBudget,
  };
}

/**
 * What every system construct (ZooKeeper, Kafka, MySQL, Redis) exposes about
 * the stateful unit it is built on: the escape hatches (`statefulSet`,
 * `headlessService`, `pdb`, ...) for `ApiObject.of(...)` patches, the stable
 * pod names clients wire to, and `allowClients` for cdk8s-plus peers.
 * Systems compose the unit (`workload`); this base only forwards to it, so
 * they all answer the same way.
 */
export abstract class StatefulSystem extends Construct {
  /** The stateful unit the system is built on. */
  public abstract readonly workload: StatefulWorkload;

  /** The StatefulSet. */
  public get statefulSet(): k8s.KubeStatefulSet {
    return this.workload.statefulSet;
  }

  /** The headless governing Service. */
  public get headlessService(): k8s.KubeService {
    return this.workload.headlessService;
  }

  /** The ClusterIP Service over the client ports, if the system has one. */
  public get clientService(): k8s.KubeService | undefined {
    return this.workload.clientService;
  }

  /** The PodDisruptionBudget. */
  public get pdb(): k8s.KubePodDisruptionBudget {
    return this.workload.pdb;
  }

  /** The labels that select the system's pods (for affinity rules and NetworkPolicies). */
  public get selectorLabels(): { [key: string]: string } {
    return this.workload.selectorLabels;
  }

  /**
   * The system's pods as a cdk8s-plus peer and pod selector, e.g. for
   * another system's `allowClients` or a kplus NetworkPolicy.
   */
  public get pods(): kplus.Pods {
    return this.workload.pods;
  }

  /** Name of the pod with `ordinal`. */
  public podName(ordinal: number): string {
    return this.workload.podName(ordinal);
  }

  /** Stable DNS name of the pod with `ordinal`. */
  public podFqdn(ordinal: number): string {
    return this.workload.podFqdn(ordinal);
  }

  /**
   * Admits `peer` to the system's client ports in its NetworkPolicy: a
   * cdk8s-plus Deployment, StatefulSet or Job, `kplus.Pods.select(...)`,
   * `kplus.Namespaces.select(...)` or `kplus.Pods.all(...)`, in this
   * namespace or another. Throws when the system has no NetworkPolicy
   * (`networkPolicy: false`), where the call would silently do nothing.
   */
  public allowClients(peer: kplus.INetworkPolicyPeer): void {
    this.workload.allowClients(peer);
  }
}
