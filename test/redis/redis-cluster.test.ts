import { Chart, Testing } from 'cdk8s';
import {
  RedisCluster, renderRedisBootstrapScript, renderRedisConf, renderRedisStartScript,
} from '../../src';
import { only, synthValid } from '../support/manifest';

function chart(): Chart {
  return new Chart(Testing.app(), 'test', { namespace: 'cache' });
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

  test('start.sh announces the pod IP and FQDN, rewrites nodes.conf addresses and takes the password from the environment', () => {
    const script = renderRedisStartScript({ headlessServiceName: 'c-headless', clusterDomain: 'cluster.local', auth: true });
    expect(script).toMatch(/^#!\/bin\/bash\n/);
    expect(script).toContain('set -euo pipefail');
    expect(script).toContain('fqdn="${host}.c-headless.${POD_NAMESPACE}.svc.cluster.local"');
    expect(script).toContain('echo "cluster-announce-ip $POD_IP"');
    expect(script).toContain('echo "cluster-announce-hostname $fqdn"');
    expect(script).toContain('requirepass $(conf_quote "$REDISCLI_AUTH")');
    expect(script).toContain('masterauth $(conf_quote "$REDISCLI_AUTH")');
    expect(script).toContain('ip="$POD_IP"');
    expect(script).toContain('getent hosts "$hostname"');
    expect(script).toContain('exec redis-server "$runtime_conf"');
  });

  test('start.sh without auth sets no password', () => {
    const script = renderRedisStartScript({ headlessServiceName: 'c-headless', clusterDomain: 'cluster.local', auth: false });
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
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/test-cache-config', 'Job/test-cache-bootstrap', 'Job/test-cache-credentials-generate',
      'NetworkPolicy/test-cache', 'PodDisruptionBudget/test-cache', 'Role/test-cache-credentials-generate',
      'RoleBinding/test-cache-credentials-generate', 'Service/test-cache', 'Service/test-cache-headless',
      'ServiceAccount/test-cache', 'ServiceAccount/test-cache-credentials-generate', 'StatefulSet/test-cache',
    ]);
    expect(objects).toMatchSnapshot();
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
    expect(np.spec.ingress[0].ports).toEqual([{ port: 'gossip', protocol: 'TCP' }]);
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
    expect(redis.env).toContainEqual({ name: 'REDISCLI_AUTH', valueFrom: { secretKeyRef: { name: 'test-cache-credentials', key: 'password' } } });
    expect(redis.env).toContainEqual({ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } });
    expect(only(objects, 'ConfigMap').data['redis.conf']).not.toMatch(/requirepass|masterauth/);
    expect(rc.credentials!.secretName).toBe('test-cache-credentials');
  });

  test('an existing Secret replaces the generator', () => {
    const c = chart();
    new RedisCluster(c, 'cache', { existingSecret: 'redis-auth' });
    const objects = synthValid(c, { externalSecrets: { 'redis-auth': ['password'] } });
    expect(objects.filter((o) => o.kind === 'Job').map((o) => o.metadata.name)).toEqual(['test-cache-bootstrap']);
  });

  test('the bootstrap Job runs redis-cli --cluster create with the replica count, authenticated from the Secret', () => {
    const c = chart();
    new RedisCluster(c, 'cache', { masters: 4, replicasPerMaster: 2 });
    const job = only(synthValid(c), 'Job', 'test-cache-bootstrap');
    const container = job.spec.template.spec.containers[0];
    expect(container.command[0]).toBe('bash');
    expect(container.command[2]).toContain('--cluster-replicas 2 --cluster-yes');
    expect(container.command[2]).toContain('test-cache-11.test-cache-headless.cache.svc.cluster.local');
    expect(container.env).toEqual([{ name: 'REDISCLI_AUTH', valueFrom: { secretKeyRef: { name: 'test-cache-credentials', key: 'password' } } }]);
  });

  test('auth can be turned off', () => {
    const c = chart();
    const rc = new RedisCluster(c, 'cache', { auth: false });
    const objects = synthValid(c);
    expect(rc.credentials).toBeUndefined();
    expect(JSON.stringify(objects)).not.toContain('REDISCLI_AUTH');
  });

  test.each([
    [{ masters: 2 }, "RedisCluster 'test/cache': masters must be an integer from 3 to 1000, got 2"],
    [{ masters: 3.5 }, 'masters must be an integer from 3 to 1000, got 3.5'],
    [{ replicasPerMaster: -1 }, 'replicasPerMaster must be an integer from 0 to 10, got -1'],
    [{ replicasPerMaster: 0.5 }, 'replicasPerMaster must be an integer from 0 to 10, got 0.5'],
    [{ config: ['requirepass hunter2'] }, "config must not set 'requirepass'"],
    [{ auth: false, existingSecret: 'x' }, 'existingSecret needs auth: true'],
    [{ maxMemoryFraction: 1 }, 'maxMemoryFraction must be from 0 to 0.9'],
  ])('invalid props throw: %j', (props, message) => {
    expect(() => new RedisCluster(chart(), 'cache', props)).toThrow(message);
  });
});
