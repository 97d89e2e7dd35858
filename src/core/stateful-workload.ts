import { ApiObject, Chart, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct, IConstruct } from 'constructs';
import { WorkloadIdentity } from './identity';
import { AlertRule, BackupAlertOptions, MetricsMonitor, MonitoringOptions } from './monitoring';
import { Problem } from './names';
import { renderPlacement } from './placement';
import { PodBuilder, PortRole, SecretVolume, WorkloadContainer, WorkloadPort, WorkloadVolume, ConfigFile } from './pod-spec';
import { ClaimRetention, DisruptionBudget, PodManagementPolicy, UpdateStrategy } from './policies';
import { networkPolicyPeers } from './private/kplus';
import { k8s } from './private/k8s';
import { Resources } from './resources';
import { RunAs } from './security';
import { sharedProps, StatefulSystemProps } from './system';

/** A ClusterIP Service in front of some pods of the workload. */
export interface ClientServiceOptions {
  /**
   * Service name.
   * @default - the workload name plus '-' plus the construct id
   */
  readonly name?: string;
  /**
   * Names of the ports to expose.
   * @default - every CLIENT port
   */
  readonly ports?: string[];
  /**
   * Target only the pod with this ordinal (a primary's write endpoint).
   * @default - every Ready pod
   */
  readonly ordinal?: number;
}

/** Props of `StatefulWorkload`. */
export interface StatefulWorkloadProps extends StatefulSystemProps {
  /** `app.kubernetes.io/name`: the software, e.g. 'zookeeper'. */
  readonly appName: string;
  /** The pods' containers; the first is the main one. */
  readonly containers: WorkloadContainer[];
  /**
   * Containers run to completion, in order, before `containers` start.
   * @default - none
   */
  readonly initContainers?: WorkloadContainer[];
  /**
   * The names of the StatefulSet, its Service and its pods, when they were
   * needed before the workload existed (a system renders its members' FQDNs
   * into config files first). Errors then name the identity's owner.
   * @default - `WorkloadIdentity.of(this, { name, headlessServiceName, clusterDomain })`
   */
  readonly identity?: WorkloadIdentity;
  /**
   * Name of the headless governing Service.
   * @default - `<name>-headless`
   */
  readonly headlessServiceName?: string;
  /**
   * `app.kubernetes.io/component`, e.g. 'server', 'broker'.
   * @default - none
   */
  readonly component?: string;
  /**
   * `app.kubernetes.io/instance`.
   * @default - the StatefulSet name
   */
  readonly instance?: string;
  /**
   * `app.kubernetes.io/part-of`: the larger application.
   * @default - `appName`
   */
  readonly partOf?: string;
  /**
   * `app.kubernetes.io/version` (systems set the tag of their image).
   * @default - none
   */
  readonly version?: string;
  /**
   * Number of pods.
   * @default 3
   */
  readonly replicas?: number;
  /**
   * Data volumes; a volume without `storage` uses the workload's `storage`.
   * @default - none
   */
  readonly volumes?: WorkloadVolume[];
  /**
   * Secrets mounted as files.
   * @default - none
   */
  readonly secretVolumes?: SecretVolume[];
  /**
   * Config files and scripts, stored in a ConfigMap and mounted in every
   * container. A change rolls the pods (the pod template carries their hash).
   * @default - none
   */
  readonly configFiles?: ConfigFile[];
  /**
   * Pod management policy.
   * @default PodManagementPolicy.ORDERED_READY
   */
  readonly podManagementPolicy?: PodManagementPolicy;
  /**
   * Claims when the StatefulSet is deleted.
   * @default ClaimRetention.RETAIN
   */
  readonly claimsWhenDeleted?: ClaimRetention;
  /**
   * Claims of pods removed by a scale-down.
   * @default ClaimRetention.RETAIN
   */
  readonly claimsWhenScaled?: ClaimRetention;
  /**
   * Time a new pod must be Ready before it counts as available.
   * @default Duration.seconds(0)
   */
  readonly minReady?: Duration;
  /**
   * Headless Service publishes pods before they are Ready (members must find
   * each other to become Ready).
   * @default true
   */
  readonly publishNotReadyAddresses?: boolean;
  /**
   * Create a ClusterIP Service named after the workload over the CLIENT ports.
   * @default true
   */
  readonly clientService?: boolean;
  /**
   * Alerting rules, rendered into a PrometheusRule beside the ServiceMonitor
   * and the StatefulSet and volume alerts every monitored workload gets
   * (needs `monitoring`, whose options apply to them too).
   * @default - none
   */
  readonly alerts?: AlertRule[];
  /**
   * Alert (`BackupTooOld`) when the workload's backup CronJobs stop
   * succeeding (needs `monitoring`).
   * @default - no backup alert
   */
  readonly backupAlert?: BackupAlertOptions;
}

