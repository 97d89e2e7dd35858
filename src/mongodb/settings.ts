// MongoReplicaSetProps -> the settings a replica set is built from. Every
// check of the props is here, so the construct only assembles. Errors read
// "MongoReplicaSet '<path>': <prop> <what is allowed>, got X".
import { Cron, Duration, Size, SizeRoundingBehavior } from 'cdk8s';
import { IConstruct } from 'constructs';
import { BackupTarget } from '../core/backup';
import { DEFAULT_AWS_CLI_IMAGE } from '../core/s3';
import { WorkloadIdentity } from '../core/identity';
import { describe, Problem } from '../core/names';
import { Budgets } from '../core/policies';
import { Resources } from '../core/resources';
import { imageTag } from '../core/stateful-workload';
import { SystemUnitProps, systemUnitProps } from '../core/system';
import {
  BACKUP_PASSWORD_KEY, BACKUP_USER, EXPORTER_PASSWORD_KEY, EXPORTER_USER, KEYFILE_KEY, MongoUserSpec, ROOT_PASSWORD_KEY, ROOT_USER,
} from './config';
import type { MongoReplicaSetProps } from './mongo-replica-set';

/**
 * The pinned default image: MongoDB 8.0, the current major release (9.0 is
 * not released), at patch 8.0.20 (2026-03-17). Release notes:
 * https://www.mongodb.com/docs/manual/release-notes/8.0/ ; lifecycle:
 * https://endoflife.date/mongodb (8.0 supported until 2029-10-31).
 */
export const DEFAULT_MONGO_IMAGE = 'docker.io/library/mongo:8.0.20';
/** Percona's exporter (https://github.com/percona/mongodb_exporter), pinned. */
export const DEFAULT_EXPORTER_IMAGE = 'docker.io/percona/mongodb_exporter:0.47.1';
/** The most voting members a replica set may have (MongoDB's limit). */
export const MAX_VOTING_MEMBERS = 7;
/** Smallest WiredTiger cache mongod accepts (`--wiredTigerCacheSizeGB 0.25`). */
export const MIN_CACHE_MEBIBYTES = 256;
/** Memory the container needs beside the cache: connections, the probes' mongosh, the first-boot mongod. */
export const NON_CACHE_MEBIBYTES = 256;

/** The mongodump CronJob, resolved. */
export interface MongoBackupSettings {
  readonly target: BackupTarget;
  readonly schedule: Cron;
  readonly keep: number;
  /** The uploader's image (S3 targets). */
  readonly uploaderImage: string;
  /** `BackupTooOld` fires when no run succeeded for this long. */
  readonly maxAge: Duration;
}

/** The uploader of S3 targets: the AWS CLI v2 image (bash, aws). */

/**
 * A MongoReplicaSet's props, resolved and checked.
 * @internal
 */
export interface MongoSettings {
  readonly problem: Problem;
  readonly identity: WorkloadIdentity;
  /** The shared knobs, type-checked, with MongoDB's defaults applied. */
  readonly shared: SystemUnitProps;
  /** `app.kubernetes.io/version`: the image's tag, if it has one. */
  readonly version: string | undefined;
  /** Data-bearing members. */
  readonly replicas: number;
  readonly arbiter: boolean;
  /** Pods: the data members plus the arbiter. */
  readonly pods: number;
  readonly replicaSetName: string;
  /** `--wiredTigerCacheSizeGB`. */
  readonly cacheSizeGb: number;
  readonly users: MongoUserSpec[];
  readonly databases: string[];
  readonly existingSecret: string | undefined;
  /** Keys of the credentials Secret. */
  readonly keys: string[];
  readonly monitoring: boolean;
  readonly exporterImage: string;
  readonly backup: MongoBackupSettings | undefined;
}

