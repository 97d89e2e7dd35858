// Pure renderers of the files a PostgreSQL member runs with. Each returns the
// exact text of one file; the real-process tests run these unchanged.
// Internal: tests import them from this module.
import { ConfigFile } from '../core/pod-spec';

/** Port of the PostgreSQL protocol. */
export const POSTGRES_PORT = 5432;
/** Port of postgres_exporter's metrics. */
export const EXPORTER_PORT = 9187;
/** Mount path of the data claim. */
export const PG_VOLUME_DIR = '/var/lib/postgresql/data';
/** PGDATA: a subdirectory of the claim, so `lost+found` and markers stay out of it. */
export const PG_DATA_DIR = `${PG_VOLUME_DIR}/pgdata`;
/** Runtime directory (an emptyDir): the Unix socket, the pid lock, the password file. */
export const PG_RUN_DIR = '/var/run/postgresql';
/** The libpq password file start.sh writes from the Secret, for the probes and the local clients. */
export const PG_PASSFILE = `${PG_RUN_DIR}/pgpass`;
/** Directory of the rendered config files and scripts (the ConfigMap mount). */
export const PG_CONFIG_DIR = '/opt/cdk8s/postgres';
/** Directory the credentials Secret is mounted at, one file per key. */
export const PG_SECRET_DIR = '/var/run/secrets/postgres';
/** The superuser. */
export const SUPERUSER = 'postgres';
/** The replication user (REPLICATION LOGIN, nothing else). */
export const REPLICATION_USER = 'replicator';
/** The metrics user of postgres_exporter (pg_monitor). */
export const MONITOR_USER = 'monitor';
/** Secret key of the superuser's password. */
export const SUPERUSER_PASSWORD_KEY = 'postgres-password';
/** Secret key of the replication user's password. */
export const REPLICATION_PASSWORD_KEY = 'replication-password';
/** Secret key of the metrics user's password. */
export const MONITOR_PASSWORD_KEY = 'monitor-password';
/** Secret key of the seed of pgBackRest's CA (see backup-config.ts). */
export const CA_SEED_KEY_REF = 'pgbackrest-ca-seed';
/** Physical replication slots are named `<prefix><ordinal>`. */
export const SLOT_PREFIX = 'standby_';

/** An application user created on the primary. */
export interface PgUserSpec {
  readonly name: string;
  /** Secret key of its password. */
  readonly passwordKey: string;
}

/** A database created on the primary. */
export interface PgDatabaseSpec {
  readonly name: string;
  /** Its owner (an application user, or the superuser). */
  readonly owner: string;
}

/** Settings of `renderPostgresqlConf`. */
export interface PostgresqlConfSettings {
  readonly maxConnections: number;
  readonly sharedBuffersMebibytes: number;
  readonly effectiveCacheSizeMebibytes: number;
  readonly workMemKibibytes: number;
  readonly maintenanceWorkMemMebibytes: number;
  readonly maxWalSenders: number;
  readonly maxReplicationSlots: number;
  readonly maxSlotWalKeepSizeMebibytes: number;
  /** `synchronous_standby_names`, or undefined for asynchronous replication. */
  readonly synchronousStandbyNames?: string;
  /** `archive_command` (WAL archiving on), or undefined for no archiving. */
  readonly archiveCommand?: string;
  /** Free-form settings (name -> value, rendered as `name = 'value'`). */
  readonly extra: { [name: string]: string };
}

/** A value as a postgresql.conf string literal. */
export function confQuote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * postgresql.conf shared by every member. The role comes from the data
 * directory (standby.signal) and the standby's connection settings from the
 * command line start.sh builds, so one file serves primary and standbys.
 */
