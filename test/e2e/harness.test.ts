import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
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

describeWithNamespaces('e2e harness: what an image has and Debian lacks', () => {
  // GIVEN a file of the image's own (a mount) and a ConfigMap mounted under an /etc path the host lacks
  const imageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-image-'));
  fs.writeFileSync(path.join(imageDir, 'app.jar'), 'image content\n');
  fs.chmodSync(imageDir, 0o755);
  const chart = new Chart(Testing.app(), 'h', { namespace: 'e2e' });
  const confDir = `/etc/cdk8s-e2e-${process.pid}`;
  const workload = new StatefulWorkload(chart, 'img', {
    appName: 'img',
    replicas: 1,
    runAs: { uid: 1001, gid: 1001 },
    resources: Resources.of({ cpuMillis: 100, memory: Size.mebibytes(64) }),
    configFiles: [{ path: `${confDir}/app.conf`, content: 'setting=1\n' }],
    containers: [{ name: 'app', image: 'app:1', command: ['sleep', 'infinity'] }],
  });
  const objects = Testing.synth(chart);
  const pod = workload.podName(0);
  let cluster: LocalCluster;

  beforeAll(async () => {
    cluster = new LocalCluster(objects, {
      mounts: [{ source: imageDir, target: '/opt/app/libs', manifest: '/opt/app/libs (app:1)', local: imageDir, why: 'test' }],
    });
    await cluster.startStatefulSet(workload.name);
  }, 60000);
  afterAll(async () => {
    await cluster?.destroy();
    fs.rmSync(imageDir, { recursive: true, force: true });
  }, 60000);

  test('an image directory is bound read-only at its path in every container, and listed', async () => {
    expect((await cluster.sh(pod, 'cat /opt/app/libs/app.jar')).trim()).toBe('image content');
    const options = (await cluster.sh(pod, 'awk \'$5 == "/opt/app/libs" { print $6 }\' /proc/self/mountinfo')).trim();
    expect(options.split(',')).toContain('ro');
    expect(cluster.table()).toContain(`| /opt/app/libs (app:1) | ${imageDir} | test |`);
  });

  test('a mount under an /etc path the host lacks works, /etc stays read-only, and the host /etc is not written', async () => {
    expect((await cluster.sh(pod, `cat ${confDir}/app.conf`)).trim()).toBe('setting=1');
    expect((await cluster.sh(pod, 'cat /etc/debian_version')).trim()).toBe(fs.readFileSync('/etc/debian_version', 'utf-8').trim());
    const r = await cluster.exec(pod, ['bash', '-c', 'touch /etc/e2e-write-test']);
    expect(r.output).toMatch(/Read-only file system/);
    expect(fs.existsSync(confDir)).toBe(false);
  });
});