const MANAGED_BY = 'cdk8s-stateful';
const RESERVED_LABEL_PREFIX = 'app.kubernetes.io/';
const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';

/**
 * The stateful unit every system is built on: a headless Service that gives
 * each pod a stable DNS name, a StatefulSet with per-pod claims, a
 * PodDisruptionBudget, a ConfigMap of rendered files, a ServiceAccount without
 * an API token, a NetworkPolicy and client Services, all with the restricted
 * Pod Security Standard and standard labels.
 */
export class StatefulWorkload extends Construct {
  /** The StatefulSet name; pods are `<name>-<ordinal>`. */
  public readonly name: string;
  /** Number of pods. */
  public readonly replicas: number;
  /** The names of the StatefulSet, its Service and its pods. */
  public readonly identity: WorkloadIdentity;
  /** The headless Service's name. */
  public readonly headlessServiceName: string;
  /** Namespace of the objects (the chart's), if set. */
  public readonly namespaceName: string | undefined;
  /** DNS domain of the cluster. */
  public readonly clusterDomain: string;
  /** Labels on every object. */
  public readonly labels: { [key: string]: string };
  /** The stable label subset that selects this workload's pods. */
  public readonly selectorLabels: { [key: string]: string };
  /** The StatefulSet. */
  public readonly statefulSet: k8s.KubeStatefulSet;
  /** The headless governing Service. */
  public readonly headlessService: k8s.KubeService;
  /** The ClusterIP Service over the client ports, if created. */
  public readonly clientService: k8s.KubeService | undefined;
  /** The PodDisruptionBudget. */
  public readonly pdb: k8s.KubePodDisruptionBudget;
  /** The ConfigMap of config files, if any. */
  public readonly configMap: k8s.KubeConfigMap | undefined;
  /** The ServiceAccount of the pods, unless `serviceAccount` names one. */
  public readonly serviceAccount: k8s.KubeServiceAccount | undefined;
  /** Name of the pods' ServiceAccount. */
  public readonly serviceAccountName: string;
  /** The NetworkPolicy, if created. */
  public readonly networkPolicy: k8s.KubeNetworkPolicy | undefined;
  /** The ServiceMonitor (and rules), when `monitoring` is set. */
  public readonly metrics: MetricsMonitor | undefined;
  /** Every port of the pods. */
  public readonly ports: WorkloadPort[];
  /** Names of the volume claim templates: pod `<ordinal>` gets claim `<template>-<name>-<ordinal>` of each. */
  public readonly claimTemplates: string[];

  private readonly problem: Problem;
  private readonly pod: PodBuilder;
  /** Read at synth time, so `allowClients` calls after construction still land in the policy. */
  private readonly ingress: k8s.NetworkPolicyIngressRule[] = [];
  private readonly serviceNames: string[] = [];
  private podsSelector: kplus.Pods | undefined;

