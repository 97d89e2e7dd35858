/**
 * What the container images have that Debian's packages name or lay out
 * differently. Each entry is a substitution the harness lists in its table.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { BinaryShim, ImageMount, Substitution } from './harness/cluster';

const ZK_CLASSPATH = '/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar';

/** The official `zookeeper` image: zkServer.sh and zkCli.sh on PATH. */
export const ZOOKEEPER_IMAGE: BinaryShim[] = [
  {
    name: 'zkServer.sh',
    manifest: 'zkServer.sh start-foreground (official zookeeper image, on PATH)',
    local: 'java QuorumPeerMain with $ZOOCFGDIR/zoo.cfg, -Xmx$ZK_SERVER_HEAP m, Debian\'s zookeeper 3.8 jars, slf4j-simple for logs',
    why: 'Debian\'s zkServer.sh hard-codes /etc/zookeeper/conf and ignores ZOOCFGDIR; the image logs through logback, which Debian does not ship',
    script: `set -euo pipefail
[ "\${1:-}" = start-foreground ] || { echo "zkServer.sh stand-in: only start-foreground" >&2; exit 2; }
: "\${ZOOCFGDIR:?ZOOCFGDIR must be set}"
heap=()
[ -z "\${ZK_SERVER_HEAP:-}" ] || heap=("-Xmx\${ZK_SERVER_HEAP}m" "-Xms\${ZK_SERVER_HEAP}m")
# shellcheck disable=SC2086
exec java "\${heap[@]}" -Dorg.slf4j.simpleLogger.showDateTime=true \${SERVER_JVMFLAGS:-} \\
  -cp "\${ZOOCFGDIR}:${ZK_CLASSPATH}" org.apache.zookeeper.server.quorum.QuorumPeerMain "\${ZOOCFGDIR}/zoo.cfg"`,
  },
  {
    name: 'zkCli.sh',
    manifest: 'zkCli.sh (official zookeeper image, on PATH; used by the test as a client)',
    local: 'java ZooKeeperMain with Debian\'s jars',
    why: 'Debian keeps zkCli.sh off PATH and points it at /etc/zookeeper',
    script: `set -euo pipefail
exec java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "${ZK_CLASSPATH}" org.apache.zookeeper.ZooKeeperMain "$@"`,
  },
];

/** The jars of one Kafka release (or of the JMX exporter's agent), as scripts/kafka/fetch.sh keeps them. */
export interface KafkaJars {
  /** The pom that pins the release: 'kraft' (KafkaCluster.DEFAULT_IMAGE), 'zookeeper-mode' or 'jmx-exporter'. */
  readonly pom: string;
  /** The pom's `<kafka.version>` (`<jmx-exporter.version>`). */
  readonly version: string;
  /** The directory of the jars, outside the checkout. */
  readonly libs: string;
}

const KAFKA_FETCH = path.join(__dirname, '..', '..', 'scripts', 'kafka', 'fetch.sh');

/**
 * Runs scripts/kafka/fetch.sh, which fetches whatever its poms pin and the
 * cache lacks (a warm cache starts no Maven), and returns what it keeps, by pom.
 */
export function fetchKafkaJars(): { [pom: string]: KafkaJars } {
  const r = spawnSync(KAFKA_FETCH, [], { encoding: 'utf-8', timeout: 600000 });
  if (r.status !== 0) throw new Error(`${KAFKA_FETCH} failed (${r.status ?? r.signal}):\n${r.stderr}${r.error ?? ''}`);
  const jars: { [pom: string]: KafkaJars } = {};
  for (const line of r.stdout.trim().split('\n')) {
    const [pom, version, libs] = line.split('\t');
    jars[pom] = { pom, version, libs };
  }
  return jars;
}

/** Where the apache/kafka image keeps its distribution. */
const KAFKA_HOME = '/opt/kafka';

/** The image's bin/ scripts the manifests and the test call, and the main class each runs. */
const KAFKA_COMMANDS: { name: string; main: (major: number) => string; server?: boolean }[] = [
  { name: 'kafka-server-start.sh', main: () => 'kafka.Kafka', server: true },
  { name: 'kafka-storage.sh', main: () => 'kafka.tools.StorageTool' },
  { name: 'kafka-topics.sh', main: () => 'org.apache.kafka.tools.TopicCommand' },
  { name: 'kafka-metadata-quorum.sh', main: () => 'org.apache.kafka.tools.MetadataQuorumCommand' },
  // moved from the Scala core to the tools module in 4.0
  { name: 'kafka-broker-api-versions.sh', main: (m) => (m >= 4 ? 'org.apache.kafka.tools.BrokerApiVersionsCommand' : 'kafka.admin.BrokerApiVersionsCommand') },
];

/**
 * What bin/kafka-run-class.sh (and, for the server, bin/kafka-server-start.sh)
 * does with its environment, for one main class: the same defaults for
 * KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS, KAFKA_JMX_OPTS and
 * KAFKA_LOG4J_OPTS (the image's config/ files), LOG_DIR created and passed
 * as kafka.logs.dir, EXTRA_ARGS (`-name kafkaServer -loggc` unless set, even
 * to empty) turning on GC log files in LOG_DIR unless KAFKA_GC_LOG_OPTS is
 * set, and KAFKA_OPTS last.
 */