const USER = /^[a-z][a-z0-9_]{0,31}$/;
const DATABASE = /^[A-Za-z0-9_-]{1,63}$/;
const RESERVED_DATABASES = ['admin', 'local', 'config'];
const REPLICA_SET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Resolves and checks the props of `owner`; every problem names the replica set and the prop. */
export function mongoSettings(owner: IConstruct, props: MongoReplicaSetProps): MongoSettings {
  const problem = new Problem('MongoReplicaSet', owner);
  const identity = WorkloadIdentity.of(owner, { kind: 'MongoReplicaSet', name: props.name, clusterDomain: props.clusterDomain });
  const { replicas, arbiter } = members(problem, props);
  const pods = replicas + (arbiter ? 1 : 0);
  const shared = systemUnitProps(problem, props, {
    image: DEFAULT_MONGO_IMAGE,
    resources: Resources.medium(),
    storageSize: Size.gibibytes(20),
    runAs: { uid: 999, gid: 999 },
    terminationGracePeriod: Duration.seconds(60),
    disruptionBudget: Budgets.quorum(pods),
  });
  const databases = databaseNames(problem, props.databases);
  const users = mongoUsers(problem, props, databases);
  const monitoring = shared.monitoring !== undefined;
  const backup = backupSettings(problem, props);
  const keys = [
    ROOT_PASSWORD_KEY, KEYFILE_KEY,
    ...(monitoring ? [EXPORTER_PASSWORD_KEY] : []),
    ...(backup ? [BACKUP_PASSWORD_KEY] : []),
    ...users.map((u) => u.passwordKey),
  ];
  return {
    problem,
    identity,
    shared,
    version: imageTag(shared.image),
    replicas,
    arbiter,
    pods,
    replicaSetName: replicaSetName(problem, props.replicaSetName ?? identity.name),
    cacheSizeGb: cacheSize(problem, props.wiredTigerCacheSize, shared.resources),
    users,
    databases,
    existingSecret: props.existingSecret,
    keys,
    monitoring,
    exporterImage: exporterImage(problem, props.exporterImage, monitoring),
    backup,
  };
}

/** An odd number of voting members, so a majority survives the loss of a minority. */
function members(problem: Problem, props: MongoReplicaSetProps): { replicas: number; arbiter: boolean } {
  if (props.arbiter !== undefined && typeof props.arbiter !== 'boolean') throw problem.error('arbiter', `must be true or false, got ${describe(props.arbiter)}`);
  const arbiter = props.arbiter ?? false;
  const max = MAX_VOTING_MEMBERS - (arbiter ? 1 : 0);
  const replicas = problem.integer('replicas', props.replicas ?? 3, 1, max);
  if (!arbiter && replicas % 2 === 0) {
    throw problem.error('replicas', `must be an odd number (1, 3, 5 or 7) so that a majority of the voting members survives the loss of one, got ${replicas}: use ${replicas - 1} or ${replicas + 1}, or keep ${replicas} data members and add arbiter: true`);
  }
  if (arbiter && replicas % 2 === 1) {
    throw problem.error('replicas', `must be even (2, 4 or 6) with arbiter: true, so that the voting members (replicas + 1 arbiter) are odd, got ${replicas}: use ${replicas + 1}, or drop the arbiter`);
  }
  return { replicas, arbiter };
}

function replicaSetName(problem: Problem, name: string): string {
  if (typeof name !== 'string' || !REPLICA_SET_NAME.test(name)) {
    throw problem.error('replicaSetName', `must be 1 to 64 letters, digits, '_', '.' and '-', starting with a letter or digit, got ${describe(name)}`);
  }
  return name;
}

/**
 * The WiredTiger cache: by default MongoDB's own rule, 50% of (memory - 1 GiB)
 * and at least 256 MiB, applied to the container's memory limit instead of
 * the node's RAM (which mongod would otherwise see). It must leave 256 MiB of
 * the limit for everything else.
 */
function cacheSize(problem: Problem, size: Size | undefined, resources: Resources): number {
  const limit = resources.memoryLimitMebibytes;
  const given = problem.instanceOf('wiredTigerCacheSize', size, Size, 'a Size such as Size.gibibytes(1)');
  const mebibytes = given
    ? given.toMebibytes({ rounding: SizeRoundingBehavior.FLOOR })
    : Math.max(MIN_CACHE_MEBIBYTES, Math.floor((limit - 1024) / 2));
  if (mebibytes < MIN_CACHE_MEBIBYTES) {
    throw problem.error('wiredTigerCacheSize', `must be at least ${MIN_CACHE_MEBIBYTES}Mi (mongod's minimum, 0.25 GB), got ${mebibytes}Mi`);
  }
  if (mebibytes + NON_CACHE_MEBIBYTES > limit) {
    const prop = given ? 'wiredTigerCacheSize' : 'resources';
    throw problem.error(prop, `leave no room: a ${mebibytes}Mi WiredTiger cache plus ${NON_CACHE_MEBIBYTES}Mi for connections and tools does not fit the ${limit}Mi memory limit; raise the memory limit to at least ${mebibytes + NON_CACHE_MEBIBYTES}Mi${given ? ' or lower wiredTigerCacheSize' : ''}`);
  }
  return Math.floor((mebibytes / 1024) * 100) / 100;
}

