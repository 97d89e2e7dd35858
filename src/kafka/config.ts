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
  readonly ports: KafkaPorts;
  /** The rendered (read-only) shared server.properties. */
  readonly baseConfig: string;
  /** Writable path of the pod's full server.properties. */
  readonly runtimeConfig: string;
  readonly logDir: string;
  readonly headlessServiceName: string;
  readonly clusterDomain: string;
  readonly brokers: number;
  /** KRaft: ordinals below this run the controller role too. */
  readonly controllers: number;
  /** KRaft: the cluster id storage is formatted with. */
  readonly clusterId?: string;
}

/**
 * The container's entrypoint. The id comes from the ordinal in the hostname;
 * each broker advertises its own pod FQDN, built here from the hostname, the
 * headless Service and the namespace (an env value like
 * `PLAINTEXT://$(hostname -f):9092` is never expanded by Kubernetes). KRaft
 * storage is formatted once: an existing `meta.properties` is kept.
 */
export function renderKafkaStartScript(o: KafkaStartOptions): string {
  const kraft = o.mode === 'kraft';
  const p = o.ports;
  const identity = kraft
    ? `  echo "node.id=\${ordinal}"
  if (( ordinal < ${o.controllers} )); then
    echo "process.roles=broker,controller"
    echo "listeners=CLIENT://:${p.client},INTERNAL://:${p.internal},CONTROLLER://:${p.controller}"
  else
    echo "process.roles=broker"
    echo "listeners=CLIENT://:${p.client},INTERNAL://:${p.internal}"
  fi`
    : `  echo "broker.id=\${ordinal}"
  echo "listeners=CLIENT://:${p.client},INTERNAL://:${p.internal}"`;
  const format = kraft
    ? `
if [[ ! -f "${o.logDir}/meta.properties" ]]; then
  echo "formatting ${o.logDir} for cluster ${o.clusterId}"
  kafka-storage.sh format --config "\${config}" --cluster-id "${o.clusterId}" --ignore-formatted
fi
`
    : '';
  return `#!/bin/bash
# Rendered by cdk8s-stateful (KafkaCluster): completes server.properties with
# this pod's identity, ${kraft ? 'formats KRaft storage on first start, ' : ''}then runs the broker.
set -euo pipefail

host="\${HOSTNAME:-$(hostname)}"
ordinal="\${host##*-}"
if ! [[ "\${ordinal}" =~ ^[0-9]+$ ]] || (( ordinal >= ${o.brokers} )); then
  echo "cannot derive a broker ordinal below ${o.brokers} from hostname '\${host}'" >&2
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
  echo "advertised.listeners=CLIENT://\${fqdn}:${p.client},INTERNAL://\${fqdn}:${p.internal}"
} > "\${config}"

export PATH="\${KAFKA_HOME:-/opt/kafka}/bin:\${PATH}"
${format}echo "starting Kafka ${kraft ? 'node' : 'broker'} \${ordinal} as \${fqdn}"
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
