import { Chart, Cron, Duration, Size, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { BackupTarget, S3UriStyle } from '../../src';
import { ScheduledJob } from '../../src/core/job';
import { Problem } from '../../src/core/names';
import { Storage } from '../../src/core/storage';
import { only, synthValid } from '../support/manifest';

function chart(): Chart {
  return new Chart(Testing.app(), 'test', { namespace: 'data' });
}

const labels = { 'app.kubernetes.io/name': 'db', 'app.kubernetes.io/instance': 'test-db', 'app.kubernetes.io/component': 'backup' };

function scheduled(c: Construct, extra: Partial<ConstructorParameters<typeof ScheduledJob>[2]> = {}): ScheduledJob {
  return new ScheduledJob(c, 'backup', {
    problem: new Problem('Db', c),
    name: 'test-db-backup',
    labels,
    runAs: { uid: 999, gid: 999 },
    schedule: Cron.daily(),
    container: {
      name: 'backup',
      image: 'example/db:1.2.3',
      command: ['bash', '-c', 'set -euo pipefail\necho backup'],
      mounts: [{ volume: 'tmp', path: '/tmp' }],
    },
    volumes: [{ name: 'tmp', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(64) }) }],
    ...extra,
  });
}

describe('ScheduledJob', () => {
  test('runs never overlap, a missed run is skipped after its deadline, each run is bounded, history is kept', () => {
    // GIVEN
    const c = chart();
    scheduled(c, { activeDeadline: Duration.hours(2), backoffLimit: 2 });
    // WHEN
    const cron = only(synthValid(c), 'CronJob');
    // THEN
    expect(cron.spec).toMatchObject({
      schedule: '0 0 * * *', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 1800,
      successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 3,
    });
    const job = cron.spec.jobTemplate.spec;
    expect(job).toMatchObject({ backoffLimit: 2, activeDeadlineSeconds: 7200 });
    expect(job.ttlSecondsAfterFinished).toBeUndefined();
    const pod = job.template.spec;
    expect([pod.restartPolicy, pod.automountServiceAccountToken]).toEqual(['OnFailure', false]);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.containers[0].securityContext).toMatchObject({ readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(pod.containers[0].resources.requests).toEqual({ cpu: '100m', memory: '256Mi' });
  });

  test('API rules give the runs a ServiceAccount, Role and RoleBinding of their own, and a token', () => {
    const c = chart();
    scheduled(c, { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] });
    const objects = synthValid(c);
    expect(only(objects, 'Role').rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }]);
    expect(only(objects, 'RoleBinding').subjects).toEqual([{ kind: 'ServiceAccount', name: 'test-db-backup' }]);
    const pod = only(objects, 'CronJob').spec.jobTemplate.spec.template.spec;
    expect([pod.serviceAccountName, pod.automountServiceAccountToken]).toEqual(['test-db-backup', true]);
  });

  test('the runs are a peer selected by their stable instance and component labels', () => {
    const c = chart();
    const job = scheduled(c);
    expect(job.peer().toPodSelectorConfig().labelSelector._toKube().matchLabels)
      .toEqual({ 'app.kubernetes.io/instance': 'test-db', 'app.kubernetes.io/component': 'backup' });
  });

  test('a Job pod mounts an existing claim by name, but never a claim template', () => {
    const c = chart();
    const claim = BackupTarget.volume()._claimName(c, 'test-db', labels);
    scheduled(c, {
      container: { name: 'backup', image: 'example/db:1.2.3', mounts: [{ volume: 'repo', path: '/backup' }] },
      volumes: [{ name: 'repo', storage: Storage.existingClaim(claim) }],
    });
    const pod = only(synthValid(c), 'CronJob').spec.jobTemplate.spec.template.spec;
    expect(pod.volumes).toEqual([{ name: 'repo', persistentVolumeClaim: { claimName: 'test-db-backup' } }]);
    expect(() => scheduled(chart(), {
      container: { name: 'backup', image: 'example/db:1.2.3', mounts: [{ volume: 'repo', path: '/backup' }] },
      volumes: [{ name: 'repo', storage: Storage.persistent({ size: Size.gibibytes(1) }) }],
    })).toThrow("volume 'repo' must be ephemeral or Storage.existingClaim in a one-shot Job");
    expect(() => Storage.existingClaim('Bad Name')._validate(new Problem('Db', chart()), 'storage')).toThrow('storage claimName must be a DNS-1123 label');
  });

  test('bad limits name the job and the property', () => {
    expect(() => scheduled(chart(), { startingDeadline: Duration.seconds(5) }))
      .toThrow("Db 'test': job 'test-db-backup' startingDeadline (seconds) must be an integer >= 10, got 5");
    expect(() => scheduled(chart(), { historyLimit: -1 })).toThrow("job 'test-db-backup' historyLimit must be an integer from 0 to 100, got -1");
  });
});

describe('BackupTarget', () => {
  const problem = (c: Construct) => new Problem('Db', c);

  test('a volume target creates its own claim, or uses an existing one', () => {
    const c = chart();
    expect(BackupTarget.volume({ size: Size.gibibytes(200), storageClassName: 'backup-hdd' })._claimName(c, 'test-db', labels)).toBe('test-db-backup');
    expect(BackupTarget.volume({ existingClaim: 'shared-backups' })._claimName(new Construct(c, 'x'), 'test-db', labels)).toBe('shared-backups');
    const pvc = only(Testing.synth(c), 'PersistentVolumeClaim');
    expect(pvc.metadata.name).toBe('test-db-backup');
    expect(pvc.spec).toEqual({ accessModes: ['ReadWriteOnce'], storageClassName: 'backup-hdd', resources: { requests: { storage: '200Gi' } } });
    expect(BackupTarget.volume().isS3).toBe(false);
  });

  test('an S3 target takes its credentials from the Secret, never as values', () => {
    const c = chart();
    const target = BackupTarget.s3({ endpoint: 'minio.backup.svc:9000', bucket: 'db-backups', credentialsSecret: 's3-creds', uriStyle: S3UriStyle.PATH });
    target._validate(problem(c), 'backup target');
    const env = target._credentialsEnv(c);
    expect(Object.keys(env)).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
    expect(env.AWS_SECRET_ACCESS_KEY.valueFrom).toEqual({ secretKeyRef: { name: 's3-creds', key: 'secret-access-key' } });
    expect(target.isS3).toBe(true);
  });

  test.each([
    [{ endpoint: 'https://s3.amazonaws.com', bucket: 'b-1', credentialsSecret: 's' }, "backup target endpoint must be a host name with an optional port (no scheme, no path)"],
    [{ endpoint: 's3.amazonaws.com', bucket: 'Bad_Bucket', credentialsSecret: 's' }, 'backup target bucket must be a bucket name'],
    [{ endpoint: 's3.amazonaws.com', bucket: 'b-1', credentialsSecret: 'Not A Secret' }, 'backup target credentialsSecret must be a DNS-1123 label'],
    [{ endpoint: 's3.amazonaws.com', bucket: 'b-1', credentialsSecret: 's', prefix: '/abs' }, 'backup target prefix must be a relative path'],
  ])('bad S3 options are errors: %j', (options, message) => {
    expect(() => BackupTarget.s3(options)._validate(problem(chart()), 'backup target')).toThrow(message);
  });

  test('a volume size that is not a Size is an error', () => {
    expect(() => BackupTarget.volume({ size: '50Gi' as any })._validate(problem(chart()), 'backup target'))
      .toThrow("Db 'test': backup target size must be a Size such as Size.gibibytes(50), got the string '50Gi'");
  });
});
