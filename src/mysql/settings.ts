// MySqlReplicaSetProps -> the settings a replica set is built from. Every
// check of the props is here, so the construct only assembles.
import { Cron, Duration, Size, SizeRoundingBehavior } from 'cdk8s';
import { IConstruct } from 'constructs';
import { BackupTarget, CheckedBackupBasics, checkedBackupBasics, checkedRestoreSource } from '../core/backup';
import { DEFAULT_AWS_CLI_IMAGE } from '../core/s3';
import { describe, Problem } from '../core/names';
import { Resources } from '../core/resources';
import { imageTag } from '../core/stateful-workload';
import { SystemUnitProps, systemUnitProps } from '../core/system';
import {
  BACKUP_PASSWORD_KEY, BACKUP_USER, DUMP_NAMES, EXPORTER_PASSWORD_KEY, EXPORTER_USER, MyCnfSettings, MySqlUserSpec, ProbeSettings,
  REPLICATION_PASSWORD_KEY, REPLICATION_USER, ROOT_PASSWORD_KEY, StartSettings,
} from './config';
import { MySqlFlavor } from './flavor';
import type { MySqlReplicaSetProps } from './mysql-replica-set';

/**
 * A MySqlReplicaSet's props, resolved and checked.
 * @internal
 */
export interface MySqlSettings {
  readonly problem: Problem;
  /** The shared knobs, type-checked, with MySQL's defaults applied. */
  readonly shared: SystemUnitProps;
  readonly replicas: number;
  readonly flavor: MySqlFlavor;
  /** `app.kubernetes.io/version`: the image's tag, if it has one. */
  readonly version: string | undefined;
  readonly bufferPoolMebibytes: number;
  readonly myCnf: MyCnfSettings;
  /** start.sh's settings but the primary's FQDN, which the identity knows. */
  readonly start: Omit<StartSettings, 'primaryHost'>;
  /** probe.sh's settings. */
  readonly probe: ProbeSettings;
  /** `maxReplicaLag`, resolved. */
  readonly maxReplicaLag: Duration;
  /** The Secret key of every user's password: root, replicator, then `users`. */
  readonly passwordKeys: ReadonlyMap<string, string>;
  readonly existingSecret: string | undefined;
  /** True with `monitoring`: the exporter sidecar, its user and the alerts. */
  readonly monitoring: boolean;
  /** The exporter sidecar's image. */
  readonly exporterImage: string;
  readonly backup: MySqlBackupSettings | undefined;
  readonly restore: MySqlRestoreSettings | undefined;
}

/**
 * `backup`, resolved.
 * @internal
 */
export interface MySqlBackupSettings extends CheckedBackupBasics {
  readonly verifyQuery: string | undefined;
}

/**
 * `restore`, resolved.
 * @internal
 */
export interface MySqlRestoreSettings {
  readonly source: BackupTarget;
  /** A dump's name, or undefined for the newest. */
  readonly backup: string | undefined;
  readonly downloaderImage: string;
}

/** mysqld_exporter's official image, pinned (https://github.com/prometheus/mysqld_exporter/releases). */
export const DEFAULT_EXPORTER_IMAGE = 'docker.io/prom/mysqld-exporter:v0.17.2';
/** The uploader and downloader of S3 targets: the AWS CLI v2 image (bash, aws), as MongoDB's backups use it. */
const DUMP_NAME = /^dump-\d{8}T\d{6}Z\.sql\.gz$/;

const DATABASE = /^[A-Za-z0-9_]{1,64}$/;
const USER = /^[A-Za-z_][A-Za-z0-9_]{0,31}$/;
const CHARSET_NAME = /^[a-z0-9_]+$/;
/**
 * Resolves and checks the props of `owner`, whose workload will take
 * `identity`; every problem is an error that names the replica set and the prop.
 * @internal
 */
