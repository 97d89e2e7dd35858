// RedisCluster's props, checked once and resolved into what the construct
// renders. Every problem is a construction-time error that names the
// construct and the prop: "RedisCluster '<path>': <prop> <what is allowed>, got X".

import { Cron, Duration, Size } from 'cdk8s';
import { IConstruct } from 'constructs';
import { BackupTarget } from '../core/backup';
import { DEFAULT_AWS_CLI_IMAGE } from '../core/s3';
import { WorkloadIdentity } from '../core/identity';
import { describe, Problem } from '../core/names';
import { Resources } from '../core/resources';
import { RunAs } from '../core/security';
import { SystemUnitProps, systemUnitProps } from '../core/system';
import { BACKUP_SET_PATTERN } from './backup-config';
import { RedisBootstrapSettings, RedisConfSettings, RedisStartSettings } from './config';
import type { RedisClusterProps } from './redis-cluster';

/** The pinned default image (BSD-licensed Redis 7.2). */
export const DEFAULT_REDIS_IMAGE = 'docker.io/library/redis:7.2.7';
/** The pinned default image of the metrics sidecar. */
export const DEFAULT_REDIS_EXPORTER_IMAGE = 'docker.io/oliver006/redis_exporter:v1.67.0';
/** The Secret key that holds the Redis password. */
export const REDIS_PASSWORD_KEY = 'password';
/** Seconds the bootstrap script waits for each node to answer PING. */
export const REDIS_BOOTSTRAP_WAIT_SECONDS = 300;
/**
 * Seconds start.sh waits, at most, for its peers' names to resolve after a
 * restart: DNS follows a new pod within seconds, and the liveness probe gives
 * a silent node about a minute.
 */
export const REDIS_RESOLVE_WAIT_SECONDS = 20;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PASSWORD_DIRECTIVES = /^\s*(requirepass|masterauth|masteruser|user)\b/i;

/** A RedisCluster's props, validated, with every default applied. */
export interface RedisSettings {
  /** Errors name the RedisCluster and the prop. */
  readonly problem: Problem;
  /** The names of the StatefulSet, its Service and its pods. */
  readonly identity: WorkloadIdentity;
  /**
   * The shared knobs for the unit, with Redis's defaults (image, resources,
   * storage, user, grace period, budget); `name` and `clusterDomain` are in
   * `identity`, so they are left out here.
   */
  readonly unit: SystemUnitProps;
  readonly image: string;
  readonly runAs: RunAs;
  readonly masters: number;
  readonly replicasPerMaster: number;
  /** masters × (1 + replicasPerMaster). */
  readonly nodes: number;
  readonly auth: boolean;
  readonly existingSecret: string | undefined;
  /** redis.conf. */
  readonly conf: RedisConfSettings;
  /** start.sh. */
  readonly start: RedisStartSettings;
  /** The bootstrap Job's script. */
  readonly bootstrap: RedisBootstrapSettings;
  /** The metrics sidecar's image, with `monitoring`. */
  readonly exporterImage: string | undefined;
  /** Backups, when `backup` is set. */
  readonly backup: RedisBackupSettings | undefined;
  /** Where the cluster's data comes from, when `restore` is set. */
  readonly restore: RedisRestoreSettings | undefined;
}

/** `backup`, resolved. */
export interface RedisBackupSettings {
  readonly target: BackupTarget;
  readonly schedule: Cron;
  readonly verifySchedule: Cron;
  readonly keep: number;
  readonly maxAge: Duration;
  readonly timeout: Duration;
  readonly uploaderImage: string;
  /** The backup CronJob's name (the backup-age alert selects it). */
  readonly cronJobName: string;
}

/** `restore`, resolved. */
export interface RedisRestoreSettings {
  /** The claim with the backup sets. */
  readonly claimName: string;
  /** The set to restore, or '' for the newest complete one. */
  readonly setName: string;
}

