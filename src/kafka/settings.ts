// KafkaClusterProps -> resolved, validated settings. Every check of the
// cluster's own props lives here; the shared props are checked by
// `sharedProps` and the units.
import { Duration, Size, SizeRoundingBehavior } from 'cdk8s';
import { IConstruct } from 'constructs';
import { WorkloadIdentity } from '../core/identity';
import { describe, MAX_STATEFUL_SET_NAME, pathIds, Problem } from '../core/names';
import { Resources } from '../core/resources';
import { imageTag } from '../core/stateful-workload';
import { Storage } from '../core/storage';
import { StatefulSystemProps } from '../core/system';
import { jvmHeapMebibytes } from '../core/jvm';
import { checkedResources } from '../core/resources';
import { ZooKeeperEnsemble } from '../zookeeper/zookeeper-ensemble';
import { deriveClusterId, isClusterId, KafkaConfig, KafkaPorts } from './config';
import type { KafkaClusterProps } from './kafka-cluster';

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

/** Image of KRaft clusters (Kafka 4.x: KRaft only). */
export const KAFKA_DEFAULT_IMAGE = 'apache/kafka:4.1.0';
/** Image of clusters on ZooKeeper (Kafka 3.x: the last line that supports it). */
export const KAFKA_ZOOKEEPER_MODE_DEFAULT_IMAGE = 'apache/kafka:3.9.1';
/**
 * KRaft with dedicated controllers: controller `i` has `node.id` 1000 + i,
 * while brokers keep `node.id` = ordinal as in every other mode (so partition
 * replicas and leaders name broker pods directly).
 */
export const KAFKA_CONTROLLER_NODE_ID_OFFSET = 1000;
/** Seconds between startup probes of a broker. */
export const KAFKA_STARTUP_PROBE_PERIOD_SECONDS = 10;
/** The apache/kafka image's `appuser`. */
export const KAFKA_USER = { uid: 1000, gid: 1000 };
/** The listener ports. */
export const KAFKA_PORTS: KafkaPorts = { client: 9092, internal: 9091, controller: 9093 };
/** The port the Prometheus JMX exporter's agent serves /metrics on (named `metrics`). */
export const KAFKA_METRICS_PORT = 9404;

/**
 * The image the init container copies the Prometheus JMX exporter's Java
 * agent from (Strimzi's Kafka image keeps it among Kafka's jars). Not pulled
 * in this project's tests: the e2e binds the agent from Maven Central at the
 * same path.
 */
export const KAFKA_JMX_EXPORTER_DEFAULT_IMAGE = 'quay.io/strimzi/kafka:0.45.0-kafka-3.9.0';
/** Where the default image keeps the agent; `*` matches the jar's version. */
export const KAFKA_JMX_EXPORTER_DEFAULT_JAR_PATH = '/opt/kafka/libs/jmx_prometheus_javaagent*.jar';

/** Where things live in a Kafka container. */
export const KAFKA_DIRS = {
  conf: '/etc/kafka/cdk8s',
  run: '/var/run/kafka',
  data: '/var/lib/kafka/data',
  logs: '/var/log/kafka',
  /** The emptyDir the init container copies the JMX exporter's agent into. */
  jmxExporter: '/opt/jmx-exporter',
};

/** With `monitoring`: where the JMX exporter's agent comes from. */
export interface KafkaMetricsSettings {
  readonly image: string;
  readonly jarPath: string;
  readonly port: number;
}

