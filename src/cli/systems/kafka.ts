import { refusal } from '../errors';
import { Check, ordinalsBetween, ScaleContext, System } from './system';

/** Runs a Kafka tool in the broker's container: a small heap, and none of the broker's JVM agents or JMX port. */
const TOOL = 'env -u KAFKA_OPTS -u KAFKA_JMX_OPTS -u JMX_PORT KAFKA_HEAP_OPTS=-Xmx256m';

/** Under-replicated partitions, cluster-wide: `kafka-topics.sh --describe --under-replicated-partitions` must print nothing. */
export function kafkaUnderReplicatedScript(): string {
  return `set -euo pipefail
port="$1"
export PATH="\${KAFKA_HOME:-/opt/kafka}/bin:\${PATH}"
urp="$(${TOOL} kafka-topics.sh --bootstrap-server "localhost:\${port}" --describe --under-replicated-partitions)"
count="$(grep -c 'Partition:' <<<"\${urp}" || true)"
echo "under_replicated=\${count}"
if [[ "\${count}" != 0 ]]; then
  echo "\${count} under-replicated partition(s):" >&2
  echo "\${urp}" >&2
  exit 1
fi
`;
}

/**
 * Partitions with a replica on a broker id >= keep (brokers' ids are their
 * ordinals): one `stranded=<topic>-<partition> ...` line each.
 */
export function kafkaStrandedScript(): string {
  return `set -euo pipefail
port="$1"
keep="$2"
export PATH="\${KAFKA_HOME:-/opt/kafka}/bin:\${PATH}"
describe="$(${TOOL} kafka-topics.sh --bootstrap-server "localhost:\${port}" --describe)"
awk -v keep="\${keep}" '
  /Partition:/ {
    topic = ""; partition = ""; replicas = ""
    for (i = 1; i < NF; i++) {
      if ($i == "Topic:") topic = $(i + 1)
      if ($i == "Partition:") partition = $(i + 1)
      if ($i == "Replicas:") replicas = $(i + 1)
    }
    n = split(replicas, r, ",")
    gone = ""
    for (j = 1; j <= n; j++) if (r[j] + 0 >= keep) gone = gone (gone == "" ? "" : ",") r[j]
    if (gone != "") print "stranded=" topic "-" partition " replicas " replicas " (on removed broker " gone ")"
  }' <<<"\${describe}"
echo "checked=$(grep -c 'Partition:' <<<"\${describe}" || true)"
`;
}

/** The largest broker count the rendered start script accepts (`ordinal >= N` is refused), if it says. */
function renderedBrokers(files: { [file: string]: string }): number | undefined {
  const m = /ordinal >= (\d+)/.exec(files['kafka-start.sh'] ?? '');
  return m ? Number(m[1]) : undefined;
}

export function kafka(component: string, clientPort: number): System {
  const brokers = component !== 'controller';
  const underReplicated: Check = { name: 'under-replicated partitions (kafka-topics.sh)', script: kafkaUnderReplicatedScript(), args: [String(clientPort)] };
  return {
    title: brokers ? 'Kafka' : 'Kafka KRaft controllers',
    container: 'kafka',
    // dedicated controllers serve no client listener: they are rolled on readiness alone
    cluster: brokers ? underReplicated : undefined,
    role: () => (brokers ? 'broker' : 'controller'),
    beforeScale: (ctx: ScaleContext) => {
      const name = ctx.sts.metadata.name;
      if (!brokers) {
        throw refusal(`refusing to scale the Kafka controllers statefulset/${name}: controller.quorum.voters in server.properties names every controller; `
          + 'change controllers on the KafkaCluster and apply instead');
      }
      const files = ctx.configFiles();
      const rendered = renderedBrokers(files);
      if (rendered !== undefined && ctx.to > rendered) {
        throw refusal(`refusing to scale Kafka statefulset/${name} to ${ctx.to}: kafka-start.sh (its ConfigMap) accepts broker ordinals below ${rendered} only, `
          + `so broker ${rendered} would exit at start. Set brokers: ${ctx.to} on the KafkaCluster and apply, then move partitions onto the new brokers with kafka-reassign-partitions.sh`);
      }
      if (ctx.to >= ctx.from) return [];
      const combined = /ordinal < (\d+)/.exec(files['kafka-start.sh'] ?? '');
      if (combined && ctx.to < Number(combined[1])) {
        throw refusal(`refusing to scale Kafka statefulset/${name} to ${ctx.to}: brokers 0 to ${Number(combined[1]) - 1} are also the KRaft controllers `
          + '(controller.quorum.voters names them); keep at least those, or change the controllers on the KafkaCluster and apply');
      }
      const check: Check = { name: 'partitions on removed brokers (kafka-topics.sh --describe)', script: kafkaStrandedScript(), args: [String(clientPort), String(ctx.to)] };
      const r = ctx.run(`${name}-0`, check);
      if (!r.ok) throw refusal(`refusing to scale Kafka statefulset/${name} down: could not list the partitions in ${name}-0:\n${r.output}`);
      const stranded = r.stdout.split('\n').filter((l) => l.startsWith('stranded=')).map((l) => l.slice('stranded='.length));
      const removed = ordinalsBetween(ctx.to, ctx.from);
      const keep = ordinalsBetween(0, ctx.to).join(',');
      if (stranded.length > 0) {
        throw refusal([
          `refusing to scale Kafka statefulset/${name} from ${ctx.from} to ${ctx.to}: ${stranded.length} partition(s) have replicas on the brokers being removed (ids ${removed.join(', ')}):`,
          ...stranded.map((s) => `  ${s}`),
          `Move them to brokers ${keep} first (in a broker pod, e.g. ${ctx.kubectl} exec ${name}-0 -c kafka -- bash):`,
          `  kafka-reassign-partitions.sh --bootstrap-server localhost:${clientPort} --topics-to-move-json-file topics.json --broker-list ${keep} --generate`,
          `  kafka-reassign-partitions.sh --bootstrap-server localhost:${clientPort} --reassignment-json-file plan.json --execute`,
          `  kafka-reassign-partitions.sh --bootstrap-server localhost:${clientPort} --reassignment-json-file plan.json --verify`,
          `then run this scale again. (topics.json: {"version":1,"topics":[{"topic":"<name>"},...]}; plan.json: the proposed assignment --generate prints.)`,
        ].join('\n'));
      }
      ctx.o.out(`no partition has a replica on brokers ${removed.join(', ')} (${r.values.checked ?? '?'} partitions checked)`);
      return /node\.id=/.test(files['kafka-start.sh'] ?? '')
        ? [`KRaft keeps removed brokers registered: unregister each (in a remaining broker pod): ${removed.map((id) => `kafka-cluster.sh unregister --bootstrap-server localhost:${clientPort} --id ${id}`).join('; ')}`]
        : [];
    },
  };
}
