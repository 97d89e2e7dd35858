// The MySQL-flavor scripts of the synthesized manifest (the init container,
// start.sh and the probes, exactly as the StatefulSet runs them) execute under
// bash against the recording stand-ins of ./standins.ts, whose answers follow
// the MySQL 8.4 Reference Manual pages cited there; one scripted server state
// per test.
import * as fs from 'fs';
import { Chart, Duration, Testing } from 'cdk8s';
import { MySqlReplicaSet } from '../../src';
import { Call, MySqlMember, ServerState } from './standins';

const ROOT = 'r00t-pw';
const REPL = 'repl-pw';
const APP = 'app-pw';
const SECRETS = { 'root-password': ROOT, 'replication-password': REPL, 'app-password': APP };
const PRIMARY = 'test-orders-0.test-orders-headless.shop.svc.cluster.local';

function manifest(maxReplicaLag?: Duration) {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'shop' });
  new MySqlReplicaSet(chart, 'orders', { databases: ['shop'], users: [{ name: 'app', databases: ['shop'] }], maxReplicaLag });
  const objects = Testing.synth(chart);
  const pod = objects.find((o) => o.kind === 'StatefulSet').spec.template.spec;
  return { files: objects.find((o) => o.kind === 'ConfigMap').data as { [name: string]: string }, init: pod.initContainers[0], main: pod.containers[0] };
}
const M = manifest();

let members: MySqlMember[] = [];
afterEach(() => {
  members.forEach((m) => m.cleanup());
  members = [];
});

/** Pod `test-orders-<ordinal>` after its init container ran. */
function member(ordinal: number, state: Partial<ServerState> = {}, m = M): MySqlMember {
  const member = new MySqlMember(m.files, SECRETS, `test-orders-${ordinal}`, state);
  members.push(member);
  const r = member.run(m.init.command);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return member;
}
const statements = (m: MySqlMember) => m.calls('mysql').flatMap((c) => c.statements!);
const mysqld = (m: MySqlMember) => m.calls('mysqld');
const exists = (m: MySqlMember, imagePath: string) => fs.existsSync(m.path(imagePath));
function noPasswordInArgv(calls: Call[]): void {
  for (const c of calls) expect(c.argv.join(' ')).not.toMatch(new RegExp(`${ROOT}|${REPL}|${APP}`));
}

