import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { Credentials, systemCredentials } from '../core/credentials';
import { WorkloadIdentity } from '../core/identity';
import { Problem } from '../core/names';
import { PortRole, WorkloadContainer } from '../core/pod-spec';
import { PodManagementPolicy } from '../core/policies';
import { k8s } from '../core/private/k8s';
import { Probe } from '../core/probes';
import { Resources } from '../core/resources';
import { StatefulWorkload } from '../core/stateful-workload';
import { Storage } from '../core/storage';
import { StatefulSystem, StatefulSystemProps } from '../core/system';
import {
  EXPORTER_PORT, MONITOR_PASSWORD_KEY, MONITOR_USER, PG_CONFIG_DIR, PG_PASSFILE, PG_RUN_DIR, PG_SECRET_DIR, PG_VOLUME_DIR, POSTGRES_PORT,
  renderMemberFiles,
} from './config';
import { postgresAlerts } from './alerts';
import { addBackupRepository, backupCronJobNames, dbBackupFiles, dbBackupSidecar, PostgresBackupOptions } from './backup';
import { postgresSettings } from './settings';
import { PostgresSynchronousCommit } from './synchronous';

export { PostgresSynchronousCommit } from './synchronous';
export type { PostgresBackupOptions } from './backup';

/** An application user created on the primary (and replicated). */
export interface PostgresUser {
  /**
   * User name (lower-case letters, digits, '_'; at most 63). Its password is
   * the Secret key `<name>-password`.
   */
  readonly name: string;
  /**
   * Databases (of `databases`) this user owns.
   * @default - none
   */
  readonly databases?: string[];
}

/** The server settings people tune; sizes derive from the memory limit unless set. */
export interface PostgresParameters {
  /**
   * `max_connections`.
   * @default 200
   */
  readonly maxConnections?: number;
  /**
   * `shared_buffers`; at most three quarters of the memory limit.
   * @default - a quarter of the memory limit
   */
  readonly sharedBuffers?: Size;
  /**
   * `effective_cache_size`: the planner's estimate of cache available.
   * @default - three quarters of the memory limit
   */
  readonly effectiveCacheSize?: Size;
  /**
   * `work_mem`, per sort or hash operation.
   * @default Size.mebibytes(4)
   */
  readonly workMem?: Size;
  /**
   * `maintenance_work_mem` (VACUUM, CREATE INDEX).
   * @default - a sixteenth of the memory limit, from 16 MiB to 1 GiB
   */
  readonly maintenanceWorkMem?: Size;
  /**
   * `max_slot_wal_keep_size`: the most WAL a standby's slot may hold on the
   * primary; a standby that falls further behind must bootstrap again.
   * @default - a quarter of the data volume (1 GiB with ephemeral storage)
   */
  readonly maxSlotWalKeepSize?: Size;
  /**
   * Any other postgresql.conf parameter, name -> value (rendered quoted).
   * Parameters the construct renders (replication, files, ports) are refused.
   * @default - none
   */
  readonly extra?: { [name: string]: string };
}

/** Where a new PostgresReplicaSet gets its data from. */
export interface PostgresRestoreOptions {
  /**
   * The set whose pgBackRest repository holds the backups: in the same
   * namespace, with `backup`. The restored set shares its credentials Secret
   * (the restored database has its roles and passwords).
   */
  readonly source: PostgresReplicaSet;
  /**
   * Recover to this time (ISO 8601 with a time zone, e.g.
   * '2026-12-01T04:30:00Z'): transactions committed after it are not replayed.
   * @default - the end of the archived WAL
   */
  readonly targetTime?: string;
}

