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
import { StatefulWorkload } from '../core/stateful-workload';
import { Storage } from '../core/storage';
import { StatefulSystem, StatefulSystemProps } from '../core/system';
import {
  MYSQL_CONFIG_DIR, MYSQL_INSTANCE_DIR, MYSQL_PORT, MYSQL_RUN_DIR, MYSQL_SECRET_DIR, MYSQL_VOLUME_DIR,
  renderMemberFiles,
} from './config';
import { mysqlAlerts } from './alerts';
import { addBackupJobs, backupCronJobName, exporterUnitParts, restoreUnitParts, UnitParts } from './backup';
import type { MySqlBackupOptions, MySqlRestoreOptions } from './backup';
import { MySqlFlavor } from './flavor';
import { mySqlSettings } from './settings';

export { MySqlFlavor } from './flavor';
export type { MySqlBackupOptions, MySqlRestoreOptions } from './backup';

/** An application user created on the primary (and replicated). */
export interface MySqlUser {
  /** User name (letters, digits, '_'; at most 32). Its password is the Secret key `<name>-password`. */
  readonly name: string;
  /**
   * Databases it gets ALL PRIVILEGES on.
   * @default - none
   */
  readonly databases?: string[];
}

/** Props of `MySqlReplicaSet`. */
export interface MySqlReplicaSetProps extends StatefulSystemProps {
  /**
   * Members: ordinal 0 is the primary, the others replicas.
   * @default 3
   */
  readonly replicas?: number;
  /**
   * MySQL or MariaDB.
   * @default MySqlFlavor.mysql()
   */
  readonly flavor?: MySqlFlavor;
  /**
   * InnoDB buffer pool; must be smaller than the memory limit.
   * @default - half of the memory limit
   */
  readonly bufferPool?: Size;
  /**
   * `max_connections`.
   * @default 200
   */
  readonly maxConnections?: number;
  /**
   * How long binary logs are kept. With MariaDB a new replica catches up from
   * the primary's first binary log, so keep them as long as you may add replicas.
   * @default Duration.days(7)
   */
  readonly binlogExpiry?: Duration;
  /**
   * Server character set.
   * @default 'utf8mb4'
   */
  readonly characterSet?: string;
  /**
   * Server collation.
   * @default - the flavor's `defaultCollation`
   */
  readonly collation?: string;
  /**
   * A Secret you manage with the keys `root-password`, `replication-password`,
   * `exporter-password` (with `monitoring`), `backup-password` (with
   * `backup`) and `<user>-password` for each of `users`.
   * @default - a Secret with random passwords is generated in the cluster
   */
  readonly existingSecret?: string;
  /**
   * Databases created on the primary.
   * @default - none
   */
  readonly databases?: string[];
  /**
   * Users created on the primary.
   * @default - none
   */
  readonly users?: MySqlUser[];
  /**
   * Extra my.cnf lines in the [mysqld] group (never passwords).
   * @default - none
   */
  readonly config?: string[];
  /**
   * A replica whose replication lags more than this behind the primary
   * (`Seconds_Behind_Source`) is not ready, so the read Service stops sending
   * it queries until it catches up. A replica is also not ready while either
   * replication thread is stopped (a lost primary, an SQL error) and while it
   * copies or catches up after its first start.
   * @default Duration.seconds(60)
   */
  readonly maxReplicaLag?: Duration;
  /**
   * Image of the metrics sidecar (with `monitoring`): mysqld_exporter 0.14
   * or newer, with `mysqld_exporter` on PATH.
   * @default 'docker.io/prom/mysqld-exporter:v0.17.2'
   */
  readonly exporterImage?: string;
  /**
   * Scheduled consistent dumps from a replica (to a claim or a bucket), with
   * a restore-verify Job that loads the newest into a scratch server.
   * @default - no backups
   */
  readonly backup?: MySqlBackupOptions;
  /**
   * Create this set from a dump: its primary loads it on its first
   * initialization, before this set's users are created.
   * @default - a new, empty set
   */
  readonly restore?: MySqlRestoreOptions;
}

