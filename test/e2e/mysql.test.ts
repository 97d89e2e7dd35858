import { Chart, Size, Testing } from 'cdk8s';
import { MySqlFlavor, MySqlReplicaSet, Resources, Storage } from '../../src';
import { LocalCluster } from './harness/cluster';
import { allowedClients, CONNECTED, describeWithNamespaces, DROPPED, startClientAndStranger, tcpConnect, until } from './harness/testing';

// A MariaDB primary and two replicas, exactly as rendered, on Debian's
// mariadb-server: passwords come from the Secret the generator Job creates,
// replicas configure GTID replication themselves, rows written on the primary
// reach both replicas, and replicas refuse writes. The rendered readiness
// probe follows replication health: a replica stopped by an SQL error, or
// cut off from a stopped primary, is not ready (yet alive), and after a
// primary outage longer than the retry interval the replicas reconnect by
// themselves. Clients are restricted to the test's allowed client pods: the
// members still replicate, and a stranger's connection is dropped.


describeWithNamespaces('MySqlReplicaSet (MariaDB flavor) on real MariaDB servers', () => {
  const chart = new Chart(Testing.app(), 'e2e', { namespace: 'orders' });
  const db = new MySqlReplicaSet(chart, 'db', {
    flavor: MySqlFlavor.mariadb(), replicas: 3, databases: ['shop'], users: [{ name: 'app', databases: ['shop'] }],
    storage: Storage.persistent({ size: Size.gibibytes(1) }),
    allowClientsFrom: [allowedClients(chart)],
    resources: Resources.of({ cpuMillis: 200, memory: Size.mebibytes(512) }),
  });
  const objects = Testing.synth(chart);
  const pods = [0, 1, 2].map((i) => db.workload.podName(i));
  const generator = objects.find((o) => o.kind === 'Job' && o.metadata.annotations?.['cdk8s-stateful.io/generates-secret']).metadata.name;
  let cluster: LocalCluster;
  let secret: { [key: string]: string };
  const sql = (pod: string, host: string, user: string, password: string, query: string) =>
    cluster.exec(pod, ['mariadb', '-N', '-h', host, `-u${user}`, `-p${password}`, 'shop', '-e', query]);
  // root over the pod's own socket (root may not log in over the network)
  const rootSql = (i: number, query: string) =>
    cluster.exec(pods[i], ['mariadb', '--protocol=socket', '-S', '/var/run/mysqld/mysqld.sock', '-uroot', `-p${secret['root-password']}`, '-e', query]);
  // the manifest's readiness probe, run in the pod as the kubelet would
  const main = db.workload.statefulSet.toJson().spec.template.spec.containers[0];
  const ready = (i: number) => cluster.exec(pods[i], main.readinessProbe.exec.command);
  const live = (i: number) => cluster.exec(pods[i], main.livenessProbe.exec.command);

  beforeAll(async () => {
    cluster = new LocalCluster(objects, {
      readyTimeoutMs: 90000,
      notes: [{
        manifest: `image ${db.workload.statefulSet.toJson().spec.template.spec.containers[0].image}`,
        local: 'Debian\'s MariaDB 10.11 (same executables: mariadbd, mariadb, mariadb-admin, mariadb-install-db)',
        why: 'no container images here; the rendered SQL uses only what both versions support',
      }],
    });
    console.log(`substitutions (MariaDB):\n${cluster.table()}`);
    await cluster.runJob(generator);
    secret = cluster.secret(db.credentials.secretName);
    await cluster.startStatefulSet(db.workload.name);
  }, 240000);
  afterAll(async () => {
    await cluster?.destroy();
  }, 60000);

  test('a row written on the primary appears on both replicas', async () => {
    const w = await sql(pods[0], db.primaryHost, 'app', secret['app-password'],
      'CREATE TABLE orders (id INT PRIMARY KEY, item VARCHAR(20)); INSERT INTO orders VALUES (1, "book"), (2, "pen"), (3, "lamp");');
    expect(w.code).toBe(0);
    const counts = await until('replication to both replicas', 30000, async () => {
      const c = await Promise.all([1, 2].map(async (i) => (await sql(pods[i], db.podFqdn(i), 'app', secret['app-password'], 'SELECT COUNT(*) FROM orders')).output.trim()));
      return c.every((x) => x === '3') ? c : undefined;
    });
    console.log(`MariaDB replication: primary ${pods[0]} wrote 3 rows; ${pods[1]} has ${counts[0]}, ${pods[2]} has ${counts[1]}`);
    expect(counts).toEqual(['3', '3']);
  }, 60000);

  test('replicas replicate from the primary with GTID as the replication user from the Secret', async () => {
    for (const i of [1, 2]) {
      // root may log in only over the local socket, with the Secret's password
      const status = (await cluster.exec(pods[i], ['mariadb', '--protocol=socket', '-S', '/var/run/mysqld/mysqld.sock', '-uroot', `-p${secret['root-password']}`, '-e', 'SHOW REPLICA STATUS\\G'])).output;
      expect(status).toMatch(/Slave_IO_Running: Yes/);
      expect(status).toMatch(/Slave_SQL_Running: Yes/);
      expect(status).toMatch(/Using_Gtid: Slave_Pos/);
      expect(status).toContain(`Master_Host: ${db.podFqdn(0)}`);
      expect(status).toMatch(/Master_User: replicator/);
    }
    // that user's password is the Secret's, and nothing else gets in
    const ok = await cluster.exec(pods[1], ['mariadb', '-h', db.podFqdn(0), '-ureplicator', `-p${secret['replication-password']}`, '-e', 'SELECT 1']);
    expect(ok.code).toBe(0);
    const bad = await cluster.exec(pods[1], ['mariadb', '-h', db.podFqdn(0), '-ureplicator', '-pnot-the-password', '-e', 'SELECT 1']);
    expect(bad.output).toMatch(/Access denied/);
    const remoteRoot = await cluster.exec(pods[1], ['mariadb', '-h', db.podFqdn(0), '-uroot', `-p${secret['root-password']}`, '-e', 'SELECT 1']);
    expect(remoteRoot.output).toMatch(/Access denied/);
    expect((await sql(pods[1], db.podFqdn(1), 'app', secret['app-password'], 'SELECT @@server_id')).output.trim()).toBe('101');
  });

  test('writing on a replica fails: it is read-only', async () => {
    for (const i of [1, 2]) {
      const r = await sql(pods[i], db.podFqdn(i), 'app', secret['app-password'], 'INSERT INTO orders VALUES (9, "nope")');
      expect(r.code).not.toBe(0);
      expect(r.output).toMatch(/read-only/);
    }
  });

  test('the NetworkPolicy admits an allowed client pod to the SQL port and drops a stranger\'s connection', async () => {
    // GIVEN a pod with the allowed client labels and a stranger without, in the database's namespace
    const { client, stranger } = await startClientAndStranger(cluster, 'sql', 'orders');
    const port = db.workload.port('mysql').port;
    // THEN the client queries the primary through its Service, and the stranger cannot even connect
    const q = await cluster.exec(client, ['mariadb', '-N', '-h', db.primaryHost, '-uapp', `-p${secret['app-password']}`, 'shop', '-e', 'SELECT COUNT(*) FROM orders']);
    expect(q.output.trim()).toBe('3');
    expect(await tcpConnect(cluster, client, db.primaryHost, port)).toBe(CONNECTED);
    expect(await tcpConnect(cluster, stranger, db.primaryHost, port)).toBe(DROPPED);
  }, 60000);

  test('no password appears in a ConfigMap or an env value of the manifest', () => {
    const text = JSON.stringify(objects.filter((o) => o.kind !== 'Secret'));
    for (const [key, value] of Object.entries(secret)) {
      expect({ key, found: text.includes(value) }).toEqual({ key, found: false });
    }
  });

  test('a replica restarted with a new address resumes replication', async () => {
    await cluster.stopPod(pods[2]);
    await sql(pods[0], db.primaryHost, 'app', secret['app-password'], 'INSERT INTO orders VALUES (4, "desk")');
    await cluster.startPod(db.workload.name, 2, { newAddress: true });
    const n = await until('the restarted replica to catch up', 30000, async () => {
      const c = (await sql(pods[2], db.podFqdn(2), 'app', secret['app-password'], 'SELECT COUNT(*) FROM orders')).output.trim();
      return c === '4' ? c : undefined;
    });
    expect(n).toBe('4');
  }, 90000);

  test('a replica whose replication breaks (an SQL error) is not ready, yet alive, until it is repaired', async () => {
    // GIVEN every replica ready
    expect((await ready(1)).code).toBe(0);
    expect((await ready(2)).code).toBe(0);
    // WHEN replica 1 holds a row the primary does not know (written outside its binary log), and the primary writes that key
    expect((await rootSql(1, 'SET SESSION sql_log_bin=0; INSERT INTO shop.orders VALUES (10, "clash")')).code).toBe(0);
    expect((await sql(pods[0], db.primaryHost, 'app', secret['app-password'], 'INSERT INTO orders VALUES (10, "chair")')).code).toBe(0);
    // THEN its SQL thread stops on the duplicate key and its readiness fails, while liveness keeps it running
    const broken = await until('the broken replica to be not ready', 30000, async () => {
      const r = await ready(1);
      return r.code !== 0 ? r.output : undefined;
    });
    expect(broken).toContain('SQL thread No');
    expect((await live(1)).code).toBe(0);
    // AND the harness's kubelet sees it too: it leaves the read Service, whose clients must
    // not read stale rows, while it stays in the headless Service, where its peers find it
    const readService = db.readService.metadata.name!;
    await until('the broken replica to leave the read Service', 30000, async () => (cluster.endpoints(readService).includes(pods[1]) ? undefined : true));
    expect(cluster.endpoints(readService)).toEqual([pods[0], pods[2]]);
    expect(cluster.endpoints(db.workload.headlessService.metadata.name!)).toEqual(pods);
    const status = (await rootSql(1, 'SHOW REPLICA STATUS\\G')).output;
    expect(status).toMatch(/Slave_SQL_Running: No/);
    expect(status).toMatch(/Last_SQL_Errno: 1062/);
    // AND the other replica stays ready
    expect((await ready(2)).code).toBe(0);
    // WHEN an operator removes the clash and restarts replication
    expect((await rootSql(1, 'SET SESSION sql_log_bin=0; DELETE FROM shop.orders WHERE id = 10; START REPLICA')).code).toBe(0);
    // THEN it applies the primary's row and is ready again
    await until('the repaired replica to be ready', 30000, async () => ((await ready(1)).code === 0 ? true : undefined));
    await until('the repaired replica back in the read Service', 30000, async () => (cluster.endpoints(readService).includes(pods[1]) ? true : undefined));
    expect((await sql(pods[1], db.podFqdn(1), 'app', secret['app-password'], 'SELECT item FROM orders WHERE id = 10')).output.trim()).toBe('chair');
    console.log(`MariaDB broken replication: ${pods[1]} not ready (${broken.trim()}), ready again after the repair`);
  }, 90000);

  test('the primary down longer than one retry interval: replicas are not ready meanwhile and reconnect by themselves', async () => {
    // GIVEN the primary stops
    const stopped = Date.now();
    await cluster.stopPod(pods[0]);
    // THEN both replicas lose their source: their IO threads retry, and they are not ready
    const outage = await Promise.all([1, 2].map((i) => until(`${pods[i]} to be not ready`, 30000, async () => {
      const r = await ready(i);
      return r.code !== 0 ? r.output.trim() : undefined;
    })));
    for (const o of outage) expect(o).toMatch(/IO thread (Connecting|No)/);
    // WHEN the primary comes back after more than two retry intervals (MASTER_CONNECT_RETRY=10), as a
    // rescheduled pod does: with a new address, which the replicas find by its name at their next attempt
    await new Promise((r) => setTimeout(r, Math.max(0, 25000 - (Date.now() - stopped))));
    await cluster.startPod(db.workload.name, 0, { newAddress: true });
    const downSeconds = Math.round((Date.now() - stopped) / 1000);
    expect(downSeconds).toBeGreaterThan(20);
    // THEN, with nobody restarting replication, a new row reaches both replicas and they are ready again
    expect((await sql(pods[0], db.primaryHost, 'app', secret['app-password'], 'INSERT INTO orders VALUES (11, "sofa")')).code).toBe(0);
    const counts = await until('both replicas to reconnect and catch up', 60000, async () => {
      const c = await Promise.all([1, 2].map(async (i) => (await sql(pods[i], db.podFqdn(i), 'app', secret['app-password'], 'SELECT COUNT(*) FROM orders WHERE id = 11')).output.trim()));
      return c.every((x) => x === '1') ? c : undefined;
    }).catch(async (e) => {
      const status = await Promise.all([1, 2].map(async (i) => (await rootSql(i, 'SHOW REPLICA STATUS\\G')).output));
      throw new Error(`${(e as Error).message}\n${status.join('\n')}`);
    });
    expect(counts).toEqual(['1', '1']);
    for (const i of [1, 2]) {
      await until(`${pods[i]} to be ready again`, 30000, async () => ((await ready(i)).code === 0 ? true : undefined));
      const status = (await rootSql(i, 'SHOW REPLICA STATUS\\G')).output;
      expect(status).toMatch(/Slave_IO_Running: Yes/);
      expect(status).toMatch(/Connect_Retry: 10/);
    }
    console.log(`MariaDB primary outage: ${pods[0]} down ${downSeconds} s (retry interval 10 s), back at a new address; replicas not ready meanwhile (${outage.join('; ')}), then reconnected by themselves and replicated row 11`);
  }, 180000);
});