  public constructor(scope: Construct, id: string, props: StatefulWorkloadProps) {
    super(scope, id);
    this.identity = this.resolveIdentity(props);
    this.problem = this.identity._problem;
    const problem = this.problem;
    const shared = sharedProps(problem, props);
    this.name = this.identity.name;
    this.headlessServiceName = this.identity.headlessServiceName;
    this.namespaceName = this.identity.namespaceName;
    this.clusterDomain = this.identity.clusterDomain;
    this.replicas = problem.integer('replicas', props.replicas ?? 3, 1);
    this.checkUnique();

    const runAs = this.checkRunAs(shared.runAs ?? { uid: 1000, gid: 1000 });
    this.pod = new PodBuilder({
      problem,
      runAs,
      containers: props.containers,
      initContainers: props.initContainers,
      image: shared.image,
      imagePullPolicy: shared.imagePullPolicy,
      resources: shared.resources ?? Resources.small(),
      volumes: props.volumes,
      storage: shared.storage,
      secretVolumes: props.secretVolumes,
      configFiles: props.configFiles,
      configMapName: `${this.name}-config`,
    });
    this.ports = this.pod.ports;
    this.claimTemplates = this.pod.claims.map((v) => v.name);
    this.selectorLabels = {
      'app.kubernetes.io/name': problem.dnsLabel('appName', props.appName),
      'app.kubernetes.io/instance': props.instance ?? this.name,
      ...(props.component ? { 'app.kubernetes.io/component': props.component } : {}),
    };
    const version = props.version;
    this.labels = {
      ...this.selectorLabels,
      'app.kubernetes.io/part-of': props.partOf ?? props.appName,
      'app.kubernetes.io/managed-by': MANAGED_BY,
      ...(version ? { 'app.kubernetes.io/version': problem.labelValue('version', version) } : {}),
    };
    const podLabels = this.checkPodLabels(shared.podLabels ?? {});

    // --- the objects ----------------------------------------------------
    const metadata = (name: string) => ({ name, labels: this.labels });
    this.serviceAccount = shared.serviceAccount ? undefined : new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: metadata(this.name),
      automountServiceAccountToken: false,
    });
    this.serviceAccountName = shared.serviceAccount?.name ?? this.name;
    this.configMap = this.pod.hasConfig
      ? new k8s.KubeConfigMap(this, 'Config', { metadata: metadata(`${this.name}-config`), data: this.pod.configData })
      : undefined;
    this.headlessService = this.makeHeadlessService(props.publishNotReadyAddresses ?? true);
    const hasClientPorts = this.ports.some((p) => (p.role ?? PortRole.CLIENT) === PortRole.CLIENT);
    this.clientService = (props.clientService ?? true) && hasClientPorts
      ? this.makeClientService('Client', { name: this.name })
      : undefined;

    this.statefulSet = this.makeStatefulSet(props, shared, podLabels);

    this.pdb = new k8s.KubePodDisruptionBudget(this, 'Budget', {
      metadata: metadata(this.name),
      spec: { selector: { matchLabels: this.selectorLabels }, ...this.budget(shared.disruptionBudget ?? {}) },
    });

    this.networkPolicy = (shared.networkPolicy ?? true) ? this.makeNetworkPolicy(shared.allowClientsFrom) : undefined;
    if (shared.networkPolicy === false && shared.allowClientsFrom) {
      throw problem.error('allowClientsFrom', 'needs networkPolicy: without a NetworkPolicy every pod may connect, so naming clients would do nothing');
    }
    if (props.alerts && props.alerts.length > 0 && !shared.monitoring) {
      throw problem.error('alerts', 'need monitoring: the rules evaluate the metrics that monitoring scrapes');
    }
    if (props.backupAlert && !shared.monitoring) {
      throw problem.error('backupAlert', 'needs monitoring: the alert is rendered into the PrometheusRule that monitoring creates');
    }
    this.metrics = shared.monitoring ? this.makeMonitor(shared.monitoring, props.alerts, props.backupAlert) : undefined;
    registerDuplicateCheck(this);
  }

  /**
   * This workload's pods as a cdk8s-plus pod selector and network peer
   * (namespaced when the chart is), for kplus NetworkPolicies, affinity and
   * other systems' `allowClients`.
   */
  public get pods(): kplus.Pods {
    if (!this.podsSelector) {
      this.podsSelector = kplus.Pods.select(this, 'Pods', {
        labels: this.selectorLabels,
        ...(this.namespaceName ? { namespaces: kplus.Namespaces.select(this, 'Namespace', { names: [this.namespaceName] }) } : {}),
      });
    }
    return this.podsSelector;
  }

  /** Name of the pod with `ordinal`. */
  public podName(ordinal: number): string {
    this.problem.integer('ordinal', ordinal, 0, this.replicas - 1);
    return this.identity.podName(ordinal);
  }

  /** Stable DNS name of the pod with `ordinal`: `<pod>.<headless>.<namespace>.svc.<clusterDomain>`. */
  public podFqdn(ordinal: number): string {
    this.podName(ordinal);
    return this.identity.podFqdn(ordinal);
  }

  /** DNS name of a Service of this workload's namespace. */
  public serviceFqdn(serviceName: string): string {
    return this.identity.serviceFqdn(serviceName);
  }

  /** The port named `name`; throws if there is none. */
  public port(name: string): WorkloadPort {
    return this.pod.port(name);
  }

  /** Adds a ClusterIP Service over some ports, optionally in front of a single ordinal. */
  public addClientService(id: string, options: ClientServiceOptions = {}): k8s.KubeService {
    return this.makeClientService(id, options);
  }

  /**
   * Admits `peer` (a cdk8s-plus Deployment, StatefulSet, Job,
   * `kplus.Pods.select(...)`, `kplus.Namespaces.select(...)`,
   * `kplus.Pods.all(...)`; in this namespace or another) to the CLIENT
   * ports, or only to `ports`, in the NetworkPolicy. Throws when the
   * workload has no NetworkPolicy, where the call would do nothing.
   */
  public allowClients(peer: kplus.INetworkPolicyPeer, ports?: string[]): void {
    if (!this.networkPolicy) {
      throw this.problem.error('networkPolicy', `is off, so allowClients('${peer.node.path}') would do nothing: every pod may already connect. Turn networkPolicy on, or drop the call`);
    }
    const names = ports ?? this.ports.filter((p) => (p.role ?? PortRole.CLIENT) === PortRole.CLIENT).map((p) => p.name);
    names.forEach((n) => this.port(n));
    if (names.length === 0) throw this.problem.error('allowClients', 'found no CLIENT port to open; name the ports to open');
    this.ingress.push({ from: networkPolicyPeers(peer), ports: names.map((n) => ({ port: k8s.IntOrString.fromString(n), protocol: 'TCP' })) });
  }

  private makeStatefulSet(props: StatefulWorkloadProps, shared: StatefulSystemProps, podLabels: { [key: string]: string }): k8s.KubeStatefulSet {
    return new k8s.KubeStatefulSet(this, 'Resource', {
      metadata: { name: this.name, labels: this.labels },
      spec: {
        replicas: this.replicas,
        serviceName: this.headlessServiceName,
        selector: { matchLabels: this.selectorLabels },
        podManagementPolicy: props.podManagementPolicy ?? PodManagementPolicy.ORDERED_READY,
        updateStrategy: this.updateStrategy(shared.updateStrategy ?? UpdateStrategy.rollingUpdate()),
        persistentVolumeClaimRetentionPolicy: {
          whenDeleted: props.claimsWhenDeleted ?? ClaimRetention.RETAIN,
          whenScaled: props.claimsWhenScaled ?? ClaimRetention.RETAIN,
        },
        minReadySeconds: (props.minReady ?? Duration.seconds(0)).toSeconds(),
        revisionHistoryLimit: 10,
        template: {
          metadata: {
            labels: { ...podLabels, ...this.labels },
            annotations: { 'cdk8s-stateful.io/config-hash': this.pod.configHash, ...(shared.podAnnotations ?? {}) },
          },
          spec: {
            serviceAccountName: this.serviceAccountName,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            terminationGracePeriodSeconds: (shared.terminationGracePeriod ?? Duration.seconds(30)).toSeconds(),
            securityContext: this.pod.securityContext(),
            ...renderPlacement(shared.placement ?? {}, this.selectorLabels),
            initContainers: this.pod.initContainers(),
            containers: this.pod.containers(),
            volumes: this.pod.podVolumes() ?? [],
          },
        },
        volumeClaimTemplates: this.pod.claims.map((v) => v.storage._claimTemplate(v.name, this.selectorLabels)),
      },
    });
  }

  private makeHeadlessService(publishNotReadyAddresses: boolean): k8s.KubeService {
    this.serviceNames.push(this.headlessServiceName);
    return new k8s.KubeService(this, 'Headless', {
      metadata: { name: this.headlessServiceName, labels: this.labels },
      spec: {
        clusterIp: 'None',
        publishNotReadyAddresses,
        selector: this.selectorLabels,
        ports: this.ports.map((p) => servicePort(p)),
      },
    });
  }

  private resolveIdentity(props: StatefulWorkloadProps): WorkloadIdentity {
    if (props.identity) {
      const clash = (['name', 'headlessServiceName', 'clusterDomain'] as const).find((k) => props[k] !== undefined);
      if (clash) throw props.identity._problem.error(clash, 'is set by the identity; give either identity or name, headlessServiceName and clusterDomain');
      return props.identity;
    }
    return WorkloadIdentity.of(this, { name: props.name, headlessServiceName: props.headlessServiceName, clusterDomain: props.clusterDomain });
  }

  /** Two workloads of one namespace with one name would render the same objects; say which. */
  private checkUnique(): void {
    const mine = new Set([this.name, this.headlessServiceName]);
    for (const c of this.node.root.node.findAll()) {
      if (!(c instanceof StatefulWorkload) || c === this || c.namespaceName !== this.namespaceName || !c.identity) continue;
      const theirs = [c.name, ...c.serviceNames];
      const clash = theirs.find((n) => mine.has(n));
      if (clash) {
        throw this.problem.error('name', `'${this.name}' gives the object name '${clash}', which '${c.node.path}' already uses in namespace '${this.namespaceName ?? 'default'}': give one of them another name (or id)`);
      }
    }
  }

  private checkPodLabels(labels: { [key: string]: string }): { [key: string]: string } {
    for (const [k, v] of Object.entries(labels)) {
      if (k.startsWith(RESERVED_LABEL_PREFIX) || k === POD_NAME_LABEL) {
        throw this.problem.error('podLabels', `must not set '${k}': the app.kubernetes.io labels select the pods and are set by the construct`);
      }
      this.problem.labelKey('podLabels', k);
      this.problem.labelValue(`podLabels '${k}'`, v);
    }
    return labels;
  }

  private updateStrategy(strategy: UpdateStrategy): k8s.StatefulSetUpdateStrategy {
    if (strategy.strategyType === 'OnDelete') return { type: 'OnDelete' };
    const partition = this.problem.integer('updateStrategy partition', strategy.partition ?? 0, 0, this.replicas);
    return { type: 'RollingUpdate', rollingUpdate: { partition } };
  }

  private makeNetworkPolicy(clients: kplus.INetworkPolicyPeer[] | undefined): k8s.KubeNetworkPolicy {
    const byRole = (role: PortRole) => this.ports
      .filter((p) => (p.role ?? PortRole.CLIENT) === role)
      .map((p) => ({ port: k8s.IntOrString.fromString(p.name), protocol: 'TCP' }));
    const peerPorts = byRole(PortRole.PEER);
    if (peerPorts.length > 0) this.ingress.push({ from: [{ podSelector: { matchLabels: this.selectorLabels } }], ports: peerPorts });
    const metricsPorts = byRole(PortRole.METRICS);
    if (metricsPorts.length > 0) this.ingress.push({ from: [{ namespaceSelector: {} }], ports: metricsPorts });
    const policy = new k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: { name: this.name, labels: this.labels },
      spec: {
        podSelector: { matchLabels: this.selectorLabels },
        policyTypes: ['Ingress'],
        ingress: this.ingress,
      },
    });
    const clientPorts = byRole(PortRole.CLIENT);
    if (clientPorts.length > 0) {
      // every pod of the namespace by default; named clients replace that
      const from = clients ? clients.flatMap((p) => networkPolicyPeers(p)) : [{ podSelector: {} }];
      if (from.length > 0) this.ingress.push({ from, ports: clientPorts });
    }
    return policy;
  }

  private makeMonitor(options: MonitoringOptions, alerts: AlertRule[] | undefined, backupAlert: BackupAlertOptions | undefined): MetricsMonitor {
    if (!this.ports.some((p) => p.role === PortRole.METRICS)) {
      throw this.problem.error('monitoring', `needs a METRICS port to scrape; ports: ${this.ports.map((p) => p.name).join(', ') || 'none'}`);
    }
    if (typeof options !== 'object' || options === null) throw this.problem.error('monitoring', `must be an object such as {}, got ${String(options)}`);
    return new MetricsMonitor(this, 'Metrics', { ...options, workload: this, alerts, backupAlert });
  }

  private makeClientService(id: string, options: ClientServiceOptions): k8s.KubeService {
    const problem = this.problem;
    const names = options.ports ?? this.ports.filter((p) => (p.role ?? PortRole.CLIENT) === PortRole.CLIENT).map((p) => p.name);
    if (names.length === 0) throw problem.error(`client service '${id}' ports`, 'must name at least one port');
    const ports = names.map((n) => this.port(n));
    const name = problem.dnsLabel(`client service '${id}' name`, options.name ?? `${this.name}-${id.toLowerCase()}`);
    if (this.serviceNames.includes(name)) throw problem.error(`client service '${id}' name`, `'${name}' is already a Service of this workload`);
    this.serviceNames.push(name);
    const selector = { ...this.selectorLabels };
    if (options.ordinal !== undefined) {
      selector[POD_NAME_LABEL] = this.podName(options.ordinal);
    }
    return new k8s.KubeService(this, id, {
      metadata: { name, labels: this.labels },
      spec: { type: 'ClusterIP', selector, ports: ports.map((p) => servicePort(p)) },
    });
  }

  private budget(b: DisruptionBudget): k8s.PodDisruptionBudgetSpec {
    const problem = this.problem;
    if (b.maxUnavailable !== undefined && b.minAvailable !== undefined) {
      throw problem.error('disruptionBudget', 'takes maxUnavailable or minAvailable, not both');
    }
    const policy = b.unhealthyPodEvictionPolicy ? { unhealthyPodEvictionPolicy: b.unhealthyPodEvictionPolicy } : {};
    if (b.minAvailable !== undefined) {
      if (!Number.isInteger(b.minAvailable) || b.minAvailable < 0 || b.minAvailable >= this.replicas) {
        throw problem.error('disruptionBudget.minAvailable', `must be an integer from 0 to replicas - 1 (${this.replicas - 1}) so that at least one pod can be evicted for node maintenance, got ${b.minAvailable}`);
      }
      return { minAvailable: k8s.IntOrString.fromNumber(b.minAvailable), ...policy };
    }
    const maxUnavailable = b.maxUnavailable ?? 1;
    if (!Number.isInteger(maxUnavailable) || maxUnavailable < 1) {
      throw problem.error('disruptionBudget.maxUnavailable', `must be an integer >= 1, got ${maxUnavailable}: a budget of 0 forbids every voluntary disruption and blocks node drains forever`);
    }
    return { maxUnavailable: k8s.IntOrString.fromNumber(maxUnavailable), ...policy };
  }

  private checkRunAs(runAs: RunAs): RunAs {
    this.problem.integer('runAs.uid', runAs.uid, 1, 2147483647);
    this.problem.integer('runAs.gid', runAs.gid, 1, 2147483647);
    return runAs;
  }
}

