import { createHash } from 'crypto';
import { posix } from 'path';
import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { k8s } from './private/k8s';
import { WorkloadIdentity } from './identity';
import { Problem } from './names';
import { PlacementProps, renderPlacement } from './placement';
import { Probe } from './probes';
import { Resources } from './resources';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext, RunAs } from './security';
import { Storage } from './storage';

/** Who may connect to a port (drives the NetworkPolicy and the client Service). */
export enum PortRole {
  /** Clients of the system: exposed by the client Service, open to declared clients. */
  CLIENT = 'client',
  /** Members talking to each other (replication, quorum, gossip): open to peers only. */
  PEER = 'peer',
  /** Metrics scraped by Prometheus: open to every namespace. */
  METRICS = 'metrics',
}

/** A port a container listens on. */
export interface WorkloadPort {
  /** Port name (at most 15 characters), referenced by probes and Services. */
  readonly name: string;
  /** Port number, on the Services and (unless `containerPort`) in the container. */
  readonly port: number;
  /**
   * Port the container listens on, when it differs from `port`.
   * @default - same as `port`
   */
  readonly containerPort?: number;
  /**
   * Who connects to it.
   * @default PortRole.CLIENT
   */
  readonly role?: PortRole;
}

/** A volume mounted into a container. */
export interface WorkloadMount {
  /** Name of a volume of the workload (`volumes` or `secretVolumes`). */
  readonly volume: string;
  /** Absolute mount path. */
  readonly path: string;
  /**
   * Mount only this sub-path of the volume.
   * @default - the whole volume
   */
  readonly subPath?: string;
  /**
   * Mount read-only.
   * @default false
   */
  readonly readOnly?: boolean;
}

/** A container of the workload's pods. */
export interface WorkloadContainer {
  /** Container name (DNS label). */
  readonly name: string;
  /** Image with a pinned tag or digest (never `latest`). */
  readonly image: string;
  /**
   * Entrypoint.
   * @default - the image's entrypoint
   */
  readonly command?: string[];
  /**
   * Arguments.
   * @default - the image's cmd
   */
  readonly args?: string[];
  /**
   * Environment variables (literal values, downward API, Secret keys).
   * @default - none
   */
  readonly env?: k8s.EnvVar[];
  /**
   * Ports the container listens on.
   * @default - none
   */
  readonly ports?: WorkloadPort[];
  /**
   * Volumes to mount (config files are mounted automatically).
   * @default - none
   */
  readonly mounts?: WorkloadMount[];
  /**
   * CPU and memory.
   * @default - the workload's `resources` for containers, `Resources.tiny()` for init containers
   */
  readonly resources?: Resources;
  /**
   * Readiness probe: when the pod receives traffic and counts as Ready.
   * @default - none
   */
  readonly readinessProbe?: Probe;
  /**
   * Liveness probe: when the container is restarted. Keep it more tolerant
   * than readiness.
   * @default - none
   */
  readonly livenessProbe?: Probe;
  /**
   * Startup probe: holds off liveness while a slow start completes.
   * @default - none
   */
  readonly startupProbe?: Probe;
  /**
   * Command run before the container is stopped (graceful shutdown).
   * @default - none
   */
  readonly preStop?: string[];
  /**
   * Mount the root filesystem read-only. Turn off only for images that write
   * outside their volumes and cannot be configured otherwise.
   * @default true
   */
  readonly readOnlyRootFilesystem?: boolean;
  /**
   * Working directory.
   * @default - the image's
   */
  readonly workingDir?: string;
}

/** A data volume of each pod. */
export interface WorkloadVolume {
  /** Volume name, referenced by container mounts (and the claim name prefix). */
  readonly name: string;
  /** Persistent (a claim template) or ephemeral (an emptyDir). */
  readonly storage: Storage;
}

/** A Secret mounted as files. */
export interface SecretVolume {
  /** Volume name, referenced by container mounts. */
  readonly name: string;
  /** The Secret's name. */
  readonly secretName: string;
  /**
   * Only these keys, as files of the same name.
   * @default - every key
   */
  readonly keys?: string[];
}

/** A file rendered into the workload's ConfigMap and mounted at `path` in every container. */
export interface ConfigFile {
  /** Absolute path of the file in the containers; its directory becomes a mount. */
  readonly path: string;
  /** File contents. */
  readonly content: string;
  /**
   * Mark the file executable (scripts).
   * @default false
   */
  readonly executable?: boolean;
}

