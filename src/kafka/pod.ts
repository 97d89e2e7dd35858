// The one way to build a Kafka pod: brokers and dedicated KRaft controllers
// differ only in the rows of NODE_ROLES and in their replicas and heap.
import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { WorkloadIdentity } from '../core/identity';
import { ConfigFile, PortRole, WorkloadContainer, WorkloadMount, WorkloadPort, WorkloadVolume } from '../core/pod-spec';
import { Probe } from '../core/probes';
import { imageTag, StatefulWorkloadProps } from '../core/stateful-workload';
import { Storage } from '../core/storage';
import { KAFKA_PROBE_ANSWER_SECONDS, KAFKA_PROBE_DESCRIBE_SECONDS, renderKafkaLogging, renderKafkaProbeScript, renderKafkaStartScript } from './config';
import { renderJmxAgentCopyScript, renderJmxExporterConfig } from './jmx-exporter';
import {
  KAFKA_CONTROLLER_NODE_ID_OFFSET, KAFKA_DIRS, KAFKA_PORTS, KAFKA_STARTUP_PROBE_PERIOD_SECONDS, KafkaMetricsSettings, KafkaMode, KafkaSettings,
} from './settings';

/** What a Kafka StatefulSet runs. */
export type KafkaNodeRole = 'broker' | 'controller';

/** How the two kinds of Kafka pod differ besides their size. */
const NODE_ROLES = {
  // the client listener answers once the broker serves; readiness also waits for it to catch up
  broker: { probePort: KAFKA_PORTS.client, checksReplicas: true },
  // one listener, and no partitions to catch up with
  controller: { probePort: KAFKA_PORTS.controller, checksReplicas: false },
};

/** Dedicated controllers' startup budget, in probe periods of 10 s (their metadata log loads quickly). */
const CONTROLLER_STARTUP_FAILURES = 30;

/** The parts of a Kafka StatefulSet's props that make its pods. */
export type KafkaPodProps = Pick<StatefulWorkloadProps,
'identity' | 'appName' | 'component' | 'version' | 'image' | 'replicas' | 'volumes' | 'configFiles' | 'containers' | 'initContainers'>;

/**
 * The pods of brokers (`role: 'broker'`; on KRaft COMBINED the first
 * `controllers` ordinals also run the controller role) or of dedicated
 * controllers: the data claim (the unit's `storage`) and writable runtime,
 * log and tmp dirs (the root filesystem is read-only), the shared
 * server.properties, the start script that adds the pod's identity, the
 * probe script, the console-only logging, and the container with its
 * listeners and probes.
 *
 * Probes (kafka-probe.sh; see `renderKafkaProbeScript`):
 * - startup: `live`, a Kafka round-trip with the pod's own listener, every
 *   10 s for `startupTimeout` (brokers; 5 minutes for dedicated controllers):
 *   log recovery and metadata catch-up happen before Kafka answers.
 * - readiness: `ready`, the round-trip, and for a broker after each start,
 *   until it succeeds, that it is back in the ISRs; the JVM tool that checks
 *   that gets 40 of the probe's 60 s, room on a busy node.
 * - liveness: `live`, patient (6 failures 30 s apart): a broker that has not
 *   answered a request for 3 minutes is wedged, while a busy one still
 *   answers an ApiVersions request. A TCP connect would succeed even then,
 *   since the kernel completes connections into the listen backlog.
 *
 * With `monitoring` (see `jmxExporter`): the JMX exporter's agent in the
 * server's JVM on the `metrics` port, its jar copied by an init container.
 */