/** Props of `PostgresReplicaSet`. */
export interface PostgresReplicaSetProps extends StatefulSystemProps {
  /**
   * Members: ordinal 0 is the primary, the others hot standbys.
   * @default 3
   */
  readonly replicas?: number;
  /**
   * Databases created on the primary (owned by the user that lists them, else by `postgres`).
   * @default - none
   */
  readonly databases?: string[];
  /**
   * Users created on the primary.
   * @default - none
   */
  readonly users?: PostgresUser[];
  /**
   * A Secret you manage with the keys `postgres-password`,
   * `replication-password`, `monitor-password` (with `monitoring`) and
   * `<user>-password` for each of `users`.
   * @default - a Secret with random passwords is generated in the cluster
   */
  readonly existingSecret?: string;
  /**
   * Server parameters.
   * @default - sizes derived from the memory limit
   */
  readonly parameters?: PostgresParameters;
  /**
   * Whether commits wait for standbys.
   * @default PostgresSynchronousCommit.off()
   */
  readonly synchronous?: PostgresSynchronousCommit;
  /**
   * Continuous WAL archiving and scheduled backups with pgBackRest, through
   * a repository host `<name>-repo`. Needs an `image` that contains
   * pgBackRest and openssl (the official image has neither; see the README).
   * @default - no backups
   */
  readonly backup?: PostgresBackupOptions;
  /**
   * Bootstrap this set from another set's backups (to the end of the
   * archived WAL or to a point in time) instead of an empty database.
   * Needs an `image` with pgBackRest and openssl.
   * @default - a new, empty database
   */
  readonly restore?: PostgresRestoreOptions;
}

/**
 * A PostgreSQL primary with streaming-replication hot standbys: ordinal 0 is
 * the primary (statically: there is no automatic failover), the others
 * bootstrap with `pg_basebackup` over a physical replication slot of their
 * own and stream from it. Passwords live in a Secret (generated in the
 * cluster unless you bring one), authenticated with SCRAM.
 *
 * Defaults of the shared props:
 * - `image`: `docker.io/library/postgres:18.3` (PostgreSQL 13 or newer is required)
 * - `resources`: `Resources.medium()`; `storage`: `Storage.persistent` of 20 GiB
 * - `runAs`: uid/gid 999 (the official image's `postgres` user)
 * - `terminationGracePeriod`: 60 seconds
 * - `disruptionBudget`: one member at a time
 * - `monitoring`: adds a postgres_exporter sidecar (user `monitor`, pg_monitor),
 *   a ServiceMonitor and alerts
 */
export class PostgresReplicaSet extends StatefulSystem {
  /** Members (one primary, the rest standbys). */
  public readonly replicas: number;
  /** Write endpoint: the Service in front of ordinal 0. */
  public readonly primaryHost: string;
  /** Read endpoint: the Service over every Ready member (streaming standbys and the primary). */
  public readonly readHost: string;
  /** The SQL port. */
  public readonly port: number;
  /** The Secret with the passwords. */
  public readonly credentials: Credentials;
  /** `shared_buffers` in MiB. */
  public readonly sharedBuffersMebibytes: number;
  /** The underlying stateful unit. */
  public readonly workload: StatefulWorkload;
  /** The Service in front of the primary. */
  public readonly primaryService: k8s.KubeService;
  /** The Service over every Ready member. */
  public readonly readService: k8s.KubeService;
  /** The pgBackRest repository host `<name>-repo`, when `backup` is set. */
  public readonly backupRepository: StatefulWorkload | undefined;

  private readonly problem: Problem;
  private readonly passwordKeys: ReadonlyMap<string, string>;

