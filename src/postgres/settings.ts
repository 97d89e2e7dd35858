// PostgresReplicaSetProps -> the settings a replica set is built from. Every
// check of the props is here, so the construct only assembles.
import { Chart, Cron, Duration, Size, SizeRoundingBehavior } from 'cdk8s';
import { IConstruct } from 'constructs';
import { BackupTarget } from '../core/backup';
import { describe, Problem } from '../core/names';
import { Resources } from '../core/resources';
import { imageTag } from '../core/stateful-workload';
import { SystemUnitProps, systemUnitProps } from '../core/system';
import {
  MONITOR_PASSWORD_KEY, MONITOR_USER, PgDatabaseSpec, PgUserSpec, PostgresqlConfSettings, REPLICATION_PASSWORD_KEY, REPLICATION_USER,
  SUPERUSER, SUPERUSER_PASSWORD_KEY,
} from './config';
import { ARCHIVE_COMMAND, BackupSettings, RestoreSettings } from './backup';
import { CA_SEED_KEY, PG_RESTORE_CONF } from './backup-config';
import type { PostgresReplicaSet, PostgresReplicaSetProps } from './postgres-replica-set';
import { PostgresSynchronousCommit } from './synchronous';

/** The official image: PostgreSQL 18 (Debian), a pinned patch release. */
export const DEFAULT_POSTGRES_IMAGE = 'docker.io/library/postgres:18.3';
/** postgres_exporter, pinned. */
export const DEFAULT_EXPORTER_IMAGE = 'quay.io/prometheuscommunity/postgres-exporter:v0.17.1';
/** Oldest major whose settings the rendered postgresql.conf uses (max_slot_wal_keep_size: 13). */
export const MIN_POSTGRES_MAJOR = 13;

/**
 * A PostgresReplicaSet's props, resolved and checked.
 * @internal
 */
export interface PostgresSettings {
  /** The shared knobs, type-checked, with PostgreSQL's defaults applied. */
  readonly shared: SystemUnitProps;
  readonly replicas: number;
  /** `app.kubernetes.io/version`: the image's tag, if it has one. */
  readonly version: string | undefined;
  /** The major version read from the tag, if it has one. */
  readonly major: number | undefined;
  readonly conf: PostgresqlConfSettings;
  readonly users: PgUserSpec[];
  readonly databases: PgDatabaseSpec[];
  readonly synchronous: PostgresSynchronousCommit;
  /** The Secret key of every user's password. */
  readonly passwordKeys: ReadonlyMap<string, string>;
  /** Every key of the credentials Secret: the passwords and, with backup or restore, pgBackRest's CA seed. */
  readonly secretKeys: string[];
  readonly existingSecret: string | undefined;
  readonly exporterImage: string;
  readonly backup: BackupSettings | undefined;
  readonly restore: RestoreSettings | undefined;
  /** pod 0 restores from this configuration (restore only). */
  readonly restoreConfig: string | undefined;
}

const NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const PARAMETER = /^[a-z_][a-z0-9_.]*$/;
/** Settings the construct renders itself: the topology, the files, replication. */
const OWNED_PARAMETERS = [
  'listen_addresses', 'port', 'unix_socket_directories', 'hba_file', 'ident_file', 'config_file', 'data_directory',
  'password_encryption', 'wal_level', 'max_wal_senders', 'max_replication_slots', 'hot_standby',
  'primary_conninfo', 'primary_slot_name', 'synchronous_standby_names', 'archive_mode', 'archive_command',
  'restore_command', 'recovery_target_time', 'logging_collector', 'log_destination',
];
/** Typed parameters: set them through `parameters`, not the free-form map. */
const TYPED_PARAMETERS: { [name: string]: string } = {
  max_connections: 'maxConnections', shared_buffers: 'sharedBuffers', effective_cache_size: 'effectiveCacheSize',
  work_mem: 'workMem', maintenance_work_mem: 'maintenanceWorkMem', max_slot_wal_keep_size: 'maxSlotWalKeepSize',
};
const RESERVED_USERS = [SUPERUSER, REPLICATION_USER, MONITOR_USER];

