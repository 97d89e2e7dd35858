import { Chart, Cron, Duration, Testing } from 'cdk8s';
import { BackupTarget, MySqlFlavor, MySqlReplicaSet, MySqlReplicaSetProps, S3UriStyle } from '../../src';
import { k8s } from '../../src/core/private/k8s';
import { only, synthValid } from '../support/manifest';

// The manifest of monitoring, backups and restores: the exporter sidecar and
// its alerts, the dump and restore-verify CronJobs, the restore init
// container, and every prop check. (Every synthesized script is shellchecked
// by synthValid; test/mysql/operations-scripts.test.ts runs them.)

function chart(): Chart {
  return new Chart(Testing.app(), 'test', { namespace: 'shop' });
}
const S3_SECRET = { 's3-creds': ['access-key-id', 'secret-access-key'] };
const s3 = (prefix?: string) => BackupTarget.s3({
  endpoint: 'minio.backup.svc:9000', bucket: 'db-backups', credentialsSecret: 's3-creds', uriStyle: S3UriStyle.PATH, ...(prefix ? { prefix } : {}),
});
const podSpec = (objects: any[]) => only(objects, 'StatefulSet').spec.template.spec;
const container = (spec: any, name: string) => [...(spec.initContainers ?? []), ...spec.containers].find((c: any) => c.name === name);
const cronJob = (objects: any[], name: string) => only(objects, 'CronJob', name);
const jobPod = (cj: any) => cj.spec.jobTemplate.spec.template.spec;
const script = (c: any) => c.command[2] as string;

