/**
 * Pure renderers of ZooKeeper's files: zoo.cfg, the start script that writes
 * `myid`, the probe scripts and the logging configuration. No Kubernetes
 * objects here: the same strings are what the unit tests check and what the
 * real-process tests run.
 */

/** Everything zoo.cfg and the scripts need, already resolved and validated. */
export interface ZooKeeperConfig {
  /** FQDNs of the members, by ordinal (member id = ordinal + 1). */
  readonly members: string[];
  readonly clientPort: number;
  readonly quorumPort: number;
  readonly electionPort: number;
  readonly dataDir: string;
  /** Separate transaction-log directory, if any. */
  readonly dataLogDir?: string;
  readonly tickTimeMillis: number;
  readonly initLimitTicks: number;
  readonly syncLimitTicks: number;
  readonly maxClientConnections: number;
  readonly snapRetainCount: number;
  /** Hours between purges; 0 disables autopurge. */
  readonly purgeIntervalHours: number;
  /** Four-letter words allowed (`ruok`, `srvr`, `mntr` are always added). */
  readonly fourLetterWords: string[];
  /** AdminServer HTTP port, if enabled. */
  readonly adminServerPort?: number;
  /** The AdminServer serves `snapshot` (ZooKeeper 3.9+), for backups. */
  readonly adminSnapshots?: boolean;
  /** Prometheus metrics provider port, if enabled. */
  readonly metricsPort?: number;
  /** Extra `key=value` lines, appended last. */
  readonly extra: { [key: string]: string };
}

/** The four-letter words the probes (`ruok`), operators (`srvr`) and metrics scrapers (`mntr`) use. */
export const REQUIRED_FOUR_LETTER_WORDS = ['ruok', 'srvr', 'mntr'];

/** zoo.cfg for every member (identical in every pod; the member's id is in `myid`). */
export function renderZooCfg(c: ZooKeeperConfig): string {
  const words = [...new Set([...REQUIRED_FOUR_LETTER_WORDS, ...c.fourLetterWords])];
  const lines = [
    '# Rendered by cdk8s-stateful (ZooKeeperEnsemble). Identical in every pod; each',
    '# member learns its id from <dataDir>/myid, written by the start script.',
    `tickTime=${c.tickTimeMillis}`,
    `initLimit=${c.initLimitTicks}`,
    `syncLimit=${c.syncLimitTicks}`,
    `dataDir=${c.dataDir}`,
    ...(c.dataLogDir ? [`dataLogDir=${c.dataLogDir}`] : []),
    `clientPort=${c.clientPort}`,
    `maxClientCnxns=${c.maxClientConnections}`,
    `autopurge.snapRetainCount=${c.snapRetainCount}`,
    `autopurge.purgeInterval=${c.purgeIntervalHours}`,
    `4lw.commands.whitelist=${words.join(',')}`,
    '# bind quorum and election ports on every interface: a pod must listen',
    '# before the DNS record of its own name exists',
    'quorumListenOnAllIPs=true',
    'reconfigEnabled=false',
    c.members.length === 1 ? 'standaloneEnabled=true' : 'standaloneEnabled=false',
    `admin.enableServer=${c.adminServerPort !== undefined}`,
    ...(c.adminServerPort !== undefined ? [`admin.serverPort=${c.adminServerPort}`] : []),
    ...(c.adminSnapshots ? ['admin.snapshot.enabled=true'] : []),
    ...(c.metricsPort !== undefined
      ? [
        'metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider',
        `metricsProvider.httpPort=${c.metricsPort}`,
        'metricsProvider.exportJvmInfo=true',
      ]
      : []),
    ...Object.entries(c.extra).map(([k, v]) => `${k}=${v}`),
    ...c.members.map((fqdn, i) => `server.${i + 1}=${fqdn}:${c.quorumPort}:${c.electionPort}`),
  ];
  return lines.join('\n') + '\n';
}

/**
 * The container's entrypoint: derives the member id from the pod's hostname
 * (`<statefulset>-<ordinal>` -> ordinal + 1), writes `myid` (idempotent: an
 * existing matching file is kept, a different one is an error because the
 * volume then belongs to another member) and execs ZooKeeper in the
 * foreground with `ZOOCFGDIR` set to the rendered configuration.
 */
export function renderZkStartScript(c: { readonly dataDir: string; readonly configDir: string; readonly replicas: number }): string {
  return `#!/bin/bash
# Rendered by cdk8s-stateful (ZooKeeperEnsemble): writes myid from the pod's
# hostname, then runs ZooKeeper in the foreground.
set -euo pipefail

host="\${HOSTNAME:-$(hostname)}"
ordinal="\${host##*-}"
if ! [[ "\${ordinal}" =~ ^[0-9]+$ ]]; then
  echo "cannot derive the member ordinal from hostname '\${host}'" >&2
  exit 1
fi
if (( ordinal >= ${c.replicas} )); then
  echo "ordinal \${ordinal} is outside the ensemble of ${c.replicas} (zoo.cfg lists server.1 to server.${c.replicas})" >&2
  exit 1
fi
myid=$((ordinal + 1))
data_dir="${c.dataDir}"
mkdir -p "\${data_dir}"
if [[ -f "\${data_dir}/myid" ]]; then
  existing="$(cat "\${data_dir}/myid")"
  if [[ "\${existing}" != "\${myid}" ]]; then
    echo "\${data_dir}/myid holds \${existing} but this pod is member \${myid}: the volume belongs to another member" >&2
    exit 1
  fi
else
  echo "\${myid}" > "\${data_dir}/myid.tmp"
  mv "\${data_dir}/myid.tmp" "\${data_dir}/myid"
fi
echo "starting ZooKeeper member \${myid} (\${host})"

export ZOOCFGDIR="${c.configDir}"
exec zkServer.sh start-foreground
`;
}

/**
 * Readiness: sends \`ruok\` to the client port and expects \`imok\` (the server
 * runs and is not in an error state; it need not be in a quorum yet, so
 * OrderedReady can start the next member). Uses only bash's /dev/tcp, which
 * the official image (and any bash) has; no nc needed.
 */
export function renderZkReadyScript(clientPort: number): string {
  return `#!/bin/bash
# Readiness: "ruok" on the client port must answer "imok".
set -euo pipefail
exec 3<>/dev/tcp/127.0.0.1/${clientPort}
printf 'ruok' >&3
reply=""
read -r -t 3 reply <&3 || true
exec 3>&-
[[ "\${reply}" == "imok" ]]
`;
}

/**
 * Liveness: the client port accepts a TCP connection. More tolerant than
 * readiness (no answer needed, so a server busy syncing a large snapshot is
 * not restarted), and run less often with more failures allowed.
 */
export function renderZkLiveScript(clientPort: number): string {
  return `#!/bin/bash
# Liveness: the client port accepts connections.
set -euo pipefail
exec 3<>/dev/tcp/127.0.0.1/${clientPort}
exec 3>&-
`;
}

/** logback.xml (ZooKeeper 3.8+): INFO to the console, for \`kubectl logs\`. */
export function renderZkLogback(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Rendered by cdk8s-stateful: log to the console only; the kubelet keeps the logs. -->
<configuration>
  <appender name="CONSOLE" class="ch.qos.logback.core.ConsoleAppender">
    <encoder>
      <pattern>%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n</pattern>
    </encoder>
  </appender>
  <root level="INFO">
    <appender-ref ref="CONSOLE"/>
  </root>
</configuration>
`;
}