export function renderPostgresqlConf(s: PostgresqlConfSettings): string {
  return [
    '# Rendered by cdk8s-stateful. The role (standby.signal) and primary_conninfo /',
    '# primary_slot_name come from start.sh; this file is the same on every member.',
    "listen_addresses = '*'",
    `port = ${POSTGRES_PORT}`,
    `unix_socket_directories = '${PG_RUN_DIR}'`,
    `hba_file = '${PG_CONFIG_DIR}/pg_hba.conf'`,
    "password_encryption = 'scram-sha-256'",
    `max_connections = ${s.maxConnections}`,
    `shared_buffers = ${s.sharedBuffersMebibytes}MB`,
    `effective_cache_size = ${s.effectiveCacheSizeMebibytes}MB`,
    `work_mem = ${s.workMemKibibytes}kB`,
    `maintenance_work_mem = ${s.maintenanceWorkMemMebibytes}MB`,
    '# replication',
    "wal_level = 'replica'",
    'wal_log_hints = on',
    `max_wal_senders = ${s.maxWalSenders}`,
    `max_replication_slots = ${s.maxReplicationSlots}`,
    '# a dead standby\'s slot may hold at most this much WAL; beyond it the slot is',
    '# invalidated and the standby must bootstrap again (the disk does not fill up)',
    `max_slot_wal_keep_size = ${s.maxSlotWalKeepSizeMebibytes}MB`,
    'hot_standby = on',
    'hot_standby_feedback = on',
    "wal_receiver_timeout = '30s'",
    "wal_sender_timeout = '30s'",
    ...(s.synchronousStandbyNames
      ? ['# quorum commit: a commit waits for this many standbys', `synchronous_standby_names = ${confQuote(s.synchronousStandbyNames)}`, "synchronous_commit = 'on'"]
      : ['synchronous_standby_names = \'\'']),
    ...(s.archiveCommand
      ? ['# WAL archiving to the backup repository (only the primary archives)', 'archive_mode = on', `archive_command = ${confQuote(s.archiveCommand)}`, "archive_timeout = '60s'"]
      : []),
    '# logs go to stderr, which Kubernetes collects',
    "log_destination = 'stderr'",
    'logging_collector = off',
    "log_line_prefix = '%m [%p] %q%u@%d '",
    'log_connections = off',
    'log_replication_commands = on',
    ...(Object.keys(s.extra).length > 0
      ? ['# parameters (free-form)', ...Object.entries(s.extra).map(([k, v]) => `${k} = ${confQuote(v)}`)]
      : []),
    '',
  ].join('\n');
}

/**
 * pg_hba.conf: SCRAM everywhere; the superuser only over the pod's own
 * socket; replication only for the replication user. The NetworkPolicy
 * decides which pods reach the port at all.
 */
export function renderPgHba(): string {
  return [
    '# Rendered by cdk8s-stateful. TYPE DATABASE USER ADDRESS METHOD',
    '# inside the pod (probes, sidecars, start.sh): the socket in the pod\'s own emptyDir',
    'local all all scram-sha-256',
    '# the superuser never logs in over the network',
    `host all ${SUPERUSER} 0.0.0.0/0 reject`,
    `host all ${SUPERUSER} ::/0 reject`,
    `host replication ${REPLICATION_USER} 0.0.0.0/0 scram-sha-256`,
    `host replication ${REPLICATION_USER} ::/0 scram-sha-256`,
    '# applications (and the loopback exporter), SCRAM only',
    `host all all 0.0.0.0/0 scram-sha-256`,
    `host all all ::/0 scram-sha-256`,
    '',
  ].join('\n');
}

/** Settings of `renderStartScript`. */
export interface StartSettings {
  /** FQDN of ordinal 0, the primary. */
  readonly primaryHost: string;
  readonly users: PgUserSpec[];
  readonly databases: PgDatabaseSpec[];
  /** Create the metrics user (pg_monitor). */
  readonly monitorUser: boolean;
  /**
   * Make this pod's pgBackRest certificate before the server starts, for
   * pods in `<host>.<tlsDomain>` (backups or a restore are configured).
   */
  readonly tlsDomain?: string;
  /** Pod 0 restores an empty volume from a repository instead of running initdb. */
  readonly restore?: RestoreStart;
}

/** How pod 0 of a restored set fills its empty volume. */
export interface RestoreStart {
  /** pgBackRest configuration that names the source's repository host. */
  readonly config: string;
  /** Recovery target time (`YYYY-MM-DD HH:MM:SS.mmm+00`), or undefined for the end of the archived WAL. */
  readonly targetTime?: string;
}

/** sed -E program that removes the connection and recovery settings from postgresql.auto.conf. */
export const AUTO_CONF_STRIP = '/^(primary_conninfo|restore_command|recovery_target[a-z_]*)[[:space:]]*=/d';

/** A double-quoted SQL identifier (names are checked in settings.ts). */
function sqlIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`invalid SQL identifier '${name}'`);
  return `"${name}"`;
}

