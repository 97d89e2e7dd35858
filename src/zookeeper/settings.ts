// ZooKeeperEnsembleProps -> resolved, validated settings. Every check of the
// ensemble's own props lives here; the shared props are checked by
// `sharedProps` and the unit.
import { Duration } from 'cdk8s';
import { Problem } from '../core/names';
import { Resources } from '../core/resources';
import { Storage } from '../core/storage';
import { ZooKeeperConfig } from './config';
import { jvmHeapMebibytes } from '../core/jvm';
import { checkedResources } from '../core/resources';
import type { ZooKeeperEnsembleProps } from './zookeeper-ensemble';
import {
  KEYS_BACKUP_NEEDS, ZooKeeperBackupSettings, zooKeeperBackupSettings, ZooKeeperRestoreSettings, zooKeeperRestoreSettings,
} from './backup';

/** The official image the ensemble runs by default (ZooKeeper 3.9, uid/gid 1000, bash and java, zkServer.sh on PATH). */
export const ZOOKEEPER_DEFAULT_IMAGE = 'zookeeper:3.9.4';
/** The official image's `zookeeper` user. */
export const ZOOKEEPER_USER = { uid: 1000, gid: 1000 };

/** Where things live in a member's container. */
export const ZK_DIRS = {
  conf: '/conf',
  scripts: '/scripts',
  data: '/data',
  dataLog: '/datalog',
  logs: '/logs',
};

/** The ports of a member. */
export const ZK_PORTS = { client: 2181, quorum: 2888, election: 3888, admin: 8080, metrics: 7000 };

/** The ensemble's own props, resolved and validated. */
export interface ZooKeeperSettings {
  readonly replicas: number;
  readonly image: string;
  readonly resources: Resources;
  readonly heapMebibytes: number;
  /** A separate transaction-log volume, if any. */
  readonly transactionLogStorage: Storage | undefined;
  readonly adminServer: boolean;
  /** The Prometheus provider runs (`monitoring` is set). */
  readonly metrics: boolean;
  /** `backup`, resolved: the AdminServer then serves snapshots. */
  readonly backup: ZooKeeperBackupSettings | undefined;
  /** `restore`, resolved. */
  readonly restore: ZooKeeperRestoreSettings | undefined;
  /** zoo.cfg's settings except the members, whose names come from the identity. */
  readonly config: Omit<ZooKeeperConfig, 'members'>;
}

/** Resolves and validates the ensemble's own props; throws a Problem-style error naming the prop. */
export function zooKeeperSettings(problem: Problem, props: ZooKeeperEnsembleProps): ZooKeeperSettings {
  const replicas = quorumSize(problem, props.replicas ?? 3);
  const resources = checkedResources(problem, 'resources', props.resources ?? Resources.small());
  const heapMebibytes = jvmHeapMebibytes(problem, props.heap, resources, 64);

  problem.instanceOf('tickTime', props.tickTime, Duration, 'a Duration such as Duration.millis(2000)');
  problem.instanceOf('purgeInterval', props.purgeInterval, Duration, 'a Duration in whole hours such as Duration.hours(24)');
  const tickTimeMillis = problem.integer('tickTime (in milliseconds)', (props.tickTime ?? Duration.millis(2000)).toMilliseconds(), 1);
  const purgeIntervalHours = problem.integer('purgeInterval (in hours)', (props.purgeInterval ?? Duration.hours(24)).toHours({ integral: false }), 0);
  const logStorage = problem.instanceOf('transactionLogStorage', props.transactionLogStorage, Storage,
    'Storage.persistent({ size: Size.gibibytes(5) }) or Storage.ephemeral()');
  logStorage?._validate(problem, 'transactionLogStorage');
  const fourLetterWords = props.fourLetterWords ?? [];
  for (const w of fourLetterWords) {
    if (typeof w !== 'string' || !/^([a-z]{4}|\*)$/.test(w)) throw problem.error('fourLetterWords', `must be four lower-case letters (or '*'), got '${w}'`);
  }
  const extra = props.extraConfig ?? {};
  for (const [k, v] of Object.entries(extra)) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(k) || /^(server\.\d+|dataDir|dataLogDir|clientPort)$/.test(k)) {
      throw problem.error('extraConfig', `key '${k}' is not allowed: use a zoo.cfg property name that the typed props do not already set`);
    }
    if (typeof v !== 'string' || /[\r\n]/.test(v)) throw problem.error('extraConfig', `value of '${k}' must be a single-line string, got ${JSON.stringify(v)}`);
  }
  const adminServer = props.adminServer ?? false;
  const metrics = props.monitoring !== undefined;
  const backup = zooKeeperBackupSettings(problem, props);
  const conflict = backup ? Object.keys(extra).find((k) => KEYS_BACKUP_NEEDS.includes(k)) : undefined;
  if (conflict) {
    throw problem.error('extraConfig', `key '${conflict}' is not allowed with backup: the snapshot backups need the AdminServer on port ${ZK_PORTS.admin} of every interface with snapshots on, and uncompressed snapshots that end with their last zxid`);
  }

  return {
    replicas,
    image: props.image ?? ZOOKEEPER_DEFAULT_IMAGE,
    resources,
    heapMebibytes,
    transactionLogStorage: logStorage,
    adminServer,
    metrics,
    backup,
    restore: zooKeeperRestoreSettings(problem, props),
    config: {
      clientPort: ZK_PORTS.client,
      quorumPort: ZK_PORTS.quorum,
      electionPort: ZK_PORTS.election,
      dataDir: ZK_DIRS.data,
      dataLogDir: logStorage ? ZK_DIRS.dataLog : undefined,
      tickTimeMillis,
      initLimitTicks: problem.integer('initLimit', props.initLimit ?? 10, 1),
      syncLimitTicks: problem.integer('syncLimit', props.syncLimit ?? 5, 1),
      maxClientConnections: problem.integer('maxClientConnections', props.maxClientConnections ?? 60, 0),
      snapRetainCount: problem.integer('snapRetainCount', props.snapRetainCount ?? 3, 3),
      purgeIntervalHours,
      fourLetterWords,
      // backups take snapshots through the AdminServer
      adminServerPort: adminServer || backup ? ZK_PORTS.admin : undefined,
      adminSnapshots: backup !== undefined,
      metricsPort: metrics ? ZK_PORTS.metrics : undefined,
      extra,
    },
  };
}

/** An odd number of members (a majority must survive a failure), or 1 for development. */
function quorumSize(problem: Problem, replicas: number): number {
  if (!Number.isInteger(replicas) || replicas < 1 || (replicas !== 1 && replicas % 2 === 0)) {
    const why = Number.isInteger(replicas) && replicas >= 2 && replicas % 2 === 0
      ? `: a quorum is a strict majority, so ${replicas} members survive only ${(replicas - 2) / 2 === 0 ? 'no' : (replicas - 2) / 2} failure(s), no more than ${replicas - 1}, and cost an extra member`
      : '';
    throw problem.error('replicas', `must be an odd number >= 3 for a quorum (or 1 for development), got ${replicas}${why}`);
  }
  return replicas;
}