/**
 * A MySQL or MariaDB primary with asynchronous GTID replicas: ordinal 0 is
 * the primary, the others replicate from it and are read-only. Passwords live
 * in a Secret (generated in the cluster unless you bring one) and never in
 * the manifest; applications read them with `passwordEnv(user)`.
 *
 * Defaults of the shared props:
 * - `image`: the flavor's `defaultImage` (`docker.io/library/mysql:8.4.8` or
 *   `docker.io/library/mariadb:11.4.4`); an image of the other flavor's
 *   repository (`mysql`, `mysql-server`, `percona-server` / `mariadb`) throws
 * - `resources`: `Resources.medium()`; `storage`: `Storage.persistent` of 20 GiB
 * - `runAs`: uid/gid 999 (the official images' `mysql` user)
 * - `terminationGracePeriod`: 120 seconds, for a clean InnoDB shutdown
 * - `disruptionBudget`: one member at a time
 * - `monitoring`: adds a mysqld_exporter sidecar (user `exporter`), a
 *   ServiceMonitor and alerts (member down, replication stopped or lagging,
 *   connections near max_connections, the StatefulSet and volume alerts of
 *   every workload and, with `backup`, `BackupTooOld`)
 */
export class MySqlReplicaSet extends StatefulSystem {
  /** Members (one primary, the rest replicas). */
  public readonly replicas: number;
  /** The flavor. */
  public readonly flavor: MySqlFlavor;
  /** Write endpoint: a Service in front of ordinal 0 only. */
  public readonly primaryHost: string;
  /** Read endpoint: a Service over every Ready member. */
  public readonly readHost: string;
  /** The SQL port. */
  public readonly port: number;
  /** The Secret with the passwords. */
  public readonly credentials: Credentials;
  /** InnoDB buffer pool in MiB. */
  public readonly bufferPoolMebibytes: number;
  /** Lag beyond which a replica is not ready. */
  public readonly maxReplicaLag: Duration;
  /** The underlying stateful unit. */
  public readonly workload: StatefulWorkload;
  /** The Service in front of the primary. */
  public readonly primaryService: k8s.KubeService;
  /** The Service over every Ready member. */
  public readonly readService: k8s.KubeService;
  /** The dump CronJob `<name>-backup`, with `backup`. */
  public readonly backupCronJob: k8s.KubeCronJob | undefined;
  /** The restore-verify CronJob `<name>-restore-verify`, with `backup`. */
  public readonly restoreVerifyCronJob: k8s.KubeCronJob | undefined;

  private readonly problem: Problem;
  private readonly passwordKeys: ReadonlyMap<string, string>;

