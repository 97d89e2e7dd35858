// Pure renderers of the files a MySQL / MariaDB member runs with. Each
// returns the exact text of one file; the real-process tests run these.
// Internal: tests import them from this module.
import { ConfigFile } from '../core/pod-spec';
import { VERIFY_CHECKSUM_FUNCTION } from '../core/backup-scripts';

/** Port of the SQL protocol. */
export const MYSQL_PORT = 3306;
/** Mount path of the claim. */
export const MYSQL_VOLUME_DIR = '/var/lib/mysql';
/** Data directory: a subdirectory of the claim, so `lost+found` and markers stay out of it. */
export const MYSQL_DATA_DIR = `${MYSQL_VOLUME_DIR}/data`;
/**
 * Temporary files (large sorts, ALTER TABLE copies): a subdirectory of the
 * claim, so they get the data volume's space, not a small emptyDir.
 */
export const MYSQL_TMP_DIR = `${MYSQL_VOLUME_DIR}/tmp`;
/** Runtime directory (an emptyDir): socket, pid file, the probes' client option file, the initialization marker. */
export const MYSQL_RUN_DIR = '/var/run/mysqld';
/** Directory of the rendered my.cnf and scripts (the ConfigMap mount). */
export const MYSQL_CONFIG_DIR = '/opt/cdk8s/mysql';
/** Directory the init container writes the member's own settings to (server-id, read-only). */
export const MYSQL_INSTANCE_DIR = '/opt/cdk8s/mysql-instance';
/** Directory the credentials Secret is mounted at, one file per key. */
export const MYSQL_SECRET_DIR = '/var/run/secrets/mysql';
/** The client option file (user root, password, socket) the probes use; written by start.sh. */
export const MYSQL_PROBE_CLIENT_CNF = `${MYSQL_RUN_DIR}/client.cnf`;
/**
 * Exists (holding start.sh's PID) while start.sh initializes an empty data
 * directory, which for a MySQL replica includes a CLONE of the whole
 * primary: the probes treat the member as alive but not ready meanwhile.
 */
export const MYSQL_INITIALIZING_MARKER = `${MYSQL_RUN_DIR}/initializing`;
/** Seconds between a replica's attempts to reconnect to the primary. */
export const REPLICA_CONNECT_RETRY_SECONDS = 10;
/**
 * Reconnection attempts before a replica gives up: 86400 at 10 s apart is
 * ten days of primary outage, longer than the default binlogExpiry.
 */
export const REPLICA_RETRY_COUNT = 86400;
/** The replication user created on the primary. */
export const REPLICATION_USER = 'replicator';
/** Secret key of root's password. */
export const ROOT_PASSWORD_KEY = 'root-password';
/** Secret key of the replication user's password. */
export const REPLICATION_PASSWORD_KEY = 'replication-password';
/** The metrics exporter's user (with `monitoring`): it connects from its own pod only. */
export const EXPORTER_USER = 'exporter';
/** Secret key of the exporter user's password. */
export const EXPORTER_PASSWORD_KEY = 'exporter-password';
/** The dump user of the backup CronJob (with `backup`). */
export const BACKUP_USER = 'backup';
/** Secret key of the backup user's password. */
export const BACKUP_PASSWORD_KEY = 'backup-password';
/** Port of the mysqld_exporter sidecar (its registered default). */
export const MYSQL_EXPORTER_PORT = 9104;
/** In-memory directory of the exporter's client option file, written by an init container. */
export const MYSQL_EXPORTER_DIR = '/var/run/mysqld-exporter';
/** Where the exporter's init container finds the exporter's password (that key only). */
export const MYSQL_EXPORTER_SECRET_DIR = '/var/run/secrets/mysql-exporter';
/**
 * Where the restore init container puts the backup the primary loads on its
 * first initialization (on the claim: a dump may be larger than memory).
 */
export const MYSQL_RESTORE_DIR = `${MYSQL_VOLUME_DIR}/restore`;

