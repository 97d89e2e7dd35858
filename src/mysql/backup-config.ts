// Pure renderers of the scripts behind monitoring, backups and restores of a
// MySQL / MariaDB replica set: the exporter's option file, the dump CronJob,
// the restore init container (claim targets) and the restore-verify Job.
// Each returns the exact text of one script; tests run them.
import { checksumAndRename, keepNewest } from '../core/backup-scripts';
import {
  BACKUP_USER, CNF_QUOTE_FUNCTION, DUMP_NAMES, EXPORTER_PASSWORD_KEY, EXPORTER_USER, FlavorName, MYSQL_DATA_DIR, MYSQL_EXPORTER_DIR,
  MYSQL_EXPORTER_SECRET_DIR, MYSQL_PORT, MYSQL_RESTORE_DIR, MYSQL_VOLUME_DIR, MySqlBinaries, VERIFY_CHECKSUM_FUNCTION,
} from './config';

/** The schemas every dump leaves out: accounts and server state belong to the set that loads it. */
export const SYSTEM_SCHEMAS = ['mysql', 'information_schema', 'performance_schema', 'sys'];
const NOT_SYSTEM = `schema_name NOT IN (${SYSTEM_SCHEMAS.map((x) => `'${x}'`).join(', ')})`;

/** The exporter's client option file, in the in-memory volume its sidecar mounts. */
export const EXPORTER_MY_CNF = `${MYSQL_EXPORTER_DIR}/my.cnf`;

/**
 * exporter-cnf.sh (init container, with `monitoring`): writes the option file
 * mysqld_exporter reads (`--config.my-cnf`): the exporter user, its password
 * from the Secret, and the server over loopback TCP. The exporter's ini
 * parser takes a double-quoted value verbatim, so only '"' and newlines are
 * refused.
 */
export function renderExporterCnfScript(): string {
  return [
    '#!/bin/bash',
    '# Writes the client option file of mysqld_exporter from the credentials Secret.',
    'set -euo pipefail',
    `password="$(cat ${MYSQL_EXPORTER_SECRET_DIR}/${EXPORTER_PASSWORD_KEY})"`,
    'if [[ "$password" == *\'"\'* || "$password" == *$\'\\n\'* ]]; then',
    `  echo "${EXPORTER_PASSWORD_KEY} must not contain '\\"' or a newline: mysqld_exporter reads it from an option file" >&2`,
    '  exit 1',
    'fi',
    'umask 077',
    `printf '[client]\\nuser=${EXPORTER_USER}\\npassword="%s"\\nhost=127.0.0.1\\nport=${MYSQL_PORT}\\n' "$password" >${EXPORTER_MY_CNF}`,
    `echo "wrote ${EXPORTER_MY_CNF} for user ${EXPORTER_USER}"`,
    '',
  ].join('\n');
}

/** The flavor's options of a consistent dump that records the GTID position. */
export function dumpOptions(flavor: FlavorName): string[] {
  return [
    '--single-transaction', '--routines', '--events', '--triggers', '--hex-blob',
    ...(flavor === 'mysql'
      // MySQL 8.4: --source-data (formerly --master-data) as a comment; GTID_PURGED from gtid_executed
      ? ['--source-data=2', '--set-gtid-purged=ON', '--no-tablespaces']
      // MariaDB: --gtid turns --master-data's position into gtid_slave_pos (commented out with =2)
      : ['--master-data=2', '--gtid']),
  ];
}

/** Settings of `renderBackupScript`. */
export interface BackupScriptSettings {
  readonly flavor: FlavorName;
  readonly binaries: MySqlBinaries;
  /** Members to dump from, in order of preference: the replicas, or the primary when there is none. */
  readonly hosts: string[];
  /** Where the dump is written. */
  readonly dir: string;
  /**
   * Dumps kept in `dir` (the newest); none are removed when undefined (an
   * uploader keeps the bucket's).
   */
  readonly keep?: number;
  /** Scratch directory for the option file that carries the password. */
  readonly tmpDir: string;
}

/**
 * The backup CronJob's dump: every application database (all but the system
 * schemas) of the first member of `hosts` that answers, in one consistent
 * transaction with routines, events and triggers and the GTID position,
 * gzipped under a hidden temporary name; its sha256 is written beside it as
 * `<name>.sha256`, then the dump is renamed to `dump-<UTC time>.sql.gz`, so a
 * dump's final name appears only when it and its checksum are complete. Then
 * only the newest `keep` dumps (and their checksums) are kept. The password
 * reaches the client in an option file, never on the command line.
 */
