import { FlavorName, MySqlBinaries } from './config';

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
    return new MySqlFlavor('mysql', 'MySQL', 'docker.io/library/mysql:8.4.8', 'utf8mb4_0900_ai_ci',
      { server: 'mysqld', client: 'mysql', admin: 'mysqladmin', dump: 'mysqldump' }, ['mysql', 'mysql-server', 'percona-server']);
  }

  /**
   * MariaDB 11.4 LTS. Replicas start empty and catch up from the primary's
   * retained binary log with MASTER_USE_GTID=slave_pos.
   */
  public static mariadb(): MySqlFlavor {
    return new MySqlFlavor('mariadb', 'MariaDB', 'docker.io/library/mariadb:11.4.4', 'utf8mb4_unicode_ci',
      { server: 'mariadbd', client: 'mariadb', admin: 'mariadb-admin', dump: 'mariadb-dump' }, ['mariadb']);
  }

  /** 'mysql' or 'mariadb'. */
  public readonly name: string;
  /** The pinned image used when `image` is not set. */
  public readonly defaultImage: string;
  /** The collation used when `collation` is not set. */
  public readonly defaultCollation: string;
  /**
   * The flavor's name for the renderers.
   * @internal
   */
  public readonly _name: FlavorName;
  /**
   * 'MySQL' or 'MariaDB', for messages.
   * @internal
   */
  public readonly _title: string;
  /**
   * Executables, called by bare names.
   * @internal
   */
  public readonly _binaries: MySqlBinaries;
  /**
   * Last path segments of the image repositories that ship this server.
   * @internal
   */
  public readonly _repositories: string[];

  private constructor(name: FlavorName, title: string, defaultImage: string, defaultCollation: string, binaries: MySqlBinaries, repositories: string[]) {
    this.name = name;
    this._name = name;
    this._title = title;
    this.defaultImage = defaultImage;
    this.defaultCollation = defaultCollation;
    this._binaries = binaries;
    this._repositories = repositories;
  }
}