/** The executables of a flavor, called by bare names on PATH. */
export interface MySqlBinaries {
  /** The server: `mysqld` or `mariadbd`. */
  readonly server: string;
  /** The SQL client: `mysql` or `mariadb`. */
  readonly client: string;
  /** The admin tool: `mysqladmin` or `mariadb-admin`. */
  readonly admin: string;
  /** The logical backup tool: `mysqldump` or `mariadb-dump`. */
  readonly dump: string;
}

/** Which server: `'mysql'` or `'mariadb'`. */
export type FlavorName = 'mysql' | 'mariadb';

/** An application user created on the primary. */
export interface MySqlUserSpec {
  /** User name. */
  readonly name: string;
  /** Secret key of its password. */
  readonly passwordKey: string;
  /** Databases it gets ALL PRIVILEGES on. */
  readonly databases: string[];
}

/** Settings of `renderMyCnf`. */
export interface MyCnfSettings {
  readonly flavor: FlavorName;
  readonly bufferPoolMebibytes: number;
  readonly maxConnections: number;
  readonly binlogExpirySeconds: number;
  readonly characterSet: string;
  readonly collation?: string;
  readonly extraLines: string[];
}

/** my.cnf shared by every member; the member's own server-id and role come from MYSQL_INSTANCE_DIR. */
export function renderMyCnf(s: MyCnfSettings): string {
  const mysql = s.flavor === 'mysql';
  return [
    '# Rendered by cdk8s-stateful. server_id and read_only come from the init',
    `# container (${MYSQL_INSTANCE_DIR}/server-id.cnf).`,
    '[mysqld]',
    `datadir=${MYSQL_DATA_DIR}`,
    `socket=${MYSQL_RUN_DIR}/mysqld.sock`,
    `pid-file=${MYSQL_RUN_DIR}/mysqld.pid`,
    `tmpdir=${MYSQL_TMP_DIR}`,
    `port=${MYSQL_PORT}`,
    'bind-address=0.0.0.0',
    'skip-name-resolve',
    `character-set-server=${s.characterSet}`,
    ...(s.collation ? [`collation-server=${s.collation}`] : []),
    `max_connections=${s.maxConnections}`,
    `innodb_buffer_pool_size=${s.bufferPoolMebibytes}M`,
    '# replication: binary log and GTIDs on every member, so any replica can be promoted',
    'log_bin=mysql-bin',
    'relay_log=relay-bin',
    `binlog_expire_logs_seconds=${s.binlogExpirySeconds}`,
    ...(mysql
      ? [
        'gtid_mode=ON',
        'enforce_gtid_consistency=ON',
        'log_replica_updates=ON',
        '# replicas copy existing data from the primary with CLONE',
        'plugin-load-add=mysql_clone.so',
      ]
      : [
        // MySQL 8.4 logs rows only (binlog_format is deprecated there); MariaDB defaults to MIXED
        'binlog_format=ROW',
        'log_slave_updates=ON',
        'gtid_strict_mode=ON',
        '# a replica retries a lost primary this often (MASTER_CONNECT_RETRY apart) before giving up',
        `master_retry_count=${REPLICA_RETRY_COUNT}`,
      ]),
    ...(s.extraLines.length > 0 ? ['# extra lines (config prop)', ...s.extraLines] : []),
    '',
    `!includedir ${MYSQL_INSTANCE_DIR}`,
    '',
  ].join('\n');
}

/** Settings of `renderIdentityScript`. */
export interface IdentitySettings {
  readonly flavor: FlavorName;
}

/**
 * identity.sh (init container): derives the ordinal from the hostname and
 * writes server_id = 100 + ordinal and the role (ordinal 0 is the writable
 * primary, the others are read-only replicas).
 */
export function renderIdentityScript(s: IdentitySettings): string {
  const superReadOnly = s.flavor === 'mysql';
  return [
    '#!/bin/bash',
    '# Writes this member\'s server_id (100 + ordinal) and role.',
    'set -euo pipefail',
    'host="${HOSTNAME:-$(hostname)}"',
    'ordinal="${host##*-}"',
    'if ! [[ "$ordinal" =~ ^[0-9]+$ ]]; then',
    '  echo "cannot derive an ordinal from hostname $host" >&2',
    '  exit 1',
    'fi',
    `conf=${MYSQL_INSTANCE_DIR}/server-id.cnf`,
    '{',
    '  echo "[mysqld]"',
    '  echo "server_id=$((100 + ordinal))"',
    '  if ((ordinal == 0)); then',
    '    echo "read_only=OFF"',
    '  else',
    '    echo "read_only=ON"',
    ...(superReadOnly ? ['    echo "super_read_only=ON"'] : []),
    '  fi',
    '} >"$conf"',
    'echo "member $ordinal: $(tr \'\\n\' \' \' <"$conf")"',
    '',
  ].join('\n');
}

