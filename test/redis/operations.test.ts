import { Chart, Cron, Duration, Size, Testing } from 'cdk8s';
import { BackupTarget, RedisCluster, RedisClusterProps, Resources, S3UriStyle } from '../../src';
import { k8s } from '../../src/core/private/k8s';
import { DEFAULT_AWS_CLI_IMAGE } from '../../src/core/s3';
import { DEFAULT_REDIS_EXPORTER_IMAGE } from '../../src/redis/settings';
import { objectsOf, only, synthValid } from '../support/manifest';

type Json = any;

function chart(namespace: string = 'cache'): Chart {
  return new Chart(Testing.app(), 'test', { namespace });
}

/** A claim the user made (e.g. a clone of a backup claim), so the manifest's references resolve. */
function userClaim(c: Chart, name: string): void {
  new k8s.KubePersistentVolumeClaim(c, name, {
    metadata: { name },
    spec: { accessModes: ['ReadOnlyMany'], resources: { requests: { storage: k8s.Quantity.fromString('10Gi') } } },
  });
}

function synth(props: RedisClusterProps): { objects: Json[]; rc: RedisCluster } {
  const c = chart();
  userClaim(c, 'redis-sets');
  const rc = new RedisCluster(c, 'cache', props);
  return { objects: synthValid(c, { externalSecrets: { 's3-creds': ['access-key-id', 'secret-access-key'] } }), rc };
}

const container = (pod: Json, name: string) => [...(pod.initContainers ?? []), ...pod.containers].find((c: Json) => c.name === name);
const podOf = (cron: Json) => cron.spec.jobTemplate.spec.template.spec;
const SECRET_ENV = (name: string, secret: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: secret, key } } });

