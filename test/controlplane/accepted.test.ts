import { Chart, Testing } from 'cdk8s';
import { addExamples } from '../../examples';
import { applyServerSide, changedBetween, installCrds, namespacesOf, ownedState, table } from './apply';
import { addConfigurations } from './configurations';
import { ControlPlane, controlPlaneAvailable, KUBERNETES_VERSION, sleep } from './harness';

type Json = any;

const run = controlPlaneAvailable();

(run ? describe : describe.skip)(`kube-apiserver ${KUBERNETES_VERSION} accepts every manifest`, () => {
  let cp: ControlPlane;
  const app = Testing.app();
  addExamples(app);
  const configurations = addConfigurations(app);
  const charts: { id: string; kind: string; objects: Json[] }[] = app.charts.map((c: Chart) => ({
    id: c.node.id, kind: configurations.includes(c) ? 'construct' : 'example', objects: Testing.synth(c),
  }));
  const all = charts.flatMap((c) => c.objects);

  beforeAll(async () => {
    cp = await ControlPlane.start();
    const crds = await installCrds(cp);
    console.log(`control plane: kube-apiserver ${KUBERNETES_VERSION} at ${cp.server}, CRDs installed: ${crds.join(', ')}`);
    // every namespace enforces the restricted Pod Security Standard
    cp.createNamespaces(namespacesOf(all));
  }, 180_000);

  afterAll(async () => {
    await cp?.stop();
  }, 60_000);

  const results = new Map<string, ReturnType<typeof applyServerSide>>();

  test('every example and construct configuration is created with server-side apply: zero rejections, zero warnings', () => {
    // GIVEN every chart WHEN applied server-side (strict field validation)
    for (const c of charts) results.set(c.id, applyServerSide(cp, c.objects));
    // THEN
    console.log(`server-side apply to kube-apiserver ${KUBERNETES_VERSION} (namespaces enforce Pod Security "restricted"):\n${table(
      ['chart', 'source', 'objects', 'applied', 'rejected', 'warnings'],
      charts.map((c) => {
        const r = results.get(c.id)!;
        return [c.id, c.kind, r.objects, r.applied, r.rejections.length, r.warnings.length];
      }))}\ntotal: ${all.length} objects in ${charts.length} charts`);
    const problems = charts.flatMap((c) => {
      const r = results.get(c.id)!;
      return [...r.rejections, ...r.warnings].map((l) => `${c.id}: ${l}`);
    });
    expect(problems).toEqual([]);
    for (const c of charts) expect(results.get(c.id)!.applied).toBe(c.objects.length);
  }, 120_000);

  test('applying the same output again changes nothing', async () => {
    // GIVEN everything applied, and what our field manager owns
    await sleep(1100); // managedFields times have a one-second resolution
    const before = new Map(charts.map((c) => [c.id, ownedState(cp, c.objects)]));
    // WHEN applied again
    const again = charts.map((c) => ({ id: c.id, r: applyServerSide(cp, c.objects) }));
    // THEN no owned field, generation or (status-less) resourceVersion changed
    const changed = charts.map((c) => ({ id: c.id, changed: changedBetween(before.get(c.id)!, ownedState(cp, c.objects)) }));
    console.log(`re-apply (server-side, same output):\n${table(['chart', 'objects', 'accepted', 'changed'],
      charts.map((c, i) => [c.id, c.objects.length, again[i].r.applied, changed[i].changed.length]))}`);
    expect(again.flatMap((a) => a.r.rejections)).toEqual([]);
    expect(changed.flatMap((c) => c.changed.map((n) => `${c.id}: ${n}`))).toEqual([]);
  }, 120_000);

  test('the controllers create every workload\'s first pod: admitted under restricted Pod Security, no FailedCreate', async () => {
    // GIVEN everything applied WHEN the StatefulSet, ReplicaSet and Job controllers act
    const workloads = all.filter((o) => ['StatefulSet', 'Deployment', 'Job'].includes(o.kind));
    let missing: string[] = [];
    const withPods = await cp.waitFor('a pod of every workload', () => {
      const pods = cp.items(['pods', '-A']);
      missing = workloads.filter((w) => !pods.some((p) => p.metadata.namespace === (w.metadata.namespace ?? 'default')
        && Object.entries(w.spec.selector?.matchLabels ?? w.spec.template.metadata?.labels ?? {}).every(([k, v]) => p.metadata.labels?.[k] === v)))
        .map((w) => `${w.kind}/${w.metadata.namespace}/${w.metadata.name}`);
      return missing.length === 0 ? pods : undefined;
    }, 90_000, 1000).catch((e) => {
      const events = cp.items(['events', '-A']).filter((ev) => ev.type === 'Warning').map((ev) => `${ev.involvedObject.kind}/${ev.involvedObject.name}: ${ev.reason}: ${ev.message}`);
      throw new Error(`${(e as Error).message}\nwithout a pod: ${missing.join(', ')}\nWarning events:\n  ${events.join('\n  ')}`);
    });
    // THEN no controller was refused a pod
    const failed = cp.items(['events', '-A', '--field-selector=reason=FailedCreate']).map((ev) => `${ev.involvedObject.kind}/${ev.involvedObject.name}: ${ev.message}`);
    console.log(`controllers created ${withPods.length} pods for ${workloads.length} workloads; FailedCreate events: ${failed.length}`);
    expect(failed).toEqual([]);
  }, 120_000);
});
