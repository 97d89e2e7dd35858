import {
  renderIdentityScript, renderMemberFiles, renderMyCnf, renderProbeScript, renderStartScript,
} from '../../src/mysql/config';

const MARIADB = { server: 'mariadbd', client: 'mariadb', admin: 'mariadb-admin', dump: 'mariadb-dump' };
const MYSQL = { server: 'mysqld', client: 'mysql', admin: 'mysqladmin', dump: 'mysqldump' };

describe('mysql renderers', () => {
  test('my.cnf sizes the buffer pool, turns on the binary log and GTIDs, and includes the member file', () => {
    const cnf = renderMyCnf({ flavor: 'mysql', bufferPoolMebibytes: 1024, maxConnections: 200, binlogExpirySeconds: 604800, characterSet: 'utf8mb4', collation: 'utf8mb4_0900_ai_ci', extraLines: ['long_query_time=2'] });
    expect(cnf.split('\n')).toEqual(expect.arrayContaining([
      '[mysqld]', 'datadir=/var/lib/mysql/data', 'innodb_buffer_pool_size=1024M', 'max_connections=200', 'log_bin=mysql-bin',
      'binlog_expire_logs_seconds=604800', 'character-set-server=utf8mb4', 'gtid_mode=ON', 'enforce_gtid_consistency=ON',
      'plugin-load-add=mysql_clone.so', 'long_query_time=2', '!includedir /opt/cdk8s/mysql-instance',
    ]));
  });

  test('my.cnf puts tmpdir on the claim, not on the small runtime emptyDir', () => {
    for (const flavor of ['mysql', 'mariadb'] as const) {
      const lines = renderMyCnf({ flavor, bufferPoolMebibytes: 256, maxConnections: 100, binlogExpirySeconds: 86400, characterSet: 'utf8mb4', extraLines: [] }).split('\n');
      expect(lines.filter((l) => l.startsWith('tmpdir='))).toEqual(['tmpdir=/var/lib/mysql/tmp']);
    }
  });

  test('MySQL my.cnf leaves out binlog_format (deprecated in 8.4, row-based is the default); MariaDB keeps ROW over its MIXED default', () => {
    const cnf = (flavor: 'mysql' | 'mariadb') => renderMyCnf({ flavor, bufferPoolMebibytes: 256, maxConnections: 100, binlogExpirySeconds: 86400, characterSet: 'utf8mb4', extraLines: [] });
    expect(cnf('mysql')).not.toContain('binlog_format');
    expect(cnf('mariadb').split('\n')).toContain('binlog_format=ROW');
  });

  test('MariaDB replicas retry a lost primary 86400 times, 10 s apart (master_retry_count is a server option there)', () => {
    const cnf = renderMyCnf({ flavor: 'mariadb', bufferPoolMebibytes: 256, maxConnections: 100, binlogExpirySeconds: 86400, characterSet: 'utf8mb4', extraLines: [] });
    expect(cnf.split('\n')).toContain('master_retry_count=86400');
    const s = renderStartScript({ flavor: 'mariadb', binaries: MARIADB, primaryHost: 'db-0.h', databases: [], users: [] });
    expect(s).toContain('  MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=10;\nSTART REPLICA;\n');
  });

  test('probe.sh reads the flavor\'s SHOW REPLICA STATUS columns and the lag threshold', () => {
    const mysql = renderProbeScript({ flavor: 'mysql', binaries: MYSQL, maxLagSeconds: 60 });
    expect(mysql).toContain('max_lag=60\n');
    expect(mysql).toContain('io="$(column Replica_IO_Running "$status")"');
    expect(mysql).toContain('lag="$(column Seconds_Behind_Source "$status")"');
    expect(mysql).toContain('  mysqladmin "${client[@]}" ping >/dev/null');
    const mariadb = renderProbeScript({ flavor: 'mariadb', binaries: MARIADB, maxLagSeconds: 5 });
    expect(mariadb).toContain('max_lag=5\n');
    expect(mariadb).toContain('io="$(column Slave_IO_Running "$status")"');
    expect(mariadb).toContain('sql="$(column Slave_SQL_Running "$status")"');
    expect(mariadb).toContain('lag="$(column Seconds_Behind_Master "$status")"');
    expect(mariadb).toContain('status="$(mariadb "${client[@]}" -E -e \'SHOW REPLICA STATUS\')"');
  });

  test('MariaDB my.cnf uses strict GTID mode and no MySQL-only options', () => {
    const cnf = renderMyCnf({ flavor: 'mariadb', bufferPoolMebibytes: 256, maxConnections: 100, binlogExpirySeconds: 86400, characterSet: 'utf8mb4', extraLines: [] });
    expect(cnf).toContain('gtid_strict_mode=ON');
    expect(cnf).toContain('log_slave_updates=ON');
    expect(cnf).not.toMatch(/gtid_mode|clone/);
  });

  test('identity.sh writes server_id = 100 + ordinal and read-only for replicas', () => {
    const mysql = renderIdentityScript({ flavor: 'mysql' });
    expect(mysql).toContain('echo "server_id=$((100 + ordinal))"');
    expect(mysql).toContain('ordinal="${host##*-}"');
    expect(mysql).toContain('echo "super_read_only=ON"');
    expect(renderIdentityScript({ flavor: 'mariadb' })).not.toContain('super_read_only');
  });

  test('MariaDB start.sh initializes with mariadb-install-db and replicates with MASTER_USE_GTID', () => {
    const s = renderStartScript({ flavor: 'mariadb', binaries: MARIADB, primaryHost: 'db-0.h', databases: ['shop'], users: [{ name: 'app', passwordKey: 'app-password', databases: ['shop'] }] });
    expect(s).toContain('mariadb-install-db --defaults-file="$defaults_file"');
    expect(s).toContain('MASTER_USE_GTID=slave_pos');
    expect(s).toContain("SET GLOBAL gtid_slave_pos='';");
    expect(s).toContain('CREATE DATABASE IF NOT EXISTS \\`shop\\`;');
    expect(s).toContain("GRANT ALL PRIVILEGES ON \\`shop\\`.* TO 'app'@'%';");
    expect(s).toContain('user0_q="$(sql_quote "$(secret app-password)")"');
    expect(s).toContain('exec mariadbd --defaults-file="$defaults_file"');
    expect(s).not.toMatch(/CLONE|SOURCE_AUTO_POSITION/);
  });

  test('MySQL start.sh initializes insecure, clones the primary and replicates with SOURCE_AUTO_POSITION', () => {
    const s = renderStartScript({ flavor: 'mysql', binaries: MYSQL, primaryHost: 'db-0.h', databases: [], users: [] });
    expect(s).toContain('mysqld --defaults-file="$defaults_file" --initialize-insecure');
    expect(s).toContain("CLONE INSTANCE FROM 'replicator'@${primary_q}:3306 IDENTIFIED BY ${repl_q};");
    expect(s).toContain('SOURCE_AUTO_POSITION=1');
    expect(s).toContain('GRANT REPLICATION SLAVE, BACKUP_ADMIN ON');
    expect(s).not.toContain('MASTER_USE_GTID');
  });

  test('passwords are read from the Secret files, never written into the script', () => {
    const s = renderStartScript({ flavor: 'mariadb', binaries: MARIADB, primaryHost: 'db-0.h', databases: [], users: [] });
    expect(s).toContain('cat "/var/run/secrets/mysql/$1"');
    expect(s).toContain('root_q="$(sql_quote "$(secret root-password)")"');
  });

  test('the member files are my.cnf and the three scripts, in the config mount, scripts executable', () => {
    const myCnf = { flavor: 'mysql' as const, bufferPoolMebibytes: 512, maxConnections: 10, binlogExpirySeconds: 3600, characterSet: 'utf8mb4', extraLines: [] };
    const start = { flavor: 'mysql' as const, binaries: MYSQL, primaryHost: 'db-0.h', databases: [], users: [] };
    const probe = { flavor: 'mysql' as const, binaries: MYSQL, maxLagSeconds: 30 };
    const files = renderMemberFiles(myCnf, start, probe);
    expect(files.map((f) => [f.path, !!f.executable])).toEqual([
      ['/opt/cdk8s/mysql/my.cnf', false], ['/opt/cdk8s/mysql/identity.sh', true], ['/opt/cdk8s/mysql/start.sh', true], ['/opt/cdk8s/mysql/probe.sh', true],
    ]);
    expect(files.map((f) => f.content)).toEqual([renderMyCnf(myCnf), renderIdentityScript({ flavor: 'mysql' }), renderStartScript(start), renderProbeScript(probe)]);
  });
});
