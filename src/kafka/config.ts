/**
 * Pure renderers of Kafka's files: the shared part of server.properties and
 * the start script that adds each pod's identity (node/broker id, listeners,
 * advertised pod FQDN) and formats KRaft storage on first start.
 */
import { createHash } from 'crypto';

/** The listener ports. */
export interface KafkaPorts {
  /** Clients (bootstrap servers). */
  readonly client: number;
  /** Broker-to-broker replication. */
  readonly internal: number;
  /** KRaft controller quorum. */
  readonly controller: number;
}

/** Everything server.properties needs, already resolved and validated. */
export interface KafkaConfig {
  /** 'kraft' or 'zookeeper'. */
  readonly mode: string;
  readonly ports: KafkaPorts;
  /** Directory of the partition logs (a sub-directory of the claim, so `lost+found` is not taken for a partition). */
  readonly logDir: string;
  /** KRaft: `<node.id>@<fqdn>` of every controller, by ordinal. */
  readonly voters: string[];
  /** ZooKeeper mode: the full `zookeeper.connect` value (with chroot). */
  readonly zookeeperConnect?: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
  readonly autoCreateTopics: boolean;
  readonly logRetentionHours: number;
  readonly logSegmentBytes: number;
  readonly logRetentionCheckIntervalMs: number;
  /** Extra `key=value` lines, appended last. */
  readonly extra: { [key: string]: string };
}

/** The shared part of server.properties: identical in every pod. */
export function renderServerProperties(c: KafkaConfig): string {
  const kraft = c.mode === 'kraft';
  const lines = [
    '# Rendered by cdk8s-stateful (KafkaCluster). Shared by every pod; the start',
    '# script appends the pod\'s own id, roles, listeners and advertised FQDN.',
    `log.dirs=${c.logDir}`,
    `listener.security.protocol.map=CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT${kraft ? ',CONTROLLER:PLAINTEXT' : ''}`,
    'inter.broker.listener.name=INTERNAL',
    ...(kraft
      ? ['controller.listener.names=CONTROLLER', `controller.quorum.voters=${c.voters.map((v) => `${v}:${c.ports.controller}`).join(',')}`]
      : [`zookeeper.connect=${c.zookeeperConnect}`, 'zookeeper.connection.timeout.ms=18000', 'controlled.shutdown.enable=true']),
    `num.partitions=${c.partitions}`,
    `default.replication.factor=${c.replicationFactor}`,
    `min.insync.replicas=${c.minInsyncReplicas}`,
    `offsets.topic.replication.factor=${c.replicationFactor}`,
    `transaction.state.log.replication.factor=${c.replicationFactor}`,
    `transaction.state.log.min.isr=${c.minInsyncReplicas}`,
    'unclean.leader.election.enable=false',
    `auto.create.topics.enable=${c.autoCreateTopics}`,
    `log.retention.hours=${c.logRetentionHours}`,
    `log.segment.bytes=${c.logSegmentBytes}`,
    `log.retention.check.interval.ms=${c.logRetentionCheckIntervalMs}`,
    'group.initial.rebalance.delay.ms=3000',
    ...Object.entries(c.extra).map(([k, v]) => `${k}=${v}`),
  ];
  return lines.join('\n') + '\n';
}

/** What the start script needs. */
export interface KafkaStartOptions {
  /** 'kraft' or 'zookeeper'. */
  readonly mode: string;
  /**
   * KRaft: 'broker' (a broker; the first `controllers` ordinals also run the
   * controller role) or 'controller' (a dedicated controller: the controller
   * role and listener only).
   * @default 'broker'
   */
  readonly role?: string;
  readonly ports: KafkaPorts;
  /** The rendered (read-only) shared server.properties. */
  readonly baseConfig: string;
  /** Writable path of the pod's full server.properties. */
  readonly runtimeConfig: string;
  readonly logDir: string;
  readonly headlessServiceName: string;
  readonly clusterDomain: string;
  /** Pods of this StatefulSet: the script refuses an ordinal outside 0..replicas-1. */
  readonly replicas: number;
  /** KRaft brokers: ordinals below this run the controller role too (0 with dedicated controllers). */
  readonly controllers: number;
  /**
   * KRaft: `node.id` is the ordinal plus this offset (dedicated controllers
   * take ids that no broker can have).
   * @default 0
   */
  readonly nodeIdOffset?: number;
  /** KRaft: the cluster id storage is formatted with. */
  readonly clusterId?: string;
}