/**
 * start.sh: writes the password file, then on an empty volume either
 * initializes the primary (ordinal 0: initdb with SCRAM, the replication
 * user, users, databases) or bootstraps a standby with
 * `pg_basebackup -R -X stream` over its own physical slot, authenticating
 * with the Secret's password (never a prompt). Then execs postgres; a
 * standby gets its primary_conninfo (a passfile, no password) and slot on
 * the command line.
 */
export function renderStartScript(s: StartSettings): string {
  const secret = (key: string) => `${PG_SECRET_DIR}/${key}`;
  const sql: string[] = [
    `\\set repl_pw \`cat ${secret(REPLICATION_PASSWORD_KEY)}\``,
    `CREATE ROLE ${REPLICATION_USER} WITH REPLICATION LOGIN PASSWORD :'repl_pw';`,
    ...(s.monitorUser ? [
      `\\set monitor_pw \`cat ${secret(MONITOR_PASSWORD_KEY)}\``,
      `CREATE ROLE ${MONITOR_USER} WITH LOGIN PASSWORD :'monitor_pw' CONNECTION LIMIT 3;`,
      `GRANT pg_monitor TO ${MONITOR_USER};`,
    ] : []),
    ...s.users.flatMap((u, i) => [
      `\\set user${i}_pw \`cat ${secret(u.passwordKey)}\``,
      `CREATE ROLE ${sqlIdent(u.name)} WITH LOGIN PASSWORD :'user${i}_pw';`,
    ]),
    ...s.databases.map((d) => `CREATE DATABASE ${sqlIdent(d.name)} OWNER ${sqlIdent(d.owner)};`),
  ];
  return [
    '#!/bin/bash',
    '# Starts one PostgreSQL member: ordinal 0 is the primary, the others hot standbys.',
    'set -euo pipefail',
    'host="${HOSTNAME:-$(hostname)}"',
    'ordinal="${host##*-}"',
    'if ! [[ "$ordinal" =~ ^[0-9]+$ ]]; then',
    '  echo "cannot derive an ordinal from hostname $host" >&2',
    '  exit 1',
    'fi',
    `pgdata=${PG_DATA_DIR}`,
    `conf=${PG_CONFIG_DIR}/postgresql.conf`,
    `init_socket=${PG_RUN_DIR}/init`,
    `primary=${s.primaryHost}`,
    `slot="${SLOT_PREFIX}\${ordinal}"`,
    `pending=${PG_VOLUME_DIR}/.cdk8s-initializing`,
    'umask 077',
    '',
    '# libpq password file: local superuser (probes, sidecars) and the replication user',
    '# towards the primary; passwords never appear on a command line',
    'pgpass_escape() {',
    '  local v="${1//\\\\/\\\\\\\\}"',
    '  printf \'%s\' "${v//:/\\\\:}"',
    '}',
    `tmp_pass="$(mktemp ${PG_RUN_DIR}/pgpass.XXXXXX)"`,
    '{',
    `  printf '*:*:*:${SUPERUSER}:%s\\n' "$(pgpass_escape "$(cat ${secret(SUPERUSER_PASSWORD_KEY)})")"`,
    `  printf '*:*:*:${REPLICATION_USER}:%s\\n' "$(pgpass_escape "$(cat ${secret(REPLICATION_PASSWORD_KEY)})")"`,
    `} >"$tmp_pass"`,
    `mv -f "$tmp_pass" ${PG_PASSFILE}`,
    `export PGPASSFILE=${PG_PASSFILE}`,
    '',
    'wait_local() {',
    '  local i',
    '  for ((i = 0; i < 120; i++)); do',
    `    if pg_isready -q -h "$init_socket" -p ${POSTGRES_PORT}; then return 0; fi`,
    '    sleep 1',
    '  done',
    '  echo "the temporary server did not start" >&2',
    '  return 1',
    '}',
    '',
    'initialize_primary() {',
    '  echo "initializing the primary"',
    `  initdb -D "$pgdata" --username=${SUPERUSER} --pwfile=${secret(SUPERUSER_PASSWORD_KEY)} --auth=scram-sha-256 --encoding=UTF8 --locale=C --data-checksums >/dev/null`,
    '  mkdir -p "$init_socket"',
    '  # a temporary server creates the roles and databases, on a socket of its own: the',
    '  # probes (which use the usual socket) must not take it for the real server',
    `  postgres -D "$pgdata" -c config_file="$conf" -c listen_addresses='' -c unix_socket_directories="$init_socket" -c synchronous_standby_names='' -c archive_mode=off &`,
    '  local temp_pid=$!',
    '  wait_local',
    `  psql -v ON_ERROR_STOP=1 -q -h "$init_socket" -U ${SUPERUSER} -d postgres <<'SQL'`,
    ...sql,
    'SQL',
    '  pg_ctl -D "$pgdata" -m fast -w stop >/dev/null',
    '  wait "$temp_pid" || true',
    '}',
    '',
    ...(s.restore ? [
      'restore_primary() {',
      `  echo "restoring the primary from the repository to ${s.restore.targetTime ? `the target time ${s.restore.targetTime}` : 'the end of the archived WAL'}"`,
      '  mkdir -m 700 "$pgdata"',
      `  pgbackrest --config=${s.restore.config} --stanza=main --log-level-console=info \\`,
      s.restore.targetTime
        ? `    --type=time "--target=${s.restore.targetTime}" --target-action=promote restore`
        : '    --type=default restore',
      '}',
      '',
    ] : []),
    'bootstrap_standby() {',
    '  echo "bootstrapping standby $ordinal from $primary over slot $slot"',
    '  local i',
    '  for ((i = 0; i < 120; i++)); do',
    `    if pg_isready -q -h "$primary" -p ${POSTGRES_PORT}; then break; fi`,
    '    sleep 2',
    '  done',
    '  # a slot left by an earlier incarnation of this ordinal holds stale WAL: replace it',
    `  psql -h "$primary" -p ${POSTGRES_PORT} -U ${REPLICATION_USER} -w "dbname=replication replication=true" \\`,
    '    -c "DROP_REPLICATION_SLOT $slot" >/dev/null 2>&1 || true',
    `  pg_basebackup -D "$pgdata" -h "$primary" -p ${POSTGRES_PORT} -U ${REPLICATION_USER} -w \\`,
    '    -R -X stream -C -S "$slot" --checkpoint=fast --progress --verbose',
    '  # -R wrote the connection it used, password included: start.sh passes its own.',
    '  # A primary restored from a backup carries its recovery target, which would',
    '  # make this standby stop replaying (and promote) at that point: drop it too.',
    `  sed -i -E '${AUTO_CONF_STRIP}' "$pgdata/postgresql.auto.conf"`,
    '}',
    '',
    ...(s.tlsDomain ? [
      '# this pod\'s certificate for pgBackRest (archive-push, the repository host\'s backups)',
      `bash ${PG_CONFIG_DIR}/tls.sh ${secret(CA_SEED_KEY_REF)} ${PG_RUN_DIR}/tls "$host.${s.tlsDomain}"`,
      '',
    ] : []),
    'if [[ -e "$pending" ]]; then',
    '  echo "an earlier initialization did not finish; starting it over" >&2',
    '  rm -rf "$pgdata"',
    'fi',
    'if [[ ! -s "$pgdata/PG_VERSION" ]]; then',
    '  touch "$pending"',
    '  rm -rf "$pgdata"',
    `  if ((ordinal == 0)); then ${s.restore ? 'restore_primary' : 'initialize_primary'}; else bootstrap_standby; fi`,
    '  rm -f "$pending"',
    'fi',
    '',
    'if ((ordinal == 0)); then',
    '  if [[ -e "$pgdata/standby.signal" ]]; then',
    '    echo "ordinal 0 has standby.signal: it stays a standby until you promote it (see the README)" >&2',
    '  elif [[ ! -e "$pgdata/recovery.signal" ]]; then',
    '    # a finished restore leaves its recovery settings behind; standbys must not inherit them',
    `    sed -i -E '${AUTO_CONF_STRIP}' "$pgdata/postgresql.auto.conf"`,
    '  fi',
    '  exec postgres -D "$pgdata" -c config_file="$conf"',
    'fi',
    '# a standby is always a standby: only an operator promotes one',
    'touch "$pgdata/standby.signal"',
    `conninfo="host=$primary port=${POSTGRES_PORT} user=${REPLICATION_USER} passfile=${PG_PASSFILE} application_name=$host connect_timeout=10 keepalives_idle=30"`,
    'exec postgres -D "$pgdata" -c config_file="$conf" -c primary_conninfo="$conninfo" -c primary_slot_name="$slot"',
    '',
  ].join('\n');
}

