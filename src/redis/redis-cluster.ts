import { Cron, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { BackupTarget } from '../core/backup';
import { Credentials, systemCredentials } from '../core/credentials';
import { contentHash, OneShotJob } from '../core/job';
import { Problem } from '../core/names';
import { PortRole, WorkloadContainer } from '../core/pod-spec';
import { PodManagementPolicy } from '../core/policies';
import { k8s } from '../core/private/k8s';
import { Probe } from '../core/probes';
import { Resources } from '../core/resources';
import { Storage } from '../core/storage';
import { imageTag, StatefulWorkload } from '../core/stateful-workload';
import { StatefulSystem, StatefulSystemProps } from '../core/system';
import { redisAlerts } from './alerts';
import { addBackupJobs, restoreContainer } from './backup';
import { REDIS_RESTORE_DIR, renderRedisRestoreBootstrapScript } from './backup-config';
import {
  REDIS_CLIENT_PORT, REDIS_CONFIG_DIR, REDIS_DATA_DIR, REDIS_EXPORTER_PORT, REDIS_GOSSIP_PORT, REDIS_RUN_DIR,
  renderRedisBootstrapScript, renderRedisConf, renderRedisStartScript,
} from './config';
import { REDIS_PASSWORD_KEY, RedisSettings, resolveRedisSettings } from './settings';

/** Backups of a RedisCluster: an RDB of every master, as one set per run. */
export interface RedisBackupOptions {
  /**
   * Where the sets go: a claim, or an S3-compatible bucket (the set is
   * written to scratch space, then uploaded by `uploaderImage`).
   * @default BackupTarget.volume()
   */
  readonly target?: BackupTarget;
  /**
   * When backups run (the controller manager's time zone).
   * @default - every day at 03:00
   */
  readonly schedule?: Cron;
  /**
   * Complete sets kept: after each run only the newest `keep` remain.
   * @default 7
   */
  readonly keep?: number;
  /**
   * With `monitoring`: `BackupTooOld` fires when no backup succeeded for
   * this long (kube-state-metrics' `kube_cronjob_status_last_successful_time`);
   * keep it above the interval of `schedule`.
   * @default Duration.hours(48)
   */
  readonly maxAge?: Duration;
  /**
   * Longest a backup (or verify) run may take, retries included.
   * @default Duration.hours(2)
   */
  readonly timeout?: Duration;
  /**
   * When the restore-verify Job loads the newest set into scratch servers
   * and checks it.
   * @default - every day at 05:00
   */
  readonly verifySchedule?: Cron;
  /**
   * Image of the uploader of an S3 target: it must provide bash and the AWS CLI v2 (`aws`).
   * @default 'docker.io/amazon/aws-cli:2.27.0'
   */
  readonly uploaderImage?: string;
}

/** Where a new RedisCluster gets its data from. */
export interface RedisRestoreOptions {
  /**
   * The claim with the backup sets, in this namespace:
   * `BackupTarget.volume({ existingClaim })`. Every node's init container and
   * the bootstrap Job mount it read-only, so it must be ReadOnlyMany or
   * ReadWriteMany (e.g. a clone of the backup claim from a VolumeSnapshot).
   */
  readonly source: BackupTarget;
  /**
   * The set to restore: its directory name, the UTC start time of its backup.
   * @default - the newest complete set
   */
  readonly backupSet?: string;
}

/** Props of `RedisCluster`: the shared knobs plus what is specific to Redis. */
export interface RedisClusterProps extends StatefulSystemProps {
  /**
   * Master nodes (each owns a share of the 16384 slots); at least 3, the
   * smallest cluster that can elect a failover.
   * @default 3
   */
  readonly masters?: number;
  /**
   * Replicas of each master.
   * @default 1
   */
  readonly replicasPerMaster?: number;
  /**
   * `maxmemory` as a fraction of the memory limit (leaves room for the AOF
   * rewrite fork and buffers); 0 leaves maxmemory unset.
   * @default 0.7
   */
  readonly maxMemoryFraction?: number;
  /**
   * Require a password (requirepass and masterauth from the credentials Secret).
   * @default true
   */
  readonly auth?: boolean;
  /**
   * A Secret you manage with the key `password` (`RedisCluster.PASSWORD_KEY`).
   * @default - a Secret `<name>-credentials` with a random password is generated in the cluster
   */
  readonly existingSecret?: string;
  /**
   * Extra redis.conf lines, one directive each (never passwords: those come
   * from the Secret).
   * @default - none
   */
  readonly config?: string[];
  /**
   * Cluster node timeout: how long a node may be unreachable before failover.
   * @default Duration.millis(5000)
   */
  readonly nodeTimeout?: Duration;
  /**
   * Image of the metrics sidecar (with `monitoring`): redis_exporter, run
   * as `/redis_exporter`.
   * @default 'docker.io/oliver006/redis_exporter:v1.67.0'
   */
  readonly exporterImage?: string;
  /**
   * A CronJob that takes an RDB of every master into a backup set, and one
   * that verifies the newest set in scratch servers.
   * @default - no backups
   */
  readonly backup?: RedisBackupOptions;
  /**
   * Start this (new, empty) cluster from a backup set: it needs the set's
   * number of masters; each master loads its shard and gets the shard's
   * slots, so every key is served where it was.
   * @default - an empty cluster
   */
  readonly restore?: RedisRestoreOptions;
}

/** Environment variables of a container. */
type Env = { [name: string]: kplus.EnvValue };

/** Attempts of the bootstrap Job after the first. */
const BOOTSTRAP_RETRIES = 10;
/**
 * Time the bootstrap Job may run, retries included: 11 attempts that may
 * each wait out the 300 s PING wait (55 min), plus the kubelet's restart
 * back-off between them (10 s doubling to its 300 s cap: about 34 min).
 */
const BOOTSTRAP_DEADLINE = Duration.minutes(90);

/**
 * A Redis Cluster: `masters` × (1 + `replicasPerMaster`) nodes that form the
 * cluster by themselves (a bootstrap Job runs `redis-cli --cluster create`
 * once), announce their pod IP and FQDN, survive IP changes on restart, and
 * require a password from a Secret that never appears in the manifest.
 *
 * Clients seed from `seedNodes` and read the password with `passwordEnv()`;
 * admit them to the client port with `allowClients(deployment)`.
 *
 * Defaults of the shared props:
 * - `image`: `docker.io/library/redis:7.2.7` (needs bash, redis-server and redis-cli)
 * - `resources`: `Resources.small()` (`maxmemory` is 70% of its memory limit)
 * - `storage`: `Storage.persistent({ size: Size.gibibytes(10) })`, mounted at `/data` (AOF, RDB, nodes.conf)
 * - `runAs`: `{ uid: 999, gid: 999 }` (the official image's `redis` user)
 * - `terminationGracePeriod`: `Duration.seconds(30)`
 * - `disruptionBudget`: `{ maxUnavailable: 1 }`
 * - `monitoring`: adds a redis_exporter sidecar (port 9121, the password from
 *   the Secret), a ServiceMonitor and alerts (node down, cluster state,
 *   slots, a master short of replicas, memory, rejected connections, the
 *   StatefulSet and volume alerts of every workload and, with `backup`,
 *   `BackupTooOld`)
 */
export class RedisCluster extends StatefulSystem {
  /** The key of the password in the credentials Secret (and in an `existingSecret`). */
  public static readonly PASSWORD_KEY = REDIS_PASSWORD_KEY;

  /** Master nodes. */
  public readonly masters: number;
  /** Replicas per master. */
  public readonly replicasPerMaster: number;
  /** Every node: masters × (1 + replicasPerMaster). */
  public readonly nodes: number;
  /** `<pod-fqdn>:6379,...` for every node: what cluster clients seed from. */
  public readonly seedNodes: string;
  /** The underlying stateful unit. */
  public readonly workload: StatefulWorkload;
  /** The Secret with the password (key `password`), when auth is on. */
  public readonly credentials: Credentials | undefined;
  /** The Job that forms the cluster (with `restore`, with the backup set's slot assignment). */
  public readonly bootstrapJob: k8s.KubeJob;
  /** The backup CronJob, with `backup`. */
  public readonly backupCronJob: k8s.KubeCronJob | undefined;
  /** The restore-verify CronJob, with `backup`. */
  public readonly backupVerifyCronJob: k8s.KubeCronJob | undefined;

  private readonly problem: Problem;

  public constructor(scope: Construct, id: string, props: RedisClusterProps = {}) {
    super(scope, id);
    const s = resolveRedisSettings(this, props);
    this.problem = s.problem;
    this.masters = s.masters;
    this.replicasPerMaster = s.replicasPerMaster;
    this.nodes = s.nodes;
    this.credentials = s.auth
      ? systemCredentials(this, s.problem, s.identity, { keys: [REDIS_PASSWORD_KEY], existingSecret: s.existingSecret })
      : undefined;
    const authEnv: Env = this.credentials ? { REDISCLI_AUTH: this.credentials.envValue(REDIS_PASSWORD_KEY) } : {};

    this.workload = new StatefulWorkload(this, 'Unit', {
      ...s.unit,
      identity: s.identity,
      appName: 'redis',
      component: 'cluster',
      version: imageTag(s.image),
      replicas: s.nodes,
      podManagementPolicy: PodManagementPolicy.PARALLEL,
      volumes: [
        { name: 'data' },
        { name: 'run', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(16) }) },
        ...(s.restore ? [restoreVolume(s)] : []),
      ],
      configFiles: [
        { path: `${REDIS_CONFIG_DIR}/redis.conf`, content: renderRedisConf(s.conf) },
        { path: `${REDIS_CONFIG_DIR}/start.sh`, content: renderRedisStartScript(s.start), executable: true },
      ],
      initContainers: s.restore ? [restoreContainer(s)] : undefined,
      containers: [nodeContainer(authEnv), ...(s.exporterImage ? [exporterContainer(s.exporterImage, this.credentials)] : [])],
      alerts: s.exporterImage ? redisAlerts(s) : undefined,
      backupAlert: s.exporterImage && s.backup ? { cronJobs: [s.backup.cronJobName], maxAge: s.backup.maxAge } : undefined,
    });
    this.seedNodes = Array.from({ length: this.nodes }, (_, i) => `${this.workload.podFqdn(i)}:${REDIS_CLIENT_PORT}`).join(',');
    // replicas sync from their masters (and MIGRATE moves keys) over the client port, whoever else is admitted to it
    if (this.workload.networkPolicy) this.workload.allowClients(this.workload.pods, ['client']);

    const container = bootstrapContainer(s, authEnv);
    const bootstrap = new OneShotJob(this, 'Bootstrap', {
      problem: s.problem,
      name: `${s.identity.name}-bootstrap`,
      // a Job's template is immutable: a changed node list (more masters) makes a new Job
      jobName: `${s.identity.name}-boot-${contentHash(JSON.stringify(container.command))}`,
      labels: { ...this.workload.labels, 'app.kubernetes.io/component': 'cluster-bootstrap' },
      runAs: s.runAs,
      imagePullPolicy: s.unit.imagePullPolicy,
      backoffLimit: BOOTSTRAP_RETRIES,
      activeDeadline: BOOTSTRAP_DEADLINE,
      ttl: Duration.hours(1),
      container,
      volumes: s.restore ? [restoreVolume(s)] : undefined,
    });
    this.bootstrapJob = bootstrap.job;
    // the Job talks to every node's client port even when clients are restricted
    if (this.workload.networkPolicy) this.workload.allowClients(bootstrap.peer());

    const backups = s.backup ? addBackupJobs(this, s, this.workload, authEnv) : undefined;
    this.backupCronJob = backups?.backup.cronJob;
    this.backupVerifyCronJob = backups?.verify.cronJob;
    if (backups && this.workload.networkPolicy) this.workload.allowClients(backups.backup.peer());
  }

  /**
   * The password as a cdk8s-plus env value that reads the credentials Secret
   * (the value never appears in the manifest), e.g.
   * `envVariables: { REDIS_PASSWORD: cache.passwordEnv() }` on a kplus
   * container. Secrets are namespaced: this works for pods in the cluster's
   * namespace; elsewhere, make a Secret with the same key there and read it.
   * Throws when `auth` is off.
   */
  public passwordEnv(): kplus.EnvValue {
    if (!this.credentials) throw this.problem.error('auth', 'is off, so there is no password: passwordEnv() needs auth: true');
    return this.credentials.envValue(REDIS_PASSWORD_KEY);
  }
}