/**
 * Resolves and checks the props of `owner`; every problem is an error that
 * names the replica set and the prop.
 * @internal
 */
export function postgresSettings(owner: IConstruct, props: PostgresReplicaSetProps): PostgresSettings {
  const problem = new Problem('PostgresReplicaSet', owner);
  const shared = systemUnitProps(problem, props, {
    image: DEFAULT_POSTGRES_IMAGE,
    resources: Resources.medium(),
    storageSize: Size.gibibytes(20),
    runAs: { uid: 999, gid: 999 },
    terminationGracePeriod: Duration.seconds(60),
    disruptionBudget: { maxUnavailable: 1 },
  });
  const replicas = problem.integer('replicas', props.replicas ?? 3, 1, 100);
  const version = imageTag(shared.image);
  const major = majorOf(problem, version);
  const synchronous = problem.instanceOf('synchronous', props.synchronous, PostgresSynchronousCommit,
    'PostgresSynchronousCommit.off() or PostgresSynchronousCommit.any(n)') ?? PostgresSynchronousCommit.off();
  if (synchronous._synchronous) {
    if (replicas < 2) throw problem.error('synchronous', `needs standbys to wait for, but replicas is ${replicas}: set replicas >= 2 or use PostgresSynchronousCommit.off()`);
    problem.integer('synchronous quorum (PostgresSynchronousCommit.any)', synchronous._quorum, 1, replicas - 1);
  }
  const backup = backupSettings(problem, props);
  const restore = restoreSettings(owner, problem, props);
  if ((backup || restore) && shared.image === DEFAULT_POSTGRES_IMAGE) {
    throw problem.error('image', `must contain pgBackRest and openssl for ${backup ? 'backup' : 'restore'}, and the official image '${DEFAULT_POSTGRES_IMAGE}' has neither: build one FROM it (see the README) and set image`);
  }
  const source = props.restore?.source;
  if (source && (props.users !== undefined || props.databases !== undefined)) {
    throw problem.error('restore', 'brings its users and databases from the backup: leave users and databases unset');
  }
  if (source && props.existingSecret !== undefined && props.existingSecret !== source.credentials.secretName) {
    throw problem.error('existingSecret', `must be the restore source's Secret '${source.credentials.secretName}' (the restored database has its passwords), got '${props.existingSecret}'`);
  }
  const databases = names(problem, 'databases', props.databases);
  const users = pgUsers(problem, props, databases);
  const owners = new Map(users.flatMap((u) => u.databases.map((d) => [d, u.name] as [string, string])));
  const monitoring = props.monitoring !== undefined;
  const passwordKeys = source ? sourceKeys(problem, source, monitoring) : new Map<string, string>([
    [SUPERUSER, SUPERUSER_PASSWORD_KEY],
    [REPLICATION_USER, REPLICATION_PASSWORD_KEY],
    ...(monitoring ? [[MONITOR_USER, MONITOR_PASSWORD_KEY] as [string, string]] : []),
    ...users.map((u) => [u.name, u.passwordKey] as [string, string]),
  ]);
  const conf = confSettings(problem, props, shared, replicas, synchronous);
  return {
    shared,
    replicas,
    version,
    major,
    conf: backup ? { ...conf, archiveCommand: ARCHIVE_COMMAND } : conf,
    users: users.map((u) => ({ name: u.name, passwordKey: u.passwordKey })),
    databases: databases.map((d) => ({ name: d, owner: owners.get(d) ?? SUPERUSER })),
    synchronous,
    passwordKeys,
    secretKeys: [...passwordKeys.values(), ...(backup || restore ? [CA_SEED_KEY] : [])],
    existingSecret: source ? source.credentials.secretName : props.existingSecret,
    exporterImage: DEFAULT_EXPORTER_IMAGE,
    backup,
    restore,
    restoreConfig: restore ? PG_RESTORE_CONF : undefined,
  };
}

