import { Duration, Size, SizeRoundingBehavior } from 'cdk8s';
import { Construct } from 'constructs';
import { StatefulSystem } from '../core/system';
import { Problem } from '../core/names';
import { PlacementProps } from '../core/placement';
import { Probe } from '../core/probes';
import { k8s } from '../core/private/k8s';
import { Resources } from '../core/resources';
import { RunAs } from '../core/security';
import { Budgets, PortRole, StatefulWorkload, WorkloadMount, WorkloadPort, WorkloadVolume } from '../core/stateful-workload';
import { Storage } from '../core/storage';
import { imageTag, WorkloadIdentity } from '../core/identity';
import {
  renderZkLiveScript, renderZkLogback, renderZkReadyScript, renderZkStartScript, renderZooCfg, ZooKeeperConfig,
} from './config';

/** The official image the ensemble runs by default (ZooKeeper 3.9, uid/gid 1000, bash and java, zkServer.sh on PATH). */
export const ZOOKEEPER_DEFAULT_IMAGE = 'zookeeper:3.9.4';

const CONF_DIR = '/conf';
const SCRIPTS_DIR = '/scripts';
const DATA_DIR = '/data';
const DATA_LOG_DIR = '/datalog';

/** Props of `ZooKeeperEnsemble`. Every prop is optional. */
export interface ZooKeeperEnsembleProps {
  /**
   * Members of the ensemble: an odd number >= 3 (a majority must survive a
   * failure), or 1 for development (standalone, no fault tolerance).
   * @default 3
   */
  readonly replicas?: number;
  /**
   * Container image: the official `zookeeper` image or one built like it
   * (`zkServer.sh` on PATH, bash, uid 1000). Pin a version.
   * @default 'zookeeper:3.9.4'
   */
  readonly image?: string;
  /**
   * Storage of each member's data directory (snapshots, and the transaction
   * log unless `transactionLogStorage` is set).
   * @default Storage.persistent({ size: Size.gibibytes(10) }) - the cluster's default StorageClass
   */
  readonly storage?: Storage;
  /**
   * A separate volume for the transaction log (`dataLogDir`). A dedicated
   * disk keeps fsync latency low under snapshot writes.
   * @default - the log lives in the data directory
   */
  readonly transactionLogStorage?: Storage;
  /**
   * CPU and memory of each member.
   * @default Resources.small() - 250m CPU, 1Gi memory
   */
  readonly resources?: Resources;
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
   * Run the AdminServer (HTTP commands on port 8080, named `admin`).
   * @default false
   */
  readonly adminServer?: boolean;
  /**
   * Export Prometheus metrics from the built-in provider on port 7000
   * (named `metrics`, open to every namespace). Needs the provider's jars,
   * which the official image has.
   * @default false
   */
  readonly prometheusMetrics?: boolean;
  /**
   * Extra zoo.cfg lines (`key: value`), rendered after the typed settings.
   * @default - none
   */
  readonly extraConfig?: { [key: string]: string };
  /**
   * Pod placement. `AntiAffinity.hard()` keeps every member on its own node.
   * @default - soft anti-affinity by node
   */
  readonly placement?: PlacementProps;
  /**
   * Name of the StatefulSet; pods are `<name>-<ordinal>`.
   * @default - the construct path from the chart, joined with '-'
   */
  readonly name?: string;
  /**
   * Who may reach the client port; add more with `allowClients`.
   * @default - every pod in the namespace
   */
  readonly allowClientsFrom?: k8s.NetworkPolicyPeer[];
  /**
   * User and group ZooKeeper runs as.
   * @default { uid: 1000, gid: 1000 } - the official image's `zookeeper` user
   */
  readonly runAs?: RunAs;
  /**
   * Time a member gets to shut down.
   * @default Duration.seconds(60)
   */
  readonly terminationGracePeriod?: Duration;
  /**
   * Cluster DNS domain, used in the members' FQDNs.
   * @default 'cluster.local'
   */
  readonly clusterDomain?: string;
}

/**
 * A ZooKeeper ensemble: an odd number of members with stable names, each
 * with its own volume, started in order, with a disruption budget that keeps
 * a quorum, probes that speak ZooKeeper, and a NetworkPolicy that opens the
 * quorum and election ports to members only.
 */