describe('RedisCluster monitoring', () => {
  test('adds a redis_exporter sidecar: pinned image, loopback address, password from the Secret in REDIS_PASSWORD, never in its arguments', () => {
    const { objects } = synth({ monitoring: {} });
    const pod = only(objects, 'StatefulSet').spec.template.spec;
    const exporter = container(pod, 'exporter');
    expect(exporter.image).toBe(DEFAULT_REDIS_EXPORTER_IMAGE);
    expect(DEFAULT_REDIS_EXPORTER_IMAGE).toMatch(/^docker\.io\/oliver006\/redis_exporter:v\d+\.\d+\.\d+$/);
    expect(exporter.command).toEqual(['/redis_exporter']);
    expect(exporter.args).toEqual(['--redis.addr=redis://127.0.0.1:6379', '--web.listen-address=:9121']);
    expect(exporter.env).toEqual([SECRET_ENV('REDIS_PASSWORD', 'test-cache-credentials', 'password')]);
    expect(exporter.ports).toEqual([{ name: 'metrics', containerPort: 9121, protocol: 'TCP' }]);
    expect(exporter.resources).toEqual({ requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '64Mi' } });
    expect(exporter.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
    // a failing exporter must not make the node unready
    expect(exporter.readinessProbe).toBeUndefined();
  });

  test('without auth the exporter gets no password', () => {
    const { objects } = synth({ monitoring: {}, auth: false });
    expect(container(only(objects, 'StatefulSet').spec.template.spec, 'exporter').env).toBeUndefined();
  });

  test('the metrics port is open to every namespace in the NetworkPolicy and scraped by a ServiceMonitor with the given labels', () => {
    const { objects } = synth({ monitoring: { labels: { release: 'prom' }, interval: Duration.seconds(15) } });
    const rules = only(objects, 'NetworkPolicy').spec.ingress.filter((r: Json) => r.ports.some((p: Json) => p.port === 'metrics'));
    expect(rules).toEqual([{ from: [{ namespaceSelector: {} }], ports: [{ port: 'metrics', protocol: 'TCP' }] }]);
    const sm = only(objects, 'ServiceMonitor');
    expect(sm.metadata.labels.release).toBe('prom');
    expect(sm.spec.endpoints).toEqual([expect.objectContaining({ port: 'metrics', interval: '15s', path: '/metrics' })]);
    expect(only(objects, 'Service', 'test-cache-headless').spec.ports.map((p: Json) => p.name)).toContain('metrics');
  });

  test('alerts: node down, cluster state, slots, memory near maxmemory, rejected connections, a master short of replicas, then the shared ones', () => {
    const { objects } = synth({ monitoring: {}, masters: 4, replicasPerMaster: 2 });
    const groups = only(objects, 'PrometheusRule').spec.groups;
    // the cluster's own group comes first (test/redis/alerts.test.ts evaluates every rule with promtool)
    expect(groups.map((g: Json) => g.rules.map((r: Json) => r.alert))).toEqual([
      ['RedisNodeDown', 'RedisClusterStateNotOk', 'RedisClusterSlotsNotOk', 'RedisMemoryNearMax', 'RedisRejectedConnections', 'RedisMasterWithoutReplica'],
      ['StatefulSetReplicasMismatch', 'StatefulSetGenerationMismatch', 'StatefulSetUpdateNotRolledOut', 'VolumeFillingUp', 'VolumeAlmostFull'],
    ]);
    const byName = Object.fromEntries(groups[0].rules.map((r: Json) => [r.alert, r]));
    // the node count and replicasPerMaster are the structure's, not thresholds
    expect(byName.RedisNodeDown.annotations.summary).toBe('Fewer than 12 nodes of Redis Cluster cache/test-cache answer their exporter');
    expect(byName.RedisMasterWithoutReplica.annotations.summary).toBe('Redis master {{ $labels.pod }} of cache/test-cache has fewer than 2 connected replicas');
    for (const r of groups.flatMap((g: Json) => g.rules)) expect(Object.keys(r.annotations).sort()).toEqual(['description', 'runbook_url', 'summary']);
  });

  test('without replicas there is no replica alert', () => {
    const { objects } = synth({ monitoring: {}, replicasPerMaster: 0 });
    expect(only(objects, 'PrometheusRule').spec.groups[0].rules.map((r: Json) => r.alert)).not.toContain('RedisMasterWithoutReplica');
  });

  test('exporterImage replaces the default', () => {
    const { objects } = synth({ monitoring: {}, exporterImage: 'registry.example.com/redis_exporter:v1.45.0' });
    expect(container(only(objects, 'StatefulSet').spec.template.spec, 'exporter').image).toBe('registry.example.com/redis_exporter:v1.45.0');
  });
});

