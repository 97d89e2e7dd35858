// Pure renderers of what a MongoDB replica set runs: mongod's options, the
// keyfile init script, the start script, the initiator Job's script and its
// JavaScript, and the mongodump backup script. Each returns exact text; the
// stand-in tests (test/mongodb/scripts.test.ts) run every script under bash.
// Internal: tests import them from this module.
import { BackupFileNames, renderS3UploadScript as renderCoreS3UploadScript, S3UploadSettings as CoreS3UploadSettings } from '../core/s3';

/** Port of mongod. */
export const MONGO_PORT = 27017;
/** Port of the mongodb_exporter sidecar. */
export const MONGO_EXPORTER_PORT = 9216;
/** Mount path of the data claim (the official image's data directory). */
export const MONGO_DATA_DIR = '/data/db';
/** In-memory run directory: the keyfile (mode 0400) and mongod's Unix socket. */
export const MONGO_RUN_DIR = '/var/run/mongodb';
/** Where the credentials Secret's keyfile is mounted (group-readable: mongod would refuse it). */
export const MONGO_SECRET_DIR = '/var/run/secrets/mongodb';
/** Directory of the rendered scripts (the ConfigMap mount). */
export const MONGO_CONFIG_DIR = '/opt/cdk8s/mongodb';
/** Where the mongodump CronJob writes archives (the backup claim). */
export const MONGO_BACKUP_DIR = '/backup';

/** Secret key of the root password. */
export const ROOT_PASSWORD_KEY = 'root-password';
/** Secret key of the replica set's keyfile (64 hex characters when generated). */
export const KEYFILE_KEY = 'keyfile';
/** Secret key of the exporter user's password. */
export const EXPORTER_PASSWORD_KEY = 'exporter-password';
/** Secret key of the backup user's password. */
export const BACKUP_PASSWORD_KEY = 'backup-password';
/** The administrator, created once through the localhost exception. */
export const ROOT_USER = 'root';
/** The exporter's user (clusterMonitor, read on local). */
export const EXPORTER_USER = 'exporter';
/** The mongodump user (the built-in backup role). */
export const BACKUP_USER = 'backup';
/** Env var of the root password in the member and the initiator. */
export const ROOT_PASSWORD_ENV = 'MONGO_ROOT_PASSWORD';

/** An application user and where its password comes from. */
export interface MongoUserSpec {
  readonly name: string;
  /** Secret key of its password. */
  readonly passwordKey: string;
  /** Env var the initiator reads the password from. */
  readonly passwordEnv: string;
  /** Databases it gets `readWrite` (or `read`) on. */
  readonly databases: string[];
  readonly readOnly: boolean;
}

/** Settings of `mongodArgs`. */
export interface MongodSettings {
  readonly replicaSetName: string;
  /** `--wiredTigerCacheSizeGB`, already rounded (e.g. 0.5). */
  readonly cacheSizeGb: number;
  readonly keyFile: string;
  readonly dataDir: string;
  readonly runDir: string;
}

/**
 * The options of the replica-set mongod (MongoDB 8.0 option names): a member
 * of `replicaSetName`, internal auth with the keyfile (which also turns on
 * client authorization), listening on every address.
 */
export function mongodArgs(s: MongodSettings): string[] {
  return [
    '--replSet', s.replicaSetName,
    '--keyFile', s.keyFile,
    '--bind_ip_all',
    '--port', String(MONGO_PORT),
    '--dbpath', s.dataDir,
    '--unixSocketPrefix', s.runDir,
    '--wiredTigerCacheSizeGB', String(s.cacheSizeGb),
  ];
}

/**
 * The options of the temporary mongod the seed member runs once, before it
 * joins the set, to create the root user through the localhost exception:
 * standalone, authorization on, reachable from localhost only.
 */
export function bootstrapMongodArgs(s: MongodSettings): string[] {
  return [
    '--auth',
    '--bind_ip', '127.0.0.1',
    '--port', String(MONGO_PORT),
    '--dbpath', s.dataDir,
    '--unixSocketPrefix', s.runDir,
    '--wiredTigerCacheSizeGB', String(s.cacheSizeGb),
  ];
}

