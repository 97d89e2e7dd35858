// The operations scripts of a MySQL 8.4 set, exactly as synthesized, under
// bash with real gzip, sha256sum, find and mv, against the recording
// stand-ins of ./standins.ts (mysql, mysqldump, mysqld, mysqladmin), whose
// answers and accepted options follow the MySQL 8.4 Reference Manual pages
// cited there (mysqldump: https://dev.mysql.com/doc/refman/8.4/en/mysqldump.html).
import { createHash } from 'crypto';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { gunzipSync } from 'zlib';
import { Chart, Testing } from 'cdk8s';
import { BackupTarget, MySqlReplicaSet, MySqlReplicaSetProps } from '../../src';
import { MySqlMember, ServerState } from './standins';

const ROOT = 'r00t-pw';
const SECRETS = { 'root-password': ROOT, 'replication-password': 'repl-pw', 'exporter-password': 'exp"o\\rt', 'backup-password': 'b@ckup pw' };
const HOST = (i: number) => `test-orders-${i}.test-orders-headless.shop.svc.cluster.local`;

function manifest(props: MySqlReplicaSetProps) {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'shop' });
  new MySqlReplicaSet(chart, 'orders', { databases: ['shop'], ...props });
  const objects = Testing.synth(chart);
  const pod = objects.find((o) => o.kind === 'StatefulSet').spec.template.spec;
  const cron = (name: string) => objects.find((o) => o.kind === 'CronJob' && o.metadata.name === name)?.spec.jobTemplate.spec.template.spec;
  return { files: objects.find((o) => o.kind === 'ConfigMap').data as { [name: string]: string }, pod, cron };
}

let members: MySqlMember[] = [];
afterEach(() => {
  members.forEach((m) => m.cleanup());
  members = [];
});
function member(m: ReturnType<typeof manifest>, ordinal: number, state: Partial<ServerState> = {}, secrets: { [k: string]: string } = SECRETS): MySqlMember {
  const x = new MySqlMember(m.files, secrets, `test-orders-${ordinal}`, state);
  members.push(x);
  const r = x.run(m.pod.initContainers[0].command);
  expect(r.status).toBe(0);
  return x;
}
/** A CronJob container's inline script with /backup and /tmp moved into the member's directory. */
function jobScript(x: MySqlMember, container: any): string[] {
  const text = (container.command[2] as string).replace(/(?<![\w.])\/(backup\b|tmp\/)/g, `${x.dir}/$1`);
  fs.mkdirSync(path.join(x.dir, 'backup'), { recursive: true });
  fs.mkdirSync(path.join(x.dir, 'tmp'), { recursive: true });
  return ['bash', '-c', text];
}
const backupDir = (x: MySqlMember) => path.join(x.dir, 'backup');
const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('the backup CronJob\'s dump of a MySQL 8.4 set', () => {
  const M = manifest({ backup: { keep: 2 } });
  const dump = M.cron('test-orders-backup')!.containers[0];
  const run = (x: MySqlMember, password = SECRETS['backup-password']) => {
    const [cmd, ...args] = jobScript(x, dump);
    return spawnSync(cmd, args, { encoding: 'utf-8', stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: `${x.dir}/bin:/usr/bin:/bin`, STANDIN_DIR: x.dir, MYSQL_BACKUP_PASSWORD: password } });
  };

  test('dumps the application databases of the first replica that answers, consistently, with the GTID set and the source position', () => {
    // GIVEN replica 1 down, replica 2 up with two application schemas
    const x = member(M, 0, { backupPassword: SECRETS['backup-password'], remote: { [HOST(1)]: { up: false, schemas: [] }, [HOST(2)]: { up: true, schemas: ['billing', 'shop'] } } });
    // WHEN the CronJob's script runs
    const r = run(x);
    // THEN
    expect(r.stderr).toContain(`${HOST(1)} does not answer`);
    expect(r.stderr.replace(`${HOST(1)} does not answer\n`, '').replace(/ERROR 2003 .*\n/, '')).toBe('');
    expect(r.status).toBe(0);
    const call = x.calls('mysqldump')[0] as any;
    expect(call.host).toBe(HOST(2));
    expect(call.databases).toEqual(['billing', 'shop']);
    // mysqldump (8.4): one transaction, routines, events, triggers; --source-data=2 writes the position as a comment,
    // --set-gtid-purged=ON the GTID set; --no-tablespaces spares the PROCESS privilege
    expect(call.options).toEqual({
      '--single-transaction': true, '--routines': true, '--events': true, '--triggers': true, '--hex-blob': true,
      '--source-data': '2', '--set-gtid-purged': 'ON', '--no-tablespaces': true, '--databases': true,
    });
    // the password went through the option file, never the command line
    for (const c of x.calls()) expect(c.argv.join(' ')).not.toContain(SECRETS['backup-password']);
    expect(fs.existsSync(path.join(x.dir, 'tmp', 'backup.cnf'))).toBe(false);
    // one complete dump, its sha256 beside it, no temporary file
    const files = fs.readdirSync(backupDir(x)).sort();
    expect(files).toHaveLength(2);
    const [name, checksum] = files;
    expect(name).toMatch(/^dump-\d{8}T\d{6}Z\.sql\.gz$/);
    expect(checksum).toBe(`${name}.sha256`);
    expect(fs.readFileSync(path.join(backupDir(x), checksum), 'utf-8')).toBe(`${sha256(path.join(backupDir(x), name))}  ${name}\n`);
    const sql = gunzipSync(fs.readFileSync(path.join(backupDir(x), name))).toString('utf-8');
    expect(sql).toContain(`-- Host: ${HOST(2)}`);
    expect(sql).toContain("SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-42';");
    expect(sql).toMatch(/-- Dump completed on/);
  });

  test('keeps the newest two dumps with their checksums and removes a temporary file an interrupted run left', () => {
    const x = member(M, 0, { backupPassword: SECRETS['backup-password'], remote: { [HOST(1)]: { up: true, schemas: ['shop'] } } });
    const old = ['dump-20261128T023000Z.sql.gz', 'dump-20261129T023000Z.sql.gz', 'dump-20261130T023000Z.sql.gz'];
    for (const f of old) {
      fs.mkdirSync(backupDir(x), { recursive: true });
      fs.writeFileSync(path.join(backupDir(x), f), 'old');
      fs.writeFileSync(path.join(backupDir(x), `${f}.sha256`), 'x');
    }
    fs.writeFileSync(path.join(backupDir(x), '.dump-20261130T230000Z.sql.gz.partial'), 'interrupted');
    fs.writeFileSync(path.join(backupDir(x), 'notes.txt'), 'unrelated');
    expect(run(x).status).toBe(0);
    const files = fs.readdirSync(backupDir(x)).sort();
    const fresh = files.find((f) => f.endsWith('.sql.gz') && !old.includes(f))!;
    expect(files).toEqual(['dump-20261130T023000Z.sql.gz', 'dump-20261130T023000Z.sql.gz.sha256', fresh, `${fresh}.sha256`, 'notes.txt'].sort());
  });

  test('a dump that fails midway leaves no dump under its final name and no checksum; the job fails', () => {
    const x = member(M, 0, { backupPassword: SECRETS['backup-password'], dumpFails: true, remote: { [HOST(1)]: { up: true, schemas: ['shop'] } } });
    const r = run(x);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('Lost connection to server during query');
    expect(fs.readdirSync(backupDir(x)).filter((f) => !f.startsWith('.'))).toEqual([]);
  });

  test('fails naming the members when no replica answers, and with a wrong password', () => {
    const x = member(M, 0, { backupPassword: SECRETS['backup-password'], remote: {} });
    const r = run(x);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`no member to dump from answers (${HOST(1)} ${HOST(2)})`);
    const y = member(M, 0, { backupPassword: 'other', remote: { [HOST(1)]: { up: true, schemas: ['shop'] }, [HOST(2)]: { up: true, schemas: ['shop'] } } });
    expect(run(y).stderr).toContain("Access denied for user 'backup'");
    expect(x.calls('mysqldump')).toEqual([]);
  });
});

