import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { WorkloadIdentity } from '../core/identity';
import { Problem } from '../core/names';
import { HOSTNAME_TOPOLOGY_KEY, PlacementProps } from '../core/placement';
import { Budgets, PodManagementPolicy } from '../core/policies';
import { Resources } from '../core/resources';
import { StatefulWorkload } from '../core/stateful-workload';
import { Storage } from '../core/storage';
import { StatefulSystem, StatefulSystemProps, SystemUnitProps, systemUnitProps } from '../core/system';
import { ZooKeeperEnsemble } from '../zookeeper/zookeeper-ensemble';
import { renderServerProperties } from './config';
import { kafkaPod } from './pod';
import { kafkaAlerts, KafkaUnitAlerts } from './alerts';
import {
  KAFKA_DEFAULT_IMAGE, KAFKA_JMX_EXPORTER_DEFAULT_IMAGE, KAFKA_JMX_EXPORTER_DEFAULT_JAR_PATH, KAFKA_PORTS, KAFKA_USER,
  KAFKA_ZOOKEEPER_MODE_DEFAULT_IMAGE, kafkaClusterId, kafkaConfig, kafkaIdentities, KafkaControllerMode, KafkaMode, kafkaSettings, KafkaSettings,
} from './settings';

export { KafkaControllerMode, KafkaMode } from './settings';

/**
 * Props of `KafkaCluster`: the shared props of `StatefulSystemProps` (they
 * apply to the brokers) plus Kafka's own. Every prop is optional.
 */
export interface KafkaClusterProps extends StatefulSystemProps {
  /**
   * Number of brokers.
   * @default 3
   */
  readonly brokers?: number;
  /**
   * Keep metadata in this ZooKeeper ensemble (Kafka 3.x); its NetworkPolicy
   * then admits the brokers. Without it the cluster runs KRaft.
   * @default - KRaft
   */
  readonly zookeeper?: ZooKeeperEnsemble;
  /**
   * ZooKeeper path the cluster keeps its data under (`zookeeper.connect` suffix), so several clusters can share an ensemble.
   * @default - the ensemble's root
   */
  readonly zookeeperChroot?: string;
  /**
   * Prefer nodes that run a member of `zookeeper` (weight 50, by node).
   * @default false
   */
  readonly preferZooKeeperNodes?: boolean;
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
   * KRaft: the cluster id storage is formatted with (22 characters of URL-safe
   * base64). The derived id depends on the namespace, the brokers' StatefulSet
   * name and the construct path, so moving or renaming an existing cluster
   * changes it, and its pods then refuse to start on their old volumes: set
   * it to the id in `meta.properties` (or `clusterId` before the change) first.
   * @default - derived from the namespace, the StatefulSet name and the construct path: stable across synths
   */
  readonly clusterId?: string;
  /**
   * How long a broker may take from its start until it serves requests (log
   * recovery after an unclean stop, loading partitions, catching up metadata)
   * before the kubelet restarts it; at least a minute. Catching up with the
   * other replicas afterwards is not limited: the broker just stays unready.
   * @default Duration.minutes(15)
   */
  readonly startupTimeout?: Duration;
  /**
   * JVM heap of each broker; at most 75% of the memory limit (Kafka lives on the page cache, so less is usually better).
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
   * With `monitoring`: the image an init container copies the Prometheus JMX
   * exporter's Java agent (`jmx_prometheus_javaagent`) from, as the Kafka
   * image does not ship it. The image needs `bash` and the jar at
   * `jmxExporterJarPath`; an image of your own with the jar from Maven
   * Central is the smallest choice.
   * @default KafkaCluster.DEFAULT_JMX_EXPORTER_IMAGE - 'quay.io/strimzi/kafka:0.45.0-kafka-3.9.0'
   */
  readonly jmxExporterImage?: string;
  /**
   * With `monitoring`: the agent jar's absolute path in `jmxExporterImage`;
   * a `*` in the file name matches a version (exactly one file must match).
   * @default KafkaCluster.DEFAULT_JMX_EXPORTER_JAR_PATH - '/opt/kafka/libs/jmx_prometheus_javaagent*.jar'
   */
  readonly jmxExporterJarPath?: string;
}