/** Settings of `renderKeyfileScript`. */
export interface KeyfileSettings {
  /** The keyfile in the Secret volume. */
  readonly source: string;
  /** Where mongod reads it (an in-memory emptyDir). */
  readonly target: string;
}

/**
 * keyfile.sh (init container): mongod refuses a keyfile that the group or
 * others may read, and a Secret volume is group-readable (fsGroup), so the
 * key is copied into the in-memory run directory with mode 0400, owned by
 * the pod's user. It also checks MongoDB's keyfile rules (6 to 1024
 * characters of the base64 set, whitespace ignored) so a bad
 * `existingSecret` fails here with a clear message.
 */
export function renderKeyfileScript(s: KeyfileSettings): string {
  return [
    '#!/bin/bash',
    '# Installs the keyfile readable by its owner only (mongod rejects group-readable keyfiles).',
    'set -euo pipefail',
    `source=${s.source}`,
    `target=${s.target}`,
    'if [[ ! -r "$source" ]]; then',
    '  echo "keyfile $source is missing: the credentials Secret needs the key \'keyfile\'" >&2',
    '  exit 1',
    'fi',
    'key="$(tr -d \' \\t\\r\\n\' <"$source")"',
    'if ! [[ "$key" =~ ^[A-Za-z0-9+/=]{6,1024}$ ]]; then',
    '  echo "keyfile must hold 6 to 1024 characters of the base64 set (got ${#key})" >&2',
    '  exit 1',
    'fi',
    '# a restarted pod keeps its emptyDir, and a 0400 file cannot be overwritten',
    'rm -f "$target"',
    '(umask 077 && printf \'%s\\n\' "$key" >"$target")',
    'chmod 0400 "$target"',
    'echo "keyfile installed at $target"',
    '',
  ].join('\n');
}

/** The JavaScript that creates the root user through the localhost exception; idempotent. */
export function createRootJs(): string {
  return [
    '/* cdk8s:create-root */',
    'const admin = db.getSiblingDB(\'admin\');',
    'try {',
    `  admin.createUser({ user: '${ROOT_USER}', pwd: process.env.${ROOT_PASSWORD_ENV}, roles: [{ role: 'root', db: 'admin' }] });`,
    '  print(\'root created\');',
    '} catch (e) {',
    '  // 13 Unauthorized: a user exists, so the localhost exception is closed; 51003: root exists',
    '  if (e.code !== 13 && e.code !== 51003) throw e;',
    '  print(\'root exists\');',
    '}',
  ].join('\n');
}

/** The JavaScript of a ping (needs no authentication). */
export const PING_JS = '/* cdk8s:ping */ db.adminCommand({ ping: 1 }).ok';

/** Settings of `renderStartScript`. */
export interface StartSettings {
  readonly mongod: MongodSettings;
  /** Seconds the temporary mongod may take to answer. */
  readonly bootstrapWaitSeconds: number;
}

/**
 * start.sh: on the seed member (ordinal 0) the first time, a temporary
 * standalone mongod bound to localhost creates the root user through the
 * localhost exception (markers in the data directory make this happen once,
 * and again only if it was interrupted); then every member execs the
 * replica-set mongod. Members other than the seed start empty and copy the
 * seed's data, root user included, by initial sync.
 */