/** A Redis node: start.sh writes the runtime config and execs redis-server. */
function nodeContainer(authEnv: Env): WorkloadContainer {
  return {
    name: 'redis',
    command: ['bash', `${REDIS_CONFIG_DIR}/start.sh`],
    env: {
      POD_IP: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_IP),
      POD_NAMESPACE: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAMESPACE),
      ...authEnv,
    },
    ports: [
      { name: 'client', port: REDIS_CLIENT_PORT, role: PortRole.CLIENT },
      { name: 'gossip', port: REDIS_GOSSIP_PORT, role: PortRole.PEER },
    ],
    mounts: [
      { volume: 'data', path: REDIS_DATA_DIR },
      { volume: 'run', path: REDIS_RUN_DIR },
    ],
    livenessProbe: Probe.exec(['redis-cli', 'ping'], { initialDelay: Duration.seconds(10), period: Duration.seconds(15), timeout: Duration.seconds(5), failureThreshold: 4 }),
    readinessProbe: Probe.exec(['bash', '-c', 'redis-cli cluster info | grep -q "^cluster_state:ok"'], { period: Duration.seconds(5), timeout: Duration.seconds(3), failureThreshold: 2 }),
  };
}

/**
 * The bootstrap Job's container: `redis-cli --cluster create` once, over
 * every node; with `restore`, the formation with the backup set's slots.
 */