describe('start.sh of a MySQL replica', () => {
  test('a fresh replica clones the primary, then replicates with auto-positioning and a retry policy, and starts replication', () => {
    // GIVEN pod 1 with an empty volume and a primary whose root password the clone brings
    const m = member(1, { primaryRootPassword: ROOT });
    // WHEN the container's command runs
    const r = m.run(M.main.command);
    // THEN
    expect(r.status).toBe(0);
    expect(statements(m)).toEqual([
      `SET GLOBAL clone_valid_donor_list='${PRIMARY}:3306'`,
      `CLONE INSTANCE FROM 'replicator'@'${PRIMARY}':3306 IDENTIFIED BY '${REPL}'`,
      `CHANGE REPLICATION SOURCE TO SOURCE_HOST='${PRIMARY}', SOURCE_PORT=3306, SOURCE_USER='replicator', SOURCE_PASSWORD='${REPL}', `
      + 'SOURCE_AUTO_POSITION=1, SOURCE_SSL=1, GET_SOURCE_PUBLIC_KEY=1, SOURCE_CONNECT_RETRY=10, SOURCE_RETRY_COUNT=86400',
      'START REPLICA',
    ]);
    // the statements went to the temporary server over its socket, on stdin
    expect(m.calls('mysql').every((c) => c.stdin !== undefined && c.argv.includes('--protocol=socket'))).toBe(true);
    noPasswordInArgv(m.calls());
    // initialize, temporary server, temporary server again after the clone's restart, then the server itself
    expect(mysqld(m).map((c) => [c.options!.initialize_insecure ?? '', c.options!.skip_networking ?? '', c.options!.skip_replica_start ?? ''])).toEqual([
      ['ON', '', ''], ['', 'ON', 'ON'], ['', 'ON', 'ON'], ['', '', ''],
    ]);
    const server = mysqld(m)[3];
    expect(server.argv).toEqual([`--defaults-file=${m.path('/opt/cdk8s/mysql/my.cnf')}`]);
    expect(server.options).toMatchObject({ server_id: '101', read_only: 'ON', super_read_only: 'ON', tmpdir: m.path('/var/lib/mysql/tmp') });
    // the replication settings the stand-in now reports
    expect(m.state().replica).toMatchObject({ io: 'Yes', sql: 'Yes', options: { SOURCE_AUTO_POSITION: '1', SOURCE_CONNECT_RETRY: '10', SOURCE_RETRY_COUNT: '86400' } });
    // the probes' option file is in place; the markers are gone; tmpdir exists on the claim
    expect(fs.readFileSync(m.path('/var/run/mysqld/client.cnf'), 'utf-8')).toBe(`[client]\nuser=root\nsocket=${m.path('/var/run/mysqld/mysqld.sock')}\npassword="${ROOT}"\n`);
    expect([exists(m, '/var/run/mysqld/initializing'), exists(m, '/var/lib/mysql/.cdk8s-initializing'), exists(m, '/var/lib/mysql/tmp')]).toEqual([false, false, true]);
  });

  test('super_read_only of a replica\'s role is off while --initialize-insecure creates the data directory', () => {
    // GIVEN pod 1, whose role file (written by the init container) turns super_read_only on
    const m = member(1, { primaryRootPassword: ROOT });
    expect(fs.readFileSync(m.path('/opt/cdk8s/mysql-instance/server-id.cnf'), 'utf-8')).toContain('super_read_only=ON');
    // WHEN
    expect(m.run(M.main.command).status).toBe(0);
    // THEN the initialization read the role file but ran with both read-only switches off
    const init = mysqld(m)[0];
    expect(init.argv).toContain('--initialize-insecure');
    expect(init.options).toMatchObject({ server_id: '101', read_only: 'OFF', super_read_only: 'OFF' });
    // and so did the temporary servers that clone and configure replication
    expect(mysqld(m).slice(1, 3).map((c) => [c.options!.read_only, c.options!.super_read_only])).toEqual([['OFF', 'OFF'], ['OFF', 'OFF']]);
  });

  test('a CLONE that fails (primary unreachable) fails the container, stops the temporary server and leaves the marker that restarts initialization', () => {
    const m = member(1, { clone: 'unreachable' });
    const r = m.run(M.main.command);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`CLONE from ${PRIMARY} failed`);
    expect(statements(m)).not.toContain('START REPLICA');
    expect(m.calls('mysqladmin').map((c) => c.argv[c.argv.length - 1]).pop()).toBe('shutdown');
    expect(exists(m, '/var/lib/mysql/.cdk8s-initializing')).toBe(true);
    expect(mysqld(m).filter((c) => !c.options!.skip_networking && !c.options!.initialize_insecure)).toEqual([]);
  });

  test('an interrupted initialization is started over on an emptied data directory', () => {
    // GIVEN a data directory left half-initialized (the marker is still there)
    const m = member(1, { primaryRootPassword: ROOT });
    fs.mkdirSync(m.path('/var/lib/mysql/data/mysql'), { recursive: true });
    fs.writeFileSync(m.path('/var/lib/mysql/.cdk8s-initializing'), '');
    // WHEN
    const r = m.run(M.main.command);
    // THEN (--initialize-insecure refuses a directory with files in it)
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('an earlier initialization did not finish; starting it over');
    expect(mysqld(m)[0].options!.initialize_insecure).toBe('ON');
    expect(statements(m)).toContain('START REPLICA');
  });

  test('an initialized data directory (a restart after the clone) starts the server directly', () => {
    const m = member(1, { rootPassword: ROOT });
    fs.mkdirSync(m.path('/var/lib/mysql/data/mysql'), { recursive: true });
    expect(m.run(M.main.command).status).toBe(0);
    expect(m.calls('mysql')).toEqual([]);
    expect(mysqld(m).map((c) => c.argv)).toEqual([[`--defaults-file=${m.path('/opt/cdk8s/mysql/my.cnf')}`]]);
  });
});

describe('start.sh of the MySQL primary', () => {
  test('sets root\'s password and creates the replicator (with BACKUP_ADMIN for CLONE), the databases and the users', () => {
    const m = member(0);
    const r = m.run(M.main.command);
    expect(r.status).toBe(0);
    expect(statements(m)).toEqual([
      `ALTER USER 'root'@'localhost' IDENTIFIED BY '${ROOT}'`,
      `CREATE USER IF NOT EXISTS 'replicator'@'%' IDENTIFIED BY '${REPL}'`,
      "GRANT REPLICATION SLAVE, BACKUP_ADMIN ON *.* TO 'replicator'@'%'",
      'CREATE DATABASE IF NOT EXISTS `shop`',
      `CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY '${APP}'`,
      "GRANT ALL PRIVILEGES ON `shop`.* TO 'app'@'%'",
    ]);
    noPasswordInArgv(m.calls());
    expect(mysqld(m).pop()!.options).toMatchObject({ server_id: '100', read_only: 'OFF' });
    expect(mysqld(m).pop()!.options!.super_read_only).toBeUndefined();
  });
});

