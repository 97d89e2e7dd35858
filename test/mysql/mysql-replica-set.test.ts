import { Chart, Duration, Size, Testing } from 'cdk8s';
import {
  MySqlFlavor, MySqlReplicaSet, renderIdentityScript, renderMyCnf, renderStartScript, Resources,
} from '../../src';
import { only, synthValid } from '../support/manifest';

function chart(): Chart {
  return new Chart(Testing.app(), 'test', { namespace: 'shop' });
}
const MARIADB = { server: 'mariadbd', client: 'mariadb', admin: 'mariadb-admin' };
const MYSQL = { server: 'mysqld', client: 'mysql', admin: 'mysqladmin' };

describe('mysql renderers', () => {
  test('my.cnf sizes the buffer pool, turns on the binary log and GTIDs, and includes the member file', () => {
    const cnf = renderMyCnf({ flavor: 'mysql', bufferPoolMebibytes: 1024, maxConnections: 200, binlogExpirySeconds: 604800, characterSet: 'utf8mb4', collation: 'utf8mb4_0900_ai_ci', extraLines: ['long_query_time=2'] });
    expect(cnf.split('\n')).toEqual(expect.arrayContaining([
      '[mysqld]', 'datadir=/var/lib/mysql/data', 'innodb_buffer_pool_size=1024M', 'max_connections=200', 'log_bin=mysql-bin',
      'binlog_expire_logs_seconds=604800', 'character-set-server=utf8mb4', 'gtid_mode=ON', 'enforce_gtid_consistency=ON',
      'plugin-load-add=mysql_clone.so', 'long_query_time=2', '!includedir /opt/cdk8s/mysql-instance',
    ]));
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
});

describe('MySqlReplicaSet', () => {
  test('with no props renders a MySQL primary and two replicas that pass every check', () => {
    // GIVEN
    const c = chart();
    const db = new MySqlReplicaSet(c, 'orders');
    // WHEN
    const objects = synthValid(c);
    // THEN
    expect(db.replicas).toBe(3);
    expect(db.flavor.name).toBe('mysql');
    const sts = only(objects, 'StatefulSet');
    expect(sts.spec.podManagementPolicy).toBe('OrderedReady');
    expect(sts.spec.template.spec.containers[0].image).toBe('docker.io/library/mysql:8.4.3');
    expect(only(objects, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
    expect(objects).toMatchSnapshot();
  });

  test('primaryHost targets ordinal 0 only and readHost every Ready member', () => {
    const c = chart();
    const db = new MySqlReplicaSet(c, 'orders');
    const objects = synthValid(c);
    expect(db.primaryHost).toBe('test-orders-primary.shop.svc.cluster.local');
    expect(db.readHost).toBe('test-orders-read.shop.svc.cluster.local');
    expect(only(objects, 'Service', 'test-orders-primary').spec.selector['statefulset.kubernetes.io/pod-name']).toBe('test-orders-0');
    expect(only(objects, 'Service', 'test-orders-read').spec.selector['statefulset.kubernetes.io/pod-name']).toBeUndefined();
    expect(db.podFqdn(1)).toBe('test-orders-1.test-orders-headless.shop.svc.cluster.local');
  });

  test('an init container writes the server id; the Secret is mounted as files', () => {
    const c = chart();
    new MySqlReplicaSet(c, 'orders', { flavor: MySqlFlavor.mariadb(), users: [{ name: 'app' }] });
    const pod = only(synthValid(c), 'StatefulSet').spec.template.spec;
    expect(pod.initContainers[0].command).toEqual(['bash', '/opt/cdk8s/mysql/identity.sh']);
    expect(pod.containers[0].command).toEqual(['bash', '/opt/cdk8s/mysql/start.sh']);
    expect(pod.volumes).toContainEqual({
      name: 'credentials',
      secret: { secretName: 'test-orders-credentials', defaultMode: 0o440, items: ['root-password', 'replication-password', 'app-password'].map((k) => ({ key: k, path: k })) },
    });
  });

  test('liveness is mysqladmin ping, readiness a real query, with different timings', () => {
    const c = chart();
    new MySqlReplicaSet(c, 'orders', { flavor: MySqlFlavor.mariadb() });
    const main = only(synthValid(c), 'StatefulSet').spec.template.spec.containers[0];
    expect(main.livenessProbe.exec.command).toEqual(['mariadb-admin', '--defaults-extra-file=/var/run/mysqld/client.cnf', 'ping']);
    expect(main.readinessProbe.exec.command).toEqual(['mariadb', '--defaults-extra-file=/var/run/mysqld/client.cnf', '-e', 'SELECT 1']);
    expect(main.livenessProbe.periodSeconds).not.toBe(main.readinessProbe.periodSeconds);
    expect(main.startupProbe.failureThreshold).toBeGreaterThan(main.livenessProbe.failureThreshold);
  });

  test('the buffer pool defaults to half the memory limit', () => {
    const c = chart();
    const db = new MySqlReplicaSet(c, 'orders', { resources: Resources.of({ cpuMillis: 500, memory: Size.gibibytes(4) }) });
    expect(db.bufferPoolMebibytes).toBe(2048);
    expect(only(synthValid(c), 'ConfigMap').data['my.cnf']).toContain('innodb_buffer_pool_size=2048M');
  });

  test('no password appears in the manifest; an existing Secret replaces the generator', () => {
    const c = chart();
    new MySqlReplicaSet(c, 'orders', { existingSecret: 'orders-db', users: [{ name: 'app' }] });
    const objects = synthValid(c, { externalSecrets: { 'orders-db': ['root-password', 'replication-password', 'app-password'] } });
    expect(objects.filter((o) => o.kind === 'Job')).toEqual([]);
    expect(JSON.stringify(objects)).not.toMatch(/MYSQL_ROOT_PASSWORD|password"?\s*:\s*"[^"]/);
  });

  test.each([
    [{ bufferPool: Size.gibibytes(4) }, "MySqlReplicaSet 'test/orders': bufferPool (4096Mi) must be smaller than the memory limit (2048Mi)"],
    [{ replicas: 0 }, 'replicas must be an integer from 1 to 100, got 0'],
    [{ databases: ['bad-name'] }, "databases 'bad-name' is not a valid database name"],
    [{ users: [{ name: 'root' }] }, "users 'root' is reserved"],
    [{ users: [{ name: 'app', databases: ['nope'] }] }, "users 'app' databases name 'nope', which is not in databases"],
    [{ config: ['server_id=7'] }, "config must not set 'server_id=7'"],
    [{ config: ['password=x'] }, 'config must not contain passwords'],
    [{ binlogExpiry: Duration.minutes(1) }, 'binlogExpiry (seconds) must be an integer from 3600'],
  ])('invalid props throw: %p', (props, message) => {
    expect(() => new MySqlReplicaSet(chart(), 'orders', props as any)).toThrow(message);
  });
});
