import { Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  AntiAffinity, ImagePullPolicy, RedisCluster, Resources, RestrictedProfile, Storage, UpdateStrategy,
} from '../../src';
import { renderRedisBootstrapScript, renderRedisConf, renderRedisStartScript } from '../../src/redis/config';
import { DEFAULT_REDIS_IMAGE, REDIS_PASSWORD_KEY } from '../../src/redis/settings';
import { objectsOf, only, synthValid } from '../support/manifest';

function chart(namespace: string = 'cache', id: string = 'test'): Chart {
  return new Chart(Testing.app(), id, { namespace });
}

/** The NetworkPolicy rules that open `port`. */
function rulesFor(policy: any, port: string): any[] {
  return policy.spec.ingress.filter((r: any) => r.ports.some((p: any) => p.port === port));
}

/** True when `selector` selects a pod with `labels`. */
function selects(selector: { [k: string]: string } | undefined, labels: { [k: string]: string }): boolean {
  return selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** A restricted cdk8s-plus Deployment of an app that uses the cache. */
function app(scope: Chart, env: { [name: string]: kplus.EnvValue }): kplus.Deployment {
  const d = new kplus.Deployment(scope, 'api', {
    containers: [{
      image: 'example/api:1.0.0',
      portNumber: 8080,
      securityContext: { user: 10001, group: 10001 },
      resources: { cpu: { request: kplus.Cpu.millis(100) }, memory: { request: Size.mebibytes(128), limit: Size.mebibytes(128) } },
      envVariables: env,
    }],
  });
  RestrictedProfile.applyTo(d);
  return d;
}

describe('redis renderers', () => {
  test('redis.conf enables cluster mode with nodes.conf on the claim, a 5 s node timeout and AOF, and no password', () => {
    const conf = renderRedisConf({ nodeTimeoutMillis: 5000, maxMemoryMebibytes: 700, extraLines: ['hz 20'] });
    expect(conf.split('\n')).toEqual(expect.arrayContaining([
      'port 6379', 'cluster-enabled yes', 'cluster-config-file /data/nodes.conf', 'cluster-node-timeout 5000',
      'cluster-port 16379', 'appendonly yes', 'dir /data', 'maxmemory 700mb', 'hz 20',
    ]));
    expect(conf).not.toMatch(/requirepass|masterauth/);
  });

  test('redis.conf without a memory share sets no maxmemory', () => {
    const conf = renderRedisConf({ nodeTimeoutMillis: 5000, maxMemoryMebibytes: 0, extraLines: [] });
    expect(conf).not.toMatch(/maxmemory/);
    expect(conf).not.toContain('# extra lines');
  });

  test('start.sh announces the pod IP and FQDN, rewrites nodes.conf addresses and takes the password from the environment', () => {
    const script = renderRedisStartScript({ headlessServiceName: 'c-headless', clusterDomain: 'cluster.local', auth: true, resolveWaitSeconds: 20 });
    expect(script).toMatch(/^#!\/bin\/bash\n/);
    expect(script).toContain('set -euo pipefail');
    expect(script).toContain('fqdn="${host}.c-headless.${POD_NAMESPACE}.svc.cluster.local"');
    expect(script).toContain('echo "cluster-announce-ip $POD_IP"');
    expect(script).toContain('echo "cluster-announce-hostname $fqdn"');
    expect(script).toContain('requirepass $(conf_quote "$REDISCLI_AUTH")');
    expect(script).toContain('masterauth $(conf_quote "$REDISCLI_AUTH")');
    expect(script).toContain('ip="$POD_IP"');
    expect(script).toContain('resolve "$hostname"');
    expect(script).toContain('exec redis-server "$runtime_conf"');
  });

  test('start.sh without auth sets no password', () => {
    const script = renderRedisStartScript({ headlessServiceName: 'c-headless', clusterDomain: 'cluster.local', auth: false, resolveWaitSeconds: 20 });
    expect(script).not.toMatch(/requirepass|masterauth|REDISCLI_AUTH/);
  });

  test('the bootstrap script waits for every node, skips an existing cluster and creates it once', () => {
    const script = renderRedisBootstrapScript({ nodeHosts: ['a.x', 'b.x'], replicasPerMaster: 2, waitSeconds: 300 });
    expect(script).toContain('nodes=(\n  a.x\n  b.x\n)');
    expect(script).toContain('for ((i = 0; i < 150; i++)); do');
    expect(script).toContain('if [[ "$known" != 1 || "$assigned" != 0 ]]; then');
    expect(script).toContain('redis-cli --cluster create "${addresses[@]}" --cluster-replicas 2 --cluster-yes');
  });
});

describe('RedisCluster', () => {
  test('with no props renders 3 masters x 1 replica that pass every check', () => {
    // GIVEN
    const c = chart();
    const rc = new RedisCluster(c, 'cache');
    // WHEN
    const objects = synthValid(c);
    // THEN
    expect(rc.nodes).toBe(6);
    expect(only(objects, 'StatefulSet').spec.replicas).toBe(6);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`.replace(/-(boot|gen)-[0-9a-f]{4}$/, '-$1-<hash>')).sort()).toEqual([
      'ConfigMap/test-cache-config', 'Job/test-cache-boot-<hash>', 'Job/test-cache-credentials-gen-<hash>',
      'NetworkPolicy/test-cache', 'PodDisruptionBudget/test-cache', 'Role/test-cache-credentials-generate',
      'RoleBinding/test-cache-credentials-generate', 'Service/test-cache', 'Service/test-cache-headless',
      'ServiceAccount/test-cache', 'ServiceAccount/test-cache-credentials-generate', 'StatefulSet/test-cache',
    ]);
    expect(objects).toMatchSnapshot();
  });

  test('the defaults of the shared props are Redis\'s: image, version label, user 999, 30 s grace, 10Gi claim, small resources', () => {
    const c = chart();
    new RedisCluster(c, 'cache');
    const sts = only(synthValid(c), 'StatefulSet');
    const pod = sts.spec.template.spec;
    expect(pod.containers[0].image).toBe(DEFAULT_REDIS_IMAGE);
    expect(DEFAULT_REDIS_IMAGE).toBe('docker.io/library/redis:7.2.7');
    expect(sts.metadata.labels['app.kubernetes.io/version']).toBe('7.2.7');
    expect(pod.securityContext).toMatchObject({ runAsUser: 999, runAsGroup: 999, fsGroup: 999 });
    expect(pod.terminationGracePeriodSeconds).toBe(30);
    expect(sts.spec.volumeClaimTemplates.map((t: any) => [t.metadata.name, t.spec.resources.requests.storage])).toEqual([['data', '10Gi']]);
    expect(pod.containers[0].resources).toEqual({ requests: { cpu: '250m', memory: '1024Mi' }, limits: { memory: '1024Mi' } });
  });

  test('seedNodes lists every pod FQDN on the client port', () => {
    const rc = new RedisCluster(chart(), 'cache', { masters: 3, replicasPerMaster: 0 });
    expect(rc.seedNodes).toBe([0, 1, 2].map((i) => `test-cache-${i}.test-cache-headless.cache.svc.cluster.local:6379`).join(','));
  });

  test('ports are client 6379 and gossip 16379 (peers only), pods start in parallel and the PDB allows one disruption', () => {
    const c = chart();
    new RedisCluster(c, 'cache');
    const objects = synthValid(c);
    const sts = only(objects, 'StatefulSet');
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    expect(sts.spec.template.spec.containers[0].ports).toEqual([
      { name: 'client', containerPort: 6379, protocol: 'TCP' }, { name: 'gossip', containerPort: 16379, protocol: 'TCP' },
    ]);
    expect(only(objects, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
    const np = only(objects, 'NetworkPolicy');
    expect(rulesFor(np, 'gossip')).toEqual([{ from: [{ podSelector: { matchLabels: sts.spec.selector.matchLabels } }], ports: [{ port: 'gossip', protocol: 'TCP' }] }]);
  });

  test('liveness is PING and readiness is cluster_state:ok', () => {
    const c = chart();
    new RedisCluster(c, 'cache');
    const redis = only(synthValid(c), 'StatefulSet').spec.template.spec.containers[0];
    expect(redis.livenessProbe.exec.command).toEqual(['redis-cli', 'ping']);
    expect(redis.readinessProbe.exec.command).toEqual(['bash', '-c', 'redis-cli cluster info | grep -q "^cluster_state:ok"']);
  });

  test('the password comes from the generated Secret, never from the ConfigMap', () => {
    const c = chart();
    const rc = new RedisCluster(c, 'cache');
    const objects = synthValid(c);
    const redis = only(objects, 'StatefulSet').spec.template.spec.containers[0];
    expect(redis.env).toEqual([
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'REDISCLI_AUTH', valueFrom: { secretKeyRef: { name: 'test-cache-credentials', key: 'password' } } },
    ]);
    expect(only(objects, 'ConfigMap').data['redis.conf']).not.toMatch(/requirepass|masterauth/);
    expect(rc.credentials!.secretName).toBe('test-cache-credentials');
    expect(RedisCluster.PASSWORD_KEY).toBe(REDIS_PASSWORD_KEY);
    expect(rc.credentials!.keys).toEqual([RedisCluster.PASSWORD_KEY]);
  });

  test('an existing Secret replaces the generator', () => {
    const c = chart();
    new RedisCluster(c, 'cache', { existingSecret: 'redis-auth' });
    const objects = synthValid(c, { externalSecrets: { 'redis-auth': ['password'] } });
    expect(objects.filter((o) => o.kind === 'Job').map((o) => o.metadata.name)).toEqual([expect.stringMatching(/^test-cache-boot-[0-9a-f]{4}$/)]);
    const redis = only(objects, 'StatefulSet').spec.template.spec.containers[0];
    expect(redis.env).toContainEqual({ name: 'REDISCLI_AUTH', valueFrom: { secretKeyRef: { name: 'redis-auth', key: 'password' } } });
  });

  test('the bootstrap Job is named after its script: more masters make a new Job instead of an immutable-template update', () => {
    const name = (masters: number) => new RedisCluster(chart(), 'cache', { masters }).bootstrapJob.name;
    expect(name(3)).toBe(name(3));
    expect(name(4)).not.toBe(name(3));
  });

  test('the bootstrap Job runs redis-cli --cluster create with the replica count, authenticated from the Secret, bounded in retries and time', () => {
    const c = chart();
    const rc = new RedisCluster(c, 'cache', { masters: 4, replicasPerMaster: 2 });
    const job = only(synthValid(c), 'Job', rc.bootstrapJob.name);
    expect(rc.bootstrapJob.name).toMatch(/^test-cache-boot-[0-9a-f]{4}$/);
    expect(job.spec).toMatchObject({ backoffLimit: 10, ttlSecondsAfterFinished: 3600, activeDeadlineSeconds: 5400 });
    const pod = job.spec.template.spec;
    expect(pod).toMatchObject({ restartPolicy: 'OnFailure', automountServiceAccountToken: false, securityContext: { runAsUser: 999, runAsGroup: 999 } });
    const container = pod.containers[0];
    expect(container.image).toBe(DEFAULT_REDIS_IMAGE);
    expect(container.command[0]).toBe('bash');
    expect(container.command[2]).toContain('--cluster-replicas 2 --cluster-yes');
    expect(container.command[2]).toContain('test-cache-11.test-cache-headless.cache.svc.cluster.local');
    expect(container.command[2]).toContain('for ((i = 0; i < 150; i++)); do');
    expect(container.env).toEqual([{ name: 'REDISCLI_AUTH', valueFrom: { secretKeyRef: { name: 'test-cache-credentials', key: 'password' } } }]);
    expect(container.resources).toEqual({ requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '256Mi' } });
  });

  test('the NetworkPolicy admits the bootstrap Job to the client port, and its selector matches the Job\'s pods but no Redis node', () => {
    const c = chart();
    const rc = new RedisCluster(c, 'cache', { allowClientsFrom: [] });
    const objects = synthValid(c);
    const jobPodLabels = only(objects, 'Job', rc.bootstrapJob.name).spec.template.metadata.labels;
    const nodeLabels = only(objects, 'StatefulSet').spec.template.metadata.labels;
    const rules = rulesFor(only(objects, 'NetworkPolicy'), 'client');
    // allowClientsFrom: [] admits no client, so the Job's rule and the nodes' own are the only ones
    expect(rules).toHaveLength(2);
    const job = rules.find((r) => selects(r.from[0].podSelector.matchLabels, jobPodLabels))!;
    expect(job.ports).toEqual([{ port: 'client', protocol: 'TCP' }]);
    expect(job.from).toHaveLength(1);
    expect(job.from[0].namespaceSelector).toBeUndefined();
    expect(selects(job.from[0].podSelector.matchLabels, nodeLabels)).toBe(false);
  });

  test('with named clients the nodes keep the client port, which replicas sync from their masters over', () => {
    // GIVEN clients restricted to one app
    const c = chart();
    new RedisCluster(c, 'cache', { allowClientsFrom: [kplus.Pods.select(c, 'clients', { labels: { role: 'cache-client' } })] });
    // WHEN
    const objects = synthValid(c);
    // THEN port client admits the nodes themselves, in their namespace
    const nodes = only(objects, 'StatefulSet').spec.selector.matchLabels;
    expect(rulesFor(only(objects, 'NetworkPolicy'), 'client')).toContainEqual({
      from: [{ podSelector: { matchLabels: nodes }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'cache' } } }],
      ports: [{ port: 'client', protocol: 'TCP' }],
    });
  });

  test('auth can be turned off', () => {
    const c = chart();
    const rc = new RedisCluster(c, 'cache', { auth: false });
    const objects = synthValid(c);
    expect(rc.credentials).toBeUndefined();
    expect(objects.filter((o) => o.kind === 'Job').map((o) => o.metadata.name)).toEqual([expect.stringMatching(/^test-cache-boot-[0-9a-f]{4}$/)]);
    expect(JSON.stringify(objects)).not.toContain('REDISCLI_AUTH');
    expect(() => rc.passwordEnv()).toThrow("RedisCluster 'test/cache': auth is off, so there is no password: passwordEnv() needs auth: true");
  });

  test('the shared knobs reach the unit and the bootstrap Job', () => {
    const c = chart();
    const rc = new RedisCluster(c, 'cache', {
      name: 'sessions',
      clusterDomain: 'corp.example',
      image: 'registry.example/redis:7.2.8',
      imagePullPolicy: ImagePullPolicy.ALWAYS,
      runAs: { uid: 1001, gid: 1002 },
      storage: Storage.persistent({ size: Size.gibibytes(3) }),
      resources: Resources.of({ cpuMillis: 500, memory: Size.gibibytes(2) }),
      placement: { antiAffinity: AntiAffinity.hard() },
      updateStrategy: UpdateStrategy.onDelete(),
      disruptionBudget: { maxUnavailable: 2 },
      serviceAccount: kplus.ServiceAccount.fromServiceAccountName(c, 'identity', 'cache-identity'),
      terminationGracePeriod: Duration.seconds(90),
      podLabels: { team: 'payments' },
      podAnnotations: { 'example.com/owner': 'payments' },
    });
    const objects = synthValid(c, { externalServiceAccounts: ['cache-identity'] });
    const sts = only(objects, 'StatefulSet', 'sessions');
    const pod = sts.spec.template.spec;
    expect(rc.seedNodes.split(',')[0]).toBe('sessions-0.sessions-headless.cache.svc.corp.example:6379');
    expect(pod.containers[0]).toMatchObject({ image: 'registry.example/redis:7.2.8', imagePullPolicy: 'Always' });
    expect(sts.metadata.labels['app.kubernetes.io/version']).toBe('7.2.8');
    expect(pod.securityContext).toMatchObject({ runAsUser: 1001, runAsGroup: 1002 });
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('3Gi');
    expect(pod.containers[0].resources.limits.memory).toBe('2048Mi');
    expect(only(objects, 'ConfigMap').data['redis.conf']).toContain('maxmemory 1433mb');
    expect(pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
    expect(sts.spec.updateStrategy).toEqual({ type: 'OnDelete' });
    expect(only(objects, 'PodDisruptionBudget').spec.maxUnavailable).toBe(2);
    expect(pod.serviceAccountName).toBe('cache-identity');
    expect(objectsOf(objects, 'ServiceAccount')).toEqual([expect.objectContaining({ metadata: expect.objectContaining({ name: 'sessions-credentials-generate' }) })]);
    expect(pod.terminationGracePeriodSeconds).toBe(90);
    expect(sts.spec.template.metadata.labels.team).toBe('payments');
    expect(sts.spec.template.metadata.annotations['example.com/owner']).toBe('payments');
    const job = only(objects, 'Job', rc.bootstrapJob.name).spec.template.spec;
    expect(job.containers[0]).toMatchObject({ image: 'registry.example/redis:7.2.8', imagePullPolicy: 'Always' });
    expect(job.securityContext).toMatchObject({ runAsUser: 1001, runAsGroup: 1002 });
    expect(job.containers[0].command[2]).toContain('sessions-5.sessions-headless.cache.svc.corp.example');
  });

  test('ephemeral storage puts the data on an emptyDir instead of a claim', () => {
    const c = chart();
    new RedisCluster(c, 'cache', { storage: Storage.ephemeral({ sizeLimit: Size.gibibytes(1) }) });
    const pod = only(synthValid(c), 'StatefulSet');
    expect(pod.spec.volumeClaimTemplates).toEqual([]);
    expect(pod.spec.template.spec.volumes).toContainEqual({ name: 'data', emptyDir: { sizeLimit: '1Gi' } });
  });

  test('the Redis props shape redis.conf: memory share, node timeout and extra lines', () => {
    const c = chart();
    new RedisCluster(c, 'cache', { maxMemoryFraction: 0.5, nodeTimeout: Duration.seconds(15), config: ['hz 20', 'maxclients 5000'] });
    const conf = only(synthValid(c), 'ConfigMap').data['redis.conf'].split('\n');
    expect(conf).toEqual(expect.arrayContaining(['maxmemory 512mb', 'cluster-node-timeout 15000', 'hz 20', 'maxclients 5000']));
    const none = chart();
    new RedisCluster(none, 'cache', { maxMemoryFraction: 0 });
    expect(only(synthValid(none), 'ConfigMap').data['redis.conf']).not.toMatch(/maxmemory/);
  });

  test('an app Deployment in the namespace reads the nodes and the Secret-backed password and is admitted to the client port', () => {
    // GIVEN a cache and a cdk8s-plus Deployment wired to it
    const c = chart();
    const cache = new RedisCluster(c, 'cache');
    const api = app(c, { REDIS_NODES: kplus.EnvValue.fromValue(cache.seedNodes), REDIS_PASSWORD: cache.passwordEnv() });
    // WHEN
    cache.allowClients(api);
    const objects = synthValid(c);
    // THEN the password is a secretKeyRef (never the value) and the Deployment's pods reach the client port
    const deployment = only(objects, 'Deployment');
    expect(deployment.spec.template.spec.containers[0].env).toEqual([
      { name: 'REDIS_NODES', value: cache.seedNodes },
      { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'test-cache-credentials', key: 'password' } } },
    ]);
    const rules = rulesFor(only(objects, 'NetworkPolicy'), 'client');
    const rule = rules.find((r) => selects(r.from[0].podSelector?.matchLabels, deployment.spec.template.metadata.labels));
    expect(rule).toEqual({
      from: [{ podSelector: { matchLabels: deployment.spec.selector.matchLabels }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'cache' } } }],
      ports: [{ port: 'client', protocol: 'TCP' }],
    });
  });

  test('an app Deployment in another namespace is admitted through a namespaceSelector', () => {
    // GIVEN the cache in 'cache' and the app in 'web', with the password Secret replicated to both namespaces
    const data = chart('cache');
    const web = new Chart(data.node.root, 'web', { namespace: 'web' });
    const cache = new RedisCluster(data, 'cache', { existingSecret: 'redis-auth', allowClientsFrom: [] });
    const secret = kplus.Secret.fromSecretName(web, 'redis-auth', 'redis-auth');
    const api = app(web, {
      REDIS_NODES: kplus.EnvValue.fromValue(cache.seedNodes),
      REDIS_PASSWORD: kplus.EnvValue.fromSecretValue({ secret, key: RedisCluster.PASSWORD_KEY }),
    });
    // WHEN
    cache.allowClients(api);
    // THEN
    const auth = { externalSecrets: { 'redis-auth': [RedisCluster.PASSWORD_KEY] } };
    const deployment = only(synthValid(web, auth), 'Deployment');
    expect(deployment.metadata.namespace).toBe('web');
    expect(deployment.spec.template.spec.containers[0].env[0]).toEqual({ name: 'REDIS_NODES', value: expect.stringContaining('.cache.svc.cluster.local:6379') });
    const rules = rulesFor(only(synthValid(data, auth), 'NetworkPolicy'), 'client');
    expect(rules).toContainEqual({
      from: [{ podSelector: { matchLabels: deployment.spec.selector.matchLabels }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'web' } } }],
      ports: [{ port: 'client', protocol: 'TCP' }],
    });
    // the bootstrap Job's rule, the nodes' own and the app's: nothing else
    expect(rules).toHaveLength(3);
  });

  test('allowClientsFrom takes cdk8s-plus peers and replaces the namespace-wide client rule', () => {
    const c = chart();
    new RedisCluster(c, 'cache', { allowClientsFrom: [kplus.Pods.select(c, 'clients', { labels: { role: 'cache-client' } })] });
    const rules = rulesFor(only(synthValid(c), 'NetworkPolicy'), 'client');
    expect(rules.map((r) => r.from)).toContainEqual([{ podSelector: { matchLabels: { role: 'cache-client' } } }]);
    expect(rules.map((r) => r.from)).not.toContainEqual([{ podSelector: {} }]);
  });

  test('without a NetworkPolicy the cluster still builds, and allowClients throws instead of doing nothing', () => {
    const c = chart();
    const cache = new RedisCluster(c, 'cache', { networkPolicy: false });
    expect(objectsOf(synthValid(c), 'NetworkPolicy')).toEqual([]);
    const clients = kplus.Pods.select(c, 'clients', { labels: { role: 'cache-client' } });
    expect(() => cache.allowClients(clients)).toThrow("RedisCluster 'test/cache': networkPolicy is off, so allowClients('test/clients') would do nothing");
  });


  test('the generated Secret and its Job must fit their name limits: a long name throws unless the Secret is yours', () => {
    const name = 'a'.repeat(43);
    expect(() => new RedisCluster(chart(), 'cache', { name }))
      .toThrow(`RedisCluster 'test/cache': name '${name}' is 43 characters; with a generated Secret at most 42 are allowed`);
    expect(() => new RedisCluster(chart(), 'cache', { name: 'a'.repeat(42) })).not.toThrow();
    expect(() => new RedisCluster(chart(), 'cache', { name, existingSecret: 'redis-auth' })).not.toThrow();
    expect(() => new RedisCluster(chart(), 'cache', { name, auth: false })).not.toThrow();
  });

  test('errors of the unit name the RedisCluster', () => {
    expect(() => new RedisCluster(chart(), 'cache', { podLabels: { 'app.kubernetes.io/name': 'x' } }))
      .toThrow("RedisCluster 'test/cache': podLabels must not set 'app.kubernetes.io/name'");
    expect(() => new RedisCluster(chart(), 'cache', { image: 'redis' }))
      .toThrow("RedisCluster 'test/cache': container 'redis' image 'redis' has no tag");
  });

  test.each([
    ['storage as a plain object', { storage: { size: '10Gi' } }, "RedisCluster 'test/cache': storage must be Storage.persistent({ size: Size.gibibytes(10) }) or Storage.ephemeral(), got a plain object {\"size\":\"10Gi\"}"],
    ['Storage.persistent with a string size', { storage: Storage.persistent({ size: '10Gi' as any }) }, "RedisCluster 'test/cache': storage size must be a Size such as Size.gibibytes(10), got the string '10Gi'"],
    ['nodeTimeout as a number', { nodeTimeout: 5000 }, "RedisCluster 'test/cache': nodeTimeout must be a Duration such as Duration.seconds(5), got 5000"],
    ['resources as a plain object', { resources: { cpuMillis: 250, memory: '1Gi' } }, "RedisCluster 'test/cache': resources must be a Resources such as"],
    ['Resources.of with a string memory', { resources: Resources.of({ cpuMillis: 250, memory: '1Gi' as any }) }, "RedisCluster 'test/cache': resources memory must be a Size such as Size.gibibytes(1), got the string '1Gi'"],
    ['maxMemoryFraction as a string', { maxMemoryFraction: '0.5' }, "RedisCluster 'test/cache': maxMemoryFraction must be from 0 to 0.9 (the rest is the AOF rewrite fork and buffers), got the string '0.5'"],
    ['auth as a string', { auth: 'false' }, "RedisCluster 'test/cache': auth must be true or false, got the string 'false'"],
    ['config as a string', { config: 'hz 20' }, "RedisCluster 'test/cache': config must be a list of redis.conf lines, got the string 'hz 20'"],
    ['config with a number', { config: [20] }, "RedisCluster 'test/cache': config must be a list of redis.conf lines, got 20 in it"],
    ['image as a number', { image: 7 }, "RedisCluster 'test/cache': image must be an image reference (a string such as 'registry.example.com/name:1.2.3'), got 7"],
    ['existingSecret that is no Secret name', { existingSecret: 'Redis_Auth' }, "RedisCluster 'test/cache': existingSecret must be the name of a Secret (a DNS-1123 subdomain) with the key 'password', got the string 'Redis_Auth'"],
  ])('wrong types from JavaScript throw a clear error: %s', (_what, props, message) => {
    expect(() => new RedisCluster(chart(), 'cache', props as any)).toThrow(message);
  });

  test.each([
    [{ masters: 2 }, "RedisCluster 'test/cache': masters must be an integer from 3 to 1000, got 2"],
    [{ masters: 3.5 }, 'masters must be an integer from 3 to 1000, got 3.5'],
    [{ replicasPerMaster: -1 }, 'replicasPerMaster must be an integer from 0 to 10, got -1'],
    [{ replicasPerMaster: 0.5 }, 'replicasPerMaster must be an integer from 0 to 10, got 0.5'],
    [{ config: ['requirepass hunter2'] }, "config must not set 'requirepass'"],
    [{ config: ['hz 20\nrequire x'] }, 'config takes one directive per entry, without newlines'],
    [{ auth: false, existingSecret: 'x' }, 'existingSecret needs auth: true'],
    [{ maxMemoryFraction: 1 }, 'maxMemoryFraction must be from 0 to 0.9'],
    [{ nodeTimeout: Duration.millis(100) }, "RedisCluster 'test/cache': nodeTimeout (ms) must be an integer from 500 to 600000, got 100"],
  ])('invalid props throw: %j', (props, message) => {
    expect(() => new RedisCluster(chart(), 'cache', props)).toThrow(message);
  });
});
