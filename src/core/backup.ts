import { Cron, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { describe, Problem } from './names';
import { k8s } from './private/k8s';
import { AccessMode } from './storage';
import type { S3Location } from './s3';

/** How a bucket is addressed. */
export enum S3UriStyle {
  /** `https://<bucket>.<endpoint>/` (AWS and most providers). */
  HOST = 'host',
  /** `https://<endpoint>/<bucket>/` (MinIO, Ceph RGW without wildcard DNS). */
  PATH = 'path',
}

/** Options of `BackupTarget.s3`. */
export interface S3BackupTargetOptions {
  /** Endpoint host (and port), e.g. `s3.eu-west-1.amazonaws.com` or `minio.backup.svc:9000`. */
  readonly endpoint: string;
  /** Bucket name. */
  readonly bucket: string;
  /**
   * Region of the bucket.
   * @default 'us-east-1'
   */
  readonly region?: string;
  /**
   * Name of a Secret (in the system's namespace) with the keys
   * `access-key-id` and `secret-access-key`.
   */
  readonly credentialsSecret: string;
  /**
   * Path inside the bucket under which the system keeps its backups.
   * @default - the system's name
   */
  readonly prefix?: string;
  /**
   * How the bucket is addressed.
   * @default S3UriStyle.HOST
   */
  readonly uriStyle?: S3UriStyle;
  /**
   * Verify the endpoint's TLS certificate. Turn off only for a test endpoint
   * with a self-signed certificate.
   * @default true
   */
  readonly verifyTls?: boolean;
}

/** Options of `BackupTarget.volume`. */
export interface VolumeBackupTargetOptions {
  /**
   * Capacity of the backup claim (ignored with `existingClaim`).
   * @default Size.gibibytes(50)
   */
  readonly size?: Size;
  /**
   * StorageClass of the backup claim: ideally not the one of the data, so a
   * storage failure cannot take both.
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
  /**
   * Use this existing PersistentVolumeClaim instead of creating one.
   * @default - a claim `<name>-backup` is created
   */
  readonly existingClaim?: string;
}

/** The Secret keys an S3 target's `credentialsSecret` must hold. */
const S3_KEYS = { accessKeyId: 'access-key-id', secretAccessKey: 'secret-access-key' };

/**
 * Where backups go: a PersistentVolumeClaim (the default, nothing outside
 * the cluster needed) or an S3-compatible bucket (AWS S3, MinIO, Ceph RGW,
 * GCS interoperability), which survives the loss of the cluster.
 */
export class BackupTarget {
  /** A PersistentVolumeClaim of its own (or an existing one). */
  public static volume(options: VolumeBackupTargetOptions = {}): BackupTarget {
    return new BackupTarget(options, undefined);
  }

  /** An S3-compatible bucket; credentials come from a Secret, TLS is verified. */
  public static s3(options: S3BackupTargetOptions): BackupTarget {
    return new BackupTarget(undefined, options);
  }

  private constructor(
    /** @internal */ public readonly _volume: VolumeBackupTargetOptions | undefined,
    /** @internal */ public readonly _s3: S3BackupTargetOptions | undefined,
  ) {}

  /** True for an S3-compatible bucket, false for a volume. */
  public get isS3(): boolean {
    return this._s3 !== undefined;
  }

  /**
   * Throws unless the options are usable.
   * @internal
   */
  public _validate(problem: Problem, prop: string): void {
    const v = this._volume;
    if (v) {
      if (v.size !== undefined && !(v.size instanceof Size)) throw problem.error(`${prop} size`, `must be a Size such as Size.gibibytes(50), got ${describe(v.size)}`);
      if (v.existingClaim !== undefined) problem.dnsLabel(`${prop} existingClaim`, v.existingClaim, 253);
      return;
    }
    const s = this._s3!;
    if (typeof s.endpoint !== 'string' || !/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(s.endpoint)) {
      throw problem.error(`${prop} endpoint`, `must be a host name with an optional port (no scheme, no path), e.g. 's3.eu-west-1.amazonaws.com', got ${describe(s.endpoint)}`);
    }
    if (typeof s.bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s.bucket)) {
      throw problem.error(`${prop} bucket`, `must be a bucket name (3-63 lower-case letters, digits, '.' and '-'), got ${describe(s.bucket)}`);
    }
    problem.dnsLabel(`${prop} credentialsSecret`, s.credentialsSecret, 253);
    if (s.prefix !== undefined && (typeof s.prefix !== 'string' || !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(s.prefix))) {
      throw problem.error(`${prop} prefix`, `must be a relative path of letters, digits, '.', '_', '-' and '/', got ${describe(s.prefix)}`);
    }
  }

  /**
   * The claim backups are written to: `existingClaim`, or a new claim
   * `<name>-backup`. Volume targets only.
   * @internal
   */
  public _claimName(scope: Construct, name: string, labels: { [key: string]: string }): string {
    const v = this._volume!;
    if (v.existingClaim) return v.existingClaim;
    new k8s.KubePersistentVolumeClaim(scope, 'BackupClaim', {
      metadata: { name: `${name}-backup`, labels },
      spec: {
        accessModes: [AccessMode.READ_WRITE_ONCE],
        ...(v.storageClassName ? { storageClassName: v.storageClassName } : {}),
        resources: { requests: { storage: k8s.Quantity.fromString((v.size ?? Size.gibibytes(50)).asString()) } },
      },
    });
    return `${name}-backup`;
  }

  /**
   * The S3 credentials as env values (AWS_ACCESS_KEY_ID,
   * AWS_SECRET_ACCESS_KEY) read from the Secret. S3 targets only.
   * @internal
   */
  public _credentialsEnv(scope: Construct): { [name: string]: kplus.EnvValue } {
    const secret = kplus.Secret.fromSecretName(scope, 'BackupCredentials', this._s3!.credentialsSecret);
    return {
      AWS_ACCESS_KEY_ID: kplus.EnvValue.fromSecretValue({ secret, key: S3_KEYS.accessKeyId }),
      AWS_SECRET_ACCESS_KEY: kplus.EnvValue.fromSecretValue({ secret, key: S3_KEYS.secretAccessKey }),
    };
  }
}