export function renderBackupScript(s: BackupScriptSettings): string {
  const b = s.binaries;
  const glob = `${DUMP_NAMES.prefix}*${DUMP_NAMES.suffix}`;
  return [
    '#!/bin/bash',
    '# Dumps the application databases from a replica, with a sha256, under a temporary name until complete.',
    'set -euo pipefail',
    ': "${MYSQL_BACKUP_PASSWORD:?MYSQL_BACKUP_PASSWORD must be set from the credentials Secret}"',
    `dir=${s.dir}`,
    `cnf=${s.tmpDir}/backup.cnf`,
    `hosts=(${s.hosts.join(' ')})`,
    ...CNF_QUOTE_FUNCTION,
    'umask 077',
    '{',
    '  echo "[client]"',
    `  echo "user=${BACKUP_USER}"`,
    '  echo "password=$(cnf_quote "$MYSQL_BACKUP_PASSWORD")"',
    `  echo "port=${MYSQL_PORT}"`,
    '} >"$cnf"',
    'source_host=',
    'for h in "${hosts[@]}"; do',
    `  if ${b.client} --defaults-extra-file="$cnf" -h "$h" -N -B -e 'SELECT 1' >/dev/null; then`,
    '    source_host=$h',
    '    break',
    '  fi',
    '  echo "$h does not answer" >&2',
    'done',
    'if [[ -z "$source_host" ]]; then',
    '  echo "no member to dump from answers (${hosts[*]})" >&2',
    '  exit 1',
    'fi',
    `mapfile -t databases < <(${b.client} --defaults-extra-file="$cnf" -h "$source_host" -N -B -e "SELECT schema_name FROM information_schema.schemata WHERE ${NOT_SYSTEM} ORDER BY schema_name")`,
    'if ((${#databases[@]} == 0)); then',
    '  echo "$source_host has no application database to back up" >&2',
    '  exit 1',
    'fi',
    '# a temporary file an interrupted run left behind (runs never overlap)',
    `rm -f "$dir"/.${glob}.partial`,
    `name="${DUMP_NAMES.prefix}$(date -u +%Y%m%dT%H%M%SZ)${DUMP_NAMES.suffix}"`,
    'partial="$dir/.$name.partial"',
    'echo "dumping ${databases[*]} from $source_host"',
    `${b.dump} --defaults-extra-file="$cnf" -h "$source_host" ${dumpOptions(s.flavor).join(' ')} --databases "\${databases[@]}" | gzip >"$partial"`,
    ...checksumAndRename(),
    'rm -f "$cnf"',
    'echo "wrote $dir/$name ($(stat -c %s "$dir/$name") bytes, sha256 $sum)"',
    ...(s.keep === undefined ? [] : keepNewest(glob, s.keep)),
    '',
  ].join('\n');
}

/**
 * Lines that end a restore init container's script (`exit 0`) unless this is
 * the primary (ordinal 0) and its data directory is not initialized yet (or
 * an initialization was interrupted, which start.sh starts over): only a
 * fresh primary loads a backup. Otherwise they empty MYSQL_RESTORE_DIR.
 */
export function restoreGuard(): string[] {
  return [
    'host="${HOSTNAME:-$(hostname)}"',
    'if [[ "${host##*-}" != 0 ]]; then',
    '  echo "a replica copies the primary; nothing to restore here"',
    '  exit 0',
    'fi',
    `if [[ -d ${MYSQL_DATA_DIR}/mysql && ! -e ${MYSQL_VOLUME_DIR}/.cdk8s-initializing ]]; then`,
    '  echo "the data directory is initialized; nothing to restore"',
    '  exit 0',
    'fi',
    `rm -rf ${MYSQL_RESTORE_DIR}`,
    `mkdir -p ${MYSQL_RESTORE_DIR}`,
  ];
}

/** Settings of `renderRestoreCopyScript`. */
export interface RestoreCopySettings {
  /** Where the source claim is mounted. */
  readonly source: string;
  /**
   * The dump to restore.
   * @default - the newest
   */
  readonly backup?: string;
}

/**
 * restore.sh of a claim source (init container): copies one dump (the newest
 * unless named) and its sha256 from the backup claim to the fresh primary's
 * claim, where start.sh verifies and loads it.
 */
export function renderRestoreCopyScript(s: RestoreCopySettings): string {
  return [
    '#!/bin/bash',
    `# Copies ${s.backup ? `backup ${s.backup}` : 'the newest backup'} to a fresh primary, which loads it.`,
    'set -euo pipefail',
    ...restoreGuard(),
    `source=${s.source}`,
    ...(s.backup
      ? [`dump="$source/${s.backup}"`]
      : [`dump="$(find "$source" -maxdepth 1 -name '${DUMP_NAMES.prefix}*${DUMP_NAMES.suffix}' | sort -r | head -n 1)"`]),
    'if [[ -z "$dump" || ! -f "$dump" ]]; then',
    `  echo "no backup ${s.backup ? `${s.backup} ` : ''}in $source to restore" >&2`,
    '  exit 1',
    'fi',
    `cp -- "$dump.sha256" "$dump" ${MYSQL_RESTORE_DIR}/`,
    `echo "copied $(basename "$dump") to ${MYSQL_RESTORE_DIR}"`,
    '',
  ].join('\n');
}

