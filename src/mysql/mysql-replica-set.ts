import { Duration, Size, SizeRoundingBehavior } from 'cdk8s';
import { Construct } from 'constructs';
import { StatefulSystem } from '../core/system';
import { Credentials } from '../core/credentials';
import { WorkloadIdentity } from '../core/identity';
import { Problem } from '../core/names';
import { PlacementProps } from '../core/placement';
import { k8s } from '../core/private/k8s';
import { Probe } from '../core/probes';
import { Resources } from '../core/resources';
import { RunAs } from '../core/security';
import { PodManagementPolicy, PortRole, StatefulWorkload } from '../core/stateful-workload';
import { Storage } from '../core/storage';
import {
  FlavorName, MYSQL_CONFIG_DIR, MYSQL_INSTANCE_DIR, MYSQL_PORT, MYSQL_PROBE_CLIENT_CNF, MYSQL_RUN_DIR, MYSQL_SECRET_DIR,
  MYSQL_VOLUME_DIR, MySqlBinaries, REPLICATION_PASSWORD_KEY, renderIdentityScript, renderMyCnf, renderStartScript, ROOT_PASSWORD_KEY,
} from './config';

/**
 * The server software: MySQL or MariaDB. Their replication SQL, executables
 * and ways of seeding a replica differ; everything else is shared.
 */
export class MySqlFlavor {
  /**
   * MySQL 8.4 LTS. Replicas copy the primary's data with the CLONE plugin,
   * then replicate with GTID auto-positioning.
   */
  public static mysql(): MySqlFlavor {
    return new MySqlFlavor('mysql', 'docker.io/library/mysql:8.4.3', { server: 'mysqld', client: 'mysql', admin: 'mysqladmin' }, 'utf8mb4_0900_ai_ci');
  }

  /**
   * MariaDB 11.4 LTS. Replicas start empty and catch up from the primary's
   * retained binary log with MASTER_USE_GTID=slave_pos.
   */
  public static mariadb(): MySqlFlavor {
    return new MySqlFlavor('mariadb', 'docker.io/library/mariadb:11.4.4', { server: 'mariadbd', client: 'mariadb', admin: 'mariadb-admin' }, 'utf8mb4_unicode_ci');
  }

  private constructor(
    /** 'mysql' or 'mariadb'. */
    public readonly name: string,
    /** The pinned image used when `image` is not set. */
    public readonly defaultImage: string,
    /** Executables, called by bare names. */
    public readonly binaries: MySqlBinaries,
    /** The collation used when `collation` is not set. */
    public readonly defaultCollation: string,
  ) {}
}

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
export interface MySqlReplicaSetProps {
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
   * Image with a pinned tag.
   * @default - the flavor's `defaultImage`
   */
  readonly image?: string;
  /**
   * Data storage of each member.
   * @default Storage.persistent({ size: Size.gibibytes(20) })
   */
  readonly storage?: Storage;
  /**
   * CPU and memory of each member.
   * @default Resources.medium()
   */
  readonly resources?: Resources;
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
   * A Secret you manage with the keys `root-password`, `replication-password`
   * and `<user>-password` for each of `users`.
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
   * User and group of the server (the official images' `mysql` user).
   * @default { uid: 999, gid: 999 }
   */
  readonly runAs?: RunAs;
  /**
   * Who may reach port 3306.
   * @default - every pod in the namespace
   */
  readonly allowClientsFrom?: k8s.NetworkPolicyPeer[];
  /**
   * Cluster DNS domain.
   * @default 'cluster.local'
   */
  readonly clusterDomain?: string;
}

const IDENT = /^[A-Za-z0-9_]{1,64}$/;
const USER = /^[A-Za-z_][A-Za-z0-9_]{0,31}$/;

/**
 * A MySQL or MariaDB primary with asynchronous GTID replicas: ordinal 0 is
 * the primary, the others replicate from it and are read-only. Passwords live
 * in a Secret (generated in the cluster unless you bring one) and never in
 * the manifest.
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
  /** The underlying stateful unit. */
  public readonly workload: StatefulWorkload;
  /** The Service in front of the primary. */
  public readonly primaryService: k8s.KubeService;
  /** The Service over every Ready member. */
  public readonly readService: k8s.KubeService;

