import { createHash } from 'crypto';
import { Cron, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { BackupTarget, s3Location } from '../core/backup';
import { Credentials, systemCredentials } from '../core/credentials';
import { OneShotJob, ScheduledJob } from '../core/job';
import { PortRole, WorkloadContainer } from '../core/pod-spec';
import { PodManagementPolicy } from '../core/policies';
import { k8s } from '../core/private/k8s';
import { Probe } from '../core/probes';
import { Resources } from '../core/resources';
import { StatefulWorkload } from '../core/stateful-workload';
import { Storage } from '../core/storage';
import { StatefulSystem, StatefulSystemProps } from '../core/system';
import {
  BACKUP_PASSWORD_KEY, EXPORTER_PASSWORD_KEY, EXPORTER_USER, KEYFILE_KEY, MONGO_BACKUP_DIR, MONGO_CONFIG_DIR, MONGO_DATA_DIR,
  MONGO_EXPORTER_PORT, MONGO_PORT, MONGO_RUN_DIR, MONGO_SECRET_DIR, MongodSettings, renderBackupScript, renderInitiatorScript, renderS3UploadScript,
  renderKeyfileScript, renderStartScript, ROOT_PASSWORD_ENV, ROOT_PASSWORD_KEY, userPasswordEnvs,
} from './config';
import { mongoAlerts } from './alerts';
import { MongoSettings, mongoSettings } from './settings';

/** An application user, created by the initiator on the primary. */
export interface MongoUser {
  /** User name (lower-case letters, digits, '_'; at most 32). Its password is the Secret key `<name>-password`. */
  readonly name: string;
  /** Databases (from `databases`) it gets `readWrite` on (`read` with `readOnly`). */
  readonly databases: string[];
  /**
   * Grant `read` instead of `readWrite`.
   * @default false
   */
  readonly readOnly?: boolean;
}

/** The mongodump CronJob. */
export interface MongoBackupOptions {
  /**
   * Where archives go: a claim, or an S3-compatible bucket (the dump is
   * written to a scratch volume, then uploaded by `uploaderImage`).
   * @default BackupTarget.volume()
   */
  readonly target?: BackupTarget;
  /**
   * Image of the uploader of an S3 target: it must provide bash and the AWS CLI v2 (`aws`).
   * @default 'docker.io/amazon/aws-cli:2.27.0'
   */
  readonly uploaderImage?: string;
  /**
   * When it runs (the controller manager's time zone).
   * @default - every day at 02:30
   */
  readonly schedule?: Cron;
  /**
   * Archives kept: after each run only the newest `keep` remain.
   * @default 7
   */
  readonly keep?: number;
  /**
   * With `monitoring`: `BackupTooOld` fires when no run succeeded for this
   * long (kube-state-metrics' `kube_cronjob_status_last_successful_time`);
   * keep it above the interval of `schedule`.
   * @default Duration.hours(48)
   */
  readonly maxAge?: Duration;
}

/** Props of `MongoReplicaSet`: the shared knobs plus what is specific to MongoDB. */
export interface MongoReplicaSetProps extends StatefulSystemProps {
  /**
   * Data-bearing members: odd (1 to 7), or even (2 to 6) with `arbiter`.
   * @default 3
   */
  readonly replicas?: number;
  /**
   * Add one arbiter (a voting member without data, the pod after the data members).
   * @default false
   */
  readonly arbiter?: boolean;
  /**
   * The replica set's name (`--replSet`, `replicaSet=` in connection strings).
   * @default - the StatefulSet name
   */
  readonly replicaSetName?: string;
  /**
   * A Secret you manage with the keys `root-password`, `keyfile` (6 to 1024
   * base64 characters), `exporter-password` with `monitoring`,
   * `backup-password` with `backup`, and `<user>-password` for each of
   * `users`. Passwords used in `connectionEnv` must be URL-safe.
   * @default - a Secret with random hex values is generated in the cluster
   */
  readonly existingSecret?: string;
  /**
   * Databases the `users` are granted on (MongoDB creates a database on its first write).
   * @default - none
   */
  readonly databases?: string[];
  /**
   * Application users, created (and their passwords re-applied) by the initiator Job.
   * @default - none
   */
  readonly users?: MongoUser[];
  /**
   * WiredTiger cache (`--wiredTigerCacheSizeGB`); must leave 256Mi of the memory limit free.
   * @default - half of (memory limit - 1Gi), at least 256Mi
   */
  readonly wiredTigerCacheSize?: Size;
  /**
   * Image of the metrics sidecar (with `monitoring`).
   * @default 'docker.io/percona/mongodb_exporter:0.47.1'
   */
  readonly exporterImage?: string;
  /**
   * A mongodump CronJob that reads from a secondary.
   * @default - no backups
   */
  readonly backup?: MongoBackupOptions;
}

/**
 * Env of every container that runs mongosh or the database tools: HOME on
 * the disk-backed /tmp emptyDir (the root filesystem is read-only, and
 * mongosh keeps its logs under HOME).
 */
const MONGOSH_ENV = { HOME: kplus.EnvValue.fromValue('/tmp') };

/** Attempts (5 s apart) the initiator waits for each member and for a primary. */
const INITIATOR_WAIT_ATTEMPTS = 120;

/**
 * A MongoDB replica set that initiates itself: members authenticate each
 * other with a keyfile from the credentials Secret (copied to an in-memory
 * file of mode 0400, as mongod requires), the seed creates the root user
 * once through the localhost exception, and one initiator Job runs
 * `rs.initiate` with the members' FQDNs (in the chart's namespace) or adds
 * the members a scale-up created. Passwords never appear in the manifest;
 * apps get `connectionEnv(user)`.
 *
 * Defaults of the shared props:
 * - `image`: `docker.io/library/mongo:8.0.20` (needs bash, mongod and mongosh; mongodump for backups)
 * - `resources`: `Resources.medium()` (the WiredTiger cache derives from its memory limit)
 * - `storage`: `Storage.persistent` of 20 GiB at `/data/db`
 * - `runAs`: uid/gid 999 (the official image's `mongodb` user)
 * - `terminationGracePeriod`: 60 seconds (a primary steps down before it stops)
 * - `disruptionBudget`: `Budgets.quorum(members)`, so a majority stays up
 * - `monitoring`: adds the percona mongodb_exporter sidecar, a ServiceMonitor and alerts
 */
export class MongoReplicaSet extends StatefulSystem {
  /** Data-bearing members. */
  public readonly replicas: number;
  /** True when the set has an arbiter. */
  public readonly arbiter: boolean;
  /** The replica set's name. */
  public readonly replicaSetName: string;
  /** `<pod-fqdn>:27017` of every data-bearing member. */
  public readonly hosts: string[];
  /** The mongod port. */
  public readonly port: number;
  /** The Secret with the keyfile and passwords. */
  public readonly credentials: Credentials;
  /** `--wiredTigerCacheSizeGB`. */
  public readonly wiredTigerCacheSizeGb: number;
  /** The underlying stateful unit. */
  public readonly workload: StatefulWorkload;
  /** The initiator Job (named after a hash of what it does, so a change runs it again). */
  public readonly initiatorJob: k8s.KubeJob;
  /** The mongodump CronJob, with `backup`. */
  public readonly backupCronJob: k8s.KubeCronJob | undefined;

  private readonly settings: MongoSettings;

  public constructor(scope: Construct, id: string, props: MongoReplicaSetProps = {}) {
    super(scope, id);
    const s = mongoSettings(this, props);
    this.settings = s;
    this.replicas = s.replicas;
    this.arbiter = s.arbiter;
    this.replicaSetName = s.replicaSetName;
    this.wiredTigerCacheSizeGb = s.cacheSizeGb;
    this.port = MONGO_PORT;
    this.hosts = Array.from({ length: s.replicas }, (_, i) => `${s.identity.podFqdn(i)}:${MONGO_PORT}`);
    this.credentials = systemCredentials(this, s.problem, s.identity, { keys: s.keys, existingSecret: s.existingSecret });

    this.workload = new StatefulWorkload(this, 'Unit', {
      ...s.shared,
      identity: s.identity,
      appName: 'mongodb',
      component: 'database',
      version: s.version,
      replicas: s.pods,
      // members must resolve each other before any is Ready; the initiator decides who is primary
      podManagementPolicy: PodManagementPolicy.PARALLEL,
      publishNotReadyAddresses: true,
      volumes: [
        { name: 'data' },
        { name: 'run', storage: Storage.ephemeral({ memory: true, sizeLimit: Size.mebibytes(16) }) },
        { name: 'tmp', storage: Storage.ephemeral({ sizeLimit: Size.gibibytes(1) }) },
      ],
      secretVolumes: [{ name: 'keyfile-secret', secretName: this.credentials.secretName, keys: [KEYFILE_KEY] }],
      configFiles: [
        { path: `${MONGO_CONFIG_DIR}/keyfile.sh`, content: renderKeyfileScript({ source: `${MONGO_SECRET_DIR}/${KEYFILE_KEY}`, target: mongod(s).keyFile }), executable: true },
        { path: `${MONGO_CONFIG_DIR}/start.sh`, content: renderStartScript({ mongod: mongod(s), bootstrapWaitSeconds: 120 }), executable: true },
      ],
      initContainers: [keyfileContainer()],
      containers: [mongodContainer(this.credentials), ...(s.monitoring ? [exporterContainer(s, this.credentials)] : [])],
      alerts: s.monitoring ? mongoAlerts(s) : undefined,
      backupAlert: s.monitoring && s.backup ? { cronJobs: [backupCronJobName(s)], maxAge: s.backup.maxAge } : undefined,
    });
    // members replicate over the client port, whoever else is admitted to it
    if (this.workload.networkPolicy) this.workload.allowClients(this.workload.pods, ['mongodb']);
    this.initiatorJob = this.initiator(s);
    this.backupCronJob = s.backup ? this.backupJob(s) : undefined;
  }

  /** `host1:27017,host2:27017,...`: the seed list of a connection string. */
  public get seedList(): string {
    return this.hosts.join(',');
  }

  /**
   * `mongodb://<seedList>/?replicaSet=<name>`: the connection string without
   * credentials, for clients that take user and password separately (see
   * `connectionEnv` for one with them).
   */
  public get connectionString(): string {
    return `mongodb://${this.seedList}/?replicaSet=${this.replicaSetName}`;
  }

  /**
   * Env values that connect a cdk8s-plus container as `user` (one of
   * `users`): `MONGO_USER`, `MONGO_PASSWORD` (a secretKeyRef, never the
   * value) and `MONGODB_URI`, which embeds both through Kubernetes'
   * `$(VAR)` expansion (so they must come first, as they do here and in a
   * kplus container's `envVariables`). Generated passwords are hex, safe in
   * a URI; passwords in an `existingSecret` must be URL-safe too. The Secret
   * is in this namespace: apps elsewhere need a copy of it.
   * @param user one of `users`
   * @param database one of the user's databases (default: its first)
   */
  public connectionEnv(user: string, database?: string): { [name: string]: kplus.EnvValue } {
    const u = this.settings.users.find((x) => x.name === user);
    if (!u) {
      throw this.settings.problem.error('connectionEnv user', `must be one of users (${this.settings.users.map((x) => `'${x.name}'`).join(', ') || 'none'}), got '${user}'`);
    }
    const db = database ?? u.databases[0];
    if (!u.databases.includes(db)) throw this.settings.problem.error('connectionEnv database', `must be one of ${user}'s databases (${u.databases.join(', ')}), got '${db}'`);
    return {
      MONGO_USER: kplus.EnvValue.fromValue(user),
      MONGO_PASSWORD: this.credentials.envValue(u.passwordKey),
      MONGODB_URI: kplus.EnvValue.fromValue(`mongodb://$(MONGO_USER):$(MONGO_PASSWORD)@${this.seedList}/${db}?replicaSet=${this.replicaSetName}&authSource=admin`),
    };
  }

  /** The Secret key of `user`'s password (`root` or one of `users`). */
  public passwordKey(user: string): string {
    if (user === 'root') return ROOT_PASSWORD_KEY;
    const u = this.settings.users.find((x) => x.name === user);
    if (!u) throw this.settings.problem.error('passwordKey user', `must be 'root' or one of users, got '${user}'`);
    return u.passwordKey;
  }

  private initiator(s: MongoSettings): k8s.KubeJob {
    const script = renderInitiatorScript({
      replicaSetName: s.replicaSetName,
      members: Array.from({ length: s.pods }, (_, i) => ({ host: `${s.identity.podFqdn(i)}:${MONGO_PORT}`, arbiter: s.arbiter && i === s.replicas })),
      users: { exporter: s.monitoring, backup: s.backup !== undefined, users: s.users },
      waitAttempts: INITIATOR_WAIT_ATTEMPTS,
    });
    const hash = createHash('sha256').update(script).digest('hex').slice(0, 5);
    const env: { [name: string]: kplus.EnvValue } = { ...MONGOSH_ENV, [ROOT_PASSWORD_ENV]: this.credentials.envValue(ROOT_PASSWORD_KEY) };
    for (const p of userPasswordEnvs({ exporter: s.monitoring, backup: s.backup !== undefined, users: s.users })) env[p.env] = this.credentials.envValue(p.key);
    const job = new OneShotJob(this, 'Initiator', {
      problem: s.problem,
      name: `${s.identity.name}-init-${hash}`,
      labels: { ...this.workload.labels, 'app.kubernetes.io/component': 'initiator' },
      runAs: s.shared.runAs,
      imagePullPolicy: s.shared.imagePullPolicy,
      backoffLimit: 10,
      activeDeadline: Duration.hours(1),
      ttl: Duration.hours(1),
      container: { name: 'initiate', image: s.shared.image, command: ['bash', '-c', script], env, mounts: [{ volume: 'tmp', path: '/tmp' }] },
      volumes: [{ name: 'tmp', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(64) }) }],
    });
    if (this.workload.networkPolicy) this.workload.allowClients(job.peer(), ['mongodb']);
    return job.job;
  }

  private backupJob(s: MongoSettings): k8s.KubeCronJob {
    const b = s.backup!;
    const labels = { ...this.workload.labels, 'app.kubernetes.io/component': 'backup' };
    const s3 = b.target._s3;
    // a claim takes the archives directly; for a bucket, the dump goes to scratch space and an uploader ships it
    const dumpDir = s3 ? '/work' : MONGO_BACKUP_DIR;
    const dump: WorkloadContainer = {
      name: 'mongodump',
      image: s.shared.image,
      command: ['bash', '-c', renderBackupScript({ hosts: this.hosts, replicaSetName: s.replicaSetName, keep: b.keep, dir: dumpDir, tmpDir: '/tmp' })],
      env: { ...MONGOSH_ENV, MONGO_BACKUP_PASSWORD: this.credentials.envValue(BACKUP_PASSWORD_KEY) },
      resources: Resources.of({ cpuMillis: 250, memory: Size.mebibytes(512) }),
      mounts: [{ volume: 'backup', path: dumpDir }, { volume: 'tmp', path: '/tmp' }],
    };
    const tmp = { name: 'tmp', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(64) }) };
    const job = new ScheduledJob(this, 'Backup', {
      problem: s.problem,
      name: backupCronJobName(s),
      labels,
      runAs: s.shared.runAs,
      imagePullPolicy: s.shared.imagePullPolicy,
      schedule: b.schedule,
      backoffLimit: 2,
      activeDeadline: Duration.hours(6),
      ...(s3
        ? {
          initContainers: [dump],
          container: {
            name: 'upload',
            image: b.uploaderImage,
            command: ['bash', '-c', renderS3UploadScript({ ...s3Location(b.target, s.identity.name, '/tmp'), dir: dumpDir, keep: b.keep })],
            env: { HOME: kplus.EnvValue.fromValue('/tmp'), ...b.target._credentialsEnv(this) },
            mounts: [{ volume: 'backup', path: dumpDir, readOnly: true }, { volume: 'tmp', path: '/tmp' }],
          },
          volumes: [{ name: 'backup', storage: Storage.ephemeral() }, tmp],
        }
        : {
          container: dump,
          volumes: [{ name: 'backup', storage: Storage.existingClaim(b.target._claimName(this, s.identity.name, labels)) }, tmp],
        }),
    });
    if (this.workload.networkPolicy) this.workload.allowClients(job.peer(), ['mongodb']);
    return job.cronJob;
  }
}

