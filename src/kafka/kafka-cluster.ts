import { Chart, Duration, Size, SizeRoundingBehavior } from 'cdk8s';
import { Construct } from 'constructs';
import { StatefulSystem } from '../core/system';
import { MAX_STATEFUL_SET_NAME, pathIds, Problem } from '../core/names';
import { HOSTNAME_TOPOLOGY_KEY, PlacementProps } from '../core/placement';
import { Probe } from '../core/probes';
import { k8s } from '../core/private/k8s';
import { Resources } from '../core/resources';
import { RunAs } from '../core/security';
import { Budgets, PodManagementPolicy, PortRole, StatefulWorkload, WorkloadMount, WorkloadVolume } from '../core/stateful-workload';
import { Storage } from '../core/storage';
import { imageTag, WorkloadIdentity } from '../core/identity';
import { ZooKeeperEnsemble } from '../zookeeper/zookeeper-ensemble';
import { deriveClusterId, isClusterId, KafkaConfig, KafkaPorts, renderKafkaStartScript, renderServerProperties } from './config';

/** Image of KRaft clusters (Kafka 4.x: KRaft only). */
export const KAFKA_DEFAULT_IMAGE = 'apache/kafka:4.1.0';
/** Image of clusters on ZooKeeper (Kafka 3.x: the last line that supports it). */
export const KAFKA_ZOOKEEPER_MODE_DEFAULT_IMAGE = 'apache/kafka:3.9.1';

const CONF_DIR = '/etc/kafka/cdk8s';
const RUN_DIR = '/var/run/kafka';
const DATA_DIR = '/var/lib/kafka/data';
const LOG_DIR = `${DATA_DIR}/logs`;
/**
 * KRaft with dedicated controllers: controller `i` has `node.id` 1000 + i,
 * while brokers keep `node.id` = ordinal as in every other mode (so partition
 * replicas and leaders name broker pods directly).
 */
export const KAFKA_CONTROLLER_NODE_ID_OFFSET = 1000;

/** How the cluster keeps its metadata. */
export enum KafkaMode {
  /** The built-in Raft quorum of controllers (no ZooKeeper). */
  KRAFT = 'kraft',
  /** A ZooKeeper ensemble (Kafka 3.x only). */
  ZOOKEEPER = 'zookeeper',
}

/** Where a KRaft cluster runs its controller quorum. */
export enum KafkaControllerMode {
  /** The first `controllers` brokers also run the controller role (fewest pods). */
  COMBINED = 'combined',
  /**
   * A second StatefulSet of `controllers` pods runs only the controller role;
   * brokers run only the broker role, so broker load, restarts and scaling
   * never touch the metadata quorum.
   */
  DEDICATED = 'dedicated',
}