  public constructor(scope: Construct, id: string, props: MySqlReplicaSetProps = {}) {
    super(scope, id);
    const problem = new Problem('MySqlReplicaSet', this);
    this.replicas = problem.integer('replicas', props.replicas ?? 3, 1, 100);
    this.flavor = props.flavor ?? MySqlFlavor.mysql();
    this.port = MYSQL_PORT;
    const flavorName = this.flavor.name as FlavorName;
    const image = props.image ?? this.flavor.defaultImage;
    const resources = props.resources ?? Resources.medium();
    const limit = resources.memoryLimitMebibytes;
    this.bufferPoolMebibytes = props.bufferPool
      ? props.bufferPool.toMebibytes({ rounding: SizeRoundingBehavior.FLOOR })
      : Math.max(Math.floor(limit / 2), 8);
    if (this.bufferPoolMebibytes >= limit) {
      throw problem.error('bufferPool', `(${this.bufferPoolMebibytes}Mi) must be smaller than the memory limit (${limit}Mi): the server also needs memory for connections and buffers; about half to three quarters of the limit is typical`);
    }
    if (this.bufferPoolMebibytes < 8) throw problem.error('bufferPool', `must be at least 8Mi, got ${this.bufferPoolMebibytes}Mi`);
    const maxConnections = problem.integer('maxConnections', props.maxConnections ?? 200, 1, 100000);
    const binlogExpirySeconds = (props.binlogExpiry ?? Duration.days(7)).toSeconds();
    problem.integer('binlogExpiry (seconds)', binlogExpirySeconds, 3600, 4294967295);
    const characterSet = props.characterSet ?? 'utf8mb4';
    if (!/^[a-z0-9_]+$/.test(characterSet)) throw problem.error('characterSet', `must be a character set name, got '${characterSet}'`);
    const collation = props.collation ?? this.flavor.defaultCollation;
    if (!/^[a-z0-9_]+$/.test(collation)) throw problem.error('collation', `must be a collation name, got '${collation}'`);

    const databases = props.databases ?? [];
    for (const d of databases) if (!IDENT.test(d)) throw problem.error('databases', `'${d}' is not a valid database name (letters, digits and '_', at most 64)`);
    if (new Set(databases).size !== databases.length) throw problem.error('databases', `contain duplicates: ${databases.join(', ')}`);
    const users = props.users ?? [];
    const userNames = new Set<string>();
    for (const u of users) {
      if (!USER.test(u.name)) throw problem.error('users', `'${u.name}' is not a valid user name (a letter or '_', then letters, digits and '_', at most 32)`);
      if (u.name === 'root' || u.name === 'replicator') throw problem.error('users', `'${u.name}' is reserved`);
      if (userNames.has(u.name)) throw problem.error('users', `has two users named '${u.name}'`);
      userNames.add(u.name);
      for (const d of u.databases ?? []) {
        if (!databases.includes(d)) throw problem.error(`users '${u.name}' databases`, `name '${d}', which is not in databases (${databases.join(', ') || 'none'})`);
      }
    }
    const extra = props.config ?? [];
    for (const line of extra) {
      if (/\n/.test(line)) throw problem.error('config', 'takes one option per entry, without newlines');
      if (/password/i.test(line)) throw problem.error('config', `must not contain passwords ('${line}'): they come from the credentials Secret`);
      if (/^\s*(server[-_]id|read[-_]only|super[-_]read[-_]only)\b/i.test(line)) {
        throw problem.error('config', `must not set '${line.trim()}': server_id and the read-only role come from the ordinal`);
      }
    }

    // the same identity the unit takes below: replicas name exactly its pod 0
    const identity = WorkloadIdentity.of(this, { kind: 'MySqlReplicaSet', name: props.name, clusterDomain: props.clusterDomain });
    const { name, clusterDomain, headlessServiceName } = identity;
    const userSpecs = users.map((u) => ({ name: u.name, passwordKey: `${u.name}-password`, databases: u.databases ?? [] }));
    this.credentials = new Credentials(this, 'Credentials', {
      keys: [ROOT_PASSWORD_KEY, REPLICATION_PASSWORD_KEY, ...userSpecs.map((u) => u.passwordKey)],
      existingSecret: props.existingSecret,
      secretName: `${name}-credentials`,
      kind: 'MySqlReplicaSet',
    });

    const b = this.flavor.binaries;
    const primaryPodFqdn = identity.podFqdn(0);
    this.workload = new StatefulWorkload(this, 'Unit', {
      kind: 'MySqlReplicaSet',
      appName: this.flavor.name,
      component: 'database',
      name,
      headlessServiceName,
      replicas: this.replicas,
      resources,
      runAs: props.runAs ?? { uid: 999, gid: 999 },
      placement: props.placement,
      podManagementPolicy: PodManagementPolicy.ORDERED_READY,
      disruptionBudget: { maxUnavailable: 1 },
      terminationGracePeriod: Duration.seconds(60),
      clientService: false,
      allowClientsFrom: props.allowClientsFrom,
      clusterDomain,
      version: image.split(':').pop(),
      volumes: [
        { name: 'data', storage: props.storage ?? Storage.persistent({ size: Size.gibibytes(20) }) },
        { name: 'run', storage: Storage.ephemeral({ sizeLimit: Size.gibibytes(1) }) },
        { name: 'instance', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(1) }) },
      ],
      secretVolumes: [{ name: 'credentials', secretName: this.credentials.secretName, keys: this.credentials.keys }],
      configFiles: [
        {
          path: `${MYSQL_CONFIG_DIR}/my.cnf`,
          content: renderMyCnf({ flavor: flavorName, bufferPoolMebibytes: this.bufferPoolMebibytes, maxConnections, binlogExpirySeconds, characterSet, collation, extraLines: extra }),
        },
        { path: `${MYSQL_CONFIG_DIR}/identity.sh`, content: renderIdentityScript({ flavor: flavorName }), executable: true },
        {
          path: `${MYSQL_CONFIG_DIR}/start.sh`,
          content: renderStartScript({ flavor: flavorName, binaries: b, primaryHost: primaryPodFqdn, databases, users: userSpecs }),
          executable: true,
        },
      ],
      initContainers: [{
        name: 'identity',
        image,
        command: ['bash', `${MYSQL_CONFIG_DIR}/identity.sh`],
        mounts: [{ volume: 'instance', path: MYSQL_INSTANCE_DIR }],
      }],
      containers: [{
        name: this.flavor.name,
        image,
        command: ['bash', `${MYSQL_CONFIG_DIR}/start.sh`],
        ports: [{ name: 'mysql', port: MYSQL_PORT, role: PortRole.CLIENT }],
        mounts: [
          { volume: 'data', path: MYSQL_VOLUME_DIR },
          { volume: 'run', path: MYSQL_RUN_DIR },
          { volume: 'instance', path: MYSQL_INSTANCE_DIR, readOnly: true },
          { volume: 'credentials', path: MYSQL_SECRET_DIR, readOnly: true },
        ],
        startupProbe: Probe.exec([b.admin, `--defaults-extra-file=${MYSQL_PROBE_CLIENT_CNF}`, 'ping'], { period: Duration.seconds(10), failureThreshold: 90 }),
        livenessProbe: Probe.exec([b.admin, `--defaults-extra-file=${MYSQL_PROBE_CLIENT_CNF}`, 'ping'], { period: Duration.seconds(20), timeout: Duration.seconds(5), failureThreshold: 3 }),
        readinessProbe: Probe.exec([b.client, `--defaults-extra-file=${MYSQL_PROBE_CLIENT_CNF}`, '-e', 'SELECT 1'], { period: Duration.seconds(5), timeout: Duration.seconds(3), failureThreshold: 2 }),
      }],
    });
    this.primaryService = this.workload.addClientService('Primary', { name: `${name}-primary`, ordinal: 0 });
    this.readService = this.workload.addClientService('Read', { name: `${name}-read` });
    this.primaryHost = this.workload.serviceFqdn(`${name}-primary`);
    this.readHost = this.workload.serviceFqdn(`${name}-read`);
  }


  /** The Secret key that holds the password of `user`. */
  public passwordKey(user: string): string {
    const key = user === 'root' ? ROOT_PASSWORD_KEY : user === 'replicator' ? REPLICATION_PASSWORD_KEY : `${user}-password`;
    this.credentials.keyRef(key);
    return key;
  }
}

/** The chart's namespace, as StatefulWorkload resolves it. */
