import { Chart, Cron, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { BackupTarget, S3UriStyle, Storage, ZooKeeperEnsemble, ZooKeeperEnsembleProps } from '../../src';
import { k8s } from '../../src/core/private/k8s';
import { only, synthValid } from '../support/manifest';

// The manifest of ZooKeeper backups and restores: the snapshot and
// restore-verify CronJobs, the AdminServer they use and who may reach it,
// the restore init containers, the alert, and every prop check. (Every
// synthesized script is shellchecked by synthValid; backup-scripts.test.ts
// runs them.)

function chart(): Chart {
  return new Chart(Testing.app(), 'test', { namespace: 'streaming' });
}
const S3_SECRET = { 's3-creds': ['access-key-id', 'secret-access-key'] };
const s3 = (prefix?: string) => BackupTarget.s3({
  endpoint: 'minio.backup.svc:9000', bucket: 'zk-backups', credentialsSecret: 's3-creds', uriStyle: S3UriStyle.PATH, ...(prefix ? { prefix } : {}),
});
const jobPod = (cj: any) => cj.spec.jobTemplate.spec.template.spec;
const podSpec = (objects: any[]) => only(objects, 'StatefulSet').spec.template.spec;
/** A container's mounts but the config files every container gets. */
const ownMounts = (c: any) => c.volumeMounts.filter((m: any) => !m.name.startsWith('config-'));
const zooCfg = (objects: any[]) => only(objects, 'ConfigMap').data['zoo.cfg'] as string;
const ensemble = (props: ZooKeeperEnsembleProps) => {
  const c = chart();
  // the claims a user brings
  for (const name of ['zk-snaps', 'zk-backup']) {
    new k8s.KubePersistentVolumeClaim(c, name, { metadata: { name }, spec: { accessModes: ['ReadOnlyMany'], resources: { requests: { storage: k8s.Quantity.fromString('1Gi') } } } });
  }
  const zk = new ZooKeeperEnsemble(c, 'zk', props);
  return { zk, objects: synthValid(c, { externalSecrets: S3_SECRET }) };
};

describe('ZooKeeperEnsemble backup', () => {
  test('renders a Forbid snapshot CronJob with a starting deadline, a run deadline and two retries, writing to a claim of its own', () => {
    // GIVEN
    const { zk, objects } = ensemble({ backup: {} });
    // WHEN
    const cj = only(objects, 'CronJob', 'test-zk-backup');
    // THEN
    expect(zk.backupCronJob!.name).toBe('test-zk-backup');
    expect(cj.spec).toMatchObject({ schedule: '15 2 * * *', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 3600 });
    expect(cj.spec.jobTemplate.spec).toMatchObject({ backoffLimit: 2, activeDeadlineSeconds: 3600 });
    const pod = jobPod(cj);
    expect(pod.containers.map((c: any) => c.name)).toEqual(['snapshot']);
    expect(pod.containers[0].image).toBe(ZooKeeperEnsemble.DEFAULT_IMAGE);
    expect(pod.volumes).toContainEqual({ name: 'backup', persistentVolumeClaim: { claimName: 'test-zk-backup' } });
    const claim = only(objects, 'PersistentVolumeClaim', 'test-zk-backup');
    expect(claim.spec.resources.requests.storage).toBe('50Gi');
    // the script asks every member's AdminServer in ordinal order and keeps 7
    const script = pod.containers[0].command[2];
    expect(script).toContain(`members=(${[0, 1, 2].map((i) => zk.podFqdn(i)).join(' ')})`);
    expect(script).toContain('"http://$h:8080/commands/snapshot?streaming=true"');
    expect(script).toContain('tail -n +8)');
  });

  test('schedule, keep, timeout and an existing claim are honoured', () => {
    const { objects } = ensemble({
      backup: { schedule: Cron.schedule({ minute: '0', hour: '*/6' }), keep: 3, timeout: Duration.minutes(20), target: BackupTarget.volume({ existingClaim: 'zk-snaps' }) },
    });
    const cj = only(objects, 'CronJob', 'test-zk-backup');
    expect(cj.spec.schedule).toBe('0 */6 * * *');
    expect(cj.spec.jobTemplate.spec.activeDeadlineSeconds).toBe(1200);
    expect(jobPod(cj).volumes).toContainEqual({ name: 'backup', persistentVolumeClaim: { claimName: 'zk-snaps' } });
    expect(objects.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => o.metadata.name)).toEqual(['zk-snaps', 'zk-backup']);
    expect(jobPod(cj).containers[0].command[2]).toContain('tail -n +4)');
  });

  test('turns the AdminServer on with snapshots, open to the members and the backup Job only, not to clients', () => {
    // GIVEN
    const { zk, objects } = ensemble({ backup: {} });
    // THEN zoo.cfg serves snapshots on 8080
    expect(zooCfg(objects)).toContain('admin.enableServer=true\nadmin.serverPort=8080\nadmin.snapshot.enabled=true\n');
    expect(podSpec(objects).containers[0].ports).toContainEqual({ name: 'admin', containerPort: 8080, protocol: 'TCP' });
    // AND the client Service does not carry it
    expect(only(objects, 'Service', 'test-zk').spec.ports.map((p: any) => p.name)).toEqual(['client']);
    // AND the policy admits the members and the backup Job's pods to it, and nobody else
    const ingress = only(objects, 'NetworkPolicy').spec.ingress;
    const toAdmin = ingress.filter((r: any) => r.ports.some((p: any) => p.port === 'admin'));
    const jobLabels = only(objects, 'CronJob', 'test-zk-backup').spec.jobTemplate.spec.template.metadata.labels;
    expect(toAdmin.map((r: any) => r.from)).toEqual([
      [{ podSelector: { matchLabels: zk.workload.selectorLabels } }],
      [{ podSelector: { matchLabels: { 'app.kubernetes.io/component': 'backup', 'app.kubernetes.io/instance': 'test-zk' } } }],
    ]);
    for (const [k, v] of Object.entries(toAdmin[1].from[0].podSelector.matchLabels)) expect(jobLabels[k]).toBe(v);
    // AND the verify Job's pods are not admitted (they only read the backups)
    const verifyLabels = only(objects, 'CronJob', 'test-zk-restore-verify').spec.jobTemplate.spec.template.metadata.labels;
    expect(verifyLabels['app.kubernetes.io/component']).toBe('restore-verify');
  });

  test('with adminServer the admin port stays a client port, and the backup Job is admitted even when clients are named', () => {
    const c = chart();
    const app = new Chart(c, 'app');
    const named = { podSelector: { matchLabels: { app: 'kafka' } } };
    new ZooKeeperEnsemble(c, 'zk', { adminServer: true, backup: {}, allowClientsFrom: [kplus.Pods.select(app, 'Kafka', { labels: { app: 'kafka' } })] });
    const objects = synthValid(c);
    expect(only(objects, 'Service', 'test-zk').spec.ports.map((p: any) => p.name)).toEqual(['client', 'admin']);
    const ingress = only(objects, 'NetworkPolicy').spec.ingress;
    expect(ingress).toContainEqual({ from: [named], ports: [{ port: 'client', protocol: 'TCP' }, { port: 'admin', protocol: 'TCP' }] });
    expect(ingress).toContainEqual({
      from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/component': 'backup', 'app.kubernetes.io/instance': 'test-zk' } } }],
      ports: [{ port: 'admin', protocol: 'TCP' }],
    });
  });

  test('without backup there is no snapshot setting, no admin port and no CronJob', () => {
    const { zk, objects } = ensemble({});
    expect(zooCfg(objects)).toContain('admin.enableServer=false\n');
    expect(zooCfg(objects)).not.toContain('admin.snapshot');
    expect(podSpec(objects).containers[0].ports.map((p: any) => p.name)).toEqual(['client', 'quorum', 'election']);
    expect(objects.filter((o) => o.kind === 'CronJob')).toEqual([]);
    expect(zk.backupCronJob).toBeUndefined();
    expect(zk.restoreVerifyCronJob).toBeUndefined();
  });

  test('the restore-verify CronJob reads the claim, runs a scratch server with the members\' heap and resources, and checks the verify path', () => {
    const { zk, objects } = ensemble({ backup: { verifyPath: '/brokers/ids', verifySchedule: Cron.schedule({ minute: '0', hour: '5' }) }, heap: Size.mebibytes(384) });
    const cj = only(objects, 'CronJob', 'test-zk-restore-verify');
    expect(zk.restoreVerifyCronJob!.name).toBe('test-zk-restore-verify');
    expect(cj.spec).toMatchObject({ schedule: '0 5 * * *', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 3600 });
    expect(cj.spec.jobTemplate.spec).toMatchObject({ backoffLimit: 1, activeDeadlineSeconds: 3600 });
    const pod = jobPod(cj);
    const verify = pod.containers[0];
    expect(verify.volumeMounts).toEqual([{ name: 'backup', mountPath: '/backup', readOnly: true }, { name: 'scratch', mountPath: '/tmp' }]);
    expect(pod.volumes).toContainEqual({ name: 'backup', persistentVolumeClaim: { claimName: 'test-zk-backup' } });
    expect(verify.env).toContainEqual({ name: 'ZK_SERVER_HEAP', value: '384' });
    expect(verify.resources).toEqual(podSpec(objects).containers[0].resources);
    expect(verify.command[2]).toContain('stat \'/brokers/ids\'');
  });

  test('an S3 target: the snapshot goes to scratch space and an uploader ships it with the Secret\'s keys; the verify Job downloads first', () => {
    const { objects } = ensemble({ backup: { target: s3(), keep: 4 } });
    const pod = jobPod(only(objects, 'CronJob', 'test-zk-backup'));
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['snapshot']);
    expect(pod.containers.map((c: any) => [c.name, c.image])).toEqual([['upload', 'docker.io/amazon/aws-cli:2.27.0']]);
    expect(pod.volumes).toContainEqual({ name: 'backup', emptyDir: {} });
    const upload = pod.containers[0];
    expect(upload.env).toContainEqual({ name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: 's3-creds', key: 'secret-access-key' } } });
    expect(upload.command[2]).toContain('target=s3://zk-backups/test-zk\n');
    expect(upload.command[2]).toContain('keep=4\n');
    // the snapshot script keeps nothing itself: the bucket's retention is the uploader's
    expect(pod.initContainers[0].command[2]).not.toContain('mapfile -t old');
    const verify = jobPod(only(objects, 'CronJob', 'test-zk-restore-verify'));
    expect(verify.initContainers.map((c: any) => c.name)).toEqual(['download']);
    expect(objects.filter((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name === 'test-zk-backup')).toEqual([]);
  });

  test('with monitoring, the shared BackupTooOld watches the snapshot CronJob (not the restore-verify one) with maxAge as its threshold', () => {
    const { objects } = ensemble({ backup: { maxAge: Duration.hours(30) }, monitoring: {} });
    const rules = only(objects, 'PrometheusRule').spec.groups.flatMap((g: any) => g.rules);
    const rule = rules.find((r: any) => r.alert === 'BackupTooOld');
    expect(rule.expr).toContain('cronjob=~"test-zk-backup"');
    expect(rule.expr).toContain('> 30 * 3600');
    expect(rule.annotations.summary).toBe('No backup of streaming/test-zk succeeded in the last 30 hours');
    expect(rules.map((r: any) => r.alert)).not.toContain('ZooKeeperBackupTooOld');
  });
});