  public constructor(scope: Construct, id: string, props: MySqlReplicaSetProps = {}) {
    super(scope, id);
    // the same identity the unit takes below: replicas name exactly its pod 0
    const identity = WorkloadIdentity.of(this, { kind: 'MySqlReplicaSet', name: props.name, clusterDomain: props.clusterDomain });
    const s = mySqlSettings(this, props);
    this.problem = new Problem('MySqlReplicaSet', this);
    this.replicas = s.replicas;
    this.flavor = s.flavor;
    this.bufferPoolMebibytes = s.bufferPoolMebibytes;
    this.maxReplicaLag = s.maxReplicaLag;
    this.passwordKeys = s.passwordKeys;
    this.port = MYSQL_PORT;

    this.credentials = systemCredentials(this, this.problem, identity, { keys: [...s.passwordKeys.values()], existingSecret: s.existingSecret });
    const parts: UnitParts[] = [
      ...(s.monitoring ? [exporterUnitParts(s, this.credentials)] : []),
      ...(s.restore ? [restoreUnitParts(s.restore, this)] : []),
    ];
    this.workload = new StatefulWorkload(this, 'Unit', {
      ...s.shared,
      identity,
      appName: s.flavor.name,
      component: 'database',
      version: s.version,
      replicas: s.replicas,
      podManagementPolicy: PodManagementPolicy.ORDERED_READY,
      clientService: false,
      volumes: [
        { name: 'data' },
        // socket, pid files, option files: temporary tables and sorts go to the claim (tmpdir)
        { name: 'run', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(64) }) },
        { name: 'instance', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(1) }) },
        ...parts.flatMap((x) => x.volumes ?? []),
      ],
      secretVolumes: [{ name: 'credentials', secretName: this.credentials.secretName, keys: this.credentials.keys }, ...parts.flatMap((x) => x.secretVolumes ?? [])],
      configFiles: [...renderMemberFiles(s.myCnf, { ...s.start, primaryHost: identity.podFqdn(0) }, s.probe), ...parts.flatMap((x) => x.configFiles ?? [])],
      initContainers: [identityContainer(), ...parts.flatMap((x) => x.initContainers ?? [])],
      containers: [serverContainer(s.flavor), ...parts.flatMap((x) => x.containers ?? [])],
      alerts: s.monitoring ? mysqlAlerts(identity, s.replicas, s.probe.maxLagSeconds) : undefined,
      backupAlert: s.monitoring && s.backup ? { cronJobs: [backupCronJobName(identity)], maxAge: s.backup.maxAge } : undefined,
    });
    this.primaryService = this.workload.addClientService('Primary', { name: `${identity.name}-primary`, ordinal: 0 });
    this.readService = this.workload.addClientService('Read', { name: `${identity.name}-read` });
    this.primaryHost = identity.serviceFqdn(`${identity.name}-primary`);
    this.readHost = identity.serviceFqdn(`${identity.name}-read`);
    const jobs = s.backup ? addBackupJobs(this, { s, identity, workload: this.workload, credentials: this.credentials }) : undefined;
    this.backupCronJob = jobs?.backup;
    this.restoreVerifyCronJob = jobs?.verify;
    // replicas replicate from the primary over the SQL port, whoever else is admitted to it
    if (this.workload.networkPolicy) this.workload.allowClients(this.workload.pods, ['mysql']);
  }

  /**
   * The Secret key that holds the password of `user`: 'root', 'replicator'
   * or one of `users`.
   */
  public passwordKey(user: string): string {
    return this.keyOf('passwordKey', user);
  }

  /**
   * The password of `user` ('root', 'replicator' or one of `users`) as a
   * cdk8s-plus env value that reads the credentials Secret, e.g.
   * `envVariables: { DB_PASSWORD: db.passwordEnv('orders_app') }` on a kplus
   * container. The password itself never appears in the manifest.
   *
   * The Secret lives in this replica set's namespace, and a pod can read
   * Secrets of its own namespace only: an application in another namespace
   * needs a copy of the Secret there (your secret tooling, with
   * `existingSecret`) and `kplus.EnvValue.fromSecretValue` on that copy.
   */
  public passwordEnv(user: string): kplus.EnvValue {
    return this.credentials.envValue(this.keyOf('passwordEnv', user));
  }

  private keyOf(method: string, user: string): string {
    const key = this.passwordKeys.get(user);
    if (key === undefined) {
      const users = [...this.passwordKeys.keys()].map((u) => `'${u}'`);
      throw this.problem.error(`${method} user`, `must be ${users.slice(0, 2).join(', ')} or one of users (${users.slice(2).join(', ') || 'none'}), got '${user}'`);
    }
    return key;
  }
}

/** The init container: writes the member's server_id and read-only role. */
function identityContainer(): WorkloadContainer {
  return {
    name: 'identity',
    command: ['bash', `${MYSQL_CONFIG_DIR}/identity.sh`],
    mounts: [{ volume: 'instance', path: MYSQL_INSTANCE_DIR }],
  };
}

/**
 * The server: start.sh initializes an empty volume once, then execs mysqld /
 * mariadbd. probe.sh decides health: alive while start.sh initializes (a
 * CLONE may take hours), then a ping; ready when the primary is writable or
 * a replica replicates with little lag. The startup budget (15 minutes)
 * covers InnoDB crash recovery of an existing data directory.
 */
function serverContainer(flavor: MySqlFlavor): WorkloadContainer {
  const probe = (mode: string) => ['bash', `${MYSQL_CONFIG_DIR}/probe.sh`, mode];
  return {
    name: flavor.name,
    command: ['bash', `${MYSQL_CONFIG_DIR}/start.sh`],
    ports: [{ name: 'mysql', port: MYSQL_PORT, role: PortRole.CLIENT }],
    mounts: [
      { volume: 'data', path: MYSQL_VOLUME_DIR },
      { volume: 'run', path: MYSQL_RUN_DIR },
      { volume: 'instance', path: MYSQL_INSTANCE_DIR, readOnly: true },
      { volume: 'credentials', path: MYSQL_SECRET_DIR, readOnly: true },
    ],
    startupProbe: Probe.exec(probe('live'), { period: Duration.seconds(10), timeout: Duration.seconds(5), failureThreshold: 90 }),
    livenessProbe: Probe.exec(probe('live'), { period: Duration.seconds(20), timeout: Duration.seconds(5), failureThreshold: 3 }),
    readinessProbe: Probe.exec(probe('ready'), { period: Duration.seconds(5), timeout: Duration.seconds(5), failureThreshold: 2 }),
  };
}