/** The Secret keys of a restored set: the source's (its Secret, its roles). */
function sourceKeys(problem: Problem, source: PostgresReplicaSet, monitoring: boolean): ReadonlyMap<string, string> {
  const keys = new Map(source._passwordKeys);
  if (monitoring && !keys.has(MONITOR_USER)) {
    throw problem.error('monitoring', 'needs the monitor user, which the restore source does not have (it has no monitoring): turn monitoring on in the source first');
  }
  if (!monitoring) keys.delete(MONITOR_USER);
  return keys;
}

function backupSettings(problem: Problem, props: PostgresReplicaSetProps): BackupSettings | undefined {
  const b = props.backup;
  if (b === undefined) return undefined;
  if (typeof b !== 'object' || b === null) throw problem.error('backup', `must be PostgresBackupOptions, got ${describe(b)}`);
  const target = problem.instanceOf('backup.target', b.target, BackupTarget, 'BackupTarget.volume({...}) or BackupTarget.s3({...})') ?? BackupTarget.volume();
  target._validate(problem, 'backup.target');
  if (target._volume?.existingClaim !== undefined) {
    throw problem.error('backup.target existingClaim', 'is not supported: the repository host keeps its repository on a claim of its own (set size and storageClassName)');
  }
  const timeout = problem.instanceOf('backup.timeout', b.timeout, Duration, 'a Duration such as Duration.hours(6)') ?? Duration.hours(6);
  problem.integer('backup.timeout (seconds)', timeout.toSeconds(), 60);
  return {
    target,
    fullSchedule: problem.instanceOf('backup.fullSchedule', b.fullSchedule, Cron, 'a Cron such as Cron.weekly()') ?? Cron.schedule({ minute: '0', hour: '1', weekDay: '0' }),
    differentialSchedule: problem.instanceOf('backup.differentialSchedule', b.differentialSchedule, Cron, 'a Cron such as Cron.daily()')
      ?? Cron.schedule({ minute: '0', hour: '1', weekDay: '1-6' }),
    retainFull: problem.integer('backup.retainFull', b.retainFull ?? 2, 1, 100),
    timeout,
    maxAge: problem.instanceOf('backup.maxAge', b.maxAge, Duration, 'a Duration such as Duration.hours(48)') ?? Duration.hours(48),
  };
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

function restoreSettings(owner: IConstruct, problem: Problem, props: PostgresReplicaSetProps): RestoreSettings | undefined {
  const r = props.restore;
  if (r === undefined) return undefined;
  if (typeof r !== 'object' || r === null) throw problem.error('restore', `must be PostgresRestoreOptions, got ${describe(r)}`);
  const source = r.source;
  const repo = source?.backupRepository;
  if (!repo) throw problem.error('restore.source', `must be a PostgresReplicaSet with backup (its repository holds the backups), got ${source?.node?.path ? `'${source.node.path}', which has no backup` : describe(source)}`);
  const here = Chart.of(owner).namespace ?? 'default';
  const there = Chart.of(source).namespace ?? 'default';
  if (here !== there) throw problem.error('restore.source', `must be in this set's namespace '${here}' (it shares its Secret), got one in '${there}'`);
  let targetTime: string | undefined;
  if (r.targetTime !== undefined) {
    const ms = typeof r.targetTime === 'string' && ISO_TIME.test(r.targetTime) ? Date.parse(r.targetTime) : NaN;
    if (Number.isNaN(ms)) {
      throw problem.error('restore.targetTime', `must be an ISO 8601 time with a time zone, such as '2026-12-01T04:30:00Z' or '2026-12-01T06:30:00+02:00', got ${describe(r.targetTime)}`);
    }
    targetTime = new Date(ms).toISOString().replace('T', ' ').replace('Z', '+00');
  }
  return { repoHost: repo.identity.podFqdn(0), targetTime };
}

/** The major version of a tag such as `18.3` or `17.9-bookworm`; below MIN_POSTGRES_MAJOR is an error. */
function majorOf(problem: Problem, tag: string | undefined): number | undefined {
  const m = /^(\d+)(\.|-|$)/.exec(tag ?? '');
  if (!m) return undefined;
  const major = Number(m[1]);
  if (major < MIN_POSTGRES_MAJOR) {
    throw problem.error('image', `is PostgreSQL ${major} (tag '${tag}'); at least ${MIN_POSTGRES_MAJOR} is required (the rendered settings use max_slot_wal_keep_size, and recovery.conf is gone since 12)`);
  }
  return major;
}

function confSettings(problem: Problem, props: PostgresReplicaSetProps, shared: SystemUnitProps, replicas: number,
  synchronous: PostgresSynchronousCommit): PostgresqlConfSettings {
  const p = props.parameters ?? {};
  if (typeof p !== 'object' || p === null) throw problem.error('parameters', `must be a PostgresParameters object, got ${describe(p)}`);
  const limit = shared.resources.memoryLimitMebibytes;
  const mib = (prop: string, size: Size | undefined, fallback: number) => {
    problem.instanceOf(`parameters.${prop}`, size, Size, 'a Size such as Size.mebibytes(512)');
    return size ? size.toMebibytes({ rounding: SizeRoundingBehavior.FLOOR }) : fallback;
  };
  const sharedBuffers = mib('sharedBuffers', p.sharedBuffers, Math.max(16, Math.floor(limit / 4)));
  const maxShared = Math.floor(limit * 3 / 4);
  if (sharedBuffers > maxShared) {
    throw problem.error('parameters.sharedBuffers', `(${sharedBuffers}Mi) does not fit the memory limit (${limit}Mi): at most three quarters (${maxShared}Mi) are allowed, the server also needs memory for connections, work_mem and maintenance; a quarter is typical`);
  }
  if (sharedBuffers < 16) throw problem.error('parameters.sharedBuffers', `must be at least 16Mi, got ${sharedBuffers}Mi`);
  const effectiveCache = mib('effectiveCacheSize', p.effectiveCacheSize, Math.max(sharedBuffers, Math.floor(limit * 3 / 4)));
  const workMemKib = p.workMem === undefined ? 4096 : (problem.instanceOf('parameters.workMem', p.workMem, Size, 'a Size such as Size.mebibytes(4)')!)
    .toKibibytes({ rounding: SizeRoundingBehavior.FLOOR });
  problem.integer('parameters.workMem (KiB)', workMemKib, 64, 2097151);
  const maintenance = mib('maintenanceWorkMem', p.maintenanceWorkMem, Math.max(16, Math.min(1024, Math.floor(limit / 16))));
  problem.integer('parameters.maintenanceWorkMem (MiB)', maintenance, 1, 2097151);
  const storageSize = shared.storage.size;
  const keepDefault = storageSize ? Math.max(64, Math.floor(storageSize.toMebibytes({ rounding: SizeRoundingBehavior.FLOOR }) / 4)) : 1024;
  const keep = mib('maxSlotWalKeepSize', p.maxSlotWalKeepSize, keepDefault);
  if (storageSize && keep >= storageSize.toMebibytes({ rounding: SizeRoundingBehavior.FLOOR })) {
    throw problem.error('parameters.maxSlotWalKeepSize', `(${keep}Mi) must be smaller than the data volume (${storageSize.asString()}): a dead standby's slot would fill the primary's disk`);
  }
  problem.integer('parameters.maxSlotWalKeepSize (MiB)', keep, 64);
  return {
    maxConnections: problem.integer('parameters.maxConnections', p.maxConnections ?? 200, 10, 10000),
    sharedBuffersMebibytes: sharedBuffers,
    effectiveCacheSizeMebibytes: effectiveCache,
    workMemKibibytes: workMemKib,
    maintenanceWorkMemMebibytes: maintenance,
    // constant up to 8 members: a standby must never run with fewer senders
    // or slots than the primary, which a rolling scale-down would cause
    maxWalSenders: Math.max(20, 2 * replicas + 4),
    maxReplicationSlots: Math.max(10, replicas + 2),
    maxSlotWalKeepSizeMebibytes: keep,
    synchronousStandbyNames: synchronous._synchronous ? `ANY ${synchronous._quorum} (*)` : undefined,
    extra: extraParameters(problem, p.extra),
  };
}

function extraParameters(problem: Problem, value: { [name: string]: string } | undefined): { [name: string]: string } {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw problem.error('parameters.extra', `must map parameter names to strings, got ${describe(value)}`);
  for (const [k, v] of Object.entries(value)) {
    if (!PARAMETER.test(k)) throw problem.error('parameters.extra', `'${k}' is not a parameter name (lower-case letters, digits, '_' and '.')`);
    if (typeof v !== 'string' || /[\n\r]/.test(v)) throw problem.error(`parameters.extra '${k}'`, `must be a one-line string, got ${describe(v)}`);
    if (OWNED_PARAMETERS.includes(k)) throw problem.error('parameters.extra', `must not set '${k}': the construct renders it (topology, files, replication)`);
    if (k in TYPED_PARAMETERS) throw problem.error('parameters.extra', `must not set '${k}': use parameters.${TYPED_PARAMETERS[k]}`);
  }
  return { ...value };
}

interface ResolvedUser {
  readonly name: string;
  readonly passwordKey: string;
  readonly databases: string[];
}

function pgUsers(problem: Problem, props: PostgresReplicaSetProps, databases: string[]): ResolvedUser[] {
  const users = props.users ?? [];
  if (!Array.isArray(users)) throw problem.error('users', `must be a list of { name, databases }, got ${describe(users)}`);
  const seen = new Set<string>();
  const owned = new Map<string, string>();
  return users.map((u) => {
    const name = typeof u?.name === 'string' ? `'${u.name}'` : describe(u?.name);
    if (typeof u?.name !== 'string' || !NAME.test(u.name) || u.name.startsWith('pg_')) {
      throw problem.error('users', `${name} is not a valid user name (a lower-case letter or '_', then lower-case letters, digits and '_', at most 63, not starting with 'pg_')`);
    }
    if (RESERVED_USERS.includes(u.name)) throw problem.error('users', `${name} is reserved (${RESERVED_USERS.join(', ')})`);
    if (seen.has(u.name)) throw problem.error('users', `has two users named ${name}`);
    seen.add(u.name);
    const own = names(problem, `users ${name} databases`, u.databases);
    for (const d of own) {
      if (!databases.includes(d)) throw problem.error(`users ${name} databases`, `name '${d}', which is not in databases (${databases.join(', ') || 'none'})`);
      const other = owned.get(d);
      if (other) throw problem.error(`users ${name} databases`, `name '${d}', which '${other}' already owns: a database has one owner`);
      owned.set(d, u.name);
    }
    return { name: u.name, passwordKey: `${u.name}-password`, databases: own };
  });
}

function names(problem: Problem, prop: string, value: string[] | undefined): string[] {
  const items = value ?? [];
  if (!Array.isArray(items)) throw problem.error(prop, `must be a list of names, got ${describe(items)}`);
  for (const i of items) {
    if (typeof i !== 'string' || !NAME.test(i) || ['postgres', 'template0', 'template1'].includes(i)) {
      throw problem.error(prop, `${typeof i === 'string' ? `'${i}'` : describe(i)} is not a valid name (a lower-case letter or '_', then lower-case letters, digits and '_', at most 63; not postgres or a template)`);
    }
  }
  if (new Set(items).size !== items.length) throw problem.error(prop, `contain duplicates: ${items.join(', ')}`);
  return [...items];
}
