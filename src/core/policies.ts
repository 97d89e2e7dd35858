// The small choices of how a StatefulSet rolls, scales and is disrupted.

/** How pods are replaced when the template changes. */
export class UpdateStrategy {
  /**
   * Replace pods one at a time from the highest ordinal down; pods with an
   * ordinal below `partition` keep the old template (canary and staged rollouts).
   */
  public static rollingUpdate(partition: number = 0): UpdateStrategy {
    return new UpdateStrategy('RollingUpdate', partition);
  }

  /** Replace a pod only when someone deletes it (manual, operator-driven upgrades). */
  public static onDelete(): UpdateStrategy {
    return new UpdateStrategy('OnDelete', undefined);
  }

  private constructor(
    /** 'RollingUpdate' or 'OnDelete'. */
    public readonly strategyType: string,
    /** The rolling-update partition. */
    public readonly partition?: number,
  ) {}
}

/** Order in which pods are created and deleted. */
export enum PodManagementPolicy {
  /** One pod at a time, each Ready before the next (quorum systems, primaries first). */
  ORDERED_READY = 'OrderedReady',
  /** All at once (systems that form a cluster by themselves, like Redis Cluster). */
  PARALLEL = 'Parallel',
}

/** Whether claims are deleted with the StatefulSet or on scale-down. */
export enum ClaimRetention {
  /** Keep the claims and their data. */
  RETAIN = 'Retain',
  /** Delete the claims. */
  DELETE = 'Delete',
}

/** When the eviction API may evict a pod that is not Ready. */
export enum UnhealthyPodEvictionPolicy {
  /** Only while the budget is met (the Kubernetes default). */
  IF_HEALTHY_BUDGET = 'IfHealthyBudget',
  /** Always: a crash-looping pod never blocks a node drain. */
  ALWAYS_ALLOW = 'AlwaysAllow',
}

/** The PodDisruptionBudget. Give `maxUnavailable` or `minAvailable`. */
export interface DisruptionBudget {
  /**
   * Pods that voluntary disruptions (drains, upgrades) may take down at once.
   * @default 1
   */
  readonly maxUnavailable?: number;
  /**
   * Pods that must stay up.
   * @default - use `maxUnavailable`
   */
  readonly minAvailable?: number;
  /**
   * Eviction of pods that are not Ready.
   * @default UnhealthyPodEvictionPolicy.IF_HEALTHY_BUDGET
   */
  readonly unhealthyPodEvictionPolicy?: UnhealthyPodEvictionPolicy;
}

/** Disruption budgets derived from what a system must keep running. */
export class Budgets {
  /**
   * For a voting quorum of `members`: at most `floor((members - 1) / 2)` down
   * at once, so a majority always remains (3 -> 1, 5 -> 2). A single member
   * has no quorum to keep; its budget allows 1 so that node drains proceed.
   */
  public static quorum(members: number): DisruptionBudget {
    return { maxUnavailable: members <= 1 ? 1 : Math.floor((members - 1) / 2) };
  }

  private constructor() {}
}

