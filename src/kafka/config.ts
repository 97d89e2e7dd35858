/**
 * Pure renderers of Kafka's files: the shared part of server.properties, the
 * start script that adds each pod's identity (node/broker id, listeners,
 * advertised pod FQDN) and formats KRaft storage on first start, the probe
 * script, and the console-only logging configuration.
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
  /** KRaft: the cluster id storage is formatted with, and that an existing `meta.properties` must carry. */
  readonly clusterId?: string;
  /** Brokers: the probe's caught-up marker, removed on every start so that readiness checks the ISRs again. */
  readonly caughtUpMarker?: string;
  /**
   * A `-javaagent:...` option for the server's JVM (the Prometheus JMX
   * exporter). It is added to KAFKA_OPTS here, right before the server starts,
   * and never to the container's env: every Kafka tool the probes and the CLI
   * run in the container would load the agent too and fail to bind its port.
   * @default - no agent
   */
  readonly javaAgent?: string;
}

/** kafka-start.sh and kafka-probe.sh run Kafka's own tools from the image. */
const KAFKA_BIN_ON_PATH = 'export PATH="${KAFKA_HOME:-/opt/kafka}/bin:${PATH}"';

/** How kafka-start.sh and kafka-probe.sh find the pod's ordinal: the suffix of its hostname. */
const POD_ORDINAL = `host="\${HOSTNAME:-$(hostname)}"
ordinal="\${host##*-}"`;

/**
 * The container's entrypoint. The id comes from the ordinal in the hostname;
 * each broker advertises its own pod FQDN, built here from the hostname, the
 * headless Service and the namespace (an env value like
 * `PLAINTEXT://$(hostname -f):9092` is never expanded by Kubernetes). KRaft
 * storage is formatted once: an existing `meta.properties` is kept, and one
 * that names another cluster id stops the pod with a message that says how
 * to fix it (instead of Kafka's INCONSISTENT_CLUSTER_ID at registration).
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
meta="${o.logDir}/meta.properties"
cluster_id="${o.clusterId}"
if [[ -f "\${meta}" ]]; then
  formatted_id="$(sed -n 's/^cluster\\.id=//p' "\${meta}")"
  if [[ -n "\${formatted_id}" && "\${formatted_id}" != "\${cluster_id}" ]]; then
    echo "\${meta} belongs to Kafka cluster '\${formatted_id}', but this ${what} is configured for cluster '\${cluster_id}'." >&2
    echo "If the volume holds this cluster's data, set clusterId: '\${formatted_id}' on the KafkaCluster (the id it derives changes with the namespace, the StatefulSet name and the construct path); otherwise give the pod an empty volume." >&2
    exit 1
  fi
else
  echo "formatting ${o.logDir} for cluster \${cluster_id}"
  kafka-storage.sh format --config "\${config}" --cluster-id "\${cluster_id}" --ignore-formatted
fi
`
    : '';
  const resetProbe = o.caughtUpMarker ? `# a new start: readiness waits for this broker to rejoin the in-sync replicas again
rm -f "${o.caughtUpMarker}"
` : '';
  const runs = controllerOnly ? 'the controller' : 'the broker';
  const agent = o.javaAgent ? `# the Prometheus JMX exporter, in the server's JVM only (not in the probes' and tools' JVMs)
export KAFKA_OPTS="${o.javaAgent}\${KAFKA_OPTS:+ \${KAFKA_OPTS}}"
` : '';
  return `#!/bin/bash
# Rendered by cdk8s-stateful (KafkaCluster): completes server.properties with
# this pod's identity, ${kraft ? 'formats KRaft storage on first start, ' : ''}then runs ${runs}.
set -euo pipefail

${POD_ORDINAL}
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

${KAFKA_BIN_ON_PATH}
${format}${resetProbe}${agent}echo "starting Kafka ${controllerOnly ? 'controller' : kraft && o.controllers > 0 ? 'node' : 'broker'} \${ordinal} as \${fqdn}"
exec kafka-server-start.sh "\${config}"
`;
}

/** What a derived KRaft cluster id depends on. */
export interface ClusterIdSeed {
  /** The namespace the brokers run in (`default` when the chart names none). */
  readonly namespace: string;
  /** The brokers' StatefulSet name. */
  readonly name: string;
  /** The construct path. */
  readonly path: string;
}