/** How pods are replaced when the template changes. */
export class UpdateStrategy {
  /**
   * Replace pods one at a time from the highest ordinal down; pods with an
   * ordinal below `partition` keep the old template (canary and staged rollouts).
   */
  public static rollingUpdate(partition: number = 0): UpdateStrategy {
    return new UpdateStrategy('RollingUpdate', partition);
  }

  /** Replace a pod only when someone deletes it (manual, operator-driven upgrades). */
  public static onDelete(): UpdateStrategy {
    return new UpdateStrategy('OnDelete', undefined);
  }

  private constructor(
    /** 'RollingUpdate' or 'OnDelete'. */
    public readonly type: string,
    /** The rolling-update partition. */
    public readonly partition: number | undefined,
  ) {}
}

/** Order in which pods are created and deleted. */
export enum PodManagementPolicy {
  /** One pod at a time, each Ready before the next (quorum systems, primaries first). */
  ORDERED_READY = 'OrderedReady',
  /** All at once (systems that form a cluster by themselves, like Redis Cluster). */
  PARALLEL = 'Parallel',
}

/** Whether claims are deleted with the StatefulSet or on scale-down. */
export enum ClaimRetention {
  /** Keep the claims and their data. */
  RETAIN = 'Retain',
  /** Delete the claims. */
  DELETE = 'Delete',
}

/** When the eviction API may evict a pod that is not Ready. */
export enum UnhealthyPodEvictionPolicy {
  /** Only while the budget is met (the Kubernetes default). */
  IF_HEALTHY_BUDGET = 'IfHealthyBudget',
  /** Always: a crash-looping pod never blocks a node drain. */
  ALWAYS_ALLOW = 'AlwaysAllow',
}

/** The PodDisruptionBudget. Give `maxUnavailable` or `minAvailable`. */
export interface DisruptionBudget {
  /**
   * Pods that voluntary disruptions (drains, upgrades) may take down at once.
   * @default 1
   */
  readonly maxUnavailable?: number;
  /**
   * Pods that must stay up.
   * @default - use `maxUnavailable`
   */
  readonly minAvailable?: number;
  /**
   * Eviction of pods that are not Ready.
   * @default UnhealthyPodEvictionPolicy.IF_HEALTHY_BUDGET
   */
  readonly unhealthyPodEvictionPolicy?: UnhealthyPodEvictionPolicy;
}

/** Disruption budgets derived from what a system must keep running. */
export class Budgets {
  /**
   * For a voting quorum of `members`: at most `floor((members - 1) / 2)` down
   * at once, so a majority always remains (3 -> 1, 5 -> 2). A single member
   * has no quorum to keep; its budget allows 1 so that node drains proceed.
   */
  public static quorum(members: number): DisruptionBudget {
    return { maxUnavailable: members <= 1 ? 1 : Math.floor((members - 1) / 2) };
  }

  private constructor() {}
}

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
export interface StatefulWorkloadProps {
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
   * Kind of the construct that owns this unit, used in error messages.
   * @default 'StatefulWorkload'
   */
  readonly kind?: string;
  /**
   * Name of the StatefulSet (at most 52 characters); other objects derive theirs from it.
   * @default - the construct path from the chart, joined with '-'
   */
  readonly name?: string;
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
   * `app.kubernetes.io/version`.
   * @default - none
   */
  readonly version?: string;
  /**
   * Number of pods.
   * @default 3
   */
  readonly replicas?: number;
  /**
   * Default CPU and memory of each container.
   * @default Resources.small()
   */
  readonly resources?: Resources;
  /**
   * Data volumes.
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
   * User and group of every process.
   * @default { uid: 1000, gid: 1000 }
   */
  readonly runAs?: RunAs;
  /**
   * Pod placement: anti-affinity, zone spread, node selection.
   * @default - soft anti-affinity by node
   */
  readonly placement?: PlacementProps;
  /**
   * Pod management policy.
   * @default PodManagementPolicy.ORDERED_READY
   */
  readonly podManagementPolicy?: PodManagementPolicy;
  /**
   * Update strategy.
   * @default UpdateStrategy.rollingUpdate()
   */
  readonly updateStrategy?: UpdateStrategy;
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
   * Seconds a new pod must be Ready before it counts as available.
   * @default Duration.seconds(0)
   */
  readonly minReady?: Duration;
  /**
   * Time a pod gets to shut down before it is killed.
   * @default Duration.seconds(30)
   */
  readonly terminationGracePeriod?: Duration;
  /**
   * The PodDisruptionBudget.
   * @default { maxUnavailable: 1 }
   */
  readonly disruptionBudget?: DisruptionBudget;
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
   * Create a NetworkPolicy that admits peers on PEER ports, `allowClientsFrom`
   * on CLIENT ports and every namespace on METRICS ports.
   * @default true
   */
  readonly networkPolicy?: boolean;
  /**
   * Who may reach CLIENT ports; add more later with `allowClients`.
   * @default - every pod in the namespace
   */
  readonly allowClientsFrom?: k8s.NetworkPolicyPeer[];
  /**
   * Cluster DNS domain, for `podFqdn`.
   * @default 'cluster.local'
   */
  readonly clusterDomain?: string;
  /**
   * Extra pod annotations.
   * @default - none
   */
  readonly podAnnotations?: { [key: string]: string };
}

