import { Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { ImagePullPolicy, Resources, Storage, UpdateStrategy } from '../../src';
import { PostgresReplicaSet, PostgresReplicaSetProps, PostgresSynchronousCommit } from '../../src/postgres/postgres-replica-set';
import { objectsOf, only, synthValid } from '../support/manifest';

type Json = any;

function chart(): Chart {
  return new Chart(Testing.app(), 'test', { namespace: 'shop' });
}
function build(props: PostgresReplicaSetProps = {}): { db: PostgresReplicaSet; objects: Json[] } {
  const c = chart();
  const db = new PostgresReplicaSet(c, 'orders', props);
  return { db, objects: synthValid(c) };
}
const conf = (objects: Json[]) => only(objects, 'ConfigMap').data['postgresql.conf'] as string;
const setting = (objects: Json[], name: string) => new RegExp(`^${name} = (.*)$`, 'm').exec(conf(objects))?.[1];
const pod = (objects: Json[]) => only(objects, 'StatefulSet').spec.template.spec;

describe('PostgresReplicaSet', () => {
  test('with no props renders a primary and two hot standbys on the pinned official image that pass every check', () => {
    // GIVEN / WHEN
    const { db, objects } = build();
    // THEN
    expect(db.replicas).toBe(3);
    const sts = only(objects, 'StatefulSet');
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.podManagementPolicy).toBe('OrderedReady');
    expect(pod(objects).containers.map((c: Json) => [c.name, c.image])).toEqual([
      ['postgres', 'docker.io/library/postgres:18.3'], ['slots', 'docker.io/library/postgres:18.3'],
    ]);
    expect(sts.metadata.labels['app.kubernetes.io/version']).toBe('18.3');
    expect(only(objects, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
    expect(objectsOf(objects, 'ServiceMonitor')).toEqual([]);
  });

  test('PostgreSQL defaults of the shared props: 20Gi claim, uid/gid 999, 60 s grace, Resources.medium()', () => {
    const { objects } = build();
    const sts = only(objects, 'StatefulSet');
    expect(sts.spec.volumeClaimTemplates.map((t: Json) => [t.metadata.name, t.spec.resources.requests.storage])).toEqual([['data', '20Gi']]);
    expect(pod(objects).securityContext).toMatchObject({ runAsUser: 999, runAsGroup: 999, fsGroup: 999 });
    expect(pod(objects).terminationGracePeriodSeconds).toBe(60);
    expect(pod(objects).containers[0].resources).toEqual({ requests: { cpu: '1000m', memory: '2048Mi' }, limits: { memory: '2048Mi' } });
  });

  test('shared_buffers, effective_cache_size and max_slot_wal_keep_size derive from the memory limit and the volume', () => {
    // GIVEN 1 GiB of memory and a 8 GiB volume
    const { db, objects } = build({ resources: Resources.of({ cpuMillis: 500, memory: Size.gibibytes(1) }), storage: Storage.persistent({ size: Size.gibibytes(8) }) });
    // THEN a quarter, three quarters, a quarter of the volume
    expect(db.sharedBuffersMebibytes).toBe(256);
    expect(setting(objects, 'shared_buffers')).toBe('256MB');
    expect(setting(objects, 'effective_cache_size')).toBe('768MB');
    expect(setting(objects, 'max_slot_wal_keep_size')).toBe('2048MB');
    expect(setting(objects, 'maintenance_work_mem')).toBe('64MB');
  });

  test('typed parameters and the free-form map reach postgresql.conf', () => {
    const { objects } = build({
      parameters: {
        maxConnections: 300, sharedBuffers: Size.mebibytes(700), effectiveCacheSize: Size.gibibytes(1), workMem: Size.mebibytes(16),
        maintenanceWorkMem: Size.mebibytes(256), maxSlotWalKeepSize: Size.gibibytes(2), extra: { log_min_duration_statement: '500ms' },
      },
    });
    expect([
      setting(objects, 'max_connections'), setting(objects, 'shared_buffers'), setting(objects, 'effective_cache_size'), setting(objects, 'work_mem'),
      setting(objects, 'maintenance_work_mem'), setting(objects, 'max_slot_wal_keep_size'), setting(objects, 'log_min_duration_statement'),
    ]).toEqual(['300', '700MB', '1024MB', '16384kB', '256MB', '2048MB', "'500ms'"]);
  });

  test('max_wal_senders and max_replication_slots cover the replicas and never shrink below the defaults', () => {
    expect([setting(build({ replicas: 3 }).objects, 'max_wal_senders'), setting(build({ replicas: 3 }).objects, 'max_replication_slots')]).toEqual(['20', '10']);
    const big = build({ replicas: 12 }).objects;
    expect([setting(big, 'max_wal_senders'), setting(big, 'max_replication_slots')]).toEqual(['28', '14']);
  });

  test('the primary Service selects only ordinal 0; the read Service every Ready member; both on the SQL port', () => {
    const { db, objects } = build({ name: 'orders-db' });
    const primary = only(objects, 'Service', 'orders-db-primary');
    expect(primary.spec.selector['statefulset.kubernetes.io/pod-name']).toBe('orders-db-0');
    expect(primary.spec.ports).toEqual([{ name: 'postgres', port: 5432, targetPort: 'postgres', protocol: 'TCP' }]);
    const read = only(objects, 'Service', 'orders-db-read');
    expect(read.spec.selector['statefulset.kubernetes.io/pod-name']).toBeUndefined();
    expect(db.primaryHost).toBe('orders-db-primary.shop.svc.cluster.local');
    expect(db.readHost).toBe('orders-db-read.shop.svc.cluster.local');
    expect(db.primaryService.name).toBe('orders-db-primary');
    expect(db.readService.name).toBe('orders-db-read');
    // start.sh streams from pod 0 of the same unit
    expect(only(objects, 'ConfigMap').data['start.sh']).toContain(`primary=${db.podFqdn(0)}\n`);
  });

  test('with allowClientsFrom the SQL port admits the named clients and the set\'s own pods, which bootstrap and stream from the primary over it', () => {
    // GIVEN clients restricted to one app
    const c = chart();
    new PostgresReplicaSet(c, 'orders', { allowClientsFrom: [kplus.Pods.select(c, 'api', { labels: { app: 'api' } })] });
    // WHEN
    const objects = synthValid(c);
    // THEN port postgres admits the app and the members (in their namespace), and nobody else
    const members = only(objects, 'StatefulSet').spec.selector.matchLabels;
    const rules = only(objects, 'NetworkPolicy').spec.ingress.filter((r: Json) => r.ports.some((p: Json) => p.port === 'postgres'));
    expect(rules).toEqual([
      { from: [{ podSelector: { matchLabels: { app: 'api' } } }], ports: [{ port: 'postgres', protocol: 'TCP' }] },
      { from: [{ podSelector: { matchLabels: members }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } } }], ports: [{ port: 'postgres', protocol: 'TCP' }] },
    ]);
  });

  test('probes: startup budget of an hour, role-aware readiness, a cheaper and slower liveness', () => {
    const c = pod(build().objects).containers[0];
    expect(c.startupProbe.exec.command).toEqual(['bash', '/opt/cdk8s/postgres/probe.sh', 'live']);
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBe(3600);
    expect(c.readinessProbe.exec.command).toEqual(['bash', '/opt/cdk8s/postgres/probe.sh', 'ready']);
    expect(c.livenessProbe.exec.command).toEqual(['bash', '/opt/cdk8s/postgres/probe.sh', 'live']);
    expect(c.livenessProbe.periodSeconds).toBeGreaterThan(c.readinessProbe.periodSeconds);
  });

  test('credentials: generated in the cluster with a key per user; no password in the manifest', () => {
    const { db, objects } = build({ databases: ['shop'], users: [{ name: 'orders_app', databases: ['shop'] }] });
    expect(db.credentials.keys).toEqual(['postgres-password', 'replication-password', 'orders_app-password']);
    expect(objectsOf(objects, 'Secret')).toEqual([]);
    expect(db.passwordKey('orders_app')).toBe('orders_app-password');
    expect(only(objects, 'ConfigMap').data['start.sh']).toContain('CREATE DATABASE "shop" OWNER "orders_app";');
    expect(() => db.passwordEnv('nobody')).toThrow("PostgresReplicaSet 'test/orders': passwordEnv user must be one of 'postgres', 'replicator', 'orders_app', got 'nobody'");
  });

  test('connectionEnv wires a kplus container to the primary with the password from the Secret', () => {
    const c = chart();
    const db = new PostgresReplicaSet(c, 'orders', { databases: ['shop'], users: [{ name: 'app', databases: ['shop'] }] });
    const app = new kplus.Deployment(c, 'web', { containers: [{ image: 'example.com/web:1.0', envVariables: db.connectionEnv('app', 'shop') }] });
    db.allowClients(app);
    // (the kplus Deployment is the user's: only the wiring is checked here)
    const objects = Testing.synth(c);
    const env = only(objects, 'Deployment').spec.template.spec.containers[0].env;
    expect(env).toEqual(expect.arrayContaining([
      { name: 'PGHOST', value: db.primaryHost },
      { name: 'PGPORT', value: '5432' },
      { name: 'PGUSER', value: 'app' },
      { name: 'PGDATABASE', value: 'shop' },
      { name: 'PGPASSWORD', valueFrom: { secretKeyRef: { name: db.credentials.secretName, key: 'app-password' } } },
    ]));
  });

  test('existingSecret: nothing is generated and the pods read the named Secret', () => {
    const c = chart();
    new PostgresReplicaSet(c, 'orders', { existingSecret: 'pg-secrets' });
    const objects = synthValid(c, { externalSecrets: { 'pg-secrets': ['postgres-password', 'replication-password'] } });
    expect(objectsOf(objects, 'Job')).toEqual([]);
    expect(pod(objects).volumes.find((v: Json) => v.name === 'credentials').secret.secretName).toBe('pg-secrets');
  });

  test('monitoring adds the exporter sidecar with its own user, a ServiceMonitor and the alerts', () => {
    const { db, objects } = build({ monitoring: { labels: { release: 'prom' } } });
    const exporter = pod(objects).containers.find((c: Json) => c.name === 'exporter');
    expect(exporter.image).toBe('quay.io/prometheuscommunity/postgres-exporter:v0.17.1');
    expect(exporter.ports).toEqual([{ name: 'metrics', containerPort: 9187, protocol: 'TCP' }]);
    // a broken exporter restarts itself; it never makes the database unready
    expect(exporter.readinessProbe).toBeUndefined();
    expect(exporter.livenessProbe).toMatchObject({ httpGet: { path: '/metrics', port: 'metrics' }, failureThreshold: 3 });
    expect(exporter.env).toEqual(expect.arrayContaining([
      { name: 'DATA_SOURCE_USER', value: 'monitor' },
      { name: 'DATA_SOURCE_PASS', valueFrom: { secretKeyRef: { name: db.credentials.secretName, key: 'monitor-password' } } },
    ]));
    expect(db.credentials.keys).toContain('monitor-password');
    expect(only(objects, 'ConfigMap').data['start.sh']).toContain('GRANT pg_monitor TO monitor;');
    expect(only(objects, 'ServiceMonitor').metadata.labels.release).toBe('prom');
    const rules = only(objects, 'PrometheusRule').spec.groups[0].rules;
    expect(rules.map((r: Json) => r.alert)).toEqual(['PostgresInstanceDown', 'PostgresReplicationLagHigh', 'PostgresSlotWalRetained', 'PostgresConnectionsNearMax']);
    // every rule is scoped to the series this set's ServiceMonitor scrapes
    for (const r of rules) expect(r.expr).toContain(`job="${db.workload.headlessServiceName}", namespace="shop"`);
    // the slot alert fires at 80% of max_slot_wal_keep_size (a quarter of 20 GiB), in bytes
    expect(rules[2].expr).toContain(`> 80 / 100 * ${5120 * 1024 * 1024}`);
  });

  test('synchronous: ANY n renders a quorum over the standbys', () => {
    expect(setting(build({ synchronous: PostgresSynchronousCommit.any(2) }).objects, 'synchronous_standby_names')).toBe("'ANY 2 (*)'");
    expect(setting(build({ synchronous: PostgresSynchronousCommit.off() }).objects, 'synchronous_standby_names')).toBe("''");
  });

  test('the shared props reach the unit', () => {
    const { objects } = build({
      image: 'registry.example.com/mirror/postgres:17.9', imagePullPolicy: ImagePullPolicy.ALWAYS, updateStrategy: UpdateStrategy.rollingUpdate(2),
      terminationGracePeriod: Duration.seconds(120), podLabels: { team: 'orders' },
    });
    const sts = only(objects, 'StatefulSet');
    expect(pod(objects).containers.map((c: Json) => [c.image, c.imagePullPolicy])[0]).toEqual(['registry.example.com/mirror/postgres:17.9', 'Always']);
    expect(sts.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { partition: 2 } });
    expect(pod(objects).terminationGracePeriodSeconds).toBe(120);
    expect(sts.spec.template.metadata.labels.team).toBe('orders');
  });
});

