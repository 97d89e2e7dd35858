// The one way to build a Kafka pod: brokers and dedicated KRaft controllers
// differ only in the rows of NODE_ROLES and in their replicas and heap.
import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { WorkloadIdentity } from '../core/identity';
import { PortRole, WorkloadPort } from '../core/pod-spec';
import { Probe } from '../core/probes';
import { imageTag, StatefulWorkloadProps } from '../core/stateful-workload';
import { Storage } from '../core/storage';
import { KAFKA_PROBE_ANSWER_SECONDS, KAFKA_PROBE_DESCRIBE_SECONDS, renderKafkaLogging, renderKafkaProbeScript, renderKafkaStartScript } from './config';
import {
  KAFKA_CONTROLLER_NODE_ID_OFFSET, KAFKA_DIRS, KAFKA_PORTS, KAFKA_STARTUP_PROBE_PERIOD_SECONDS, KafkaMode, KafkaSettings,
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
'identity' | 'appName' | 'component' | 'version' | 'image' | 'replicas' | 'volumes' | 'configFiles' | 'containers'>;

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
        }),
      },
      {
        path: `${conf}/kafka-probe.sh`,
        executable: true,
        content: renderKafkaProbeScript({ port: r.probePort, caughtUpMarker }),
      },
      { path: logging.path, content: logging.content },
    ],
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
      ports: kafkaPorts(s, role),
      mounts: [
        { volume: 'data', path: data },
        { volume: 'run', path: run },
        { volume: 'logs', path: logs },
        { volume: 'tmp', path: '/tmp' },
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
