import { Chart, Size, Testing } from 'cdk8s';
import { MySqlFlavor, MySqlReplicaSet, Resources, Storage } from '../../src';
import { LocalCluster } from './harness/cluster';
import { describeWithNamespaces, until } from './harness/testing';

// A MariaDB primary and two replicas, exactly as rendered, on Debian's
// mariadb-server: passwords come from the Secret the generator Job creates,
// replicas configure GTID replication themselves, rows written on the primary
// reach both replicas, and replicas refuse writes.


describeWithNamespaces('MySqlReplicaSet (MariaDB flavor) on real MariaDB servers', () => {
  const chart = new Chart(Testing.app(), 'e2e', { namespace: 'orders' });
  const db = new MySqlReplicaSet(chart, 'db', {
    flavor: MySqlFlavor.mariadb(), replicas: 3, databases: ['shop'], users: [{ name: 'app', databases: ['shop'] }],
    storage: Storage.persistent({ size: Size.gibibytes(1) }),
    resources: Resources.of({ cpuMillis: 200, memory: Size.mebibytes(512) }),
  });
  const objects = Testing.synth(chart);
  const pods = [0, 1, 2].map((i) => db.workload.podName(i));
  const generator = objects.find((o) => o.kind === 'Job' && o.metadata.annotations?.['cdk8s-stateful.io/generates-secret']).metadata.name;
  let cluster: LocalCluster;
  let secret: { [key: string]: string };
  const sql = (pod: string, host: string, user: string, password: string, query: string) =>
    cluster.exec(pod, ['mariadb', '-N', '-h', host, `-u${user}`, `-p${password}`, 'shop', '-e', query]);

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
});