describe('PostgresReplicaSet bad input', () => {
  const fails = (props: PostgresReplicaSetProps) => () => new PostgresReplicaSet(chart(), 'orders', props);
  test.each([
    ['replicas < 1', { replicas: 0 }, "PostgresReplicaSet 'test/orders': replicas must be an integer from 1 to 100, got 0"],
    ['fractional replicas', { replicas: 2.5 }, 'replicas must be an integer from 1 to 100, got 2.5'],
    ['shared_buffers over the limit', { resources: Resources.of({ cpuMillis: 500, memory: Size.gibibytes(1) }), parameters: { sharedBuffers: Size.mebibytes(900) } },
      'parameters.sharedBuffers (900Mi) does not fit the memory limit (1024Mi): at most three quarters (768Mi) are allowed'],
    ['shared_buffers as a string', { parameters: { sharedBuffers: '1GB' as any } }, "parameters.sharedBuffers must be a Size such as Size.mebibytes(512), got the string '1GB'"],
    ['slot WAL bound over the volume', { storage: Storage.persistent({ size: Size.gibibytes(1) }), parameters: { maxSlotWalKeepSize: Size.gibibytes(2) } },
      'parameters.maxSlotWalKeepSize (2048Mi) must be smaller than the data volume (1Gi)'],
    ['an owned parameter in the map', { parameters: { extra: { wal_level: 'logical' } } }, "parameters.extra must not set 'wal_level': the construct renders it"],
    ['a typed parameter in the map', { parameters: { extra: { shared_buffers: '1GB' } } }, "parameters.extra must not set 'shared_buffers': use parameters.sharedBuffers"],
    ['a multi-line value', { parameters: { extra: { search_path: 'a\nb' } } }, "parameters.extra 'search_path' must be a one-line string"],
    ['PostgreSQL 12', { image: 'docker.io/library/postgres:12.20' }, "image is PostgreSQL 12 (tag '12.20'); at least 13 is required"],
    ['synchronous without standbys', { replicas: 1, synchronous: PostgresSynchronousCommit.any(1) }, 'synchronous needs standbys to wait for, but replicas is 1'],
    ['a quorum larger than the standbys', { replicas: 3, synchronous: PostgresSynchronousCommit.any(3) }, 'synchronous quorum (PostgresSynchronousCommit.any) must be an integer from 1 to 2, got 3'],
    ['a quorum of 0', { synchronous: PostgresSynchronousCommit.any(0) }, 'must be an integer from 1 to 2, got 0'],
    ['synchronous as a string', { synchronous: 'ANY 1' as any }, "synchronous must be PostgresSynchronousCommit.off() or PostgresSynchronousCommit.any(n), got the string 'ANY 1'"],
    ['a reserved user', { users: [{ name: 'replicator' }] }, "users 'replicator' is reserved"],
    ['an upper-case user', { users: [{ name: 'App' }] }, "users 'App' is not a valid user name"],
    ['a database owned by an unknown database', { users: [{ name: 'app', databases: ['nope'] }] }, "users 'app' databases name 'nope', which is not in databases (none)"],
    ['two owners of a database', { databases: ['shop'], users: [{ name: 'a', databases: ['shop'] }, { name: 'b', databases: ['shop'] }] }, "name 'shop', which 'a' already owns"],
    ['a template database', { databases: ['template1'] }, "databases 'template1' is not a valid name"],
  ])('%s throws a clear error', (_what, props, message) => {
    expect(fails(props as PostgresReplicaSetProps)).toThrow(message);
  });
});
