// What a MySqlReplicaSet adds for day-2 operations: the mysqld_exporter
// sidecar (its alerts are in alerts.ts), the dump CronJob, the
// restore-verify CronJob and the restore init container of a set created
// from a backup.
import { Cron, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { BackupTarget, s3Location } from '../core/backup';
import { Credentials } from '../core/credentials';
import { WorkloadIdentity } from '../core/identity';
import { ScheduledJob } from '../core/job';
import { ConfigFile, PortRole, SecretVolume, WorkloadContainer, WorkloadVolume } from '../core/pod-spec';
import { k8s } from '../core/private/k8s';
import { Resources } from '../core/resources';
import { renderS3DownloadScript, renderS3UploadScript } from '../core/s3';
import { StatefulWorkload } from '../core/stateful-workload';
import { Storage } from '../core/storage';
import {
  EXPORTER_MY_CNF, renderBackupScript, renderExporterCnfScript, renderRestoreCopyScript, renderRestoreVerifyScript, restoreGuard,
} from './backup-config';
import {
  BACKUP_PASSWORD_KEY, DUMP_NAMES, EXPORTER_PASSWORD_KEY, MYSQL_CONFIG_DIR, MYSQL_EXPORTER_DIR, MYSQL_EXPORTER_PORT, MYSQL_EXPORTER_SECRET_DIR,
  MYSQL_RESTORE_DIR, MYSQL_VOLUME_DIR,
} from './config';
import type { MySqlRestoreSettings, MySqlSettings } from './settings';

/** Scheduled logical backups of a MySqlReplicaSet. */
export interface MySqlBackupOptions {
  /**
   * Where dumps go: a claim (the CronJob mounts it), or an S3-compatible
   * bucket (the dump goes to scratch space, then `uploaderImage` ships it).
   * @default BackupTarget.volume()
   */
  readonly target?: BackupTarget;
  /**
   * When the dump runs (the controller manager's time zone).
   * @default - every day at 02:30
   */
  readonly schedule?: Cron;
  /**
   * Dumps kept: after each run only the newest `keep` remain.
   * @default 7
   */
  readonly keep?: number;
  /**
   * Longest a dump may run (the Job's activeDeadlineSeconds).
   * @default Duration.hours(6)
   */
  readonly timeout?: Duration;
  /**
   * With `monitoring`: `BackupTooOld` fires when no dump succeeded for this
   * long (kube-state-metrics' `kube_cronjob_status_last_successful_time`);
   * keep it above the interval of `schedule`.
   * @default Duration.hours(48)
   */
  readonly maxAge?: Duration;
  /**
   * Image of the uploader (and downloader) of an S3 target: bash and the AWS CLI v2 (`aws`).
   * @default 'docker.io/amazon/aws-cli:2.27.0'
   */
  readonly uploaderImage?: string;
  /**
   * When the restore-verify Job loads the newest dump into a scratch server
   * of its own and checks it.
   * @default - Sundays at 04:30
   */
  readonly verifySchedule?: Cron;
  /**
   * A query the restore-verify Job runs on the loaded dump, on one line;
   * its first value must be neither empty, NULL nor 0 (e.g.
   * `SELECT COUNT(*) FROM shop.orders`).
   * @default - the dump must hold at least one table
   */
  readonly verifyQuery?: string;
}

/**
 * Where a new MySqlReplicaSet gets its data from: its primary loads a dump of
 * `MySqlBackupOptions` on its first initialization (once the dump's sha256
 * is verified), then creates this set's users; replicas copy the primary as
 * usual.
 */
export interface MySqlRestoreOptions {
  /**
   * Where the dumps are: the backed-up set's bucket (with its `prefix`), or
   * a claim in this namespace that holds them (`existingClaim`); every member
   * mounts that claim read-only, so it must allow that (ReadOnlyMany or
   * ReadWriteMany, or all members on one node).
   */
  readonly source: BackupTarget;
  /**
   * The dump to load, e.g. 'dump-20260101T023000Z.sql.gz'.
   * @default - the newest
   */
  readonly backup?: string;
  /**
   * Image of the downloader of an S3 source: bash and the AWS CLI v2 (`aws`).
   * @default 'docker.io/amazon/aws-cli:2.27.0'
   */
  readonly downloaderImage?: string;
}

/** Where the backup Jobs mount a claim target, or keep a download. */
const BACKUP_DIR = '/backup';
/** The restore-verify Job's scratch server. */
const SCRATCH_DIR = '/scratch';
const TMP: WorkloadVolume = { name: 'tmp', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(64) }) };
const HOME_TMP = { HOME: kplus.EnvValue.fromValue('/tmp') };

/**
 * The init container that writes the exporter's option file, and the
 * mysqld_exporter sidecar that reads it: the `exporter` user over loopback
 * TCP, the collectors the alerts use, no probe (a failing exporter must not
 * take the member out of its Services). The flags exist in every
 * mysqld_exporter from 0.14 (Debian 12) to the pinned image.
 * @internal
 */