/** Checks `props` (JavaScript and jsii callers can pass anything) and resolves the defaults. */
export function resolveRedisSettings(owner: IConstruct, props: RedisClusterProps): RedisSettings {
  const problem = new Problem('RedisCluster', owner);
  const masters = problem.integer('masters', props.masters ?? 3, 3, 1000);
  const replicasPerMaster = problem.integer('replicasPerMaster', props.replicasPerMaster ?? 1, 0, 10);
  const nodes = masters * (1 + replicasPerMaster);
  const unit = systemUnitProps(problem, props, {
    image: DEFAULT_REDIS_IMAGE,
    resources: Resources.small(),
    storageSize: Size.gibibytes(10),
    runAs: { uid: 999, gid: 999 },
    terminationGracePeriod: Duration.seconds(30),
    disruptionBudget: { maxUnavailable: 1 },
  });
  const { image, resources, runAs } = unit;
  const { auth, existingSecret } = checkAuth(problem, props);
  const identity = WorkloadIdentity.of(owner, { kind: 'RedisCluster', name: props.name, clusterDomain: props.clusterDomain });
  return {
    problem,
    identity,
    unit,
    image,
    runAs,
    masters,
    replicasPerMaster,
    nodes,
    auth,
    existingSecret,
    conf: {
      nodeTimeoutMillis: checkNodeTimeout(problem, props.nodeTimeout),
      maxMemoryMebibytes: Math.floor(resources.memoryLimitMebibytes * checkMaxMemoryFraction(problem, props.maxMemoryFraction)),
      extraLines: checkConfig(problem, props.config),
    },
    start: { headlessServiceName: identity.headlessServiceName, clusterDomain: identity.clusterDomain, auth, resolveWaitSeconds: REDIS_RESOLVE_WAIT_SECONDS },
    bootstrap: {
      nodeHosts: Array.from({ length: nodes }, (_, i) => identity.podFqdn(i)),
      replicasPerMaster,
      waitSeconds: REDIS_BOOTSTRAP_WAIT_SECONDS,
    },
    exporterImage: checkExporterImage(problem, props),
    backup: checkBackup(problem, props, `${identity.name}-backup`),
    restore: checkRestore(problem, props),
  };
}

function checkImageProp(problem: Problem, prop: string, image: unknown): string | undefined {
  if (image !== undefined && (typeof image !== 'string' || image.length === 0)) {
    throw problem.error(prop, `must be an image reference (a string such as 'registry.example.com/name:1.2.3'), got ${describe(image)}`);
  }
  return image;
}

function checkExporterImage(problem: Problem, props: RedisClusterProps): string | undefined {
  const image = checkImageProp(problem, 'exporterImage', props.exporterImage);
  if (props.monitoring === undefined) {
    if (image !== undefined) throw problem.error('exporterImage', 'needs monitoring: the exporter runs only when metrics are scraped');
    return undefined;
  }
  return image ?? DEFAULT_REDIS_EXPORTER_IMAGE;
}

function checkBackup(problem: Problem, props: RedisClusterProps, cronJobName: string): RedisBackupSettings | undefined {
  const b = props.backup;
  if (b === undefined) return undefined;
  if (typeof b !== 'object' || b === null) throw problem.error('backup', `must be { target, schedule, keep, ... }, got ${describe(b)}`);
  const target = problem.instanceOf('backup.target', b.target, BackupTarget, 'BackupTarget.volume({...}) or BackupTarget.s3({...})') ?? BackupTarget.volume();
  target._validate(problem, 'backup.target');
  const uploaderImage = checkImageProp(problem, 'backup.uploaderImage', b.uploaderImage);
  if (uploaderImage !== undefined && !target.isS3) throw problem.error('backup.uploaderImage', 'applies to BackupTarget.s3(...) only: a volume target needs no uploader');
  const maxAge = problem.instanceOf('backup.maxAge', b.maxAge, Duration, 'a Duration such as Duration.hours(48)') ?? Duration.hours(48);
  if (!(maxAge.toSeconds() >= 3600)) throw problem.error('backup.maxAge', `must be at least 1 hour (the age of the last good backup set), got ${maxAge.toSeconds()} s`);
  const timeout = problem.instanceOf('backup.timeout', b.timeout, Duration, 'a Duration such as Duration.hours(2)') ?? Duration.hours(2);
  if (!(timeout.toSeconds() >= 60)) throw problem.error('backup.timeout', `must be at least 1 minute, got ${timeout.toSeconds()} s`);
  return {
    target,
    schedule: problem.instanceOf('backup.schedule', b.schedule, Cron, 'a Cron such as Cron.daily()') ?? Cron.schedule({ minute: '0', hour: '3' }),
    verifySchedule: problem.instanceOf('backup.verifySchedule', b.verifySchedule, Cron, 'a Cron such as Cron.daily()') ?? Cron.schedule({ minute: '0', hour: '5' }),
    keep: problem.integer('backup.keep', b.keep ?? 7, 1, 1000),
    maxAge,
    timeout,
    uploaderImage: uploaderImage ?? DEFAULT_AWS_CLI_IMAGE,
    cronJobName,
  };
}

