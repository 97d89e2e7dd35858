import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { Credentials, systemCredentials } from '../core/credentials';
import { contentHash, OneShotJob } from '../core/job';
import { Problem } from '../core/names';
import { PortRole, WorkloadContainer } from '../core/pod-spec';
import { PodManagementPolicy } from '../core/policies';
import { k8s } from '../core/private/k8s';
import { Probe } from '../core/probes';
import { Storage } from '../core/storage';
import { imageTag, StatefulWorkload } from '../core/stateful-workload';
import { StatefulSystem, StatefulSystemProps } from '../core/system';
import {
  REDIS_CLIENT_PORT, REDIS_CONFIG_DIR, REDIS_DATA_DIR, REDIS_GOSSIP_PORT, REDIS_RUN_DIR,
  renderRedisBootstrapScript, renderRedisConf, renderRedisStartScript,
} from './config';
import { REDIS_PASSWORD_KEY, RedisSettings, resolveRedisSettings } from './settings';

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
 * - `monitoring`: not available yet (there is no Redis exporter); setting it throws
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
  /** The Job that forms the cluster. */
  public readonly bootstrapJob: k8s.KubeJob;

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
      ],
      configFiles: [
        { path: `${REDIS_CONFIG_DIR}/redis.conf`, content: renderRedisConf(s.conf) },
        { path: `${REDIS_CONFIG_DIR}/start.sh`, content: renderRedisStartScript(s.start), executable: true },
      ],
      containers: [nodeContainer(authEnv)],
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
    });
    this.bootstrapJob = bootstrap.job;
    // the Job talks to every node's client port even when clients are restricted
    if (this.workload.networkPolicy) this.workload.allowClients(bootstrap.peer());
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

/** The bootstrap Job's container: `redis-cli --cluster create` once, over every node. */
function bootstrapContainer(s: RedisSettings, authEnv: Env): WorkloadContainer {
  return {
    name: 'bootstrap',
    image: s.image,
    command: ['bash', '-c', renderRedisBootstrapScript(s.bootstrap)],
    env: authEnv,
  };
}
