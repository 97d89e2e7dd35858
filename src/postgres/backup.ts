import { Cron, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { BackupTarget } from '../core/backup';
import { Credentials, DEFAULT_KUBECTL_IMAGE } from '../core/credentials';
import { WorkloadIdentity } from '../core/identity';
import { ScheduledJob } from '../core/job';
import { Problem } from '../core/names';
import { ConfigFile, PortRole, WorkloadContainer } from '../core/pod-spec';
import { Probe } from '../core/probes';
import { Resources } from '../core/resources';
import { StatefulWorkload } from '../core/stateful-workload';
import { Storage } from '../core/storage';
import { SystemUnitProps } from '../core/system';
import {
  backupCommand, CA_SEED_KEY, PG_BACKREST_CONF, PG_RESTORE_CONF, PGBACKREST_PORT, renderDbPgbackrestConf, renderDbServerScript,
  renderRepoPgbackrestConf, renderRepoStartScript, renderRestorePgbackrestConf, renderTlsScript, REPO_CONFIG_DIR, REPO_DIR, REPO_RUN_DIR,
  REPO_SECRET_DIR, RepositorySettings, STANZA,
} from './backup-config';
import { PG_CONFIG_DIR, PG_PASSFILE, PG_RUN_DIR, PG_VOLUME_DIR } from './config';

/** Backups of a PostgresReplicaSet with pgBackRest. */
export interface PostgresBackupOptions {
  /**
   * Where the repository lives: a claim of the repository host (RWO is
   * enough: only that pod mounts it) or an S3-compatible bucket.
   * @default BackupTarget.volume()
   */
  readonly target?: BackupTarget;
  /**
   * When full backups run.
   * @default - Sundays at 01:00
   */
  readonly fullSchedule?: Cron;
  /**
   * When differential backups run (changes since the last full backup).
   * @default - Monday to Saturday at 01:00
   */
  readonly differentialSchedule?: Cron;
  /**
   * Full backups kept; older backups and the WAL only they need expire.
   * @default 2
   */
  readonly retainFull?: number;
  /**
   * Longest a backup run may take.
   * @default Duration.hours(6)
   */
  readonly timeout?: Duration;
  /**
   * With `monitoring`: `BackupTooOld` fires when no backup CronJob succeeded
   * for this long (kube-state-metrics' `kube_cronjob_status_last_successful_time`).
   * @default Duration.hours(48)
   */
  readonly maxAge?: Duration;
}

/**
 * Resolved backup settings.
 * @internal
 */
export interface BackupSettings {
  readonly target: BackupTarget;
  readonly fullSchedule: Cron;
  readonly differentialSchedule: Cron;
  readonly retainFull: number;
  readonly timeout: Duration;
  readonly maxAge: Duration;
}

/**
 * Resolved restore settings.
 * @internal
 */
export interface RestoreSettings {
  /** FQDN of the source's repository host. */
  readonly repoHost: string;
  /** `YYYY-MM-DD HH:MM:SS.mmm+00`, or undefined for the end of the WAL. */
  readonly targetTime: string | undefined;
}

/** The archive_command of a set with backups. */
export const ARCHIVE_COMMAND = `pgbackrest --config=${PG_BACKREST_CONF} --stanza=${STANZA} archive-push %p`;

/**
 * The files a database pod needs for backups and restores: tls.sh, the
 * pgBackRest configuration and its server's script.
 * @internal
 */
export function dbBackupFiles(repoHost: string | undefined, restoreRepoHost: string | undefined): ConfigFile[] {
  return [
    { path: `${PG_CONFIG_DIR}/tls.sh`, content: renderTlsScript(), executable: true },
    ...(repoHost ? [
      { path: PG_BACKREST_CONF, content: renderDbPgbackrestConf(repoHost) },
      { path: `${PG_CONFIG_DIR}/pgbackrest-server.sh`, content: renderDbServerScript(), executable: true },
    ] : []),
    ...(restoreRepoHost ? [{ path: PG_RESTORE_CONF, content: renderRestorePgbackrestConf(restoreRepoHost) }] : []),
  ];
}

/**
 * The pgBackRest server sidecar of a database pod.
 * @internal
 */
export function dbBackupSidecar(): WorkloadContainer {
  return {
    name: 'pgbackrest',
    command: ['bash', `${PG_CONFIG_DIR}/pgbackrest-server.sh`],
    env: { PGPASSFILE: kplus.EnvValue.fromValue(PG_PASSFILE) },
    ports: [{ name: 'pgbackrest', port: PGBACKREST_PORT, role: PortRole.PEER }],
    mounts: [{ volume: 'data', path: PG_VOLUME_DIR }, { volume: 'run', path: PG_RUN_DIR }],
    resources: Resources.of({ cpuMillis: 100, memory: Size.mebibytes(256) }),
  };
}

/**
 * What `addBackupRepository` needs from the replica set.
 * @internal
 */
export interface RepositoryProps {
  readonly problem: Problem;
  readonly shared: SystemUnitProps;
  readonly identity: WorkloadIdentity;
  /** The replica set's workload, whose pods archive to and are backed up by the repository. */
  readonly db: StatefulWorkload;
  readonly credentials: Credentials;
  readonly settings: BackupSettings;
}

/** Name of the CronJob that takes `type` backups. */
function backupCronJobName(identity: WorkloadIdentity, type: 'full' | 'diff'): string {
  return `${identity.name}-backup-${type}`;
}

/**
 * Names of the backup CronJobs, for the backup-age alert.
 * @internal
 */
export function backupCronJobNames(identity: WorkloadIdentity): string[] {
  return [backupCronJobName(identity, 'full'), backupCronJobName(identity, 'diff')];
}

/**
 * The repository host (a one-pod StatefulSet `<name>-repo` that mounts the
 * repository claim or reaches the bucket, and serves pgBackRest over TLS)
 * and the CronJobs that run full and differential backups in it.
 * @internal
 */
export function addBackupRepository(scope: Construct, p: RepositoryProps): StatefulWorkload {
  const name = `${p.identity.name}-repo`;
  const identity = WorkloadIdentity.of(scope, { kind: 'PostgresReplicaSet', name, clusterDomain: p.identity.clusterDomain });
  const target = p.settings.target;
  const s3 = target._s3;
  const repository: RepositorySettings = {
    retainFull: p.settings.retainFull,
    s3: s3 ? {
      endpoint: s3.endpoint, bucket: s3.bucket, region: s3.region ?? 'us-east-1', prefix: s3.prefix ?? p.identity.name,
      uriStyle: s3.uriStyle ?? 'host', verifyTls: s3.verifyTls ?? true,
    } : undefined,
  };
  const podHosts = Array.from({ length: p.db.replicas }, (_, i) => p.identity.podFqdn(i));
  const claim = target._volume ? Storage.persistent({ size: target._volume.size ?? Size.gibibytes(50), storageClassName: target._volume.storageClassName }) : undefined;
  const repo = new StatefulWorkload(scope, 'Repo', {
    ...p.shared,
    identity,
    appName: 'pgbackrest',
    component: 'backup-repository',
    partOf: 'postgresql',
    version: undefined,
    replicas: 1,
    clientService: false,
    resources: Resources.small(),
    storage: claim ?? Storage.ephemeral(),
    disruptionBudget: { maxUnavailable: 1 },
    monitoring: undefined,
    updateStrategy: undefined,
    allowClientsFrom: p.shared.networkPolicy === false ? undefined : [p.db.pods],
    volumes: [
      ...(claim ? [{ name: 'repo' }] : []),
      { name: 'run', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(64) }) },
    ],
    secretVolumes: [{ name: 'credentials', secretName: p.credentials.secretName, keys: [CA_SEED_KEY] }],
    configFiles: [
      { path: `${REPO_CONFIG_DIR}/pgbackrest.conf`, content: renderRepoPgbackrestConf(podHosts, repository) },
      { path: `${REPO_CONFIG_DIR}/tls.sh`, content: renderTlsScript(), executable: true },
      { path: `${REPO_CONFIG_DIR}/repo.sh`, content: renderRepoStartScript({ fqdn: identity.podFqdn(0) }), executable: true },
    ],
    containers: [{
      name: 'pgbackrest',
      command: ['bash', `${REPO_CONFIG_DIR}/repo.sh`],
      env: s3 ? s3Env(scope, s3.credentialsSecret) : undefined,
      ports: [{ name: 'pgbackrest', port: PGBACKREST_PORT, role: PortRole.CLIENT }],
      mounts: [
        ...(claim ? [{ volume: 'repo', path: REPO_DIR }] : []),
        { volume: 'run', path: REPO_RUN_DIR },
        { volume: 'credentials', path: REPO_SECRET_DIR, readOnly: true },
      ],
      readinessProbe: Probe.tcp('pgbackrest', { period: Duration.seconds(10) }),
      livenessProbe: Probe.tcp('pgbackrest', { period: Duration.seconds(30), failureThreshold: 4 }),
    }],
  });
  if (p.shared.networkPolicy !== false) p.db.allowClients(repo.pods, ['pgbackrest']);
  const repoPod = identity.podName(0);
  const job = (id: string, type: 'full' | 'diff', schedule: Cron) => new ScheduledJob(scope, id, {
    problem: p.problem,
    name: backupCronJobName(p.identity, type),
    labels: {
      'app.kubernetes.io/name': 'pgbackrest',
      'app.kubernetes.io/instance': p.identity.name,
      'app.kubernetes.io/component': `backup-${type}`,
      'app.kubernetes.io/part-of': 'postgresql',
      'app.kubernetes.io/managed-by': 'cdk8s-stateful',
    },
    schedule,
    runAs: { uid: 65534, gid: 65534 },
    activeDeadline: p.settings.timeout,
    backoffLimit: 1,
    startingDeadline: Duration.hours(1),
    // the backup runs in the repository host, the only pod that mounts the repository
    rules: [
      { apiGroups: [''], resources: ['pods'], resourceNames: [repoPod], verbs: ['get'] },
      { apiGroups: [''], resources: ['pods/exec'], resourceNames: [repoPod], verbs: ['create'] },
    ],
    container: {
      name: 'backup',
      image: DEFAULT_KUBECTL_IMAGE,
      command: ['kubectl', 'exec', repoPod, '-c', 'pgbackrest', '--', ...backupCommand(type)],
      env: { HOME: kplus.EnvValue.fromValue('/tmp') },
      resources: Resources.of({ cpuMillis: 50, memory: Size.mebibytes(128) }),
      mounts: [{ volume: 'tmp', path: '/tmp' }],
    },
    volumes: [{ name: 'tmp', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(16) }) }],
  });
  job('FullBackup', 'full', p.settings.fullSchedule);
  job('DifferentialBackup', 'diff', p.settings.differentialSchedule);
  return repo;
}

/** pgBackRest's S3 key and secret, read from the target's credentials Secret. */
function s3Env(scope: Construct, secretName: string): { [name: string]: kplus.EnvValue } {
  const secret = kplus.Secret.fromSecretName(scope, 'BackupCredentials', secretName);
  return {
    PGBACKREST_REPO1_S3_KEY: kplus.EnvValue.fromSecretValue({ secret, key: 'access-key-id' }),
    PGBACKREST_REPO1_S3_KEY_SECRET: kplus.EnvValue.fromSecretValue({ secret, key: 'secret-access-key' }),
  };
}
