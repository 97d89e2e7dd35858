import { Duration, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { StatefulSystem } from '../core/system';
import { Credentials } from '../core/credentials';
import { imageTag, WorkloadIdentity } from '../core/identity';
import { Problem } from '../core/names';
import { PlacementProps } from '../core/placement';
import { k8s } from '../core/private/k8s';
import { Probe } from '../core/probes';
import { Resources } from '../core/resources';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext, RunAs } from '../core/security';
import { PodManagementPolicy, PortRole, StatefulWorkload } from '../core/stateful-workload';
import { Storage } from '../core/storage';
import {
  REDIS_CLIENT_PORT, REDIS_CONFIG_DIR, REDIS_DATA_DIR, REDIS_GOSSIP_PORT, REDIS_RUN_DIR,
  renderRedisBootstrapScript, renderRedisConf, renderRedisStartScript,
} from './config';

/** The pinned default image (BSD-licensed Redis 7.2). */
export const DEFAULT_REDIS_IMAGE = 'docker.io/library/redis:7.2.7';
/** The Secret key that holds the Redis password. */
export const REDIS_PASSWORD_KEY = 'password';

/** Props of `RedisCluster`. */
export interface RedisClusterProps {
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
   * Redis image with a pinned tag; must provide bash, redis-server and redis-cli.
   * @default DEFAULT_REDIS_IMAGE
   */
  readonly image?: string;
  /**
   * Data storage of each node (AOF, RDB, nodes.conf).
   * @default Storage.persistent({ size: Size.gibibytes(10) })
   */
  readonly storage?: Storage;
  /**
   * CPU and memory of each node.
   * @default Resources.small()
   */
  readonly resources?: Resources;
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
   * A Secret you manage with the key `password`.
   * @default - a Secret with a random password is generated in the cluster
   */
  readonly existingSecret?: string;
  /**
   * Extra redis.conf lines (never passwords: those come from the Secret).
   * @default - none
   */
  readonly config?: string[];
  /**
   * Cluster node timeout: how long a node may be unreachable before failover.
   * @default Duration.millis(5000)
   */
  readonly nodeTimeout?: Duration;
  /**
   * StatefulSet name.
   * @default - the construct path from the chart, joined with '-'
   */
  readonly name?: string;
  /**
   * Pod placement.
   * @default - soft anti-affinity by node
   */
  readonly placement?: PlacementProps;
  /**
   * User and group of the Redis processes (the official image's `redis` user).
   * @default { uid: 999, gid: 999 }
   */
  readonly runAs?: RunAs;
  /**
   * Who may reach the client port.
   * @default - every pod in the namespace
   */
  readonly allowClientsFrom?: k8s.NetworkPolicyPeer[];
  /**
   * Cluster DNS domain.
   * @default 'cluster.local'
   */
  readonly clusterDomain?: string;
}

/**
 * A Redis Cluster: `masters` × (1 + `replicasPerMaster`) nodes that form the
 * cluster by themselves (a bootstrap Job runs `redis-cli --cluster create`
 * once), announce their pod IP and FQDN, survive IP changes on restart, and
 * require a password from a Secret that never appears in the manifest.
 */
export class RedisCluster extends StatefulSystem {
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

