import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { s3Location } from '../core/backup';
import { S3Location } from '../core/s3';
import { ScheduledJob } from '../core/job';
import { WorkloadContainer, WorkloadVolume } from '../core/pod-spec';
import { Resources } from '../core/resources';
import { StatefulWorkload } from '../core/stateful-workload';
import { Storage } from '../core/storage';
import {
  REDIS_BACKUP_DIR, REDIS_RESTORE_DIR, renderRedisBackupScript, renderRedisRestoreScript, renderRedisS3DownloadScript,
  renderRedisS3UploadScript, renderRedisVerifyScript,
} from './backup-config';
import { REDIS_DATA_DIR, REDIS_RUN_DIR } from './config';
import type { RedisSettings } from './settings';

/** Environment variables of a container. */
type Env = { [name: string]: kplus.EnvValue };

/** The backup and verify CronJobs of a RedisCluster. */
export interface RedisBackupJobs {
  readonly backup: ScheduledJob;
  readonly verify: ScheduledJob;
}

/**
 * The backup CronJob (an RDB of every master into one set, on the claim or
 * uploaded to the bucket) and the restore-verify CronJob (each RDB of the
 * newest set loaded into a scratch redis-server in a pod of its own).
 * @internal
 */
export function addBackupJobs(scope: Construct, s: RedisSettings, workload: StatefulWorkload, authEnv: Env): RedisBackupJobs {
  const b = s.backup!;
  const s3 = b.target._s3;
  const labels = (component: string) => ({ ...workload.labels, 'app.kubernetes.io/component': component });
  const tmp: WorkloadVolume = { name: 'tmp', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(64) }) };
  const s3Settings: S3Location | undefined = s3 ? s3Location(b.target, s.identity.name, '/tmp') : undefined;
  // a claim takes the sets directly; for a bucket they go to scratch space first
  const backupVolume: WorkloadVolume = s3
    ? { name: 'backup', storage: Storage.ephemeral() }
    : { name: 'backup', storage: Storage.existingClaim(b.target._claimName(scope, s.identity.name, labels('backup'))) };
  const uploaderEnv: Env | undefined = s3 ? { HOME: kplus.EnvValue.fromValue('/tmp'), ...b.target._credentialsEnv(scope) } : undefined;

  const dump: WorkloadContainer = {
    name: 'backup',
    image: s.image,
    command: ['bash', '-c', renderRedisBackupScript({ nodeHosts: s.bootstrap.nodeHosts, dir: REDIS_BACKUP_DIR, keep: b.keep })],
    env: authEnv,
    resources: Resources.of({ cpuMillis: 100, memory: Size.mebibytes(128) }),
    mounts: [{ volume: 'backup', path: REDIS_BACKUP_DIR }],
  };
  const common = {
    problem: s.problem,
    runAs: s.runAs,
    imagePullPolicy: s.unit.imagePullPolicy,
    backoffLimit: 2,
    activeDeadline: b.timeout,
  };
  const backup = new ScheduledJob(scope, 'Backup', {
    ...common,
    name: b.cronJobName,
    labels: labels('backup'),
    schedule: b.schedule,
    ...(s3Settings
      ? {
        initContainers: [dump],
        container: {
          name: 'upload',
          image: b.uploaderImage,
          command: ['bash', '-c', renderRedisS3UploadScript({ ...s3Settings, dir: REDIS_BACKUP_DIR, keep: b.keep })],
          env: uploaderEnv,
          mounts: [{ volume: 'backup', path: REDIS_BACKUP_DIR, readOnly: true }, { volume: 'tmp', path: '/tmp' }],
        },
        volumes: [backupVolume, tmp],
      }
      : { container: dump, volumes: [backupVolume] }),
  });

  // the scratch server holds one shard in memory: as much as a node may
  const check: WorkloadContainer = {
    name: 'verify',
    image: s.image,
    command: ['bash', '-c', renderRedisVerifyScript({ sourceDir: REDIS_BACKUP_DIR, scratchDir: '/tmp' })],
    resources: s.unit.resources,
    mounts: [{ volume: 'backup', path: REDIS_BACKUP_DIR, readOnly: !s3 }, { volume: 'tmp', path: '/tmp' }],
  };
  const scratch: WorkloadVolume = { name: 'tmp', storage: Storage.ephemeral() };
  const verify = new ScheduledJob(scope, 'BackupVerify', {
    ...common,
    name: `${s.identity.name}-backup-verify`,
    labels: labels('backup-verify'),
    schedule: b.verifySchedule,
    ...(s3Settings
      ? {
        initContainers: [{
          name: 'download',
          image: b.uploaderImage,
          command: ['bash', '-c', renderRedisS3DownloadScript({ ...s3Settings, dir: REDIS_BACKUP_DIR })],
          env: uploaderEnv,
          mounts: [{ volume: 'backup', path: REDIS_BACKUP_DIR }, { volume: 'tmp', path: '/tmp' }],
        }],
      }
      : {}),
    container: check,
    volumes: [backupVolume, scratch],
  });
  return { backup, verify };
}

/**
 * The restore init container of every node: loads the node's shard of the
 * set from the restore claim into its empty data volume.
 * @internal
 */
export function restoreContainer(s: RedisSettings): WorkloadContainer {
  return {
    name: 'restore',
    command: ['bash', '-c', renderRedisRestoreScript({
      masters: s.masters, setName: s.restore!.setName, sourceDir: REDIS_RESTORE_DIR, dataDir: REDIS_DATA_DIR, runDir: REDIS_RUN_DIR,
    })],
    // the temporary server holds the shard in memory, as the node will
    resources: s.unit.resources,
    mounts: [
      { volume: 'data', path: REDIS_DATA_DIR },
      { volume: 'run', path: REDIS_RUN_DIR },
      { volume: 'restore', path: REDIS_RESTORE_DIR, readOnly: true },
    ],
  };
}
