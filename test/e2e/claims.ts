// Existing claims for the e2e harness, which runs claim templates only: a
// pod volume `persistentVolumeClaim: <name>` (a backup claim, a restore
// source) becomes a directory shared by every pod that mounts it.
import * as fs from 'fs';
import * as path from 'path';
import { LocalCluster, Substitution } from './harness/cluster';

type Json = any;

export const CLAIM_NOTE: Substitution = {
  manifest: 'a pod volume `persistentVolumeClaim: <existing claim>` (the backup claim; the restore claim)',
  local: 'a directory per claim name, shared by every pod that mounts it, bound at the mount path (read-only where the mount says so)',
  why: 'the harness runs claim templates only; this test maps existing claims onto directories itself (a harness feature to add)',
};

/**
 * Existing claims (pod volumes with `persistentVolumeClaim`) for the
 * harness: each claim is a directory under `claimsDir`, shared by every pod
 * that mounts it, handed to the harness as if it were a claim template of
 * the pod (the harness binds claim directories at their mount paths).
 */
export function withExistingClaims(cluster: LocalCluster, claimsDir: string): void {
  const c = cluster as any;
  const createPod = c.createPod.bind(c);
  c.createPod = (podName: string, owner: Json, ordinal: number, template: Json, ip: string, claims: string[]) => {
    const pvcs = (template.spec.volumes ?? []).filter((v: Json) => v.persistentVolumeClaim);
    for (const v of pvcs) {
      const shared = path.join(claimsDir, v.persistentVolumeClaim.claimName);
      if (!fs.existsSync(shared)) {
        fs.mkdirSync(shared, { recursive: true });
        fs.chownSync(shared, 0, template.spec.securityContext?.fsGroup ?? 0);
        fs.chmodSync(shared, 0o2775);
      }
      const link = path.join(cluster.dir, 'claims', `${v.name}-${podName}`);
      fs.mkdirSync(path.dirname(link), { recursive: true });
      fs.rmSync(link, { force: true });
      fs.symlinkSync(shared, link);
    }
    const spec = { ...template.spec, volumes: (template.spec.volumes ?? []).filter((v: Json) => !v.persistentVolumeClaim) };
    return createPod(podName, owner, ordinal, { ...template, spec }, ip, [...claims, ...pvcs.map((v: Json) => v.name)]);
  };
}