describe('MySqlReplicaSet monitoring', () => {
  test('adds a restricted mysqld_exporter sidecar with its own resources, reading an option file an init container writes from the exporter key only', () => {
    // GIVEN
    const c = chart();
    const db = new MySqlReplicaSet(c, 'orders', { monitoring: {} });
    // WHEN
    const objects = synthValid(c);
    // THEN the sidecar runs the pinned image with the flags of every exporter from 0.14 on
    const pod = podSpec(objects);
    const exporter = container(pod, 'exporter');
    expect(exporter.image).toBe('docker.io/prom/mysqld-exporter:v0.17.2');
    expect([...exporter.command, ...exporter.args]).toEqual([
      'mysqld_exporter', '--config.my-cnf=/var/run/mysqld-exporter/my.cnf', '--web.listen-address=:9104',
      '--collect.global_status', '--collect.global_variables', '--collect.slave_status', '--exporter.lock_wait_timeout=2',
    ]);
    expect(exporter.ports).toEqual([{ name: 'metrics', containerPort: 9104, protocol: 'TCP' }]);
    expect(exporter.resources).toEqual({ requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '64Mi' } });
    expect(exporter.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
    // no probe: a failing exporter must not take the member out of its Services
    expect([exporter.readinessProbe, exporter.livenessProbe, exporter.startupProbe]).toEqual([undefined, undefined, undefined]);
    expect(exporter.volumeMounts).toContainEqual({ name: 'exporter', mountPath: '/var/run/mysqld-exporter', readOnly: true });
    expect(exporter.env).toBeUndefined();
    // AND the init container sees only the exporter's password
    const init = container(pod, 'exporter-cnf');
    expect(init.command).toEqual(['bash', '/opt/cdk8s/mysql/exporter-cnf.sh']);
    const secretVolume = pod.volumes.find((v: any) => v.name === 'exporter-credentials');
    expect(secretVolume.secret).toMatchObject({ secretName: db.credentials.secretName, items: [{ key: 'exporter-password', path: 'exporter-password' }] });
    expect(pod.volumes.find((v: any) => v.name === 'exporter').emptyDir).toEqual({ medium: 'Memory', sizeLimit: '1Mi' });
    // AND the generated Secret gets an exporter password; passwordKey knows the user
    expect(db.credentials.keys).toContain('exporter-password');
    expect(db.passwordKey('exporter')).toBe('exporter-password');
    // AND start.sh creates the user on the primary with its grants and 3 connections
    const start = only(objects, 'ConfigMap').data['start.sh'];
    expect(start).toContain("CREATE USER IF NOT EXISTS 'exporter'@'127.0.0.1' IDENTIFIED BY ${exporter_q} WITH MAX_USER_CONNECTIONS 3;");
    expect(start).toContain("GRANT PROCESS, REPLICATION CLIENT, SELECT ON *.* TO 'exporter'@'127.0.0.1';");
  });

  test('MariaDB\'s exporter also gets SLAVE MONITOR, which SHOW ALL SLAVES STATUS needs since 10.5.9', () => {
    const c = chart();
    new MySqlReplicaSet(c, 'orders', { flavor: MySqlFlavor.mariadb(), monitoring: {} });
    expect(only(synthValid(c), 'ConfigMap').data['start.sh']).toContain("GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT ON *.* TO 'exporter'@'127.0.0.1';");
  });

  test('the metrics port is open to every namespace, a ServiceMonitor scrapes it, and exporterImage replaces the image', () => {
    const c = chart();
    new MySqlReplicaSet(c, 'orders', { monitoring: { labels: { release: 'prom' } }, exporterImage: 'registry.example.com/mysqld-exporter:v0.16.0' });
    const objects = synthValid(c);
    expect(container(podSpec(objects), 'exporter').image).toBe('registry.example.com/mysqld-exporter:v0.16.0');
    const policy = only(objects, 'NetworkPolicy');
    expect(policy.spec.ingress).toContainEqual({ from: [{ namespaceSelector: {} }], ports: [{ port: 'metrics', protocol: 'TCP' }] });
    const monitor = only(objects, 'ServiceMonitor');
    expect(monitor.metadata.labels.release).toBe('prom');
    expect(monitor.spec.endpoints[0]).toMatchObject({ port: 'metrics', path: '/metrics' });
  });

  test('alerts: member down, replication stopped or lagging, connections near max_connections, then the shared ones; maxReplicaLag is the lag threshold', () => {
    // GIVEN a lag limit of 2 minutes
    const c = chart();
    new MySqlReplicaSet(c, 'orders', { monitoring: {}, maxReplicaLag: Duration.minutes(2) });
    // WHEN
    const groups = only(synthValid(c), 'PrometheusRule').spec.groups;
    // THEN the set's own group comes first (test/mysql/alerts.test.ts evaluates every rule with promtool)
    expect(groups.map((g: any) => g.rules.map((r: any) => r.alert))).toEqual([
      ['MySQLDown', 'MySQLReplicationStopped', 'MySQLReplicationLag', 'MySQLTooManyConnections'],
      ['StatefulSetReplicasMismatch', 'StatefulSetGenerationMismatch', 'StatefulSetUpdateNotRolledOut', 'VolumeFillingUp', 'VolumeAlmostFull'],
    ]);
    const lag = groups[0].rules.find((r: any) => r.alert === 'MySQLReplicationLag');
    expect(lag.expr).toMatch(/ > 120$/);
    expect(lag.annotations.summary).toBe('Replica {{ $labels.pod }} of shop/test-orders is more than 120 s behind the primary');
    for (const r of groups.flatMap((g: any) => g.rules)) expect(Object.keys(r.annotations).sort()).toEqual(['description', 'runbook_url', 'summary']);
  });

  test('a set without replicas has no replication alerts; with backup, BackupTooOld watches the dump CronJob with maxAge as its threshold', () => {
    // GIVEN a monitored set of one with backups that may be 30 hours old
    const c = chart();
    const db = new MySqlReplicaSet(c, 'orders', { replicas: 1, monitoring: {}, backup: { maxAge: Duration.hours(30) } });
    // WHEN
    const objects = synthValid(c);
    const rules = only(objects, 'PrometheusRule').spec.groups.flatMap((g: any) => g.rules);
    // THEN
    expect(rules.map((r: any) => r.alert)).toEqual([
      'MySQLDown', 'MySQLTooManyConnections',
      'StatefulSetReplicasMismatch', 'StatefulSetGenerationMismatch', 'StatefulSetUpdateNotRolledOut', 'VolumeFillingUp', 'VolumeAlmostFull', 'BackupTooOld',
    ]);
    const backup = rules.find((r: any) => r.alert === 'BackupTooOld');
    const watched = [...new Set([...backup.expr.matchAll(/cronjob=~"([^"]+)"/g)].flatMap((m: RegExpMatchArray) => m[1].split('|')))];
    expect(watched).toEqual([db.backupCronJob!.name]);
    expect(objects.filter((o) => o.kind === 'CronJob').map((o) => o.metadata.name)).toContain(db.backupCronJob!.name);
    expect(backup.expr).toContain('> 30 * 3600');
    expect(backup.annotations.summary).toBe('No backup of shop/test-orders succeeded in the last 30 hours');
  });

  test('without monitoring, backup renders no alerts', () => {
    const c = chart();
    new MySqlReplicaSet(c, 'orders', { backup: {} });
    expect(synthValid(c).filter((o) => o.kind === 'PrometheusRule' || o.kind === 'ServiceMonitor')).toEqual([]);
  });
});

describe('MySqlReplicaSet backup to a claim', () => {
  test('a CronJob: daily at 02:30, Forbid, deadlines, bounded retries, dumping from the replicas into the backup claim as the backup user', () => {
    // GIVEN
    const c = chart();
    const db = new MySqlReplicaSet(c, 'orders', { backup: {} });
    // WHEN
    const objects = synthValid(c);
    // THEN
    const cj = cronJob(objects, 'test-orders-backup');
    expect(db.backupCronJob!.name).toBe('test-orders-backup');
    expect(cj.spec).toMatchObject({ schedule: '30 2 * * *', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 3600 });
    expect(cj.spec.jobTemplate.spec).toMatchObject({ backoffLimit: 2, activeDeadlineSeconds: 21600 });
    const pod = jobPod(cj);
    expect(pod.initContainers ?? []).toEqual([]);
    const dump = container(pod, 'dump');
    expect(dump.image).toBe('docker.io/library/mysql:8.4.8');
    // the replicas, in order; never the primary while a replica exists
    expect(script(dump)).toContain(`hosts=(${db.podFqdn(1)} ${db.podFqdn(2)})`);
    expect(script(dump)).not.toContain(db.podFqdn(0));
    expect(script(dump)).toContain("| sort -r | tail -n +8)");
    expect(dump.env).toContainEqual({ name: 'MYSQL_BACKUP_PASSWORD', valueFrom: { secretKeyRef: { name: db.credentials.secretName, key: 'backup-password' } } });
    // the claim test-orders-backup, created for it and mounted read-write at /backup
    const claim = only(objects, 'PersistentVolumeClaim', 'test-orders-backup');
    expect(claim.spec.resources.requests.storage).toBe('50Gi');
    expect(pod.volumes).toContainEqual({ name: 'backup', persistentVolumeClaim: { claimName: 'test-orders-backup' } });
    expect(dump.volumeMounts).toContainEqual({ name: 'backup', mountPath: '/backup' });
    // the user and its grants, and the key in the generated Secret
    expect(db.credentials.keys).toContain('backup-password');
    const start = only(objects, 'ConfigMap').data['start.sh'];
    expect(start).toContain("CREATE USER IF NOT EXISTS 'backup'@'%' IDENTIFIED BY ${backup_q} WITH MAX_USER_CONNECTIONS 2;");
    expect(start).toContain("GRANT SELECT, SHOW VIEW, TRIGGER, LOCK TABLES, EVENT, RELOAD, REPLICATION CLIENT ON *.* TO 'backup'@'%';");
    // the dump's pods may reach the SQL port
    expect(only(objects, 'NetworkPolicy').spec.ingress).toContainEqual({
      from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/component': 'backup', 'app.kubernetes.io/instance': 'test-orders' } } }],
      ports: [{ port: 'mysql', protocol: 'TCP' }],
    });
    expect(pod.containers[0].securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true });
  });

  test('a restore-verify CronJob reads the same claim read-only and has a scratch volume for its server', () => {
    const c = chart();
    const db = new MySqlReplicaSet(c, 'orders', { flavor: MySqlFlavor.mariadb(), backup: { verifySchedule: Cron.daily(), verifyQuery: 'SELECT COUNT(*) FROM shop.orders' } });
    const cj = cronJob(synthValid(c), 'test-orders-restore-verify');
    expect(db.restoreVerifyCronJob!.name).toBe('test-orders-restore-verify');
    expect(cj.spec).toMatchObject({ schedule: '0 0 * * *', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 3600 });
    expect(cj.spec.jobTemplate.spec).toMatchObject({ backoffLimit: 1, activeDeadlineSeconds: 21600 });
    const pod = jobPod(cj);
    const verify = container(pod, 'verify');
    expect(verify.volumeMounts).toContainEqual({ name: 'backup', mountPath: '/backup', readOnly: true });
    expect(pod.volumes).toContainEqual({ name: 'backup', persistentVolumeClaim: { claimName: 'test-orders-backup' } });
    expect(pod.volumes).toContainEqual({ name: 'scratch', emptyDir: {} });
    expect(script(verify)).toContain('SELECT COUNT(*) FROM shop.orders');
    expect(script(verify)).toContain('mariadb-install-db --defaults-file="$cnf"');
    expect(verify.env).toEqual([{ name: 'HOME', value: '/tmp' }]);
  });

  test('a set of one dumps from the primary; schedule, keep, timeout and an existing claim are honoured', () => {
    const c = chart();
    new k8s.KubePersistentVolumeClaim(c, 'nfs', {
      metadata: { name: 'nfs-backups' },
      spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: k8s.Quantity.fromString('100Gi') } } },
    });
    const db = new MySqlReplicaSet(c, 'orders', {
      replicas: 1,
      backup: { schedule: Cron.schedule({ minute: '0', hour: '*/6' }), keep: 3, timeout: Duration.hours(2), target: BackupTarget.volume({ existingClaim: 'nfs-backups' }) },
    });
    const objects = synthValid(c);
    const cj = cronJob(objects, 'test-orders-backup');
    expect(cj.spec.schedule).toBe('0 */6 * * *');
    expect(cj.spec.jobTemplate.spec.activeDeadlineSeconds).toBe(7200);
    const pod = jobPod(cj);
    expect(script(pod.containers[0])).toContain(`hosts=(${db.podFqdn(0)})`);
    expect(script(pod.containers[0])).toContain('tail -n +4)');
    expect(pod.volumes).toContainEqual({ name: 'backup', persistentVolumeClaim: { claimName: 'nfs-backups' } });
    expect(objects.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => o.metadata.name)).toEqual(['nfs-backups']);
  });

  test('credentials reach every container from Secrets only: no env value holds a password or key', () => {
    const c = chart();
    new MySqlReplicaSet(c, 'orders', { monitoring: {}, backup: { target: s3() }, restore: { source: s3('old') } });
    const objects = synthValid(c, { externalSecrets: S3_SECRET });
    const pods = [podSpec(objects), ...objects.filter((o) => o.kind === 'CronJob').map(jobPod)];
    const env = pods.flatMap((p) => [...(p.initContainers ?? []), ...p.containers]).flatMap((x: any) => x.env ?? []);
    const secretEnv = env.filter((e: any) => /PASSWORD|AWS_/.test(e.name));
    expect(secretEnv.map((e: any) => e.name).sort()).toEqual([
      'AWS_ACCESS_KEY_ID', 'AWS_ACCESS_KEY_ID', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SECRET_ACCESS_KEY', 'AWS_SECRET_ACCESS_KEY', 'MYSQL_BACKUP_PASSWORD',
    ]);
    for (const e of secretEnv) expect(e).toEqual({ name: e.name, valueFrom: { secretKeyRef: expect.objectContaining({ key: expect.any(String) }) } });
  });
});

