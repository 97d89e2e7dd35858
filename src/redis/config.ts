// Pure renderers of the files a Redis Cluster node runs with. Each returns
// the exact text of one file; the real-process tests run these.

/** Port clients (and replicas) connect to. */
export const REDIS_CLIENT_PORT = 6379;
/** Cluster bus port (gossip, failover): the client port + 10000. */
export const REDIS_GOSSIP_PORT = 16379;
/** Port of the redis_exporter sidecar (its default). */
export const REDIS_EXPORTER_PORT = 9121;
/** Directory of the rendered config and scripts (the ConfigMap mount). */
export const REDIS_CONFIG_DIR = '/opt/cdk8s/redis';
/** Data directory (the claim): AOF, RDB and nodes.conf. */
export const REDIS_DATA_DIR = '/data';
/** Runtime directory (an emptyDir): the generated config that carries the password. */
export const REDIS_RUN_DIR = '/run/redis';

/** Settings of `renderRedisConf`. */
export interface RedisConfSettings {
  /** Cluster node timeout in milliseconds. */
  readonly nodeTimeoutMillis: number;
  /** `maxmemory` in MiB, or 0 for none. */
  readonly maxMemoryMebibytes: number;
  /** Extra lines appended verbatim. */
  readonly extraLines: string[];
}

/** redis.conf: cluster mode, data on the claim, AOF on. No secrets: those are added at start. */
export function renderRedisConf(s: RedisConfSettings): string {
  return [
    '# Rendered by cdk8s-stateful. The password and the announced address are',
    `# added at start by start.sh (${REDIS_RUN_DIR}/redis.conf includes this file).`,
    `port ${REDIS_CLIENT_PORT}`,
    'bind * -::*',
    'protected-mode no',
    `dir ${REDIS_DATA_DIR}`,
    'daemonize no',
    'logfile ""',
    'cluster-enabled yes',
    `cluster-config-file ${REDIS_DATA_DIR}/nodes.conf`,
    `cluster-node-timeout ${s.nodeTimeoutMillis}`,
    `cluster-port ${REDIS_GOSSIP_PORT}`,
    'appendonly yes',
    'appendfsync everysec',
    ...(s.maxMemoryMebibytes > 0 ? [`maxmemory ${s.maxMemoryMebibytes}mb`, 'maxmemory-policy noeviction'] : []),
    ...(s.extraLines.length > 0 ? ['# extra lines (config prop)', ...s.extraLines] : []),
    '',
  ].join('\n');
}

/** Settings of `renderRedisStartScript`. */
export interface RedisStartSettings {
  /** Name of the headless Service (pod FQDNs are `<pod>.<headless>.<ns>.svc.<domain>`). */
  readonly headlessServiceName: string;
  /** Cluster DNS domain. */
  readonly clusterDomain: string;
  /** Whether `REDISCLI_AUTH` sets requirepass and masterauth. */
  readonly auth: boolean;
  /** Longest wait, in seconds, for peers' names to resolve (all peers together). */
  readonly resolveWaitSeconds: number;
  /** Where the files are; the defaults are the container's paths. */
  readonly paths?: RedisPaths;
}

/** The directories start.sh reads and writes. */
export interface RedisPaths {
  /** The rendered redis.conf (the ConfigMap mount). */
  readonly configDir: string;
  /** nodes.conf (the claim). */
  readonly dataDir: string;
  /** The runtime redis.conf (an emptyDir). */
  readonly runDir: string;
}

const CONTAINER_PATHS: RedisPaths = { configDir: REDIS_CONFIG_DIR, dataDir: REDIS_DATA_DIR, runDir: REDIS_RUN_DIR };

/**
 * start.sh: writes the runtime config (the password from the environment,
 * this pod's address and hostname), points every address in an existing
 * nodes.conf at the node's current IP (its own from POD_IP, its peers'
 * resolved from the hostnames they announced), then execs redis-server.
 * Expects POD_IP and POD_NAMESPACE (downward API) and, with auth,
 * REDISCLI_AUTH (a Secret key).
 *
 * After a full restart every peer address in nodes.conf is stale, and a node
 * only learns a peer's new address from a peer that reaches it: unless the
 * names are resolved here, nobody reaches anyone. Peers start in parallel,
 * so a name may not resolve yet: the script retries until a shared deadline,
 * then keeps the old address (gossip corrects it once any node gets through).
 */
