import { Chart, Testing } from 'cdk8s';
import { Probe, RedisCluster, StatefulWorkload, StatefulWorkloadProps, Storage, UpdateStrategy } from '../../src';
import { EXIT } from '../../src/cli/errors';
import { applyServerSide } from '../controlplane/apply';
import { bin, ControlPlane, controlPlaneAvailable, HOLD_READY, KUBERNETES_VERSION, sleep } from '../controlplane/harness';
import { isReady, ordinal, podsOf, waitStatefulSetReady } from '../controlplane/volumes';
import { cli } from './run';
import { redisCluster, StandIns } from './standins';

// `cdk8s-stateful rollout` against a real kube-apiserver, kube-controller-manager
// and kwok: the StatefulSet controller does the updating, kwok marks pods Ready
// unless they carry HOLD_READY, and `kubectl exec` into a pod runs the check
// as a local process (kwok's Exec) next to recording stand-ins.

type Json = any;
const REVISION = 'controller-revision-hash';
const run = controlPlaneAvailable();

(run ? describe : describe.skip)(`cdk8s-stateful rollout on kube-apiserver ${KUBERNETES_VERSION}`, () => {
  let cp: ControlPlane;
  let home: string | undefined;
  const flags = (ns: string) => ['--kubectl', bin('kubectl'), '--kubeconfig', cp.kubeconfig, '-n', ns];

  beforeAll(async () => {
    cp = await ControlPlane.start({ nodes: 6, exec: true });
    // kubectl's discovery cache ($HOME/.kube/cache) goes with the control plane; pods are polled often
    home = process.env.HOME;
    process.env.HOME = cp.dir;
    process.env.CDK8S_STATEFUL_POLL_MS = '200';
  }, 180_000);

  afterAll(async () => {
    if (home === undefined) delete process.env.HOME; else process.env.HOME = home;
    await cp?.stop();
  }, 60_000);

  /** A StatefulWorkload `web` of `replicas` pods in `ns`, running `image`. */
  function web(ns: string, replicas: number, image: string, extra: Partial<StatefulWorkloadProps> = {}): Json[] {
    const chart = new Chart(Testing.app(), ns, { namespace: ns });
    new StatefulWorkload(chart, 'web', {
      name: 'web', appName: 'nginx', replicas,
      containers: [{ name: 'nginx', image, ports: [{ name: 'web', port: 80, containerPort: 8080 }], readinessProbe: Probe.tcp('web') }],
      ...extra,
    });
    return Testing.synth(chart);
  }

  function apply(objects: Json[]): void {
    const r = applyServerSide(cp, objects, ['--force-conflicts']);
    expect(r.rejections).toEqual([]);
  }

  const sts = (ns: string, name = 'web') => cp.get(['statefulset', name, '-n', ns]);
  const partitionOf = (s: Json) => s.spec.updateStrategy.rollingUpdate.partition;

  /** Waits until the controller has seen the applied template (a new update revision). */
  async function updatePending(ns: string, name = 'web'): Promise<Json> {
    return cp.waitFor('the new update revision', () => {
      const s = sts(ns, name);
      return s.status.observedGeneration === s.metadata.generation && s.status.updateRevision !== s.status.currentRevision ? s : undefined;
    }, 30_000);
  }

  test('stages lower the partition exactly, the highest ordinals first, each stage waiting for its pods to be Ready', async () => {
    // GIVEN 5 pods Ready on v1, and nothing to roll out
    const ns = 'stages';
    cp.createNamespaces([ns]);
    apply(web(ns, 5, 'nginxinc/nginx-unprivileged:1.27.3'));
    const v1 = await waitStatefulSetReady(cp, sts(ns));
    const idle = await cli([...flags(ns), 'rollout', 'web']);
    expect(idle.code).toBe(EXIT.OK);
    expect(idle.out).toContain(`nothing to roll out: every pod of statefulset/web runs revision ${v1.status.updateRevision.slice('web-'.length)}`);
    // WHEN v2 is applied with the partition at the replicas (nothing restarts), its pods held not-Ready until the test releases them
    apply(web(ns, 5, 'nginxinc/nginx-unprivileged:1.27.4', { updateStrategy: UpdateStrategy.rollingUpdate(5), podAnnotations: { [HOLD_READY]: 'true' } }));
    const v2 = await updatePending(ns);
    const [oldRev, newRev] = [v2.status.currentRevision, v2.status.updateRevision];
    const lines: string[] = [];
    let finished = false;
    const rollout = cli([...flags(ns), 'rollout', 'web', '--stages', '1,50%,100%', '--timeout', '2m'], (l) => lines.push(l)).finally(() => { finished = true; });
    // THEN the test sees every partition the CLI sets, and at each the pods as the stage before left them
    const snapshots: { partition: number; pods: { ordinal: number; updated: boolean; ready: boolean }[] }[] = [];
    while (!finished) {
      const s = sts(ns);
      const pods = podsOf(cp, s);
      if (snapshots.length === 0 || snapshots[snapshots.length - 1].partition !== partitionOf(s)) {
        snapshots.push({ partition: partitionOf(s), pods: pods.map((p) => ({ ordinal: ordinal(p), updated: p.metadata.labels[REVISION] === newRev, ready: isReady(p) })) });
      }
      // release each updated pod the controller made (one at a time: it waits for each to be Ready)
      for (const p of pods.filter((x) => x.metadata.labels[REVISION] === newRev && x.metadata.annotations?.[HOLD_READY])) {
        cp.kubectl(['annotate', 'pod', p.metadata.name, '-n', ns, `${HOLD_READY}-`]);
      }
      await sleep(150);
    }
    const r = await rollout;
    expect(r.err).toBe('');
    expect(r.code).toBe(EXIT.OK);
    const expected = [5, 5 - 1, 5 - Math.ceil(5 * 0.5), 0];
    expect(snapshots.map((s) => s.partition)).toEqual(expected);
    for (let i = 1; i < snapshots.length; i++) {
      const { partition, pods } = snapshots[i];
      const previous = snapshots[i - 1].partition;
      // the previous stage's pods run the update and are Ready; none below the new partition is touched
      expect({ partition, done: pods.filter((p) => p.ordinal >= previous).every((p) => p.updated && p.ready) }).toEqual({ partition, done: true });
      expect({ partition, untouched: pods.filter((p) => p.ordinal < partition).every((p) => !p.updated && p.ready) }).toEqual({ partition, untouched: true });
      // the new stage's pods are at most being updated: never Ready on the update before the test released them
      expect({ partition, early: pods.filter((p) => p.ordinal >= partition && p.ordinal < previous && p.updated && p.ready) }).toEqual({ partition, early: [] });
    }
    // and the CLI said what it waited for
    expect(lines).toContain('stage 1/3 (1 of 5 pods, partition 4): setting the partition');
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}stage 1\/3 \(1 of 5 pods, partition 4\): updated 1\/1, ready 0\/1; waiting for web-4$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}stage 2\/3 \(3 of 5 pods, partition 2\): updated 2\/3, ready 1\/3; waiting for web-3$/));
    expect(lines).toContain('stage 3/3 (5 of 5 pods, partition 0): done');
    expect(lines).toContain(`rolled out revision ${newRev.slice(4)} to all 5 pods of statefulset/web`);
    const done = await waitStatefulSetReady(cp, sts(ns));
    expect(podsOf(cp, done).map((p) => p.metadata.labels[REVISION])).toEqual(Array(5).fill(newRev));
    expect(done.status.currentRevision).toBe(newRev);
    expect(oldRev).not.toBe(newRev);
    console.log(`rollout stages on 5 pods: partitions ${snapshots.map((s) => s.partition).join(' -> ')}; CLI output:\n${r.out}`);
  }, 240_000);

  test('after a finished rollout, --undo goes back to the revision before it on every pod', async () => {
    // GIVEN the previous test's StatefulSet, all 5 pods on v2 (whose template holds pods)
    const ns = 'stages';
    const before = sts(ns);
    const revisions = cp.items(['controllerrevisions', '-n', ns]).sort((a, b) => a.revision - b.revision);
    const previous = revisions.filter((x) => x.metadata.name !== before.status.updateRevision).pop();
    // WHEN it is undone
    const r = await cli([...flags(ns), 'rollout', 'web', '--undo', '--timeout', '2m']);
    // THEN every pod runs the revision before, and the template is v1's again
    expect(r.code).toBe(EXIT.OK);
    const after = await waitStatefulSetReady(cp, sts(ns));
    expect(after.status.updateRevision).toBe(previous.metadata.name);
    expect(podsOf(cp, after).map((p) => p.metadata.labels[REVISION])).toEqual(Array(5).fill(previous.metadata.name));
    expect(after.spec.template.spec.containers[0].image).toBe('nginxinc/nginx-unprivileged:1.27.3');
    expect(r.out).toContain(`rolling statefulset/web back from revision ${before.status.updateRevision.slice(4)} to ${previous.metadata.name.slice(4)} (ControllerRevision ${previous.metadata.name}, revision ${previous.revision})`);
    expect(r.out).toContain(`statefulset/web is back at revision ${previous.metadata.name.slice(4)} on all 5 pods`);
  }, 180_000);

  test('a stage whose pod stays not-Ready times out with a report; --undo then puts the updated pod back on the old revision', async () => {
    // GIVEN 3 pods on v1, and v2 applied with the partition at 3; v2's pods are held not-Ready
    const ns = 'held';
    cp.createNamespaces([ns]);
    apply(web(ns, 3, 'nginxinc/nginx-unprivileged:1.27.3'));
    await waitStatefulSetReady(cp, sts(ns));
    apply(web(ns, 3, 'nginxinc/nginx-unprivileged:1.27.4', { updateStrategy: UpdateStrategy.rollingUpdate(3), podAnnotations: { [HOLD_READY]: 'true' } }));
    const pending = await updatePending(ns);
    const [oldRev, newRev] = [pending.status.currentRevision, pending.status.updateRevision];
    // WHEN the rollout runs with a short timeout
    const r = await cli([...flags(ns), 'rollout', 'web', '--timeout', '6s']);
    // THEN it waited on web-2, then stopped with exit 4, saying which pod, why, and what state it left
    expect(r.code).toBe(EXIT.TIMEOUT);
    expect(r.out).toMatch(/^ {2}stage 1\/3 \(1 of 3 pods, partition 2\): updated 1\/1, ready 0\/1; waiting for web-2$/m);
    expect(r.err).toContain('cdk8s-stateful: rollout of statefulset/web stopped: stage 1/3 (1 of 3 pods, partition 2) did not finish within 6s:');
    expect(r.err).toMatch(new RegExp(`^ {2}web-2: runs the update revision ${newRev.slice(4)} but is not Ready \\(phase \\w+`, 'm'));
    expect(r.err).toContain(`The partition stays at 2: pods below ordinal 2 keep revision ${oldRev.slice(4)}.`);
    expect(r.err).toContain('cdk8s-stateful rollout web --undo');
    const stopped = sts(ns);
    expect(partitionOf(stopped)).toBe(2);
    expect(podsOf(cp, stopped).map((p) => p.metadata.labels[REVISION])).toEqual([oldRev, oldRev, newRev]);
    // WHEN it is undone
    const u = await cli([...flags(ns), 'rollout', 'web', '--undo', '--timeout', '1m']);
    // THEN the template is v1's, and web-2 is replaced by a v1 pod (which kwok makes Ready)
    expect(u.err).toBe('');
    expect(u.code).toBe(EXIT.OK);
    const back = await cp.waitFor('web-2 back on the old revision', () => {
      const s = sts(ns);
      const pods = podsOf(cp, s);
      return pods.length === 3 && pods.every((p) => p.metadata.labels[REVISION] === oldRev && isReady(p)) ? s : undefined;
    }, 30_000);
    expect(back.status.updateRevision).toBe(oldRev);
    expect(back.spec.template.spec.containers[0].image).toBe('nginxinc/nginx-unprivileged:1.27.3');
    expect(back.spec.template.metadata.annotations[HOLD_READY]).toBeUndefined();
    expect(u.out).toContain(`statefulset/web is back at revision ${oldRev.slice(4)} on all 3 pods`);
    // the controller would have waited for the broken pod forever: the CLI deleted it (the documented forced rollback)
    expect(u.out).toContain(`deleting web-2: it runs revision ${newRev.slice(4)} and is not Ready`);
    console.log(`held stage:\n${r.err}\nundo:\n${u.out}`);
  }, 180_000);

  test('what rollout refuses: an unknown StatefulSet, OnDelete, a stage list that does not fit the replicas', async () => {
    const ns = 'refusals';
    cp.createNamespaces([ns]);
    apply(web(ns, 3, 'nginxinc/nginx-unprivileged:1.27.3', { updateStrategy: UpdateStrategy.onDelete() }));
    const unknown = await cli([...flags(ns), 'rollout', 'nope']);
    expect([unknown.code, unknown.err]).toEqual([EXIT.REFUSED, 'cdk8s-stateful: statefulset "nope" not found in namespace "refusals" (it has: web)']);
    const empty = await cli([...flags('default'), 'rollout', 'web']);
    expect(empty.err).toContain('statefulset "web" not found in namespace "default" (it has no StatefulSets; pass -n/--namespace or --context)');
    const onDelete = await cli([...flags(ns), 'rollout', 'web']);
    expect(onDelete.code).toBe(EXIT.REFUSED);
    expect(onDelete.err).toContain('statefulset/web uses updateStrategy OnDelete: a partition rollout needs RollingUpdate');
    apply(web(ns, 3, 'nginxinc/nginx-unprivileged:1.27.3', { updateStrategy: UpdateStrategy.rollingUpdate(3) }));
    for (const [stages, message] of [['2,50%,100%', "'50%' updates 2 of 3 pods, no more than '2'"], ['1,2', "'2' updates 2 of 3"], ['4,all', "stage '4' updates more pods than the StatefulSet has (3)"]]) {
      const r = await cli([...flags(ns), 'rollout', 'web', '--stages', stages]);
      expect({ stages, code: r.code }).toEqual({ stages, code: EXIT.USAGE });
      expect(r.err).toContain(message);
    }
    expect(partitionOf(sts(ns))).toBe(3);
  }, 60_000);

  describe('with the Redis Cluster health gate', () => {
    const ns = 'cache';
    let standIns: StandIns;
    beforeAll(() => { standIns = new StandIns(); });
    afterAll(() => standIns?.cleanup());

    /** The RedisCluster's StatefulSet, ConfigMap and Services (its Jobs need a real cluster). */
    function cache(extra: { partition?: number; change?: string } = {}): Json[] {
      const chart = new Chart(Testing.app(), ns, { namespace: ns });
      new RedisCluster(chart, 'cache', {
        name: 'cache', masters: 3, replicasPerMaster: 1, storage: Storage.ephemeral(),
        ...(extra.partition !== undefined ? { updateStrategy: UpdateStrategy.rollingUpdate(extra.partition) } : {}),
        ...(extra.change ? { podAnnotations: { 'example.com/change': extra.change } } : {}),
      });
      return Testing.synth(chart).filter((o) => ['StatefulSet', 'ConfigMap', 'Service', 'ServiceAccount'].includes(o.kind));
    }

    test('a node whose cluster_state is not ok stops the rollout after its stage, naming the pod, the check and what it printed; fixed, the rollout continues', async () => {
      // GIVEN a 6-node Redis Cluster whose nodes answer through the stand-in redis-cli, Ready on v1
      cp.createNamespaces([ns]);
      const objects = cache();
      const name = objects.find((o) => o.kind === 'StatefulSet').metadata.name;
      const pods = Array.from({ length: 6 }, (_, i) => `${name}-${i}`);
      redisCluster(standIns, name, 3);
      cp.execLocally(ns, pods, { workDir: standIns.dir, env: { ...standIns.env(), REDISCLI_AUTH: 'from-the-secret' } });
      apply(objects);
      await waitStatefulSetReady(cp, sts(ns, name));
      // WHEN a change is applied at partition 6, and the node the first stage updates reports cluster_state:fail
      apply(cache({ partition: 6, change: 'v2' }));
      const pending = await updatePending(ns, name);
      standIns.redis(`${name}-5`, { role: 'slave', id: '5'.repeat(40), slots: [], state: 'fail', link: 'down' });
      const r = await cli([...flags(ns), 'rollout', name, '--stages', '1,all', '--gate-timeout', '2s']);
      // THEN the rollout stops with exit 1 after stage 1: the pod, the check, its output; the partition stays
      expect(r.code).toBe(EXIT.FAILED);
      expect(r.out).toContain(`statefulset/${name} runs Redis Cluster: the health gate after each step runs cluster_state (redis-cli cluster info)`);
      expect(r.err).toContain(`rollout of statefulset/${name} stopped after stage 1/2 (1 of 6 pods, partition 5): the Redis Cluster health gate failed for 2s:`);
      expect(r.err).toContain(`  pod ${name}-5, check "cluster_state (redis-cli cluster info)" printed:`);
      expect(r.err).toMatch(/^ {4}\| cluster_state:fail \(cluster_slots_ok:10923 /m);
      // what the check printed, not kubectl's words about the exit status
      expect(r.err).not.toMatch(/exit status|exit code|set -euo pipefail/);
      expect(r.err).not.toMatch(new RegExp(`pod ${name}-[0-4]`));
      expect(partitionOf(sts(ns, name))).toBe(5);
      expect(podsOf(cp, sts(ns, name)).map((p) => p.metadata.labels[REVISION] === pending.status.updateRevision)).toEqual([false, false, false, false, false, true]);
      // the check ran in every pod, with the password the container has
      const gateCalls = standIns.calls('redis-cli').filter((c) => c.argv.join(' ') === 'cluster info');
      expect([...new Set(gateCalls.map((c) => c.pod))].sort()).toEqual(pods);
      expect(gateCalls.every((c) => c.auth === true)).toBe(true);
      // WHEN the node recovers and the rollout runs again
      standIns.redis(`${name}-5`, { role: 'slave', id: '5'.repeat(40), slots: [], state: 'ok', link: 'up' });
      const again = await cli([...flags(ns), 'rollout', name, '--stages', '1,all']);
      // THEN it passes both gates and every pod runs the update
      expect(again.err).toBe('');
      expect(again.code).toBe(EXIT.OK);
      expect(again.out).toContain(`Redis Cluster health gate passed: ${name}-0 master, ${name}-1 master, ${name}-2 master, ${name}-3 replica, ${name}-4 replica, ${name}-5 replica`);
      expect(podsOf(cp, sts(ns, name)).every((p) => p.metadata.labels[REVISION] === pending.status.updateRevision)).toBe(true);
      console.log(`Redis gate failure report:\n${r.err}`);
    }, 180_000);
  });
});