/** Settings of `renderStartScript`. */
export interface StartSettings {
  readonly flavor: FlavorName;
  readonly binaries: MySqlBinaries;
  /** FQDN of ordinal 0, which replicas replicate from. */
  readonly primaryHost: string;
  /** Databases created on the primary. */
  readonly databases: string[];
  /** Users created on the primary. */
  readonly users: MySqlUserSpec[];
  /** Create the exporter's user (PROCESS, REPLICATION CLIENT, SELECT; 3 connections at most). */
  readonly exporter?: boolean;
  /** Create the backup CronJob's user (what a consistent dump with the GTID position needs). */
  readonly backup?: boolean;
  /** Load the backup the restore init container fetched before the primary's users are created. */
  readonly restore?: boolean;
}

/**
 * The exporter's privileges, as mysqld_exporter's README asks for them, plus
 * SLAVE MONITOR on MariaDB, where SHOW [ALL] SLAVES STATUS needs it since 10.5.9.
 */
function exporterGrants(flavor: FlavorName): string {
  return flavor === 'mysql' ? 'PROCESS, REPLICATION CLIENT, SELECT' : 'PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT';
}

/**
 * The dump user's privileges: SELECT (tables, and routines for --routines),
 * SHOW VIEW, TRIGGER, LOCK TABLES, EVENT (--events), RELOAD (the brief FLUSH
 * TABLES WITH READ LOCK of --source-data / --master-data) and REPLICATION
 * CLIENT (the binary log position; MariaDB's BINLOG MONITOR).
 */
export const BACKUP_GRANTS = 'SELECT, SHOW VIEW, TRIGGER, LOCK TABLES, EVENT, RELOAD, REPLICATION CLIENT';

/** Lines of a bash function `cnf_quote` that quotes a value for an option file. */
export const CNF_QUOTE_FUNCTION = [
  '# Quote a value for an option file.',
  'cnf_quote() {',
  '  local v="${1//\\\\/\\\\\\\\}"',
  '  v="${v//\\"/\\\\\\"}"',
  '  printf \'"%s"\' "$v"',
  '}',
];

/** The checksum check of restores (shared by every file backup). */
export { VERIFY_CHECKSUM_FUNCTION };

/** The names of the backup CronJob's dumps, each with its `.sha256` beside it. */
export const DUMP_NAMES = { prefix: 'dump-', suffix: '.sql.gz', companions: ['.sha256'] };

/** A quoted SQL identifier inside an unquoted here-document (backticks escaped for bash). */
function sqlIdent(name: string): string {
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`invalid SQL identifier '${name}'`);
  return `\\\`${name}\\\``;
}

/**
 * start.sh: on an empty volume initializes the data directory once (primary:
 * root password, replication user, databases, users; replica: a copy of the
 * primary's data and replication with GTID auto-positioning), writes the
 * probes' client option file, then execs the server. Passwords are read from
 * the Secret files in MYSQL_SECRET_DIR and passed to the clients on stdin.
 */