/** The cluster's own props, resolved and validated. */
export interface KafkaSettings {
  readonly mode: KafkaMode;
  /** KRaft: where the quorum runs (undefined on ZooKeeper). */
  readonly controllerMode: KafkaControllerMode | undefined;
  /** KRaft with a controller StatefulSet of its own. */
  readonly dedicated: boolean;
  readonly brokers: number;
  /** KRaft voters (0 on ZooKeeper). */
  readonly controllers: number;
  readonly image: string;
  readonly resources: Resources;
  readonly heapMebibytes: number;
  /** Dedicated controllers: their CPU, memory, heap and metadata storage. */
  readonly controllerResources: Resources;
  readonly controllerHeapMebibytes: number;
  readonly controllerStorage: Storage;
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
  /** KRaft: the given `clusterId`; undefined derives one (`kafkaClusterId`). */
  readonly clusterId: string | undefined;
  /** Kafka's major version: the image tag's, or the mode's default image's when the tag names none. */
  readonly kafkaMajorVersion: number;
  /** Brokers: failed startup probes (every 10 s) before the kubelet restarts the broker. */
  readonly startupFailures: number;
  readonly zookeeper: ZooKeeperEnsemble | undefined;
  readonly preferZooKeeperNodes: boolean;
  /** server.properties' settings except the voters, whose names come from the identities. */
  readonly config: Omit<KafkaConfig, 'voters'>;
  /** With `monitoring`: the JMX exporter's agent in every broker and controller JVM. */
  readonly metrics: KafkaMetricsSettings | undefined;
}

/** Resolves and validates the cluster's own props. */
export function kafkaSettings(problem: Problem, props: KafkaClusterProps): KafkaSettings {
  const zookeeper = problem.instanceOf('zookeeper', props.zookeeper, ZooKeeperEnsemble, 'a ZooKeeperEnsemble of this app');
  const mode = zookeeper ? KafkaMode.ZOOKEEPER : KafkaMode.KRAFT;
  const brokers = problem.integer('brokers', props.brokers ?? 3, 1);
  const image = props.image ?? (zookeeper ? KAFKA_ZOOKEEPER_MODE_DEFAULT_IMAGE : KAFKA_DEFAULT_IMAGE);
  const kafkaMajorVersion = checkImageVersion(problem, image, mode);
  const controllerMode = quorumPlacement(problem, props, mode, brokers);
  const dedicated = controllerMode === KafkaControllerMode.DEDICATED;

  const replicationFactor = problem.integer('replicationFactor', props.replicationFactor ?? Math.min(3, brokers), 1);
  if (replicationFactor > brokers) {
    throw problem.error('replicationFactor', `(${replicationFactor}) must be at most brokers (${brokers}): each replica of a partition needs its own broker`);
  }
  const minInsyncReplicas = problem.integer('minInsyncReplicas', props.minInsyncReplicas ?? Math.max(1, replicationFactor - 1), 1);
  if (minInsyncReplicas > replicationFactor || (replicationFactor > 1 && minInsyncReplicas >= replicationFactor)) {
    throw problem.error('minInsyncReplicas', `(${minInsyncReplicas}) must be below replicationFactor (${replicationFactor}), or every broker restart stops acks=all writes`);
  }
  const partitions = problem.integer('partitions', props.partitions ?? 3, 1);
  const controllers = quorumSize(problem, props.controllers, controllerMode, brokers);
  if (props.clusterId !== undefined && (typeof props.clusterId !== 'string' || !isClusterId(props.clusterId))) {
    throw problem.error('clusterId', `must be 22 characters of URL-safe base64 encoding 16 bytes (as 'kafka-storage.sh random-uuid' prints), got '${props.clusterId}'`);
  }
  const chroot = zooKeeperChroot(problem, props.zookeeperChroot);
  if (props.preferZooKeeperNodes && !zookeeper) throw problem.error('preferZooKeeperNodes', "needs 'zookeeper'");

  const resources = checkedResources(problem, 'resources', props.resources ?? Resources.medium());
  const controllerResources = checkedResources(problem, 'controllerResources', props.controllerResources ?? Resources.small());
  const controllerHeapMebibytes = Math.floor(controllerResources.memoryLimitMebibytes / 2);
  if (dedicated && !(controllerHeapMebibytes >= 128)) {
    throw problem.error('controllerResources', `leave a controller heap of ${controllerHeapMebibytes}Mi (half the memory limit of ${controllerResources.memoryLimitMebibytes}Mi); give at least 256Mi of memory`);
  }
  const controllerStorage = problem.instanceOf('controllerStorage', props.controllerStorage, Storage,
    'Storage.persistent({ size: Size.gibibytes(10) }) or Storage.ephemeral()') ?? Storage.persistent({ size: Size.gibibytes(10) });
  controllerStorage._validate(problem, 'controllerStorage');

  return {
    mode,
    controllerMode,
    dedicated,
    brokers,
    controllers,
    image,
    resources,
    heapMebibytes: jvmHeapMebibytes(problem, props.heap, resources, 128),
    controllerResources,
    controllerHeapMebibytes,
    controllerStorage,
    replicationFactor,
    minInsyncReplicas,
    clusterId: props.clusterId,
    kafkaMajorVersion,
    startupFailures: startupFailures(problem, props.startupTimeout),
    zookeeper,
    preferZooKeeperNodes: props.preferZooKeeperNodes ?? false,
    metrics: metricsSettings(problem, props),
    config: {
      mode,
      ports: KAFKA_PORTS,
      logDir: `${KAFKA_DIRS.data}/logs`,
      zookeeperConnect: zookeeper ? `${zookeeper.connectString}${chroot}` : undefined,
      partitions,
      replicationFactor,
      minInsyncReplicas,
      autoCreateTopics: props.autoCreateTopics ?? false,
      ...logRetention(problem, props),
      extra: extraConfig(problem, props.extraConfig ?? {}),
    },
  };
}