export function exporterContainers(image: string): { init: WorkloadContainer; sidecar: WorkloadContainer } {
  return {
    init: {
      name: 'exporter-cnf',
      command: ['bash', `${MYSQL_CONFIG_DIR}/exporter-cnf.sh`],
      mounts: [
        { volume: 'exporter-credentials', path: MYSQL_EXPORTER_SECRET_DIR, readOnly: true },
        { volume: 'exporter', path: MYSQL_EXPORTER_DIR },
      ],
      resources: Resources.of({ cpuMillis: 10, memory: Size.mebibytes(32) }),
    },
    sidecar: {
      name: 'exporter',
      image,
      command: ['mysqld_exporter'],
      args: [
        `--config.my-cnf=${EXPORTER_MY_CNF}`,
        `--web.listen-address=:${MYSQL_EXPORTER_PORT}`,
        '--collect.global_status',
        '--collect.global_variables',
        '--collect.slave_status',
        '--exporter.lock_wait_timeout=2',
      ],
      ports: [{ name: 'metrics', port: MYSQL_EXPORTER_PORT, role: PortRole.METRICS }],
      mounts: [{ volume: 'exporter', path: MYSQL_EXPORTER_DIR, readOnly: true }],
      resources: Resources.of({ cpuMillis: 50, memory: Size.mebibytes(64) }),
    },
  };
}

/**
 * What a feature adds to the unit's pods.
 * @internal
 */
export interface UnitParts {
  readonly volumes?: WorkloadVolume[];
  readonly secretVolumes?: SecretVolume[];
  readonly configFiles?: ConfigFile[];
  readonly initContainers?: WorkloadContainer[];
  readonly containers?: WorkloadContainer[];
}

/**
 * The volumes, config file and containers of `monitoring` for the unit.
 * @internal
 */
export function exporterUnitParts(s: MySqlSettings, credentials: Credentials): UnitParts {
  const c = exporterContainers(s.exporterImage);
  return {
    volumes: [{ name: 'exporter', storage: Storage.ephemeral({ memory: true, sizeLimit: Size.mebibytes(1) }) }],
    secretVolumes: [{ name: 'exporter-credentials', secretName: credentials.secretName, keys: [EXPORTER_PASSWORD_KEY] }],
    configFiles: [{ path: `${MYSQL_CONFIG_DIR}/exporter-cnf.sh`, content: renderExporterCnfScript(), executable: true }],
    initContainers: [c.init],
    containers: [c.sidecar],
  };
}

/**
 * The restore init container of a set created from a backup: on a fresh
 * primary only, it puts one dump and its `.sha256` in MYSQL_RESTORE_DIR on
 * the data claim (downloaded from the bucket, or copied from the source
 * claim), where start.sh verifies and loads it.
 * @internal
 */
export function restoreUnitParts(r: MySqlRestoreSettings, scope: Construct): UnitParts {
  const dataMount = { volume: 'data', path: MYSQL_VOLUME_DIR };
  if (r.source._s3) {
    const script = renderS3DownloadScript({
      ...s3Location(r.source, '', '/tmp'), dir: MYSQL_RESTORE_DIR, names: DUMP_NAMES, backup: r.backup, guard: restoreGuard(),
    });
    return {
      volumes: [TMP],
      configFiles: [{ path: `${MYSQL_CONFIG_DIR}/restore.sh`, content: script, executable: true }],
      initContainers: [{
        name: 'restore', image: r.downloaderImage, command: ['bash', `${MYSQL_CONFIG_DIR}/restore.sh`],
        // a scope of its own: the set's backup target may name a Secret too
        env: { ...HOME_TMP, ...r.source._credentialsEnv(new Construct(scope, 'RestoreSource')) },
        mounts: [dataMount, { volume: 'tmp', path: '/tmp' }],
        resources: Resources.of({ cpuMillis: 100, memory: Size.mebibytes(256) }),
      }],
    };
  }
  return {
    volumes: [{ name: 'restore-source', storage: Storage.existingClaim(r.source._volume!.existingClaim!) }],
    configFiles: [{ path: `${MYSQL_CONFIG_DIR}/restore.sh`, content: renderRestoreCopyScript({ source: BACKUP_DIR, backup: r.backup }), executable: true }],
    initContainers: [{
      name: 'restore', command: ['bash', `${MYSQL_CONFIG_DIR}/restore.sh`],
      mounts: [dataMount, { volume: 'restore-source', path: BACKUP_DIR, readOnly: true }],
      resources: Resources.of({ cpuMillis: 100, memory: Size.mebibytes(128) }),
    } as WorkloadContainer],
  };
}

/**
 * Name of the dump CronJob (`BackupTooOld` watches it).
 * @internal
 */
export function backupCronJobName(identity: WorkloadIdentity): string {
  return `${identity.name}-backup`;
}

/**
 * What the backup Jobs need from the replica set.
 * @internal
 */