describe('MySqlReplicaSet backup to S3', () => {
  test('the dump runs in an init container into scratch space, and the uploader ships it with the target Secret\'s credentials', () => {
    // GIVEN
    const c = chart();
    const db = new MySqlReplicaSet(c, 'orders', { backup: { target: s3(), keep: 4 } });
    // WHEN
    const objects = synthValid(c, { externalSecrets: S3_SECRET });
    // THEN no claim; the dump writes to an emptyDir the uploader reads
    expect(objects.filter((o) => o.kind === 'PersistentVolumeClaim')).toEqual([]);
    const pod = jobPod(cronJob(objects, 'test-orders-backup'));
    expect(pod.volumes).toContainEqual({ name: 'backup', emptyDir: {} });
    expect(pod.initContainers.map((x: any) => x.name)).toEqual(['dump']);
    // the dump keeps nothing itself: the bucket's retention is the uploader's
    expect(script(pod.initContainers[0])).not.toContain('tail -n +');
    const upload = container(pod, 'upload');
    expect(upload.image).toBe('docker.io/amazon/aws-cli:2.27.0');
    expect(upload.volumeMounts).toContainEqual({ name: 'backup', mountPath: '/backup', readOnly: true });
    expect(upload.env.filter((e: any) => e.name.startsWith('AWS_'))).toEqual([
      { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 's3-creds', key: 'access-key-id' } } },
      { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: 's3-creds', key: 'secret-access-key' } } },
    ]);
    expect(script(upload)).toContain('target=s3://db-backups/test-orders');
    expect(script(upload)).toContain('aws --endpoint-url https://minio.backup.svc:9000 s3 cp "${archives[0]}.sha256" "$target/$name.sha256"');
    expect(script(upload)).toContain('keep=4');
    // AND the restore-verify Job downloads the newest into scratch space first
    const verify = jobPod(cronJob(objects, 'test-orders-restore-verify'));
    expect(verify.initContainers.map((x: any) => x.name)).toEqual(['download']);
    expect(verify.volumes).toContainEqual({ name: 'backup', emptyDir: {} });
    expect(db.backupCronJob).toBeDefined();
  });
});