function checkRestore(problem: Problem, props: RedisClusterProps): RedisRestoreSettings | undefined {
  const r = props.restore;
  if (r === undefined) return undefined;
  if (typeof r !== 'object' || r === null) throw problem.error('restore', `must be { source, backupSet }, got ${describe(r)}`);
  const source = problem.instanceOf('restore.source', r.source, BackupTarget, 'BackupTarget.volume({ existingClaim })');
  if (!source || source.isS3 || !source._volume?.existingClaim) {
    throw problem.error('restore.source', 'must be BackupTarget.volume({ existingClaim: ... }): the claim with the backup sets, in this namespace, that every node can mount (ReadOnlyMany or ReadWriteMany); copy a set from a bucket into such a claim first (see the README)');
  }
  source._validate(problem, 'restore.source');
  const setName = r.backupSet;
  if (setName !== undefined && (typeof setName !== 'string' || !BACKUP_SET_PATTERN.test(setName))) {
    throw problem.error('restore.backupSet', `must name a backup set by its UTC start time, e.g. '20261201T030000Z', got ${describe(setName)}`);
  }
  return { claimName: source._volume.existingClaim, setName: setName ?? '' };
}

function checkAuth(problem: Problem, props: RedisClusterProps): { auth: boolean; existingSecret: string | undefined } {
  const auth = props.auth ?? true;
  if (typeof auth !== 'boolean') throw problem.error('auth', `must be true or false, got ${describe(auth)}`);
  const existingSecret = props.existingSecret;
  if (existingSecret === undefined) return { auth, existingSecret };
  if (!auth) throw problem.error('existingSecret', 'needs auth: true (there is no password to read)');
  if (typeof existingSecret !== 'string' || existingSecret.length > 253 || !DNS_SUBDOMAIN.test(existingSecret)) {
    throw problem.error('existingSecret', `must be the name of a Secret (a DNS-1123 subdomain) with the key '${REDIS_PASSWORD_KEY}', got ${describe(existingSecret)}`);
  }
  return { auth, existingSecret };
}

function checkNodeTimeout(problem: Problem, nodeTimeout: Duration | undefined): number {
  problem.instanceOf('nodeTimeout', nodeTimeout, Duration, 'a Duration such as Duration.seconds(5)');
  return problem.integer('nodeTimeout (ms)', nodeTimeout?.toMilliseconds() ?? 5000, 500, 600000);
}

function checkMaxMemoryFraction(problem: Problem, fraction: number = 0.7): number {
  if (typeof fraction !== 'number' || !(fraction >= 0 && fraction <= 0.9)) {
    throw problem.error('maxMemoryFraction', `must be from 0 to 0.9 (the rest is the AOF rewrite fork and buffers), got ${describe(fraction)}`);
  }
  return fraction;
}

function checkConfig(problem: Problem, config: string[] = []): string[] {
  if (!Array.isArray(config)) throw problem.error('config', `must be a list of redis.conf lines, got ${describe(config)}`);
  for (const line of config) {
    if (typeof line !== 'string') throw problem.error('config', `must be a list of redis.conf lines, got ${describe(line)} in it`);
    if (PASSWORD_DIRECTIVES.test(line)) {
      throw problem.error('config', `must not set '${line.trim().split(/\s+/)[0]}': the password comes from the credentials Secret, never from the ConfigMap`);
    }
    if (/\n/.test(line)) throw problem.error('config', 'takes one directive per entry, without newlines');
  }
  return [...config];
}