/** The names of the brokers' StatefulSet and, with dedicated controllers, the controllers' (`<name>-controller`). */
export interface KafkaIdentities {
  readonly brokers: WorkloadIdentity;
  readonly controllers: WorkloadIdentity | undefined;
}

/**
 * KRaft: `clusterId`, or an id derived from the brokers' namespace, their
 * StatefulSet name and the construct path, so the same code deployed as
 * staging and production (or twice under other names) makes two clusters.
 */
export function kafkaClusterId(owner: IConstruct, s: KafkaSettings, ids: KafkaIdentities): string | undefined {
  if (s.mode !== KafkaMode.KRAFT) return undefined;
  return s.clusterId ?? deriveClusterId({ namespace: ids.brokers.namespaceName ?? 'default', name: ids.brokers.name, path: owner.node.path });
}

/** The units' identities; the controllers' StatefulSet name must fit the StatefulSet name limit too. */
export function kafkaIdentities(owner: IConstruct, problem: Problem, shared: StatefulSystemProps, s: KafkaSettings): KafkaIdentities {
  const clusterDomain = shared.clusterDomain;
  const brokers = WorkloadIdentity.of(owner, { kind: 'KafkaCluster', name: shared.name, clusterDomain });
  if (!s.dedicated) return { brokers, controllers: undefined };
  const controllerName = `${brokers.name}-controller`;
  if (controllerName.length > MAX_STATEFUL_SET_NAME) {
    const room = MAX_STATEFUL_SET_NAME - '-controller'.length;
    const hint = shared.name ? `choose a name of at most ${room} characters` : `shorten the ids ${pathIds(owner).join(', ')} or set a name of at most ${room} characters`;
    throw problem.error('name', `'${brokers.name}' leaves no room for the dedicated controllers' StatefulSet '${controllerName}' (${controllerName.length} characters; at most ${MAX_STATEFUL_SET_NAME}): ${hint}`);
  }
  return { brokers, controllers: WorkloadIdentity.of(owner, { kind: 'KafkaCluster', name: controllerName, clusterDomain }) };
}

/** The shared server.properties settings: KRaft voters are `<node.id>@<pod-fqdn>` of the controllers. */
export function kafkaConfig(s: KafkaSettings, ids: KafkaIdentities): KafkaConfig {
  const voter = (i: number) => (ids.controllers
    ? `${KAFKA_CONTROLLER_NODE_ID_OFFSET + i}@${ids.controllers.podFqdn(i)}`
    : `${i}@${ids.brokers.podFqdn(i)}`);
  return { ...s.config, voters: Array.from({ length: s.controllers }, (_, i) => voter(i)) };
}

/**
 * A 4.x image cannot use ZooKeeper; a pre-3.3 image has no production-ready
 * KRaft. Returns Kafka's major version: the tag's, or that of the mode's
 * default image when the tag does not start with a version.
 */