export interface BackupJobsProps {
  readonly s: MySqlSettings;
  readonly identity: WorkloadIdentity;
  readonly workload: StatefulWorkload;
  readonly credentials: Credentials;
}

/**
 * The dump CronJob `<name>-backup` and the restore-verify CronJob
 * `<name>-restore-verify`; the dump's pods are admitted to the SQL port.
 * @internal
 */
export function addBackupJobs(scope: Construct, p: BackupJobsProps): { backup: k8s.KubeCronJob; verify: k8s.KubeCronJob } {
  const { s, identity, workload } = p;
  const b = s.backup!;
  const s3 = b.target._s3;
  const labels = (component: string) => ({ ...workload.labels, 'app.kubernetes.io/component': component });
  const claim = s3 ? undefined : b.target._claimName(scope, identity.name, labels('backup'));
  // a claim takes the dumps directly; for a bucket, the dump goes to scratch space and an uploader ships it
  const store: WorkloadVolume = { name: 'backup', storage: claim ? Storage.existingClaim(claim) : Storage.ephemeral() };
  const hosts = s.replicas > 1 ? Array.from({ length: s.replicas - 1 }, (_, i) => identity.podFqdn(i + 1)) : [identity.podFqdn(0)];
  const dump: WorkloadContainer = {
    name: 'dump',
    image: s.shared.image,
    command: ['bash', '-c', renderBackupScript({
      flavor: s.flavor._name, binaries: s.flavor._binaries, hosts, dir: BACKUP_DIR, keep: s3 ? undefined : b.keep, tmpDir: '/tmp',
    })],
    env: { ...HOME_TMP, MYSQL_BACKUP_PASSWORD: p.credentials.envValue(BACKUP_PASSWORD_KEY) },
    resources: Resources.of({ cpuMillis: 250, memory: Size.mebibytes(256) }),
    mounts: [{ volume: 'backup', path: BACKUP_DIR }, { volume: 'tmp', path: '/tmp' }],
  };
  const common = {
    problem: s.problem,
    runAs: s.shared.runAs,
    imagePullPolicy: s.shared.imagePullPolicy,
  };
  const s3Env = s3 ? b.target._credentialsEnv(scope) : {};
  const aws = (name: string, script: string, readOnly: boolean): WorkloadContainer => ({
    name,
    image: b.uploaderImage,
    command: ['bash', '-c', script],
    env: { ...HOME_TMP, ...s3Env },
    resources: Resources.of({ cpuMillis: 100, memory: Size.mebibytes(256) }),
    mounts: [{ volume: 'backup', path: BACKUP_DIR, readOnly }, { volume: 'tmp', path: '/tmp' }],
  });
  const location = s3 ? s3Location(b.target, identity.name, '/tmp') : undefined;
  const backup = new ScheduledJob(scope, 'Backup', {
    ...common,
    name: backupCronJobName(identity),
    labels: labels('backup'),
    schedule: b.schedule,
    backoffLimit: 2,
    activeDeadline: b.timeout,
    startingDeadline: Duration.hours(1),
    ...(location
      ? { initContainers: [dump], container: aws('upload', renderS3UploadScript({ ...location, dir: BACKUP_DIR, names: DUMP_NAMES, keep: b.keep }), true) }
      : { container: dump }),
    volumes: [store, TMP],
  });
  if (workload.networkPolicy) workload.allowClients(backup.peer(), ['mysql']);

  const verifyContainer: WorkloadContainer = {
    name: 'verify',
    image: s.shared.image,
    command: ['bash', '-c', renderRestoreVerifyScript({
      flavor: s.flavor._name, binaries: s.flavor._binaries, dir: BACKUP_DIR, scratchDir: SCRATCH_DIR, query: b.verifyQuery,
    })],
    env: HOME_TMP,
    resources: Resources.of({ cpuMillis: 500, memory: Size.mebibytes(512) }),
    mounts: [{ volume: 'backup', path: BACKUP_DIR, readOnly: true }, { volume: 'scratch', path: SCRATCH_DIR }, { volume: 'tmp', path: '/tmp' }],
  };
  const verify = new ScheduledJob(scope, 'RestoreVerify', {
    ...common,
    name: `${identity.name}-restore-verify`,
    labels: labels('restore-verify'),
    schedule: b.verifySchedule,
    backoffLimit: 1,
    activeDeadline: b.timeout,
    startingDeadline: Duration.hours(1),
    ...(location
      ? {
        initContainers: [aws('download', renderS3DownloadScript({ ...location, dir: BACKUP_DIR, names: DUMP_NAMES }), false)],
        container: verifyContainer,
      }
      : { container: verifyContainer }),
    // the claim is only read; for a bucket, the download lands in scratch space
    volumes: [claim ? store : { name: 'backup', storage: Storage.ephemeral() }, { name: 'scratch', storage: Storage.ephemeral() }, TMP],
  });
  return { backup: backup.cronJob, verify: verify.cronJob };
}