/**
 * A KRaft cluster id derived from the namespace, the StatefulSet name and
 * the construct path: the same on every synth, different for the same code
 * deployed to another namespace or under another name. 16 bytes, URL-safe
 * base64 without padding, first character never '-' (as Kafka's own Uuid
 * generator ensures).
 */
export function deriveClusterId(seed: ClusterIdSeed): string {
  // neither a namespace nor a StatefulSet name contains '/': the seed is unambiguous
  const text = `cdk8s-stateful/kafka-cluster-id/${seed.namespace}/${seed.name}/${seed.path}`;
  const bytes = createHash('sha256').update(text).digest().subarray(0, 16);
  bytes[0] &= 0x7f;
  return bytes.toString('base64url');
}

/** True for a string Kafka accepts as a cluster id (16 bytes in URL-safe base64). */
export function isClusterId(id: string): boolean {
  return /^[A-Za-z0-9_-]{22}$/.test(id) && Buffer.from(id, 'base64url').length === 16 && !id.startsWith('-');
}

/** Seconds the probe waits for Kafka's answer to its ApiVersions request. */
export const KAFKA_PROBE_ANSWER_SECONDS = 5;
/** Seconds the probe gives `kafka-topics.sh --describe` (a JVM start and a metadata fetch). */
export const KAFKA_PROBE_DESCRIBE_SECONDS = 40;

/** What the probe script needs. */
export interface KafkaProbeOptions {
  /** The pod's own listener that answers the round-trip: a broker's client listener, a dedicated controller's controller listener. */
  readonly port: number;
  /**
   * Brokers: `ready` also requires, until it first succeeds after a start,
   * that this broker is back in the in-sync replicas of its partitions; this
   * file records that it did (kafka-start.sh removes it). Unset for dedicated
   * controllers, which hold no partitions.
   */
  readonly caughtUpMarker?: string;
}

/**
 * kafka-probe.sh `live` (startup, liveness) or `ready` (readiness).
 *
 * - live: an ApiVersions v0 round-trip with the pod's own listener, in bash
 *   alone (/dev/tcp, printf, read; the apache/kafka image has no nc or curl).
 *   Kafka opens its listener sockets early but handles requests only once it
 *   has started (logs recovered and, in KRaft, metadata caught up; on
 *   ZooKeeper, registered), so an answer with our correlation id and error
 *   code 0 means "serving", where a TCP connect only meant "port bound".
 * - ready: live, and for brokers, until it first succeeds after a start: no
 *   partition with a live leader that lists this broker among its replicas
 *   lacks it in its ISR (Kafka's own `kafka-topics.sh --describe`, with a heap
 *   of its own). A restarted broker is thus Ready only once it has caught up,
 *   so a rolling restart or an eviction never takes the next broker while
 *   partitions still depend on the previous one. Waiting in readiness rather
 *   than in the startup probe means a long catch-up is never cut short by a
 *   restart: the pod just stays unready.
 *
 * Request (Kafka protocol, RequestHeader v1 + ApiVersionsRequest v0, which
 * every Kafka from 0.10 to 4.x accepts): int32 size 21, int16 api_key 18,
 * int16 api_version 0, int32 correlation_id (the probe's PID), int16 11 and
 * the client id `cdk8s-probe`. Response: int32 size, int32 correlation_id
 * (ResponseHeader v0), int16 error_code, then the API version ranges.
 */