function servicePort(p: WorkloadPort): k8s.ServicePort {
  return { name: p.name, port: p.port, targetPort: k8s.IntOrString.fromString(p.name), protocol: 'TCP' };
}

/** The version in an image reference (`zookeeper:3.9.4` -> `3.9.4`), if it has a tag. */
export function imageTag(image: string): string | undefined {
  const last = image.split('@')[0].split('/').pop() ?? '';
  const tag = last.includes(':') ? last.split(':')[1] : undefined;
  return tag && /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/.test(tag) ? tag : undefined;
}

const DUPLICATE_CHECK = Symbol.for('cdk8s-stateful.duplicate-object-check');

/**
 * Once per app: at synth, two objects of one kind, namespace and name (ours
 * or the app's own) are an error naming both constructs; `kubectl apply`
 * would otherwise let the second silently overwrite the first.
 */
function registerDuplicateCheck(scope: IConstruct): void {
  const root = scope.node.root as IConstruct & { [DUPLICATE_CHECK]?: boolean };
  if (root[DUPLICATE_CHECK]) return;
  root[DUPLICATE_CHECK] = true;
  root.node.addValidation({
    validate: () => {
      const seen = new Map<string, string>();
      const errors: string[] = [];
      for (const c of root.node.findAll()) {
        if (!ApiObject.isApiObject(c)) continue;
        const namespace = c.metadata.namespace ?? Chart.of(c).namespace ?? 'default';
        const key = `${c.apiVersion.split('/')[0]}/${c.kind} ${namespace}/${c.name}`;
        const other = seen.get(key);
        if (other) errors.push(`'${c.node.path}' and '${other}' are both ${c.kind} '${c.name}' in namespace '${namespace}': rename one`);
        else seen.set(key, c.node.path);
      }
      return errors;
    },
  });
}