/** Props of `KafkaCluster`. Every prop is optional. */
export interface KafkaClusterProps {
  /**
   * Number of brokers.
   * @default 3
   */
  readonly brokers?: number;
  /**
   * Keep metadata in this ZooKeeper ensemble (Kafka 3.x). Without it the
   * cluster runs KRaft.
   * @default - KRaft
   */
  readonly zookeeper?: ZooKeeperEnsemble;
  /**
   * ZooKeeper path the cluster keeps its data under (`zookeeper.connect` suffix), so several clusters can share an ensemble.
   * @default - the ensemble's root
   */
  readonly zookeeperChroot?: string;
  /**
   * KRaft: where the controller quorum runs: on the first `controllers`
   * brokers, or in a StatefulSet of its own (`<name>-controller`).
   * @default KafkaControllerMode.COMBINED
   */
  readonly controllerMode?: KafkaControllerMode;
  /**
   * KRaft: voters in the metadata quorum; odd. COMBINED: brokers (ordinals
   * 0..n-1) that also run the controller role, at most `brokers`. DEDICATED:
   * pods of the controller StatefulSet.
   * @default - 3 (COMBINED: 1 with fewer than 3 brokers)
   */
  readonly controllers?: number;
  /**
   * KRaft, DEDICATED only: CPU and memory of each controller; the heap is half the memory limit.
   * @default Resources.small() - 250m CPU, 1Gi memory
   */
  readonly controllerResources?: Resources;
  /**
   * KRaft, DEDICATED only: storage of each controller's metadata log.
   * @default Storage.persistent({ size: Size.gibibytes(10) })
   */
  readonly controllerStorage?: Storage;
  /**
   * KRaft: the cluster id storage is formatted with (22 characters of URL-safe base64).
   * @default - derived from the construct path: stable across synths
   */
  readonly clusterId?: string;
  /**
   * Container image, built like `apache/kafka` (bash, Kafka in `KAFKA_HOME`, uid 1000). Pin a version.
   * @default - 'apache/kafka:4.1.0' (KRaft) or 'apache/kafka:3.9.1' (ZooKeeper mode)
   */
  readonly image?: string;
  /**
   * Storage of each broker's partition logs.
   * @default Storage.persistent({ size: Size.gibibytes(50) })
   */
  readonly storage?: Storage;
  /**
   * CPU and memory of each broker.
   * @default Resources.medium() - 1 CPU, 2Gi memory
   */
  readonly resources?: Resources;
  /**
   * JVM heap; at most 75% of the memory limit (Kafka lives on the page cache, so less is usually better).
   * @default - half of the memory limit
   */
  readonly heap?: Size;
  /**
   * Replicas of new topics, and of the offsets and transaction topics.
   * @default - min(3, brokers)
   */
  readonly replicationFactor?: number;
  /**
   * Replicas that must acknowledge a write with `acks=all`.
   * @default - max(1, replicationFactor - 1)
   */
  readonly minInsyncReplicas?: number;
  /**
   * Partitions of automatically created topics.
   * @default 3
   */
  readonly partitions?: number;
  /**
   * Create topics on first use.
   * @default false - topics are created deliberately, with their settings
   */
  readonly autoCreateTopics?: boolean;
  /**
   * How long segments are kept (`log.retention.hours`, whole hours).
   * @default Duration.hours(168)
   */
  readonly logRetention?: Duration;
  /**
   * Size of a log segment (`log.segment.bytes`), at most 2 GiB - 1.
   * @default Size.gibibytes(1)
   */
  readonly logSegmentSize?: Size;
  /**
   * Time between retention checks (`log.retention.check.interval.ms`).
   * @default Duration.millis(300000)
   */
  readonly logRetentionCheckInterval?: Duration;
  /**
   * Extra server.properties lines (`key: value`).
   * @default - none
   */
  readonly extraConfig?: { [key: string]: string };
  /**
   * Pod placement.
   * @default - soft anti-affinity by node
   */
  readonly placement?: PlacementProps;
  /**
   * Prefer nodes that run a member of `zookeeper` (weight 50, by node).
   * @default false
   */
  readonly preferZooKeeperNodes?: boolean;
  /**
   * Name of the StatefulSet; pods are `<name>-<ordinal>`.
   * @default - the construct path from the chart, joined with '-'
   */
  readonly name?: string;
  /**
   * Who may reach the client listener.
   * @default - every pod in the namespace
   */
  readonly allowClientsFrom?: k8s.NetworkPolicyPeer[];
  /**
   * User and group Kafka runs as.
   * @default { uid: 1000, gid: 1000 } - the apache/kafka image's `appuser`
   */
  readonly runAs?: RunAs;
  /**
   * Time a broker gets for a controlled shutdown (moving leadership away).
   * @default Duration.seconds(300)
   */
  readonly terminationGracePeriod?: Duration;
  /**
   * Cluster DNS domain, used in the advertised FQDNs.
   * @default 'cluster.local'
   */
  readonly clusterDomain?: string;
}