describe('probes of a MySQL member', () => {
  const live = (m: MySqlMember) => m.run(M.main.livenessProbe.exec.command);
  const startup = (m: MySqlMember) => m.run(M.main.startupProbe.exec.command);
  const ready = (m: MySqlMember) => m.run(M.main.readinessProbe.exec.command);

  test('while a long CLONE runs, the startup and liveness probes pass and readiness fails; after it, the server decides', async () => {
    // GIVEN a fresh replica whose CLONE does not finish until released
    const m = member(1, { primaryRootPassword: ROOT, clone: 'hold' });
    const started = m.start(M.main.command);
    for (let i = 0; i < 200 && !m.state().cloning; i++) await new Promise((r) => setTimeout(r, 50));
    expect(m.state().cloning).toBe(true);
    // WHEN the kubelet probes during the clone (the probes' option file does not exist yet)
    expect(exists(m, '/var/run/mysqld/client.cnf')).toBe(false);
    // THEN it is alive but not ready
    expect(startup(m).status).toBe(0);
    expect(live(m).status).toBe(0);
    const r = ready(m);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('initializing');
    // AND once the clone finished and start.sh exec'd the server, a ping decides
    m.releaseClone();
    expect((await started).status).toBe(0);
    expect(live(m).status).not.toBe(0);
    m.serve('/var/run/mysqld/mysqld.sock');
    expect(live(m).status).toBe(0);
  }, 30000);

  test('a stale initialization marker (its process is gone) does not keep a dead server alive', () => {
    const m = member(1, { rootPassword: ROOT });
    fs.writeFileSync(m.path('/var/run/mysqld/initializing'), '999999999');
    expect(live(m).status).not.toBe(0);
  });

  /** A replica (or the primary) running with the probes' option file, in replication state `replica`. */
  function running(ordinal: number, state: Partial<ServerState>, manifestOf = M): MySqlMember {
    const m = member(ordinal, { rootPassword: ROOT }, manifestOf);
    fs.mkdirSync(m.path('/var/lib/mysql/data/mysql'), { recursive: true });
    expect(m.run(manifestOf.main.command).status).toBe(0);
    m.serve('/var/run/mysqld/mysqld.sock');
    m.setState(state);
    return m;
  }
  const replication = (io: string, sql: string, lag: number | null, lastSqlError?: string) => ({ replica: { io, sql, lag, options: {}, lastSqlError } });

  test('a replica replicating with both threads running and no lag is ready', () => {
    const m = running(1, replication('Yes', 'Yes', 0));
    expect(ready(m)).toMatchObject({ status: 0, stderr: '' });
    expect(m.calls('mysql').pop()!.statements).toEqual(['SHOW REPLICA STATUS']);
  });

  test.each<[string, ServerState['replica'] | undefined, string]>([
    ['the IO thread reconnecting to a lost primary', replication('Connecting', 'Yes', null).replica, 'replication is not running: IO thread Connecting, SQL thread Yes'],
    ['the IO thread stopped', replication('No', 'Yes', null).replica, 'IO thread No'],
    ['the SQL thread stopped by an error', replication('Yes', 'No', null, "Error 'Duplicate entry '10' for key 'orders.PRIMARY'' on query.").replica, 'SQL thread No'],
    ['lagging 61 s (more than maxReplicaLag, 60 s)', replication('Yes', 'Yes', 61).replica, 'replica lags 61 s behind the primary (at most 60 s for ready)'],
    ['no replication configured', undefined, 'IO thread none'],
  ])('a replica is not ready with %s', (_what, replica, message) => {
    const m = running(1, { replica });
    const r = ready(m);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(message);
    // still alive: liveness leaves a replica with broken replication running
    expect(live(m).status).toBe(0);
  });

  test('the lag threshold is maxReplicaLag: 60 s is ready by default, 61 s with maxReplicaLag of 2 minutes', () => {
    expect(ready(running(1, replication('Yes', 'Yes', 60))).status).toBe(0);
    expect(ready(running(1, replication('Yes', 'Yes', 61), manifest(Duration.minutes(2)))).status).toBe(0);
    expect(ready(running(1, replication('Yes', 'Yes', 121), manifest(Duration.minutes(2)))).status).not.toBe(0);
  });

  test('the primary is ready when it answers and is writable, not when it is read-only', () => {
    const m = running(0, { readOnly: 0 });
    expect(ready(m).status).toBe(0);
    expect(m.calls('mysql').pop()!.statements).toEqual(['SELECT @@global.read_only']);
    m.setState({ readOnly: 1 });
    const r = ready(m);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('primary is read-only');
  });

  test('a member whose server does not answer is neither live nor ready', () => {
    const m = running(1, replication('Yes', 'Yes', 0));
    fs.rmSync(`${m.dir}/servers/mysqld.sock`);
    expect(live(m).status).not.toBe(0);
    expect(ready(m).status).not.toBe(0);
  });
});