/**
 * A Kafka cluster: KRaft by default, or Kafka 3.x on a `ZooKeeperEnsemble`.
 * Each broker advertises its own pod FQDN, inter-broker and controller
 * traffic use separate listeners open to members only, topics default to
 * durable settings, and a broker gets five minutes for a controlled shutdown.
 *
 * Defaults of the shared props (`StatefulSystemProps`, which size and place the brokers):
 * - `image`: `KafkaCluster.DEFAULT_IMAGE` ('apache/kafka:4.1.0'), or
 *   `KafkaCluster.ZOOKEEPER_MODE_DEFAULT_IMAGE` ('apache/kafka:3.9.1') with `zookeeper`
 * - `resources`: `Resources.medium()` (1 CPU, 2Gi memory)
 * - `storage`: `Storage.persistent({ size: Size.gibibytes(50) })`, the partition logs
 * - `runAs`: uid/gid 1000 (the apache/kafka image's `appuser`)
 * - `terminationGracePeriod`: 300 seconds (a controlled shutdown moves leadership away)
 * - `disruptionBudget`: one broker down at a time
 * - `monitoring`: when set, the Prometheus JMX exporter's agent runs in every
 *   broker and controller JVM (port 9404, `metrics`; its jar copied by an
 *   init container from `jmxExporterImage`), a ServiceMonitor scrapes it and a
 *   PrometheusRule alerts on brokers down, under-replicated, under-min-ISR and
 *   offline partitions, the active controller count, offline log
 *   directories and saturated request and network threads
 *
 * Dedicated controllers (`KafkaControllerMode.DEDICATED`) take the brokers'
 * `image`, `imagePullPolicy`, `placement`, `runAs`, `serviceAccount`,
 * `podLabels`, `podAnnotations`, `networkPolicy` and an `OnDelete` update
 * strategy; they have their own `controllerResources` and
 * `controllerStorage`, start in parallel, get 60 s to stop and keep a
 * majority in their budget (`Budgets.quorum(controllers)`).
 */
export class KafkaCluster extends StatefulSystem {
  /** The image of KRaft clusters unless `image` is set (Kafka 4.x). */
  public static readonly DEFAULT_IMAGE: string = KAFKA_DEFAULT_IMAGE;
  /** The image of clusters on ZooKeeper unless `image` is set (Kafka 3.x, the last line with ZooKeeper). */
  public static readonly ZOOKEEPER_MODE_DEFAULT_IMAGE: string = KAFKA_ZOOKEEPER_MODE_DEFAULT_IMAGE;
  /** With `monitoring`: the image the JMX exporter's agent is copied from unless `jmxExporterImage` is set. */
  public static readonly DEFAULT_JMX_EXPORTER_IMAGE: string = KAFKA_JMX_EXPORTER_DEFAULT_IMAGE;
  /** Where `DEFAULT_JMX_EXPORTER_IMAGE` keeps the agent's jar (`*` matches its version). */
  public static readonly DEFAULT_JMX_EXPORTER_JAR_PATH: string = KAFKA_JMX_EXPORTER_DEFAULT_JAR_PATH;

  /** Number of brokers. */
  public readonly brokers: number;
  /** KRaft or ZooKeeper. */
  public readonly mode: KafkaMode;
  /** The client listener's port (9092). */
  public readonly clientPort: number;
  /**
   * `<pod-fqdn>:9092,...` over every broker: the value of a client's
   * `bootstrap.servers`, e.g. `kplus.EnvValue.fromValue(kafka.bootstrapServers)`.
   */
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

  /** The brokers as a peer of a policy in their own namespace, made on first use. */
  private localBrokers: kplus.Pods | undefined;

