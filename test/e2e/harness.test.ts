import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Duration, Size, Testing } from 'cdk8s';
import { PodManagementPolicy, Probe, Resources, StatefulWorkload, Storage } from '../../src';
import { k8s } from '../../src/core/private/k8s';
import { LocalCluster } from './harness/cluster';
import { PolicyPod, renderPolicyTables } from './harness/policy';
import { CONNECTED, describeWithNamespaces, DROPPED, tcpConnect, until } from './harness/testing';

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

// ---------------------------------------------------------------------------
// Readiness-aware DNS: probes keep running after the first Ready, and Service
// names follow the endpoints as CoreDNS does.

/** A workload whose readiness follows a file: Ready unless /data/unready exists; every probe run is logged. */
function fileReadyWorkload(chart: Chart, id: string, props: { publishNotReadyAddresses: boolean; replicas: number; probeScript?: string; timeoutSeconds?: number }): StatefulWorkload {
  const probe = props.probeScript ?? [
    'set -euo pipefail',
    'if [ -e /data/unready ]; then echo "fail $(date +%s%3N)" >> /data/probe.log; exit 1; fi',
    'echo "ok $(date +%s%3N)" >> /data/probe.log',
  ].join('\n');
  return new StatefulWorkload(chart, id, {
    appName: id,
    replicas: props.replicas,
    podManagementPolicy: PodManagementPolicy.PARALLEL,
    publishNotReadyAddresses: props.publishNotReadyAddresses,
    runAs: { uid: 1001, gid: 1001 },
    resources: Resources.of({ cpuMillis: 50, memory: Size.mebibytes(32) }),
    configFiles: [{ path: '/conf/probe.sh', content: `${probe}\n` }],
    volumes: [{ name: 'data', storage: Storage.persistent({ size: Size.gibibytes(1) }) }],
    containers: [{
      name: 'main',
      image: 'busybox:1.36',
      command: ['sleep', 'infinity'],
      ports: [{ name: 'web', port: 8080 }],
      mounts: [{ volume: 'data', path: '/data' }],
      readinessProbe: Probe.exec(['bash', '/conf/probe.sh'], { period: Duration.seconds(1), failureThreshold: 1, timeout: Duration.seconds(props.timeoutSeconds ?? 1) }),
    }],
  });
}

/** The IPv4 addresses `name` resolves to inside `pod` (none when it does not resolve). */
async function resolve(cluster: LocalCluster, pod: string, name: string): Promise<string[]> {
  const r = await cluster.exec(pod, ['getent', 'ahostsv4', name]);
  if (r.code === 2) return [];
  if (r.code !== 0) throw new Error(`getent ahostsv4 ${name} in ${pod}: exit ${r.code}: ${r.output}`);
  return [...new Set(r.output.trim().split('\n').map((l) => l.split(/\s+/)[0]))].sort();
}

