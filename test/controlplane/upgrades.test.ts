import { ApiObject, Chart, JsonPatch, Size, Testing } from 'cdk8s';
import {
  KafkaCluster, MongoReplicaSet, MySqlReplicaSet, PodManagementPolicy, PostgresReplicaSet, Probe, RedisCluster, Resources, StatefulWorkload,
  StatefulWorkloadProps, Storage, ZooKeeperEnsemble,
} from '../../src';
import { only } from '../support/manifest';
import { applyServerSide, changedBetween, ownedState, table } from './apply';
import { ControlPlane, controlPlaneAvailable, KUBERNETES_VERSION, sleep } from './harness';
import { createDefaultStorageClass, createVolumesFor, podsOf, waitStatefulSetReady } from './volumes';

type Json = any;

const run = controlPlaneAvailable();

/** Synthesizes one chart in namespace `ns` built by `build`. */
function synth(ns: string, build: (chart: Chart) => void): Json[] {
  const chart = new Chart(Testing.app(), ns, { namespace: ns });
  build(chart);
  return Testing.synth(chart);
}

const EXPANDABLE = 'controlplane-expandable';

(run ? describe : describe.skip)(`upgrades on kube-apiserver ${KUBERNETES_VERSION}`, () => {
  let cp: ControlPlane;

  beforeAll(async () => {
    cp = await ControlPlane.start({ nodes: 9 });
    createDefaultStorageClass(cp);
    cp.must(['apply', '--server-side', '--field-manager=controlplane-test', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: EXPANDABLE },
        provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'Immediate', reclaimPolicy: 'Retain', allowVolumeExpansion: true,
      }),
    });
  }, 180_000);

  afterAll(async () => {
    await cp?.stop();
  }, 60_000);

  // The props users change day to day, per system: before -> after.
  const dayToDay: { ns: string; change: string; build: (c: Chart, after: boolean) => void }[] = [
    {
      ns: 'up-zookeeper', change: 'replicas 3->5, image, resources, heap, extraConfig',
      build: (c, after) => new ZooKeeperEnsemble(c, 'zk', after ? {
        replicas: 5, image: 'mirror.example.com/library/zookeeper:3.9.4', resources: Resources.medium(),
        heap: Size.mebibytes(768), extraConfig: { globalOutstandingLimit: '2000' },
      } : {}),
    },
    {
      ns: 'up-kafka', change: 'image, resources, heap, retention, extraConfig',
      build: (c, after) => new KafkaCluster(c, 'kafka', after ? {
        image: 'mirror.example.com/apache/kafka:4.1.1', resources: Resources.large(), heap: Size.gibibytes(2),
        extraConfig: { 'message.max.bytes': '2097152' },
      } : {}),
    },
    {
      ns: 'up-mysql', change: 'replicas 3->4, databases, users, maxConnections',
      build: (c, after) => new MySqlReplicaSet(c, 'db', after ? {
        replicas: 4, databases: ['orders'], users: [{ name: 'orders_app', databases: ['orders'] }], maxConnections: 500,
      } : {}),
    },
    {
      ns: 'up-postgres', change: 'replicas 3->4, databases, users, resources',
      build: (c, after) => new PostgresReplicaSet(c, 'pg', after ? {
        replicas: 4, databases: ['orders'], users: [{ name: 'orders_app', databases: ['orders'] }], resources: Resources.large(),
      } : {}),
    },
    {
      ns: 'up-redis', change: 'masters 3->4 (6->8 pods), maxMemoryFraction',
      build: (c, after) => new RedisCluster(c, 'cache', after ? { masters: 4, maxMemoryFraction: 0.6 } : {}),
    },
    {
      ns: 'up-mongodb', change: 'replicas 3->5, databases, users',
      build: (c, after) => new MongoReplicaSet(c, 'mongo', after ? {
        replicas: 5, databases: ['shop'], users: [{ name: 'shop_app', databases: ['shop'] }],
      } : {}),
    },
  ];

  for (const d of dayToDay) {
    test(`${d.ns}: the day-to-day change (${d.change}) is accepted and rolled out`, () => dayToDayChange(d), 300_000);
  }

  async function dayToDayChange(d: { ns: string; change: string; build: (c: Chart, after: boolean) => void }): Promise<void> {
    // GIVEN the system applied with its defaults, Ready
    const ns = d.ns;
    const before = synth(ns, (c) => d.build(c, false));
    const after = synth(ns, (c) => d.build(c, true));
    cp.createNamespaces([ns]);
    createVolumesFor(cp, after); // the larger of the two
    const first = applyServerSide(cp, before);
    expect([...first.rejections, ...first.warnings]).toEqual([]);
    for (const sts of before.filter((o) => o.kind === 'StatefulSet')) await waitStatefulSetReady(cp, sts);
    // WHEN the changed props are synthesized and applied
    const second = applyServerSide(cp, after);
    // THEN the API server accepts every object and the StatefulSet controller rolls the change out
    const rows: (string | number)[][] = [];
    for (const sts of after.filter((o) => o.kind === 'StatefulSet')) {
      const live = await waitStatefulSetReady(cp, sts, 120_000);
      rows.push([sts.metadata.name, live.spec.replicas, live.status.updatedReplicas, live.status.readyReplicas, live.spec.template.spec.containers[0].image]);
    }
    console.log(`${ns}: ${d.change}: ${second.applied}/${second.objects} objects accepted, ${second.rejections.length} rejected\n`
      + `${second.rejections.map((r) => (r.length > 240 ? `${r.slice(0, 120)} ... ${r.slice(-40)}` : r)).join('\n')}\n${table(['StatefulSet', 'replicas', 'updated', 'ready', 'image'], rows)}`);
    // Jobs whose script depends on the props (the Secret generator, the Redis bootstrap) are
    // named after their content: a changed script is a new Job, never an immutable-template update
    expect(second.rejections).toEqual([]);
    expect(second.applied).toBe(after.length);
    for (const sts of after.filter((o) => o.kind === 'StatefulSet')) {
      const live = cp.get(['statefulset', sts.metadata.name, '-n', ns]);
      expect(live.spec.replicas).toBe(sts.spec.replicas);
      expect(live.spec.template.spec.containers.map((c: Json) => c.image)).toEqual(sts.spec.template.spec.containers.map((c: Json) => c.image));
      expect(podsOf(cp, sts).map((p) => p.metadata.labels['controller-revision-hash'])).toEqual(Array(sts.spec.replicas).fill(live.status.updateRevision));
    }
    for (const cm of after.filter((o) => o.kind === 'ConfigMap')) expect(cp.get(['configmap', cm.metadata.name, '-n', ns]).data).toEqual(cm.data);
    // and applying the new output again is a no-op
    await sleep(1100);
    const owned = ownedState(cp, after);
    applyServerSide(cp, after);
    expect(changedBetween(owned, ownedState(cp, after))).toEqual([]);
  }

  const web = (ns: string, overrides: Partial<StatefulWorkloadProps> = {}, size = 1) => synth(ns, (c) => {
    new StatefulWorkload(c, 'web', {
      appName: 'nginx',
      replicas: 3,
      containers: [{
        name: 'nginx',
        image: 'nginxinc/nginx-unprivileged:1.27.3',
        ports: [{ name: 'web', port: 80, containerPort: 8080 }],
        mounts: [{ volume: 'www', path: '/usr/share/nginx/html' }],
        readinessProbe: Probe.tcp('web'),
      }],
      volumes: [{ name: 'www', storage: Storage.persistent({ size: Size.gibibytes(size), storageClassName: EXPANDABLE }) }],
      ...overrides,
    });
  });

  test('the changes Kubernetes forbids on a StatefulSet are rejected by the API server', async () => {
    // GIVEN a StatefulSet applied
    const ns = 'up-forbidden';
    const base = web(ns);
    cp.createNamespaces([ns]);
    const first = applyServerSide(cp, base);
    expect(first.rejections).toEqual([]);
    // WHEN each forbidden change is applied
    const selectorChange = synth(ns, (c) => {
      const w = new StatefulWorkload(c, 'web', {
        appName: 'nginx', replicas: 3,
        containers: [{ name: 'nginx', image: 'nginxinc/nginx-unprivileged:1.27.3', ports: [{ name: 'web', port: 80, containerPort: 8080 }],
          mounts: [{ volume: 'www', path: '/usr/share/nginx/html' }], readinessProbe: Probe.tcp('web') }],
        volumes: [{ name: 'www', storage: Storage.persistent({ size: Size.gibibytes(1), storageClassName: EXPANDABLE }) }],
      });
      // an escape hatch, as a user would have to: no prop changes the selector
      ApiObject.of(w.statefulSet as any).addJsonPatch(
        JsonPatch.add('/spec/selector/matchLabels/track', 'stable'),
        JsonPatch.add('/spec/template/metadata/labels/track', 'stable'));
    });
    const changes: [string, Json[]][] = [
      ['volumeClaimTemplates (size 1Gi -> 2Gi)', web(ns, {}, 2)],
      ['volumeClaimTemplates (a claim added)', web(ns, {
        containers: [{
          name: 'nginx', image: 'nginxinc/nginx-unprivileged:1.27.3', ports: [{ name: 'web', port: 80, containerPort: 8080 }],
          mounts: [{ volume: 'www', path: '/usr/share/nginx/html' }, { volume: 'cache', path: '/var/cache/nginx' }], readinessProbe: Probe.tcp('web'),
        }],
        volumes: [
          { name: 'www', storage: Storage.persistent({ size: Size.gibibytes(1), storageClassName: EXPANDABLE }) },
          { name: 'cache', storage: Storage.persistent({ size: Size.gibibytes(1), storageClassName: EXPANDABLE }) },
        ],
      })],
      ['serviceName', web(ns, { headlessServiceName: 'web-peers' } as any)],
      ['podManagementPolicy (OrderedReady -> Parallel)', web(ns, { podManagementPolicy: PodManagementPolicy.PARALLEL })],
      ['selector', selectorChange],
    ];
    const rows: string[][] = [];
    for (const [what, objects] of changes) {
      const sts = only(objects, 'StatefulSet');
      const r = applyServerSide(cp, [sts]);
      rows.push([what, r.applied === 1 ? 'ACCEPTED' : 'rejected', r.rejections.join(' ').replace(/^.*?(spec: Forbidden|is invalid)/, '$1').slice(0, 220)]);
    }
    console.log(`forbidden StatefulSet changes (server-side apply of the changed StatefulSet):\n${table(['change', 'API server', 'message'], rows)}`);
    // THEN every one is rejected as a forbidden StatefulSet spec update, and the live object is unchanged
    expect(rows.filter((r) => r[1] !== 'rejected')).toEqual([]);
    for (const r of rows) expect(r[2]).toMatch(/updates to statefulset spec for fields other than/);
    expect(cp.get(['statefulset', only(base, 'StatefulSet').metadata.name, '-n', ns]).spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('1Gi');
  }, 120_000);

  test('storage expansion path: resize the claims, delete the StatefulSet with --cascade=orphan, apply the new size; the pods keep running', async () => {
    // GIVEN a Ready StatefulSet with 1Gi claims of an expandable StorageClass
    const ns = 'up-expand';
    const v1 = web(ns);
    const sts = only(v1, 'StatefulSet');
    cp.createNamespaces([ns]);
    createVolumesFor(cp, v1);
    // the pre-created volumes are 1Gi; give them room for the expansion
    for (const pv of cp.items(['pv']).filter((p) => p.spec.claimRef?.namespace === ns)) {
      cp.must(['patch', 'pv', pv.metadata.name, '--type=merge', '-p', JSON.stringify({ spec: { capacity: { storage: '2Gi' } } })]);
    }
    expect(applyServerSide(cp, v1).rejections).toEqual([]);
    await waitStatefulSetReady(cp, sts);
    const uids = podsOf(cp, sts).map((p) => p.metadata.uid);
    // WHEN each claim is resized, the StatefulSet deleted leaving its pods, and the new size applied
    const pvcs = cp.items(['pvc', '-n', ns]).map((p) => p.metadata.name).sort();
    for (const pvc of pvcs) cp.must(['patch', 'pvc', pvc, '-n', ns, '--type=merge', '-p', JSON.stringify({ spec: { resources: { requests: { storage: '2Gi' } } } })]);
    cp.must(['delete', 'statefulset', sts.metadata.name, '-n', ns, '--cascade=orphan', '--wait=true']);
    const v2 = web(ns, {}, 2);
    const r = applyServerSide(cp, v2);
    // THEN everything is accepted, the claims ask for 2Gi, and the same pods are adopted (not restarted)
    expect(r.rejections).toEqual([]);
    const live = await waitStatefulSetReady(cp, sts);
    expect(live.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('2Gi');
    expect(cp.items(['pvc', '-n', ns]).map((p) => p.spec.resources.requests.storage)).toEqual(Array(3).fill('2Gi'));
    expect(podsOf(cp, sts).map((p) => p.metadata.uid)).toEqual(uids);
    console.log(`storage expansion: ${pvcs.join(', ')} patched to 2Gi, StatefulSet ${sts.metadata.name} deleted with --cascade=orphan and re-applied with 2Gi: `
      + `${r.applied}/${r.objects} accepted, ${uids.length} pods kept (same UIDs), readyReplicas=${live.status.readyReplicas}`);
  }, 120_000);
});