export function renderRedisStartScript(s: RedisStartSettings): string {
  const paths = s.paths ?? CONTAINER_PATHS;
  return [
    '#!/bin/bash',
    '# Starts one Redis Cluster node; see the comment at each step.',
    'set -euo pipefail',
    ': "${POD_IP:?POD_IP must be set from status.podIP}"',
    ': "${POD_NAMESPACE:?POD_NAMESPACE must be set from metadata.namespace}"',
    ...(s.auth ? [': "${REDISCLI_AUTH:?REDISCLI_AUTH must be set from the credentials Secret}"'] : []),
    'host="${HOSTNAME:-$(hostname)}"',
    `fqdn="\${host}.${s.headlessServiceName}.\${POD_NAMESPACE}.svc.${s.clusterDomain}"`,
    `nodes_conf=${paths.dataDir}/nodes.conf`,
    '',
    '# The address of name $1; peers start in parallel, so retry until the deadline.',
    `deadline=$((SECONDS + ${s.resolveWaitSeconds}))`,
    'resolve() {',
    '  local ip',
    '  until ip="$(timeout 5 getent hosts "$1" | awk \'NR == 1 { print $1 }\')" && [[ -n "$ip" ]]; do',
    '    if ((SECONDS >= deadline)); then',
    '      echo "start.sh: $1 does not resolve; keeping its old address for gossip to correct" >&2',
    '      return 1',
    '    fi',
    '    sleep 1',
    '  done',
    '  echo "$ip"',
    '}',
    '',
    '# A pod that comes back with a new IP must not announce its old one, and',
    '# peers that moved while it was down are found again by their hostnames.',
    '# A node line is "<id> <ip>:<port>@<cport>[,<hostname>][,<key>=<value>...] <flags> ...";',
    '# Redis 7.2 appends key=value fields (shard-id=...) and writes the comma even with no hostname.',
    'rewrite_addresses() {',
    '  local line id addr flags rest hostport hostname ip',
    '  local out=()',
    '  while IFS= read -r line; do',
    '    read -r id addr flags rest <<<"$line" || true',
    '    if [[ "$id" != vars && "$addr" == *@* ]]; then',
    '      hostport="${addr%%@*}"',
    '      IFS=, read -r _ hostname _ <<<"${addr#*@}"',
    '      if [[ "$hostname" == *=* ]]; then hostname=""; fi',
    '      ip=""',
    '      if [[ "$flags" == *myself* ]]; then',
    '        ip="$POD_IP"',
    '      elif [[ -n "$hostname" ]]; then',
    '        ip="$(resolve "$hostname")" || ip=""',
    '      fi',
    '      if [[ -n "$ip" ]]; then',
    '        line="$id ${ip}:${hostport##*:}@${addr#*@} $flags $rest"',
    '      fi',
    '    fi',
    '    out+=("$line")',
    '  done <"$nodes_conf"',
    '  printf \'%s\\n\' "${out[@]}" >"${nodes_conf}.tmp"',
    '  mv "${nodes_conf}.tmp" "$nodes_conf"',
    '}',
    'if [[ -s "$nodes_conf" ]]; then',
    '  rewrite_addresses',
    'fi',
    '',
    '# Quote a value for redis.conf.',
    'conf_quote() {',
    '  local v="${1//\\\\/\\\\\\\\}"',
    '  v="${v//\\"/\\\\\\"}"',
    '  printf \'"%s"\' "$v"',
    '}',
    '',
    'umask 077',
    `runtime_conf=${paths.runDir}/redis.conf`,
    '{',
    `  echo "include ${paths.configDir}/redis.conf"`,
    '  echo "cluster-announce-ip $POD_IP"',
    '  echo "cluster-announce-hostname $fqdn"',
    ...(s.auth ? [
      '  echo "requirepass $(conf_quote "$REDISCLI_AUTH")"',
      '  echo "masterauth $(conf_quote "$REDISCLI_AUTH")"',
    ] : []),
    '} >"$runtime_conf"',
    'exec redis-server "$runtime_conf"',
    '',
  ].join('\n');
}

/** Settings of `renderRedisBootstrapScript`. */
export interface RedisBootstrapSettings {
  /** FQDN of every node, in ordinal order. */
  readonly nodeHosts: string[];
  /** Replicas per master (`--cluster-replicas`). */
  readonly replicasPerMaster: number;
  /** Seconds to wait for each node to answer. */
  readonly waitSeconds: number;
}

/**
 * The bootstrap Job's script: waits until every node answers PING, exits if
 * any node already knows other nodes or owns slots (the cluster exists), and
 * otherwise runs `redis-cli --cluster create` once over the nodes' announced
 * addresses. The password comes from REDISCLI_AUTH (a Secret key).
 */
export function renderRedisBootstrapScript(s: RedisBootstrapSettings): string {
  return [
    '#!/bin/bash',
    '# Forms the Redis Cluster once; does nothing if it already exists.',
    'set -euo pipefail',
    `port=${REDIS_CLIENT_PORT}`,
    'nodes=(',
    ...s.nodeHosts.map((h) => `  ${h}`),
    ')',
    '',
    'wait_for() {',
    '  local i',
    `  for ((i = 0; i < ${Math.ceil(s.waitSeconds / 2)}; i++)); do`,
    '    if [[ "$(redis-cli -h "$1" -p "$port" ping 2>/dev/null)" == PONG ]]; then',
    '      return 0',
    '    fi',
    '    sleep 2',
    '  done',
    '  echo "node $1 did not answer PING" >&2',
    '  return 1',
    '}',
    '',
    'info_field() {',
    '  redis-cli -h "$1" -p "$port" cluster info | tr -d \'\\r\' | sed -n "s/^$2://p"',
    '}',
    '',
    'addresses=()',
    'for node in "${nodes[@]}"; do',
    '  wait_for "$node"',
    '  known="$(info_field "$node" cluster_known_nodes)"',
    '  assigned="$(info_field "$node" cluster_slots_assigned)"',
    '  if [[ "$known" != 1 || "$assigned" != 0 ]]; then',
    '    echo "cluster exists ($node knows $known nodes, $assigned slots assigned): nothing to do"',
    '    exit 0',
    '  fi',
    '  self="$(redis-cli -h "$node" -p "$port" cluster nodes | tr -d \'\\r\' | awk \'/myself/ { print $2; exit }\')"',
    '  address="${self%%@*}"',
    '  if [[ -z "${address%:*}" ]]; then',
    '    address="$(getent hosts "$node" | awk \'NR == 1 { print $1 }\'):$port"',
    '  fi',
    '  addresses+=("$address")',
    'done',
    '',
    'echo "creating the cluster: ${addresses[*]}"',
    `redis-cli --cluster create "\${addresses[@]}" --cluster-replicas ${s.replicasPerMaster} --cluster-yes`,
    '',
  ].join('\n');
}