/**
 * A Kafka cluster: KRaft by default, or Kafka 3.x on a `ZooKeeperEnsemble`.
 * Each broker advertises its own pod FQDN, inter-broker and controller
 * traffic use separate listeners open to members only, topics default to
 * durable settings, and a broker gets five minutes for a controlled shutdown.
 */
export class KafkaCluster extends StatefulSystem {
  /** Number of brokers. */
  public readonly brokers: number;
  /** KRaft or ZooKeeper. */
  public readonly mode: KafkaMode;
  /** The client listener's port (9092). */
  public readonly clientPort: number;
  /** `<pod-fqdn>:9092,...` over every broker. */
  public readonly bootstrapServers: string;
  /** KRaft: the cluster id (undefined in ZooKeeper mode). */
  public readonly clusterId: string | undefined;
  /** KRaft: where the controller quorum runs (undefined in ZooKeeper mode). */
  public readonly controllerMode: KafkaControllerMode | undefined;
  /** KRaft: voters in the controller quorum (0 in ZooKeeper mode). */
  public readonly controllers: number;
  /** Default replication factor. */
  public readonly replicationFactor: number;
  /** Default min.insync.replicas. */
  public readonly minInsyncReplicas: number;
  /** The image the brokers run. */
  public readonly image: string;
  /** JVM heap of each broker, in MiB. */
  public readonly heapMebibytes: number;
  /** The shared part of server.properties. */
  public readonly serverProperties: string;
  /** The stateful unit of the brokers. */
  public readonly workload: StatefulWorkload;
  /**
   * KRaft with `KafkaControllerMode.DEDICATED`: the stateful unit of the
   * controllers (its `statefulSet`, `headlessService`, `pdb`,
   * `networkPolicy`, `podFqdn(i)` are the escape hatches); otherwise undefined.
   */
  public readonly controllerWorkload: StatefulWorkload | undefined;