export function renderKafkaProbeScript(o: KafkaProbeOptions): string {
  const broker = o.caughtUpMarker !== undefined;
  const caughtUp = broker ? [
    '',
    '# Caught up: every partition with a live leader that lists this broker among',
    '# its replicas (not just as a reassignment target) has it in its ISR. Lines of',
    '# kafka-topics.sh --describe (TopicCommand.PartitionDescription):',
    '# "\\tTopic: t\\tPartition: 0\\tLeader: 1\\tReplicas: 1,2,0\\tIsr: 1,0[\\tAdding Replicas: ...]..."',
    'caught_up() {',
    `  local marker="${o.caughtUpMarker}" host ordinal out line field fields topic partition leader replicas isr adding lagging=()`,
    '  if [[ -f "${marker}" ]]; then return 0; fi',
    '  # a broker\'s id (node.id or broker.id) is its ordinal, as kafka-start.sh sets it',
    ...POD_ORDINAL.split('\n').map((line) => `  ${line}`),
    '  if ! [[ "${ordinal}" =~ ^[0-9]+$ ]]; then fail "cannot derive the broker id from hostname \'${host}\'"; fi',
    '  # the tool gets a heap of its own (KAFKA_HEAP_OPTS is the broker\'s) and the image\'s tool logging (stderr)',
    `  if ! out="$(KAFKA_HEAP_OPTS='-Xms32m -Xmx128m' KAFKA_JVM_PERFORMANCE_OPTS='-XX:+UseSerialGC -XX:TieredStopAtLevel=1' KAFKA_LOG4J_OPTS='' \\`,
    `    timeout ${KAFKA_PROBE_DESCRIBE_SECONDS} kafka-topics.sh --bootstrap-server "127.0.0.1:\${port}" --describe)"; then`,
    `    fail "kafka-topics.sh --describe failed or took more than ${KAFKA_PROBE_DESCRIBE_SECONDS} s"`,
    '  fi',
    '  while IFS= read -r line; do',
    '    [[ "${line}" == *$\'\\tPartition: \'* ]] || continue',
    '    topic=\'\' partition=\'\' leader=\'\' replicas=\'\' isr=\'\' adding=\'\'',
    '    IFS=$\'\\t\' read -r -a fields <<<"${line}"',
    '    for field in "${fields[@]}"; do',
    '      case "${field}" in',
    '        \'Topic: \'*) topic="${field#Topic: }" ;;',
    '        \'Partition: \'*) partition="${field#Partition: }" ;;',
    '        \'Leader: \'*) leader="${field#Leader: }" ;;',
    '        \'Replicas: \'*) replicas="${field#Replicas: }" ;;',
    '        \'Isr: \'*) isr="${field#Isr: }" ;;',
    '        \'Adding Replicas: \'*) adding="${field#Adding Replicas: }" ;;',
    '      esac',
    '    done',
    '    # a leader of "none" (or -1) means no live replica to catch up with',
    '    if [[ "${leader}" =~ ^[0-9]+$ ]] && member "${ordinal}" "${replicas}" && ! member "${ordinal}" "${adding}" && ! member "${ordinal}" "${isr}"; then',
    '      lagging+=("${topic}-${partition}")',
    '    fi',
    '  done <<<"${out}"',
    '  if ((${#lagging[@]} > 0)); then',
    '    fail "broker ${ordinal} is not yet in the ISR of ${#lagging[@]} partition(s) with a live leader, e.g. ${lagging[*]:0:5}"',
    '  fi',
    '  touch "${marker}"',
    '}',
    '',
    '# member ID LIST: ID is one of the comma-separated LIST',
    'member() {',
    '  [[ ",$2," == *",$1,"* ]]',
    '}',
  ] : [];
  return [
    '#!/bin/bash',
    '# Rendered by cdk8s-stateful (KafkaCluster): the probes of a Kafka pod.',
    `#   kafka-probe.sh live    this pod's listener (port ${o.port}) answers a Kafka ApiVersions request`,
    broker
      ? '#   kafka-probe.sh ready   live, and once per start: this broker is back in the ISRs'
      : '#   kafka-probe.sh ready   live (a controller holds no partitions)',
    'set -euo pipefail',
    'export LC_ALL=C',
    KAFKA_BIN_ON_PATH,
    `port=${o.port}`,
    `answer_seconds=${KAFKA_PROBE_ANSWER_SECONDS}`,
    '',
    'fail() {',
    '  echo "kafka-probe: $*" >&2',
    '  exit 1',
    '}',
    '',
    '# read_int N: the next N bytes from fd 3 as a big-endian unsigned integer, in $value',
    'read_int() {',
    '  local i c byte left',
    '  value=0',
    '  for ((i = 0; i < $1; i++)); do',
    '    left=$((deadline - SECONDS))',
    '    if ((left <= 0)) || ! IFS= read -r -d \'\' -n 1 -t "${left}" c <&3; then',
    '      fail "no complete ApiVersions response from 127.0.0.1:${port} within ${answer_seconds} s"',
    '    fi',
    '    # read stops at a NUL byte and leaves c empty',
    '    if [[ -z "${c}" ]]; then byte=0; else printf -v byte \'%d\' "\'${c}"; fi',
    '    value=$((value * 256 + byte))',
    '  done',
    '}',
    '',
    '# Serving: an ApiVersions v0 round-trip with this pod\'s own listener.',
    'live() {',
    '  local correlation=$$ id',
    '  deadline=$((SECONDS + answer_seconds))',
    '  exec 3<>"/dev/tcp/127.0.0.1/${port}" || fail "cannot connect to 127.0.0.1:${port}"',
    '  # int32 size 21, int16 api_key 18, int16 api_version 0, int32 correlation_id, int16 length 11, client_id',
    '  printf -v id \'\\\\x%02x\' $((correlation >> 24 & 255)) $((correlation >> 16 & 255)) $((correlation >> 8 & 255)) $((correlation & 255))',
    '  printf \'%b\' "\\\\x00\\\\x00\\\\x00\\\\x15\\\\x00\\\\x12\\\\x00\\\\x00${id}\\\\x00\\\\x0bcdk8s-probe" >&3',
    '  # int32 size, int32 correlation_id, int16 error_code, ...',
    '  read_int 4',
    '  if ((value < 6)); then fail "ApiVersions response of ${value} bytes is too short"; fi',
    '  read_int 4',
    '  if ((value != correlation)); then fail "ApiVersions response carries correlation id ${value}, expected ${correlation}"; fi',
    '  read_int 2',
    '  if ((value != 0)); then fail "ApiVersions failed with error code ${value}"; fi',
    '  exec 3<&-',
    '}',
    ...caughtUp,
    '',
    'case "${1:-}" in',
    '  live) live ;;',
    broker ? '  ready) live; caught_up ;;' : '  ready) live ;;',
    '  *)',
    '    echo "usage: kafka-probe.sh live|ready" >&2',
    '    exit 2',
    '    ;;',
    'esac',
    '',
  ].join('\n');
}