describe('start.sh of a MySQL 8.4 primary with monitoring and backup', () => {
  test('creates the exporter (loopback, 3 connections) and backup users with least privileges', () => {
    const M = manifest({ monitoring: {}, backup: {} });
    const x = member(M, 0);
    expect(x.run(M.pod.containers[0].command).status).toBe(0);
    const statements = x.calls('mysql').flatMap((c) => c.statements!);
    expect(statements).toContain("CREATE USER IF NOT EXISTS 'exporter'@'127.0.0.1' IDENTIFIED BY 'exp\"o\\\\rt' WITH MAX_USER_CONNECTIONS 3");
    expect(statements).toContain("GRANT PROCESS, REPLICATION CLIENT, SELECT ON *.* TO 'exporter'@'127.0.0.1'");
    expect(statements).toContain("CREATE USER IF NOT EXISTS 'backup'@'%' IDENTIFIED BY 'b@ckup pw' WITH MAX_USER_CONNECTIONS 2");
    expect(statements).toContain("GRANT SELECT, SHOW VIEW, TRIGGER, LOCK TABLES, EVENT, RELOAD, REPLICATION CLIENT ON *.* TO 'backup'@'%'");
  });
});

describe('restore on a fresh MySQL 8.4 primary', () => {
  const M = manifest({ restore: { source: BackupTarget.volume({ existingClaim: 'old-backup' }) } });
  const DUMP = 'dump-20261201T023000Z.sql.gz';
  const SQL = "-- MySQL dump 10.13\nSET @@SESSION.SQL_LOG_BIN= 0;\nSET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ 'aaaa:1-9';\nCREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop`;\nUSE `shop`;\n-- Dump completed\n";
  /** The source claim at /backup of the restore init container, as the old set's CronJob left it. */
  function withSource(x: MySqlMember, sum?: string): void {
    const gz = spawnSync('gzip', ['-c'], { input: SQL });
    const dir = path.join(x.dir, 'backup');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, DUMP), gz.stdout);
    fs.writeFileSync(path.join(dir, `${DUMP}.sha256`), `${sum ?? sha256(path.join(dir, DUMP))}  ${DUMP}\n`);
    fs.writeFileSync(path.join(dir, 'dump-20261130T023000Z.sql.gz'), 'older');
  }
  const restoreInit = () => M.pod.initContainers.find((c: any) => c.name === 'restore');
  const fetch = (x: MySqlMember) => {
    const script = fs.readFileSync(x.path('/opt/cdk8s/mysql/restore.sh'), 'utf-8').replace(/(?<![\w.])\/backup\b/g, `${x.dir}/backup`);
    fs.writeFileSync(x.path('/opt/cdk8s/mysql/restore.sh'), script);
    return x.run(restoreInit().command);
  };

  test('the init container copies the newest dump and its checksum; start.sh verifies it and loads it before creating users', () => {
    // GIVEN a fresh primary and the source claim
    const x = member(M, 0);
    withSource(x);
    // WHEN the restore init container, then the server container run
    expect(fetch(x).status).toBe(0);
    expect(fs.readdirSync(x.path('/var/lib/mysql/restore')).sort()).toEqual([DUMP, `${DUMP}.sha256`]);
    const r = x.run(M.pod.containers[0].command);
    // THEN the dump was verified and loaded into the temporary server, then root's password and the users were set
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`sha256 of ${DUMP} verified`);
    expect(x.state().loaded).toEqual(["SET @@SESSION.SQL_LOG_BIN= 0", "SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ 'aaaa:1-9'", 'CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop`', 'USE `shop`']);
    const loads = x.calls('mysql');
    const loadIndex = loads.findIndex((c) => (c.stdin ?? '').includes('GTID_PURGED'));
    const alterIndex = loads.findIndex((c) => (c.statements ?? []).some((st) => st.startsWith("ALTER USER 'root'@'localhost'")));
    expect(loadIndex).toBeGreaterThanOrEqual(0);
    expect(loadIndex).toBeLessThan(alterIndex);
    expect(fs.existsSync(x.path('/var/lib/mysql/restore'))).toBe(false);
  });

  test('a corrupt dump is refused before anything is initialized, naming the file and both checksums', () => {
    const x = member(M, 0);
    withSource(x, '0'.repeat(64));
    expect(fetch(x).status).toBe(0);
    const r = x.run(M.pod.containers[0].command);
    expect(r.status).not.toBe(0);
    const actual = sha256(path.join(x.dir, 'backup', DUMP));
    expect(r.stderr).toContain(`refusing to restore ${DUMP}: its sha256 is ${actual} but ${DUMP}.sha256 records ${'0'.repeat(64)}; the backup is corrupt`);
    expect(x.calls('mysqld')).toEqual([]);
    expect(fs.existsSync(x.path('/var/lib/mysql/data'))).toBe(false);
  });

  test('replicas and an initialized primary fetch nothing; a named dump that is missing fails the init container', () => {
    const replica = member(M, 1);
    withSource(replica);
    expect(fetch(replica).stdout).toContain('a replica copies the primary; nothing to restore here');
    expect(fs.existsSync(replica.path('/var/lib/mysql/restore'))).toBe(false);
    const initialized = member(M, 0);
    withSource(initialized);
    fs.mkdirSync(initialized.path('/var/lib/mysql/data/mysql'), { recursive: true });
    expect(fetch(initialized).stdout).toContain('the data directory is initialized; nothing to restore');
    const named = manifest({ restore: { source: BackupTarget.volume({ existingClaim: 'old-backup' }), backup: 'dump-20250101T000000Z.sql.gz' } });
    const y = member(named, 0);
    withSource(y);
    const r = fetch(y);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('no backup dump-20250101T000000Z.sql.gz in');
  });
});

describe('exporter-cnf.sh', () => {
  const M = manifest({ monitoring: {} });
  const init = M.pod.initContainers.find((c: any) => c.name === 'exporter-cnf');
  test('writes mysqld_exporter\'s option file for the exporter user over loopback TCP, readable by its owner only', () => {
    const x = member(M, 0, {}, { ...SECRETS, 'exporter-password': 'e-x\\p' });
    fs.writeFileSync(path.join(x.root, 'var/run/secrets/mysql-exporter/exporter-password'), 'e-x\\p');
    const r = x.run(init.command);
    expect(r.status).toBe(0);
    const file = x.path('/var/run/mysqld-exporter/my.cnf');
    expect(fs.readFileSync(file, 'utf-8')).toBe('[client]\nuser=exporter\npassword="e-x\\p"\nhost=127.0.0.1\nport=3306\n');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });
  test('refuses a password the exporter\'s option file cannot carry', () => {
    const x = member(M, 0);
    fs.writeFileSync(path.join(x.root, 'var/run/secrets/mysql-exporter/exporter-password'), 'a"b');
    const r = x.run(init.command);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('exporter-password must not contain \'"\' or a newline');
  });
});