  public constructor(scope: Construct, id: string, props: KafkaClusterProps = {}) {
    super(scope, id);
    const problem = new Problem('KafkaCluster', this);

    this.brokers = problem.integer('brokers', props.brokers ?? 3, 1);
    const brokers = this.brokers;
    this.mode = props.zookeeper ? KafkaMode.ZOOKEEPER : KafkaMode.KRAFT;
    const kraft = this.mode === KafkaMode.KRAFT;
    this.image = props.image ?? (kraft ? KAFKA_DEFAULT_IMAGE : KAFKA_ZOOKEEPER_MODE_DEFAULT_IMAGE);
    const version = /^(\d+)\.(\d+)/.exec(imageTag(this.image) ?? '');
    if (version && !kraft && Number(version[1]) >= 4) {
      throw problem.error('image', `'${this.image}' is Kafka ${version[1]}.${version[2]}, which cannot use ZooKeeper (support was removed in 4.0): use a 3.x image such as '${KAFKA_ZOOKEEPER_MODE_DEFAULT_IMAGE}', or drop 'zookeeper' to run KRaft`);
    }
    if (version && kraft && (Number(version[1]) < 3 || (Number(version[1]) === 3 && Number(version[2]) < 3))) {
      throw problem.error('image', `'${this.image}' is Kafka ${version[1]}.${version[2]}, which has no production-ready KRaft: use 3.3 or later, or set 'zookeeper'`);
    }
    if (!kraft) {
      const kraftOnly = (['controllerMode', 'controllers', 'controllerResources', 'controllerStorage', 'clusterId'] as const)
        .find((k) => props[k] !== undefined);
      if (kraftOnly) throw problem.error(kraftOnly, 'applies to KRaft only; a cluster on ZooKeeper has no controllers and no cluster id');
    }
    this.controllerMode = kraft ? props.controllerMode ?? KafkaControllerMode.COMBINED : undefined;
    const dedicated = this.controllerMode === KafkaControllerMode.DEDICATED;
    if (kraft && !dedicated) {
      const dedicatedOnly = (['controllerResources', 'controllerStorage'] as const).find((k) => props[k] !== undefined);
      if (dedicatedOnly) throw problem.error(dedicatedOnly, "applies only with controllerMode: KafkaControllerMode.DEDICATED; combined controllers use the brokers' resources and storage");
    }
    if (dedicated && brokers > KAFKA_CONTROLLER_NODE_ID_OFFSET) {
      throw problem.error('brokers', `must be at most ${KAFKA_CONTROLLER_NODE_ID_OFFSET} with dedicated controllers, got ${brokers}: controllers take node ids from ${KAFKA_CONTROLLER_NODE_ID_OFFSET}`);
    }
    if (kraft && props.zookeeperChroot !== undefined) {
      throw problem.error('zookeeperChroot', "applies only with 'zookeeper'");
    }

    // --- durability -----------------------------------------------------
    this.replicationFactor = problem.integer('replicationFactor', props.replicationFactor ?? Math.min(3, brokers), 1);
    if (this.replicationFactor > brokers) {
      throw problem.error('replicationFactor', `(${this.replicationFactor}) must be at most brokers (${brokers}): each replica of a partition needs its own broker`);
    }
    this.minInsyncReplicas = problem.integer('minInsyncReplicas', props.minInsyncReplicas ?? Math.max(1, this.replicationFactor - 1), 1);
    if (this.minInsyncReplicas > this.replicationFactor || (this.replicationFactor > 1 && this.minInsyncReplicas >= this.replicationFactor)) {
      throw problem.error('minInsyncReplicas', `(${this.minInsyncReplicas}) must be below replicationFactor (${this.replicationFactor}), or every broker restart stops acks=all writes`);
    }
    const partitions = problem.integer('partitions', props.partitions ?? 3, 1);

    if (!kraft) {
      this.controllers = 0;
    } else if (dedicated) {
      this.controllers = problem.integer('controllers', props.controllers ?? 3, 1);
    } else {
      this.controllers = problem.integer('controllers', props.controllers ?? (brokers >= 3 ? 3 : 1), 1, brokers);
    }
    if (kraft && this.controllers % 2 === 0) {
      throw problem.error('controllers', `must be odd for a controller quorum, got ${this.controllers}: ${this.controllers} voters survive no more failures than ${this.controllers - 1}`);
    }
    if (props.clusterId !== undefined && !isClusterId(props.clusterId)) {
      throw problem.error('clusterId', `must be 22 characters of URL-safe base64 encoding 16 bytes (as 'kafka-storage.sh random-uuid' prints), got '${props.clusterId}'`);
    }
    this.clusterId = kraft ? props.clusterId ?? deriveClusterId(this.node.path) : undefined;

    let chroot = '';
    if (props.zookeeperChroot !== undefined) {
      if (!/^(\/[A-Za-z0-9._-]+)+$/.test(props.zookeeperChroot)) {
        throw problem.error('zookeeperChroot', `must be an absolute ZooKeeper path such as '/kafka', got '${props.zookeeperChroot}'`);
      }
      chroot = props.zookeeperChroot;
    }

    const retentionHours = (props.logRetention ?? Duration.hours(168)).toHours({ integral: false });
    problem.integer('logRetention (in hours)', retentionHours, 1);
    const segmentBytes = (props.logSegmentSize ?? Size.gibibytes(1)).toKibibytes({ rounding: SizeRoundingBehavior.NONE }) * 1024;
    problem.integer('logSegmentSize (in bytes)', segmentBytes, 14, 2147483647);
    const checkMs = (props.logRetentionCheckInterval ?? Duration.millis(300000)).toMilliseconds();
    problem.integer('logRetentionCheckInterval (in milliseconds)', checkMs, 1);

    const resources = props.resources ?? Resources.medium();
    const limit = resources.memoryLimitMebibytes;
    this.heapMebibytes = props.heap ? props.heap.toMebibytes({ rounding: SizeRoundingBehavior.FLOOR }) : Math.floor(limit / 2);
    const maxHeap = Math.floor(limit * 0.75);
    if (!(this.heapMebibytes >= 128) || this.heapMebibytes > maxHeap) {
      throw problem.error('heap', `(${this.heapMebibytes}Mi) must be at least 128Mi and fit in the memory limit (${limit}Mi) with room for the JVM's own memory: at most 75% of it, ${maxHeap}Mi`);
    }
    for (const k of Object.keys(props.extraConfig ?? {})) {
      if (!/^[a-z0-9][a-z0-9._-]*$/.test(k) || /^(node\.id|broker\.id|process\.roles|listeners|advertised\.listeners|log\.dirs|controller\.quorum\.voters|zookeeper\.connect)$/.test(k)) {
        throw problem.error('extraConfig', `key '${k}' is not allowed: use a server.properties name that the construct does not set per pod`);
      }
    }

    // --- files ----------------------------------------------------------
    const ports = { client: 9092, internal: 9091, controller: 9093 };
    this.clientPort = ports.client;
    const clusterDomain = props.clusterDomain ?? 'cluster.local';
    // the same identities the units take below: the voters name exactly their pods
    const identity = WorkloadIdentity.of(this, { kind: 'KafkaCluster', name: props.name, clusterDomain });
    const controllerIdentity = dedicated ? this.controllerIdentity(problem, identity, props.name, clusterDomain) : undefined;
    const voters = !kraft ? [] : Array.from({ length: this.controllers }, (_, i) => controllerIdentity
      ? `${KAFKA_CONTROLLER_NODE_ID_OFFSET + i}@${controllerIdentity.podFqdn(i)}`
      : `${i}@${identity.podFqdn(i)}`);
    const config: KafkaConfig = {
      mode: this.mode,
      ports,
      logDir: LOG_DIR,
      voters,
      zookeeperConnect: props.zookeeper ? `${props.zookeeper.connectString}${chroot}` : undefined,
      partitions,
      replicationFactor: this.replicationFactor,
      minInsyncReplicas: this.minInsyncReplicas,
      autoCreateTopics: props.autoCreateTopics ?? false,
      logRetentionHours: retentionHours,
      logSegmentBytes: segmentBytes,
      logRetentionCheckIntervalMs: checkMs,
      extra: props.extraConfig ?? {},
    };
    this.serverProperties = renderServerProperties(config);
    const headlessName = identity.headlessServiceName;

    const placement: PlacementProps = {
      ...(props.placement ?? {}),
      affinity: [
        ...(props.placement?.affinity ?? []),
        ...(props.preferZooKeeperNodes && props.zookeeper
          ? [{ selector: props.zookeeper.selectorLabels, topologyKey: HOSTNAME_TOPOLOGY_KEY, weight: 50 }]
          : []),
      ],
    };
    if (props.preferZooKeeperNodes && !props.zookeeper) {
      throw problem.error('preferZooKeeperNodes', "needs 'zookeeper'");
    }

    this.workload = new StatefulWorkload(this, 'Workload', {
      kind: 'KafkaCluster',
      appName: 'kafka',
      component: 'broker',
      version: imageTag(this.image),
      name: props.name,
      replicas: brokers,
      resources,
      runAs: props.runAs ?? { uid: 1000, gid: 1000 },
      placement,
      clusterDomain,
      allowClientsFrom: props.allowClientsFrom,
      terminationGracePeriod: props.terminationGracePeriod ?? Duration.seconds(300),
      disruptionBudget: { maxUnavailable: 1 },
      volumes: kafkaVolumes(props.storage ?? Storage.persistent({ size: Size.gibibytes(50) })),
      configFiles: [
        { path: `${CONF_DIR}/server.properties`, content: this.serverProperties },
        {
          path: `${CONF_DIR}/kafka-start.sh`,
          executable: true,
          content: renderKafkaStartScript({
            mode: this.mode,
            ports,
            baseConfig: `${CONF_DIR}/server.properties`,
            runtimeConfig: `${RUN_DIR}/server.properties`,
            logDir: LOG_DIR,
            headlessServiceName: headlessName,
            clusterDomain,
            replicas: brokers,
            controllers: dedicated ? 0 : this.controllers,
            clusterId: this.clusterId,
          }),
        },
      ],
      containers: [{
        name: 'kafka',
        image: this.image,
        command: ['bash', `${CONF_DIR}/kafka-start.sh`],
        env: kafkaEnv(this.heapMebibytes),
        ports: [
          { name: 'client', port: ports.client, role: PortRole.CLIENT },
          { name: 'internal', port: ports.internal, role: PortRole.PEER },
          ...(kraft && !dedicated ? [{ name: 'controller', port: ports.controller, role: PortRole.PEER }] : []),
        ],
        mounts: KAFKA_MOUNTS,
        // a broker with many partitions takes minutes to load its logs
        startupProbe: Probe.tcp('client', { period: Duration.seconds(10), failureThreshold: 60 }),
        readinessProbe: Probe.tcp('client', { period: Duration.seconds(10), failureThreshold: 3 }),
        livenessProbe: Probe.tcp('internal', { period: Duration.seconds(30), timeout: Duration.seconds(10), failureThreshold: 6 }),
      }],
    });

    this.bootstrapServers = Array.from({ length: brokers }, (_, i) => `${this.workload.podFqdn(i)}:${ports.client}`).join(',');

    this.controllerWorkload = controllerIdentity ? this.addControllers(problem, props, {
      identity: controllerIdentity,
      instance: identity.name,
      ports,
      clusterDomain,
      placement: props.placement ?? {},
    }) : undefined;

    if (props.zookeeper) {
      const zkNs = Chart.of(props.zookeeper).namespace;
      const ownNs = Chart.of(this).namespace;
      const brokersPeer: k8s.NetworkPolicyPeer = { podSelector: { matchLabels: this.selectorLabels } };
      props.zookeeper.allowClients(zkNs === ownNs
        ? brokersPeer
        : { ...brokersPeer, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ownNs ?? 'default' } } });
    }
  }


  /** The controllers' StatefulSet is `<name>-controller`: it must fit the StatefulSet name limit too. */
  private controllerIdentity(problem: Problem, brokers: WorkloadIdentity, name: string | undefined, clusterDomain: string): WorkloadIdentity {
    const controllerName = `${brokers.name}-controller`;
    if (controllerName.length > MAX_STATEFUL_SET_NAME) {
      const room = MAX_STATEFUL_SET_NAME - '-controller'.length;
      const hint = name ? `choose a name of at most ${room} characters` : `shorten the ids ${pathIds(this).join(', ')} or set a name of at most ${room} characters`;
      throw problem.error('name', `'${brokers.name}' leaves no room for the dedicated controllers' StatefulSet '${controllerName}' (${controllerName.length} characters; at most ${MAX_STATEFUL_SET_NAME}): ${hint}`);
    }
    return WorkloadIdentity.of(this, { kind: 'KafkaCluster', name: controllerName, clusterDomain });
  }

  /**
   * The dedicated controller quorum: its own StatefulSet, headless Service,
   * claim, PDB that keeps a majority, and NetworkPolicy that admits the other
   * controllers and the brokers on the controller port.
   */
  private addControllers(problem: Problem, props: KafkaClusterProps, o: {
    identity: WorkloadIdentity; instance: string; ports: KafkaPorts; clusterDomain: string; placement: PlacementProps;
  }): StatefulWorkload {
    const n = this.controllers;
    const resources = props.controllerResources ?? Resources.small();
    const heap = Math.floor(resources.memoryLimitMebibytes / 2);
    if (!(heap >= 128)) {
      throw problem.error('controllerResources', `leave a controller heap of ${heap}Mi (half the memory limit of ${resources.memoryLimitMebibytes}Mi); give at least 256Mi of memory`);
    }
    const controllers = new StatefulWorkload(this, 'Controller', {
      kind: 'KafkaCluster',
      appName: 'kafka',
      component: 'controller',
      instance: o.instance,
      version: imageTag(this.image),
      name: o.identity.name,
      replicas: n,
      resources,
      runAs: props.runAs ?? { uid: 1000, gid: 1000 },
      placement: o.placement,
      clusterDomain: o.clusterDomain,
      // a quorum forms only once a majority runs: start every voter at once
      podManagementPolicy: PodManagementPolicy.PARALLEL,
      terminationGracePeriod: Duration.seconds(60),
      // keep a majority of voters: 3 -> 1 down, 5 -> 2; a single controller cannot keep a quorum anyway
      disruptionBudget: Budgets.quorum(n),
      volumes: kafkaVolumes(props.controllerStorage ?? Storage.persistent({ size: Size.gibibytes(10) })),
      configFiles: [
        { path: `${CONF_DIR}/server.properties`, content: this.serverProperties },
        {
          path: `${CONF_DIR}/kafka-start.sh`,
          executable: true,
          content: renderKafkaStartScript({
            mode: KafkaMode.KRAFT,
            role: 'controller',
            ports: o.ports,
            baseConfig: `${CONF_DIR}/server.properties`,
            runtimeConfig: `${RUN_DIR}/server.properties`,
            logDir: LOG_DIR,
            headlessServiceName: o.identity.headlessServiceName,
            clusterDomain: o.clusterDomain,
            replicas: n,
            controllers: n,
            nodeIdOffset: KAFKA_CONTROLLER_NODE_ID_OFFSET,
            clusterId: this.clusterId,
          }),
        },
      ],
      containers: [{
        name: 'kafka',
        image: this.image,
        command: ['bash', `${CONF_DIR}/kafka-start.sh`],
        env: kafkaEnv(heap),
        ports: [{ name: 'controller', port: o.ports.controller, role: PortRole.PEER }],
        mounts: KAFKA_MOUNTS,
        // one listener: readiness and liveness both connect to it, liveness far more patiently
        startupProbe: Probe.tcp('controller', { period: Duration.seconds(10), failureThreshold: 30 }),
        readinessProbe: Probe.tcp('controller', { period: Duration.seconds(10), failureThreshold: 3 }),
        livenessProbe: Probe.tcp('controller', { period: Duration.seconds(30), timeout: Duration.seconds(10), failureThreshold: 6 }),
      }],
    });
    // brokers fetch metadata from and heartbeat to the controllers; controllers never connect to brokers
    controllers.allowClients({ podSelector: { matchLabels: this.workload.selectorLabels } }, ['controller']);
    return controllers;
  }
}

