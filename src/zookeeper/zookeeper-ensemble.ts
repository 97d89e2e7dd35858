import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { WorkloadIdentity } from '../core/identity';
import { Problem } from '../core/names';
import { ConfigFile, PortRole, WorkloadContainer, WorkloadPort, WorkloadVolume } from '../core/pod-spec';
import { Budgets } from '../core/policies';
import { k8s } from '../core/private/k8s';
import { Probe } from '../core/probes';
import { Resources } from '../core/resources';
import { imageTag, StatefulWorkload } from '../core/stateful-workload';
import { Storage } from '../core/storage';
import { StatefulSystem, StatefulSystemProps, systemUnitProps } from '../core/system';
import {
  renderZkLiveScript, renderZkLogback, renderZkReadyScript, renderZkStartScript, renderZooCfg, ZooKeeperConfig,
} from './config';
import { zooKeeperAlerts } from './alerts';
import { ZK_DIRS, ZK_PORTS, ZOOKEEPER_DEFAULT_IMAGE, ZOOKEEPER_USER, zooKeeperSettings, ZooKeeperSettings } from './settings';
import { addZkBackupJobs, zkRestoreParts } from './backup';
import type { ZooKeeperBackupOptions, ZooKeeperRestoreOptions } from './backup';

export type { ZooKeeperBackupOptions, ZooKeeperRestoreOptions } from './backup';

/**
 * Props of `ZooKeeperEnsemble`: the shared props of `StatefulSystemProps`
 * plus ZooKeeper's own. Every prop is optional.
 */
export interface ZooKeeperEnsembleProps extends StatefulSystemProps {
  /**
   * Members of the ensemble: an odd number >= 3 (a majority must survive a
   * failure), or 1 for development (standalone, no fault tolerance).
   * @default 3
   */
  readonly replicas?: number;
  /**
   * A separate volume for the transaction log (`dataLogDir`). A dedicated
   * disk keeps fsync latency low under snapshot writes.
   * @default - the log lives in the data directory
   */
  readonly transactionLogStorage?: Storage;
  /**
   * JVM heap. It must fit in the memory limit with room for the JVM's own
   * memory: at most 75% of the limit.
   * @default - half of the memory limit
   */
  readonly heap?: Size;
  /**
   * Length of a tick, ZooKeeper's time unit (`tickTime`).
   * @default Duration.millis(2000)
   */
  readonly tickTime?: Duration;
  /**
   * Ticks a follower may take to connect and sync to the leader (`initLimit`).
   * @default 10
   */
  readonly initLimit?: number;
  /**
   * Ticks a follower may lag behind the leader (`syncLimit`).
   * @default 5
   */
  readonly syncLimit?: number;
  /**
   * Concurrent connections one client IP may open to one member (`maxClientCnxns`); 0 means unlimited.
   * @default 60
   */
  readonly maxClientConnections?: number;
  /**
   * Snapshots (and their transaction logs) kept by autopurge (`autopurge.snapRetainCount`, at least 3).
   * @default 3
   */
  readonly snapRetainCount?: number;
  /**
   * Time between autopurge runs, in whole hours (`autopurge.purgeInterval`); 0 hours disables purging.
   * @default Duration.hours(24)
   */
  readonly purgeInterval?: Duration;
  /**
   * Four-letter words allowed besides `ruok` (probes), `srvr` and `mntr` (monitoring), which are always allowed.
   * @default - only ruok, srvr and mntr
   */
  readonly fourLetterWords?: string[];
  /**
   * Run the AdminServer for clients (HTTP commands on port 8080, named
   * `admin`, in the client Service). With `backup` it runs anyway, open to
   * the members and the backup Job only.
   * @default false
   */
  readonly adminServer?: boolean;
  /**
   * Extra zoo.cfg lines (`key: value`), rendered after the typed settings.
   * @default - none
   */
  readonly extraConfig?: { [key: string]: string };
  /**
   * Scheduled snapshots through the AdminServer's `snapshot` command
   * (ZooKeeper 3.9+; the AdminServer then runs on port 8080, open to the
   * members and the backup Job only unless `adminServer` is set), to a claim
   * or a bucket, with a restore-verify Job that loads the newest into a
   * scratch server.
   * @default - no backups
   */
  readonly backup?: ZooKeeperBackupOptions;
  /**
   * Create this ensemble from a snapshot: every member loads it on its
   * first start (an empty data directory).
   * @default - a new, empty ensemble
   */
  readonly restore?: ZooKeeperRestoreOptions;
}