export function mySqlSettings(owner: IConstruct, props: MySqlReplicaSetProps): MySqlSettings {
  const problem = new Problem('MySqlReplicaSet', owner);
  const flavor = problem.instanceOf('flavor', props.flavor, MySqlFlavor, 'MySqlFlavor.mysql() or MySqlFlavor.mariadb()') ?? MySqlFlavor.mysql();
  const shared = systemUnitProps(problem, props, {
    image: flavor.defaultImage,
    resources: Resources.medium(),
    storageSize: Size.gibibytes(20),
    runAs: { uid: 999, gid: 999 },
    // a clean InnoDB shutdown flushes dirty pages of the whole buffer pool
    terminationGracePeriod: Duration.seconds(120),
    disruptionBudget: { maxUnavailable: 1 },
  });
  const image = checkImageFlavor(problem, shared.image, flavor);
  const resources = shared.resources;
  const bufferPoolMebibytes = bufferPool(problem, props.bufferPool, resources);
  const binlogExpiry = problem.instanceOf('binlogExpiry', props.binlogExpiry, Duration, 'a Duration such as Duration.days(7)') ?? Duration.days(7);
  const binlogExpirySeconds = problem.integer('binlogExpiry (seconds)', binlogExpiry.toSeconds(), 3600, 4294967295);
  const maxReplicaLag = problem.instanceOf('maxReplicaLag', props.maxReplicaLag, Duration, 'a Duration such as Duration.seconds(60)') ?? Duration.seconds(60);
  const maxLagSeconds = problem.integer('maxReplicaLag (seconds)', maxReplicaLag.toSeconds({ integral: false }), 1, 86400);
  const databases = databaseNames(problem, props.databases);
  const users = mySqlUsers(problem, props, databases);
  const monitoring = props.monitoring !== undefined;
  if (props.exporterImage !== undefined && !monitoring) throw problem.error('exporterImage', 'applies with monitoring only: without it there is no exporter');
  const exporterImage = problem.pinnedImage('exporterImage', props.exporterImage) ?? DEFAULT_EXPORTER_IMAGE;
  const backup = backupSettings(problem, props);
  const restore = restoreSettings(problem, props);
  const extraUsers: [string, string][] = [
    ...(monitoring ? [[EXPORTER_USER, EXPORTER_PASSWORD_KEY] as [string, string]] : []),
    ...(backup ? [[BACKUP_USER, BACKUP_PASSWORD_KEY] as [string, string]] : []),
  ];
  const reserved = extraUsers.find(([u]) => users.some((x) => x.name === u));
  if (reserved) throw problem.error('users', `'${reserved[0]}' is reserved for the ${reserved[0] === EXPORTER_USER ? 'metrics exporter (monitoring)' : 'backup CronJob (backup)'}`);
  return {
    problem,
    shared,
    replicas: problem.integer('replicas', props.replicas ?? 3, 1, 100),
    flavor,
    version: imageTag(image),
    bufferPoolMebibytes,
    myCnf: {
      flavor: flavor._name,
      bufferPoolMebibytes,
      maxConnections: problem.integer('maxConnections', props.maxConnections ?? 200, 1, 100000),
      binlogExpirySeconds,
      characterSet: charsetName(problem, 'characterSet', props.characterSet ?? 'utf8mb4', 'character set'),
      collation: charsetName(problem, 'collation', props.collation ?? flavor.defaultCollation, 'collation'),
      extraLines: extraConfig(problem, props.config),
    },
    start: { flavor: flavor._name, binaries: flavor._binaries, databases, users, exporter: monitoring, backup: backup !== undefined, restore: restore !== undefined },
    probe: { flavor: flavor._name, binaries: flavor._binaries, maxLagSeconds },
    maxReplicaLag,
    passwordKeys: new Map([
      ['root', ROOT_PASSWORD_KEY], [REPLICATION_USER, REPLICATION_PASSWORD_KEY], ...users.map((u) => [u.name, u.passwordKey] as [string, string]), ...extraUsers,
    ]),
    existingSecret: props.existingSecret,
    monitoring,
    exporterImage,
    backup,
    restore,
  };
}

function backupSettings(problem: Problem, props: MySqlReplicaSetProps): MySqlBackupSettings | undefined {
  const b = props.backup;
  if (b === undefined) return undefined;
  const basics = checkedBackupBasics(problem, b, {
    schedule: Cron.schedule({ minute: '30', hour: '2' }), verifySchedule: Cron.schedule({ minute: '30', hour: '4', weekDay: '0' }), timeout: Duration.hours(6), uploaderImage: DEFAULT_AWS_CLI_IMAGE,
  });
  const query = b.verifyQuery;
  if (query !== undefined && (typeof query !== 'string' || query.trim() === '' || /[\n\r]/.test(query) || query.trim() === 'SQL')) {
    throw problem.error('backup.verifyQuery', `must be one SQL query on one line whose first value is true for a good backup, e.g. 'SELECT COUNT(*) FROM shop.orders', got ${describe(query)}`);
  }
  return {
    ...basics,
    verifyQuery: query?.trim(),
  };
}

function restoreSettings(problem: Problem, props: MySqlReplicaSetProps): MySqlRestoreSettings | undefined {
  const r = props.restore;
  if (r === undefined) return undefined;
  if (typeof r !== 'object' || r === null) throw problem.error('restore', `must be { source, backup }, got ${describe(r)}`);
  const source = checkedRestoreSource(problem, r.source, 'backups', 'set');
  if (r.backup !== undefined && (typeof r.backup !== 'string' || !DUMP_NAME.test(r.backup))) {
    throw problem.error('restore.backup', `must be a dump's name such as '${DUMP_NAMES.prefix}20260101T023000Z${DUMP_NAMES.suffix}', got ${describe(r.backup)}`);
  }
  if (r.downloaderImage !== undefined && !source.isS3) throw problem.error('restore.downloaderImage', 'applies to BackupTarget.s3(...) only: a claim is mounted, not downloaded');
  return { source, backup: r.backup, downloaderImage: problem.pinnedImage('restore.downloaderImage', r.downloaderImage) ?? DEFAULT_AWS_CLI_IMAGE };
}