describe('ZooKeeperEnsemble restore', () => {
  test('from a claim: every member runs restore.sh with the claim read-only before ZooKeeper starts', () => {
    const { objects } = ensemble({ restore: { source: BackupTarget.volume({ existingClaim: 'zk-backup' }), backup: 'snapshot-20260101T021500Z-300000a2c.zk.gz' } });
    const pod = podSpec(objects);
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['restore']);
    const restore = pod.initContainers[0];
    expect(restore.image).toBe(ZooKeeperEnsemble.DEFAULT_IMAGE);
    expect(ownMounts(restore)).toEqual([{ name: 'data', mountPath: '/data' }, { name: 'restore-source', mountPath: '/restore-source', readOnly: true }]);
    expect(pod.volumes).toContainEqual({ name: 'restore-source', persistentVolumeClaim: { claimName: 'zk-backup' } });
    expect(restore.command[2]).toContain('file="$source/snapshot-20260101T021500Z-300000a2c.zk.gz"');
  });

  test('from a bucket: a downloader fills /data/restore of a fresh member, then restore.sh installs it; the log volume is checked too', () => {
    const { objects } = ensemble({
      restore: { source: s3('zk'), downloaderImage: 'registry.example.com/aws-cli:2.27.0' },
      transactionLogStorage: Storage.persistent({ size: Size.gibibytes(2) }),
    });
    const pod = podSpec(objects);
    expect(pod.initContainers.map((c: any) => [c.name, c.image])).toEqual([
      ['restore-download', 'registry.example.com/aws-cli:2.27.0'], ['restore', ZooKeeperEnsemble.DEFAULT_IMAGE],
    ]);
    const [download, restore] = pod.initContainers;
    expect(download.command[2]).toContain('target=s3://zk-backups/zk\n');
    expect(download.command[2]).toContain('dir=/data/restore\n');
    expect(download.env).toContainEqual({ name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 's3-creds', key: 'access-key-id' } } });
    expect(ownMounts(restore)).toEqual([{ name: 'data', mountPath: '/data' }, { name: 'datalog', mountPath: '/datalog' }]);
    expect(ownMounts(download)).toEqual([{ name: 'data', mountPath: '/data' }, { name: 'datalog', mountPath: '/datalog' }, { name: 'tmp', mountPath: '/tmp' }]);
    expect(restore.command[2]).toContain('data_dirs=(/data/version-2 /datalog/version-2)');
  });
});

