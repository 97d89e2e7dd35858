import { App, Chart, Size, Testing } from 'cdk8s';
import {
  KafkaCluster, KafkaControllerMode, MongoReplicaSet, MySqlReplicaSet, PostgresReplicaSet, Probe, RedisCluster, StatefulWorkload, Storage,
  UpdateStrategy, ZooKeeperEnsemble,
} from '../../src';
import { only } from '../support/manifest';
import { applyServerSide, table } from './apply';
import { ControlPlane, controlPlaneAvailable, HOLD_READY, KUBERNETES_VERSION, sleep } from './harness';
import { claimNames, createDefaultStorageClass, createVolumesFor, isReady, ordinal, podsOf, waitStatefulSetReady } from './volumes';

type Json = any;

const run = controlPlaneAvailable();

function synthChart(build: (app: App) => Chart): Json[] {
  return Testing.synth(build(Testing.app()));
}

(run ? describe : describe.skip)(`the StatefulSet and disruption controllers of Kubernetes ${KUBERNETES_VERSION} (kwok nodes)`, () => {
  let cp: ControlPlane;

  beforeAll(async () => {
    cp = await ControlPlane.start({ nodes: 9 });
    createDefaultStorageClass(cp);
  }, 180_000);

  afterAll(async () => {
    await cp?.stop();
  }, 60_000);

  function applyOk(objects: Json[]): void {
    const r = applyServerSide(cp, objects);
    expect([...r.rejections, ...r.warnings]).toEqual([]);
    expect(r.applied).toBe(r.objects);
  }

  test('OrderedReady: pods are created in ordinal order with stable names, each only once the previous one is Ready, with claims <claim>-<statefulset>-<ordinal>', async () => {
    // GIVEN a 3-pod workload with two claim templates whose pods kwok holds not-Ready until the test releases them
    const ns = 'ordered';
    const objects = synthChart((app) => {
      const chart = new Chart(app, ns, { namespace: ns });
      new StatefulWorkload(chart, 'web', {
        appName: 'nginx',
        replicas: 3,
        containers: [{
          name: 'nginx',
          image: 'nginxinc/nginx-unprivileged:1.27.3',
          ports: [{ name: 'web', port: 80, containerPort: 8080 }],
          mounts: [{ volume: 'www', path: '/usr/share/nginx/html' }, { volume: 'logs', path: '/var/log/nginx' }],
          readinessProbe: Probe.tcp('web'),
        }],
        volumes: [
          { name: 'www', storage: Storage.persistent({ size: Size.gibibytes(1) }) },
          { name: 'logs', storage: Storage.persistent({ size: Size.gibibytes(2) }) },
        ],
        podAnnotations: { [HOLD_READY]: 'true' },
      });
      return chart;
    });
    const sts = only(objects, 'StatefulSet');
    expect(sts.spec.podManagementPolicy).toBe('OrderedReady');
    cp.createNamespaces([ns]);
    createVolumesFor(cp, objects);
    // WHEN applied
    applyOk(objects);
    // THEN each ordinal appears alone, scheduled with its claims bound, and the next one waits for its readiness
    const t0 = Date.now();
    const timeline: (string | number)[][] = [];
    for (let k = 0; k < 3; k++) {
      const pod = await cp.waitFor(`pod ${sts.metadata.name}-${k} scheduled`, () => podsOf(cp, sts).find((p) => ordinal(p) === k && p.spec.nodeName), 60_000);
      const created = Date.now() - t0;
      await sleep(2000); // time enough for a controller that did not wait to create the next pod
      const pods = podsOf(cp, sts);
      expect(pods.map((p) => p.metadata.name)).toEqual(Array.from({ length: k + 1 }, (_, i) => `${sts.metadata.name}-${i}`));
      expect(isReady(pods[k])).toBe(false);
      const claims = sts.spec.volumeClaimTemplates.map((t: Json) => `${t.metadata.name}-${sts.metadata.name}-${k}`);
      for (const claim of claims) {
        expect(cp.get(['pvc', claim, '-n', ns])?.status.phase).toBe('Bound');
        expect(pod.spec.volumes).toContainEqual(expect.objectContaining({ persistentVolumeClaim: { claimName: claim } }));
      }
      cp.must(['annotate', 'pod', pod.metadata.name, '-n', ns, `${HOLD_READY}-`]);
      await cp.waitFor(`pod ${pod.metadata.name} Ready`, () => podsOf(cp, sts).find((p) => ordinal(p) === k && isReady(p)), 30_000);
      timeline.push([pod.metadata.name, created, pod.spec.nodeName, claims.join(', '), `${pods.length} (held ${2000} ms)`, Date.now() - t0]);
    }
    await waitStatefulSetReady(cp, sts);
    const pvcs = cp.items(['pvc', '-n', ns]).map((p) => p.metadata.name).sort();
    console.log(`OrderedReady StatefulSet ${sts.metadata.name} (3 replicas, claim templates www and logs):\n${table(
      ['pod', 'scheduled at ms', 'node', 'claims (Bound)', 'pods while not Ready', 'Ready at ms'], timeline)}\nPVCs: ${pvcs.join(', ')}`);
    expect(pvcs).toEqual(claimNames(sts).sort());
  }, 180_000);

  test('a rollout with partition k updates only ordinals >= k, and status.updatedReplicas says so', async () => {
    // GIVEN a 5-member ZooKeeper ensemble, Ready
    const ns = 'rollout';
    const zk = (props: { image?: string; partition?: number }) => synthChart((app) => {
      const chart = new Chart(app, ns, { namespace: ns });
      new ZooKeeperEnsemble(chart, 'zk', {
        replicas: 5, image: props.image,
        updateStrategy: props.partition === undefined ? undefined : UpdateStrategy.rollingUpdate(props.partition),
      });
      return chart;
    });
    const v1 = zk({});
    const sts = only(v1, 'StatefulSet');
    cp.createNamespaces([ns]);
    createVolumesFor(cp, v1);
    applyOk(v1);
    const before = await waitStatefulSetReady(cp, sts);
    const oldImage = before.spec.template.spec.containers[0].image;
    const newImage = 'mirror.example.com/library/zookeeper:3.9.4';

    // WHEN the image changes with partition 3
    applyOk(zk({ image: newImage, partition: 3 }));
    const partial = await cp.waitFor('updatedReplicas 2 of 5', () => {
      const live = cp.get(['statefulset', sts.metadata.name, '-n', ns]);
      const s = live.status;
      return s.observedGeneration === live.metadata.generation && s.updatedReplicas === 2 && s.readyReplicas === 5 ? live : undefined;
    }, 90_000, 500);
    await sleep(3000); // the controller must stop at the partition, not merely be slow
    const live = cp.get(['statefulset', sts.metadata.name, '-n', ns]);
    const pods = podsOf(cp, sts);
    // THEN exactly ordinals 3 and 4 run the update revision and the new image
    const rows = pods.map((p) => [p.metadata.name, p.metadata.labels['controller-revision-hash'] === live.status.updateRevision ? 'update' : 'current',
      p.spec.containers[0].image, isReady(p) ? 'Ready' : 'not Ready']);
    console.log(`partition rollout of ${sts.metadata.name} (5 members, partition 3): status.updatedReplicas=${live.status.updatedReplicas}, `
      + `currentRevision=${live.status.currentRevision}, updateRevision=${live.status.updateRevision}\n${table(['pod', 'revision', 'image', 'ready'], rows)}`);
    expect(live.status.updatedReplicas).toBe(2);
    expect(partial.status.updateRevision).toBe(live.status.updateRevision);
    expect(pods.filter((p) => p.metadata.labels['controller-revision-hash'] === live.status.updateRevision).map(ordinal)).toEqual([3, 4]);
    expect(pods.filter((p) => p.spec.containers[0].image === newImage).map(ordinal)).toEqual([3, 4]);
    expect(pods.filter((p) => p.spec.containers[0].image === oldImage).map(ordinal)).toEqual([0, 1, 2]);

    // WHEN the partition drops to 0 THEN every member is updated
    applyOk(zk({ image: newImage, partition: 0 }));
    const done = await waitStatefulSetReady(cp, sts);
    console.log(`partition 0: status.updatedReplicas=${done.status.updatedReplicas}, currentRevision=updateRevision=${done.status.updateRevision}`);
    expect(podsOf(cp, sts).map((p) => p.spec.containers[0].image)).toEqual(Array(5).fill(newImage));
  }, 240_000);

  test('each PDB allows exactly the disruptions the construct intends, and the API server refuses an eviction beyond them', async () => {
    // GIVEN every system with its defaults (and quorum systems at 3 and 5 members), all Ready
    const systems: { ns: string; build: (c: Chart) => void; budgets: { [sts: string]: { pods: number; allowed: number; why: string } } }[] = [
      { ns: 'pdb-zookeeper-3', build: (c) => new ZooKeeperEnsemble(c, 'zk'), budgets: { 'pdb-zookeeper-3-zk': { pods: 3, allowed: 1, why: 'quorum: 2 of 3 stay' } } },
      { ns: 'pdb-zookeeper-5', build: (c) => new ZooKeeperEnsemble(c, 'zk', { replicas: 5 }), budgets: { 'pdb-zookeeper-5-zk': { pods: 5, allowed: 2, why: 'quorum: 3 of 5 stay' } } },
      {
        ns: 'pdb-kafka', build: (c) => new KafkaCluster(c, 'kafka', { controllerMode: KafkaControllerMode.DEDICATED, controllers: 5 }),
        budgets: {
          'pdb-kafka-kafka': { pods: 3, allowed: 1, why: 'brokers: one at a time' },
          'pdb-kafka-kafka-controller': { pods: 5, allowed: 2, why: 'KRaft quorum: 3 of 5 stay' },
        },
      },
      { ns: 'pdb-mysql', build: (c) => new MySqlReplicaSet(c, 'db'), budgets: { 'pdb-mysql-db': { pods: 3, allowed: 1, why: 'one member at a time' } } },
      { ns: 'pdb-postgres', build: (c) => new PostgresReplicaSet(c, 'pg'), budgets: { 'pdb-postgres-pg': { pods: 3, allowed: 1, why: 'one member at a time' } } },
      { ns: 'pdb-redis', build: (c) => new RedisCluster(c, 'cache'), budgets: { 'pdb-redis-cache': { pods: 6, allowed: 1, why: 'one node at a time' } } },
      { ns: 'pdb-mongodb', build: (c) => new MongoReplicaSet(c, 'mongo'), budgets: { 'pdb-mongodb-mongo': { pods: 3, allowed: 1, why: 'majority: 2 of 3 stay' } } },
    ];
    const all: Json[] = [];
    for (const s of systems) {
      const objects = synthChart((app) => {
        const chart = new Chart(app, s.ns, { namespace: s.ns });
        s.build(chart);
        return chart;
      });
      all.push(...objects);
    }
    cp.createNamespaces(systems.map((s) => s.ns));
    createVolumesFor(cp, all);
    applyOk(all);
    const statefulSets = all.filter((o) => o.kind === 'StatefulSet');
    expect(statefulSets.map((s) => s.metadata.name).sort()).toEqual(systems.flatMap((s) => Object.keys(s.budgets)).sort());
    for (const sts of statefulSets) await waitStatefulSetReady(cp, sts);

    const rows: (string | number)[][] = [];
    for (const s of systems) {
      for (const [name, intent] of Object.entries(s.budgets)) {
        const sts = only(all, 'StatefulSet', name);
        const pdb = all.find((o) => o.kind === 'PodDisruptionBudget' && o.metadata.namespace === s.ns
          && Object.entries(o.spec.selector.matchLabels).every(([k, v]) => sts.spec.template.metadata.labels[k] === v))!;
        expect(pdb).toBeDefined();
        // THEN the disruption controller computes the intended budget
        const status = await cp.waitFor(`PDB ${pdb.metadata.name} computed for ${intent.pods} healthy pods`, () => {
          const live = cp.get(['pdb', pdb.metadata.name, '-n', s.ns]);
          return live?.status?.observedGeneration === live.metadata.generation && live.status.currentHealthy === intent.pods ? live.status : undefined;
        }, 60_000, 500);
        expect(status.disruptionsAllowed).toBe(intent.allowed);

        // WHEN pods are evicted one after another while kwok (the "kubelets") is paused, so none comes back
        cp.signal('kwok', 'SIGSTOP');
        const outcomes: string[] = [];
        try {
          const pods = podsOf(cp, sts).reverse();
          for (let i = 0; i <= intent.allowed; i++) outcomes.push(evict(pods[i]));
        } finally {
          cp.signal('kwok', 'SIGCONT');
        }
        // THEN exactly `allowed` evictions succeed and the next is refused by the API server
        rows.push([pdb.metadata.name, intent.pods, JSON.stringify({ minAvailable: pdb.spec.minAvailable, maxUnavailable: pdb.spec.maxUnavailable }),
          intent.why, intent.allowed, status.disruptionsAllowed, outcomes.filter((o) => o === 'evicted').length, outcomes[outcomes.length - 1]]);
        expect(outcomes).toEqual([...Array(intent.allowed).fill('evicted'), 'refused (429 TooManyRequests: would violate the disruption budget)']);
        await waitStatefulSetReady(cp, sts);
      }
    }
    console.log(`PodDisruptionBudgets (all pods Ready), then evictions with the kubelets paused:\n${table(
      ['PDB', 'pods', 'spec', 'intent', 'intended', 'status.disruptionsAllowed', 'evictions accepted', 'next eviction'], rows)}`);
  }, 420_000);

  function evict(pod: Json): string {
    const body = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace } };
    const r = cp.kubectl(['create', '--raw', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/eviction`, '-f', '-'], { input: JSON.stringify(body) });
    if (r.code === 0) return 'evicted';
    if (/TooManyRequests/.test(r.stderr) && /disruption budget/.test(r.stderr)) return 'refused (429 TooManyRequests: would violate the disruption budget)';
    return `error: ${r.stderr.trim()}`;
  }
});