export class ZooKeeperEnsemble extends StatefulSystem {
  /** Number of members. */
  public readonly replicas: number;
  /** The client port (2181). */
  public readonly clientPort: number;
  /** The quorum (follower-to-leader) port (2888). */
  public readonly quorumPort: number;
  /** The leader-election port (3888). */
  public readonly electionPort: number;
  /** `<pod-fqdn>:2181,...` over every member, for clients such as Kafka. */
  public readonly connectString: string;
  /** The image the members run. */
  public readonly image: string;
  /** JVM heap of each member, in MiB. */
  public readonly heapMebibytes: number;
  /** The rendered zoo.cfg. */
  public readonly zooCfg: string;
  /** The stateful unit the ensemble is built on. */
  public readonly workload: StatefulWorkload;

  public constructor(scope: Construct, id: string, props: ZooKeeperEnsembleProps = {}) {
    super(scope, id);
    const problem = new Problem('ZooKeeperEnsemble', this);

    const replicas = props.replicas ?? 3;
    if (!Number.isInteger(replicas) || replicas < 1 || (replicas !== 1 && replicas % 2 === 0)) {
      const why = Number.isInteger(replicas) && replicas >= 2 && replicas % 2 === 0
        ? `: a quorum is a strict majority, so ${replicas} members survive only ${(replicas - 2) / 2 === 0 ? 'no' : (replicas - 2) / 2} failure(s), no more than ${replicas - 1}, and cost an extra member`
        : '';
      throw problem.error('replicas', `must be an odd number >= 3 for a quorum (or 1 for development), got ${replicas}${why}`);
    }
    this.replicas = replicas;
    this.clientPort = 2181;
    this.quorumPort = 2888;
    this.electionPort = 3888;
    this.image = props.image ?? ZOOKEEPER_DEFAULT_IMAGE;

    const resources = props.resources ?? Resources.small();
    const limit = resources.memoryLimitMebibytes;
    this.heapMebibytes = props.heap
      ? props.heap.toMebibytes({ rounding: SizeRoundingBehavior.FLOOR })
      : Math.floor(limit / 2);
    const maxHeap = Math.floor(limit * 0.75);
    if (!(this.heapMebibytes >= 64) || this.heapMebibytes > maxHeap) {
      throw problem.error('heap', `(${this.heapMebibytes}Mi) must be at least 64Mi and fit in the memory limit (${limit}Mi) with room for the JVM's own memory: at most 75% of it, ${maxHeap}Mi`);
    }

    const tickTimeMillis = (props.tickTime ?? Duration.millis(2000)).toMilliseconds();
    problem.integer('tickTime (in milliseconds)', tickTimeMillis, 1);
    const initLimit = problem.integer('initLimit', props.initLimit ?? 10, 1);
    const syncLimit = problem.integer('syncLimit', props.syncLimit ?? 5, 1);
    const maxClientConnections = problem.integer('maxClientConnections', props.maxClientConnections ?? 60, 0);
    const snapRetainCount = problem.integer('snapRetainCount', props.snapRetainCount ?? 3, 3);
    const purgeHours = (props.purgeInterval ?? Duration.hours(24)).toHours({ integral: false });
    problem.integer('purgeInterval (in hours)', purgeHours, 0);
    for (const w of props.fourLetterWords ?? []) {
      if (!/^([a-z]{4}|\*)$/.test(w)) throw problem.error('fourLetterWords', `must be four lower-case letters (or '*'), got '${w}'`);
    }
    for (const k of Object.keys(props.extraConfig ?? {})) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(k) || /^(server\.\d+|dataDir|dataLogDir|clientPort)$/.test(k)) {
        throw problem.error('extraConfig', `key '${k}' is not allowed: use a zoo.cfg property name that the typed props do not already set`);
      }
    }

    const storage = props.storage ?? Storage.persistent({ size: Size.gibibytes(10) });
    const logStorage = props.transactionLogStorage;
    const ports: WorkloadPort[] = [
      { name: 'client', port: this.clientPort, role: PortRole.CLIENT },
      { name: 'quorum', port: this.quorumPort, role: PortRole.PEER },
      { name: 'election', port: this.electionPort, role: PortRole.PEER },
      ...(props.adminServer ? [{ name: 'admin', port: 8080, role: PortRole.CLIENT }] : []),
      ...(props.prometheusMetrics ? [{ name: 'metrics', port: 7000, role: PortRole.METRICS }] : []),
    ];
    const volumes: WorkloadVolume[] = [
      { name: 'data', storage },
      ...(logStorage ? [{ name: 'datalog', storage: logStorage }] : []),
      { name: 'logs', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(256) }) },
      { name: 'tmp', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(64) }) },
    ];
    const mounts: WorkloadMount[] = [
      { volume: 'data', path: DATA_DIR },
      ...(logStorage ? [{ volume: 'datalog', path: DATA_LOG_DIR }] : []),
      { volume: 'logs', path: '/logs' },
      { volume: 'tmp', path: '/tmp' },
    ];

    // The unit's name and FQDNs are needed in zoo.cfg before the unit exists,
    // so the files are rendered from a function of the (validated) unit below.
    let config: ZooKeeperConfig | undefined;
    const files = (podFqdn: (i: number) => string) => {
      config = {
        members: Array.from({ length: replicas }, (_, i) => podFqdn(i)),
        clientPort: this.clientPort,
        quorumPort: this.quorumPort,
        electionPort: this.electionPort,
        dataDir: DATA_DIR,
        dataLogDir: logStorage ? DATA_LOG_DIR : undefined,
        tickTimeMillis,
        initLimitTicks: initLimit,
        syncLimitTicks: syncLimit,
        maxClientConnections,
        snapRetainCount,
        purgeIntervalHours: purgeHours,
        fourLetterWords: props.fourLetterWords ?? [],
        adminServerPort: props.adminServer ? 8080 : undefined,
        metricsPort: props.prometheusMetrics ? 7000 : undefined,
        extra: props.extraConfig ?? {},
      };
      return [
        { path: `${CONF_DIR}/zoo.cfg`, content: renderZooCfg(config) },
        { path: `${CONF_DIR}/logback.xml`, content: renderZkLogback() },
        { path: `${SCRIPTS_DIR}/zk-start.sh`, content: renderZkStartScript({ dataDir: DATA_DIR, configDir: CONF_DIR, replicas }), executable: true },
        { path: `${SCRIPTS_DIR}/zk-ready.sh`, content: renderZkReadyScript(this.clientPort), executable: true },
        { path: `${SCRIPTS_DIR}/zk-live.sh`, content: renderZkLiveScript(this.clientPort), executable: true },
      ];
    };
    const name = props.name;
    const clusterDomain = props.clusterDomain ?? 'cluster.local';
    // the same identity the unit takes below: zoo.cfg names exactly its pods
    const identity = WorkloadIdentity.of(this, { kind: 'ZooKeeperEnsemble', name, clusterDomain });

    this.workload = new StatefulWorkload(this, 'Workload', {
      kind: 'ZooKeeperEnsemble',
      appName: 'zookeeper',
      component: 'server',
      version: imageTag(this.image),
      name,
      replicas,
      resources,
      runAs: props.runAs ?? { uid: 1000, gid: 1000 },
      placement: props.placement,
      clusterDomain,
      allowClientsFrom: props.allowClientsFrom,
      terminationGracePeriod: props.terminationGracePeriod ?? Duration.seconds(60),
      // a standalone member cannot keep a quorum: let drains proceed
      disruptionBudget: Budgets.quorum(replicas),
      volumes,
      configFiles: files((i) => identity.podFqdn(i)),
      containers: [{
        name: 'zookeeper',
        image: this.image,
        command: ['bash', `${SCRIPTS_DIR}/zk-start.sh`],
        env: [
          { name: 'ZOOCFGDIR', value: CONF_DIR },
          { name: 'ZOO_LOG_DIR', value: '/logs' },
          { name: 'ZK_SERVER_HEAP', value: String(this.heapMebibytes) },
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        ],
        ports,
        mounts,
        readinessProbe: Probe.exec(['bash', `${SCRIPTS_DIR}/zk-ready.sh`], { period: Duration.seconds(10), timeout: Duration.seconds(5), failureThreshold: 3 }),
        livenessProbe: Probe.exec(['bash', `${SCRIPTS_DIR}/zk-live.sh`], { period: Duration.seconds(30), timeout: Duration.seconds(10), failureThreshold: 6 }),
      }],
    });
    this.zooCfg = renderZooCfg(config!);

    this.connectString = Array.from({ length: replicas }, (_, i) => `${this.workload.podFqdn(i)}:${this.clientPort}`).join(',');

    if (replicas === 1) {
      const warning = 'a single ZooKeeper member is a development setup: it has no quorum and every restart is an outage; use 3 or 5 members in production';
      this.node.addMetadata('warning', `${problem.subject}: ${warning}`);
      this.statefulSet.metadata.addAnnotation('cdk8s-stateful.io/warning', warning);
    }
  }


  /**
   * Admits `from` to the client port in the ensemble's NetworkPolicy (Kafka
   * brokers call this when wired to the ensemble).
   */
  public allowClients(from: k8s.NetworkPolicyPeer): void {
    this.workload.allowClients(from, ['client']);
  }
}