/** A logging configuration file and the `KAFKA_LOG4J_OPTS` that makes Kafka use it. */
export interface KafkaLogging {
  /** Path of the file. */
  readonly path: string;
  readonly content: string;
  /** The value of `KAFKA_LOG4J_OPTS`. */
  readonly log4jOpts: string;
}

/**
 * Logging to stdout only, where the kubelet keeps and rotates it: Kafka's
 * default configuration writes rolling files (server.log, controller.log,
 * state-change.log, ...) into LOG_DIR until the volume is full. Kafka 4.x
 * logs through log4j2 (`-Dlog4j2.configurationFile`, YAML as Kafka's own
 * config/log4j2.yaml), Kafka 3.x through log4j 1.x, i.e. reload4j
 * (`-Dlog4j.configuration=file:`). INFO, and WARN for the request logger,
 * as in Kafka's own configuration.
 */
export function renderKafkaLogging(kafkaMajorVersion: number, confDir: string): KafkaLogging {
  const pattern = '[%d] %p %m (%c)%n';
  const header = '# Rendered by cdk8s-stateful (KafkaCluster): log to stdout only; the kubelet keeps the logs.';
  if (kafkaMajorVersion >= 4) {
    const path = `${confDir}/log4j2.yaml`;
    return {
      path,
      log4jOpts: `-Dlog4j2.configurationFile=${path}`,
      content: [
        header,
        'Configuration:',
        '  Appenders:',
        '    Console:',
        '      name: STDOUT',
        '      target: SYSTEM_OUT',
        '      PatternLayout:',
        `        pattern: "${pattern}"`,
        '  Loggers:',
        '    Root:',
        '      level: INFO',
        '      AppenderRef:',
        '        - ref: STDOUT',
        '    Logger:',
        '      - name: kafka.request.logger',
        '        level: WARN',
        '',
      ].join('\n'),
    };
  }
  const path = `${confDir}/log4j.properties`;
  return {
    path,
    log4jOpts: `-Dlog4j.configuration=file:${path}`,
    content: [
      header,
      'log4j.rootLogger=INFO, stdout',
      'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
      'log4j.appender.stdout.Target=System.out',
      'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
      `log4j.appender.stdout.layout.ConversionPattern=${pattern}`,
      'log4j.logger.kafka.request.logger=WARN',
      '',
    ].join('\n'),
  };
}