/**
 * probe.sh: `live` asks whether the server accepts connections (cheap);
 * `ready` checks the role: ordinal 0 is a primary not in recovery, a standby
 * is in recovery with its WAL receiver streaming. A standby that lost its
 * primary is therefore not Ready and leaves the read Service.
 */
export function renderProbeScript(): string {
  return [
    '#!/bin/bash',
    '# Probes: live | ready.',
    'set -euo pipefail',
    'host="${HOSTNAME:-$(hostname)}"',
    'ordinal="${host##*-}"',
    `export PGPASSFILE=${PG_PASSFILE}`,
    'query() {',
    `  psql -X -A -t -q -w -h ${PG_RUN_DIR} -p ${POSTGRES_PORT} -U ${SUPERUSER} -d postgres -c "$1"`,
    '}',
    'case "${1:-}" in',
    '  live)',
    `    exec pg_isready -q -h ${PG_RUN_DIR} -p ${POSTGRES_PORT}`,
    '    ;;',
    '  ready)',
    '    if ((ordinal == 0)); then',
    '      [[ "$(query "SELECT NOT pg_is_in_recovery()")" == t ]]',
    '    else',
    '      [[ "$(query "SELECT pg_is_in_recovery() AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = \'streaming\')")" == t ]]',
    '    fi',
    '    ;;',
    '  *)',
    '    echo "usage: probe.sh live|ready" >&2',
    '    exit 2',
    '    ;;',
    'esac',
    '',
  ].join('\n');
}