function checkImageVersion(problem: Problem, image: string, mode: KafkaMode): number {
  const version = /^(\d+)\.(\d+)/.exec(imageTag(image) ?? '');
  if (!version) return mode === KafkaMode.ZOOKEEPER ? 3 : 4;
  const [major, minor] = [Number(version[1]), Number(version[2])];
  if (mode === KafkaMode.ZOOKEEPER && major >= 4) {
    throw problem.error('image', `'${image}' is Kafka ${major}.${minor}, which cannot use ZooKeeper (support was removed in 4.0): use a 3.x image such as '${KAFKA_ZOOKEEPER_MODE_DEFAULT_IMAGE}', or drop 'zookeeper' to run KRaft`);
  }
  if (mode === KafkaMode.KRAFT && (major < 3 || (major === 3 && minor < 3))) {
    throw problem.error('image', `'${image}' is Kafka ${major}.${minor}, which has no production-ready KRaft: use 3.3 or later, or set 'zookeeper'`);
  }
  return major;
}

/** The startup budget in probe periods of 10 s: at least a minute, 15 minutes by default. */
function startupFailures(problem: Problem, timeout: Duration | undefined): number {
  problem.instanceOf('startupTimeout', timeout, Duration, 'a Duration such as Duration.minutes(15)');
  const seconds = problem.integer('startupTimeout (in seconds)', (timeout ?? Duration.minutes(15)).toSeconds({ integral: false }), 60);
  return Math.ceil(seconds / KAFKA_STARTUP_PROBE_PERIOD_SECONDS);
}

/** Where the KRaft quorum runs; the KRaft-only and dedicated-only props are rejected elsewhere. */
function quorumPlacement(problem: Problem, props: KafkaClusterProps, mode: KafkaMode, brokers: number): KafkaControllerMode | undefined {
  if (mode === KafkaMode.ZOOKEEPER) {
    const kraftOnly = (['controllerMode', 'controllers', 'controllerResources', 'controllerStorage', 'clusterId'] as const).find((k) => props[k] !== undefined);
    if (kraftOnly) throw problem.error(kraftOnly, 'applies to KRaft only; a cluster on ZooKeeper has no controllers and no cluster id');
    return undefined;
  }
  const controllerMode = props.controllerMode ?? KafkaControllerMode.COMBINED;
  if (!Object.values(KafkaControllerMode).includes(controllerMode)) {
    throw problem.error('controllerMode', `must be KafkaControllerMode.COMBINED or KafkaControllerMode.DEDICATED, got ${JSON.stringify(controllerMode)}`);
  }
  if (controllerMode === KafkaControllerMode.COMBINED) {
    const dedicatedOnly = (['controllerResources', 'controllerStorage'] as const).find((k) => props[k] !== undefined);
    if (dedicatedOnly) throw problem.error(dedicatedOnly, "applies only with controllerMode: KafkaControllerMode.DEDICATED; combined controllers use the brokers' resources and storage");
  } else if (brokers > KAFKA_CONTROLLER_NODE_ID_OFFSET) {
    throw problem.error('brokers', `must be at most ${KAFKA_CONTROLLER_NODE_ID_OFFSET} with dedicated controllers, got ${brokers}: controllers take node ids from ${KAFKA_CONTROLLER_NODE_ID_OFFSET}`);
  }
  if (props.zookeeperChroot !== undefined) throw problem.error('zookeeperChroot', "applies only with 'zookeeper'");
  return controllerMode;
}

/** KRaft voters: odd; combined, at most `brokers` (1 with fewer than 3 brokers by default); dedicated, 3 by default. */
function quorumSize(problem: Problem, given: number | undefined, controllerMode: KafkaControllerMode | undefined, brokers: number): number {
  if (controllerMode === undefined) return 0;
  const n = controllerMode === KafkaControllerMode.DEDICATED
    ? problem.integer('controllers', given ?? 3, 1)
    : problem.integer('controllers', given ?? (brokers >= 3 ? 3 : 1), 1, brokers);
  if (n % 2 === 0) throw problem.error('controllers', `must be odd for a controller quorum, got ${n}: ${n} voters survive no more failures than ${n - 1}`);
  return n;
}