/** mongod's settings from the resolved props. */
function mongod(s: MongoSettings): MongodSettings {
  return { replicaSetName: s.replicaSetName, cacheSizeGb: s.cacheSizeGb, keyFile: `${MONGO_RUN_DIR}/keyfile`, dataDir: MONGO_DATA_DIR, runDir: MONGO_RUN_DIR };
}

/** The init container: the keyfile, mode 0400, in the in-memory run directory. */
function keyfileContainer(): WorkloadContainer {
  return {
    name: 'keyfile',
    command: ['bash', `${MONGO_CONFIG_DIR}/keyfile.sh`],
    mounts: [
      { volume: 'keyfile-secret', path: MONGO_SECRET_DIR, readOnly: true },
      { volume: 'run', path: MONGO_RUN_DIR },
    ],
  };
}

/**
 * mongod. Readiness is `hello` saying primary, secondary or arbiter (a member
 * in initial sync is not Ready); liveness and startup are TCP connects,
 * cheaper than a mongosh start, and startup allows 30 minutes of recovery.
 */
function mongodContainer(credentials: Credentials): WorkloadContainer {
  return {
    name: 'mongod',
    command: ['bash', `${MONGO_CONFIG_DIR}/start.sh`],
    env: { ...MONGOSH_ENV, [ROOT_PASSWORD_ENV]: credentials.envValue(ROOT_PASSWORD_KEY) },
    ports: [{ name: 'mongodb', port: MONGO_PORT, role: PortRole.CLIENT }],
    mounts: [
      { volume: 'data', path: MONGO_DATA_DIR },
      { volume: 'run', path: MONGO_RUN_DIR },
      { volume: 'tmp', path: '/tmp' },
    ],
    startupProbe: Probe.tcp('mongodb', { period: Duration.seconds(10), failureThreshold: 180 }),
    readinessProbe: Probe.exec(['mongosh', '--quiet', '--norc', '--eval', READY_JS], { period: Duration.seconds(10), timeout: Duration.seconds(10), failureThreshold: 3 }),
    livenessProbe: Probe.tcp('mongodb', { period: Duration.seconds(20), timeout: Duration.seconds(5), failureThreshold: 6 }),
  };
}