/** Where every Kafka container mounts the volumes of `kafkaVolumes`. */
const KAFKA_MOUNTS: WorkloadMount[] = [
  { volume: 'data', path: DATA_DIR },
  { volume: 'run', path: RUN_DIR },
  { volume: 'logs', path: '/var/log/kafka' },
  { volume: 'tmp', path: '/tmp' },
];

/** The volumes of every Kafka pod: its data claim, plus writable runtime, log and tmp dirs (the root filesystem is read-only). */
function kafkaVolumes(data: Storage): WorkloadVolume[] {
  return [
    { name: 'data', storage: data },
    { name: 'run', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(16) }) },
    { name: 'logs', storage: Storage.ephemeral({ sizeLimit: Size.gibibytes(1) }) },
    { name: 'tmp', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(256) }) },
  ];
}

/** The env of every Kafka container: namespace for the advertised FQDN, the image's home, heap and log dir. */
function kafkaEnv(heapMebibytes: number): k8s.EnvVar[] {
  return [
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: 'KAFKA_HOME', value: '/opt/kafka' },
    { name: 'KAFKA_HEAP_OPTS', value: `-Xms${heapMebibytes}m -Xmx${heapMebibytes}m` },
    { name: 'LOG_DIR', value: '/var/log/kafka' },
  ];
}
