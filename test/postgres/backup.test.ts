import { Chart, Cron, Duration, Size, Testing } from 'cdk8s';
import { BackupTarget, S3UriStyle, Storage } from '../../src';
import {
  backupCommand, renderDbPgbackrestConf, renderDbServerScript, renderRepoPgbackrestConf, renderRepoStartScript, renderRestorePgbackrestConf,
  renderTlsScript,
} from '../../src/postgres/backup-config';
import { renderStartScript } from '../../src/postgres/config';
import { PostgresReplicaSet, PostgresReplicaSetProps } from '../../src/postgres/postgres-replica-set';
import { haveShellcheck, shellcheck } from '../support/shellcheck';
import { objectsOf, only, synthValid } from '../support/manifest';

type Json = any;
const IMAGE = 'registry.example.com/postgres-pgbackrest:18.3';
const lines = (text: string) => text.split('\n');

describe('pgBackRest renderers', () => {
  test('a database pod archives to the repository host over TLS with its own certificate, and serves its data directory', () => {
    const conf = renderDbPgbackrestConf('pg-repo-0.pg-repo-headless.shop.svc.cluster.local');
    expect(lines(conf)).toEqual(expect.arrayContaining([
      'repo1-host=pg-repo-0.pg-repo-headless.shop.svc.cluster.local',
      'repo1-host-type=tls',
      'repo1-host-port=8432',
      'repo1-host-ca-file=/var/run/postgresql/tls/current/ca.crt',
      'repo1-host-cert-file=/var/run/postgresql/tls/current/tls.crt',
      'repo1-host-key-file=/var/run/postgresql/tls/current/tls.key',
      'tls-server-auth=pgbackrest=main',
      '[main]',
      'pg1-path=/var/lib/postgresql/data/pgdata',
      'pg1-socket-path=/var/run/postgresql',
    ]));
  });

  test('the repository host keeps the repository on its claim, with retention, and backs up from a standby when there is one', () => {
    const hosts = ['pg-0.h.shop.svc.cluster.local', 'pg-1.h.shop.svc.cluster.local'];
    const conf = renderRepoPgbackrestConf(hosts, { retainFull: 3 });
    expect(lines(conf)).toEqual(expect.arrayContaining([
      'repo1-type=posix', 'repo1-path=/var/lib/pgbackrest', 'repo1-retention-full=3', 'backup-standby=y',
      'pg1-host=pg-0.h.shop.svc.cluster.local', 'pg2-host=pg-1.h.shop.svc.cluster.local', 'pg2-host-type=tls', 'pg2-path=/var/lib/postgresql/data/pgdata',
    ]));
    // a single member has no standby to copy from
    expect(renderRepoPgbackrestConf(hosts.slice(0, 1), { retainFull: 3 })).not.toContain('backup-standby');
  });

  test('an S3 repository names endpoint, bucket, region, prefix and URI style, verifies TLS unless told, and keeps keys out of the file', () => {
    const s3 = { endpoint: 'minio.backup.svc:9000', bucket: 'pg-backups', region: 'eu-west-1', prefix: 'orders', uriStyle: 'path', verifyTls: true };
    const conf = renderRepoPgbackrestConf(['pg-0.h'], { retainFull: 2, s3 });
    expect(lines(conf)).toEqual(expect.arrayContaining([
      'repo1-type=s3', 'repo1-path=/orders', 'repo1-s3-endpoint=minio.backup.svc:9000', 'repo1-s3-bucket=pg-backups',
      'repo1-s3-region=eu-west-1', 'repo1-s3-uri-style=path', 'repo1-storage-verify-tls=y',
    ]));
    expect(conf).not.toMatch(/^repo1-s3-key/m);
    expect(renderRepoPgbackrestConf(['pg-0.h'], { retainFull: 2, s3: { ...s3, verifyTls: false } })).toContain('repo1-storage-verify-tls=n\n');
  });

  test('a restore reads the source\'s repository host', () => {
    expect(renderRestorePgbackrestConf('src-repo-0.src-repo-headless.shop.svc.cluster.local')).toContain('repo1-host=src-repo-0.src-repo-headless.shop.svc.cluster.local\nrepo1-host-type=tls\n');
  });

  test('start.sh restores pod 0 to the target time and promotes, instead of initdb', () => {
    const script = renderStartScript({
      primaryHost: 'pg-0.h', users: [], databases: [], monitorUser: false, tlsDomain: 'h.shop.svc.cluster.local',
      restore: { config: '/opt/cdk8s/postgres/pgbackrest-restore.conf', targetTime: '2026-12-01 04:30:00.000+00' },
    });
    expect(script).toContain('if ((ordinal == 0)); then restore_primary; else bootstrap_standby; fi');
    // once promoted, the restore's recovery target is dropped so no standby inherits it
    expect(script).toMatch(/elif \[\[ ! -e "\$pgdata\/recovery.signal" \]\]; then\n[^\n]*\n    sed -i -E '\/\^\(primary_conninfo\|restore_command\|recovery_target/);
    expect(script).toContain('--type=time "--target=2026-12-01 04:30:00.000+00" --target-action=promote restore');
    expect(script).toContain('bash /opt/cdk8s/postgres/tls.sh /var/run/secrets/postgres/pgbackrest-ca-seed /var/run/postgresql/tls "$host.h.shop.svc.cluster.local"');
    const latest = renderStartScript({ primaryHost: 'pg-0.h', users: [], databases: [], monitorUser: false, tlsDomain: 'h', restore: { config: '/c' } });
    expect(latest).toContain('--type=default restore');
    expect(latest).not.toContain('--target=');
  });

  test('tls.sh derives the CA key from the 64-hex seed and signs a certificate for the pod\'s FQDN', () => {
    const script = renderTlsScript();
    expect(script).toContain('der="30310201010420${hex}a00a06082a8648ce3d030107"');
    expect(script).toContain('if [[ ${#hex} -ne 64 ]]; then');
    expect(script).toContain("printf 'subjectAltName=DNS:%s\\nextendedKeyUsage=serverAuth,clientAuth\\n' \"$fqdn\"");
    expect(script).toContain('rm -f "$tmp/ca.der" "$tmp/ca.key"');
  });

  test('the backup command runs in the repository host', () => {
    expect(backupCommand('diff')).toEqual(['pgbackrest', '--config=/opt/cdk8s/pgbackrest/pgbackrest.conf', '--stanza=main', '--type=diff', 'backup']);
  });

  (haveShellcheck() ? test : test.skip)('every pgBackRest script passes shellcheck', () => {
    const restoreStart = renderStartScript({
      primaryHost: 'pg-0.h', users: [], databases: [], monitorUser: false, tlsDomain: 'h', restore: { config: '/c', targetTime: '2026-12-01 04:30:00.000+00' },
    });
    const scripts = {
      'tls.sh': renderTlsScript(), 'repo.sh': renderRepoStartScript({ fqdn: 'r-0.r' }), 'pgbackrest-server.sh': renderDbServerScript(), 'start.sh (restore)': restoreStart,
    };
    for (const [where, text] of Object.entries(scripts)) expect({ where, problems: shellcheck({ where, shell: 'bash', text }) }).toEqual({ where, problems: [] });
  });
});

describe('PostgresReplicaSet backup and restore', () => {
  function chart(): Chart {
    return new Chart(Testing.app(), 'test', { namespace: 'shop' });
  }

  test('backup adds archiving, the repository host on its own claim, and Forbid CronJobs that exec into it with least privilege', () => {
    // GIVEN
    const c = chart();
    const db = new PostgresReplicaSet(c, 'orders', {
      name: 'pg', image: IMAGE,
      backup: { target: BackupTarget.volume({ size: Size.gibibytes(80), storageClassName: 'backup-hdd' }), retainFull: 4, fullSchedule: Cron.weekly() },
    });
    // WHEN
    const objects = synthValid(c);
    // THEN the primary archives with pgBackRest
    const conf = objectsOf(objects, 'ConfigMap').find((m: Json) => m.metadata.name === 'pg-config').data;
    expect(conf['postgresql.conf']).toContain("archive_mode = on\narchive_command = 'pgbackrest --config=/opt/cdk8s/postgres/pgbackrest.conf --stanza=main archive-push %p'\n");
    expect(db.credentials.keys).toContain('pgbackrest-ca-seed');
    // and each database pod serves pgBackRest to the repository host only
    const sts = only(objects, 'StatefulSet', 'pg');
    expect(sts.spec.template.spec.containers.map((x: Json) => x.name)).toEqual(['postgres', 'slots', 'pgbackrest']);
    const policy = only(objects, 'NetworkPolicy', 'pg');
    expect(policy.spec.ingress).toContainEqual({ from: [{ podSelector: { matchLabels: db.backupRepository!.selectorLabels }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } } }], ports: [{ port: 'pgbackrest', protocol: 'TCP' }] });
    // the repository host: one pod, the repository claim with the target's size and class
    const repo = only(objects, 'StatefulSet', 'pg-repo');
    expect(repo.spec.replicas).toBe(1);
    expect(repo.spec.volumeClaimTemplates.map((t: Json) => [t.metadata.name, t.spec.resources.requests.storage, t.spec.storageClassName])).toEqual([['repo', '80Gi', 'backup-hdd']]);
    expect(objectsOf(objects, 'ConfigMap').find((m: Json) => m.metadata.name === 'pg-repo-config').data['pgbackrest.conf']).toContain('repo1-retention-full=4\n');
    // CronJobs: Forbid, deadlines, exec into that pod only
    const crons = objectsOf(objects, 'CronJob');
    expect(crons.map((j: Json) => [j.metadata.name, j.spec.schedule, j.spec.concurrencyPolicy])).toEqual([
      ['pg-backup-full', '0 0 * * 0', 'Forbid'], ['pg-backup-diff', '0 1 * * 1-6', 'Forbid'],
    ]);
    expect(crons[0].spec.jobTemplate.spec.activeDeadlineSeconds).toBe(Duration.hours(6).toSeconds());
    expect(crons[0].spec.jobTemplate.spec.template.spec.containers[0].command).toEqual(
      ['kubectl', 'exec', 'pg-repo-0', '-c', 'pgbackrest', '--', 'pgbackrest', '--config=/opt/cdk8s/pgbackrest/pgbackrest.conf', '--stanza=main', '--type=full', 'backup']);
    const role = objectsOf(objects, 'Role').find((r: Json) => r.metadata.name === 'pg-backup-full');
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['pods'], resourceNames: ['pg-repo-0'], verbs: ['get'] },
      { apiGroups: [''], resources: ['pods/exec'], resourceNames: ['pg-repo-0'], verbs: ['create'] },
    ]);
  });

  test('with monitoring, BackupTooOld watches both backup CronJobs with maxAge as its threshold', () => {
    // GIVEN a monitored set with backups and a maxAge of 30 hours
    const c = chart();
    new PostgresReplicaSet(c, 'orders', { name: 'pg', image: IMAGE, monitoring: {}, backup: { maxAge: Duration.hours(30) } });
    // WHEN
    const objects = synthValid(c);
    // THEN the alert (whose firing test/postgres/alerts.test.ts proves with promtool) names the CronJobs the set renders
    const cronJobs = objectsOf(objects, 'CronJob').map((j: Json) => j.metadata.name).sort();
    const alert = only(objects, 'PrometheusRule').spec.groups.flatMap((g: Json) => g.rules).find((r: Json) => r.alert === 'BackupTooOld');
    const watched = [...new Set([...alert.expr.matchAll(/cronjob=~"([^"]+)"/g)].flatMap((m) => m[1].split('|')))].sort();
    expect(watched).toEqual(cronJobs);
    expect(alert.expr).toContain('> 30 * 3600');
    expect(alert.annotations.summary).toBe('No backup of shop/pg succeeded in the last 30 hours');
  });

  test('an S3 target: no repository claim, keys from the target\'s Secret', () => {
    const c = chart();
    new PostgresReplicaSet(c, 'orders', {
      name: 'pg', image: IMAGE,
      backup: { target: BackupTarget.s3({ endpoint: 's3.eu-west-1.amazonaws.com', bucket: 'pg-backups', credentialsSecret: 's3-keys', uriStyle: S3UriStyle.HOST }) },
    });
    const objects = synthValid(c, { externalSecrets: { 's3-keys': ['access-key-id', 'secret-access-key'] } });
    const repo = only(objects, 'StatefulSet', 'pg-repo');
    expect(repo.spec.volumeClaimTemplates ?? []).toEqual([]);
    expect(repo.spec.template.spec.containers[0].env).toEqual([
      { name: 'PGBACKREST_REPO1_S3_KEY', valueFrom: { secretKeyRef: { name: 's3-keys', key: 'access-key-id' } } },
      { name: 'PGBACKREST_REPO1_S3_KEY_SECRET', valueFrom: { secretKeyRef: { name: 's3-keys', key: 'secret-access-key' } } },
    ]);
  });

  test('restore: pod 0 restores from the source\'s repository to the normalized target time, sharing the source\'s Secret', () => {
    const c = chart();
    const source = new PostgresReplicaSet(c, 'orders', { name: 'pg', image: IMAGE, backup: {}, users: [{ name: 'app' }] });
    const restored = new PostgresReplicaSet(c, 'copy', { name: 'pg-copy', image: IMAGE, restore: { source, targetTime: '2026-12-01T06:30:00+02:00' } });
    const objects = synthValid(c);
    expect(restored.credentials.secretName).toBe(source.credentials.secretName);
    expect(restored.passwordKey('app')).toBe('app-password');
    const data = objectsOf(objects, 'ConfigMap').find((m: Json) => m.metadata.name === 'pg-copy-config').data;
    expect(data['start.sh']).toContain('"--target=2026-12-01 04:30:00.000+00"');
    expect(data['pgbackrest-restore.conf']).toContain(`repo1-host=${source.backupRepository!.podFqdn(0)}\n`);
    // the restored set archives nowhere (no backup of its own) and may reach the source's repository
    expect(data['postgresql.conf']).not.toContain('archive_mode');
    expect(only(objects, 'NetworkPolicy', 'pg-repo').spec.ingress).toContainEqual(expect.objectContaining({
      from: [expect.objectContaining({ podSelector: { matchLabels: restored.selectorLabels } })],
    }));
  });

  const fails = (props: PostgresReplicaSetProps, source = false) => () => {
    const c = chart();
    const src = source ? new PostgresReplicaSet(c, 'src', { image: IMAGE, backup: {} }) : undefined;
    const noBackup = new PostgresReplicaSet(c, 'plain');
    const p = props.restore ? { ...props, restore: { ...props.restore, source: (props.restore.source as any) === 'plain' ? noBackup : src! } } : props;
    new PostgresReplicaSet(c, 'orders', p);
  };
  test.each([
    ['backup on the official image', { backup: {} }, "image must contain pgBackRest and openssl for backup, and the official image 'docker.io/library/postgres:18.3' has neither"],
    ['an existing backup claim', { image: IMAGE, backup: { target: BackupTarget.volume({ existingClaim: 'old' }) } }, 'backup.target existingClaim is not supported'],
    ['a bad retention', { image: IMAGE, backup: { retainFull: 0 } }, 'backup.retainFull must be an integer from 1 to 100, got 0'],
    ['a schedule as a string', { image: IMAGE, backup: { fullSchedule: '0 1 * * 0' as any } }, 'backup.fullSchedule must be a Cron such as Cron.weekly()'],
    ['a bad S3 endpoint', { image: IMAGE, backup: { target: BackupTarget.s3({ endpoint: 'https://s3', bucket: 'b-1', credentialsSecret: 's' }) } }, 'backup.target endpoint must be a host name'],
  ])('%s throws a clear error', (_what, props, message) => {
    expect(fails(props as PostgresReplicaSetProps)).toThrow(message);
  });
  test.each([
    ['a target time without a zone', { targetTime: '2026-12-01T04:30:00' }, "restore.targetTime must be an ISO 8601 time with a time zone, such as '2026-12-01T04:30:00Z' or '2026-12-01T06:30:00+02:00', got the string '2026-12-01T04:30:00'"],
    ['an impossible date', { targetTime: '2026-13-45T04:30:00Z' }, "restore.targetTime must be an ISO 8601 time with a time zone"],
    ['a free-text time', { targetTime: 'yesterday' }, "got the string 'yesterday'"],
  ])('restore with %s throws a clear error', (_what, restore, message) => {
    expect(fails({ image: IMAGE, restore: restore as any }, true)).toThrow(message);
  });
  test('restore from a set without backup throws', () => {
    expect(fails({ image: IMAGE, restore: { source: 'plain' as any } })).toThrow("restore.source must be a PostgresReplicaSet with backup (its repository holds the backups), got 'test/plain', which has no backup");
  });
  test('restore with users throws: they come from the backup', () => {
    expect(fails({ image: IMAGE, users: [{ name: 'x' }], restore: { source: undefined as any } }, true)).toThrow('restore brings its users and databases from the backup');
  });
  test('ephemeral data storage still gets a bounded slot WAL size', () => {
    const c = chart();
    new PostgresReplicaSet(c, 'orders', { storage: Storage.ephemeral() });
    expect(only(synthValid(c), 'ConfigMap').data['postgresql.conf']).toContain('max_slot_wal_keep_size = 1024MB\n');
  });
});