export function renderStartScript(s: StartSettings): string {
  const mysql = s.flavor === 'mysql';
  const b = s.binaries;
  const primarySql: string[] = [
    "ALTER USER 'root'@'localhost' IDENTIFIED BY ${root_q};",
    `CREATE USER IF NOT EXISTS '${REPLICATION_USER}'@'%' IDENTIFIED BY \${repl_q};`,
    mysql
      ? `GRANT REPLICATION SLAVE, BACKUP_ADMIN ON *.* TO '${REPLICATION_USER}'@'%';`
      : `GRANT REPLICATION SLAVE, SLAVE MONITOR ON *.* TO '${REPLICATION_USER}'@'%';`,
    ...s.databases.map((d) => `CREATE DATABASE IF NOT EXISTS ${sqlIdent(d)};`),
    ...s.users.flatMap((u, i) => [
      `CREATE USER IF NOT EXISTS '${u.name}'@'%' IDENTIFIED BY \${user${i}_q};`,
      ...u.databases.map((d) => `GRANT ALL PRIVILEGES ON ${sqlIdent(d)}.* TO '${u.name}'@'%';`),
    ]),
    ...(s.exporter ? [
      `CREATE USER IF NOT EXISTS '${EXPORTER_USER}'@'127.0.0.1' IDENTIFIED BY \${exporter_q} WITH MAX_USER_CONNECTIONS 3;`,
      `GRANT ${exporterGrants(s.flavor)} ON *.* TO '${EXPORTER_USER}'@'127.0.0.1';`,
    ] : []),
    ...(s.backup ? [
      `CREATE USER IF NOT EXISTS '${BACKUP_USER}'@'%' IDENTIFIED BY \${backup_q} WITH MAX_USER_CONNECTIONS 2;`,
      `GRANT ${BACKUP_GRANTS} ON *.* TO '${BACKUP_USER}'@'%';`,
    ] : []),
  ];
  const userVars = [
    ...s.users.map((u, i) => `user${i}_q="$(sql_quote "$(secret ${u.passwordKey})")"`),
    ...(s.exporter ? [`exporter_q="$(sql_quote "$(secret ${EXPORTER_PASSWORD_KEY})")"`] : []),
    ...(s.backup ? [`backup_q="$(sql_quote "$(secret ${BACKUP_PASSWORD_KEY})")"`] : []),
  ];
  const replicationSql = mysql
    ? [
      'CHANGE REPLICATION SOURCE TO',
      "  SOURCE_HOST=${primary_q}, SOURCE_PORT=" + MYSQL_PORT + ',',
      `  SOURCE_USER='${REPLICATION_USER}', SOURCE_PASSWORD=\${repl_q},`,
      '  SOURCE_AUTO_POSITION=1, SOURCE_SSL=1, GET_SOURCE_PUBLIC_KEY=1,',
      `  SOURCE_CONNECT_RETRY=${REPLICA_CONNECT_RETRY_SECONDS}, SOURCE_RETRY_COUNT=${REPLICA_RETRY_COUNT};`,
      'START REPLICA;',
    ]
    : [
      "SET GLOBAL gtid_slave_pos='';",
      'CHANGE MASTER TO',
      "  MASTER_HOST=${primary_q}, MASTER_PORT=" + MYSQL_PORT + ',',
      `  MASTER_USER='${REPLICATION_USER}', MASTER_PASSWORD=\${repl_q},`,
      `  MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=${REPLICA_CONNECT_RETRY_SECONDS};`,
      'START REPLICA;',
    ];
  const skipReplicaStart = mysql ? '--skip-replica-start' : '--skip-slave-start';
  const tempServerFlags = mysql ? '--read-only=OFF --super-read-only=OFF' : '--read-only=OFF';

  return [
    '#!/bin/bash',
    `# Starts one ${mysql ? 'MySQL' : 'MariaDB'} member; initializes an empty data directory once.`,
    'set -euo pipefail',
    'host="${HOSTNAME:-$(hostname)}"',
    'ordinal="${host##*-}"',
    `datadir=${MYSQL_DATA_DIR}`,
    `run=${MYSQL_RUN_DIR}`,
    `defaults_file=${MYSQL_CONFIG_DIR}/my.cnf`,
    `primary=${s.primaryHost}`,
    `pending=${MYSQL_VOLUME_DIR}/.cdk8s-initializing`,
    `tmpdir=${MYSQL_TMP_DIR}`,
    `initializing=${MYSQL_INITIALIZING_MARKER}`,
    'boot_sock="$run/bootstrap.sock"',
    'boot_cnf="$run/bootstrap-client.cnf"',
    'umask 077',
    '',
    'secret() {',
    `  cat "${MYSQL_SECRET_DIR}/$1"`,
    '}',
    '# Quote a value as an SQL string literal.',
    'sql_quote() {',
    '  local v="${1//\\\\/\\\\\\\\}"',
    '  v="${v//\\\'/\\\\\\\'}"',
    '  printf "\'%s\'" "$v"',
    '}',
    ...CNF_QUOTE_FUNCTION,
    '# Write a client option file for root over `socket`, with `password` if given.',
    'client_cnf() {',
    '  local file=$1 socket=$2 password=${3:-}',
    '  {',
    '    echo "[client]"',
    '    echo "user=root"',
    '    echo "socket=$socket"',
    '    if [[ -n "$password" ]]; then echo "password=$(cnf_quote "$password")"; fi',
    '  } >"$file"',
    '}',
    'boot_sql() {',
    `  ${b.client} --defaults-extra-file="$boot_cnf" --protocol=socket`,
    '}',
    'start_temp_server() {',
    `  ${b.server} --defaults-file="$defaults_file" --skip-networking --socket="$boot_sock" --pid-file="$run/bootstrap.pid" ${skipReplicaStart} ${tempServerFlags} &`,
    '  temp_pid=$!',
    '  local i',
    '  for ((i = 0; i < 120; i++)); do',
    `    if ${b.admin} --defaults-extra-file="$boot_cnf" --protocol=socket ping >/dev/null 2>&1; then return 0; fi`,
    '    if ! kill -0 "$temp_pid" 2>/dev/null; then echo "temporary server exited" >&2; return 1; fi',
    '    sleep 1',
    '  done',
    '  echo "temporary server did not start" >&2',
    '  return 1',
    '}',
    'stop_temp_server() {',
    `  ${b.admin} --defaults-extra-file="$boot_cnf" --protocol=socket shutdown`,
    '  wait "$temp_pid"',
    '}',
    '',
    'root_q="$(sql_quote "$(secret ' + ROOT_PASSWORD_KEY + ')")"',
    'repl_q="$(sql_quote "$(secret ' + REPLICATION_PASSWORD_KEY + ')")"',
    'primary_q="$(sql_quote "$primary")"',
    ...userVars,
    '',
    'initialize_primary() {',
    '  echo "initializing the primary"',
    '  boot_sql <<SQL',
    ...(mysql ? [] : ["DROP USER IF EXISTS ''@'localhost', ''@'${host}', 'root'@'${host}';"]),
    ...primarySql,
    'SQL',
    '}',
    '',
    ...(mysql
      ? [
        'copy_primary() {',
        '  echo "copying the data of $primary with CLONE"',
        '  # after a clone the server stops (no supervisor restarts it): that is expected',
        '  boot_sql <<SQL || echo "CLONE returned an error (a restart request is expected)"',
        `SET GLOBAL clone_valid_donor_list='\${primary}:${MYSQL_PORT}';`,
        `CLONE INSTANCE FROM '${REPLICATION_USER}'@\${primary_q}:${MYSQL_PORT} IDENTIFIED BY \${repl_q};`,
        'SQL',
        '  local i',
        '  for ((i = 0; i < 60; i++)); do',
        '    if ! kill -0 "$temp_pid" 2>/dev/null; then break; fi',
        '    sleep 1',
        '  done',
        '  if kill -0 "$temp_pid" 2>/dev/null; then',
        '    echo "CLONE from $primary failed" >&2',
        '    stop_temp_server',
        '    return 1',
        '  fi',
        '  wait "$temp_pid" || true',
        '  # the clone carries the primary\'s root password',
        '  client_cnf "$boot_cnf" "$boot_sock" "$(secret ' + ROOT_PASSWORD_KEY + ')"',
        '  start_temp_server',
        '}',
      ]
      : [
        'copy_primary() {',
        '  # GTID catch-up: the replica replays the primary\'s binary log from its',
        '  # first transaction (binlog_expire_logs_seconds must keep it).',
        '  echo "replica starts empty and catches up from the binary log of $primary"',
        '  boot_sql <<SQL',
        'SET SESSION sql_log_bin=0;',
        "DROP USER IF EXISTS ''@'localhost', ''@'${host}', 'root'@'${host}';",
        "ALTER USER 'root'@'localhost' IDENTIFIED BY ${root_q};",
        'SQL',
        '  client_cnf "$boot_cnf" "$boot_sock" "$(secret ' + ROOT_PASSWORD_KEY + ')"',
        '}',
      ]),
    '',
    ...(s.restore ? [
      ...VERIFY_CHECKSUM_FUNCTION,
      '# The backup the restore init container fetched, refused unless its sha256 matches.',
      'restore_dump=',
      'find_backup() {',
      `  restore_dump="$(find ${MYSQL_RESTORE_DIR} -maxdepth 1 -name '${DUMP_NAMES.prefix}*${DUMP_NAMES.suffix}' 2>/dev/null | head -n 1)"`,
      '  if [[ -z "$restore_dump" ]]; then',
      `    echo "nothing to restore in ${MYSQL_RESTORE_DIR}: the restore init container did not fetch a backup" >&2`,
      '    return 1',
      '  fi',
      '  verify_checksum "$restore_dump"',
      '}',
      'load_backup() {',
      '  echo "loading $(basename "$restore_dump")"',
      '  gunzip -c "$restore_dump" | boot_sql',
      '  echo "restored $(basename "$restore_dump")"',
      '}',
      '',
    ] : []),
    'configure_replication() {',
    '  echo "replicating from $primary with GTID auto-positioning"',
    '  boot_sql <<SQL',
    ...replicationSql,
    'SQL',
    '}',
    '',
    'initialize() {',
    ...(s.restore ? ['  # a corrupt backup is refused before anything is initialized', '  if ((ordinal == 0)); then find_backup; fi'] : []),
    '  # the probes keep the container alive (not ready) while this runs: copying the primary may take hours',
    '  echo "$$" >"$initializing"',
    '  touch "$pending"',
    '  mkdir -p "$datadir"',
    '  client_cnf "$boot_cnf" "$boot_sock"',
    ...(mysql
      // the role's super_read_only (from the init container's file) is off while the data directory is created
      ? ['  ' + b.server + ' --defaults-file="$defaults_file" --initialize-insecure ' + tempServerFlags]
      : ['  mariadb-install-db --defaults-file="$defaults_file" --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve >/dev/null']),
    '  start_temp_server',
    '  if ((ordinal == 0)); then',
    ...(s.restore ? ['    load_backup'] : []),
    '    initialize_primary',
    '  else',
    '    copy_primary',
    '    configure_replication',
    '  fi',
    '  client_cnf "$boot_cnf" "$boot_sock" "$(secret ' + ROOT_PASSWORD_KEY + ')"',
    '  stop_temp_server',
    '  rm -f "$pending" "$boot_cnf"',
    ...(s.restore ? [`  rm -rf ${MYSQL_RESTORE_DIR}`] : []),
    '}',
    '',
    '# a marker left by an earlier run of this container is stale',
    'rm -f "$initializing"',
    'mkdir -p "$tmpdir"',
    'if [[ -e "$pending" ]]; then',
    '  echo "an earlier initialization did not finish; starting it over" >&2',
    '  rm -rf "$datadir"',
    'fi',
    'if [[ ! -d "$datadir/mysql" ]]; then',
    '  initialize',
    'fi',
    '',
    '# the probes log in as root through this file',
    `client_cnf ${MYSQL_PROBE_CLIENT_CNF} "$run/mysqld.sock" "$(secret ${ROOT_PASSWORD_KEY})"`,
    'rm -f "$initializing"',
    `exec ${b.server} --defaults-file="$defaults_file"`,
    '',
  ].join('\n');
}