/**
 * The container's entrypoint. The id comes from the ordinal in the hostname;
 * each broker advertises its own pod FQDN, built here from the hostname, the
 * headless Service and the namespace (an env value like
 * `PLAINTEXT://$(hostname -f):9092` is never expanded by Kubernetes). KRaft
 * storage is formatted once: an existing `meta.properties` is kept.
 *
 * A dedicated controller advertises nothing: the voters name it, and Kafka
 * 3.3-3.8 refuse `advertised.listeners` on a node whose only role is
 * controller.
 */
export function renderKafkaStartScript(o: KafkaStartOptions): string {
  const kraft = o.mode === 'kraft';
  const controllerOnly = kraft && (o.role ?? 'broker') === 'controller';
  const p = o.ports;
  const offset = o.nodeIdOffset ?? 0;
  const nodeId = offset === 0 ? '${ordinal}' : `$(( ordinal + ${offset} ))`;
  const brokerListeners = `CLIENT://:${p.client},INTERNAL://:${p.internal}`;
  let identity: string;
  if (!kraft) {
    identity = `  echo "broker.id=\${ordinal}"
  echo "listeners=${brokerListeners}"`;
  } else if (controllerOnly) {
    identity = `  echo "node.id=${nodeId}"
  echo "process.roles=controller"
  echo "listeners=CONTROLLER://:${p.controller}"`;
  } else if (o.controllers > 0) {
    identity = `  echo "node.id=${nodeId}"
  if (( ordinal < ${o.controllers} )); then
    echo "process.roles=broker,controller"
    echo "listeners=${brokerListeners},CONTROLLER://:${p.controller}"
  else
    echo "process.roles=broker"
    echo "listeners=${brokerListeners}"
  fi`;
  } else {
    identity = `  echo "node.id=${nodeId}"
  echo "process.roles=broker"
  echo "listeners=${brokerListeners}"`;
  }
  const advertised = controllerOnly
    ? ''
    : `  echo "advertised.listeners=CLIENT://\${fqdn}:${p.client},INTERNAL://\${fqdn}:${p.internal}"
`;
  const what = controllerOnly ? 'controller' : 'broker';
  const format = kraft
    ? `
if [[ ! -f "${o.logDir}/meta.properties" ]]; then
  echo "formatting ${o.logDir} for cluster ${o.clusterId}"
  kafka-storage.sh format --config "\${config}" --cluster-id "${o.clusterId}" --ignore-formatted
fi
`
    : '';
  const runs = controllerOnly ? 'the controller' : 'the broker';
  return `#!/bin/bash
# Rendered by cdk8s-stateful (KafkaCluster): completes server.properties with
# this pod's identity, ${kraft ? 'formats KRaft storage on first start, ' : ''}then runs ${runs}.
set -euo pipefail

host="\${HOSTNAME:-$(hostname)}"
ordinal="\${host##*-}"
if ! [[ "\${ordinal}" =~ ^[0-9]+$ ]] || (( ordinal >= ${o.replicas} )); then
  echo "cannot derive a ${what} ordinal below ${o.replicas} from hostname '\${host}'" >&2
  exit 1
fi
namespace="\${POD_NAMESPACE:?POD_NAMESPACE must be set from metadata.namespace}"
fqdn="\${host}.${o.headlessServiceName}.\${namespace}.svc.${o.clusterDomain}"
config="${o.runtimeConfig}"
mkdir -p "$(dirname "\${config}")"
{
  cat "${o.baseConfig}"
  echo "# this pod"
${identity}
${advertised}} > "\${config}"

export PATH="\${KAFKA_HOME:-/opt/kafka}/bin:\${PATH}"
${format}echo "starting Kafka ${controllerOnly ? 'controller' : kraft && o.controllers > 0 ? 'node' : 'broker'} \${ordinal} as \${fqdn}"
exec kafka-server-start.sh "\${config}"
`;
}

/**
 * A KRaft cluster id derived from `seed` (the construct path): the same on
 * every synth, different per cluster. 16 bytes, URL-safe base64 without
 * padding, first character never '-' (as Kafka's own Uuid generator ensures).
 */
export function deriveClusterId(seed: string): string {
  const bytes = createHash('sha256').update(`cdk8s-stateful/kafka-cluster-id/${seed}`).digest().subarray(0, 16);
  bytes[0] &= 0x7f;
  return bytes.toString('base64url');
}

/** True for a string Kafka accepts as a cluster id (16 bytes in URL-safe base64). */
export function isClusterId(id: string): boolean {
  return /^[A-Za-z0-9_-]{22}$/.test(id) && Buffer.from(id, 'base64url').length === 16 && !id.startsWith('-');
}