/** Settings of `renderSlotsScript`. */
export interface SlotsSettings {
  /** Members in the manifest: slots of ordinals >= replicas are dropped. */
  readonly replicas: number;
  /** Seconds between passes. */
  readonly intervalSeconds: number;
}

/**
 * slots.sh (a sidecar): on the member that is not in recovery, drops the
 * inactive slots of ordinals that no longer exist after a scale-down, so
 * they stop retaining WAL. Standbys create their own slot when they bootstrap.
 */
export function renderSlotsScript(s: SlotsSettings): string {
  return [
    '#!/bin/bash',
    '# Drops the replication slots of ordinals that a scale-down removed.',
    'set -uo pipefail',
    `replicas=${s.replicas}`,
    `export PGPASSFILE=${PG_PASSFILE}`,
    'query() {',
    `  psql -X -A -t -q -w -h ${PG_RUN_DIR} -p ${POSTGRES_PORT} -U ${SUPERUSER} -d postgres -v ON_ERROR_STOP=1 -c "$1"`,
    '}',
    'reconcile() {',
    '  local stale slot',
    `  pg_isready -q -h ${PG_RUN_DIR} -p ${POSTGRES_PORT} || return 0`,
    '  [[ "$(query "SELECT pg_is_in_recovery()")" == f ]] || return 0',
    `  stale="$(query "SELECT slot_name FROM pg_replication_slots WHERE slot_type = 'physical' AND NOT active AND slot_name ~ '^${SLOT_PREFIX}[0-9]+$' AND substr(slot_name, ${SLOT_PREFIX.length + 1})::int >= $replicas")" || return 0`,
    '  for slot in $stale; do',
    '    if query "SELECT pg_drop_replication_slot(\'$slot\')" >/dev/null; then',
    '      echo "dropped slot $slot: ordinal ${slot#' + SLOT_PREFIX + '} is beyond replicas=$replicas"',
    '    fi',
    '  done',
    '}',
    'trap \'exit 0\' TERM INT',
    'while true; do',
    '  reconcile || true',
    `  sleep ${s.intervalSeconds} &`,
    '  wait $!',
    'done',
    '',
  ].join('\n');
}

/** The files every member runs with, at their paths in the config mount. */
export function renderMemberFiles(conf: PostgresqlConfSettings, start: StartSettings, slots: SlotsSettings, extra: ConfigFile[] = []): ConfigFile[] {
  return [
    ...extra,
    { path: `${PG_CONFIG_DIR}/postgresql.conf`, content: renderPostgresqlConf(conf) },
    { path: `${PG_CONFIG_DIR}/pg_hba.conf`, content: renderPgHba() },
    { path: `${PG_CONFIG_DIR}/start.sh`, content: renderStartScript(start), executable: true },
    { path: `${PG_CONFIG_DIR}/probe.sh`, content: renderProbeScript(), executable: true },
    { path: `${PG_CONFIG_DIR}/slots.sh`, content: renderSlotsScript(slots), executable: true },
  ];
}