describe('MySqlReplicaSet restore', () => {
  test('from a bucket: an init container downloads the dump onto the claim of a fresh primary; start.sh verifies and loads it first', () => {
    // GIVEN
    const c = chart();
    new MySqlReplicaSet(c, 'orders', { restore: { source: s3('orders-old'), backup: 'dump-20260101T023000Z.sql.gz' } });
    // WHEN
    const objects = synthValid(c, { externalSecrets: S3_SECRET });
    // THEN
    const pod = podSpec(objects);
    expect(pod.initContainers.map((x: any) => x.name)).toEqual(['identity', 'restore']);
    const restore = container(pod, 'restore');
    expect(restore.image).toBe('docker.io/amazon/aws-cli:2.27.0');
    expect(restore.command).toEqual(['bash', '/opt/cdk8s/mysql/restore.sh']);
    expect(restore.volumeMounts).toContainEqual({ name: 'data', mountPath: '/var/lib/mysql' });
    expect(restore.env.map((e: any) => e.name)).toEqual(['HOME', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
    const files = only(objects, 'ConfigMap').data;
    expect(files['restore.sh']).toContain('target=s3://db-backups/orders-old');
    expect(files['restore.sh']).toContain('name=dump-20260101T023000Z.sql.gz');
    expect(files['start.sh']).toContain('  if ((ordinal == 0)); then find_backup; fi');
    expect(files['start.sh']).toContain('    load_backup\n    initialize_primary');
  });

  test('from a claim in this namespace: every member mounts it read-only, and the set\'s own backups go elsewhere', () => {
    const c = chart();
    new k8s.KubePersistentVolumeClaim(c, 'old', {
      metadata: { name: 'orders-old-backup' },
      spec: { accessModes: ['ReadOnlyMany'], resources: { requests: { storage: k8s.Quantity.fromString('10Gi') } } },
    });
    new MySqlReplicaSet(c, 'orders', { restore: { source: BackupTarget.volume({ existingClaim: 'orders-old-backup' }) }, backup: {} });
    const objects = synthValid(c);
    const pod = podSpec(objects);
    expect(pod.volumes).toContainEqual({ name: 'restore-source', persistentVolumeClaim: { claimName: 'orders-old-backup' } });
    const restore = container(pod, 'restore');
    expect(restore.image).toBe('docker.io/library/mysql:8.4.8');
    expect(restore.volumeMounts).toContainEqual({ name: 'restore-source', mountPath: '/backup', readOnly: true });
    expect(only(objects, 'PersistentVolumeClaim', 'test-orders-backup')).toBeDefined();
  });

  test('without restore start.sh has no restore step', () => {
    const c = chart();
    new MySqlReplicaSet(c, 'orders');
    const start = only(synthValid(c), 'ConfigMap').data['start.sh'];
    expect(start).not.toContain('find_backup');
    expect(start).not.toContain('/var/lib/mysql/restore');
  });
});

describe('MySqlReplicaSet operations props are checked', () => {
  const P = "MySqlReplicaSet 'test/orders': ";
  test.each<[string, MySqlReplicaSetProps, string]>([
    ['exporterImage without monitoring', { exporterImage: 'prom/mysqld-exporter:v0.17.2' }, `${P}exporterImage applies with monitoring only`],
    ['an unpinned exporterImage', { monitoring: {}, exporterImage: 'prom/mysqld-exporter' },
      `${P}exporterImage must be an image reference with a pinned tag or digest, e.g. 'registry.example.com/tools:1.2.3', got the string 'prom/mysqld-exporter'`],
    ['a latest exporterImage', { monitoring: {}, exporterImage: 'prom/mysqld-exporter:latest' }, `${P}exporterImage must be an image reference with a pinned tag or digest`],
    ['a user named exporter with monitoring', { monitoring: {}, users: [{ name: 'exporter' }] }, `${P}users 'exporter' is reserved for the metrics exporter (monitoring)`],
    ['a user named backup with backup', { backup: {}, users: [{ name: 'backup' }] }, `${P}users 'backup' is reserved for the backup CronJob (backup)`],
    ['keep 0', { backup: { keep: 0 } }, `${P}backup.keep must be an integer from 1 to 1000, got 0`],
    ['a timeout under 5 minutes', { backup: { timeout: Duration.minutes(1) } }, `${P}backup.timeout (minutes) must be an integer from 5 to 10080, got 1`],
    ['a maxAge under an hour', { backup: { maxAge: Duration.minutes(30) } }, `${P}backup.maxAge (hours) must be an integer from 1 to 8784, got 0.5`],
    ['an uploaderImage for a claim', { backup: { uploaderImage: 'amazon/aws-cli:2.27.0' } },
      `${P}backup.uploaderImage applies to BackupTarget.s3(...) only: a volume target needs no uploader`],
    ['a multi-line verifyQuery', { backup: { verifyQuery: 'SELECT 1;\nSELECT 2' } },
      `${P}backup.verifyQuery must be one SQL query on one line whose first value is true for a good backup, e.g. 'SELECT COUNT(*) FROM shop.orders', got the string`],
    ['an empty verifyQuery', { backup: { verifyQuery: ' ' } }, `${P}backup.verifyQuery must be one SQL query on one line`],
    ['a bad bucket', { backup: { target: BackupTarget.s3({ endpoint: 'e', bucket: 'B!', credentialsSecret: 's' }) } }, `${P}backup.target bucket must be a bucket name`],
    ['a restore claim source without existingClaim', { restore: { source: BackupTarget.volume() } },
      `${P}restore.source must name the claim that holds the backups: BackupTarget.volume({ existingClaim: '<name>-backup' })`],
    ['a restore bucket source without prefix', { restore: { source: BackupTarget.s3({ endpoint: 'e', bucket: 'bkt', credentialsSecret: 's' }) } },
      `${P}restore.source prefix must be set to where the backed-up set wrote`],
    ['a restore backup that is not a dump name', { restore: { source: s3('old'), backup: 'latest.sql' } },
      `${P}restore.backup must be a dump's name such as 'dump-20260101T023000Z.sql.gz', got the string 'latest.sql'`],
    ['a downloaderImage for a claim', { restore: { source: BackupTarget.volume({ existingClaim: 'c' }), downloaderImage: 'amazon/aws-cli:2.27.0' } },
      `${P}restore.downloaderImage applies to BackupTarget.s3(...) only`],
  ])('invalid operations props throw: %s', (_what, props, message) => {
    expect(() => new MySqlReplicaSet(chart(), 'orders', props)).toThrow(message);
  });

  test.each<[string, any, string]>([
    ['backup as a string', { backup: 'daily' }, `${P}backup must be { target, schedule, keep, ... }, got the string 'daily'`],
    ['a target that is a plain object', { backup: { target: { bucket: 'b' } } }, `${P}backup.target must be BackupTarget.volume({...}) or BackupTarget.s3({...})`],
    ['a schedule as a string', { backup: { schedule: '0 3 * * *' } }, `${P}backup.schedule must be a Cron such as Cron.daily()`],
    ['maxAge in seconds', { backup: { maxAge: 3600 } }, `${P}backup.maxAge must be a Duration such as Duration.hours(48)`],
    ['a restore without source', { restore: {} }, `${P}restore.source is required: the BackupTarget the backups were written to`],
    ['restore as true', { restore: true }, `${P}restore must be { source, backup }, got true`],
    ['a number as exporterImage', { monitoring: {}, exporterImage: 17 }, `${P}exporterImage must be an image reference with a pinned tag or digest`],
  ])('wrong types from JavaScript throw a clear error: %s', (_what, props, message) => {
    expect(() => new MySqlReplicaSet(chart(), 'orders', props)).toThrow(message);
  });

  test('a good exporter image by digest is accepted', () => {
    expect(() => new MySqlReplicaSet(chart(), 'orders', { monitoring: {}, exporterImage: `registry.local:5000/exporter@sha256:${'ab'.repeat(32)}` })).not.toThrow();
  });
});
