/**
 * Kafka's metrics for Prometheus: the Prometheus JMX exporter's Java agent
 * (io.prometheus.jmx:jmx_prometheus_javaagent) runs inside the broker's (or
 * dedicated controller's) JVM and serves /metrics. The apache/kafka image
 * does not ship the agent: an init container copies the jar from an image
 * that does into an emptyDir, and kafka-start.sh adds `-javaagent` to the
 * server's JVM only (see `renderKafkaStartScript`'s `javaAgent`).
 *
 * The rules file below is maintained with the alerts (src/kafka/alerts.ts)
 * and checked against a running broker by test/e2e/kafka.test.ts.
 */

/** What the agent's rules file is about, for its header. */
const RULES_HEADER = [
  '# Rendered by cdk8s-stateful (KafkaCluster): the Prometheus JMX exporter\'s rules.',
  '# Only the beans below are read (a scrape stays cheap); every exported series is',
  '# named <domain>_<type>_<name> in lower case, as the alerts and common dashboards',
  '# expect. The agent adds the JVM\'s own metrics (jvm_*, process_*) without rules.',
];

/**
 * The agent's configuration (YAML): lower-case names, only the beans the
 * alerts and the usual broker dashboards read.
 *
 * - `kafka.server` ReplicaManager gauges (under-replicated, under-min-ISR,
 *   offline replicas, partition and leader counts), the request handler
 *   pool's idle ratio (one-minute rate, 0..1), the replica fetchers' max lag,
 *   and the broker-wide bytes and messages in/out counters;
 * - `kafka.controller` KafkaController gauges (active controller count,
 *   offline partitions, active and fenced brokers, ...): served by the
 *   active controller, 0 on the other controller-capable nodes;
 * - `kafka.network` SocketServer gauges (network processor idle ratio) and
 *   RequestMetrics: request rates and total time p99 / p99.9 of produce and fetch;
 * - `kafka.log` LogManager gauges (offline log directories).
 */
export function renderJmxExporterConfig(): string {
  const include = [
    'kafka.server:type=ReplicaManager,*',
    'kafka.server:type=KafkaRequestHandlerPool,*',
    'kafka.server:type=ReplicaFetcherManager,*',
    'kafka.server:type=BrokerTopicMetrics,*',
    'kafka.controller:type=KafkaController,*',
    'kafka.network:type=SocketServer,*',
    'kafka.network:type=RequestMetrics,*',
    'kafka.log:type=LogManager,*',
  ];
  return [
    ...RULES_HEADER,
    'lowercaseOutputName: true',
    'lowercaseOutputLabelNames: true',
    'includeObjectNames:',
    ...include.map((n) => `  - "${n}"`),
    'rules:',
    '  # gauges with a Value attribute, e.g. kafka_server_replicamanager_underreplicatedpartitions,',
    '  # kafka_controller_kafkacontroller_activecontrollercount, kafka_log_logmanager_offlinelogdirectorycount',
    "  - pattern: 'kafka.(server|controller|network|log)<type=(ReplicaManager|KafkaController|SocketServer|LogManager), name=(\\w+)><>Value'",
    '    name: kafka_$1_$2_$3',
    '    type: GAUGE',
    '  # the share of time the request handler threads are idle (a meter: its one-minute rate, 0..1)',
    "  - pattern: 'kafka.server<type=KafkaRequestHandlerPool, name=RequestHandlerAvgIdlePercent><>OneMinuteRate'",
    '    name: kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent',
    '    type: GAUGE',
    '  # messages the slowest follower fetcher of this broker is behind its leaders',
    "  - pattern: 'kafka.server<type=ReplicaFetcherManager, name=MaxLag, clientId=Replica><>Value'",
    '    name: kafka_server_replicafetchermanager_maxlag',
    '    type: GAUGE',
    '  # broker-wide throughput (the per-topic beans are left out)',
    "  - pattern: 'kafka.server<type=BrokerTopicMetrics, name=(BytesInPerSec|BytesOutPerSec|MessagesInPerSec|FailedProduceRequestsPerSec|FailedFetchRequestsPerSec)><>Count'",
    '    name: kafka_server_brokertopicmetrics_$1_total',
    '    type: COUNTER',
    '  # requests served, by request type and version',
    "  - pattern: 'kafka.network<type=RequestMetrics, name=RequestsPerSec, request=(Produce|FetchConsumer|FetchFollower|Metadata), version=(\\d+)><>Count'",
    '    name: kafka_network_requestmetrics_requests_total',
    '    labels: { request: "$1", version: "$2" }',
    '    type: COUNTER',
    '  # total time of produce and fetch requests in ms, p99 and p99.9',
    "  - pattern: 'kafka.network<type=RequestMetrics, name=TotalTimeMs, request=(Produce|FetchConsumer|FetchFollower)><>(99|999)thPercentile'",
    '    name: kafka_network_requestmetrics_totaltimems',
    '    labels: { request: "$1", quantile: "0.$2" }',
    '    type: GAUGE',
    '',
  ].join('\n');
}

/** What the init container's copy script needs. */
export interface JmxAgentCopyOptions {
  /** The image the init container runs (for the error message). */
  readonly image: string;
  /** The jar's path in that image; `*` in the file name matches its version. */
  readonly jarPath: string;
  /** Where the Kafka container loads the agent from (on the shared emptyDir). */
  readonly target: string;
}

/**
 * The init container's script: copies the one jar that `jarPath` matches in
 * its image to `target` (through a temporary name, so a half copy is never
 * loaded), or stops with a message that names the props to fix.
 */
export function renderJmxAgentCopyScript(o: JmxAgentCopyOptions): string {
  return `#!/bin/bash
# Rendered by cdk8s-stateful (KafkaCluster): copies the Prometheus JMX exporter's Java agent
# from this image (${o.image}) to the volume kafka-start.sh loads it from.
set -euo pipefail
shopt -s nullglob
jars=(${o.jarPath})
if (( \${#jars[@]} != 1 )) || [[ ! -f "\${jars[0]}" ]]; then
  echo "jmx-exporter: expected one jar at '${o.jarPath}' in image '${o.image}', found \${#jars[@]}: \${jars[*]:-none}" >&2
  echo "set jmxExporterImage and jmxExporterJarPath on the KafkaCluster to an image with the jmx_prometheus_javaagent jar and its path" >&2
  exit 1
fi
cp "\${jars[0]}" "${o.target}.tmp"
mv -f "${o.target}.tmp" "${o.target}"
echo "jmx-exporter: \${jars[0]} -> ${o.target}"
`;
}
