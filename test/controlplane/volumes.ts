/** Storage for StatefulSets on a control plane without a provisioner: pre-bound PersistentVolumes. */
import { ControlPlane } from './harness';

type Json = any;

/** The default StorageClass of the test cluster: no provisioner, immediate binding. */
export const LOCAL_CLASS = 'controlplane-local';

export function createDefaultStorageClass(cp: ControlPlane): void {
  cp.must(['apply', '--server-side', '--field-manager=controlplane-test', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass',
      metadata: { name: LOCAL_CLASS, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'Immediate', reclaimPolicy: 'Retain',
    }),
  });
}

/** The claim names Kubernetes documents for a StatefulSet: `<claim>-<statefulset>-<ordinal>`. */
export function claimNames(sts: Json): string[] {
  const names: string[] = [];
  for (let i = 0; i < sts.spec.replicas; i++) {
    for (const t of sts.spec.volumeClaimTemplates ?? []) names.push(`${t.metadata.name}-${sts.metadata.name}-${i}`);
  }
  return names;
}

/**
 * One PersistentVolume per claim every StatefulSet of `objects` will make,
 * pre-bound (claimRef) to the documented claim name: a claim under any other
 * name stays Pending and its pod is never scheduled.
 */
export function createVolumesFor(cp: ControlPlane, objects: Json[], replicas?: number): number {
  const pvs: Json[] = [];
  for (const sts of objects.filter((o) => o.kind === 'StatefulSet')) {
    const n = replicas ?? sts.spec.replicas;
    for (let i = 0; i < n; i++) {
      for (const t of sts.spec.volumeClaimTemplates ?? []) {
        const claim = `${t.metadata.name}-${sts.metadata.name}-${i}`;
        const ns = sts.metadata.namespace;
        pvs.push({
          apiVersion: 'v1', kind: 'PersistentVolume',
          metadata: { name: `pv-${ns}-${claim}`.slice(0, 253) },
          spec: {
            capacity: { storage: t.spec.resources.requests.storage },
            accessModes: t.spec.accessModes ?? ['ReadWriteOnce'],
            storageClassName: t.spec.storageClassName ?? LOCAL_CLASS,
            persistentVolumeReclaimPolicy: 'Retain',
            claimRef: { namespace: ns, name: claim },
            hostPath: { path: `/nonexistent/${ns}/${claim}` },
          },
        });
      }
    }
  }
  if (pvs.length > 0) {
    cp.must(['apply', '--server-side', '--field-manager=controlplane-test', '-f', '-'], { input: pvs.map((p) => JSON.stringify(p)).join('\n') });
  }
  return pvs.length;
}

export function isReady(pod: Json): boolean {
  return !pod.metadata.deletionTimestamp && pod.status?.conditions?.some((c: Json) => c.type === 'Ready' && c.status === 'True');
}

/** The pods of StatefulSet `sts` (by owner), sorted by ordinal. */
export function podsOf(cp: ControlPlane, sts: Json): Json[] {
  return cp.items(['pods', '-n', sts.metadata.namespace])
    .filter((p) => p.metadata.ownerReferences?.some((r: Json) => r.kind === 'StatefulSet' && r.name === sts.metadata.name))
    .sort((a, b) => ordinal(a) - ordinal(b));
}

export function ordinal(pod: Json): number {
  return Number(pod.metadata.name.slice(pod.metadata.name.lastIndexOf('-') + 1));
}

/** Waits until StatefulSet `sts` has all its replicas Ready (and the controller saw it). */
export async function waitStatefulSetReady(cp: ControlPlane, sts: Json, timeoutMs = 90_000): Promise<Json> {
  const args = ['statefulset', sts.metadata.name, '-n', sts.metadata.namespace];
  return cp.waitFor(`StatefulSet ${sts.metadata.namespace}/${sts.metadata.name} Ready`, () => {
    const live = cp.get(args);
    const s = live?.status ?? {};
    return live && s.observedGeneration === live.metadata.generation && s.readyReplicas === live.spec.replicas
      && s.updatedReplicas === live.spec.replicas && s.currentRevision === s.updateRevision ? live : undefined;
  }, timeoutMs, 500);
}