export function kafkaPod(s: KafkaSettings, role: KafkaNodeRole, identity: WorkloadIdentity, serverProperties: string): KafkaPodProps {
  const controller = role === 'controller';
  const replicas = controller ? s.controllers : s.brokers;
  const heapMebibytes = controller ? s.controllerHeapMebibytes : s.heapMebibytes;
  const r = NODE_ROLES[role];
  const { conf, run, data, logs } = KAFKA_DIRS;
  const caughtUpMarker = r.checksReplicas ? `${run}/caught-up` : undefined;
  const logging = renderKafkaLogging(s.kafkaMajorVersion, conf);
  const probe = (mode: string, period: number, failureThreshold: number, timeout: number) => Probe.exec(
    ['bash', `${conf}/kafka-probe.sh`, mode],
    { period: Duration.seconds(period), failureThreshold, timeout: Duration.seconds(timeout) });
  // the round-trip's own deadline, with room to start bash; a broker's readiness adds the JVM tool's
  const answer = KAFKA_PROBE_ANSWER_SECONDS + 5;
  const ready = r.checksReplicas ? answer + KAFKA_PROBE_DESCRIBE_SECONDS + 10 : answer;
  const metrics = s.metrics ? jmxExporter(s.metrics) : undefined;
  return {
    identity,
    appName: 'kafka',
    component: role,
    version: imageTag(s.image),
    image: s.image,
    replicas,
    volumes: [
      { name: 'data' },
      { name: 'run', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(16) }) },
      // LOG_DIR must exist and be writable (kafka-run-class.sh creates it), but nothing is written there
      { name: 'logs', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(16) }) },
      { name: 'tmp', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(256) }) },
      ...(metrics ? [metrics.volume] : []),
    ],
    configFiles: [
      { path: `${conf}/server.properties`, content: serverProperties },
      {
        path: `${conf}/kafka-start.sh`,
        executable: true,
        content: renderKafkaStartScript({
          mode: s.mode,
          role,
          ports: KAFKA_PORTS,
          baseConfig: `${conf}/server.properties`,
          runtimeConfig: `${run}/server.properties`,
          logDir: s.config.logDir,
          headlessServiceName: identity.headlessServiceName,
          clusterDomain: identity.clusterDomain,
          replicas,
          // brokers beside dedicated controllers run no controller role
          controllers: controller || !s.dedicated ? s.controllers : 0,
          nodeIdOffset: controller ? KAFKA_CONTROLLER_NODE_ID_OFFSET : 0,
          clusterId: s.clusterId,
          caughtUpMarker,
          javaAgent: metrics?.javaAgent,
        }),
      },
      {
        path: `${conf}/kafka-probe.sh`,
        executable: true,
        content: renderKafkaProbeScript({ port: r.probePort, caughtUpMarker }),
      },
      { path: logging.path, content: logging.content },
      ...(metrics?.files ?? []),
    ],
    initContainers: metrics ? [metrics.initContainer] : undefined,
    containers: [{
      name: 'kafka',
      command: ['bash', `${conf}/kafka-start.sh`],
      env: {
        // for the advertised FQDN, built by the start script
        POD_NAMESPACE: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAMESPACE),
        KAFKA_HOME: kplus.EnvValue.fromValue('/opt/kafka'),
        KAFKA_HEAP_OPTS: kplus.EnvValue.fromValue(`-Xms${heapMebibytes}m -Xmx${heapMebibytes}m`),
        // logs go to stdout only; kafka-server-start.sh's default EXTRA_ARGS add -loggc, which
        // makes kafka-run-class.sh write up to 10 x 100M of GC logs into LOG_DIR
        KAFKA_LOG4J_OPTS: kplus.EnvValue.fromValue(logging.log4jOpts),
        EXTRA_ARGS: kplus.EnvValue.fromValue('-name kafkaServer'),
        LOG_DIR: kplus.EnvValue.fromValue(logs),
      },
      ports: [...kafkaPorts(s, role), ...(metrics ? [metrics.port] : [])],
      mounts: [
        { volume: 'data', path: data },
        { volume: 'run', path: run },
        { volume: 'logs', path: logs },
        { volume: 'tmp', path: '/tmp' },
        ...(metrics ? [metrics.mount] : []),
      ],
      startupProbe: probe('live', KAFKA_STARTUP_PROBE_PERIOD_SECONDS, controller ? CONTROLLER_STARTUP_FAILURES : s.startupFailures, answer),
      readinessProbe: probe('ready', 10, 3, ready),
      livenessProbe: probe('live', 30, 6, answer),
    }],
  };
}

/**
 * Brokers: `client` for clients, `internal` for replication, and the
 * controller listener when they run the controller role; dedicated
 * controllers: the controller listener only.
 */
function kafkaPorts(s: KafkaSettings, role: KafkaNodeRole): WorkloadPort[] {
  const controllerPort = { name: 'controller', port: KAFKA_PORTS.controller, role: PortRole.PEER };
  if (role === 'controller') return [controllerPort];
  return [
    { name: 'client', port: KAFKA_PORTS.client, role: PortRole.CLIENT },
    { name: 'internal', port: KAFKA_PORTS.internal, role: PortRole.PEER },
    ...(s.mode === KafkaMode.KRAFT && !s.dedicated ? [controllerPort] : []),
  ];
}

/** What the JMX exporter adds to a Kafka pod. */
interface JmxExporterParts {
  /** The emptyDir the agent's jar is copied into. */
  readonly volume: WorkloadVolume;
  /** The jar's volume in the Kafka container, read-only. */
  readonly mount: WorkloadMount;
  /** The rules file and the init container's copy script. */
  readonly files: ConfigFile[];
  /** Copies the jar from `jmxExporterImage` (restricted, read-only root, the tiny default resources). */
  readonly initContainer: WorkloadContainer;
  /** `metrics`, scraped by the ServiceMonitor and open to every namespace in the NetworkPolicy. */
  readonly port: WorkloadPort;
  /** The option kafka-start.sh adds to the server's JVM. */
  readonly javaAgent: string;
}

/**
 * The Prometheus JMX exporter's agent: the apache/kafka image lacks it, so an
 * init container copies the jar from `jmxExporterImage` into an emptyDir,
 * and kafka-start.sh loads it into the server's JVM only (never through the
 * container's env, which the probes' and the CLI's Kafka tools share).
 */
function jmxExporter(m: KafkaMetricsSettings): JmxExporterParts {
  const { conf, jmxExporter: dir } = KAFKA_DIRS;
  const jar = `${dir}/jmx_prometheus_javaagent.jar`;
  const config = `${conf}/jmx-exporter.yaml`;
  const copy = `${conf}/jmx-exporter-copy.sh`;
  return {
    volume: { name: 'jmx-exporter', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(32) }) },
    mount: { volume: 'jmx-exporter', path: dir, readOnly: true },
    files: [
      { path: config, content: renderJmxExporterConfig() },
      { path: copy, executable: true, content: renderJmxAgentCopyScript({ image: m.image, jarPath: m.jarPath, target: jar }) },
    ],
    initContainer: {
      name: 'jmx-exporter',
      image: m.image,
      command: ['bash', copy],
      mounts: [{ volume: 'jmx-exporter', path: dir }],
    },
    port: { name: 'metrics', port: m.port, role: PortRole.METRICS },
    javaAgent: `-javaagent:${jar}=${m.port}:${config}`,
  };
}