export function renderStartScript(s: StartSettings): string {
  const data = s.mongod.dataDir;
  return [
    '#!/bin/bash',
    '# Starts one replica-set member; the seed creates the root user once first.',
    'set -euo pipefail',
    `: "\${${ROOT_PASSWORD_ENV}:?${ROOT_PASSWORD_ENV} must be set from the credentials Secret}"`,
    'host="${HOSTNAME:-$(hostname)}"',
    'ordinal="${host##*-}"',
    `data=${data}`,
    'done_marker="$data/.cdk8s-root-created"',
    'started_marker="$data/.cdk8s-root-creating"',
    '',
    'create_root() {',
    `  mongod ${bootstrapMongodArgs(s.mongod).join(' ')} &`,
    '  local pid=$! ready=0 i',
    `  for ((i = 0; i < ${s.bootstrapWaitSeconds}; i++)); do`,
    `    if mongosh --quiet --norc "mongodb://127.0.0.1:${MONGO_PORT}/admin" --eval '${PING_JS}' >/dev/null 2>&1; then`,
    '      ready=1',
    '      break',
    '    fi',
    '    sleep 1',
    '  done',
    '  if ((ready == 0)); then',
    `    echo "the temporary mongod did not answer within ${s.bootstrapWaitSeconds} s" >&2`,
    '    kill "$pid" || true',
    '    wait "$pid" || true',
    '    exit 1',
    '  fi',
    `  mongosh --quiet --norc "mongodb://127.0.0.1:${MONGO_PORT}/admin" --eval "$(cat <<'JS'`,
    createRootJs(),
    'JS',
    ')"',
    '  kill "$pid"',
    '  wait "$pid"',
    '}',
    '',
    '# the seed, with an empty data directory or an interrupted first start',
    'if [[ "$ordinal" == 0 && ! -e "$done_marker" ]] && [[ ! -e "$data/WiredTiger" || -e "$started_marker" ]]; then',
    '  touch "$started_marker"',
    '  create_root',
    '  touch "$done_marker"',
    '  rm -f "$started_marker"',
    'fi',
    `exec mongod ${mongodArgs(s.mongod).join(' ')}`,
    '',
  ].join('\n');
}

/** A member of the replica set config. */
export interface MemberSpec {
  /** `host:port`. */
  readonly host: string;
  readonly arbiter: boolean;
}

/** `rs.initiate` with every member, in the construct's own FQDNs. */
export function initiateJs(replicaSetName: string, members: MemberSpec[]): string {
  const list = members.map((m, i) => `{ _id: ${i}, host: '${m.host}'${m.arbiter ? ', arbiterOnly: true' : ''} }`);
  return `/* cdk8s:initiate */ rs.initiate({ _id: '${replicaSetName}', members: [${list.join(', ')}] })`;
}

/** Prints whether the set is initiated (`rs.status()` fails with 94 NotYetInitialized before). */
export const STATUS_JS = [
  '/* cdk8s:status */',
  'try {',
  '  rs.status();',
  '  print(\'initiated\');',
  '} catch (e) {',
  '  if (e.code !== 94) throw e;',
  '  print(\'uninitiated\');',
  '}',
].join('\n');

/** Prints the primary's `host:port` as `hello` reports it, or nothing while there is none. */
export const PRIMARY_JS = '/* cdk8s:primary */ print(db.hello().primary || \'\')';

/** Prints the host of every member of the current config, one per line. */
export const CONFIG_MEMBERS_JS = '/* cdk8s:members */ rs.conf().members.forEach((m) => print(m.host))';

/** Settings of `usersJs`. */
export interface UsersSettings {
  readonly exporter: boolean;
  readonly backup: boolean;
  readonly users: MongoUserSpec[];
}

/** The env vars of the passwords `usersJs` reads, by Secret key. */
export function userPasswordEnvs(s: UsersSettings): { env: string; key: string }[] {
  return [
    ...(s.exporter ? [{ env: 'MONGO_EXPORTER_PASSWORD', key: EXPORTER_PASSWORD_KEY }] : []),
    ...(s.backup ? [{ env: 'MONGO_BACKUP_PASSWORD', key: BACKUP_PASSWORD_KEY }] : []),
    ...s.users.map((u) => ({ env: u.passwordEnv, key: u.passwordKey })),
  ];
}

/**
 * Creates every user once, and on later runs sets its password and roles
 * again (a rotated Secret value takes effect); passwords come from the
 * environment (`process.env`), never from the script or a command line.
 */