function databaseNames(problem: Problem, value: string[] | undefined): string[] {
  const databases = strings(problem, 'databases', value);
  for (const d of databases) {
    if (!DATABASE.test(d)) throw problem.error('databases', `'${d}' is not a valid database name (letters, digits, '_' and '-', at most 63)`);
    if (RESERVED_DATABASES.includes(d)) throw problem.error('databases', `'${d}' is a system database`);
  }
  if (new Set(databases).size !== databases.length) throw problem.error('databases', `contain duplicates: ${databases.join(', ')}`);
  return databases;
}

function mongoUsers(problem: Problem, props: MongoReplicaSetProps, databases: string[]): MongoUserSpec[] {
  const users = props.users ?? [];
  if (!Array.isArray(users)) throw problem.error('users', `must be a list of { name, databases }, got ${describe(users)}`);
  const names = new Set<string>();
  return users.map((u) => {
    const name = typeof u?.name === 'string' ? `'${u.name}'` : describe(u?.name);
    if (typeof u?.name !== 'string' || !USER.test(u.name)) {
      throw problem.error('users', `${name} is not a valid user name (a lower-case letter, then lower-case letters, digits and '_', at most 32)`);
    }
    if ([ROOT_USER, EXPORTER_USER, BACKUP_USER].includes(u.name)) throw problem.error('users', `${name} is reserved`);
    if (names.has(u.name)) throw problem.error('users', `has two users named ${name}`);
    names.add(u.name);
    const grants = strings(problem, `users ${name} databases`, u.databases);
    if (grants.length === 0) throw problem.error(`users ${name} databases`, 'must name at least one database');
    const unknown = grants.find((d) => !databases.includes(d));
    if (unknown !== undefined) throw problem.error(`users ${name} databases`, `name '${unknown}', which is not in databases (${databases.join(', ') || 'none'})`);
    if (u.readOnly !== undefined && typeof u.readOnly !== 'boolean') throw problem.error(`users ${name} readOnly`, `must be true or false, got ${describe(u.readOnly)}`);
    return { name: u.name, passwordKey: `${u.name}-password`, passwordEnv: `MONGO_PASSWORD_${u.name.toUpperCase()}`, databases: grants, readOnly: u.readOnly ?? false };
  });
}

function backupSettings(problem: Problem, props: MongoReplicaSetProps): MongoBackupSettings | undefined {
  const b = props.backup;
  if (b === undefined) return undefined;
  if (typeof b !== 'object' || b === null) throw problem.error('backup', `must be { target, schedule, keep, maxAge }, got ${describe(b)}`);
  const target = problem.instanceOf('backup.target', b.target, BackupTarget, 'BackupTarget.volume({...})') ?? BackupTarget.volume();
  target._validate(problem, 'backup.target');
  if (b.uploaderImage !== undefined && typeof b.uploaderImage !== 'string') throw problem.error('backup.uploaderImage', `must be an image reference, got ${describe(b.uploaderImage)}`);
  if (b.uploaderImage !== undefined && !target.isS3) throw problem.error('backup.uploaderImage', 'applies to BackupTarget.s3(...) only: a volume target needs no uploader');
  const schedule = problem.instanceOf('backup.schedule', b.schedule, Cron, 'a Cron such as Cron.daily()') ?? Cron.schedule({ minute: '30', hour: '2' });
  const maxAge = problem.instanceOf('backup.maxAge', b.maxAge, Duration, 'a Duration such as Duration.hours(48)') ?? Duration.hours(48);
  return { target, schedule, keep: problem.integer('backup.keep', b.keep ?? 7, 1, 1000), uploaderImage: b.uploaderImage ?? DEFAULT_AWS_CLI_IMAGE, maxAge };
}

function exporterImage(problem: Problem, image: string | undefined, monitoring: boolean): string {
  if (image !== undefined && typeof image !== 'string') throw problem.error('exporterImage', `must be an image reference, got ${describe(image)}`);
  if (image !== undefined && !monitoring) throw problem.error('exporterImage', 'needs monitoring: the exporter runs only with monitoring set');
  return image ?? DEFAULT_EXPORTER_IMAGE;
}

/** A list of strings (JavaScript callers can pass anything). */
function strings(problem: Problem, prop: string, value: string[] | undefined): string[] {
  const items = value ?? [];
  if (!Array.isArray(items)) throw problem.error(prop, `must be a list of strings, got ${describe(items)}`);
  const bad = items.findIndex((i) => typeof i !== 'string');
  if (bad >= 0) throw problem.error(prop, `must be a list of strings, got ${describe(items[bad])} in it`);
  return [...items];
}
