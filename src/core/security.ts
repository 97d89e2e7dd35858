import { k8s } from './private/k8s';

/** The user and group a workload's processes run as. */
export interface RunAs {
  /** Numeric user id (never 0). */
  readonly uid: number;
  /** Numeric group id; also the fsGroup that owns mounted volumes. */
  readonly gid: number;
}

/**
 * The pod-level security context of the Pod Security Standards "restricted"
 * profile: non-root with a fixed uid/gid, volumes group-owned by `gid`
 * (changed only on mismatch, so large volumes do not slow restarts), and the
 * runtime's default seccomp profile.
 * @internal
 */
export function restrictedPodSecurityContext(runAs: RunAs): k8s.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: runAs.uid,
    runAsGroup: runAs.gid,
    fsGroup: runAs.gid,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/**
 * The container-level security context of the "restricted" profile.
 * @internal
 */
export function restrictedContainerSecurityContext(readOnlyRootFilesystem: boolean): k8s.SecurityContext {
  return {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}