  public constructor(scope: Construct, id: string, props: PostgresReplicaSetProps = {}) {
    super(scope, id);
    const identity = WorkloadIdentity.of(this, { kind: 'PostgresReplicaSet', name: props.name, clusterDomain: props.clusterDomain });
    const s = postgresSettings(this, props);
    this.problem = new Problem('PostgresReplicaSet', this);
    this.replicas = s.replicas;
    this.sharedBuffersMebibytes = s.conf.sharedBuffersMebibytes;
    this.passwordKeys = s.passwordKeys;
    this.port = POSTGRES_PORT;

    this.credentials = systemCredentials(this, this.problem, identity, { keys: s.secretKeys, existingSecret: s.existingSecret });
    const monitored = props.monitoring !== undefined;
    const repoHost = s.backup ? WorkloadIdentity.of(this, { name: `${identity.name}-repo`, clusterDomain: identity.clusterDomain }).podFqdn(0) : undefined;
    const withTls = s.backup !== undefined || s.restore !== undefined;
    this.workload = new StatefulWorkload(this, 'Unit', {
      ...s.shared,
      identity,
      appName: 'postgresql',
      component: 'database',
      version: s.version,
      replicas: s.replicas,
      podManagementPolicy: PodManagementPolicy.ORDERED_READY,
      clientService: false,
      volumes: [
        { name: 'data' },
        { name: 'run', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(64) }) },
      ],
      secretVolumes: [{ name: 'credentials', secretName: this.credentials.secretName, keys: this.credentials.keys }],
      configFiles: renderMemberFiles(s.conf, {
        primaryHost: identity.podFqdn(0), users: s.users, databases: s.databases, monitorUser: monitored,
        tlsDomain: withTls ? identity.serviceFqdn(identity.headlessServiceName) : undefined,
        restore: s.restore ? { config: s.restoreConfig!, targetTime: s.restore.targetTime } : undefined,
      }, { replicas: s.replicas, intervalSeconds: 10 }, withTls ? dbBackupFiles(repoHost, s.restore?.repoHost) : []),
      containers: [
        serverContainer(),
        slotsContainer(),
        ...(s.backup ? [dbBackupSidecar()] : []),
        ...(monitored ? [exporterContainer(s.exporterImage, this.credentials)] : []),
      ],
      alerts: monitored ? postgresAlerts(identity, s.conf.maxSlotWalKeepSizeMebibytes) : undefined,
      backupAlert: monitored && s.backup ? { cronJobs: backupCronJobNames(identity), maxAge: s.backup.maxAge } : undefined,
    });
    this.primaryService = this.workload.addClientService('Primary', { name: `${identity.name}-primary`, ports: ['postgres'], ordinal: 0 });
    this.readService = this.workload.addClientService('Read', { name: `${identity.name}-read`, ports: ['postgres'] });
    this.primaryHost = identity.serviceFqdn(`${identity.name}-primary`);
    this.readHost = identity.serviceFqdn(`${identity.name}-read`);
    // standbys take their base backup and stream WAL from the primary over the SQL port, whoever else is admitted to it
    if (this.workload.networkPolicy) this.workload.allowClients(this.workload.pods, ['postgres']);
    this.backupRepository = s.backup
      ? addBackupRepository(this, { problem: this.problem, shared: s.shared, identity, db: this.workload, credentials: this.credentials, settings: s.backup })
      : undefined;
    const sourceRepo = props.restore?.source.backupRepository;
    if (sourceRepo?.networkPolicy) sourceRepo.allowClients(this.workload.pods, ['pgbackrest']);
  }

  /** @internal the Secret key of each user's password, for sets restored from this one */
  public get _passwordKeys(): ReadonlyMap<string, string> {
    return this.passwordKeys;
  }

  /** The Secret key that holds the password of `user`: 'postgres', 'replicator', 'monitor' (with monitoring) or one of `users`. */
  public passwordKey(user: string): string {
    return this.keyOf('passwordKey', user);
  }

  /**
   * The password of `user` as a cdk8s-plus env value that reads the
   * credentials Secret, e.g. `envVariables: { PGPASSWORD: db.passwordEnv('orders') }`
   * on a kplus container. The password never appears in the manifest.
   */
  public passwordEnv(user: string): kplus.EnvValue {
    return this.credentials.envValue(this.keyOf('passwordEnv', user));
  }

  /**
   * libpq environment of an application that connects as `user` to
   * `database` on the primary (`PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`,
   * `PGPASSWORD` from the Secret), for a kplus container's `envVariables`.
   */
  public connectionEnv(user: string, database: string): { [name: string]: kplus.EnvValue } {
    return {
      PGHOST: kplus.EnvValue.fromValue(this.primaryHost),
      PGPORT: kplus.EnvValue.fromValue(String(this.port)),
      PGUSER: kplus.EnvValue.fromValue(user),
      PGDATABASE: kplus.EnvValue.fromValue(database),
      PGPASSWORD: this.passwordEnv(user),
    };
  }

  private keyOf(method: string, user: string): string {
    const key = this.passwordKeys.get(user);
    if (key === undefined) {
      throw this.problem.error(`${method} user`, `must be one of ${[...this.passwordKeys.keys()].map((u) => `'${u}'`).join(', ')}, got '${user}'`);
    }
    return key;
  }
}