/**
 * A ZooKeeper ensemble: an odd number of members with stable names, each
 * with its own volume, started in order, with a disruption budget that keeps
 * a quorum, probes that speak ZooKeeper, and a NetworkPolicy that opens the
 * quorum and election ports to members only.
 *
 * Defaults of the shared props (`StatefulSystemProps`):
 * - `image`: `ZooKeeperEnsemble.DEFAULT_IMAGE` ('zookeeper:3.9.4', the official image)
 * - `resources`: `Resources.small()` (250m CPU, 1Gi memory)
 * - `storage`: `Storage.persistent({ size: Size.gibibytes(10) })`, the data directory `/data`
 * - `runAs`: uid/gid 1000 (the official image's `zookeeper` user)
 * - `terminationGracePeriod`: 60 seconds
 * - `disruptionBudget`: `Budgets.quorum(replicas)` (3 members -> 1 down, 5 -> 2)
 * - `monitoring`: when set, the built-in Prometheus provider serves port 7000
 *   (`metrics`), a ServiceMonitor scrapes it (the official image has the
 *   provider's jars) and a PrometheusRule alerts on the leader, the quorum
 *   and the followers
 */
export class ZooKeeperEnsemble extends StatefulSystem {
  /** The image members run unless `image` is set. */
  public static readonly DEFAULT_IMAGE: string = ZOOKEEPER_DEFAULT_IMAGE;

  /** Number of members. */
  public readonly replicas: number;
  /** The client port (2181). */
  public readonly clientPort: number;
  /** The quorum (follower-to-leader) port (2888). */
  public readonly quorumPort: number;
  /** The leader-election port (3888). */
  public readonly electionPort: number;
  /** `<pod-fqdn>:2181,...` over every member, for clients such as Kafka (`ZOOKEEPER_CONNECT`-style env values). */
  public readonly connectString: string;
  /** The image the members run. */
  public readonly image: string;
  /** JVM heap of each member, in MiB. */
  public readonly heapMebibytes: number;
  /** The rendered zoo.cfg. */
  public readonly zooCfg: string;
  /** The stateful unit the ensemble is built on. */
  public readonly workload: StatefulWorkload;
  /** The snapshot CronJob `<name>-backup`, with `backup`. */
  public readonly backupCronJob: k8s.KubeCronJob | undefined;
  /** The restore-verify CronJob `<name>-restore-verify`, with `backup`. */
  public readonly restoreVerifyCronJob: k8s.KubeCronJob | undefined;

  public constructor(scope: Construct, id: string, props: ZooKeeperEnsembleProps = {}) {
    super(scope, id);
    const problem = new Problem('ZooKeeperEnsemble', this);
    const s = zooKeeperSettings(problem, props);
    const unit = systemUnitProps(problem, props, {
      image: ZOOKEEPER_DEFAULT_IMAGE,
      resources: Resources.small(),
      storageSize: Size.gibibytes(10),
      runAs: ZOOKEEPER_USER,
      terminationGracePeriod: Duration.seconds(60),
      // a standalone member cannot keep a quorum: its budget lets drains proceed
      disruptionBudget: Budgets.quorum(s.replicas),
    });
    // the unit takes this identity: zoo.cfg names exactly its pods
    const identity = WorkloadIdentity.of(this, { kind: 'ZooKeeperEnsemble', name: props.name, clusterDomain: props.clusterDomain });
    const config: ZooKeeperConfig = { ...s.config, members: Array.from({ length: s.replicas }, (_, i) => identity.podFqdn(i)) };

    this.replicas = s.replicas;
    this.clientPort = ZK_PORTS.client;
    this.quorumPort = ZK_PORTS.quorum;
    this.electionPort = ZK_PORTS.election;
    this.image = s.image;
    this.heapMebibytes = s.heapMebibytes;
    this.zooCfg = renderZooCfg(config);
    const dirs = { dataDir: ZK_DIRS.data, dataLogDir: config.dataLogDir };
    const restore = s.restore ? zkRestoreParts(this, s.restore, dirs, s.transactionLogStorage ? 'datalog' : undefined) : undefined;

    this.workload = new StatefulWorkload(this, 'Workload', {
      ...unit,
      identity,
      appName: 'zookeeper',
      component: 'server',
      version: imageTag(s.image),
      replicas: s.replicas,
      volumes: [...zkVolumes(s), ...(restore?.volumes ?? [])],
      configFiles: zkFiles(this.zooCfg, s),
      initContainers: restore?.initContainers,
      containers: [zkContainer(s)],
      alerts: s.metrics ? zooKeeperAlerts(identity, s.replicas) : undefined,
      backupAlert: s.metrics && s.backup ? { cronJobs: [`${identity.name}-backup`], maxAge: s.backup.maxAge } : undefined,
    });
    const jobs = s.backup ? addZkBackupJobs(this, {
      problem, backup: s.backup, identity, workload: this.workload, replicas: s.replicas, image: s.image, runAs: unit.runAs,
      imagePullPolicy: unit.imagePullPolicy, adminPort: ZK_PORTS.admin, resources: s.resources, heapMebibytes: s.heapMebibytes,
    }) : undefined;
    this.backupCronJob = jobs?.backup;
    this.restoreVerifyCronJob = jobs?.verify;
    this.connectString = Array.from({ length: s.replicas }, (_, i) => `${this.workload.podFqdn(i)}:${this.clientPort}`).join(',');

    if (s.replicas === 1) {
      const warning = 'a single ZooKeeper member is a development setup: it has no quorum and every restart is an outage; use 3 or 5 members in production';
      this.node.addMetadata('warning', `${problem.subject}: ${warning}`);
      this.statefulSet.metadata.addAnnotation('cdk8s-stateful.io/warning', warning);
    }
  }