export function usersJs(s: UsersSettings): string {
  const lines = [
    ...(s.exporter ? [`ensure('${EXPORTER_USER}', 'MONGO_EXPORTER_PASSWORD', [{ role: 'clusterMonitor', db: 'admin' }, { role: 'read', db: 'local' }]);`] : []),
    ...(s.backup ? [`ensure('${BACKUP_USER}', 'MONGO_BACKUP_PASSWORD', [{ role: 'backup', db: 'admin' }]);`] : []),
    ...s.users.map((u) => {
      const roles = u.databases.map((d) => `{ role: '${u.readOnly ? 'read' : 'readWrite'}', db: '${d}' }`);
      return `ensure('${u.name}', '${u.passwordEnv}', [${roles.join(', ')}]);`;
    }),
  ];
  if (lines.length === 0) return '';
  return [
    '/* cdk8s:users */',
    'const admin = db.getSiblingDB(\'admin\');',
    'const ensure = (user, env, roles) => {',
    '  const pwd = process.env[env];',
    '  if (!pwd) throw new Error(env + \' is empty\');',
    '  if (admin.getUser(user) === null) {',
    '    admin.createUser({ user, pwd, roles });',
    '    print(\'created \' + user);',
    '  } else {',
    '    admin.updateUser(user, { pwd, roles });',
    '    print(\'updated \' + user);',
    '  }',
    '};',
    ...lines,
  ].join('\n');
}

/** Settings of `renderInitiatorScript`. */
export interface InitiatorSettings {
  readonly replicaSetName: string;
  readonly members: MemberSpec[];
  readonly users: UsersSettings;
  /** Attempts (5 s apart) to reach each member, and to see a primary. */
  readonly waitAttempts: number;
}

/**
 * The initiator Job's script, the only initiator: waits until every member
 * answers; if `rs.status()` says the set is not initiated, runs
 * `rs.initiate` with every member; otherwise adds the members the config
 * lacks (`rs.add`, or `rs.addArb` for the arbiter) on the primary, and
 * reports members the StatefulSet no longer has (they are removed by hand:
 * `rs.remove` before the scale-down). Then it creates the users. Every
 * command authenticates as root inside the JavaScript, so no password is on
 * a command line.
 */
export function renderInitiatorScript(s: InitiatorSettings): string {
  const data = s.members.filter((m) => !m.arbiter).map((m) => m.host);
  const arbiter = s.members.find((m) => m.arbiter)?.host ?? '';
  const users = usersJs(s.users);
  return [
    '#!/bin/bash',
    '# Initiates the replica set once, adds new members, creates users; safe to run again.',
    'set -euo pipefail',
    `: "\${${ROOT_PASSWORD_ENV}:?${ROOT_PASSWORD_ENV} must be set from the credentials Secret}"`,
    `attempts=${s.waitAttempts}`,
    'members=(',
    ...data.map((h) => `  ${h}`),
    ')',
    `arbiter='${arbiter}'`,
    'all=("${members[@]}")',
    'if [[ -n "$arbiter" ]]; then all+=("$arbiter"); fi',
    '',
    '# runs JavaScript on one member as root (authenticating inside the script)',
    'as_root() {',
    '  mongosh --quiet --norc "mongodb://$1/admin?directConnection=true" \\',
    `    --eval "db.getSiblingDB('admin').auth('${ROOT_USER}', process.env.${ROOT_PASSWORD_ENV}); $2"`,
    '}',
    '',
    'wait_for() {',
    '  local i',
    '  for ((i = 0; i < attempts; i++)); do',
    `    if mongosh --quiet --norc "mongodb://$1/admin?directConnection=true" --eval '${PING_JS}' >/dev/null 2>&1; then`,
    '      return 0',
    '    fi',
    '    echo "waiting for $1"',
    '    sleep 5',
    '  done',
    '  echo "$1 did not answer after $attempts attempts" >&2',
    '  return 1',
    '}',
    '',
    'primary_of() {',
    '  local i primary',
    '  for ((i = 0; i < attempts; i++)); do',
    `    primary="$(as_root "$1" "${PRIMARY_JS}")"`,
    '    if [[ -n "$primary" ]]; then',
    '      echo "$primary"',
    '      return 0',
    '    fi',
    '    sleep 5',
    '  done',
    '  echo "no primary after $attempts attempts" >&2',
    '  return 1',
    '}',
    '',
    'for m in "${all[@]}"; do wait_for "$m"; done',
    'seed="${members[0]}"',
    `state="$(as_root "$seed" "$(cat <<'JS'`,
    STATUS_JS,
    'JS',
    ')")"',
    'if [[ "$state" == uninitiated ]]; then',
    `  echo "initiating replica set ${s.replicaSetName}"`,
    `  as_root "$seed" "${initiateJs(s.replicaSetName, s.members)}"`,
    '  primary="$(primary_of "$seed")"',
    'else',
    '  primary="$(primary_of "$seed")"',
    `  listed="$(as_root "$primary" "${CONFIG_MEMBERS_JS}")"`,
    '  mapfile -t current <<<"$listed"',
    '  for m in "${all[@]}"; do',
    '    if [[ " ${current[*]} " != *" $m "* ]]; then',
    '      echo "adding $m"',
    '      if [[ "$m" == "$arbiter" ]]; then',
    '        as_root "$primary" "/* cdk8s:add-arbiter */ rs.addArb(\'$m\')"',
    '      else',
    '        as_root "$primary" "/* cdk8s:add */ rs.add({ host: \'$m\' })"',
    '      fi',
    '    fi',
    '  done',
    '  for m in "${current[@]}"; do',
    '    if [[ " ${all[*]} " != *" $m "* ]]; then',
    '      echo "warning: $m is in the replica set config but not in the StatefulSet; remove it with rs.remove(\'$m\')" >&2',
    '    fi',
    '  done',
    'fi',
    ...(users
      ? [
        `as_root "$primary" "$(cat <<'JS'`,
        users,
        'JS',
        ')"',
      ]
      : []),
    'echo "replica set ready, primary $primary"',
    '',
  ].join('\n');
}

