import * as fs from 'fs';
import * as path from 'path';
import { Chart, Size, Testing } from 'cdk8s';
import { BackupTarget } from '../../src';
import { Resources, Storage } from '../../src';
import { PostgresReplicaSet, PostgresReplicaSetProps, PostgresSynchronousCommit } from '../../src/postgres/postgres-replica-set';
import { LocalCluster } from './harness/cluster';
import { allowedClients, CONNECTED, describeWithNamespaces, DROPPED, startClientAndStranger, tcpConnect, until } from './harness/testing';
import { postgresHarnessOptions, PG_DEBIAN_VERSION, PGBACKREST_IMAGE } from './harness/postgres';

// A PostgreSQL primary and two hot standbys, exactly as rendered, on Debian's
// PostgreSQL 15: the generator Job makes the passwords, standbys bootstrap
// with pg_basebackup over their own slots, survive restarts with new
// addresses and wiped volumes, stay read-only while the primary is gone, and
// a scale-down drops the removed ordinal's slot. Clients are restricted to the
// test's allowed client pods: standbys still stream, a stranger is dropped.

type Json = any;

function synth(props: PostgresReplicaSetProps): { objects: Json[]; db: PostgresReplicaSet } {
  const chart = new Chart(Testing.app(), 'e2e', { namespace: 'orders' });
  const db = new PostgresReplicaSet(chart, 'pg', {
    image: `docker.io/library/postgres:${PG_DEBIAN_VERSION}`,
    databases: ['shop'], users: [{ name: 'app', databases: ['shop'] }],
    storage: Storage.persistent({ size: Size.gibibytes(1) }),
    resources: Resources.of({ cpuMillis: 200, memory: Size.mebibytes(256) }),
    monitoring: {},
    // Debian's postgres user; initdb refuses a uid without a passwd entry (see the table)
    runAs: { uid: 101, gid: 104 },
    allowClientsFrom: [allowedClients(chart)],
    ...props,
  });
  return { objects: Testing.synth(chart), db };
}