/** Exits 1 unless this member is the primary, a secondary or the arbiter (`hello` needs no authentication). */
export const READY_JS = 'const h = db.hello(); if (!(h.isWritablePrimary || h.secondary || h.arbiterOnly)) { quit(1); }';

/** Name of the mongodump CronJob. */
function backupCronJobName(s: MongoSettings): string {
  return `${s.identity.name}-backup`;
}

/** The percona mongodb_exporter sidecar: its own user, compatible-mode metrics (the alerts use them). */
function exporterContainer(s: MongoSettings, credentials: Credentials): WorkloadContainer {
  return {
    name: 'metrics',
    image: s.exporterImage,
    args: [
      `--mongodb.uri=mongodb://127.0.0.1:${MONGO_PORT}/admin`,
      '--mongodb.direct-connect',
      '--compatible-mode',
      '--collector.diagnosticdata',
      '--collector.replicasetstatus',
      `--web.listen-address=:${MONGO_EXPORTER_PORT}`,
    ],
    env: { MONGODB_USER: kplus.EnvValue.fromValue(EXPORTER_USER), MONGODB_PASSWORD: credentials.envValue(EXPORTER_PASSWORD_KEY) },
    ports: [{ name: 'metrics', port: MONGO_EXPORTER_PORT, role: PortRole.METRICS }],
    // no probe: a failing exporter must not take the member out of its Services
    resources: Resources.of({ cpuMillis: 50, memory: Size.mebibytes(128) }),
  };
}