/**
 * The bucket location of an S3 target, whose prefix defaults to `defaultPrefix`
 * (the system's name). S3 targets only.
 */
export function s3Location(target: BackupTarget, defaultPrefix: string, tmpDir: string): S3Location {
  const s3 = target._s3!;
  return {
    target: `s3://${s3.bucket}/${s3.prefix ?? defaultPrefix}`,
    endpointUrl: `https://${s3.endpoint}`,
    region: s3.region ?? 'us-east-1',
    pathStyle: s3.uriStyle === S3UriStyle.PATH,
    verifyTls: s3.verifyTls ?? true,
    tmpDir,
  };
}

/**
 * `restore.source` of a system, checked: a BackupTarget that names the claim
 * holding the `files` (`existingClaim`), or a bucket with the `prefix` the
 * backed-up `owner` wrote to (a default prefix would be this one's name).
 * @internal
 */
export function checkedRestoreSource(problem: Problem, source: BackupTarget | undefined, files: string, owner: string): BackupTarget {
  problem.instanceOf('restore.source', source, BackupTarget, `BackupTarget.volume({ existingClaim }) or BackupTarget.s3({...}) where the ${files} are`);
  if (source === undefined) throw problem.error('restore.source', `is required: the BackupTarget the ${files} were written to`);
  source._validate(problem, 'restore.source');
  if (source._volume && source._volume.existingClaim === undefined) {
    throw problem.error('restore.source', `must name the claim that holds the ${files}: BackupTarget.volume({ existingClaim: '<name>-backup' })`);
  }
  if (source._s3 && source._s3.prefix === undefined) {
    throw problem.error('restore.source prefix', `must be set to where the backed-up ${owner} wrote (its name, unless its backup target set a prefix): the default prefix is this ${owner}'s own name`);
  }
  return source;
}

/** The `backup` options every system shares. @internal */
export interface BackupBasics {
  readonly target?: BackupTarget;
  readonly schedule?: Cron;
  readonly keep?: number;
  readonly uploaderImage?: string;
  readonly timeout?: Duration;
  readonly maxAge?: Duration;
  readonly verifySchedule?: Cron;
}

/** Defaults of the shared `backup` options that differ between systems. @internal */
export interface BackupDefaults {
  readonly schedule: Cron;
  readonly verifySchedule: Cron;
  readonly timeout: Duration;
  readonly uploaderImage: string;
}

/** The shared `backup` options, checked and resolved. @internal */
export interface CheckedBackupBasics {
  readonly target: BackupTarget;
  readonly schedule: Cron;
  readonly keep: number;
  readonly timeout: Duration;
  readonly maxAge: Duration;
  readonly uploaderImage: string;
  readonly verifySchedule: Cron;
}

/**
 * The shared `backup` options of a system, checked, with their defaults:
 * the target (a claim of its own), keep (7, up to 1000), the run's timeout
 * (5 minutes to 7 days) and the age that alerts (48 hours, 1 hour to a year).
 * @internal
 */
export function checkedBackupBasics(problem: Problem, b: BackupBasics, d: BackupDefaults): CheckedBackupBasics {
  if (typeof b !== 'object' || b === null) throw problem.error('backup', `must be { target, schedule, keep, ... }, got ${describe(b)}`);
  const target = problem.instanceOf('backup.target', b.target, BackupTarget, 'BackupTarget.volume({...}) or BackupTarget.s3({...})') ?? BackupTarget.volume();
  target._validate(problem, 'backup.target');
  if (b.uploaderImage !== undefined && !target.isS3) throw problem.error('backup.uploaderImage', 'applies to BackupTarget.s3(...) only: a volume target needs no uploader');
  const timeout = problem.instanceOf('backup.timeout', b.timeout, Duration, `a Duration such as Duration.hours(${d.timeout.toHours({ integral: false })})`) ?? d.timeout;
  problem.integer('backup.timeout (minutes)', timeout.toMinutes({ integral: false }), 5, 7 * 24 * 60);
  const maxAge = problem.instanceOf('backup.maxAge', b.maxAge, Duration, 'a Duration such as Duration.hours(48)') ?? Duration.hours(48);
  problem.integer('backup.maxAge (hours)', maxAge.toHours({ integral: false }), 1, 24 * 366);
  return {
    target,
    schedule: problem.instanceOf('backup.schedule', b.schedule, Cron, 'a Cron such as Cron.daily()') ?? d.schedule,
    keep: problem.integer('backup.keep', b.keep ?? 7, 1, 1000),
    timeout,
    maxAge,
    uploaderImage: problem.pinnedImage('backup.uploaderImage', b.uploaderImage) ?? d.uploaderImage,
    verifySchedule: problem.instanceOf('backup.verifySchedule', b.verifySchedule, Cron, 'a Cron such as Cron.weekly()') ?? d.verifySchedule,
  };
}