describeWithNamespaces('e2e harness: readiness-aware DNS', () => {
  let cluster: LocalCluster;
  const chart = new Chart(Testing.app(), 'dns', { namespace: 'dns' });
  // 'held' publishes not-Ready pods on its headless Service (as our systems do); 'strict' does not
  const held = fileReadyWorkload(chart, 'held', { publishNotReadyAddresses: true, replicas: 2 });
  const strict = fileReadyWorkload(chart, 'strict', { publishNotReadyAddresses: false, replicas: 2 });
  // 'slow': a probe that takes longer than its period
  const slow = fileReadyWorkload(chart, 'slow', {
    publishNotReadyAddresses: true, replicas: 1, timeoutSeconds: 5,
    probeScript: 'set -euo pipefail\necho "start $(date +%s%3N)" >> /data/slow.log\nsleep 1.5\necho "end $(date +%s%3N)" >> /data/slow.log',
  });
  const objects = Testing.synth(chart);
  // thresholds the construct does not expose: 'strict' turns not Ready after 2 failures and Ready after 2 successes
  const strictProbe = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === strict.name).spec.template.spec.containers[0].readinessProbe;
  Object.assign(strictProbe, { failureThreshold: 2, successThreshold: 2 });
  const client = 'dns-client';

  beforeAll(async () => {
    cluster = new LocalCluster(objects);
    await cluster.startStatefulSet(held.name);
    await cluster.startStatefulSet(strict.name);
    await cluster.startStatefulSet(slow.name);
    await cluster.startClientPod({ name: client, namespace: 'dns' });
  }, 90000);
  afterAll(async () => {
    await cluster?.destroy();
  }, 60000);

  const makeUnready = (pod: string) => cluster.sh(pod, 'touch /data/unready');
  const makeReady = (pod: string) => cluster.sh(pod, 'rm -f /data/unready');

  test('a pod that turns not Ready leaves its ordinary Service and comes back when Ready again', async () => {
    // GIVEN both pods Ready: the Service name resolves to the first started one
    const [p0, p1] = [0, 1].map((i) => held.podName(i));
    const service = held.serviceFqdn(held.name);
    const ip0 = cluster.ipOf(p0);
    const ip1 = cluster.ipOf(p1);
    expect(await resolve(cluster, client, service)).toEqual([ip0]);
    // WHEN pod 0 fails its readiness probe THEN the Service resolves to pod 1
    await makeUnready(p0);
    await until('the Service to move to pod 1', 15000, async () => ((await resolve(cluster, client, service))[0] === ip1 ? true : undefined));
    expect(cluster.isReady(p0)).toBe(false);
    // WHEN pod 1 fails too THEN the Service has no endpoint and does not resolve
    await makeUnready(p1);
    await until('the Service to have no endpoint', 15000, async () => ((await resolve(cluster, client, service)).length === 0 ? true : undefined));
    // WHEN pod 0 is Ready again THEN the Service resolves to it
    await makeReady(p0);
    await until('the Service back on pod 0', 15000, async () => ((await resolve(cluster, client, service))[0] === ip0 ? true : undefined));
    await makeReady(p1);
    await until('pod 1 Ready again', 15000, async () => (cluster.isReady(p1) ? true : undefined));
  }, 90000);

  test('with publishNotReadyAddresses a not-Ready pod keeps its headless records', async () => {
    // GIVEN pod 0 of 'held' not Ready
    const p0 = held.podName(0);
    const ip0 = cluster.ipOf(p0);
    await makeUnready(p0);
    await until(`${p0} not Ready`, 15000, async () => (!cluster.isReady(p0) ? true : undefined));
    // THEN its own name and the headless Service name still resolve to it, while the ordinary Service has left it
    expect(await resolve(cluster, client, held.podFqdn(0))).toEqual([ip0]);
    expect(await resolve(cluster, client, held.serviceFqdn(held.headlessServiceName))).toContain(ip0);
    expect(await resolve(cluster, client, held.serviceFqdn(held.name))).toEqual([cluster.ipOf(held.podName(1))]);
    await makeReady(p0);
    await until(`${p0} Ready again`, 15000, async () => (cluster.isReady(p0) ? true : undefined));
  }, 60000);

  test('without publishNotReadyAddresses a not-Ready pod loses its headless records, and gets them back when Ready', async () => {
    // GIVEN both pods of 'strict' Ready, each with its record
    const p0 = strict.podName(0);
    const ip0 = cluster.ipOf(p0);
    const ip1 = cluster.ipOf(strict.podName(1));
    const headless = strict.serviceFqdn(strict.headlessServiceName);
    expect(await resolve(cluster, client, strict.podFqdn(0))).toEqual([ip0]);
    expect(await resolve(cluster, client, headless)).toEqual([ip0, ip1].sort());
    // WHEN pod 0 fails readiness THEN its record and its place behind the headless name are gone for the others
    await makeUnready(p0);
    await until(`${p0}'s record to vanish`, 15000, async () => ((await resolve(cluster, client, strict.podFqdn(0))).length === 0 ? true : undefined));
    expect(await resolve(cluster, client, headless)).toEqual([ip1]);
    expect(await resolve(cluster, client, strict.podFqdn(1))).toEqual([ip1]);
    // (the pod itself still resolves its own name, as the kubelet's /etc/hosts says)
    expect(await resolve(cluster, p0, strict.podFqdn(0))).toEqual([ip0]);
    // WHEN it is Ready again THEN the record is back
    await makeReady(p0);
    await until(`${p0}'s record back`, 15000, async () => ((await resolve(cluster, client, strict.podFqdn(0)))[0] === ip0 ? true : undefined));
  }, 60000);

  test('readiness flips after failureThreshold failures and successThreshold successes in a row', async () => {
    // GIVEN pod 1 of 'strict' (failureThreshold 2, successThreshold 2), Ready
    const pod = strict.podName(1);
    const since = Date.now();
    // WHEN its probe starts failing, and later succeeding again
    await makeUnready(pod);
    await until(`${pod} not Ready`, 15000, async () => (!cluster.isReady(pod) ? true : undefined));
    await makeReady(pod);
    await until(`${pod} Ready`, 15000, async () => (cluster.isReady(pod) ? true : undefined));
    // THEN each flip came right after the threshold's count of results in a row (each probe run logs its verdict with
    // a millisecond time stamp, which may equal the flip's: the next run starts a period later)
    const events = cluster.readinessEvents.filter((e) => e.pod === pod && e.at >= since);
    expect(events.map((e) => e.ready)).toEqual([false, true]);
    const runs = (await cluster.sh(pod, 'cat /data/probe.log')).trim().split('\n').map((l) => l.split(' ')).map(([r, t]) => ({ ok: r === 'ok', at: Number(t) }));
    const streak = (until_: number) => {
      const before = runs.filter((r) => r.at <= until_);
      const last = before[before.length - 1].ok;
      let n = 0;
      for (let i = before.length - 1; i >= 0 && before[i].ok === last; i--) n++;
      return { last, n };
    };
    expect(streak(events[0].at)).toEqual({ last: false, n: strictProbe.failureThreshold });
    expect(streak(events[1].at)).toEqual({ last: true, n: strictProbe.successThreshold });
  }, 60000);

  test('a pod\'s probes never overlap, and stopping it ends an in-flight probe and the probing', async () => {
    // GIVEN a probe that takes 1.5 s, run every 1 s
    const pod = slow.podName(0);
    await new Promise((r) => setTimeout(r, 8000));
    // THEN each run ended before the next began
    const log = (await cluster.sh(pod, 'cat /data/slow.log')).trim().split('\n').map((l) => l.split(' ')[0]);
    expect(log.length).toBeGreaterThanOrEqual(4);
    const complete = log.slice(0, log.length - (log.length % 2));
    expect(complete).toEqual(complete.map((_, i) => (i % 2 === 0 ? 'start' : 'end')));
    // WHEN the pod stops while a probe runs: one that began less than 0.7 s ago, so it still sleeps when the
    // stop kills it (the log is on the pod's claim, read here directly)
    const claim = fs.readdirSync(path.join(cluster.dir, 'claims')).find((d) => d.endsWith(`-${pod}`))!;
    const file = path.join(cluster.dir, 'claims', claim, 'slow.log');
    const lastRun = () => fs.readFileSync(file, 'utf-8').trim().split('\n').pop()!.split(' ');
    for (const deadline = Date.now() + 15000; ;) {
      const [word, at] = lastRun();
      if (word === 'start' && Date.now() - Number(at) < 700) break;
      if (Date.now() > deadline) throw new Error(`no probe began within 15 s: ${fs.readFileSync(file, 'utf-8')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await cluster.stopPod(pod);
    // THEN that probe never finished and no probe ran afterwards
    const after = fs.readFileSync(file, 'utf-8');
    expect(after.trim().split('\n').pop()).toMatch(/^start /);
    await new Promise((r) => setTimeout(r, 3000));
    expect(fs.readFileSync(file, 'utf-8')).toBe(after);
  }, 60000);
});

// ---------------------------------------------------------------------------
// NetworkPolicy enforcement: the manifest's policies as nftables rules in
// each pod's network namespace.

/** A workload serving HTTP on 8080 ('web') and 9090 ('admin'), with no NetworkPolicy of its own. */
function servers(chart: Chart, id: string): StatefulWorkload {
  return new StatefulWorkload(chart, id, {
    appName: id,
    replicas: 1,
    networkPolicy: false,
    runAs: { uid: 1001, gid: 1001 },
    resources: Resources.of({ cpuMillis: 50, memory: Size.mebibytes(64) }),
    volumes: [{ name: 'data', storage: Storage.persistent({ size: Size.gibibytes(1) }) }],
    containers: [{
      name: 'main',
      image: 'python:3.11',
      command: ['bash', '-c', 'python3 -m http.server -d /data 8080 & exec python3 -m http.server -d /data 9090'],
      ports: [{ name: 'web', port: 8080 }, { name: 'admin', port: 9090 }],
      mounts: [{ volume: 'data', path: '/data' }],
      readinessProbe: Probe.tcp('admin'),
    }],
  });
}

/** TCP connects (from pod, to ip, port) tried at once, each within 2 s: CONNECTED, DROPPED or another exit code, by case name. */
async function connections(cluster: LocalCluster, cases: { [name: string]: [string, string, number] }): Promise<{ [name: string]: number }> {
  const codes = await Promise.all(Object.values(cases).map(([pod, ip, port]) => tcpConnect(cluster, pod, ip, port, 2)));
  return Object.fromEntries(Object.keys(cases).map((k, i) => [k, codes[i]]));
}

describeWithNamespaces('e2e harness: NetworkPolicy enforcement', () => {
  let cluster: LocalCluster;
  const app = Testing.app();
  const chart = new Chart(app, 'np', { namespace: 'np' });
  const srv = servers(chart, 'srv');
  const open = servers(chart, 'open');
  const policy = (id: string, spec: k8s.NetworkPolicySpec) => new k8s.KubeNetworkPolicy(chart, id, { metadata: { name: id }, spec });
  const srvPods = { matchLabels: srv.selectorLabels };
  // only app=client pods of this namespace, on the 'web' port by name
  policy('web-from-clients', {
    podSelector: srvPods,
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }], ports: [{ port: k8s.IntOrString.fromString('web'), protocol: 'TCP' }] }],
  });
  // 'admin' (9090) by expressions: tier in (batch, etl) and not blocked; or a canary outside tier batch
  policy('admin-by-expressions', {
    podSelector: srvPods,
    ingress: [{
      from: [
        { podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['batch', 'etl'] }, { key: 'blocked', operator: 'DoesNotExist' }] } },
        { podSelector: { matchExpressions: [{ key: 'canary', operator: 'Exists' }, { key: 'tier', operator: 'NotIn', values: ['batch'] }] } },
      ],
      ports: [{ port: k8s.IntOrString.fromNumber(9090) }],
    }],
  });
  // across namespaces: app=client pods of namespaces labelled team=blue on 'web'; of namespace 'red' (by its name label) on 9090
  policy('from-other-namespaces', {
    podSelector: srvPods,
    ingress: [
      { from: [{ namespaceSelector: { matchLabels: { team: 'blue' } }, podSelector: { matchLabels: { app: 'client' } } }], ports: [{ port: k8s.IntOrString.fromString('web') }] },
      { from: [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['red'] }] } }], ports: [{ port: k8s.IntOrString.fromNumber(9090) }] },
    ],
  });
  // egress=limited pods may open connections only to the srv pods' port 8080
  policy('limited-egress', {
    podSelector: { matchLabels: { egress: 'limited' } },
    policyTypes: ['Egress'],
    egress: [{ to: [{ podSelector: srvPods }], ports: [{ port: k8s.IntOrString.fromNumber(8080), protocol: 'TCP' }] }],
  });
  const namespaces = [['blue', { team: 'blue' }], ['red', { team: 'red' }]].map(([name, labels]) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }));
  const objects = [...Testing.synth(chart), ...namespaces];
  let srvIp: string;
  let openIp: string;

  beforeAll(async () => {
    cluster = new LocalCluster(objects);
    await cluster.startStatefulSet(srv.name);
    await cluster.startStatefulSet(open.name);
    srvIp = cluster.ipOf(srv.podName(0));
    openIp = cluster.ipOf(open.podName(0));
    const clients: [string, string, { [k: string]: string }][] = [
      ['client', 'np', { app: 'client' }],
      ['stranger', 'np', {}],
      ['batch', 'np', { tier: 'batch' }],
      ['batch-blocked', 'np', { tier: 'batch', blocked: 'yes' }],
      ['canary-web', 'np', { canary: 'yes', tier: 'web' }],
      ['canary-batch-blocked', 'np', { canary: 'yes', tier: 'batch', blocked: 'yes' }],
      ['plain-web', 'np', { tier: 'web' }],
      // admitted by srv's ingress on both ports, so only its own egress policy can stop it on 9090
      ['limited', 'np', { app: 'client', tier: 'batch', egress: 'limited' }],
      ['blue-client', 'blue', { app: 'client' }],
      ['red-client', 'red', { app: 'client' }],
    ];
    for (const [name, namespace, labels] of clients) await cluster.startClientPod({ name, namespace, labels });
  }, 90000);
  afterAll(async () => {
    await cluster?.destroy();
  }, 60000);

  test('a pod admitted by label reaches the named port; a stranger and the other port are dropped; an unselected pod is open', async () => {
    expect(await connections(cluster, {
      client: ['client', srvIp, 8080], stranger: ['stranger', srvIp, 8080], otherPort: ['client', srvIp, 9090], openToStranger: ['stranger', openIp, 8080],
    })).toEqual({ client: CONNECTED, stranger: DROPPED, otherPort: DROPPED, openToStranger: CONNECTED });
  });

  test('matchExpressions: In, NotIn, Exists and DoesNotExist select as the API server does', async () => {
    const names = ['batch', 'batch-blocked', 'canary-web', 'canary-batch-blocked', 'plain-web'];
    expect(await connections(cluster, Object.fromEntries(names.map((n) => [n, [n, srvIp, 9090]])))).toEqual({
      'batch': CONNECTED, 'batch-blocked': DROPPED, 'canary-web': CONNECTED, 'canary-batch-blocked': DROPPED, 'plain-web': DROPPED,
    });
  });

  test('namespaceSelector: by a namespace\'s labels and by its kubernetes.io/metadata.name, alone or with a podSelector', async () => {
    expect(await connections(cluster, {
      blueWeb: ['blue-client', srvIp, 8080], redWeb: ['red-client', srvIp, 8080], blueAdmin: ['blue-client', srvIp, 9090], redAdmin: ['red-client', srvIp, 9090],
    })).toEqual({ blueWeb: CONNECTED, redWeb: DROPPED, blueAdmin: DROPPED, redAdmin: CONNECTED });
  });

  test('an Egress policy lets its pods open only the connections it allows; an isolated pod gets the replies to its own connections', async () => {
    const http = (from: string, ip: string) => cluster.exec(from, ['curl', '-fsS', '-o', '/dev/null', '-m', '2', `http://${ip}:8080/`]).then((r) => r.code);
    // an HTTP exchange needs the replies as well: the allowed one from the egress-limited pod, and one the ingress-isolated srv opens itself
    const [allowed, repliesToIsolated, codes] = await Promise.all([http('limited', srvIp), http(srv.podName(0), openIp), connections(cluster, {
      otherPod: ['limited', openIp, 8080], otherPort: ['limited', srvIp, 9090], unlimited: ['client', openIp, 8080],
    })]);
    expect({ allowed, repliesToIsolated, ...codes }).toEqual({ allowed: 0, repliesToIsolated: 0, otherPod: DROPPED, otherPort: DROPPED, unlimited: CONNECTED });
  });

  test('peers are rendered again as pods come and go: a new client gets in, a stopped one\'s address is dropped from the rules', async () => {
    // WHEN a second client starts after the server's rules were written
    await cluster.startClientPod({ name: 'late', namespace: 'np', labels: { app: 'client' } });
    const lateIp = cluster.ipOf('late');
    // THEN the server admits it, and its address is in the server's table
    expect(await connections(cluster, { late: ['late', srvIp, 8080] })).toEqual({ late: CONNECTED });
    expect(cluster.policyTable(srv.podName(0))).toContain(lateIp);
    // WHEN it stops THEN its address is gone from the server's rules
    await cluster.stopPod('late');
    expect(cluster.policyTable(srv.podName(0))).not.toContain(lateIp);
    expect(cluster.policyTable(srv.podName(0))).toContain(cluster.ipOf('client'));
  });
});

describe('e2e harness: NetworkPolicy rendering', () => {
  const pods: PolicyPod[] = [
    { name: 'db-0', namespace: 'a', ip: '127.0.10.21', labels: { app: 'db' }, ports: [{ name: 'sql', containerPort: 5432 }] },
    { name: 'app-0', namespace: 'a', ip: '127.0.10.22', labels: { app: 'web' }, ports: [] },
  ];
  const labels = (ns: string) => ({ 'kubernetes.io/metadata.name': ns });
  const policy = (spec: any) => ({ kind: 'NetworkPolicy', metadata: { name: 'p', namespace: 'a' }, spec: { podSelector: { matchLabels: { app: 'db' } }, ...spec } });

  test('an ipBlock admits its cidr minus the excepted ranges, on the named port\'s number', () => {
    const block = { cidr: '10.8.0.0/16', except: ['10.8.1.0/24', '10.8.2.0/24'] };
    const tables = renderPolicyTables([policy({ ingress: [{ from: [{ ipBlock: block }], ports: [{ port: 'sql' }] }] })], pods, labels);
    const rule = tables.get('db-0')!.split('\n').find((l) => l.includes(block.cidr))!;
    expect(rule).toContain(`ip saddr ${block.cidr} ip saddr != { ${block.except.join(', ')} }`);
    expect(rule).toContain(`th dport ${pods[0].ports[0].containerPort} accept`);
    // the pod no policy selects has no chain at all
    expect(tables.get('app-0')).not.toContain('chain');
  });

  test('an unsupported operator, field or protocol fails loudly, naming the policy', () => {
    const render = (spec: any) => () => renderPolicyTables([policy(spec)], pods, labels);
    expect(render({ ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'x', operator: 'Gt', values: ['1'] }] } }] }] }))
      .toThrow(/NetworkPolicy a\/p ingress\[0\]\.from\[0\]\.podSelector: unsupported matchExpressions operator 'Gt'.*In, NotIn, Exists, DoesNotExist/);
    expect(render({ ingress: [{ from: [{ serviceAccount: 'x' }] }] })).toThrow(/NetworkPolicy a\/p ingress\[0\]\.from\[0\]: unsupported field 'serviceAccount'/);
    expect(render({ egress: [{ to: [], ports: [{ port: 53, protocol: 'ICMP' }] }] })).toThrow(/NetworkPolicy a\/p egress\[0\]\.ports\[0\]: protocol 'ICMP'/);
    expect(render({ ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'x', operator: 'In' }] } }] }] })).toThrow(/operator In on key 'x' needs a non-empty values list/);
    expect(render({ egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ port: 'sql' }] }] })).toThrow(/named port \('sql'\) with an ipBlock peer is not supported/);
  });
});