describeWithNamespaces('PostgresReplicaSet on real PostgreSQL servers', () => {
  const { objects, db } = synth({ replicas: 3 });
  const name = db.workload.name;
  const pods = [0, 1, 2].map((i) => db.workload.podName(i));
  const generator = objects.find((o) => o.kind === 'Job' && o.metadata.annotations?.['cdk8s-stateful.io/generates-secret']).metadata.name;
  const readiness = objects.find((o) => o.kind === 'StatefulSet').spec.template.spec.containers[0].readinessProbe.exec.command;
  let cluster: LocalCluster;
  let secret: { [key: string]: string };

  /** psql as `app` over TCP to `host` from inside `pod`; returns the trimmed output, throws on failure. */
  const sql = async (pod: string, host: string, query: string) => {
    const r = await app(pod, host, query);
    if (r.code !== 0) throw new Error(`${pod} -> ${host}: ${query}: ${r.output}`);
    return r.output.trim();
  };
  const app = (pod: string, host: string, query: string) => cluster.exec(pod, ['bash', '-c',
    `PGPASSWORD="$(cat /var/run/secrets/postgres/app-password)" psql -X -A -t -q -v ON_ERROR_STOP=1 -h ${host} -U app -d shop -c "${query}"`]);
  /** psql as the superuser over the pod's socket (the probes' way in). */
  const local = async (pod: string, query: string) => (await cluster.sh(pod, `psql -X -A -t -q -h /var/run/postgresql -U postgres -d postgres -c "${query}"`)).trim();
  const count = (i: number) => sql(pods[i], db.podFqdn(i), 'SELECT count(*) FROM orders');
  const ready = async (pod: string) => (await cluster.exec(pod, readiness)).code === 0;

  beforeAll(async () => {
    cluster = new LocalCluster(objects, postgresHarnessOptions(objects, 120000));
    console.log(`substitutions (PostgreSQL):\n${cluster.table()}`);
    await cluster.runJob(generator);
    secret = cluster.secret(db.credentials.secretName);
    const t0 = Date.now();
    await cluster.startStatefulSet(name);
    console.log(`PostgreSQL: primary + 2 standbys Ready (initdb, 2 base backups) in ${Date.now() - t0} ms`);
  }, 300000);
  afterAll(async () => {
    await cluster?.destroy();
  }, 60000);

  test('1. the set forms: every standby streams on its own slot, and a row written on the primary is read on each standby', async () => {
    // GIVEN the set is Ready; WHEN the primary lists its WAL senders
    const senders = await until('both standbys streaming', 30000, async () => {
      const rows = (await local(pods[0],
        'SELECT r.application_name, r.state, s.slot_name FROM pg_stat_replication r JOIN pg_replication_slots s ON s.active_pid = r.pid ORDER BY 1')).split('\n');
      return rows.length === 2 ? rows : undefined;
    });
    // THEN each standby streams on the slot named after its ordinal
    expect(senders).toEqual([`${pods[1]}|streaming|standby_1`, `${pods[2]}|streaming|standby_2`]);
    // WHEN the application writes through the primary Service
    await sql(pods[0], db.primaryHost, 'CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders SELECT g, \'item\' || g FROM generate_series(1, 100) g');
    const t0 = Date.now();
    const counts = await until('the rows on both standbys', 30000, async () => {
      const c = [await count(1), await count(2)];
      return c.every((x) => x === '100') ? c : undefined;
    });
    const lag = await local(pods[0], 'SELECT string_agg(application_name || \'=\' || pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), \', \') FROM pg_stat_replication');
    console.log(`PostgreSQL streaming: primary wrote 100 rows; ${pods[1]} reads ${counts[0]}, ${pods[2]} reads ${counts[1]} after ${Date.now() - t0} ms; replay lag in bytes: ${lag}`);
    expect(counts).toEqual(['100', '100']);
    // and a standby refuses writes
    const write = await app(pods[1], db.podFqdn(1), 'INSERT INTO orders VALUES (999, \'nope\')');
    expect(write.output).toMatch(/read-only transaction/);
  }, 90000);

  test('1b. the NetworkPolicy admits an allowed client pod to the postgres port and drops a stranger\'s connection', async () => {
    // GIVEN a pod with the allowed client labels and a stranger without, in the set's namespace
    const { client, stranger } = await startClientAndStranger(cluster, 'pg', 'orders');
    const port = db.workload.port('postgres').port;
    // THEN the client reads through the primary Service, and the stranger cannot even connect
    const rows = await cluster.exec(client, ['bash', '-c',
      `PGPASSWORD='${secret['app-password']}' psql -X -A -t -h ${db.primaryHost} -U app -d shop -c "SELECT count(*) FROM orders"`]);
    expect(rows.output.trim()).toBe('100');
    expect(await tcpConnect(cluster, client, db.primaryHost, port)).toBe(CONNECTED);
    expect(await tcpConnect(cluster, stranger, db.primaryHost, port)).toBe(DROPPED);
  }, 60000);

  test('passwords are SCRAM, come from the Secret, and never appear in the manifest', async () => {
    const wrong = await cluster.exec(pods[1], ['bash', '-c', `PGPASSWORD=not-it psql -X -h ${db.podFqdn(0)} -U app -d shop -c "SELECT 1"`]);
    expect(wrong.output).toMatch(/password authentication failed/);
    const remoteSuperuser = await cluster.exec(pods[1], ['bash', '-c', `PGPASSWORD="$(cat /var/run/secrets/postgres/postgres-password)" psql -X -h ${db.podFqdn(0)} -U postgres -d postgres -c "SELECT 1"`]);
    expect(remoteSuperuser.output).toMatch(/pg_hba.conf rejects connection/);
    expect(await local(pods[0], 'SELECT count(*) FROM pg_authid WHERE rolcanlogin AND rolpassword NOT LIKE \'SCRAM-SHA-256$%\'')).toBe('0');
    const text = JSON.stringify(objects.filter((o) => o.kind !== 'Secret'));
    const conf = (await cluster.sh(pods[1], 'cat /var/lib/postgresql/data/pgdata/postgresql.auto.conf'));
    for (const [key, value] of Object.entries(secret)) {
      expect({ key, inManifest: text.includes(value), inStandbyConf: conf.includes(value) }).toEqual({ key, inManifest: false, inStandbyConf: false });
    }
  });

  test('2a. a standby restarted with a new address catches up through its slot', async () => {
    // GIVEN standby 2 is down while the primary takes writes (its slot keeps the WAL)
    await cluster.stopPod(pods[2]);
    await sql(pods[0], db.primaryHost, 'INSERT INTO orders SELECT g, \'late\' FROM generate_series(101, 150) g');
    const retained = await local(pods[0], 'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) FROM pg_replication_slots WHERE slot_name = \'standby_2\'');
    // WHEN it comes back on another IP
    const t0 = Date.now();
    await cluster.startPod(name, 2, { newAddress: true });
    const n = await until('the restarted standby to catch up', 30000, async () => ((await count(2)) === '150' ? '150' : undefined));
    console.log(`PostgreSQL restart: slot standby_2 retained ${retained} bytes while ${pods[2]} was down; back on ${cluster.ipOf(pods[2])}, Ready and at 150 rows in ${Date.now() - t0} ms`);
    expect(Number(retained)).toBeGreaterThan(0);
    expect(n).toBe('150');
  }, 90000);

  test('2b. a standby whose volume is wiped bootstraps again with a fresh base backup', async () => {
    // GIVEN standby 1 loses its volume
    await cluster.stopPod(pods[1]);
    const claim = path.join(cluster.dir, 'claims', `data-${pods[1]}`);
    for (const f of fs.readdirSync(claim)) fs.rmSync(path.join(claim, f), { recursive: true, force: true });
    await sql(pods[0], db.primaryHost, 'INSERT INTO orders SELECT g, \'while-wiped\' FROM generate_series(151, 160) g');
    // WHEN it starts on the empty volume
    const t0 = Date.now();
    await cluster.startPod(name, 1);
    // THEN it has every row and streams on its (recreated) slot
    const n = await until('the re-bootstrapped standby', 30000, async () => ((await count(1)) === '160' ? '160' : undefined));
    const slot = await local(pods[0], `SELECT active FROM pg_replication_slots WHERE slot_name = 'standby_1'`);
    console.log(`PostgreSQL wipe: ${pods[1]} bootstrapped again from an empty volume, Ready with ${n} rows in ${Date.now() - t0} ms; slot standby_1 active=${slot}`);
    expect(n).toBe('160');
    expect(slot).toBe('t');
    expect(cluster.logs(pods[1], 200)).toContain('bootstrapping standby 1');
  }, 120000);

  test('3. the primary is killed: standbys stay read-only, fail readiness, and stream again when it returns', async () => {
    // WHEN the primary goes away
    await cluster.stopPod(pods[0]);
    const t0 = Date.now();
    // THEN each standby is still in recovery (no second primary), refuses writes, and is not Ready
    const notReady = await until('both standbys to fail readiness', 60000, async () => (!(await ready(pods[1])) && !(await ready(pods[2])) ? true : undefined));
    const leftAfter = Date.now() - t0;
    for (const i of [1, 2]) {
      expect(await local(pods[i], 'SELECT pg_is_in_recovery()')).toBe('t');
      expect((await app(pods[i], db.podFqdn(i), 'INSERT INTO orders VALUES (998, \'nope\')')).output).toMatch(/read-only transaction/);
      expect(await count(i)).toBe('160');
    }
    expect(notReady).toBe(true);
    // WHEN the primary returns (new address)
    const t1 = Date.now();
    await cluster.startPod(name, 0, { newAddress: true });
    await sql(pods[0], db.primaryHost, 'INSERT INTO orders VALUES (161, \'after\')');
    // THEN both standbys stream again, Ready, with the new row
    await until('both standbys Ready again', 60000, async () => ((await ready(pods[1])) && (await ready(pods[2])) ? true : undefined));
    const counts = [await count(1), await count(2)];
    console.log(`PostgreSQL primary loss: standbys left readiness ${leftAfter} ms after the primary stopped (still read-only, 160 rows each); streaming and Ready again ${Date.now() - t1} ms after it returned, rows ${counts.join('/')}`);
    expect(counts).toEqual(['161', '161']);
  }, 180000);

  test('6. the exporter, run with the rendered arguments, serves pg_up 1 and a replication-lag metric', async () => {
    const scrape = (i: number) => cluster.sh(pods[i], `curl -fsS http://${cluster.ipOf(pods[i])}:9187/metrics`, 'exporter');
    const primary = await scrape(0);
    const standby = await scrape(1);
    const up = /^pg_up (\d+)/m.exec(primary)?.[1];
    // the primary measures each standby's replay lag (bytes) and each slot's retained WAL
    const lag = primary.split('\n').filter((l) => l.startsWith('pg_stat_replication_pg_wal_lsn_diff{'));
    const slots = primary.split('\n').filter((l) => l.startsWith('pg_replication_slots_pg_wal_lsn_diff{'));
    console.log(`PostgreSQL exporter: primary pg_up ${up}, standby ${/^pg_up .*/m.exec(standby)?.[0]}\n  ${[...lag, ...slots].join('\n  ')}`);
    expect(up).toBe('1');
    expect(/^pg_up 1$/m.test(standby)).toBe(true);
    expect(lag.map((l) => /application_name="([^"]+)"/.exec(l)?.[1]).sort()).toEqual([pods[1], pods[2]]);
    expect(slots.map((l) => /slot_name="([^"]+)"/.exec(l)?.[1]).sort()).toEqual(['standby_1', 'standby_2']);
    // every metric the alerts use is served
    const rules = objects.find((o) => o.kind === 'PrometheusRule').spec.groups[0].rules;
    for (const r of rules) {
      const metrics: string[] = r.expr.match(/pg_[a-z_]+(?=\{)/g);
      for (const m of metrics) expect({ alert: r.alert, metric: m, served: new RegExp(`^${m}[{ ]`, 'm').test(primary) }).toEqual({ alert: r.alert, metric: m, served: true });
    }
  }, 60000);

  test('4. scale 3 -> 2: the slot of ordinal 2 is dropped on the primary', async () => {
    // GIVEN the manifest re-synthesized with replicas 2 and applied
    const scaled = synth({ replicas: 2 }).objects;
    objects.splice(0, objects.length, ...scaled);
    expect((await local(pods[0], 'SELECT slot_name FROM pg_replication_slots ORDER BY 1')).split('\n')).toEqual(['standby_1', 'standby_2']);
    // WHEN the StatefulSet controller removes pod 2 and rolls the others (the config changed)
    const t0 = Date.now();
    await cluster.stopPod(pods[2]);
    await cluster.stopPod(pods[1]);
    await cluster.startPod(name, 1);
    await cluster.stopPod(pods[0]);
    await cluster.startPod(name, 0, { newAddress: true });
    // THEN the primary's reconciler drops standby_2 and keeps standby_1
    const slots = await until('slot standby_2 to be dropped', 60000, async () => {
      const s = await local(pods[0], 'SELECT slot_name FROM pg_replication_slots ORDER BY 1');
      return s === 'standby_1' ? s : undefined;
    });
    console.log(`PostgreSQL scale 3 -> 2: slots on the primary after ${Date.now() - t0} ms: ${slots}`);
    expect(slots).toBe('standby_1');
    expect(cluster.logs(pods[0], 400)).toMatch(/dropped slot standby_2/);
    await until('standby 1 streaming', 30000, async () => ((await ready(pods[1])) ? true : undefined))
      .catch((e) => { throw new Error(`${e.message}\n${cluster.logs(pods[1], 30)}\n${cluster.logs(pods[0], 30)}`); });
  }, 180000);
});

describeWithNamespaces('PostgresReplicaSet with synchronous: ANY 1 on real PostgreSQL servers', () => {
  const { objects, db } = synth({ replicas: 2, synchronous: PostgresSynchronousCommit.any(1), monitoring: undefined });
  const name = db.workload.name;
  const pods = [0, 1].map((i) => db.workload.podName(i));
  const generator = objects.find((o) => o.kind === 'Job' && o.metadata.annotations?.['cdk8s-stateful.io/generates-secret']).metadata.name;
  let cluster: LocalCluster;
  const insert = (id: number) => cluster.exec(pods[0], ['bash', '-c',
    `PGPASSWORD="$(cat /var/run/secrets/postgres/app-password)" psql -X -q -v ON_ERROR_STOP=1 -h ${db.primaryHost} -U app -d shop -c "INSERT INTO t VALUES (${id})"`], { timeoutMs: 120000 });
  const local = async (pod: string, query: string) => (await cluster.sh(pod, `psql -X -A -t -q -h /var/run/postgresql -U postgres -d shop -c "${query}"`)).trim();

  beforeAll(async () => {
    cluster = new LocalCluster(objects, postgresHarnessOptions(objects, 120000));
    await cluster.runJob(generator);
    await cluster.startStatefulSet(name);
  }, 300000);
  afterAll(async () => {
    await cluster?.destroy();
  }, 60000);

  test('7. a commit waits while every standby is down, and completes when one streams again', async () => {
    // GIVEN quorum commit over the one standby
    expect(await local(pods[0], 'SHOW synchronous_standby_names')).toBe('ANY 1 (*)');
    await cluster.sh(pods[0], `PGPASSWORD="$(cat /var/run/secrets/postgres/app-password)" psql -X -q -h ${db.primaryHost} -U app -d shop -c "CREATE TABLE t (id int)"`);
    const t0 = Date.now();
    expect((await insert(1)).code).toBe(0);
    const fast = Date.now() - t0;
    expect(await until('a sync standby', 20000, async () => (await local(pods[0], 'SELECT sync_state FROM pg_stat_replication')) === 'quorum' || undefined)).toBe(true);
    // WHEN the only standby is down
    await cluster.stopPod(pods[1]);
    const t1 = Date.now();
    const pending = insert(2);
    // THEN the commit waits for it (SyncRep) ...
    const waiting = await until('the commit to wait for a standby', 20000, async () =>
      ((await local(pods[0], 'SELECT count(*) FROM pg_stat_activity WHERE wait_event = \'SyncRep\'')) === '1' ? true : undefined));
    await new Promise((r) => setTimeout(r, 3000));
    expect(waiting).toBe(true);
    // ... and completes once the standby streams again
    await cluster.startPod(name, 1, { newAddress: true });
    const r = await pending;
    const waited = Date.now() - t1;
    console.log(`PostgreSQL synchronous ANY 1: a commit took ${fast} ms with the standby up; with it down the commit waited (SyncRep) ${waited} ms, until the standby streamed again`);
    expect(r.code).toBe(0);
    expect(waited).toBeGreaterThan(3000);
    expect(await until('the row on the standby', 20000, async () => ((await local(pods[1], 'SELECT count(*) FROM t')) === '2' ? '2' : undefined))).toBe('2');
  }, 180000);
});

describeWithNamespaces('PostgresReplicaSet backups with pgBackRest and point-in-time recovery on real PostgreSQL servers', () => {
  /** The source set with backups and, once the target time is known, a set restored from it (one manifest, one namespace). */
  function manifest(targetTime?: string): { objects: Json[]; db: PostgresReplicaSet; restored?: PostgresReplicaSet; latest?: PostgresReplicaSet } {
    const chart = new Chart(Testing.app(), 'e2e', { namespace: 'orders' });
    const common = {
      image: PGBACKREST_IMAGE, storage: Storage.persistent({ size: Size.gibibytes(1) }),
      resources: Resources.of({ cpuMillis: 200, memory: Size.mebibytes(256) }), runAs: { uid: 101, gid: 104 },
    };
    const db = new PostgresReplicaSet(chart, 'pg', {
      ...common, replicas: 2, databases: ['shop'], users: [{ name: 'app', databases: ['shop'] }],
      backup: { target: BackupTarget.volume({ size: Size.gibibytes(2) }), retainFull: 2 },
    });
    const restored = targetTime ? new PostgresReplicaSet(chart, 'pitr', { ...common, replicas: 2, restore: { source: db, targetTime } }) : undefined;
    const latest = targetTime ? new PostgresReplicaSet(chart, 'latest', { ...common, replicas: 1, restore: { source: db } }) : undefined;
    return { objects: Testing.synth(chart), db, restored, latest };
  }
  const { objects, db } = manifest();
  const name = db.workload.name;
  const repo = db.backupRepository!.name;
  const pods = [0, 1].map((i) => db.workload.podName(i));
  const generator = objects.find((o) => o.kind === 'Job' && o.metadata.annotations?.['cdk8s-stateful.io/generates-secret']).metadata.name;
  const fullBackup = objects.find((o) => o.kind === 'CronJob' && o.metadata.name.endsWith('-backup-full')).metadata.name;
  const diffBackup = objects.find((o) => o.kind === 'CronJob' && o.metadata.name.endsWith('-backup-diff')).metadata.name;
  let cluster: LocalCluster;
  const local = async (pod: string, query: string, database = 'shop') =>
    (await cluster.sh(pod, `psql -X -A -t -q -h /var/run/postgresql -U postgres -d ${database} -c "${query}"`)).trim();

  beforeAll(async () => {
    cluster = new LocalCluster(objects, postgresHarnessOptions(objects, 120000));
    console.log(`substitutions (PostgreSQL + pgBackRest):\n${cluster.table()}`);
    await cluster.runJob(generator);
    await cluster.startStatefulSet(name);
    await cluster.startStatefulSet(repo);
  }, 300000);
  afterAll(async () => {
    await cluster?.destroy();
  }, 60000);

  test('5. WAL is archived, the CronJob takes a backup from the standby, and a new set restored to a time has the rows before it and not after', async () => {
    // GIVEN the repository host created the stanza and the primary archives WAL to it over TLS
    const repoPod = `${repo}-0`;
    const t = Date.now();
    await until('the stanza and WAL archiving (pgbackrest check)', 120000, async () =>
      ((await cluster.exec(repoPod, ['pgbackrest', `--config=/opt/cdk8s/pgbackrest/pgbackrest.conf`, '--stanza=main', 'check'])).code === 0 ? true : undefined))
      .catch((e) => { throw new Error(`${e.message}\n${cluster.logs(repoPod)}\n${cluster.logs(pods[0])}`); });
    console.log(`PostgreSQL pgBackRest: stanza created and archive-push verified ${Date.now() - t} ms after the repository host started`);
    await local(pods[0], 'CREATE TABLE orders (id int PRIMARY KEY, note text)');
    await local(pods[0], 'INSERT INTO orders SELECT g, \'before backup\' FROM generate_series(1, 1000) g');
    // WHEN the full-backup CronJob runs (kubectl exec into the repository host)
    const t0 = Date.now();
    const out = await cluster.runCronJob(fullBackup, 240000);
    const backupMs = Date.now() - t0;
    const info = (await cluster.exec(repoPod, ['pgbackrest', '--config=/opt/cdk8s/pgbackrest/pgbackrest.conf', '--stanza=main', 'info'])).output;
    expect(info).toMatch(/full backup: \S+F/);
    expect(out).toMatch(/backup command end: completed successfully|backup command end/);
    // the files came from the standby; only start/stop ran on the primary
    expect(out).toMatch(/replay on the standby reached/);
    // rows before and after the target time, all archived (a differential backup in between)
    await local(pods[0], 'INSERT INTO orders SELECT g, \'before target\' FROM generate_series(1001, 1500) g');
    const t2 = Date.now();
    await cluster.runCronJob(diffBackup, 240000);
    const diffMs = Date.now() - t2;
    const backups = (await cluster.exec(repoPod, ['pgbackrest', '--config=/opt/cdk8s/pgbackrest/pgbackrest.conf', '--stanza=main', 'info'])).output
      .split('\n').filter((l) => / backup: /.test(l)).map((l) => l.trim());
    expect(backups.map((l) => l.split(':')[0])).toEqual(['full backup', 'diff backup']);
    await new Promise((r) => setTimeout(r, 1500));
    const target = new Date(Number(await local(pods[0], 'SELECT extract(epoch FROM now())')) * 1000).toISOString();
    await new Promise((r) => setTimeout(r, 1500));
    await local(pods[0], 'INSERT INTO orders SELECT g, \'after target\' FROM generate_series(1501, 1800) g');
    const switched = await local(pods[0], 'SELECT pg_walfile_name(pg_switch_wal())', 'postgres');
    const archived = await until(`WAL segment ${switched} in the repository`, 60000, async () => {
      const r = await local(pods[0], 'SELECT archived_count, failed_count, last_archived_wal FROM pg_stat_archiver', 'postgres');
      return r.split('|')[2].slice(0, 24) >= switched ? r : undefined;
    });
    // WHEN a new set is restored from the repository to the target time
    const pitr = manifest(target);
    objects.splice(0, objects.length, ...pitr.objects);
    const t1 = Date.now();
    await cluster.startStatefulSet(pitr.restored!.workload.name);
    const restoreMs = Date.now() - t1;
    const restoredPod = pitr.restored!.workload.podName(0);
    // THEN it has the rows written before the target and none after, and it is a writable primary
    const rows = await local(restoredPod, 'SELECT note, count(*) FROM orders GROUP BY note ORDER BY note');
    console.log(`PostgreSQL pgBackRest: full backup from the standby by the CronJob in ${backupMs} ms, differential in ${diffMs} ms (${backups.join('; ')}); archiver ${archived} (archived|failed|last);\n  restored ${restoredPod} to ${target} in ${restoreMs} ms: ${rows.split('\n').join(', ')}`);
    expect(rows.split('\n')).toEqual(['before backup|1000', 'before target|500']);
    expect(await local(restoredPod, 'SELECT pg_is_in_recovery()')).toBe('f');
    await local(restoredPod, 'INSERT INTO orders VALUES (5000, \'written after the restore\')');
    // and its standby bootstrapped from it and streams the new row
    const standby = pitr.restored!.workload.podName(1);
    expect(await until('the restored set\'s standby', 30000, async () => ((await local(standby, 'SELECT count(*) FROM orders')) === '1501' ? '1501' : undefined))).toBe('1501');
    expect(await local(standby, 'SELECT pg_is_in_recovery()')).toBe('t');
    expect(cluster.logs(restoredPod, 400)).toMatch(/recovery stopping before commit of transaction/);
    // AND a set restored without a target replays every archived transaction
    await cluster.startStatefulSet(pitr.latest!.workload.name);
    const latestRows = await local(pitr.latest!.workload.podName(0), 'SELECT note, count(*) FROM orders GROUP BY note ORDER BY note');
    console.log(`PostgreSQL pgBackRest: restored ${pitr.latest!.workload.podName(0)} to the end of the archive: ${latestRows.split('\n').join(', ')}`);
    expect(latestRows.split('\n')).toEqual(['after target|300', 'before backup|1000', 'before target|500']);
  }, 420000);
});