const ENV_PASSFILE = { PGPASSFILE: kplus.EnvValue.fromValue(PG_PASSFILE) };
const RUN_MOUNT = { volume: 'run', path: PG_RUN_DIR };

/** The server: start.sh initializes or bootstraps an empty volume once, then execs postgres. */
function serverContainer(): WorkloadContainer {
  const probe = (kind: string) => ['bash', `${PG_CONFIG_DIR}/probe.sh`, kind];
  return {
    name: 'postgres',
    command: ['bash', `${PG_CONFIG_DIR}/start.sh`],
    env: ENV_PASSFILE,
    ports: [{ name: 'postgres', port: POSTGRES_PORT, role: PortRole.CLIENT }],
    mounts: [
      { volume: 'data', path: PG_VOLUME_DIR },
      RUN_MOUNT,
      { volume: 'credentials', path: PG_SECRET_DIR, readOnly: true },
    ],
    // a base backup or crash recovery may take long: up to an hour before liveness applies
    startupProbe: Probe.exec(probe('live'), { period: Duration.seconds(10), failureThreshold: 360 }),
    livenessProbe: Probe.exec(probe('live'), { period: Duration.seconds(20), timeout: Duration.seconds(5), failureThreshold: 6 }),
    readinessProbe: Probe.exec(probe('ready'), { period: Duration.seconds(5), timeout: Duration.seconds(4), failureThreshold: 2 }),
    preStop: ['pg_ctl', 'stop', '-D', `${PG_VOLUME_DIR}/pgdata`, '-m', 'fast', '-w', '-t', '50'],
  };
}

/** The slot reconciler: drops the slots of ordinals that a scale-down removed. */
function slotsContainer(): WorkloadContainer {
  return {
    name: 'slots',
    command: ['bash', `${PG_CONFIG_DIR}/slots.sh`],
    env: ENV_PASSFILE,
    mounts: [RUN_MOUNT],
    resources: Resources.of({ cpuMillis: 10, memory: Size.mebibytes(32) }),
  };
}

/** postgres_exporter over loopback TCP as the `monitor` user (pg_monitor). */
function exporterContainer(image: string, credentials: Credentials): WorkloadContainer {
  return {
    name: 'exporter',
    image,
    command: ['postgres_exporter'],
    args: [`--web.listen-address=:${EXPORTER_PORT}`, '--log.level=warn'],
    env: {
      DATA_SOURCE_URI: kplus.EnvValue.fromValue(`127.0.0.1:${POSTGRES_PORT}/postgres?sslmode=disable`),
      DATA_SOURCE_USER: kplus.EnvValue.fromValue(MONITOR_USER),
      DATA_SOURCE_PASS: credentials.envValue(MONITOR_PASSWORD_KEY),
    },
    ports: [{ name: 'metrics', port: EXPORTER_PORT, role: PortRole.METRICS }],
    resources: Resources.of({ cpuMillis: 50, memory: Size.mebibytes(64) }),
    // liveness, not readiness: a stuck exporter is restarted on its own, and never takes
    // the database out of its Services (postgres_exporter answers 200 with pg_up 0 while
    // the server is down, so its /metrics says nothing about the database's readiness)
    livenessProbe: Probe.http('/metrics', 'metrics', { period: Duration.seconds(30), timeout: Duration.seconds(10), failureThreshold: 3 }),
  };
}
