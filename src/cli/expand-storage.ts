import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { failure, refusal, usageError } from './errors';
import { Json, Kubectl } from './kubectl';
import { parseStorage } from './units';
import { isReady, loadStatefulSet, notReadyReason, observed, ordinalOf, Output, podsOf, waitFor } from './workload';

export interface ExpandOptions {
  readonly name: string;
  /** The new size, a Kubernetes quantity. */
  readonly size: string;
  /** The claim template; default: the only one, else `data`. */
  readonly claim?: string;
  readonly timeoutMs: number;
  /** How long the kubelet may take to grow a mounted file system before the CLI restarts its pod. */
  readonly onlineWaitMs: number;
}

const condition = (pvc: Json, type: string) => (pvc.status?.conditions ?? []).find((c: Json) => c.type === type && c.status === 'True');

/**
 * Grows a StatefulSet's claims: volumeClaimTemplates are immutable, so each
 * existing claim is patched (one at a time; a pod whose file system can only
 * grow on a fresh mount is restarted, alone), then the StatefulSet is deleted
 * with --cascade=orphan, leaving its pods running, and created again from
 * the live object with the new template size, and adopts the same pods.
 */
export async function expandStorage(k: Kubectl, o: Output, opts: ExpandOptions): Promise<void> {
  const bytes = parseStorage('<size>', opts.size);
  const name = opts.name;
  const sts = await observed(k, o, name, opts.timeoutMs);
  const templates: Json[] = sts.spec.volumeClaimTemplates ?? [];
  if (templates.length === 0) throw refusal(`statefulset/${name} has no volumeClaimTemplates: its pods have no claims to expand`);
  const names = templates.map((t) => t.metadata.name);
  const claim = opts.claim ?? (names.length === 1 ? names[0] : names.includes('data') ? 'data' : undefined);
  if (!claim) throw usageError(`statefulset/${name} has the claim templates ${names.join(', ')}: choose one with --claim`);
  const template = templates.find((t) => t.metadata.name === claim);
  if (!template) throw usageError(`--claim: statefulset/${name} has no claim template '${claim}' (it has: ${names.join(', ')})`);
  const current: string = template.spec.resources.requests.storage;
  if (bytes < parseStorage(`claim template '${claim}'`, current)) {
    throw refusal(`refusing to shrink claim template '${claim}' of statefulset/${name} from ${current} to ${opts.size}: a volume never shrinks; `
      + 'copy the data to a new, smaller StatefulSet instead');
  }

  // the claims of every ordinal, including those a scale-down left behind
  const pattern = new RegExp(`^${claim}-${name}-(\\d+)$`);
  const pvcs = k.list(['pvc']).filter((p) => pattern.test(p.metadata.name))
    .sort((a, b) => Number(pattern.exec(a.metadata.name)![1]) - Number(pattern.exec(b.metadata.name)![1]));
  for (const pvc of pvcs) {
    const request: string = pvc.spec.resources.requests.storage;
    if (parseStorage(`claim ${pvc.metadata.name}`, request) > bytes) {
      throw refusal(`refusing to shrink claim ${pvc.metadata.name} from ${request} to ${opts.size}: a volume never shrinks`);
    }
  }
  const classes = new Set<string>(pvcs.map((p) => p.spec.storageClassName ?? ''));
  if (pvcs.length === 0) classes.add(template.spec.storageClassName ?? defaultClass(k) ?? '');
  for (const c of classes) {
    if (!c) throw refusal(`claims of template '${claim}' of statefulset/${name} have no StorageClass: expansion needs a class with allowVolumeExpansion: true`);
    const sc = k.get(['storageclass', c]);
    if (!sc) throw refusal(`storageclass "${c}" of the claims of statefulset/${name} does not exist`);
    if (sc.allowVolumeExpansion !== true) {
      throw refusal(`storageclass "${c}" does not allow volume expansion (allowVolumeExpansion is not true): the claims of statefulset/${name} cannot grow. `
        + 'Use a class whose provisioner can expand volumes, with allowVolumeExpansion: true');
    }
  }
  const grown = (p: Json) => parseStorage('capacity', p.status?.capacity?.storage ?? '0') >= bytes;
  if (bytes === parseStorage('template', current) && pvcs.every((p) => grown(p) && parseStorage('request', p.spec.resources.requests.storage) >= bytes)) {
    o.out(`claim template '${claim}' of statefulset/${name} and its ${pvcs.length} claim(s) are already ${opts.size}: nothing to do`);
    return;
  }

  // check the new StatefulSet with the API server before anything changes
  const next = recreated(sts, claim, opts.size);
  const probe = { ...next, metadata: { ...next.metadata, name: undefined, generateName: `${name}-` } };
  k.must(['create', '--dry-run=server', '-o', 'name', '-f', '-'], { input: JSON.stringify(probe) });

  o.out(`expanding claim template '${claim}' of statefulset/${name} from ${current} to ${opts.size}: ${pvcs.length} claim(s), one at a time`);
  for (const pvc of pvcs) await growClaim(k, o, sts, pvc.metadata.name, opts, bytes);

  const podUids = new Map(podsOf(k, sts).map((p) => [p.metadata.name, p.metadata.uid]));
  const backup = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-')), `statefulset-${name}.json`);
  fs.writeFileSync(backup, JSON.stringify(next, undefined, 2));
  o.out(`re-creating statefulset/${name} with claim template '${claim}' at ${opts.size} (its pods keep running; the new object is saved in ${backup})`);
  k.must(['delete', 'statefulset', name, '--cascade=orphan', '--wait=true']);
  const created = k.run(['create', '--field-manager=cdk8s-stateful', '-o', 'name', '-f', '-'], { input: JSON.stringify(next) });
  if (created.code !== 0) {
    throw failure(`statefulset/${name} was deleted (its pods keep running) but could not be created again: ${created.stderr.trim()}\n`
      + `Create it from the saved object once the cause is fixed: kubectl create -f ${backup}`);
  }
  fs.rmSync(path.dirname(backup), { recursive: true, force: true });
  await adopted(k, o, name, opts.timeoutMs);
  const after = podsOf(k, loadStatefulSet(k, name));
  const restarted = after.filter((p) => podUids.has(p.metadata.name) && podUids.get(p.metadata.name) !== p.metadata.uid).map((p) => p.metadata.name);
  o.out(`statefulset/${name} adopted its ${after.length} pods${restarted.length ? ` (${restarted.join(', ')} were replaced)` : ', none restarted'}; `
    + `claim template '${claim}' asks for ${opts.size}. Set the same size in the construct before the next apply: the API server refuses any other claim template change`);
}

