import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { gunzipSync } from 'zlib';
import { Chart, Size, Testing } from 'cdk8s';
import { BackupTarget, MySqlFlavor, MySqlReplicaSet, MySqlReplicaSetProps, Resources, S3UriStyle, Storage } from '../../src';
import { k8s } from '../../src/core/private/k8s';
import { scraped } from '../support/alert-cases';
import { havePromtool, seriesFromScrape, testRules } from '../support/promtool';
import { BinaryShim, LocalCluster } from './harness/cluster';
import { describeWithNamespaces, until } from './harness/testing';

// Day-2 operations of a MariaDB replica set, exactly as rendered, on Debian's
// MariaDB 10.11 and prometheus-mysqld-exporter 0.14:
// - the mysqld_exporter sidecar runs with the rendered arguments and option
//   file, as the `exporter` user, and its /metrics show both members up and
//   the replica's replication threads;
// - the backup CronJob dumps from the replica (consistent, with the GTID
//   position), uploads the dump after its sha256, and keeps the newest two;
// - a fresh set in another namespace restores the newest dump on its
//   primary's first initialization, its replica catches up, and every table
//   has the same rows and CHECKSUM TABLE as the original;
// - the restore-verify CronJob loads the newest dump into a scratch server
//   without networking and runs the check query;
// - a corrupted dump is refused by the restore-verify Job and by a fresh
//   primary, with a message naming the file and both checksums.
//
// The bucket is a stand-in: an `aws` executable that keeps objects as files
// in a directory every pod of the harness sees (its API stand-in's store),
// after checking the endpoint, path-style addressing and the credentials
// that the manifest's secretKeyRefs deliver. No S3 service runs here, and
// the harness cannot mount a PersistentVolumeClaim in a Job or a pod
// template, so the claim target runs in the unit tests (test/mysql) only.

const ENDPOINT = 's3.backup.e2e.internal';
const BUCKET = 'db-backups';
const ACCESS_KEY = 'e2e-access-key';
const SECRET_KEY = 'e2e-secret-key-0123456789';

const AWS_SHIM: BinaryShim = {
  name: 'aws',
  manifest: `aws (AWS CLI v2 of docker.io/amazon/aws-cli) against https://${ENDPOINT}`,
  local: 'an aws stand-in for `s3 cp|ls|rm` that keeps the bucket as files under the harness\'s shared store (/e2e-api/secrets/.s3), '
    + 'refusing another endpoint, host-style addressing or other credentials',
  why: 'no S3 service and no container images here; the uploader\'s and downloaders\' scripts run unchanged',
  script: `set -euo pipefail
store=/e2e-api/secrets/.s3
endpoint=
args=()
while (($#)); do
  case "$1" in
    --endpoint-url) endpoint=$2; shift 2 ;;
    --no-verify-ssl) echo "aws stand-in: TLS verification must stay on" >&2; exit 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
[[ "$endpoint" == https://${ENDPOINT} ]] || { echo "aws stand-in: unexpected endpoint '$endpoint'" >&2; exit 2; }
[[ "\${AWS_ACCESS_KEY_ID:-}" == ${ACCESS_KEY} && "\${AWS_SECRET_ACCESS_KEY:-}" == ${SECRET_KEY} ]] || {
  echo "An error occurred (InvalidAccessKeyId): The AWS Access Key Id you provided does not exist in our records." >&2; exit 1; }
grep -q 'addressing_style = path' "\${AWS_CONFIG_FILE:?}" || { echo "aws stand-in: the endpoint needs path-style addressing" >&2; exit 2; }
[[ "\${args[0]:-}" == s3 ]] || { echo "aws stand-in: only s3 commands" >&2; exit 2; }
file() { echo "$store/\${1#s3://}"; }
case "\${args[1]:-}" in
  cp)
    src=\${args[2]} dst=\${args[3]}
    if [[ "$src" == s3://* ]]; then
      [[ -f "$(file "$src")" ]] || { echo "fatal error: An error occurred (404) when calling the HeadObject operation: Not Found" >&2; exit 1; }
      cp "$(file "$src")" "$dst"
      echo "download: $src to $dst"
    else
      mkdir -p "$(dirname "$(file "$dst")")"
      cp "$src" "$store/.incoming.$$"
      mv "$store/.incoming.$$" "$(file "$dst")"
      echo "upload: $src to $dst"
    fi ;;
  ls)
    dir=$(file "\${args[2]}")
    [[ -d "$dir" ]] || exit 1
    for f in "$dir"/*; do
      [[ -f "$f" ]] && printf '%s %10d %s\\n' "$(date -u -r "$f" '+%Y-%m-%d %H:%M:%S')" "$(stat -c %s "$f")" "$(basename "$f")"
    done
    true ;;
  rm) rm "$(file "\${args[2]}")"; echo "delete: \${args[2]}" ;;
  *) echo "aws stand-in: unsupported s3 command \${args[1]:-}" >&2; exit 2 ;;
esac`,
};

