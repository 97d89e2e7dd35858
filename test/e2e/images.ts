/**
 * What the container images have that Debian's packages name or lay out
 * differently. Each entry is a substitution the harness lists in its table.
 */
import { BinaryShim } from './harness/cluster';

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
