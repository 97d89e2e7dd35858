import { Chart, Size, Testing } from 'cdk8s';
import { Probe, Resources, StatefulWorkload, Storage } from '../../src';
import { k8s } from '../../src/core/private/k8s';
import { LocalCluster } from './harness/cluster';
import { describeWithNamespaces } from './harness/testing';

// The harness itself: pods get their own hostname, address and read-only
// root, reach each other by FQDN, run as the manifest's non-root user, and
// Jobs can create Secrets through the kubectl stand-in.

describeWithNamespaces('e2e harness', () => {
  let cluster: LocalCluster;
  const chart = new Chart(Testing.app(), 'h', { namespace: 'e2e' });
  const workload = new StatefulWorkload(chart, 'kv', {
    appName: 'kv',
    replicas: 2,
    runAs: { uid: 1001, gid: 1001 },
    resources: Resources.of({ cpuMillis: 100, memory: Size.mebibytes(64) }),
    configFiles: [{ path: '/conf/redis.conf', content: 'port 6379\nbind 0.0.0.0\ndir /data\nprotected-mode no\n' }],
    volumes: [{ name: 'data', storage: Storage.persistent({ size: Size.gibibytes(1) }) }],
    containers: [{
      name: 'kv',
      image: 'redis:7.4.1',
      command: ['redis-server', '/conf/redis.conf'],
      ports: [{ name: 'client', port: 6379 }],
      mounts: [{ volume: 'data', path: '/data' }],
      readinessProbe: Probe.exec(['redis-cli', 'ping']),
      livenessProbe: Probe.tcp('client'),
    }],
  });
  new k8s.KubeJob(chart, 'gen', {
    metadata: { name: 'gen' },
    spec: {
      backoffLimit: 1,
      template: {
        spec: {
          restartPolicy: 'Never',
          securityContext: { runAsUser: 1002, runAsNonRoot: true },
          containers: [{
            name: 'gen', image: 'bitnami/kubectl:1.31.3', command: ['bash', '-c',
              'set -euo pipefail; kubectl get secret s >/dev/null 2>&1 || kubectl create secret generic s --from-literal=password="$(head -c 12 /dev/urandom | od -An -tx1 | tr -d " \\n")"'],
          }],
        },
      },
    },
  });
  const objects = Testing.synth(chart);

  beforeAll(async () => {
    cluster = new LocalCluster(objects);
    await cluster.startStatefulSet(workload.name);
  }, 60000);
  afterAll(async () => {
    await cluster?.destroy();
  }, 60000);

  test('each pod has its own hostname and address and resolves its peers by FQDN', async () => {
    expect((await cluster.sh('h-kv-0', 'hostname')).trim()).toBe('h-kv-0');
    expect(cluster.ipOf('h-kv-0')).not.toBe(cluster.ipOf('h-kv-1'));
    const out = await cluster.sh('h-kv-0', `redis-cli -h ${workload.podFqdn(1)} set k v && redis-cli -h ${workload.podFqdn(1)} get k`);
    expect(out.trim().split('\n')).toEqual(['OK', 'v']);
  });

  test('processes run as the manifest user and the root filesystem is read-only', async () => {
    expect((await cluster.sh('h-kv-1', 'id -u')).trim()).toBe('1001');
    const r = await cluster.exec('h-kv-1', ['bash', '-c', 'touch /etc/x || touch /usr/x || touch /x']);
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/Read-only file system/);
    await cluster.sh('h-kv-1', 'touch /data/ok && ls -ld /data');
  });

  test('a Job creates a Secret once through kubectl, and a second run keeps it', async () => {
    await cluster.runJob('gen');
    const first = cluster.secret('s').password;
    expect(first).toMatch(/^[0-9a-f]{24}$/);
    await cluster.runJob('gen');
    expect(cluster.secret('s').password).toBe(first);
  });

  test('a pod restarted on the same address is reachable from its peers at once (no stale neighbour cache)', async () => {
    // GIVEN a peer that has talked to h-kv-0, so it caches h-kv-0's link-layer address
    const ip = cluster.ipOf('h-kv-0');
    await cluster.sh('h-kv-1', `redis-cli -h ${ip} ping`);
    // WHEN h-kv-0 restarts on the same address
    await cluster.stopPod('h-kv-0');
    await cluster.startPod(workload.name, 0);
    expect(cluster.ipOf('h-kv-0')).toBe(ip);
    // THEN the peer reaches it within a few seconds
    const r = await cluster.exec('h-kv-1', ['bash', '-c', `redis-cli -h ${ip} ping`], { timeoutMs: 5000 });
    expect(r.output.trim()).toBe('PONG');
  });

  test('a stopped pod comes back on its claim with its data', async () => {
    await cluster.sh('h-kv-0', `redis-cli -h ${workload.podFqdn(0)} set durable yes && redis-cli -h ${workload.podFqdn(0)} save`);
    await cluster.stopPod('h-kv-0');
    await cluster.startPod(workload.name, 0, { newAddress: true });
    expect((await cluster.sh('h-kv-1', `redis-cli -h ${workload.podFqdn(0)} get durable`)).trim()).toBe('yes');
  }, 60000);
});