describe('ZooKeeperEnsemble backup and restore props are checked', () => {
  const cases: [string, ZooKeeperEnsembleProps, string][] = [
    ['backup not an object', { backup: 'daily' as any }, 'backup must be { target, schedule, keep, ... }, got the string \'daily\''],
    ['a target that is no BackupTarget', { backup: { target: { bucket: 'x' } as any } }, 'backup.target must be BackupTarget.volume({...}) or BackupTarget.s3({...})'],
    ['a bad bucket', { backup: { target: BackupTarget.s3({ endpoint: 'minio:9000', bucket: 'X', credentialsSecret: 's' }) } }, 'backup.target bucket must be a bucket name'],
    ['keep 0', { backup: { keep: 0 } }, 'backup.keep must be an integer from 1 to 1000, got 0'],
    ['a schedule string', { backup: { schedule: '0 2 * * *' as any } }, 'backup.schedule must be a Cron such as Cron.daily()'],
    ['a verify schedule string', { backup: { verifySchedule: 'weekly' as any } }, 'backup.verifySchedule must be a Cron such as Cron.weekly()'],
    ['a timeout under 5 minutes', { backup: { timeout: Duration.minutes(2) } }, 'backup.timeout (minutes) must be an integer from 5 to 10080, got 2'],
    ['a maxAge under an hour', { backup: { maxAge: Duration.minutes(30) } }, 'backup.maxAge (hours) must be an integer from 1 to 8784, got 0.5'],
    ['a relative verify path', { backup: { verifyPath: 'brokers' } }, 'backup.verifyPath must be an absolute znode path outside /zookeeper'],
    ['a verify path with a quote', { backup: { verifyPath: "/a'b" } }, 'backup.verifyPath must be an absolute znode path'],
    ['a verify path with ..', { backup: { verifyPath: '/a/../b' } }, "(no '.' or '..')"],
    ['a verify path in /zookeeper', { backup: { verifyPath: '/zookeeper/config' } }, 'outside /zookeeper'],
    ['an uploader for a volume', { backup: { uploaderImage: 'aws:2' } }, 'backup.uploaderImage applies to BackupTarget.s3(...) only'],
    ['an unpinned uploader', { backup: { target: s3(), uploaderImage: 'amazon/aws-cli:latest' } }, 'backup.uploaderImage must be an image reference with a pinned tag or digest'],
    ['extraConfig that moves the AdminServer', { backup: {}, extraConfig: { 'admin.serverPort': '9090' } }, "extraConfig key 'admin.serverPort' is not allowed with backup"],
    ['extraConfig that compresses snapshots', { backup: {}, extraConfig: { 'snapshot.compression.method': 'gz' } }, "extraConfig key 'snapshot.compression.method' is not allowed with backup"],
    ['extraConfig without the last zxid', { backup: {}, extraConfig: { 'serializeLastProcessedZxid.enabled': 'false' } }, "extraConfig key 'serializeLastProcessedZxid.enabled' is not allowed with backup"],
    ['extraConfig that turns snapshots off', { backup: {}, extraConfig: { 'admin.snapshot.enabled': 'false' } }, "extraConfig key 'admin.snapshot.enabled' is not allowed with backup"],
    ['restore not an object', { restore: 7 as any }, 'restore must be { source, backup }, got 7'],
    ['restore without a source', { restore: {} as any }, 'restore.source is required'],
    ['restore from a new claim', { restore: { source: BackupTarget.volume() } }, 'restore.source must name the claim that holds the snapshots'],
    ['restore from a bucket without prefix', { restore: { source: s3() } }, 'restore.source prefix must be set to where the backed-up ensemble wrote'],
    ['a backup name of another system', { restore: { source: s3('zk'), backup: 'dump-20260101T023000Z.sql.gz' } }, "restore.backup must be a snapshot's name"],
    ['a downloader for a claim', { restore: { source: BackupTarget.volume({ existingClaim: 'c' }), downloaderImage: 'aws:2' } }, 'restore.downloaderImage applies to BackupTarget.s3(...) only'],
  ];
  test.each(cases)('%s', (_, props, message) => {
    expect(() => new ZooKeeperEnsemble(chart(), 'zk', props)).toThrow(/^ZooKeeperEnsemble 'test\/zk': (backup|restore|extraConfig)/);
    expect(() => new ZooKeeperEnsemble(chart(), 'zk', props)).toThrow(message);
  });

  test('extraConfig keys that backups need are allowed without backup', () => {
    expect(() => new ZooKeeperEnsemble(chart(), 'zk', { extraConfig: { 'snapshot.compression.method': 'gz' } })).not.toThrow();
  });
});