  public constructor(scope: Construct, id: string, props: RedisClusterProps = {}) {
    super(scope, id);
    const problem = new Problem('RedisCluster', this);
    this.masters = problem.integer('masters', props.masters ?? 3, 3, 1000);
    this.replicasPerMaster = problem.integer('replicasPerMaster', props.replicasPerMaster ?? 1, 0, 10);
    this.nodes = this.masters * (1 + this.replicasPerMaster);
    const image = props.image ?? DEFAULT_REDIS_IMAGE;
    const resources = props.resources ?? Resources.small();
    const auth = props.auth ?? true;
    if (!auth && props.existingSecret !== undefined) throw problem.error('existingSecret', 'needs auth: true (there is no password to read)');
    const fraction = props.maxMemoryFraction ?? 0.7;
    if (!(fraction >= 0 && fraction <= 0.9)) throw problem.error('maxMemoryFraction', `must be from 0 to 0.9 (the rest is the AOF rewrite fork and buffers), got ${fraction}`);
    const nodeTimeout = props.nodeTimeout?.toMilliseconds() ?? 5000;
    problem.integer('nodeTimeout (ms)', nodeTimeout, 500, 600000);
    const extra = props.config ?? [];
    for (const line of extra) {
      if (/^\s*(requirepass|masterauth|masteruser|user)\b/i.test(line)) {
        throw problem.error('config', `must not set '${line.trim().split(/\s+/)[0]}': the password comes from the credentials Secret, never from the ConfigMap`);
      }
      if (/\n/.test(line)) throw problem.error('config', 'takes one directive per entry, without newlines');
    }
    const { name, clusterDomain, headlessServiceName } = WorkloadIdentity.of(this, { kind: 'RedisCluster', name: props.name, clusterDomain: props.clusterDomain });

    this.credentials = auth
      ? new Credentials(this, 'Credentials', { keys: [REDIS_PASSWORD_KEY], existingSecret: props.existingSecret, secretName: `${name}-credentials`, kind: 'RedisCluster' })
      : undefined;
    const authEnv = this.credentials ? [this.credentials.envVar('REDISCLI_AUTH', REDIS_PASSWORD_KEY)] : [];

    const redisConf = renderRedisConf({
      nodeTimeoutMillis: nodeTimeout,
      maxMemoryMebibytes: Math.floor(resources.memoryLimitMebibytes * fraction),
      extraLines: extra,
    });
    this.workload = new StatefulWorkload(this, 'Unit', {
      kind: 'RedisCluster',
      appName: 'redis',
      component: 'cluster',
      name,
      headlessServiceName,
      replicas: this.nodes,
      resources,
      runAs: props.runAs ?? { uid: 999, gid: 999 },
      placement: props.placement,
      podManagementPolicy: PodManagementPolicy.PARALLEL,
      disruptionBudget: { maxUnavailable: 1 },
      allowClientsFrom: props.allowClientsFrom,
      clusterDomain,
      version: imageTag(image),
      volumes: [
        { name: 'data', storage: props.storage ?? Storage.persistent({ size: Size.gibibytes(10) }) },
        { name: 'run', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(16) }) },
      ],
      configFiles: [
        { path: `${REDIS_CONFIG_DIR}/redis.conf`, content: redisConf },
        { path: `${REDIS_CONFIG_DIR}/start.sh`, content: renderRedisStartScript({ headlessServiceName, clusterDomain, auth }), executable: true },
      ],
      containers: [{
        name: 'redis',
        image,
        command: ['bash', `${REDIS_CONFIG_DIR}/start.sh`],
        env: [
          { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          ...authEnv,
        ],
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
      }],
    });
    this.seedNodes = Array.from({ length: this.nodes }, (_, i) => `${this.workload.podFqdn(i)}:${REDIS_CLIENT_PORT}`).join(',');

    const jobLabels: { [key: string]: string } = { ...this.workload.labels, 'app.kubernetes.io/component': 'cluster-bootstrap' };
    const jobName = problem.dnsLabel('name', `${name}-bootstrap`);
    this.bootstrapJob = new k8s.KubeJob(this, 'Bootstrap', {
      metadata: { name: jobName, labels: jobLabels },
      spec: {
        backoffLimit: 10,
        ttlSecondsAfterFinished: 3600,
        template: {
          metadata: { labels: jobLabels },
          spec: {
            restartPolicy: 'OnFailure',
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: restrictedPodSecurityContext(props.runAs ?? { uid: 999, gid: 999 }),
            containers: [{
              name: 'bootstrap',
              image,
              imagePullPolicy: 'IfNotPresent',
              command: ['bash', '-c', renderRedisBootstrapScript({
                nodeHosts: Array.from({ length: this.nodes }, (_, i) => this.workload.podFqdn(i)),
                replicasPerMaster: this.replicasPerMaster,
                waitSeconds: 300,
              })],
              ...(authEnv.length > 0 ? { env: authEnv } : {}),
              resources: Resources.tiny()._render(),
              securityContext: restrictedContainerSecurityContext(true),
              terminationMessagePolicy: 'FallbackToLogsOnError',
            }],
          },
        },
      },
    });
    // the Job talks to every node's client port even when clients are restricted
    this.workload.allowClients({ podSelector: { matchLabels: { 'app.kubernetes.io/instance': jobLabels['app.kubernetes.io/instance'], 'app.kubernetes.io/component': 'cluster-bootstrap' } } });
  }

}