/** Settings of `renderRestoreVerifyScript`. */
export interface RestoreVerifySettings {
  readonly flavor: FlavorName;
  readonly binaries: MySqlBinaries;
  /** Where the backups are (the claim, or the downloader's scratch directory). */
  readonly dir: string;
  /** An empty directory for the scratch server's data and socket. */
  readonly scratchDir: string;
  /**
   * A query whose first value must be neither empty, NULL nor 0 once the
   * backup is loaded, e.g. `SELECT COUNT(*) FROM shop.orders`.
   * @default - only the count of tables is checked
   */
  readonly query?: string;
}

/**
 * The restore-verify Job: verifies the newest dump's sha256, loads it into a
 * scratch server started in `scratchDir` with --skip-networking, and checks
 * that it holds tables (and that `query` returns a true value).
 */
export function renderRestoreVerifyScript(s: RestoreVerifySettings): string {
  const mysql = s.flavor === 'mysql';
  const b = s.binaries;
  return [
    '#!/bin/bash',
    '# Loads the newest backup into a scratch server without networking and checks it.',
    'set -euo pipefail',
    `dir=${s.dir}`,
    `scratch=${s.scratchDir}`,
    'cnf="$scratch/my.cnf"',
    'client_cnf="$scratch/client.cnf"',
    ...VERIFY_CHECKSUM_FUNCTION,
    `dump="$(find "$dir" -maxdepth 1 -name '${DUMP_NAMES.prefix}*${DUMP_NAMES.suffix}' | sort -r | head -n 1)"`,
    'if [[ -z "$dump" ]]; then',
    '  echo "no backup in $dir to verify" >&2',
    '  exit 1',
    'fi',
    'verify_checksum "$dump"',
    'mkdir -p "$scratch/data" "$scratch/tmp"',
    '{',
    '  echo "[mysqld]"',
    '  echo "datadir=$scratch/data"',
    '  echo "socket=$scratch/mysqld.sock"',
    '  echo "pid-file=$scratch/mysqld.pid"',
    '  echo "tmpdir=$scratch/tmp"',
    '  echo "skip-networking"',
    '  echo "innodb_buffer_pool_size=128M"',
    ...(mysql ? ['  echo "gtid_mode=ON"', '  echo "enforce_gtid_consistency=ON"'] : []),
    '} >"$cnf"',
    'printf \'[client]\\nuser=root\\nsocket=%s\\n\' "$scratch/mysqld.sock" >"$client_cnf"',
    mysql
      ? `${b.server} --defaults-file="$cnf" --initialize-insecure`
      : 'mariadb-install-db --defaults-file="$cnf" --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve >/dev/null',
    `${b.server} --defaults-file="$cnf" &`,
    'server=$!',
    'stop_server() {',
    `  ${b.admin} --defaults-extra-file="$client_cnf" shutdown || kill "$server"`,
    '  wait "$server" || true',
    '}',
    'trap stop_server EXIT',
    'for ((i = 0; i < 120; i++)); do',
    `  if ${b.admin} --defaults-extra-file="$client_cnf" ping >/dev/null 2>&1; then break; fi`,
    '  if ! kill -0 "$server" 2>/dev/null; then',
    '    echo "the scratch server exited" >&2',
    '    exit 1',
    '  fi',
    '  sleep 1',
    'done',
    'sql() {',
    `  ${b.client} --defaults-extra-file="$client_cnf" -N -B "$@"`,
    '}',
    'echo "loading $(basename "$dump") into the scratch server"',
    'gunzip -c "$dump" | sql',
    `tables="$(sql -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_${NOT_SYSTEM.replace('schema_name', 'schema')}")"`,
    'if ! ((tables > 0)); then',
    '  echo "$(basename "$dump") restored no table" >&2',
    '  exit 1',
    'fi',
    ...(s.query === undefined ? ['checked="$tables tables"'] : [
      'query="$(cat <<\'SQL\'',
      s.query,
      'SQL',
      ')"',
      'result="$(sql -e "$query" | head -n 1 | cut -f 1)"',
      'if [[ -z "$result" || "$result" == NULL || "$result" == 0 ]]; then',
      '  echo "$(basename "$dump"): the check query returned ${result:-nothing}: $query" >&2',
      '  exit 1',
      'fi',
      'checked="$tables tables, check query returned $result"',
    ]),
    'echo "restore of $(basename "$dump") verified: $checked"',
    '',
  ].join('\n');
}