function bootstrapContainer(s: RedisSettings, authEnv: Env): WorkloadContainer {
  const script = s.restore
    ? renderRedisRestoreBootstrapScript({
      nodeHosts: s.bootstrap.nodeHosts, masters: s.masters, setName: s.restore.setName, sourceDir: REDIS_RESTORE_DIR, waitSeconds: s.bootstrap.waitSeconds,
    })
    : renderRedisBootstrapScript(s.bootstrap);
  return {
    name: 'bootstrap',
    image: s.image,
    command: ['bash', '-c', script],
    env: authEnv,
    mounts: s.restore ? [{ volume: 'restore', path: REDIS_RESTORE_DIR, readOnly: true }] : undefined,
  };
}

/** The claim with the backup sets, mounted read-only by every node and the bootstrap Job. */
function restoreVolume(s: RedisSettings): { name: string; storage: Storage } {
  return { name: 'restore', storage: Storage.existingClaim(s.restore!.claimName) };
}

/**
 * redis_exporter beside the node, over loopback, with the password from the
 * Secret in REDIS_PASSWORD (never in its arguments). It reads CLUSTER INFO
 * whenever the node runs in cluster mode; `--is-cluster` only changes key
 * checks and the multi-target /scrape endpoint, which are not used, so it
 * is not set. No probe: a failing exporter must not take the node out of
 * its Services.
 */
function exporterContainer(image: string, credentials: Credentials | undefined): WorkloadContainer {
  return {
    name: 'exporter',
    image,
    command: ['/redis_exporter'],
    args: [`--redis.addr=redis://127.0.0.1:${REDIS_CLIENT_PORT}`, `--web.listen-address=:${REDIS_EXPORTER_PORT}`],
    env: credentials ? { REDIS_PASSWORD: credentials.envValue(REDIS_PASSWORD_KEY) } : undefined,
    ports: [{ name: 'metrics', port: REDIS_EXPORTER_PORT, role: PortRole.METRICS }],
    resources: Resources.of({ cpuMillis: 50, memory: Size.mebibytes(64) }),
  };
}