function defaultClass(k: Kubectl): string | undefined {
  return k.list(['storageclasses']).find((c) => c.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true')?.metadata.name;
}

/** The live StatefulSet as a new object: without status and server-set metadata, with the claim template at `size`. */
function recreated(sts: Json, claim: string, size: string): Json {
  const metadata = { ...sts.metadata };
  for (const field of ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields', 'selfLink']) delete metadata[field];
  const spec = JSON.parse(JSON.stringify(sts.spec));
  for (const t of spec.volumeClaimTemplates) {
    delete t.status;
    if (t.metadata.name === claim) t.spec.resources.requests.storage = size;
  }
  return { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata, spec };
}

/**
 * Patches one claim's request and waits for `status.capacity`. When the
 * volume has grown but its file system waits for a fresh mount
 * (FileSystemResizePending) longer than the online wait, restarts that one
 * pod and waits until it is Ready again.
 */
async function growClaim(k: Kubectl, o: Output, sts: Json, pvcName: string, opts: ExpandOptions, bytes: number): Promise<void> {
  const pvc = k.get(['pvc', pvcName]);
  if (parseStorage('request', pvc.spec.resources.requests.storage) < bytes) {
    k.patch(`pvc/${pvcName}`, { spec: { resources: { requests: { storage: opts.size } } } });
  }
  const pod = `${sts.metadata.name}-${pvcName.slice(pvcName.lastIndexOf('-') + 1)}`;
  let pendingSince: number | undefined;
  let restartedUid: string | undefined;
  let last: Json = pvc;
  await waitFor(o, opts.timeoutMs, () => {
    last = k.get(['pvc', pvcName]);
    const capacity = last.status?.capacity?.storage ?? '?';
    if (parseStorage('capacity', last.status?.capacity?.storage ?? '0') >= bytes && !condition(last, 'FileSystemResizePending')) {
      if (restartedUid === undefined) return { done: true, progress: '' };
      const p = k.get(['pod', pod]);
      return { done: !!p && p.metadata.uid !== restartedUid && isReady(p), progress: `${pvcName}: ${capacity}; waiting for ${pod} to be Ready again (${notReadyReason(p)})` };
    }
    if (condition(last, 'FileSystemResizePending') && restartedUid === undefined) {
      pendingSince = pendingSince ?? Date.now();
      const p = k.get(['pod', pod]);
      if (p && Date.now() - pendingSince >= opts.onlineWaitMs) {
        o.out(`  ${pvcName}: the volume has grown; its file system grows when ${pod} mounts it again: restarting ${pod} (alone)`);
        k.must(['delete', 'pod', pod, '--wait=false']);
        restartedUid = p.metadata.uid;
      }
      return { done: false, progress: `${pvcName}: ${capacity}, FileSystemResizePending${restartedUid ? `; ${pod} restarting` : ''}` };
    }
    const resizing = condition(last, 'Resizing') || condition(last, 'ControllerResizeInProgress') || condition(last, 'NodeResizeInProgress');
    return { done: false, progress: `${pvcName}: requested ${opts.size}, capacity ${capacity}${resizing ? ` (${resizing.type})` : ''}` };
  }, (waited) => {
    const events = k.list(['events', '--field-selector', `involvedObject.kind=PersistentVolumeClaim,involvedObject.name=${pvcName}`])
      .slice(-3).map((e) => `    ${e.reason}: ${e.message}`);
    return `expanding statefulset/${sts.metadata.name} stopped: claim ${pvcName} did not reach ${opts.size} within ${waited} `
      + `(capacity ${last.status?.capacity?.storage ?? 'unknown'}, conditions: ${(last.status?.conditions ?? []).map((c: Json) => c.type).join(', ') || 'none'})`
      + `${events.length ? `\n  latest events:\n${events.join('\n')}` : ''}\nThe StatefulSet is unchanged; claims patched so far keep their new size. Run the command again once the resize works.`;
  });
  o.out(`  ${pvcName}: ${last.status?.capacity?.storage}`);
}

/** Waits until the new StatefulSet has adopted every pod and counts them Ready. */
async function adopted(k: Kubectl, o: Output, name: string, timeoutMs: number): Promise<void> {
  let state = '';
  await waitFor(o, timeoutMs, () => {
    const sts = loadStatefulSet(k, name);
    const pods = podsOf(k, sts);
    const owned = pods.filter((p) => (p.metadata.ownerReferences ?? []).some((r: Json) => r.uid === sts.metadata.uid));
    const replicas = sts.spec.replicas ?? 1;
    state = `${owned.length}/${pods.length} pods adopted, ${sts.status?.readyReplicas ?? 0}/${replicas} ready`;
    return { done: owned.length === pods.length && (sts.status?.readyReplicas ?? 0) === pods.filter((p) => ordinalOf(p) < replicas && isReady(p)).length && (sts.status?.observedGeneration ?? 0) >= sts.metadata.generation, progress: state };
  }, (waited) => `the re-created statefulset/${name} did not adopt its pods within ${waited} (${state})`);
}