function kafkaRunClass(major: number, name: string, main: string, server: boolean): string {
  const log4j = major >= 4
    ? `-Dlog4j2.configurationFile=${KAFKA_HOME}/config/${server ? 'log4j2.yaml' : 'tools-log4j2.yaml'}`
    : `-Dlog4j.configuration=file:${KAFKA_HOME}/config/${server ? 'log4j.properties' : 'tools-log4j.properties'}`;
  const extraArgs = server ? `
# kafka-server-start.sh: EXTRA_ARGS, word-split, then kafka-run-class.sh's own options
# shellcheck disable=SC2086
set -- \${EXTRA_ARGS--name kafkaServer -loggc} "$@"
daemon_name=''
loggc=false
while [ $# -gt 0 ]; do
  case "$1" in
    -name) daemon_name="$2"; shift 2 ;;
    -loggc) [ -n "$gc_opts" ] || loggc=true; shift ;;
    -daemon) echo "${name} stand-in: -daemon is not supported" >&2; exit 2 ;;
    *) break ;;
  esac
done
if $loggc; then gc_opts="-Xlog:gc*:file=\${log_dir}/\${daemon_name}-gc.log:time,tags:filecount=10,filesize=100M"; fi
[ $# -ge 1 ] || { echo "USAGE: ${name} server.properties [--override property=value]*" >&2; exit 1; }` : '';
  return `set -euo pipefail
home=${KAFKA_HOME}
[ -d "$home/libs" ] || { echo "${name} stand-in: $home/libs is missing (scripts/kafka/fetch.sh fills it)" >&2; exit 1; }
[ -z "\${JMX_PORT:-}" ] || { echo "${name} stand-in: JMX_PORT is not supported" >&2; exit 2; }
log_dir="\${LOG_DIR:-$home/logs}"
[ -d "$log_dir" ] || mkdir -p "$log_dir"
gc_opts="\${KAFKA_GC_LOG_OPTS:-}"${extraArgs}
heap="\${KAFKA_HEAP_OPTS:-${server ? '-Xmx1G -Xms1G' : '-Xmx256M'}}"
perf="\${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true}"
jmx="\${KAFKA_JMX_OPTS:--Dcom.sun.management.jmxremote -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false}"
log4j="\${KAFKA_LOG4J_OPTS:-${log4j}}"
# the *_OPTS are lists of words, split as kafka-run-class.sh splits them
# shellcheck disable=SC2086
exec java $heap $perf $gc_opts $jmx -Dkafka.logs.dir="$log_dir" $log4j -cp "$home/libs/*" \${KAFKA_OPTS:-} ${main} "$@"`;
}

/**
 * The apache/kafka image of `jars.version`: its bin/ scripts as stand-ins on
 * PATH, its jars at /opt/kafka/libs and console-only logging defaults at
 * /opt/kafka/config (test/e2e/kafka-image).
 */
export function kafkaImage(jars: KafkaJars): { binaries: BinaryShim[]; mounts: ImageMount[]; notes: Substitution[] } {
  const major = Number(jars.version.split('.')[0]);
  const image = `apache/kafka:${jars.version}`;
  return {
    binaries: KAFKA_COMMANDS.map(({ name, main, server }) => ({
      name,
      manifest: `${name} (${image}, ${KAFKA_HOME}/bin)`,
      local: `java -cp '${KAFKA_HOME}/libs/*' ${main(major)}, with kafka-run-class.sh's handling of KAFKA_HEAP_OPTS, KAFKA_LOG4J_OPTS, KAFKA_GC_LOG_OPTS, KAFKA_OPTS, LOG_DIR${server ? ' and EXTRA_ARGS' : ''}`,
      why: 'the bin/ scripts ship in the Kafka distribution, which is not on Maven Central; the stand-in runs the same main class with the same options',
      script: kafkaRunClass(major, name, main(major), server ?? false),
    })),
    mounts: [
      {
        // the image's own: the JMX exporter's image keeps other jars at the same path
        source: jars.libs, target: `${KAFKA_HOME}/libs`, image,
        manifest: `${KAFKA_HOME}/libs (${image})`,
        local: `Kafka ${jars.version}'s jars from Maven Central (scripts/kafka/${jars.pom}/pom.xml), read-only`,
        why: 'no container images here; the pom pins the image\'s Kafka release and log binding (Kafka Connect left out)',
      },
      {
        source: path.join(__dirname, 'kafka-image', `${major}.x`, 'config'), target: `${KAFKA_HOME}/config`, image,
        manifest: `${KAFKA_HOME}/config (${image}): logging used when KAFKA_LOG4J_OPTS is unset`,
        local: `test/e2e/kafka-image/${major}.x/config: server INFO to stdout, tools WARN to stderr`,
        why: 'the distribution\'s config files are not on Maven Central; these log to the console only (no files in LOG_DIR)',
      },
    ],
    notes: [{
      manifest: `Java of ${image}`, local: 'Debian\'s OpenJDK 17', why: 'the image bundles its own JRE; Kafka 4.x needs Java 17 or later on brokers',
    }],
  };
}

/**
 * The image KafkaCluster's monitoring copies the JMX exporter's agent from
 * (`image`, keeping it at `jarPath`): the agent jar from Maven Central
 * (scripts/kafka/jmx-exporter/pom.xml) in the jar's directory, for that
 * image's containers only (the init container that copies it).
 */
export function jmxExporterImage(agent: KafkaJars, image: string, jarPath: string): ImageMount {
  return {
    source: agent.libs, target: path.posix.dirname(jarPath), image,
    manifest: `${jarPath} (${image})`,
    local: `jmx_prometheus_javaagent-${agent.version}.jar from Maven Central (scripts/kafka/jmx-exporter/pom.xml), read-only, in that image's containers only`,
    why: 'no container images here; the agent is the same jar the image ships (its version may differ)',
  };
}
