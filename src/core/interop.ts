import { ApiObject, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';

/**
 * The Pod Security Standards "restricted" profile for cdk8s-plus workloads
 * that talk to our systems. cdk8s-plus-27 already runs containers as
 * non-root, without privilege escalation and on a read-only root, but sets
 * neither the RuntimeDefault seccomp profile nor `capabilities.drop: [ALL]`,
 * so a namespace that enforces "restricted" rejects its pods.
 */
export class RestrictedProfile {
  /**
   * Adds what cdk8s-plus leaves out of the restricted profile to every
   * container of `workload` (a Deployment, StatefulSet, DaemonSet, Job, CronJob or Pod): the
   * RuntimeDefault seccomp profile on the pod and `drop: [ALL]` capabilities
   * on each container. Call it after the last container is added.
   */
  public static applyTo(workload: kplus.AbstractPod): void {
    const podPath = workload instanceof kplus.CronJob ? '/spec/jobTemplate/spec/template/spec'
      : workload instanceof kplus.Workload ? '/spec/template/spec' : '/spec';
    const api = ApiObject.of(workload);
    api.addJsonPatch(JsonPatch.add(`${podPath}/securityContext/seccompProfile`, { type: 'RuntimeDefault' }));
    const containers = [...workload.initContainers.map((_, i) => `initContainers/${i}`), ...workload.containers.map((_, i) => `containers/${i}`)];
    for (const c of containers) {
      api.addJsonPatch(JsonPatch.add(`${podPath}/${c}/securityContext/capabilities`, { drop: ['ALL'] }));
    }
  }

  private constructor() {}
}
