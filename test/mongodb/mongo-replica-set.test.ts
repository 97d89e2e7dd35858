import { Chart, Cron, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { BackupTarget, S3UriStyle } from '../../src/core/backup';
import { RestrictedProfile } from '../../src/core/interop';
import { Resources } from '../../src/core/resources';
import { Storage } from '../../src/core/storage';
import { MongoReplicaSet, MongoReplicaSetProps, READY_JS } from '../../src/mongodb/mongo-replica-set';
import { DEFAULT_MONGO_IMAGE } from '../../src/mongodb/settings';
import { objectsOf, only, synthValid } from '../support/manifest';

function chart(namespace: string | undefined = 'db', id: string = 'test'): Chart {
  return new Chart(Testing.app(), id, namespace ? { namespace } : {});
}

const APP_USERS: MongoReplicaSetProps = { databases: ['orders'], users: [{ name: 'orders_app', databases: ['orders'] }] };

function podSpec(objects: any[]): any {
  return only(objects, 'StatefulSet').spec.template.spec;
}
function container(objects: any[], name: string): any {
  return podSpec(objects).containers.find((c: any) => c.name === name);
}
function configFile(objects: any[], key: string): string {
  return only(objects, 'ConfigMap').data[key];
}
function initiatorScript(objects: any[]): string {
  const job = objectsOf(objects, 'Job').find((j) => j.metadata.labels['app.kubernetes.io/component'] === 'initiator');
  return job.spec.template.spec.containers[0].command[2];
}

describe('MongoReplicaSet', () => {
  test('with no props renders 3 members, a generated Secret and one initiator Job that pass every check', () => {
    // GIVEN
    const c = chart();
    const rs = new MongoReplicaSet(c, 'mongo');
    // WHEN
    const objects = synthValid(c);
    // THEN
    expect(rs.replicas).toBe(3);
    expect(rs.replicaSetName).toBe('test-mongo');
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/test-mongo-config', expect.stringMatching(/^Job\/test-mongo-credentials-gen-[0-9a-f]{4}$/), expect.stringMatching(/^Job\/test-mongo-init-[0-9a-f]{5}$/),
      'NetworkPolicy/test-mongo', 'PodDisruptionBudget/test-mongo', 'Role/test-mongo-credentials-generate',
      'RoleBinding/test-mongo-credentials-generate', 'Service/test-mongo', 'Service/test-mongo-headless',
      'ServiceAccount/test-mongo', 'ServiceAccount/test-mongo-credentials-generate', 'StatefulSet/test-mongo',
    ]);
    expect(objects).toMatchSnapshot();
  });

  test('the defaults of the shared props are MongoDB\'s: mongo 8.0.20, user 999, 60 s grace, 20Gi, medium resources, a majority budget', () => {
    const c = chart();
    new MongoReplicaSet(c, 'mongo');
    const objects = synthValid(c);
    const sts = only(objects, 'StatefulSet');
    const pod = sts.spec.template.spec;
    expect(DEFAULT_MONGO_IMAGE).toBe('docker.io/library/mongo:8.0.20');
    expect(container(objects, 'mongod').image).toBe('docker.io/library/mongo:8.0.20');
    expect(sts.metadata.labels['app.kubernetes.io/version']).toBe('8.0.20');
    expect(pod.securityContext).toMatchObject({ runAsUser: 999, runAsGroup: 999, fsGroup: 999 });
    expect(pod.terminationGracePeriodSeconds).toBe(60);
    expect(sts.spec.volumeClaimTemplates.map((t: any) => [t.metadata.name, t.spec.resources.requests.storage])).toEqual([['data', '20Gi']]);
    expect(container(objects, 'mongod').resources).toEqual({ requests: { cpu: '1000m', memory: '2048Mi' }, limits: { memory: '2048Mi' } });
    expect(only(objects, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
    // 2Gi limit: (2048 - 1024) / 2 = 512Mi of WiredTiger cache
    expect(configFile(objects, 'start.sh')).toContain('--wiredTigerCacheSizeGB 0.5\n');
  });

  test('pods start in parallel and the headless Service publishes members before they are Ready', () => {
    const c = chart();
    new MongoReplicaSet(c, 'mongo');
    const objects = synthValid(c);
    expect(only(objects, 'StatefulSet').spec.podManagementPolicy).toBe('Parallel');
    expect(only(objects, 'Service', 'test-mongo-headless').spec.publishNotReadyAddresses).toBe(true);
  });

  test('members are the construct\'s own FQDNs in the chart\'s namespace and cluster domain', () => {
    // GIVEN two charts in different namespaces
    const shop = chart('shop');
    const a = new MongoReplicaSet(shop, 'mongo');
    const other = chart('other');
    const b = new MongoReplicaSet(other, 'mongo', { clusterDomain: 'corp.internal' });
    // THEN
    expect(a.hosts).toEqual([0, 1, 2].map((i) => `test-mongo-${i}.test-mongo-headless.shop.svc.cluster.local:27017`));
    expect(b.hosts[0]).toBe('test-mongo-0.test-mongo-headless.other.svc.corp.internal:27017');
    expect(initiatorScript(synthValid(shop))).toContain("{ _id: 2, host: 'test-mongo-2.test-mongo-headless.shop.svc.cluster.local:27017' }");
    expect(initiatorScript(synthValid(other))).toContain("host: 'test-mongo-0.test-mongo-headless.other.svc.corp.internal:27017'");
  });

  test('the keyfile comes from the Secret through an init container into an in-memory volume; mongod uses it', () => {
    const c = chart();
    const rs = new MongoReplicaSet(c, 'mongo');
    const objects = synthValid(c);
    const pod = podSpec(objects);
    expect(pod.initContainers.map((x: any) => [x.name, x.command])).toEqual([['keyfile', ['bash', '/opt/cdk8s/mongodb/keyfile.sh']]]);
    expect(pod.initContainers[0].volumeMounts).toEqual(expect.arrayContaining([
      { name: 'keyfile-secret', mountPath: '/var/run/secrets/mongodb', readOnly: true },
      { name: 'run', mountPath: '/var/run/mongodb' },
    ]));
    expect(pod.volumes).toEqual(expect.arrayContaining([
      { name: 'keyfile-secret', secret: { secretName: rs.credentials.secretName, defaultMode: 0o440, items: [{ key: 'keyfile', path: 'keyfile' }] } },
      { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
    ]));
    expect(configFile(objects, 'keyfile.sh')).toContain('source=/var/run/secrets/mongodb/keyfile\ntarget=/var/run/mongodb/keyfile\n');
    expect(configFile(objects, 'start.sh')).toContain('exec mongod --replSet test-mongo --keyFile /var/run/mongodb/keyfile --bind_ip_all');
  });

  test('the generated Secret holds root password, keyfile, exporter, backup and user passwords as needed', () => {
    const c = chart();
    new MongoReplicaSet(c, 'mongo', { ...APP_USERS, monitoring: {}, backup: {} });
    const gen = synthValid(c).find((o: any) => o.kind === 'Job' && /^test-mongo-credentials-gen-[0-9a-f]{4}$/.test(o.metadata.name));
    expect(gen.metadata.annotations['cdk8s-stateful.io/generates-keys']).toBe('root-password,keyfile,exporter-password,backup-password,orders_app-password');
  });

  test('the root password reaches mongod and the initiator from the Secret, never as a value', () => {
    const c = chart();
    new MongoReplicaSet(c, 'mongo');
    const objects = synthValid(c);
    const ref = { name: 'MONGO_ROOT_PASSWORD', valueFrom: { secretKeyRef: { name: 'test-mongo-credentials', key: 'root-password' } } };
    expect(container(objects, 'mongod').env).toContainEqual(ref);
    const job = objectsOf(objects, 'Job').find((j) => j.metadata.labels['app.kubernetes.io/component'] === 'initiator');
    expect(job.spec.template.spec.containers[0].env).toContainEqual(ref);
    expect(JSON.stringify(objects)).not.toMatch(/"value":"[0-9a-f]{64}"/);
  });

  test('probes: readiness asks hello for primary, secondary or arbiter; liveness and startup are TCP, startup allowing 30 minutes', () => {
    const c = chart();
    new MongoReplicaSet(c, 'mongo');
    const mongod = container(synthValid(c), 'mongod');
    expect(READY_JS).toBe('const h = db.hello(); if (!(h.isWritablePrimary || h.secondary || h.arbiterOnly)) { quit(1); }');
    expect(mongod.readinessProbe).toMatchObject({ exec: { command: ['mongosh', '--quiet', '--norc', '--eval', READY_JS] }, periodSeconds: 10, timeoutSeconds: 10 });
    expect(mongod.livenessProbe).toMatchObject({ tcpSocket: { port: 'mongodb' }, periodSeconds: 20, failureThreshold: 6 });
    expect(mongod.startupProbe).toMatchObject({ tcpSocket: { port: 'mongodb' }, periodSeconds: 10, failureThreshold: 180 });
  });

  test('the initiator Job is bounded, runs the mongo image and is admitted to the members; members to each other even with named clients', () => {
    // GIVEN clients restricted to one app
    const c = chart();
    const app = kplus.Pods.select(c, 'App', { labels: { app: 'orders' } });
    new MongoReplicaSet(c, 'mongo', { allowClientsFrom: [app] });
    const objects = synthValid(c);
    const job = objectsOf(objects, 'Job').find((j) => j.metadata.labels['app.kubernetes.io/component'] === 'initiator');
    expect(job.spec).toMatchObject({ backoffLimit: 10, activeDeadlineSeconds: 3600, ttlSecondsAfterFinished: 3600 });
    expect(job.spec.template.spec.containers[0].image).toBe('docker.io/library/mongo:8.0.20');
    // THEN the policy opens port mongodb to the app, the members and the initiator, and to nobody else
    const rules = only(objects, 'NetworkPolicy').spec.ingress.filter((r: any) => r.ports.some((p: any) => p.port === 'mongodb'));
    const froms = rules.flatMap((r: any) => r.from.map((f: any) => f.podSelector.matchLabels));
    expect(froms).toEqual(expect.arrayContaining([
      { app: 'orders' },
      only(objects, 'StatefulSet').spec.selector.matchLabels,
      { 'app.kubernetes.io/instance': 'test-mongo', 'app.kubernetes.io/component': 'initiator' },
    ]));
    expect(froms).toHaveLength(3);
  });

  test('a scale-up renames the initiator Job (so it runs again); an unrelated change does not', () => {
    const name = (props: MongoReplicaSetProps) => {
      const c = chart();
      new MongoReplicaSet(c, 'mongo', props);
      return objectsOf(Testing.synth(c), 'Job').find((j) => j.metadata.labels['app.kubernetes.io/component'] === 'initiator').metadata.name;
    };
    expect(name({ replicas: 3 })).toBe(name({ replicas: 3, resources: Resources.of({ cpuMillis: 500, memory: Size.gibibytes(4) }) }));
    expect(name({ replicas: 3 })).not.toBe(name({ replicas: 5 }));
  });

  test('5 members may lose 2; 2 members with an arbiter are 3 pods, the arbiter last and not a client host', () => {
    const five = chart();
    new MongoReplicaSet(five, 'mongo', { replicas: 5 });
    expect(only(synthValid(five), 'PodDisruptionBudget').spec.maxUnavailable).toBe(2);
    const psa = chart();
    const rs = new MongoReplicaSet(psa, 'mongo', { replicas: 2, arbiter: true });
    const objects = synthValid(psa);
    expect(only(objects, 'StatefulSet').spec.replicas).toBe(3);
    expect(only(objects, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
    expect(rs.hosts).toHaveLength(2);
    expect(initiatorScript(objects)).toContain("{ _id: 2, host: 'test-mongo-2.test-mongo-headless.db.svc.cluster.local:27017', arbiterOnly: true }");
  });

  test('wiredTigerCacheSize derives from the memory limit, or is taken as given', () => {
    const c = chart();
    const big = new MongoReplicaSet(c, 'big', { resources: Resources.of({ cpuMillis: 2000, memory: Size.gibibytes(8) }) });
    const set = new MongoReplicaSet(c, 'set', { wiredTigerCacheSize: Size.mebibytes(300) });
    const small = new MongoReplicaSet(c, 'small', { resources: Resources.of({ cpuMillis: 250, memory: Size.mebibytes(512) }) });
    expect([big.wiredTigerCacheSizeGb, set.wiredTigerCacheSizeGb, small.wiredTigerCacheSizeGb]).toEqual([3.5, 0.29, 0.25]);
  });

  test('connectionEnv gives a kplus container the user, its Secret password and a URI that expands them, in that order', () => {
    // GIVEN a kplus Deployment wired with connectionEnv
    const c = chart('shop');
    const rs = new MongoReplicaSet(c, 'mongo', { ...APP_USERS, replicaSetName: 'rs0' });
    const d = new kplus.Deployment(c, 'api', {
      containers: [{
        image: 'example/api:1.0.0',
        portNumber: 8080,
        securityContext: { user: 10001, group: 10001 },
        resources: { cpu: { request: kplus.Cpu.millis(100) }, memory: { request: Size.mebibytes(128), limit: Size.mebibytes(128) } },
        envVariables: rs.connectionEnv('orders_app'),
      }],
    });
    RestrictedProfile.applyTo(d);
    rs.allowClients(d);
    // WHEN
    const env = only(synthValid(c), 'Deployment').spec.template.spec.containers[0].env;
    // THEN the password is a secretKeyRef defined before the URI that refers to it
    expect(env).toEqual([
      { name: 'MONGO_USER', value: 'orders_app' },
      { name: 'MONGO_PASSWORD', valueFrom: { secretKeyRef: { name: 'test-mongo-credentials', key: 'orders_app-password' } } },
      {
        name: 'MONGODB_URI',
        value: 'mongodb://$(MONGO_USER):$(MONGO_PASSWORD)@test-mongo-0.test-mongo-headless.shop.svc.cluster.local:27017,'
          + 'test-mongo-1.test-mongo-headless.shop.svc.cluster.local:27017,test-mongo-2.test-mongo-headless.shop.svc.cluster.local:27017'
          + '/orders?replicaSet=rs0&authSource=admin',
      },
    ]);
  });

  test('connectionString lists the data members and the set, without credentials', () => {
    const rs = new MongoReplicaSet(chart('shop'), 'mongo', { replicas: 2, arbiter: true, replicaSetName: 'rs0' });
    expect(rs.connectionString).toBe('mongodb://test-mongo-0.test-mongo-headless.shop.svc.cluster.local:27017,'
      + 'test-mongo-1.test-mongo-headless.shop.svc.cluster.local:27017/?replicaSet=rs0');
  });

  test('connectionEnv and passwordKey name the users they know', () => {
    const rs = new MongoReplicaSet(chart(), 'mongo', APP_USERS);
    expect(() => rs.connectionEnv('root')).toThrow("MongoReplicaSet 'test/mongo': connectionEnv user must be one of users ('orders_app'), got 'root'");
    expect(() => rs.connectionEnv('orders_app', 'billing')).toThrow("connectionEnv database must be one of orders_app's databases (orders), got 'billing'");
    expect(rs.passwordKey('root')).toBe('root-password');
    expect(rs.passwordKey('orders_app')).toBe('orders_app-password');
    expect(() => rs.passwordKey('nobody')).toThrow("passwordKey user must be 'root' or one of users, got 'nobody'");
  });

  test('with an existingSecret nothing is generated and every reference points at it', () => {
    const c = chart();
    new MongoReplicaSet(c, 'mongo', { existingSecret: 'mongo-creds' });
    const objects = synthValid(c, { externalSecrets: { 'mongo-creds': ['root-password', 'keyfile'] } });
    expect(objectsOf(objects, 'Job').map((j) => j.metadata.labels['app.kubernetes.io/component'])).toEqual(['initiator']);
    expect(podSpec(objects).volumes).toContainEqual(expect.objectContaining({ name: 'keyfile-secret', secret: expect.objectContaining({ secretName: 'mongo-creds' }) }));
  });
});

describe('MongoReplicaSet monitoring', () => {
  test('adds the percona exporter with its own user, a ServiceMonitor and the three alerts', () => {
    // GIVEN
    const c = chart();
    new MongoReplicaSet(c, 'mongo', { monitoring: { labels: { release: 'prom' } } });
    // WHEN
    const objects = synthValid(c);
    // THEN
    const exporter = container(objects, 'metrics');
    expect(exporter.image).toBe('docker.io/percona/mongodb_exporter:0.47.1');
    expect(exporter.args).toEqual([
      '--mongodb.uri=mongodb://127.0.0.1:27017/admin', '--mongodb.direct-connect', '--compatible-mode',
      '--collector.diagnosticdata', '--collector.replicasetstatus', '--web.listen-address=:9216',
    ]);
    expect(exporter.env).toEqual([
      { name: 'MONGODB_USER', value: 'exporter' },
      { name: 'MONGODB_PASSWORD', valueFrom: { secretKeyRef: { name: 'test-mongo-credentials', key: 'exporter-password' } } },
    ]);
    expect(exporter.ports).toEqual([{ name: 'metrics', containerPort: 9216, protocol: 'TCP' }]);
    expect(only(objects, 'ServiceMonitor').spec.endpoints[0].port).toBe('metrics');
    expect(initiatorScript(objects)).toContain("ensure('exporter', 'MONGO_EXPORTER_PASSWORD', [{ role: 'clusterMonitor', db: 'admin' }, { role: 'read', db: 'local' }]);");
    const rules = only(objects, 'PrometheusRule').spec.groups[0].rules;
    expect(rules.map((r: any) => [r.alert, r.expr, r.for, r.labels.severity])).toEqual([
      ['MongoMemberDown', 'count(mongodb_up{job="test-mongo-headless", namespace="db"} == 1) < 3 or absent(mongodb_up{job="test-mongo-headless", namespace="db"} == 1)', '300s', 'warning'],
      ['MongoNoPrimary', 'absent(mongodb_mongod_replset_my_state{job="test-mongo-headless", namespace="db"} == 1)', '120s', 'critical'],
      ['MongoReplicationLag', 'max by (name) (mongodb_mongod_replset_member_replication_lag{job="test-mongo-headless", namespace="db"}) > 60', '600s', 'warning'],
    ]);
  });

  test('without monitoring there is no exporter, no exporter user and no rules', () => {
    const c = chart();
    new MongoReplicaSet(c, 'mongo');
    const objects = synthValid(c);
    expect(podSpec(objects).containers.map((x: any) => x.name)).toEqual(['mongod']);
    expect(objectsOf(objects, 'PrometheusRule')).toEqual([]);
    expect(initiatorScript(objects)).not.toContain('exporter');
  });
});

describe('MongoReplicaSet backup', () => {
  test('a mongodump CronJob writes to its own claim from a secondary, with the backup user', () => {
    // GIVEN
    const c = chart();
    new MongoReplicaSet(c, 'mongo', { backup: { target: BackupTarget.volume({ size: Size.gibibytes(100), storageClassName: 'cold' }), keep: 14, schedule: Cron.daily() } });
    // WHEN
    const objects = synthValid(c);
    // THEN
    const cron = only(objects, 'CronJob', 'test-mongo-backup');
    expect(cron.spec).toMatchObject({ schedule: '0 0 * * *', concurrencyPolicy: 'Forbid' });
    const pod = cron.spec.jobTemplate.spec.template.spec;
    expect(pod.volumes[0]).toEqual({ name: 'backup', persistentVolumeClaim: { claimName: 'test-mongo-backup' } });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'backup', mountPath: '/backup' });
    expect(only(objects, 'PersistentVolumeClaim', 'test-mongo-backup').spec).toMatchObject({ storageClassName: 'cold', resources: { requests: { storage: '100Gi' } } });
    const script = pod.containers[0].command[2];
    expect(script).toContain('readPreference=secondary');
    expect(script).toContain('keep=14\n');
    expect(pod.containers[0].env).toContainEqual({ name: 'MONGO_BACKUP_PASSWORD', valueFrom: { secretKeyRef: { name: 'test-mongo-credentials', key: 'backup-password' } } });
    expect(initiatorScript(objects)).toContain("ensure('backup', 'MONGO_BACKUP_PASSWORD', [{ role: 'backup', db: 'admin' }]);");
    // the backup pods reach mongod
    const froms = only(objects, 'NetworkPolicy').spec.ingress.flatMap((r: any) => r.from.map((f: any) => f.podSelector?.matchLabels));
    expect(froms).toContainEqual({ 'app.kubernetes.io/instance': 'test-mongo', 'app.kubernetes.io/component': 'backup' });
  });

  test('runs daily at 02:30 and keeps 7 archives by default', () => {
    const c = chart();
    new MongoReplicaSet(c, 'mongo', { backup: {} });
    const cron = only(synthValid(c), 'CronJob');
    expect(cron.spec.schedule).toBe('30 2 * * *');
    expect(cron.spec.jobTemplate.spec.template.spec.containers[0].command[2]).toContain('keep=7\n');
  });
});

describe('MongoReplicaSet bad input', () => {
  const make = (props: any) => () => new MongoReplicaSet(chart(), 'mongo', props);
  test.each([
    ['an even replica count', { replicas: 4 },
      "MongoReplicaSet 'test/mongo': replicas must be an odd number (1, 3, 5 or 7) so that a majority of the voting members survives the loss of one, got 4: use 3 or 5, or keep 4 data members and add arbiter: true"],
    ['an odd count with an arbiter', { replicas: 3, arbiter: true },
      "MongoReplicaSet 'test/mongo': replicas must be even (2, 4 or 6) with arbiter: true, so that the voting members (replicas + 1 arbiter) are odd, got 3: use 4, or drop the arbiter"],
    ['more voting members than MongoDB allows', { replicas: 9 }, "MongoReplicaSet 'test/mongo': replicas must be an integer from 1 to 7, got 9"],
    ['a non-boolean arbiter', { replicas: 2, arbiter: 'yes' }, "MongoReplicaSet 'test/mongo': arbiter must be true or false, got the string 'yes'"],
    ['a cache that leaves no room', { wiredTigerCacheSize: Size.gibibytes(2) },
      "MongoReplicaSet 'test/mongo': wiredTigerCacheSize leave no room: a 2048Mi WiredTiger cache plus 256Mi for connections and tools does not fit the 2048Mi memory limit; raise the memory limit to at least 2304Mi or lower wiredTigerCacheSize"],
    ['a memory limit too small for the smallest cache', { resources: Resources.of({ cpuMillis: 100, memory: Size.mebibytes(384) }) },
      "MongoReplicaSet 'test/mongo': resources leave no room: a 256Mi WiredTiger cache plus 256Mi for connections and tools does not fit the 384Mi memory limit; raise the memory limit to at least 512Mi"],
    ['a cache below mongod\'s minimum', { wiredTigerCacheSize: Size.mebibytes(128) }, "MongoReplicaSet 'test/mongo': wiredTigerCacheSize must be at least 256Mi (mongod's minimum, 0.25 GB), got 128Mi"],
    ['a cache that is not a Size', { wiredTigerCacheSize: '1Gi' }, "MongoReplicaSet 'test/mongo': wiredTigerCacheSize must be a Size such as Size.gibibytes(1), got the string '1Gi'"],
    ['storage as a plain object', { storage: { size: '10Gi' } }, "MongoReplicaSet 'test/mongo': storage must be Storage.persistent({ size: Size.gibibytes(10) }) or Storage.ephemeral(), got a plain object {\"size\":\"10Gi\"}"],
    ['a bad replica set name', { replicaSetName: 'rs/0' }, "MongoReplicaSet 'test/mongo': replicaSetName must be 1 to 64 letters, digits, '_', '.' and '-', starting with a letter or digit, got the string 'rs/0'"],
    ['a bad user name', { databases: ['orders'], users: [{ name: 'Orders-App', databases: ['orders'] }] },
      "MongoReplicaSet 'test/mongo': users 'Orders-App' is not a valid user name (a lower-case letter, then lower-case letters, digits and '_', at most 32)"],
    ['a reserved user', { databases: ['orders'], users: [{ name: 'exporter', databases: ['orders'] }] }, "MongoReplicaSet 'test/mongo': users 'exporter' is reserved"],
    ['a user on an unknown database', { databases: ['orders'], users: [{ name: 'app', databases: ['billing'] }] },
      "MongoReplicaSet 'test/mongo': users 'app' databases name 'billing', which is not in databases (orders)"],
    ['a user without databases', { databases: ['orders'], users: [{ name: 'app', databases: [] }] }, "MongoReplicaSet 'test/mongo': users 'app' databases must name at least one database"],
    ['a system database', { databases: ['admin'] }, "MongoReplicaSet 'test/mongo': databases 'admin' is a system database"],
    ['an uploader image for a volume target', { backup: { uploaderImage: 'docker.io/amazon/aws-cli:2.27.0' } },
      "MongoReplicaSet 'test/mongo': backup.uploaderImage applies to BackupTarget.s3(...) only: a volume target needs no uploader"],
    ['an S3 endpoint with a scheme', { backup: { target: BackupTarget.s3({ endpoint: 'https://s3.eu-west-1.amazonaws.com', bucket: 'backups', credentialsSecret: 's3' }) } },
      "MongoReplicaSet 'test/mongo': backup.target endpoint must be a host name with an optional port (no scheme, no path)"],
    ['backups keeping no archive', { backup: { keep: 0 } }, "MongoReplicaSet 'test/mongo': backup.keep must be an integer from 1 to 1000, got 0"],
    ['an exporter image without a tag', { monitoring: {}, exporterImage: 'percona/mongodb_exporter' },
      "MongoReplicaSet 'test/mongo': container 'metrics' image 'percona/mongodb_exporter' has no tag: pin a version (e.g. 'percona/mongodb_exporter:1.2.3') or a digest so every pod runs the same software"],
    ['an exporter image without monitoring', { exporterImage: 'percona/mongodb_exporter:0.47.1' },
      "MongoReplicaSet 'test/mongo': exporterImage needs monitoring: the exporter runs only with monitoring set"],
  ])('rejects %s', (_what, props, message) => {
    expect(make(props)).toThrow(message);
  });

  test('the even-count message suggests an odd count or an arbiter, and the suggestion works', () => {
    expect(make({ replicas: 2 })).toThrow(/use 1 or 3, or keep 2 data members and add arbiter: true/);
    expect(make({ replicas: 2, arbiter: true })).not.toThrow();
  });

  test('ephemeral storage is accepted (for tests and caches)', () => {
    const c = chart();
    new MongoReplicaSet(c, 'mongo', { storage: Storage.ephemeral() });
    expect(only(synthValid(c), 'StatefulSet').spec.volumeClaimTemplates).toEqual([]);
  });
});

describe('MongoReplicaSet monitoring with an arbiter', () => {
  test('"member down" counts the data-bearing members only (the arbiter\'s exporter cannot log in)', () => {
    const c = chart();
    new MongoReplicaSet(c, 'mongo', { replicas: 2, arbiter: true, monitoring: {} });
    const rules = only(synthValid(c), 'PrometheusRule').spec.groups[0].rules;
    expect(rules[0].expr).toBe('count(mongodb_up{job="test-mongo-headless", namespace="db"} == 1) < 2 or absent(mongodb_up{job="test-mongo-headless", namespace="db"} == 1)');
  });
});

describe('MongoReplicaSet backups to S3', () => {
  test('the dump goes to scratch space in an init container, and the uploader ships it with the Secret\'s credentials', () => {
    // GIVEN
    const c = chart();
    new MongoReplicaSet(c, 'mongo', {
      backup: { target: BackupTarget.s3({ endpoint: 'minio.backup.svc:9000', bucket: 'db-backups', credentialsSecret: 's3-creds', uriStyle: S3UriStyle.PATH }), keep: 5 },
    });
    // WHEN
    const objects = synthValid(c, { externalSecrets: { 's3-creds': ['access-key-id', 'secret-access-key'] } });
    // THEN no claim is created, the dump writes to an emptyDir that the uploader reads
    expect(objects.filter((o: any) => o.kind === 'PersistentVolumeClaim')).toEqual([]);
    const pod = only(objects, 'CronJob').spec.jobTemplate.spec.template.spec;
    expect(pod.initContainers.map((x: any) => x.name)).toEqual(['mongodump']);
    expect(pod.initContainers[0].command[2]).toContain('dir=/work');
    const upload = pod.containers[0];
    expect([upload.name, upload.image]).toEqual(['upload', 'docker.io/amazon/aws-cli:2.27.0']);
    expect(upload.command[2]).toContain('target=s3://db-backups/test-mongo');
    expect(upload.command[2]).toContain('--endpoint-url https://minio.backup.svc:9000 s3 cp');
    expect(upload.command[2]).not.toContain('--no-verify-ssl');
    expect(upload.command[2]).toContain('addressing_style = path');
    expect(upload.env).toEqual(expect.arrayContaining([
      { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 's3-creds', key: 'access-key-id' } } },
      { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: 's3-creds', key: 'secret-access-key' } } },
    ]));
    expect(upload.volumeMounts).toContainEqual({ name: 'backup', mountPath: '/work', readOnly: true });
    expect(pod.volumes).toContainEqual({ name: 'backup', emptyDir: {} });
  });
});
