import { Chart, Size, Testing } from 'cdk8s';
import { MySqlReplicaSet, MySqlFlavor, Storage, Resources } from '../../src';
import { LocalCluster } from '../e2e/harness/cluster';
import { canCreateNamespaces } from '../e2e/harness/sandbox';
import { synthValid } from '../support/manifest';

const enabled = canCreateNamespaces();
const testIf = enabled ? test : test.skip;

// Real MariaDB processes run the rendered my.cnf, identity.sh and start.sh.
testIf('MariaDB: the primary takes writes, replicas catch up by GTID, refuse writes and restart idempotently', async () => {
  const chart = new Chart(Testing.app(), 'm', { namespace: 'e2e' });
  const db = new MySqlReplicaSet(chart, 'db', { flavor: MySqlFlavor.mariadb(), databases: ['shop'], users: [{ name: 'app', databases: ['shop'] }],
    storage: Storage.persistent({ size: Size.gibibytes(1) }), resources: Resources.of({ cpuMillis: 100, memory: Size.mebibytes(512) }) });
  const objects = synthValid(chart);
  const cluster = new LocalCluster(objects, { readyTimeoutMs: 120000 });
  try {
    await cluster.runJob('m-db-credentials-generate');
    await cluster.startStatefulSet('m-db');
    const pw = cluster.secret('m-db-credentials')['app-password'];
    await cluster.sh('m-db-0', `mariadb -h ${db.podFqdn(0)} -uapp -p'${pw}' shop -e "CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1),(2);"`);
    await new Promise((r) => setTimeout(r, 2000));
    for (const pod of ['m-db-1', 'm-db-2']) {
      expect(await cluster.sh(pod, `mariadb -N -h ${pod}.m-db-headless.e2e.svc.cluster.local -uapp -p'${pw}' shop -e "SELECT COUNT(*) FROM t"`)).toContain('2');
      const status = await cluster.sh(pod, 'mariadb --defaults-extra-file=/var/run/mysqld/client.cnf -e "SHOW REPLICA STATUS\\G"');
      expect(status).toMatch(/Slave_IO_Running: Yes/);
      expect(status).toMatch(/Using_Gtid: Slave_Pos/);
    }
    expect((await cluster.sh('m-db-1', 'mariadb --defaults-extra-file=/var/run/mysqld/client.cnf -N -e "SELECT @@server_id"')).trim()).toBe('101');
    const r = await cluster.exec('m-db-1', ['bash', '-c', `mariadb -h ${db.podFqdn(1)} -uapp -p'${pw}' shop -e "INSERT INTO t VALUES (3)"`]);
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('read-only');
    await cluster.stopPod('m-db-1');
    await cluster.startPod('m-db', 1, { newAddress: true });
    await cluster.sh('m-db-0', `mariadb -h ${db.podFqdn(0)} -uapp -p'${pw}' shop -e "INSERT INTO t VALUES (3)"`);
    await new Promise((r) => setTimeout(r, 2000));
    expect((await cluster.sh('m-db-1', 'mariadb --defaults-extra-file=/var/run/mysqld/client.cnf -N -e "SELECT COUNT(*) FROM shop.t"')).trim()).toBe('3');
    expect(cluster.logs('m-db-1', 200)).not.toContain('did not finish');
  } catch (e) {
    for (let i = 0; i < 3; i++) console.log(cluster.logs(`m-db-${i}`, 30));
    throw e;
  } finally {
    await cluster.destroy();
  }
}, 400000);