describe('RedisCluster backups', () => {
  test('a backup CronJob on a claim of its own: schedule, Forbid, deadlines, retries; the redis image with the password from the Secret', () => {
    const { objects, rc } = synth({ backup: { schedule: Cron.schedule({ minute: '15', hour: '1' }), keep: 3, timeout: Duration.hours(1) } });
    const cron = only(objects, 'CronJob', 'test-cache-backup');
    expect(rc.backupCronJob!.name).toBe('test-cache-backup');
    expect(cron.spec).toMatchObject({ schedule: '15 1 * * *', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 1800 });
    expect(cron.spec.jobTemplate.spec).toMatchObject({ backoffLimit: 2, activeDeadlineSeconds: 3600 });
    const pod = podOf(cron);
    expect(pod.automountServiceAccountToken).toBe(false);
    const backup = container(pod, 'backup');
    expect(backup.image).toBe('docker.io/library/redis:7.2.7');
    expect(backup.env).toEqual([SECRET_ENV('REDISCLI_AUTH', 'test-cache-credentials', 'password')]);
    expect(backup.command[2]).toContain('keep=3');
    expect(backup.command[2]).toContain('test-cache-5.test-cache-headless.cache.svc.cluster.local');
    expect(backup.volumeMounts).toEqual([{ name: 'backup', mountPath: '/backup' }]);
    expect(pod.volumes).toEqual([{ name: 'backup', persistentVolumeClaim: { claimName: 'test-cache-backup' } }]);
    const claim = only(objects, 'PersistentVolumeClaim', 'test-cache-backup');
    expect(claim.metadata.labels['app.kubernetes.io/component']).toBe('backup');
    expect(claim.spec.resources.requests.storage).toBe('50Gi');
  });

  test('the defaults: daily at 03:00, verify at 05:00, 7 sets, 2 hours', () => {
    const { objects } = synth({ backup: {} });
    const cron = only(objects, 'CronJob', 'test-cache-backup');
    expect(cron.spec.schedule).toBe('0 3 * * *');
    expect(cron.spec.jobTemplate.spec.activeDeadlineSeconds).toBe(7200);
    expect(container(podOf(cron), 'backup').command[2]).toContain('keep=7');
    expect(only(objects, 'CronJob', 'test-cache-backup-verify').spec.schedule).toBe('0 5 * * *');
  });

  test('the NetworkPolicy admits the backup Job\'s pods to the client port', () => {
    const { objects } = synth({ backup: {}, allowClientsFrom: [] });
    const labels = podOf(only(objects, 'CronJob', 'test-cache-backup')).containers && only(objects, 'CronJob', 'test-cache-backup').spec.jobTemplate.spec.template.metadata.labels;
    const rules = only(objects, 'NetworkPolicy').spec.ingress.filter((r: Json) => r.ports.some((p: Json) => p.port === 'client'));
    const admitted = rules.flatMap((r: Json) => r.from).map((f: Json) => f.podSelector.matchLabels);
    expect(admitted.some((sel: Json) => Object.entries(sel).every(([k, v]) => labels[k] === v))).toBe(true);
    expect(labels['app.kubernetes.io/component']).toBe('backup');
  });

  test('the restore-verify CronJob mounts the claim read-only, gets scratch space and the nodes\' resources, no password and no API access', () => {
    const { objects, rc } = synth({ backup: { target: BackupTarget.volume({ existingClaim: 'redis-sets' }) }, resources: Resources.of({ cpuMillis: 500, memory: Size.gibibytes(2) }) });
    expect(objectsOf(objects, 'PersistentVolumeClaim').map((o) => o.metadata.name)).toEqual(['redis-sets']);
    const cron = only(objects, 'CronJob', 'test-cache-backup-verify');
    expect(rc.backupVerifyCronJob!.name).toBe('test-cache-backup-verify');
    expect(cron.spec.concurrencyPolicy).toBe('Forbid');
    const pod = podOf(cron);
    const verify = container(pod, 'verify');
    expect(verify.command[2]).toContain('redis-check-rdb');
    expect(verify.env).toBeUndefined();
    expect(verify.resources.limits.memory).toBe('2048Mi');
    expect(verify.volumeMounts).toEqual([{ name: 'backup', mountPath: '/backup', readOnly: true }, { name: 'tmp', mountPath: '/tmp' }]);
    expect(pod.volumes).toEqual([{ name: 'backup', persistentVolumeClaim: { claimName: 'redis-sets' } }, { name: 'tmp', emptyDir: {} }]);
  });

  test('to S3: the set goes to scratch space, an aws-cli uploader ships it with the target Secret\'s keys; nothing secret in plain text', () => {
    const target = BackupTarget.s3({ endpoint: 'minio.backup.svc:9000', bucket: 'redis-backups', credentialsSecret: 's3-creds', uriStyle: S3UriStyle.PATH, region: 'eu-west-1' });
    const { objects } = synth({ backup: { target, keep: 4 } });
    expect(objectsOf(objects, 'PersistentVolumeClaim').map((o) => o.metadata.name)).toEqual(['redis-sets']);
    const pod = podOf(only(objects, 'CronJob', 'test-cache-backup'));
    expect(pod.initContainers.map((c: Json) => c.name)).toEqual(['backup']);
    const upload = container(pod, 'upload');
    expect(upload.image).toBe(DEFAULT_AWS_CLI_IMAGE);
    expect(upload.command[2]).toContain('target=s3://redis-backups/test-cache');
    expect(upload.command[2]).toContain('aws --endpoint-url https://minio.backup.svc:9000 s3 "$@"');
    expect(upload.command[2]).toContain('keep=4');
    expect(upload.env).toEqual([
      { name: 'HOME', value: '/tmp' },
      SECRET_ENV('AWS_ACCESS_KEY_ID', 's3-creds', 'access-key-id'),
      SECRET_ENV('AWS_SECRET_ACCESS_KEY', 's3-creds', 'secret-access-key'),
    ]);
    expect(pod.volumes).toEqual([{ name: 'backup', emptyDir: {} }, { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }]);
    const verifyPod = podOf(only(objects, 'CronJob', 'test-cache-backup-verify'));
    expect(verifyPod.initContainers.map((c: Json) => c.name)).toEqual(['download']);
    expect(container(verifyPod, 'download').env).toEqual(upload.env);
    // every credential is a secretKeyRef: no value of a password or key is rendered
    const envs = objects.flatMap((o) => JSON.stringify(o).match(/"env":\[[^\]]*\]/g) ?? []);
    expect(envs.join()).not.toMatch(/"name":"(AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|REDISCLI_AUTH|REDIS_PASSWORD)","value"/);
  });

  test('with monitoring, BackupTooOld watches the backup CronJob (not the verify one) with maxAge as its threshold', () => {
    const { objects, rc } = synth({ monitoring: {}, backup: { maxAge: Duration.hours(30) } });
    const rules = only(objects, 'PrometheusRule').spec.groups.flatMap((g: Json) => g.rules);
    expect(rules.map((r: Json) => r.alert).filter((n: string) => n.includes('Backup'))).toEqual(['BackupTooOld']);
    const backup = rules.find((r: Json) => r.alert === 'BackupTooOld');
    const watched = [...new Set([...backup.expr.matchAll(/cronjob=~"([^"]+)"/g)].flatMap((m: RegExpMatchArray) => m[1].split('|')))];
    expect(watched).toEqual([rc.backupCronJob!.name]);
    expect(backup.expr).toContain('> 30 * 3600');
    expect(backup.annotations.summary).toBe('No backup of cache/test-cache succeeded in the last 30 hours');
  });
});

describe('RedisCluster restore', () => {
  test('each node loads its shard in an init container from the restore claim (read-only), and the bootstrap Job forms the cluster with the set\'s slots', () => {
    const { objects, rc } = synth({ restore: { source: BackupTarget.volume({ existingClaim: 'redis-sets' }), backupSet: '20261201T030000Z' } });
    const pod = only(objects, 'StatefulSet').spec.template.spec;
    const init = container(pod, 'restore');
    expect(pod.initContainers.map((c: Json) => c.name)).toEqual(['restore']);
    expect(init.command[2]).toContain('masters=3');
    expect(init.command[2]).toContain("set_name='20261201T030000Z'");
    expect(init.volumeMounts).toEqual(expect.arrayContaining([
      { name: 'restore', mountPath: '/restore', readOnly: true }, { name: 'data', mountPath: '/data' }, { name: 'run', mountPath: '/run/redis' },
    ]));
    expect(init.env).toBeUndefined();
    expect(pod.volumes).toContainEqual({ name: 'restore', persistentVolumeClaim: { claimName: 'redis-sets' } });
    const job = only(objects, 'Job', rc.bootstrapJob.name);
    const boot = job.spec.template.spec.containers[0];
    expect(boot.command[2]).toContain('cluster addslots');
    expect(boot.command[2]).not.toContain('--cluster create');
    expect(boot.volumeMounts).toEqual([{ name: 'restore', mountPath: '/restore', readOnly: true }]);
    expect(job.spec.template.spec.volumes).toEqual([{ name: 'restore', persistentVolumeClaim: { claimName: 'redis-sets' } }]);
    // a restoring cluster's bootstrap is another Job than a fresh one's
    expect(rc.bootstrapJob.name).not.toBe(new RedisCluster(chart(), 'cache').bootstrapJob.name);
  });
});

describe('RedisCluster operations: invalid props', () => {
  const s3 = BackupTarget.s3({ endpoint: 's3.example.com', bucket: 'b-1', credentialsSecret: 'creds' });
  test.each([
    ['exporterImage without monitoring', { exporterImage: 'x/y:1' }, 'exporterImage needs monitoring: the exporter runs only when metrics are scraped'],
    ['exporterImage as a number', { monitoring: {}, exporterImage: 7 }, "exporterImage must be an image reference (a string such as 'registry.example.com/name:1.2.3'), got 7"],
    ['exporterImage without a tag', { monitoring: {}, exporterImage: 'oliver006/redis_exporter' }, "container 'exporter' image 'oliver006/redis_exporter' has no tag"],
    ['backup as a string', { backup: 'daily' }, "backup must be { target, schedule, keep, ... }, got the string 'daily'"],
    ['backup.target as a plain object', { backup: { target: { bucket: 'b' } } }, 'backup.target must be BackupTarget.volume({...}) or BackupTarget.s3({...}), got a plain object'],
    ['backup.target with a bad bucket', { backup: { target: BackupTarget.s3({ endpoint: 's3.example.com', bucket: 'B', credentialsSecret: 'c' }) } }, 'backup.target bucket must be a bucket name'],
    ['backup.uploaderImage with a volume target', { backup: { uploaderImage: 'amazon/aws-cli:2.27.0' } }, 'backup.uploaderImage applies to BackupTarget.s3(...) only: a volume target needs no uploader'],
    ['backup.uploaderImage as a number', { backup: { target: s3, uploaderImage: 2 } }, 'backup.uploaderImage must be an image reference'],
    ['backup.schedule as a string', { backup: { schedule: '0 3 * * *' } }, "backup.schedule must be a Cron such as Cron.daily(), got the string '0 3 * * *'"],
    ['backup.verifySchedule as a string', { backup: { verifySchedule: '0 5 * * *' } }, "backup.verifySchedule must be a Cron such as Cron.daily(), got the string '0 5 * * *'"],
    ['backup.keep of 0', { backup: { keep: 0 } }, 'backup.keep must be an integer from 1 to 1000, got 0'],
    ['backup.maxAge of 10 minutes', { backup: { maxAge: Duration.minutes(10) } }, 'backup.maxAge must be at least 1 hour (the age of the last good backup set), got 600 s'],
    ['backup.maxAge as a number', { backup: { maxAge: 3600 } }, 'backup.maxAge must be a Duration such as Duration.hours(48), got 3600'],
    ['backup.timeout of 30 seconds', { backup: { timeout: Duration.seconds(30) } }, 'backup.timeout must be at least 1 minute, got 30 s'],
    ['restore as a string', { restore: 'latest' }, "restore must be { source, backupSet }, got the string 'latest'"],
    ['restore without a source', { restore: {} }, 'restore.source must be BackupTarget.volume({ existingClaim: ... }): the claim with the backup sets'],
    ['restore from a bucket', { restore: { source: s3 } }, 'restore.source must be BackupTarget.volume({ existingClaim: ... })'],
    ['restore from a new volume', { restore: { source: BackupTarget.volume() } }, 'restore.source must be BackupTarget.volume({ existingClaim: ... })'],
    ['restore.backupSet that is no set name', { restore: { source: BackupTarget.volume({ existingClaim: 'c' }), backupSet: 'latest' } }, "restore.backupSet must name a backup set by its UTC start time, e.g. '20261201T030000Z', got the string 'latest'"],
  ])('%s throws a clear error', (_what, props, message) => {
    expect(() => new RedisCluster(chart(), 'cache', props as any)).toThrow(`RedisCluster 'test/cache': ${message}`);
  });
});