  public constructor(scope: Construct, id: string, props: KafkaClusterProps = {}) {
    super(scope, id);
    const problem = new Problem('KafkaCluster', this);
    const settings = kafkaSettings(problem, props);
    const unit = systemUnitProps(problem, props, {
      image: settings.image,
      resources: settings.resources,
      storageSize: Size.gibibytes(50),
      runAs: KAFKA_USER,
      terminationGracePeriod: Duration.seconds(300),
      disruptionBudget: { maxUnavailable: 1 },
    });
    // the units take these identities: the voters name exactly their pods
    const ids = kafkaIdentities(this, problem, props, settings);
    const s: KafkaSettings = { ...settings, clusterId: kafkaClusterId(this, settings, ids) };
    const alerts = s.metrics && unit.monitoring ? kafkaAlerts(problem, unit.monitoring, unit.storage, s, ids) : undefined;

    this.brokers = s.brokers;
    this.mode = s.mode;
    this.controllerMode = s.controllerMode;
    this.controllers = s.controllers;
    this.clusterId = s.clusterId;
    this.replicationFactor = s.replicationFactor;
    this.minInsyncReplicas = s.minInsyncReplicas;
    this.image = s.image;
    this.heapMebibytes = s.heapMebibytes;
    this.clientPort = KAFKA_PORTS.client;
    this.serverProperties = renderServerProperties(kafkaConfig(s, ids));

    this.workload = new StatefulWorkload(this, 'Workload', {
      ...unit,
      // a broker is Ready once it serves requests, which takes a controller quorum: with
      // combined voters that means a majority of the brokers running, so start them at once
      podManagementPolicy: s.mode === KafkaMode.KRAFT && !s.dedicated ? PodManagementPolicy.PARALLEL : PodManagementPolicy.ORDERED_READY,
      placement: brokerPlacement(unit.placement, s),
      ...kafkaPod(s, 'broker', ids.brokers, this.serverProperties),
      monitoring: alerts?.brokers.monitoring,
      alerts: alerts?.brokers.rules,
    });
    this.bootstrapServers = Array.from({ length: s.brokers }, (_, i) => `${this.workload.podFqdn(i)}:${this.clientPort}`).join(',');

    this.controllerWorkload = ids.controllers ? this.addControllers(unit, s, ids.controllers, alerts?.controllers) : undefined;
    if (s.zookeeper?.workload.networkPolicy) {
      s.zookeeper.allowClients(this.brokersPeer(s.zookeeper.workload.namespaceName));
    }
  }

  /**
   * The dedicated controller quorum: its own StatefulSet, headless Service,
   * claim, PDB that keeps a majority, and NetworkPolicy that admits the other
   * controllers and the brokers on the controller port.
   */
  private addControllers(shared: SystemUnitProps, s: KafkaSettings, identity: WorkloadIdentity, alerts: KafkaUnitAlerts | undefined): StatefulWorkload {
    const controllers = new StatefulWorkload(this, 'Controller', {
      imagePullPolicy: shared.imagePullPolicy,
      placement: shared.placement,
      runAs: shared.runAs,
      serviceAccount: shared.serviceAccount,
      podLabels: shared.podLabels,
      podAnnotations: shared.podAnnotations,
      networkPolicy: shared.networkPolicy,
      // a partition counts broker ordinals; OnDelete (manual upgrades) holds for the controllers too
      updateStrategy: shared.updateStrategy?.strategyType === 'OnDelete' ? shared.updateStrategy : undefined,
      instance: this.workload.name,
      resources: s.controllerResources,
      storage: s.controllerStorage,
      // a quorum forms only once a majority runs: start every voter at once
      podManagementPolicy: PodManagementPolicy.PARALLEL,
      terminationGracePeriod: Duration.seconds(60),
      // keep a majority of voters: 3 -> 1 down, 5 -> 2; a single controller cannot keep a quorum anyway
      disruptionBudget: Budgets.quorum(s.controllers),
      ...kafkaPod(s, 'controller', identity, this.serverProperties),
      monitoring: alerts?.monitoring,
      alerts: alerts?.rules,
    });
    // brokers fetch metadata from and heartbeat to the controllers; controllers never connect to brokers
    if (controllers.networkPolicy) controllers.allowClients(this.brokersPeer(controllers.namespaceName), ['controller']);
    return controllers;
  }

  /**
   * The brokers as a peer of a NetworkPolicy in `policyNamespace`: in their
   * own namespace by their selector labels alone; from another namespace
   * with theirs (`default` when the chart names none).
   */
  private brokersPeer(policyNamespace: string | undefined): kplus.INetworkPolicyPeer {
    const own = this.workload.namespaceName;
    if ((own ?? 'default') === (policyNamespace ?? 'default')) {
      this.localBrokers = this.localBrokers ?? kplus.Pods.select(this, 'Brokers', { labels: this.selectorLabels });
      return this.localBrokers;
    }
    if (own) return this.pods;
    return kplus.Pods.select(this, 'DefaultNamespaceBrokers', {
      labels: this.selectorLabels,
      namespaces: kplus.Namespaces.select(this, 'DefaultNamespace', { names: ['default'] }),
    });
  }
}

/** The brokers' placement, preferring the ensemble's nodes when asked to. */
function brokerPlacement(placement: PlacementProps | undefined, s: KafkaSettings): PlacementProps {
  const nearZooKeeper = s.preferZooKeeperNodes && s.zookeeper
    ? [{ selector: s.zookeeper.selectorLabels, topologyKey: HOSTNAME_TOPOLOGY_KEY, weight: 50 }]
    : [];
  return { ...(placement ?? {}), affinity: [...(placement?.affinity ?? []), ...nearZooKeeper] };
}
