import { Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  ImagePullPolicy, MySqlFlavor, MySqlReplicaSet, MySqlReplicaSetProps, Resources, RestrictedProfile, Storage, UpdateStrategy,
} from '../../src';
import { only, synthValid } from '../support/manifest';

function chart(): Chart {
  return new Chart(Testing.app(), 'test', { namespace: 'shop' });
}
const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
const VERSION = 'app.kubernetes.io/version';

describe('MySqlReplicaSet', () => {
  test('with no props renders a MySQL primary and two replicas that pass every check', () => {
    // GIVEN
    const c = chart();
    const db = new MySqlReplicaSet(c, 'orders');
    // WHEN
    const objects = synthValid(c);
    // THEN
    expect(db.replicas).toBe(3);
    expect(db.flavor.name).toBe('mysql');
    const sts = only(objects, 'StatefulSet');
    expect(sts.spec.podManagementPolicy).toBe('OrderedReady');
    expect(sts.spec.template.spec.containers[0].image).toBe('docker.io/library/mysql:8.4.8');
    expect(only(objects, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
    expect(objects).toMatchSnapshot();
  });

  test('MySQL defaults of the shared props: 20Gi claim, uid/gid 999, 120 s grace for a clean InnoDB shutdown, Resources.medium(), tag as version label', () => {
    const c = chart();
    new MySqlReplicaSet(c, 'orders');
    const sts = only(synthValid(c), 'StatefulSet');
    expect(sts.spec.volumeClaimTemplates.map((t: any) => [t.metadata.name, t.spec.resources.requests.storage])).toEqual([['data', '20Gi']]);
    expect(sts.spec.template.spec.securityContext).toMatchObject({ runAsUser: 999, runAsGroup: 999, fsGroup: 999 });
    expect(sts.spec.template.spec.terminationGracePeriodSeconds).toBe(120);
    expect(sts.spec.template.spec.containers[0].resources).toEqual({ requests: { cpu: '1000m', memory: '2048Mi' }, limits: { memory: '2048Mi' } });
    expect(sts.metadata.labels[VERSION]).toBe('8.4.8');
  });

  test('the shared props reach the unit: image, pull policy, update strategy, grace period, user, pod labels and annotations, ServiceAccount', () => {
    // GIVEN every shared knob MySQL does not default itself
    const c = chart();
    new MySqlReplicaSet(c, 'orders', {
      image: 'registry.example.com/mirror/mysql:8.4.2',
      imagePullPolicy: ImagePullPolicy.ALWAYS,
      updateStrategy: UpdateStrategy.rollingUpdate(2),
      terminationGracePeriod: Duration.seconds(300),
      runAs: { uid: 1001, gid: 1002 },
      podLabels: { team: 'orders' },
      podAnnotations: { 'example.com/owner': 'orders' },
      serviceAccount: new kplus.ServiceAccount(c, 'sa', { metadata: { name: 'orders-db' } }),
      disruptionBudget: { minAvailable: 2 },
    });
    // WHEN
    const objects = synthValid(c);
    // THEN
    const sts = only(objects, 'StatefulSet');
    const pod = sts.spec.template.spec;
    expect([...pod.initContainers, ...pod.containers].map((x: any) => [x.image, x.imagePullPolicy])).toEqual([
      ['registry.example.com/mirror/mysql:8.4.2', 'Always'], ['registry.example.com/mirror/mysql:8.4.2', 'Always'],
    ]);
    expect(sts.metadata.labels[VERSION]).toBe('8.4.2');
    expect(sts.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { partition: 2 } });
    expect(pod.terminationGracePeriodSeconds).toBe(300);
    expect(pod.securityContext).toMatchObject({ runAsUser: 1001, runAsGroup: 1002 });
    expect(sts.spec.template.metadata.labels.team).toBe('orders');
    expect(sts.spec.template.metadata.annotations['example.com/owner']).toBe('orders');
    expect(pod.serviceAccountName).toBe('orders-db');
    expect(objects.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name)).toEqual(['orders-db', 'test-orders-credentials-generate']);
    expect(only(objects, 'PodDisruptionBudget').spec).toMatchObject({ minAvailable: 2 });
  });

  test('name sets every object name; pod 0 in start.sh is the unit\'s pod 0', () => {
    const c = chart();
    const db = new MySqlReplicaSet(c, 'orders', { name: 'orders-db', clusterDomain: 'example.org' });
    const objects = synthValid(c);
    expect(db.workload.name).toBe('orders-db');
    expect(db.credentials.secretName).toBe('orders-db-credentials');
    expect(objects.filter((o) => o.kind === 'Service').map((o) => o.metadata.name).sort()).toEqual(['orders-db-headless', 'orders-db-primary', 'orders-db-read']);
    expect(db.primaryHost).toBe('orders-db-primary.shop.svc.example.org');
    expect(only(objects, 'ConfigMap').data['start.sh']).toContain(`primary=${db.podFqdn(0)}\n`);
    expect(db.podFqdn(0)).toBe('orders-db-0.orders-db-headless.shop.svc.example.org');
  });

  test('primaryHost targets ordinal 0 only and readHost every Ready member', () => {
    const c = chart();
    const db = new MySqlReplicaSet(c, 'orders');
    const objects = synthValid(c);
    expect(db.primaryHost).toBe('test-orders-primary.shop.svc.cluster.local');
    expect(db.readHost).toBe('test-orders-read.shop.svc.cluster.local');
    expect(db.port).toBe(3306);
    expect(only(objects, 'Service', 'test-orders-primary').spec.selector['statefulset.kubernetes.io/pod-name']).toBe('test-orders-0');
    expect(only(objects, 'Service', 'test-orders-read').spec.selector['statefulset.kubernetes.io/pod-name']).toBeUndefined();
    expect(db.podFqdn(1)).toBe('test-orders-1.test-orders-headless.shop.svc.cluster.local');
  });

  test('an init container writes the server id; the Secret is mounted as files', () => {
    const c = chart();
    new MySqlReplicaSet(c, 'orders', { flavor: MySqlFlavor.mariadb(), users: [{ name: 'app' }] });
    const pod = only(synthValid(c), 'StatefulSet').spec.template.spec;
    expect(pod.initContainers[0].command).toEqual(['bash', '/opt/cdk8s/mysql/identity.sh']);
    expect(pod.containers[0].command).toEqual(['bash', '/opt/cdk8s/mysql/start.sh']);
    expect(pod.volumes).toContainEqual({
      name: 'credentials',
      secret: { secretName: 'test-orders-credentials', defaultMode: 0o440, items: ['root-password', 'replication-password', 'app-password'].map((k) => ({ key: k, path: k })) },
    });
  });

  test('startup and liveness run probe.sh live, readiness probe.sh ready, with different timings and a 15-minute startup budget', () => {
    const c = chart();
    new MySqlReplicaSet(c, 'orders', { flavor: MySqlFlavor.mariadb(), maxReplicaLag: Duration.seconds(20) });
    const objects = synthValid(c);
    const main = only(objects, 'StatefulSet').spec.template.spec.containers[0];
    expect(main.startupProbe.exec.command).toEqual(['bash', '/opt/cdk8s/mysql/probe.sh', 'live']);
    expect(main.livenessProbe.exec.command).toEqual(['bash', '/opt/cdk8s/mysql/probe.sh', 'live']);
    expect(main.readinessProbe.exec.command).toEqual(['bash', '/opt/cdk8s/mysql/probe.sh', 'ready']);
    expect(main.livenessProbe.periodSeconds).not.toBe(main.readinessProbe.periodSeconds);
    expect(main.startupProbe.periodSeconds * main.startupProbe.failureThreshold).toBe(900);
    // the script the probes run, with the lag threshold of the prop
    expect(only(objects, 'ConfigMap').data['probe.sh']).toContain('\nmax_lag=20\n');
  });

  test('maxReplicaLag defaults to 60 s and is exposed resolved', () => {
    const c = chart();
    const db = new MySqlReplicaSet(c, 'orders');
    expect(db.maxReplicaLag.toSeconds()).toBe(60);
    expect(only(synthValid(c), 'ConfigMap').data['probe.sh']).toContain('\nmax_lag=60\n');
  });

  test('temporary files go to the claim: tmpdir is under the data mount; the runtime emptyDir is small', () => {
    const c = chart();
    new MySqlReplicaSet(c, 'orders');
    const objects = synthValid(c);
    const pod = only(objects, 'StatefulSet').spec.template.spec;
    const tmpdir = only(objects, 'ConfigMap').data['my.cnf'].match(/^tmpdir=(.*)$/m)[1];
    const mount = pod.containers[0].volumeMounts.find((m: any) => tmpdir.startsWith(`${m.mountPath}/`));
    expect(mount.name).toBe('data');
    expect(pod.volumes.find((v: any) => v.name === 'run').emptyDir.sizeLimit).toBe('64Mi');
  });

  test('the buffer pool defaults to half the memory limit', () => {
    const c = chart();
    const db = new MySqlReplicaSet(c, 'orders', { resources: Resources.of({ cpuMillis: 500, memory: Size.gibibytes(4) }) });
    expect(db.bufferPoolMebibytes).toBe(2048);
    expect(only(synthValid(c), 'ConfigMap').data['my.cnf']).toContain('innodb_buffer_pool_size=2048M');
  });

  test('no password appears in the manifest; an existing Secret replaces the generator', () => {
    const c = chart();
    new MySqlReplicaSet(c, 'orders', { existingSecret: 'orders-db', users: [{ name: 'app' }] });
    const objects = synthValid(c, { externalSecrets: { 'orders-db': ['root-password', 'replication-password', 'app-password'] } });
    expect(objects.filter((o) => o.kind === 'Job')).toEqual([]);
    expect(JSON.stringify(objects)).not.toMatch(/MYSQL_ROOT_PASSWORD|password"?\s*:\s*"[^"]/);
  });

  describe('version label of a digest-pinned image', () => {
    test('a tag and a digest: the tag is the version', () => {
      const c = chart();
      new MySqlReplicaSet(c, 'orders', { image: `docker.io/library/mysql:8.4.3@${DIGEST}` });
      const objects = synthValid(c);
      const sts = only(objects, 'StatefulSet');
      expect(sts.metadata.labels[VERSION]).toBe('8.4.3');
      expect(sts.spec.template.metadata.labels[VERSION]).toBe('8.4.3');
      expect(sts.spec.template.spec.containers[0].image).toBe(`docker.io/library/mysql:8.4.3@${DIGEST}`);
    });

    test('a digest only: no version label on any object', () => {
      const c = chart();
      new MySqlReplicaSet(c, 'orders', { image: `docker.io/library/mysql@${DIGEST}` });
      const objects = synthValid(c);
      const labelled = [...objects, ...objects.filter((o) => o.spec?.template).map((o) => o.spec.template)]
        .filter((o) => o.metadata?.labels?.[VERSION] !== undefined);
      expect(labelled).toEqual([]);
      expect(only(objects, 'StatefulSet').spec.template.spec.containers[0].image).toBe(`docker.io/library/mysql@${DIGEST}`);
    });
  });

  describe('flavor and image must agree', () => {
    test('MariaDB flavor with a mysql image throws, naming both and the fix', () => {
      expect(() => new MySqlReplicaSet(chart(), 'orders', { flavor: MySqlFlavor.mariadb(), image: 'docker.io/library/mysql:8.4.3' }))
        .toThrow("MySqlReplicaSet 'test/orders': image 'docker.io/library/mysql:8.4.3' is a MySQL image but flavor is MariaDB: use MySqlFlavor.mysql(), or a mariadb image such as 'docker.io/library/mariadb:11.4.4'");
    });

    test('MySQL flavor (the default) with a mariadb image behind a registry with a port and a digest throws', () => {
      const image = `registry.example.com:5000/mirror/mariadb:11.4.4@${DIGEST}`;
      expect(() => new MySqlReplicaSet(chart(), 'orders', { image }))
        .toThrow(`MySqlReplicaSet 'test/orders': image '${image}' is a MariaDB image but flavor is MySQL: use MySqlFlavor.mariadb(), or a mysql image such as 'docker.io/library/mysql:8.4.8'`);
    });

    test.each([
      'mysql/mysql-server:8.0.32',
      'percona/percona-server:8.0.39',
      `mysql@${DIGEST}`,
    ])('the MySQL family image %s is refused for MariaDB', (image) => {
      expect(() => new MySqlReplicaSet(chart(), 'orders', { flavor: MySqlFlavor.mariadb(), image })).toThrow(`image '${image}' is a MySQL image but flavor is MariaDB`);
    });

    test.each([
      ['mysql', 'registry.local:5000/team/orders-db:8.4.3'],
      ['mariadb', 'registry.local:5000/team/orders-db:8.4.3'],
      ['mysql', 'registry.local:5000/percona/percona-server:8.0.39'],
      ['mariadb', `quay.io/mirror/mariadb@${DIGEST}`],
    ])('MySqlFlavor.%s() accepts %s', (flavor, image) => {
      const c = chart();
      new MySqlReplicaSet(c, 'orders', { flavor: flavor === 'mysql' ? MySqlFlavor.mysql() : MySqlFlavor.mariadb(), image });
      expect(only(synthValid(c), 'StatefulSet').spec.template.spec.containers[0].image).toBe(image);
    });
  });

  describe('applications wire to it with cdk8s-plus', () => {
    test('a Deployment reads the password from the Secret (never the value) and is admitted on port mysql', () => {
      // GIVEN an app Deployment in the database's chart, wired with passwordEnv and allowClients
      const c = chart();
      const db = new MySqlReplicaSet(c, 'orders', { databases: ['orders'], users: [{ name: 'orders_app', databases: ['orders'] }] });
      const app = new kplus.Deployment(c, 'app', {
        containers: [{ image: 'x:1', envVariables: { DB_HOST: kplus.EnvValue.fromValue(db.primaryHost), DB_PASSWORD: db.passwordEnv('orders_app') } }],
      });
      RestrictedProfile.applyTo(app);
      db.allowClients(app);
      // WHEN (the cross-reference check proves the Secret key is one the generator Job creates)
      const objects = synthValid(c);
      // THEN its env reads the generated Secret's key
      const deployment = only(objects, 'Deployment');
      expect(deployment.spec.template.spec.containers[0].env).toEqual([
        { name: 'DB_HOST', value: 'test-orders-primary.shop.svc.cluster.local' },
        { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'test-orders-credentials', key: 'orders_app-password' } } },
      ]);
      // AND the NetworkPolicy admits exactly its pods on the SQL port
      expect(only(objects, 'NetworkPolicy', 'test-orders').spec.ingress).toContainEqual({
        from: [{ podSelector: { matchLabels: deployment.spec.selector.matchLabels }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } } }],
        ports: [{ port: 'mysql', protocol: 'TCP' }],
      });
    });

    test('a Deployment in another namespace is admitted by its selector labels in its own namespace only', () => {
      // GIVEN the database in namespace 'shop' and an app in namespace 'web'
      const a = Testing.app();
      const data = new Chart(a, 'test', { namespace: 'shop' });
      const web = new Chart(a, 'web', { namespace: 'web' });
      const db = new MySqlReplicaSet(data, 'orders');
      const app = new kplus.Deployment(web, 'app', { containers: [{ image: 'x:1', envVariables: { DB_HOST: kplus.EnvValue.fromValue(db.primaryHost) } }] });
      // WHEN
      db.allowClients(app);
      // THEN
      const selector = only(Testing.synth(web), 'Deployment').spec.selector.matchLabels;
      const rules = only(synthValid(data), 'NetworkPolicy').spec.ingress;
      expect(rules[rules.length - 1]).toEqual({
        from: [{ podSelector: { matchLabels: selector }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'web' } } }],
        ports: [{ port: 'mysql', protocol: 'TCP' }],
      });
    });

    test('allowClientsFrom takes kplus peers in place of the namespace default; the members keep the SQL port, which replicas replicate over', () => {
      // GIVEN clients restricted to one app
      const c = chart();
      new MySqlReplicaSet(c, 'orders', { allowClientsFrom: [kplus.Pods.select(c, 'api', { labels: { app: 'api' } })] });
      // WHEN
      const objects = synthValid(c);
      // THEN the SQL port admits the app and the set's own pods (in its namespace), and nobody else
      const members = only(objects, 'StatefulSet').spec.selector.matchLabels;
      expect(only(objects, 'NetworkPolicy').spec.ingress).toEqual([
        { from: [{ podSelector: { matchLabels: { app: 'api' } } }], ports: [{ port: 'mysql', protocol: 'TCP' }] },
        { from: [{ podSelector: { matchLabels: members }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } } }], ports: [{ port: 'mysql', protocol: 'TCP' }] },
      ]);
    });

    test('passwordEnv and passwordKey know root, replicator and the declared users only', () => {
      const db = new MySqlReplicaSet(chart(), 'orders', { users: [{ name: 'orders_app' }] });
      expect(['root', 'replicator', 'orders_app'].map((u) => db.passwordKey(u))).toEqual(['root-password', 'replication-password', 'orders_app-password']);
      expect(db.passwordEnv('root').valueFrom).toEqual({ secretKeyRef: { name: 'test-orders-credentials', key: 'root-password' } });
      expect(db.passwordEnv('root').value).toBeUndefined();
      expect(() => db.passwordEnv('orders')).toThrow(
        "MySqlReplicaSet 'test/orders': passwordEnv user must be 'root', 'replicator' or one of users ('orders_app'), got 'orders'");
      expect(() => db.passwordKey('app')).toThrow("passwordKey user must be 'root', 'replicator' or one of users ('orders_app'), got 'app'");
    });

    test('allowClients with networkPolicy: false is an error, not a silent no-op', () => {
      const c = chart();
      const db = new MySqlReplicaSet(c, 'orders', { networkPolicy: false });
      expect(Testing.synth(c).filter((o) => o.kind === 'NetworkPolicy')).toEqual([]);
      expect(() => db.allowClients(kplus.Pods.all(c, 'everyone')))
        .toThrow("MySqlReplicaSet 'test/orders': networkPolicy is off, so allowClients('test/everyone') would do nothing");
    });
  });

  test('a name too long for the generated Secret\'s Job names the MySQL name, not an internal prop', () => {
    const name = 'a'.repeat(43);
    expect(() => new MySqlReplicaSet(chart(), 'orders', { name }))
      .toThrow(`MySqlReplicaSet 'test/orders': name '${name}' is 43 characters; with a generated Secret at most 42 are allowed`);
    expect(() => new MySqlReplicaSet(chart(), 'orders', { name: 'a'.repeat(42) })).not.toThrow();
    expect(() => new MySqlReplicaSet(chart(), 'orders', { name, existingSecret: 'orders-db' })).not.toThrow();
    const id = 'o'.repeat(38);
    expect(() => new MySqlReplicaSet(chart(), id)).toThrow(`name 'test-${id}' is 43 characters; with a generated Secret at most 42 are allowed (its generator's ServiceAccount and Role 'test-${id}-credentials-generate' must fit 63): shorten the ids 'test', '${id}' or set a shorter name, or bring existingSecret`);
  });

  const P = "MySqlReplicaSet 'test/orders': ";
  test.each<[string, MySqlReplicaSetProps, string]>([
    ['bufferPool above the limit', { bufferPool: Size.gibibytes(4) }, `${P}bufferPool (4096Mi) must be smaller than the memory limit (2048Mi)`],
    ['bufferPool below 8Mi', { bufferPool: Size.mebibytes(4) }, `${P}bufferPool must be at least 8Mi, got 4Mi`],
    ['replicas 0', { replicas: 0 }, `${P}replicas must be an integer from 1 to 100, got 0`],
    ['maxConnections 0', { maxConnections: 0 }, `${P}maxConnections must be an integer from 1 to 100000, got 0`],
    ['a bad database name', { databases: ['bad-name'] }, `${P}databases 'bad-name' is not a valid database name`],
    ['duplicate databases', { databases: ['a', 'a'] }, `${P}databases contain duplicates: a, a`],
    ['a reserved user', { users: [{ name: 'root' }] }, `${P}users 'root' is reserved`],
    ['a bad user name', { users: [{ name: 'app-1' }] }, `${P}users 'app-1' is not a valid user name`],
    ['two users of one name', { users: [{ name: 'app' }, { name: 'app' }] }, `${P}users has two users named 'app'`],
    ['a grant on an undeclared database', { users: [{ name: 'app', databases: ['nope'] }] }, `${P}users 'app' databases name 'nope', which is not in databases`],
    ['server_id in config', { config: ['server_id=7'] }, `${P}config must not set 'server_id=7'`],
    ['a password in config', { config: ['password=x'] }, `${P}config must not contain passwords`],
    ['a short binlogExpiry', { binlogExpiry: Duration.minutes(1) }, `${P}binlogExpiry (seconds) must be an integer from 3600`],
    ['a bad collation', { collation: 'utf8mb4 bin' }, `${P}collation must be a collation name, got 'utf8mb4 bin'`],
    ['maxReplicaLag under a second', { maxReplicaLag: Duration.millis(500) }, `${P}maxReplicaLag (seconds) must be an integer from 1 to 86400, got 0.5`],
    ['maxReplicaLag over a day', { maxReplicaLag: Duration.days(2) }, `${P}maxReplicaLag (seconds) must be an integer from 1 to 86400, got 172800`],
  ])('invalid props throw: %s', (_what, props, message) => {
    expect(() => new MySqlReplicaSet(chart(), 'orders', props)).toThrow(message);
  });

  test.each<[string, any, string]>([
    ['storage as a plain object', { storage: { size: '10Gi' } },
      `${P}storage must be Storage.persistent({ size: Size.gibibytes(10) }) or Storage.ephemeral(), got a plain object {"size":"10Gi"}`],
    ['a string storage size', { storage: Storage.persistent({ size: '10Gi' as any }) },
      `${P}storage size must be a Size such as Size.gibibytes(10), got the string '10Gi'`],
    ['bufferPool as a string', { bufferPool: '2Gi' }, `${P}bufferPool must be a Size such as Size.gibibytes(2), got the string '2Gi'`],
    ['flavor as a string', { flavor: 'mariadb' }, `${P}flavor must be MySqlFlavor.mysql() or MySqlFlavor.mariadb(), got the string 'mariadb'`],
    ['binlogExpiry as seconds', { binlogExpiry: 86400 }, `${P}binlogExpiry must be a Duration such as Duration.days(7), got 86400`],
    ['maxReplicaLag as seconds', { maxReplicaLag: 30 }, `${P}maxReplicaLag must be a Duration such as Duration.seconds(60), got 30`],
    ['resources as a plain object', { resources: { cpuMillis: 500 } }, `${P}resources must be a Resources such as Resources.medium()`],
    ['databases as a string', { databases: 'orders' }, `${P}databases must be a list of strings, got the string 'orders'`],
    ['a number among the config lines', { config: ['a=1', 2] }, `${P}config must be a list of strings, got 2 in it`],
    ['a user without a name', { users: [{ databases: [] }] }, `${P}users undefined is not a valid user name`],
    ['users as an object', { users: { name: 'app' } }, `${P}users must be a list of { name, databases }, got a plain object {"name":"app"}`],
    ['a number as image', { image: 8 }, `${P}image must be an image reference (a string such as 'registry.example.com/name:1.2.3'), got 8`],
    ['a number as characterSet', { characterSet: 8 }, `${P}characterSet must be a character set name, got 8`],
  ])('wrong types from JavaScript throw a clear error: %s', (_what, props, message) => {
    expect(() => new MySqlReplicaSet(chart(), 'orders', props)).toThrow(message);
  });
});