const EXPORTER_SHIM: BinaryShim = {
  name: 'mysqld_exporter',
  manifest: 'mysqld_exporter (docker.io/prom/mysqld-exporter, /bin on PATH)',
  local: 'Debian\'s prometheus-mysqld-exporter 0.14.0 with the same arguments',
  why: 'no container images here; Debian names the binary differently',
  script: 'exec /usr/bin/prometheus-mysqld-exporter "$@"',
};

function target(prefix?: string): BackupTarget {
  return BackupTarget.s3({ endpoint: ENDPOINT, bucket: BUCKET, credentialsSecret: 'backup-s3', uriStyle: S3UriStyle.PATH, ...(prefix ? { prefix } : {}) });
}

function mariaDbChart(namespace: string, name: string, props: MySqlReplicaSetProps): { chart: Chart; db: MySqlReplicaSet } {
  const chart = new Chart(Testing.app(), namespace, { namespace });
  new k8s.KubeSecret(chart, 'S3', { metadata: { name: 'backup-s3' }, stringData: { 'access-key-id': ACCESS_KEY, 'secret-access-key': SECRET_KEY } });
  const db = new MySqlReplicaSet(chart, 'db', {
    name, flavor: MySqlFlavor.mariadb(), databases: ['shop'], users: [{ name: 'app', databases: ['shop'] }],
    storage: Storage.persistent({ size: Size.gibibytes(1) }),
    resources: Resources.of({ cpuMillis: 200, memory: Size.mebibytes(512) }),
    ...props,
  });
  return { chart, db };
}

const TABLES = ['shop.orders', 'shop.items', 'shop.notes'];
const DATA_SQL = `
CREATE TABLE orders (id INT PRIMARY KEY, customer VARCHAR(40), total DECIMAL(10,2), created DATETIME);
INSERT INTO orders SELECT seq, CONCAT('customer-', seq % 97), seq * 1.25, '2026-01-01' + INTERVAL seq MINUTE FROM seq_1_to_3000;
CREATE TABLE items (id INT PRIMARY KEY AUTO_INCREMENT, order_id INT, sku CHAR(8), qty SMALLINT, KEY (order_id));
INSERT INTO items (order_id, sku, qty) SELECT seq % 3000 + 1, LPAD(HEX(seq * 7919), 8, '0'), seq % 5 + 1 FROM seq_1_to_2500;
CREATE TABLE notes (id INT PRIMARY KEY, body TEXT, raw VARBINARY(64));
INSERT INTO notes SELECT seq, REPEAT(CONCAT('note ', seq, ' '), 20), UNHEX(SHA2(seq, 256)) FROM seq_1_to_500;
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 3000;
CREATE TRIGGER items_qty BEFORE INSERT ON items FOR EACH ROW SET NEW.qty = GREATEST(NEW.qty, 1);
CREATE PROCEDURE order_count() SELECT COUNT(*) FROM orders;
`;