function zooKeeperChroot(problem: Problem, chroot: string | undefined): string {
  if (chroot === undefined) return '';
  if (typeof chroot !== 'string' || !/^(\/[A-Za-z0-9._-]+)+$/.test(chroot)) {
    throw problem.error('zookeeperChroot', `must be an absolute ZooKeeper path such as '/kafka', got '${chroot}'`);
  }
  return chroot;
}

function logRetention(problem: Problem, props: KafkaClusterProps): Pick<KafkaConfig, 'logRetentionHours' | 'logSegmentBytes' | 'logRetentionCheckIntervalMs'> {
  problem.instanceOf('logRetention', props.logRetention, Duration, 'a Duration in whole hours such as Duration.hours(168)');
  problem.instanceOf('logSegmentSize', props.logSegmentSize, Size, 'a Size such as Size.gibibytes(1)');
  problem.instanceOf('logRetentionCheckInterval', props.logRetentionCheckInterval, Duration, 'a Duration such as Duration.minutes(5)');
  const hours = (props.logRetention ?? Duration.hours(168)).toHours({ integral: false });
  const bytes = (props.logSegmentSize ?? Size.gibibytes(1)).toKibibytes({ rounding: SizeRoundingBehavior.NONE }) * 1024;
  const checkMs = (props.logRetentionCheckInterval ?? Duration.millis(300000)).toMilliseconds();
  return {
    logRetentionHours: problem.integer('logRetention (in hours)', hours, 1),
    logSegmentBytes: problem.integer('logSegmentSize (in bytes)', bytes, 14, 2147483647),
    logRetentionCheckIntervalMs: problem.integer('logRetentionCheckInterval (in milliseconds)', checkMs, 1),
  };
}

/** With `monitoring`, the JMX exporter's image and jar path; either without it throws. */
function metricsSettings(problem: Problem, props: KafkaClusterProps): KafkaMetricsSettings | undefined {
  const image = props.jmxExporterImage;
  const jarPath = props.jmxExporterJarPath;
  if (props.monitoring === undefined) {
    const given = image !== undefined ? 'jmxExporterImage' : jarPath !== undefined ? 'jmxExporterJarPath' : undefined;
    if (given) throw problem.error(given, 'applies with monitoring only: without it no JMX exporter runs');
    return undefined;
  }
  if (image !== undefined) {
    const last = typeof image === 'string' ? image.split('/').pop() ?? '' : '';
    if (typeof image !== 'string' || !/^[^\s]+$/.test(image) || !/[:@]/.test(last) || last.endsWith(':latest')) {
      throw problem.error('jmxExporterImage', `must be an image reference with a pinned tag or digest (not 'latest'), such as '${KAFKA_JMX_EXPORTER_DEFAULT_IMAGE}', got ${describe(image)}`);
    }
  }
  if (jarPath !== undefined && (typeof jarPath !== 'string' || !/^(\/[A-Za-z0-9._-]+)*\/[A-Za-z0-9._*-]*\.jar$/.test(jarPath))) {
    throw problem.error('jmxExporterJarPath', `must be the absolute path of the agent's jar in jmxExporterImage (letters, digits, '.', '_', '-'; '*' only in the file name), such as '${KAFKA_JMX_EXPORTER_DEFAULT_JAR_PATH}', got ${describe(jarPath)}`);
  }
  return { image: image ?? KAFKA_JMX_EXPORTER_DEFAULT_IMAGE, jarPath: jarPath ?? KAFKA_JMX_EXPORTER_DEFAULT_JAR_PATH, port: KAFKA_METRICS_PORT };
}

function extraConfig(problem: Problem, extra: { [key: string]: string }): { [key: string]: string } {
  for (const [k, v] of Object.entries(extra)) {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(k) || /^(node\.id|broker\.id|process\.roles|listeners|advertised\.listeners|log\.dirs|controller\.quorum\.voters|zookeeper\.connect)$/.test(k)) {
      throw problem.error('extraConfig', `key '${k}' is not allowed: use a server.properties name that the construct does not set per pod`);
    }
    if (typeof v !== 'string' || /[\r\n]/.test(v)) throw problem.error('extraConfig', `value of '${k}' must be a single-line string, got ${JSON.stringify(v)}`);
  }
  return extra;
}