/** Settings of `renderProbeScript`. */
export interface ProbeSettings {
  readonly flavor: FlavorName;
  readonly binaries: MySqlBinaries;
  /** A replica lagging more than this (Seconds_Behind_Source) is not ready. */
  readonly maxLagSeconds: number;
}

/**
 * probe.sh `live` (startup and liveness) or `ready` (readiness).
 *
 * - live: while start.sh initializes (the marker names its running PID) the
 *   member is alive, however long a CLONE takes; afterwards the server must
 *   answer a ping.
 * - ready: never while initializing. The primary (ordinal 0) must answer and
 *   be writable (`read_only` off); a replica must have both replication
 *   threads running and lag at most maxLagSeconds, from `SHOW REPLICA STATUS`
 *   (MySQL 8.4 and MariaDB 10.5.1+; the columns are named differently).
 */
export function renderProbeScript(s: ProbeSettings): string {
  const mysql = s.flavor === 'mysql';
  const [io, sql, lag] = mysql
    ? ['Replica_IO_Running', 'Replica_SQL_Running', 'Seconds_Behind_Source']
    : ['Slave_IO_Running', 'Slave_SQL_Running', 'Seconds_Behind_Master'];
  const b = s.binaries;
  return [
    '#!/bin/bash',
    '# Probes of one member: `probe.sh live` (startup, liveness) or `probe.sh ready` (readiness).',
    'set -euo pipefail',
    'host="${HOSTNAME:-$(hostname)}"',
    'ordinal="${host##*-}"',
    `initializing=${MYSQL_INITIALIZING_MARKER}`,
    `client=(--defaults-extra-file=${MYSQL_PROBE_CLIENT_CNF})`,
    `max_lag=${s.maxLagSeconds}`,
    '',
    '# start.sh is initializing the data directory (the marker holds its PID)',
    'initializing() {',
    '  local pid',
    '  pid="$(cat "$initializing" 2>/dev/null)" || return 1',
    '  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null',
    '}',
    '# The value of column $1 in the vertical output $2.',
    'column() {',
    '  sed -n "s/^ *$1: //p" <<<"$2" | head -n 1',
    '}',
    '',
    'live() {',
    '  if initializing; then return 0; fi',
    `  ${b.admin} "\${client[@]}" ping >/dev/null`,
    '}',
    '',
    'ready() {',
    '  if initializing; then',
    '    echo "initializing" >&2',
    '    return 1',
    '  fi',
    '  if ((ordinal == 0)); then',
    '    local read_only',
    `    read_only="$(${b.client} "\${client[@]}" -N -B -e 'SELECT @@global.read_only')"`,
    '    if [[ "$read_only" != 0 ]]; then',
    '      echo "primary is read-only" >&2',
    '      return 1',
    '    fi',
    '    return 0',
    '  fi',
    '  local status io sql lag',
    `  status="$(${b.client} "\${client[@]}" -E -e 'SHOW REPLICA STATUS')"`,
    `  io="$(column ${io} "$status")"`,
    `  sql="$(column ${sql} "$status")"`,
    `  lag="$(column ${lag} "$status")"`,
    '  if [[ "$io" != Yes || "$sql" != Yes ]]; then',
    '    echo "replication is not running: IO thread ${io:-none}, SQL thread ${sql:-none}" >&2',
    '    return 1',
    '  fi',
    '  if ! [[ "$lag" =~ ^[0-9]+$ ]] || ((lag > max_lag)); then',
    '    echo "replica lags ${lag:-unknown} s behind the primary (at most ${max_lag} s for ready)" >&2',
    '    return 1',
    '  fi',
    '}',
    '',
    'case "${1:-}" in',
    '  live) live ;;',
    '  ready) ready ;;',
    '  *)',
    '    echo "usage: probe.sh live|ready" >&2',
    '    exit 2',
    '    ;;',
    'esac',
    '',
  ].join('\n');
}

/**
 * The files every member runs with, at their paths in the config mount:
 * my.cnf, the init container's identity.sh, the server's start.sh and the
 * probes' probe.sh.
 */
export function renderMemberFiles(myCnf: MyCnfSettings, start: StartSettings, probe: ProbeSettings): ConfigFile[] {
  return [
    { path: `${MYSQL_CONFIG_DIR}/my.cnf`, content: renderMyCnf(myCnf) },
    { path: `${MYSQL_CONFIG_DIR}/identity.sh`, content: renderIdentityScript({ flavor: start.flavor }), executable: true },
    { path: `${MYSQL_CONFIG_DIR}/start.sh`, content: renderStartScript(start), executable: true },
    { path: `${MYSQL_CONFIG_DIR}/probe.sh`, content: renderProbeScript(probe), executable: true },
  ];
}