/** Settings of `renderBackupScript`. */
export interface BackupSettings {
  /** `host:port` of every data-bearing member. */
  readonly hosts: string[];
  readonly replicaSetName: string;
  /** Archives kept (the newest). */
  readonly keep: number;
  readonly dir: string;
  /** Scratch directory for the option file that carries the password. */
  readonly tmpDir: string;
}

/**
 * The mongodump CronJob's script: one gzipped archive per run, read from a
 * secondary (`readPreference=secondary`, so the primary is not loaded; the
 * run fails when no secondary is up), written under a temporary name and
 * renamed when complete; then only the newest `keep` archives are kept. The
 * password goes to mongodump in an option file (`--config`), never on the
 * command line.
 */
export function renderBackupScript(s: BackupSettings): string {
  const uri = `mongodb://${s.hosts.join(',')}/?replicaSet=${s.replicaSetName}&authSource=admin&readPreference=secondary`;
  return [
    '#!/bin/bash',
    '# Dumps the replica set from a secondary into a gzipped archive and keeps the newest ones.',
    'set -euo pipefail',
    ': "${MONGO_BACKUP_PASSWORD:?MONGO_BACKUP_PASSWORD must be set from the credentials Secret}"',
    `dir=${s.dir}`,
    `keep=${s.keep}`,
    `config=${s.tmpDir}/mongodump.yaml`,
    'stamp="$(date -u +%Y%m%dT%H%M%SZ)"',
    'archive="$dir/mongodump-$stamp.archive.gz"',
    '(umask 077 && printf \'password: "%s"\\n\' "$MONGO_BACKUP_PASSWORD" >"$config")',
    `mongodump --config="$config" --uri='${uri}' --username=${BACKUP_USER} --gzip --archive="$archive.partial"`,
    'mv "$archive.partial" "$archive"',
    'rm -f "$config"',
    'echo "wrote $archive"',
    'mapfile -t old < <(find "$dir" -maxdepth 1 -name \'mongodump-*.archive.gz\' | sort -r | tail -n +$((keep + 1)))',
    'for f in "${old[@]}"; do',
    '  rm -f -- "$f"',
    '  echo "removed $f"',
    'done',
    '',
  ].join('\n');
}

/** Settings of `renderS3UploadScript`: the bucket, the dump's directory and the retention. */
export type S3UploadSettings = Omit<CoreS3UploadSettings, 'names'>;

/** The archives of the mongodump CronJob, as the uploader finds and keeps them. */
export const MONGO_ARCHIVE_NAMES: BackupFileNames = { prefix: 'mongodump-', suffix: '.archive.gz' };

/**
 * The uploader (aws-cli, core's): ships the one archive the dump left in
 * `dir` to the bucket, then keeps the newest `keep` archives there.
 */
export function renderS3UploadScript(s: S3UploadSettings): string {
  return renderCoreS3UploadScript({ ...s, names: MONGO_ARCHIVE_NAMES });
}