/**
 * The image, unless its repository ships the other flavor's server (which
 * would fail in the cluster, not here). Custom repositories are accepted.
 */
function checkImageFlavor(problem: Problem, image: string, flavor: MySqlFlavor): string {
  const repository = image.split('@')[0].replace(/:[^/]*$/, '').split('/').pop()!.toLowerCase();
  const other = [MySqlFlavor.mysql(), MySqlFlavor.mariadb()].find((f) => f.name !== flavor.name && f._repositories.includes(repository));
  if (other) {
    throw problem.error('image', `'${image}' is a ${other._title} image but flavor is ${flavor._title}: use MySqlFlavor.${other.name}(), or a ${flavor.name} image such as '${flavor.defaultImage}'`);
  }
  return image;
}

function bufferPool(problem: Problem, size: Size | undefined, resources: Resources): number {
  const limit = resources.memoryLimitMebibytes;
  const pool = problem.instanceOf('bufferPool', size, Size, 'a Size such as Size.gibibytes(2)');
  const mebibytes = pool ? pool.toMebibytes({ rounding: SizeRoundingBehavior.FLOOR }) : Math.max(Math.floor(limit / 2), 8);
  if (mebibytes >= limit) {
    throw problem.error('bufferPool', `(${mebibytes}Mi) must be smaller than the memory limit (${limit}Mi): the server also needs memory for connections and buffers; about half to three quarters of the limit is typical`);
  }
  if (mebibytes < 8) throw problem.error('bufferPool', `must be at least 8Mi, got ${mebibytes}Mi`);
  return mebibytes;
}

function mySqlUsers(problem: Problem, props: MySqlReplicaSetProps, databases: string[]): MySqlUserSpec[] {
  const users = props.users ?? [];
  if (!Array.isArray(users)) throw problem.error('users', `must be a list of { name, databases }, got ${describe(users)}`);
  const names = new Set<string>();
  return users.map((u) => {
    const name = quoted(u?.name);
    if (typeof u?.name !== 'string' || !USER.test(u.name)) {
      throw problem.error('users', `${name} is not a valid user name (a letter or '_', then letters, digits and '_', at most 32)`);
    }
    if (u.name === 'root' || u.name === REPLICATION_USER) throw problem.error('users', `${name} is reserved`);
    if (names.has(u.name)) throw problem.error('users', `has two users named ${name}`);
    names.add(u.name);
    const grants = strings(problem, `users ${name} databases`, u.databases);
    const unknown = grants.find((d) => !databases.includes(d));
    if (unknown !== undefined) throw problem.error(`users ${name} databases`, `name '${unknown}', which is not in databases (${databases.join(', ') || 'none'})`);
    return { name: u.name, passwordKey: `${u.name}-password`, databases: grants };
  });
}

function databaseNames(problem: Problem, value: string[] | undefined): string[] {
  const databases = strings(problem, 'databases', value);
  const bad = databases.find((d) => !DATABASE.test(d));
  if (bad !== undefined) throw problem.error('databases', `'${bad}' is not a valid database name (letters, digits and '_', at most 64)`);
  if (new Set(databases).size !== databases.length) throw problem.error('databases', `contain duplicates: ${databases.join(', ')}`);
  return databases;
}

function extraConfig(problem: Problem, value: string[] | undefined): string[] {
  const lines = strings(problem, 'config', value);
  for (const line of lines) {
    if (/\n/.test(line)) throw problem.error('config', 'takes one option per entry, without newlines');
    if (/password/i.test(line)) throw problem.error('config', `must not contain passwords ('${line}'): they come from the credentials Secret`);
    if (/^\s*(server[-_]id|read[-_]only|super[-_]read[-_]only)\b/i.test(line)) {
      throw problem.error('config', `must not set '${line.trim()}': server_id and the read-only role come from the ordinal`);
    }
  }
  return lines;
}

/** A list of strings (JavaScript callers can pass anything). */
function strings(problem: Problem, prop: string, value: string[] | undefined): string[] {
  const items = value ?? [];
  if (!Array.isArray(items)) throw problem.error(prop, `must be a list of strings, got ${describe(items)}`);
  const bad = items.findIndex((i) => typeof i !== 'string');
  if (bad >= 0) throw problem.error(prop, `must be a list of strings, got ${describe(items[bad])} in it`);
  return [...items];
}

function charsetName(problem: Problem, prop: string, value: string, what: string): string {
  if (typeof value !== 'string' || !CHARSET_NAME.test(value)) throw problem.error(prop, `must be a ${what} name, got ${quoted(value)}`);
  return value;
}

/** `'name'` for strings, a description of anything else. */
function quoted(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : describe(value);
}