  /**
   * Admits `peer` (a cdk8s-plus Deployment, StatefulSet or Job,
   * `kplus.Pods.select(...)`, `kplus.Namespaces.select(...)`, another
   * system's `pods`; in this namespace or another) to the client port 2181
   * only, not the AdminServer. Kafka brokers wired to the ensemble are
   * admitted this way. Throws when `networkPolicy` is off.
   */
  public allowClients(peer: kplus.INetworkPolicyPeer): void {
    this.workload.allowClients(peer, ['client']);
  }
}

/** The data claim (the workload's `storage`), the optional transaction-log claim, and writable log and tmp dirs. */
function zkVolumes(s: ZooKeeperSettings): WorkloadVolume[] {
  return [
    { name: 'data' },
    ...(s.transactionLogStorage ? [{ name: 'datalog', storage: s.transactionLogStorage }] : []),
    { name: 'logs', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(256) }) },
    { name: 'tmp', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(64) }) },
  ];
}

/** zoo.cfg, logging, and the start and probe scripts. */
function zkFiles(zooCfg: string, s: ZooKeeperSettings): ConfigFile[] {
  const { conf, scripts, data } = ZK_DIRS;
  return [
    { path: `${conf}/zoo.cfg`, content: zooCfg },
    { path: `${conf}/logback.xml`, content: renderZkLogback() },
    { path: `${scripts}/zk-start.sh`, content: renderZkStartScript({ dataDir: data, configDir: conf, replicas: s.replicas }), executable: true },
    { path: `${scripts}/zk-ready.sh`, content: renderZkReadyScript(ZK_PORTS.client), executable: true },
    { path: `${scripts}/zk-live.sh`, content: renderZkLiveScript(ZK_PORTS.client), executable: true },
  ];
}

/** The member's container: the start script, the heap, and probes that speak ZooKeeper. */
function zkContainer(s: ZooKeeperSettings): WorkloadContainer {
  const ports: WorkloadPort[] = [
    { name: 'client', port: ZK_PORTS.client, role: PortRole.CLIENT },
    { name: 'quorum', port: ZK_PORTS.quorum, role: PortRole.PEER },
    { name: 'election', port: ZK_PORTS.election, role: PortRole.PEER },
    // without adminServer, the AdminServer of backups is open to the members and the backup Job only
    ...(s.config.adminServerPort !== undefined ? [{ name: 'admin', port: ZK_PORTS.admin, role: s.adminServer ? PortRole.CLIENT : PortRole.PEER }] : []),
    ...(s.metrics ? [{ name: 'metrics', port: ZK_PORTS.metrics, role: PortRole.METRICS }] : []),
  ];
  const { conf, scripts, data, dataLog, logs } = ZK_DIRS;
  return {
    name: 'zookeeper',
    command: ['bash', `${scripts}/zk-start.sh`],
    env: {
      ZOOCFGDIR: kplus.EnvValue.fromValue(conf),
      ZOO_LOG_DIR: kplus.EnvValue.fromValue(logs),
      ZK_SERVER_HEAP: kplus.EnvValue.fromValue(String(s.heapMebibytes)),
      POD_NAME: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME),
    },
    ports,
    mounts: [
      { volume: 'data', path: data },
      ...(s.transactionLogStorage ? [{ volume: 'datalog', path: dataLog }] : []),
      { volume: 'logs', path: logs },
      { volume: 'tmp', path: '/tmp' },
    ],
    readinessProbe: Probe.exec(['bash', `${scripts}/zk-ready.sh`], { period: Duration.seconds(10), timeout: Duration.seconds(5), failureThreshold: 3 }),
    livenessProbe: Probe.exec(['bash', `${scripts}/zk-live.sh`], { period: Duration.seconds(30), timeout: Duration.seconds(10), failureThreshold: 6 }),
  };
}