const MANAGED_BY = 'cdk8s-stateful';

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
  public readonly namespace: string | undefined;
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
  /** The ServiceAccount of the pods. */
  public readonly serviceAccount: k8s.KubeServiceAccount;
  /** The NetworkPolicy, if created. */
  public readonly networkPolicy: k8s.KubeNetworkPolicy | undefined;
  /** Every port of the pods. */
  public readonly ports: WorkloadPort[];

  private readonly problem: Problem;
  /** Read at synth time, so `allowClients` calls after construction still land in the policy. */
  private readonly ingress: k8s.NetworkPolicyIngressRule[] = [];

  public constructor(scope: Construct, id: string, props: StatefulWorkloadProps) {
    super(scope, id);
    const owner = props.kind ? scope : this;
    this.problem = new Problem(props.kind ?? 'StatefulWorkload', owner);
    const problem = this.problem;

    // --- identity -------------------------------------------------------
    this.identity = WorkloadIdentity.of(owner, props);
    this.name = this.identity.name;
    this.headlessServiceName = this.identity.headlessServiceName;
    this.replicas = problem.integer('replicas', props.replicas ?? 3, 1);
    this.namespace = this.identity.namespace;
    this.clusterDomain = this.identity.clusterDomain;
    this.selectorLabels = {
      'app.kubernetes.io/name': problem.dnsLabel('appName', props.appName),
      'app.kubernetes.io/instance': props.instance ?? this.name,
      ...(props.component ? { 'app.kubernetes.io/component': props.component } : {}),
    };
    this.labels = {
      ...this.selectorLabels,
      'app.kubernetes.io/part-of': props.partOf ?? props.appName,
      'app.kubernetes.io/managed-by': MANAGED_BY,
      ...(props.version ? { 'app.kubernetes.io/version': props.version } : {}),
    };

    // --- containers, ports, volumes -------------------------------------
    if (props.containers.length === 0) {
      throw problem.error('containers', 'must contain at least one container');
    }
    const resources = props.resources ?? Resources.small();
    this.checkResources('resources', resources);
    const allContainers = [...(props.initContainers ?? []), ...props.containers];
    const containerNames = new Set<string>();
    for (const c of allContainers) {
      problem.dnsLabel('containers[].name', c.name);
      if (containerNames.has(c.name)) throw problem.error('containers', `has two containers named '${c.name}'; container names must be unique`);
      containerNames.add(c.name);
      checkImage(problem, c);
      if (c.resources) this.checkResources(`container '${c.name}' resources`, c.resources);
    }
    this.ports = this.collectPorts(props.containers, props.initContainers ?? []);

    const volumes = props.volumes ?? [];
    const secretVolumes = props.secretVolumes ?? [];
    const configVolumes = this.configVolumes(props.configFiles ?? []);
    const volumeNames = new Set<string>();
    for (const v of [...volumes.map((x) => x.name), ...secretVolumes.map((x) => x.name), ...configVolumes.map((x) => x.volume.name)]) {
      problem.dnsLabel('volumes[].name', v);
      if (volumeNames.has(v)) throw problem.error('volumes', `has two volumes named '${v}'; volume names must be unique`);
      volumeNames.add(v);
    }
    volumes.forEach((v) => v.storage._validate(problem, `volume '${v.name}' storage`));
    const mounted = new Set<string>();
    for (const c of allContainers) {
      const paths = new Set<string>();
      for (const m of c.mounts ?? []) {
        if (!volumeNames.has(m.volume)) {
          throw problem.error(`container '${c.name}' mounts`, `name volume '${m.volume}', which does not exist; declared volumes: ${[...volumeNames].join(', ') || 'none'}`);
        }
        if (!posix.isAbsolute(m.path)) throw problem.error(`container '${c.name}' mounts`, `need absolute paths, got '${m.path}'`);
        if (paths.has(m.path)) throw problem.error(`container '${c.name}' mounts`, `mount two volumes at '${m.path}'`);
        paths.add(m.path);
        mounted.add(m.volume);
      }
    }
    for (const v of [...volumes, ...secretVolumes]) {
      if (!mounted.has(v.name)) {
        const what = 'storage' in v && v.storage.isPersistent ? 'claim template' : 'volume';
        throw problem.error('volumes', `declare ${what} '${v.name}' but no container mounts it; mount it or remove it`);
      }
    }

    // --- the objects ----------------------------------------------------
    const metadata = (name: string) => ({ name, labels: this.labels });

    this.serviceAccount = new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: metadata(this.name),
      automountServiceAccountToken: false,
    });

    this.configMap = configVolumes.length === 0 ? undefined : new k8s.KubeConfigMap(this, 'Config', {
      metadata: metadata(`${this.name}-config`),
      data: Object.fromEntries((props.configFiles ?? []).map((f) => [posix.basename(f.path), f.content])),
    });
    const configHash = createHash('sha256')
      .update(JSON.stringify((props.configFiles ?? []).map((f) => [f.path, f.content, !!f.executable])))
      .digest('hex');

    this.headlessService = new k8s.KubeService(this, 'Headless', {
      metadata: metadata(this.headlessServiceName),
      spec: {
        clusterIp: 'None',
        publishNotReadyAddresses: props.publishNotReadyAddresses ?? true,
        selector: this.selectorLabels,
        ports: this.ports.map((p) => servicePort(p)),
      },
    });

    const clientPorts = this.ports.filter((p) => (p.role ?? PortRole.CLIENT) === PortRole.CLIENT);
    this.clientService = (props.clientService ?? true) && clientPorts.length > 0
      ? this.makeClientService('Client', { name: this.name })
      : undefined;

    const podSecurity = restrictedPodSecurityContext(this.checkRunAs(props.runAs ?? { uid: 1000, gid: 1000 }));
    const configMounts = configVolumes.map((cv) => ({ name: cv.volume.name, mountPath: cv.dir, readOnly: true }));
    const renderContainer = (c: WorkloadContainer, defaults: Resources, withPorts: boolean): k8s.Container => ({
      name: c.name,
      image: c.image,
      imagePullPolicy: 'IfNotPresent',
      ...(c.command ? { command: c.command } : {}),
      ...(c.args ? { args: c.args } : {}),
      ...(c.workingDir ? { workingDir: c.workingDir } : {}),
      ...(c.env && c.env.length > 0 ? { env: c.env } : {}),
      ...(withPorts && c.ports && c.ports.length > 0
        ? { ports: c.ports.map((p) => ({ name: p.name, containerPort: p.containerPort ?? p.port, protocol: 'TCP' })) }
        : {}),
      resources: (c.resources ?? defaults)._render(),
      securityContext: restrictedContainerSecurityContext(c.readOnlyRootFilesystem ?? true),
      volumeMounts: [
        ...configMounts,
        ...(c.mounts ?? []).map((m) => ({
          name: m.volume,
          mountPath: m.path,
          ...(m.subPath ? { subPath: m.subPath } : {}),
          ...(m.readOnly ? { readOnly: true } : {}),
        })),
      ],
      ...(c.readinessProbe ? { readinessProbe: c.readinessProbe._render() } : {}),
      ...(c.livenessProbe ? { livenessProbe: c.livenessProbe._render() } : {}),
      ...(c.startupProbe ? { startupProbe: c.startupProbe._render() } : {}),
      ...(c.preStop ? { lifecycle: { preStop: { exec: { command: c.preStop } } } } : {}),
      terminationMessagePolicy: 'FallbackToLogsOnError',
    });

    const strategy = props.updateStrategy ?? UpdateStrategy.rollingUpdate();
    if (strategy.partition !== undefined) {
      problem.integer('updateStrategy partition', strategy.partition, 0, this.replicas);
    }
    const persistent = volumes.filter((v) => v.storage.isPersistent);
    const placement = renderPlacement(props.placement ?? {}, this.selectorLabels);
    const terminationGracePeriodSeconds = (props.terminationGracePeriod ?? Duration.seconds(30)).toSeconds();

    this.statefulSet = new k8s.KubeStatefulSet(this, 'Resource', {
      metadata: metadata(this.name),
      spec: {
        replicas: this.replicas,
        serviceName: this.headlessServiceName,
        selector: { matchLabels: this.selectorLabels },
        podManagementPolicy: props.podManagementPolicy ?? PodManagementPolicy.ORDERED_READY,
        updateStrategy: strategy.type === 'OnDelete'
          ? { type: 'OnDelete' }
          : { type: 'RollingUpdate', rollingUpdate: { partition: strategy.partition ?? 0 } },
        persistentVolumeClaimRetentionPolicy: {
          whenDeleted: props.claimsWhenDeleted ?? ClaimRetention.RETAIN,
          whenScaled: props.claimsWhenScaled ?? ClaimRetention.RETAIN,
        },
        minReadySeconds: (props.minReady ?? Duration.seconds(0)).toSeconds(),
        revisionHistoryLimit: 10,
        template: {
          metadata: {
            labels: this.labels,
            annotations: { 'cdk8s-stateful.io/config-hash': configHash, ...(props.podAnnotations ?? {}) },
          },
          spec: {
            serviceAccountName: this.serviceAccount.name,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            terminationGracePeriodSeconds,
            securityContext: podSecurity,
            ...placement,
            ...(props.initContainers && props.initContainers.length > 0
              ? { initContainers: props.initContainers.map((c) => renderContainer(c, Resources.tiny(), false)) }
              : {}),
            containers: props.containers.map((c) => renderContainer(c, resources, true)),
            volumes: [
              ...configVolumes.map((cv) => cv.volume),
              ...secretVolumes.map((s) => ({
                name: s.name,
                secret: {
                  secretName: s.secretName,
                  defaultMode: 0o440,
                  ...(s.keys ? { items: s.keys.map((k) => ({ key: k, path: k })) } : {}),
                },
              })),
              ...volumes.filter((v) => !v.storage.isPersistent).map((v) => v.storage._podVolume(v.name)),
            ],
          },
        },
        volumeClaimTemplates: persistent.map((v) => v.storage._claimTemplate(v.name, this.selectorLabels)),
      },
    });

    this.pdb = new k8s.KubePodDisruptionBudget(this, 'Budget', {
      metadata: metadata(this.name),
      spec: { selector: { matchLabels: this.selectorLabels }, ...this.budget(props.disruptionBudget ?? {}) },
    });

    if (props.networkPolicy ?? true) {
      this.ingress.push(...this.fixedIngressRules());
      for (const from of props.allowClientsFrom ?? [{ podSelector: {} }]) this.allowClients(from);
      this.networkPolicy = new k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
        metadata: metadata(this.name),
        spec: {
          podSelector: { matchLabels: this.selectorLabels },
          policyTypes: ['Ingress'],
          ingress: this.ingress,
        },
      });
    }
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
    const p = this.ports.find((x) => x.name === name);
    if (!p) throw this.problem.error('ports', `have no port named '${name}'; ports: ${this.ports.map((x) => x.name).join(', ')}`);
    return p;
  }

  /** Adds a ClusterIP Service over some ports, optionally in front of a single ordinal. */
  public addClientService(id: string, options: ClientServiceOptions = {}): k8s.KubeService {
    return this.makeClientService(id, options);
  }

  /**
   * Admits `from` to the CLIENT ports (or only `ports`) in the NetworkPolicy.
   * Systems call it to let a wired-in client (Kafka for ZooKeeper) connect.
   */
  public allowClients(from: k8s.NetworkPolicyPeer, ports?: string[]): void {
    const names = ports ?? this.ports.filter((p) => (p.role ?? PortRole.CLIENT) === PortRole.CLIENT).map((p) => p.name);
    names.forEach((n) => this.port(n));
    if (names.length === 0) return;
    this.ingress.push({ from: [from], ports: names.map((n) => ({ port: k8s.IntOrString.fromString(n), protocol: 'TCP' })) });
  }

  private fixedIngressRules(): k8s.NetworkPolicyIngressRule[] {
    const rules: k8s.NetworkPolicyIngressRule[] = [];
    const byRole = (role: PortRole) => this.ports
      .filter((p) => (p.role ?? PortRole.CLIENT) === role)
      .map((p) => ({ port: k8s.IntOrString.fromString(p.name), protocol: 'TCP' }));
    const peerPorts = byRole(PortRole.PEER);
    if (peerPorts.length > 0) rules.push({ from: [{ podSelector: { matchLabels: this.selectorLabels } }], ports: peerPorts });
    const metricsPorts = byRole(PortRole.METRICS);
    if (metricsPorts.length > 0) rules.push({ from: [{ namespaceSelector: {} }], ports: metricsPorts });
    return rules;
  }

  private makeClientService(id: string, options: ClientServiceOptions): k8s.KubeService {
    const problem = this.problem;
    const names = options.ports ?? this.ports.filter((p) => (p.role ?? PortRole.CLIENT) === PortRole.CLIENT).map((p) => p.name);
    if (names.length === 0) throw problem.error(`client service '${id}' ports`, 'must name at least one port');
    const ports = names.map((n) => this.port(n));
    const name = problem.dnsLabel(`client service '${id}' name`, options.name ?? `${this.name}-${id.toLowerCase()}`);
    const selector = { ...this.selectorLabels };
    if (options.ordinal !== undefined) {
      selector['statefulset.kubernetes.io/pod-name'] = this.podName(options.ordinal);
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

  private collectPorts(containers: WorkloadContainer[], initContainers: WorkloadContainer[]): WorkloadPort[] {
    const problem = this.problem;
    for (const c of initContainers) {
      if (c.ports && c.ports.length > 0) throw problem.error(`init container '${c.name}' ports`, 'are not allowed: init containers do not serve traffic');
    }
    const seen = new Map<string, WorkloadPort>();
    const numbers = new Set<number>();
    for (const c of containers) {
      for (const p of c.ports ?? []) {
        problem.portName(`container '${c.name}' ports`, p.name);
        if (seen.has(p.name)) throw problem.error('ports', `has two ports named '${p.name}'; port names must be unique in a pod`);
        problem.integer(`port '${p.name}'`, p.port, 1, 65535);
        const cp = problem.integer(`port '${p.name}' containerPort`, p.containerPort ?? p.port, 1, 65535);
        if (numbers.has(cp)) throw problem.error('ports', `use container port ${cp} twice`);
        numbers.add(cp);
        seen.set(p.name, p);
      }
      for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
        if (probe?.portName && !(c.ports ?? []).some((p) => p.name === probe.portName)) {
          throw problem.error(`container '${c.name}' probes`, `target port '${probe.portName}', which the container does not declare`);
        }
      }
    }
    return [...seen.values()];
  }

  private configVolumes(files: ConfigFile[]): { dir: string; volume: k8s.Volume }[] {
    const problem = this.problem;
    const keys = new Set<string>();
    const dirs = new Map<string, ConfigFile[]>();
    for (const f of files) {
      if (!posix.isAbsolute(f.path) || f.path.endsWith('/')) throw problem.error('configFiles', `need absolute file paths, got '${f.path}'`);
      const key = posix.basename(f.path);
      if (!/^[-._a-zA-Z0-9]+$/.test(key)) throw problem.error('configFiles', `file name '${key}' may contain only letters, digits, '-', '_' and '.'`);
      if (keys.has(key)) throw problem.error('configFiles', `has two files named '${key}'; file names must be unique across directories (they share one ConfigMap)`);
      keys.add(key);
      const dir = posix.dirname(f.path);
      dirs.set(dir, [...(dirs.get(dir) ?? []), f]);
    }
    return [...dirs.entries()].map(([dir, fs], i) => ({
      dir,
      volume: {
        name: `config-${i}`,
        configMap: {
          name: `${this.name}-config`,
          defaultMode: 0o444,
          items: fs.map((f) => ({ key: posix.basename(f.path), path: posix.basename(f.path), ...(f.executable ? { mode: 0o555 } : {}) })),
        },
      },
    }));
  }

  private checkResources(prop: string, r: Resources): void {
    const problems = r._problems();
    if (problems.length > 0) throw this.problem.error(prop, problems.join('; '));
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

function checkImage(problem: Problem, c: WorkloadContainer): void {
  const last = c.image.split('/').pop() ?? '';
  if (!c.image || /\s/.test(c.image)) throw problem.error(`container '${c.name}' image`, `must be an image reference, got '${c.image}'`);
  if (!last.includes(':') && !last.includes('@')) {
    throw problem.error(`container '${c.name}' image`, `'${c.image}' has no tag: pin a version (e.g. '${c.image}:1.2.3') or a digest so every pod runs the same software`);
  }
  if (last.endsWith(':latest')) {
    throw problem.error(`container '${c.name}' image`, `'${c.image}' uses 'latest': pin a version so restarts cannot silently upgrade a stateful system`);
  }
}
