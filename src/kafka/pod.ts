// The one way to build a Kafka pod: brokers and dedicated KRaft controllers
// differ only in the rows of NODE_ROLES and in their replicas and heap.
import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { WorkloadIdentity } from '../core/identity';
import { PortRole, WorkloadPort } from '../core/pod-spec';
import { Probe } from '../core/probes';
import { imageTag, StatefulWorkloadProps } from '../core/stateful-workload';
import { Storage } from '../core/storage';
import { renderKafkaStartScript } from './config';
import { KAFKA_CONTROLLER_NODE_ID_OFFSET, KAFKA_DIRS, KAFKA_PORTS, KafkaMode, KafkaSettings } from './settings';

/** What a Kafka StatefulSet runs. */
export type KafkaNodeRole = 'broker' | 'controller';

/** How the two kinds of Kafka pod differ besides their size. */
const NODE_ROLES = {
  broker: {
    // a broker with many partitions takes minutes to load its logs
    startupFailures: 60,
    readyPort: 'client',
    livePort: 'internal',
  },
  controller: {
    // one listener: readiness and liveness both connect to it, liveness far more patiently
    startupFailures: 30,
    readyPort: 'controller',
    livePort: 'controller',
  },
};

/** The parts of a Kafka StatefulSet's props that make its pods. */
export type KafkaPodProps = Pick<StatefulWorkloadProps,
'identity' | 'appName' | 'component' | 'version' | 'image' | 'replicas' | 'volumes' | 'configFiles' | 'containers'>;

/**
 * The pods of brokers (`role: 'broker'`; on KRaft COMBINED the first
 * `controllers` ordinals also run the controller role) or of dedicated
 * controllers: the data claim (the unit's `storage`) and writable runtime,
 * log and tmp dirs (the root filesystem is read-only), the shared
 * server.properties and the start script that adds the pod's identity, and
 * the container with its listeners and TCP probes.
 */
export function kafkaPod(s: KafkaSettings, role: KafkaNodeRole, identity: WorkloadIdentity, serverProperties: string): KafkaPodProps {
  const controller = role === 'controller';
  const replicas = controller ? s.controllers : s.brokers;
  const heapMebibytes = controller ? s.controllerHeapMebibytes : s.heapMebibytes;
  const r = NODE_ROLES[role];
  const { conf, run, data, logs } = KAFKA_DIRS;
  const timing = (period: number, failureThreshold: number, timeout?: number) =>
    ({ period: Duration.seconds(period), failureThreshold, ...(timeout ? { timeout: Duration.seconds(timeout) } : {}) });
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
      { name: 'logs', storage: Storage.ephemeral({ sizeLimit: Size.gibibytes(1) }) },
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
        }),
      },
    ],
    containers: [{
      name: 'kafka',
      command: ['bash', `${conf}/kafka-start.sh`],
      env: {
        // for the advertised FQDN, built by the start script
        POD_NAMESPACE: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAMESPACE),
        KAFKA_HOME: kplus.EnvValue.fromValue('/opt/kafka'),
        KAFKA_HEAP_OPTS: kplus.EnvValue.fromValue(`-Xms${heapMebibytes}m -Xmx${heapMebibytes}m`),
        LOG_DIR: kplus.EnvValue.fromValue(logs),
      },
      ports: kafkaPorts(s, role),
      mounts: [
        { volume: 'data', path: data },
        { volume: 'run', path: run },
        { volume: 'logs', path: logs },
        { volume: 'tmp', path: '/tmp' },
      ],
      startupProbe: Probe.tcp(r.readyPort, timing(10, r.startupFailures)),
      readinessProbe: Probe.tcp(r.readyPort, timing(10, 3)),
      livenessProbe: Probe.tcp(r.livePort, timing(30, 6, 10)),
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