describeWithNamespaces('MySqlReplicaSet operations (MariaDB): exporter, backups, restore on real servers', () => {
  const source = mariaDbChart('orders', 'orders', {
    replicas: 2, monitoring: {},
    backup: { target: target(), keep: 2, verifyQuery: 'SELECT COUNT(*) FROM shop.orders WHERE customer = \'customer-1\'' },
  });
  const restored = mariaDbChart('restored', 'orders-restored', { replicas: 2, restore: { source: target('orders') } });
  const corrupt = mariaDbChart('corrupt', 'orders-corrupt', { replicas: 1, restore: { source: target('orders') } });
  const objects = [...Testing.synth(source.chart), ...Testing.synth(restored.chart), ...Testing.synth(corrupt.chart)];
  const generator = (ns: string) => objects.find((o) => o.kind === 'Job' && o.metadata.namespace === ns && o.metadata.annotations?.['cdk8s-stateful.io/generates-secret']).metadata.name;
  const pod = (db: MySqlReplicaSet, i: number) => db.workload.podName(i);
  let cluster: LocalCluster;
  const bucketDir = () => path.join(cluster.dir, 'api-secrets', '.s3', BUCKET, 'orders');
  const rootSql = async (db: MySqlReplicaSet, i: number, query: string) => {
    const password = cluster.secret(db.credentials.secretName)['root-password'];
    const r = await cluster.exec(pod(db, i), ['mariadb', '--protocol=socket', '-S', '/var/run/mysqld/mysqld.sock', '-uroot', `-p${password}`, '-N', '-B', '-e', query]);
    if (r.code !== 0) throw new Error(`${pod(db, i)}: ${query}\n${r.output}`);
    return r.output.trim();
  };
  /** Row count and CHECKSUM TABLE of every table, and the routines, triggers and views, of one member. */
  const fingerprint = async (db: MySqlReplicaSet, i: number) => ({
    tables: Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, {
      rows: Number(await rootSql(db, i, `SELECT COUNT(*) FROM ${t}`)),
      checksum: (await rootSql(db, i, `CHECKSUM TABLE ${t}`)).split('\t')[1],
    }]))),
    objects: await rootSql(db, i, "SELECT GROUP_CONCAT(x ORDER BY x) FROM (SELECT CONCAT('view ', table_name) x FROM information_schema.views WHERE table_schema = 'shop' "
      + "UNION SELECT CONCAT('trigger ', trigger_name) FROM information_schema.triggers WHERE trigger_schema = 'shop' "
      + "UNION SELECT CONCAT('routine ', routine_name) FROM information_schema.routines WHERE routine_schema = 'shop') o"),
  });
  const bucket = () => (fs.existsSync(bucketDir()) ? fs.readdirSync(bucketDir()).sort() : []);
  const dumps = () => bucket().filter((f) => /^dump-.*\.sql\.gz$/.test(f));

  beforeAll(async () => {
    cluster = new LocalCluster(objects, {
      readyTimeoutMs: 120000,
      binaries: [AWS_SHIM, EXPORTER_SHIM],
      notes: [{
        manifest: 'image docker.io/library/mariadb:11.4.4',
        local: 'Debian\'s MariaDB 10.11 (mariadbd, mariadb, mariadb-dump, mariadb-admin, mariadb-install-db)',
        why: 'no container images here; the rendered SQL and dump options are ones both versions support',
      }],
    });
    console.log(`substitutions (MariaDB operations):\n${cluster.table()}`);
    await cluster.runJob(generator('orders'));
    await cluster.startStatefulSet(source.db.workload.name);
  }, 300000);
  afterAll(async () => {
    await cluster?.destroy();
  }, 120000);

  test('the exporter sidecar logs in as its own user and shows both members up and the replica replicating', async () => {
    // GIVEN data on the primary that reached the replica
    expect((await cluster.exec(pod(source.db, 0), ['mariadb', '--protocol=socket', '-S', '/var/run/mysqld/mysqld.sock', '-uroot',
      `-p${cluster.secret(source.db.credentials.secretName)['root-password']}`, 'shop', '-e', DATA_SQL])).code).toBe(0);
    const primary = await fingerprint(source.db, 0);
    await until('the replica to catch up', 60000, async () => (JSON.stringify(await fingerprint(source.db, 1)) === JSON.stringify(primary) ? true : undefined));
    // WHEN Prometheus would scrape each member's metrics port
    const metrics = async (i: number) => (await cluster.exec(pod(source.db, i), ['curl', '-fsS', 'http://127.0.0.1:9104/metrics'], { container: 'exporter' })).output;
    const replica = await until('the replica\'s slave status series', 60000, async () => {
      const m = await metrics(1);
      return /^mysql_slave_status_slave_sql_running\{.*\} 1$/m.test(m) ? m : undefined;
    });
    const onPrimary = await metrics(0);
    // THEN both are up, the replica's threads run without lag, and the connection gauges the alerts use are there
    expect(onPrimary).toMatch(/^mysql_up 1$/m);
    expect(replica).toMatch(/^mysql_up 1$/m);
    const series = (name: string) => replica.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
    expect(series('mysql_slave_status_slave_io_running')).toMatch(new RegExp(`master_host="${source.db.podFqdn(0).replace(/\./g, '\\.')}".* 1$`));
    expect(series('mysql_slave_status_slave_sql_running')).toMatch(/ 1$/);
    expect(series('mysql_slave_status_seconds_behind_master')).toMatch(/ 0$/);
    expect(onPrimary).toMatch(/^mysql_global_variables_max_connections 200$/m);
    expect(onPrimary).toMatch(/^mysql_global_status_threads_connected \d+$/m);
    expect(onPrimary).not.toMatch(/^mysql_slave_status_slave_io_running/m);
    // AND every metric the set's own rules read is served (MySQL 8.4's replica_* names are alternatives MariaDB does not give),
    // and promtool, fed both pages as the ServiceMonitor labels them, finds none of those alerts firing
    const rule = objects.find((o) => o.kind === 'PrometheusRule' && o.metadata.namespace === 'orders');
    const own = rule.spec.groups[0].rules;
    const used = [...new Set(own.flatMap((r: any) => r.expr.match(/mysql_[a-z_]+(?=\{)/g) as string[]))].filter((m) => !/replica_|_source$/.test(m as string)) as string[];
    for (const m of used) expect({ metric: m, served: [onPrimary, replica].some((p) => new RegExp(`^${m}[{ ]`, 'm').test(p)) }).toEqual({ metric: m, served: true });
    if (havePromtool()) {
      const input = Object.assign({}, ...[onPrimary, replica].map((p, i) => seriesFromScrape(p, used, scraped('orders', 'orders', i, 'exporter', 9104))));
      const r = testRules([rule], own.map((x: any) => ({ name: `${x.alert} on the scraped pages`, alert: x.alert, at: '10m', series: input, fires: [] })));
      expect(r.ok || r.output).toBe(true);
    }
    // AND the exporter's user has only its grants, three connections, and no way in from another pod
    const exporter = "'exporter'@'127.0.0.1'";
    expect(await rootSql(source.db, 1, `SHOW GRANTS FOR ${exporter}`)).toMatch(/^GRANT SELECT, PROCESS, (REPLICATION CLIENT|BINLOG MONITOR), SLAVE MONITOR ON \*\.\* TO `exporter`@`127\.0\.0\.1`/);
    expect(await rootSql(source.db, 0, "SELECT max_user_connections FROM mysql.user WHERE user = 'exporter'")).toBe('3');
    const remote = await cluster.exec(pod(source.db, 1), ['mariadb', '-h', source.db.podFqdn(0), '-uexporter', `-p${cluster.secret(source.db.credentials.secretName)['exporter-password']}`, '-e', 'SELECT 1']);
    expect(remote.output).toMatch(/Access denied/);
    console.log(`mysqld_exporter 0.14 (Debian) with the rendered args: ${pod(source.db, 0)} mysql_up 1; ${pod(source.db, 1)} mysql_up 1, ${series('mysql_slave_status_slave_io_running')}, ${series('mysql_slave_status_seconds_behind_master')}`);
  }, 180000);

  test('the backup CronJob dumps the replica with its GTID position, uploads the dump after its sha256, and keeps the newest two', async () => {
    // WHEN the CronJob runs
    const started = Date.now();
    const log = await cluster.runCronJob(source.db.backupCronJob!.name, 180000);
    const seconds = (Date.now() - started) / 1000;
    // THEN one dump and its checksum are in the bucket, no temporary object, and the checksum matches
    expect(bucket()).toEqual([dumps()[0], `${dumps()[0]}.sha256`]);
    const name = dumps()[0];
    const bytes = fs.readFileSync(path.join(bucketDir(), name));
    const sum = createHash('sha256').update(bytes).digest('hex');
    expect(fs.readFileSync(path.join(bucketDir(), `${name}.sha256`), 'utf-8')).toBe(`${sum}  ${name}\n`);
    expect(cluster.logs(`${source.db.backupCronJob!.name}-e2e1`, 100)).toContain(`sha256 ${sum}`);
    expect(log).toContain(`uploaded s3://${BUCKET}/orders/${name}`);
    // AND it was taken from the replica, records the GTID position, and holds the routines and triggers
    const sql = gunzipSync(bytes).toString('utf-8');
    expect(cluster.logs(`${source.db.backupCronJob!.name}-e2e1`, 100)).toContain(`dumping shop from ${source.db.podFqdn(1)}`);
    expect(sql).toContain(`-- Host: ${source.db.podFqdn(1)}`);
    const gtid = /^-- SET GLOBAL gtid_slave_pos='(0-100-\d+)';$/m.exec(sql);
    expect(gtid).not.toBeNull();
    expect(gtid![1]).toBe(await rootSql(source.db, 0, 'SELECT @@gtid_binlog_pos'));
    expect(sql).toMatch(/CREATE DEFINER=\S+ PROCEDURE `order_count`/);
    expect(sql).toMatch(/\*\/ \/\*!50003 TRIGGER items_qty BEFORE INSERT ON items FOR EACH ROW/);
    expect(sql).toMatch(/VIEW `big_orders`/);
    expect(sql).not.toMatch(/^CREATE DATABASE .*`mysql`/m);
    expect(sql.trim().split('\n').pop()).toMatch(/^-- Dump completed on /);
    console.log(`backup: ${name}, ${bytes.length} bytes gzipped (${sql.length} bytes of SQL), sha256 ${sum}, GTID ${gtid![1]}, from ${source.db.podFqdn(1)}, job ${seconds.toFixed(1)} s`);

    // WHEN it runs twice more (a dump's name carries the second it started)
    for (let run = 0; run < 2; run++) {
      await new Promise((r) => setTimeout(r, 1100));
      await cluster.runCronJob(source.db.backupCronJob!.name, 180000);
    }
    // THEN only the newest two remain, each with its checksum
    const kept = dumps();
    expect(kept).toHaveLength(2);
    expect(kept[0] > name).toBe(true);
    expect(bucket()).toEqual(kept.flatMap((d) => [d, `${d}.sha256`]));
    console.log(`retention (keep 2) after 3 runs: ${kept.join(', ')}`);
  }, 600000);

  test('a fresh set in another namespace restores the newest dump; both its members match the original table by table', async () => {
    // GIVEN the original's data
    const original = await fingerprint(source.db, 0);
    // WHEN a new set with restore starts
    const started = Date.now();
    await cluster.runJob(generator('restored'));
    await cluster.startStatefulSet(restored.db.workload.name);
    const seconds = (Date.now() - started) / 1000;
    // THEN the primary loaded the newest dump after verifying it, and its replica caught up from its binary log
    const primaryLog = cluster.logs(pod(restored.db, 0), 200);
    const newest = dumps()[1];
    expect(primaryLog).toContain(`sha256 of ${newest} verified`);
    expect(primaryLog).toContain(`restored ${newest}`);
    expect(await fingerprint(restored.db, 0)).toEqual(original);
    const replica = await until('the restored replica to catch up', 60000, async () => {
      const f = await fingerprint(restored.db, 1);
      return JSON.stringify(f) === JSON.stringify(original) ? f : undefined;
    });
    expect(replica).toEqual(original);
    // AND the restored set has its own accounts (from its Secret), not the original's
    const own = cluster.secret(restored.db.credentials.secretName)['app-password'];
    expect(own).not.toBe(cluster.secret(source.db.credentials.secretName)['app-password']);
    const app = await cluster.exec(pod(restored.db, 1), ['mariadb', '-N', '-h', restored.db.primaryHost, '-uapp', `-p${own}`, 'shop', '-e', 'SELECT COUNT(*) FROM orders']);
    expect(app.output.trim()).toBe(String(original.tables['shop.orders'].rows));
    console.log(`restore into namespace restored: ${newest} loaded by ${pod(restored.db, 0)}, set Ready in ${seconds.toFixed(1)} s; `
      + `per table (rows, CHECKSUM TABLE) on both members = original: ${JSON.stringify(original.tables)}; ${original.objects}`);
  }, 400000);

  test('the restore-verify CronJob loads the newest dump into a scratch server and runs the check query', async () => {
    const started = Date.now();
    const log = await cluster.runCronJob(source.db.restoreVerifyCronJob!.name, 240000);
    expect(log).toContain(`sha256 of ${dumps()[1]} verified`);
    expect(log).toMatch(new RegExp(`restore of ${dumps()[1].replace(/\./g, '\\.')} verified: 4 tables, check query returned 31$`, 'm'));
    console.log(`restore-verify: ${log.split('\n').find((l) => l.startsWith('restore of '))} (job ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }, 300000);

  test('a corrupted dump is refused by the restore-verify Job and by a fresh primary, naming the file and both checksums', async () => {
    // GIVEN the newest dump with one byte changed in the middle
    const newest = dumps()[1];
    const file = path.join(bucketDir(), newest);
    const bytes = fs.readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    fs.writeFileSync(file, bytes);
    const recorded = fs.readFileSync(`${file}.sha256`, 'utf-8').split(' ')[0];
    const actual = createHash('sha256').update(bytes).digest('hex');
    const refusal = `refusing to restore ${newest}: its sha256 is ${actual} but ${newest}.sha256 records ${recorded}; the backup is corrupt`;
    // WHEN the restore-verify Job runs, THEN it fails with the refusal
    await expect(cluster.runCronJob(source.db.restoreVerifyCronJob!.name, 120000)).rejects.toThrow(refusal);
    // WHEN a fresh set would restore it, THEN its primary stops with the refusal and loads nothing
    await cluster.runJob(generator('corrupt'));
    await expect(cluster.startStatefulSet(corrupt.db.workload.name)).rejects.toThrow(refusal);
    console.log(`corrupted backup refused: ${refusal}`);
  }, 300000);
});
