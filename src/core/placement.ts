import { k8s } from './private/k8s';

/** The node label that identifies a node. */
export const HOSTNAME_TOPOLOGY_KEY = 'kubernetes.io/hostname';
/** The node label that identifies a failure zone. */
export const ZONE_TOPOLOGY_KEY = 'topology.kubernetes.io/zone';

/**
 * How strongly the pods of one workload are kept off the same node.
 * A node failure then takes at most one member, which is what quorums and
 * replica sets need to survive it.
 */
export class AntiAffinity {
  /**
   * Prefer different nodes, but schedule anyway when there are fewer nodes
   * than pods (the default: a small cluster still starts).
   */
  public static soft(weight: number = 100): AntiAffinity {
    if (!Number.isInteger(weight) || weight < 1 || weight > 100) {
      throw new Error(`AntiAffinity.soft: weight must be an integer from 1 to 100, got ${weight}`);
    }
    return new AntiAffinity('soft', weight);
  }

  /** Require different nodes: a pod stays Pending rather than share a node. */
  public static hard(): AntiAffinity {
    return new AntiAffinity('hard', 0);
  }

  /** No anti-affinity (single-node development clusters). */
  public static none(): AntiAffinity {
    return new AntiAffinity('none', 0);
  }

  private constructor(
    /** 'soft', 'hard' or 'none'. */
    public readonly mode: string,
    private readonly weight: number,
  ) {}

  /**
   * The podAntiAffinity for pods with `selector`.
   * @internal
   */
  public _render(selector: { [key: string]: string }): k8s.PodAntiAffinity | undefined {
    const term: k8s.PodAffinityTerm = { labelSelector: { matchLabels: selector }, topologyKey: HOSTNAME_TOPOLOGY_KEY };
    switch (this.mode) {
      case 'hard':
        return { requiredDuringSchedulingIgnoredDuringExecution: [term] };
      case 'soft':
        return { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: this.weight, podAffinityTerm: term }] };
      default:
        return undefined;
    }
  }
}

/** A preference to run near other pods, e.g. Kafka brokers near ZooKeeper. */
export interface PodAffinityPreference {
  /** Labels of the pods to run near. */
  readonly selector: { [key: string]: string };
  /**
   * Topology domain that counts as "near".
   * @default 'topology.kubernetes.io/zone'
   */
  readonly topologyKey?: string;
  /**
   * Weight from 1 to 100.
   * @default 50
   */
  readonly weight?: number;
}

/** Where the pods of a workload run. */
export interface PlacementProps {
  /**
   * Keep pods on different nodes.
   * @default AntiAffinity.soft()
   */
  readonly antiAffinity?: AntiAffinity;
  /**
   * Spread pods evenly over `topology.kubernetes.io/zone` (maxSkew 1,
   * ScheduleAnyway), so a zone outage takes at most its share.
   * @default false
   */
  readonly zoneSpread?: boolean;
  /**
   * Prefer nodes near these pods.
   * @default - none
   */
  readonly affinity?: PodAffinityPreference[];
  /**
   * Node labels a node must have.
   * @default - any node
   */
  readonly nodeSelector?: { [key: string]: string };
  /**
   * Tolerations, for dedicated (tainted) nodes.
   * @default - none
   */
  readonly tolerations?: k8s.Toleration[];
  /**
   * PriorityClass of the pods.
   * @default - the cluster default
   */
  readonly priorityClassName?: string;
}

/**
 * The pod-spec fields that place pods.
 * @internal
 */
export function renderPlacement(placement: PlacementProps, selector: { [key: string]: string }): {
  affinity?: k8s.Affinity;
  topologySpreadConstraints?: k8s.TopologySpreadConstraint[];
  nodeSelector?: { [key: string]: string };
  tolerations?: k8s.Toleration[];
  priorityClassName?: string;
} {
  const podAntiAffinity = (placement.antiAffinity ?? AntiAffinity.soft())._render(selector);
  const podAffinity: k8s.PodAffinity | undefined = placement.affinity && placement.affinity.length > 0
    ? {
      preferredDuringSchedulingIgnoredDuringExecution: placement.affinity.map((a) => ({
        weight: a.weight ?? 50,
        podAffinityTerm: { labelSelector: { matchLabels: a.selector }, topologyKey: a.topologyKey ?? ZONE_TOPOLOGY_KEY },
      })),
    }
    : undefined;
  const affinity = podAntiAffinity || podAffinity
    ? { ...(podAntiAffinity ? { podAntiAffinity } : {}), ...(podAffinity ? { podAffinity } : {}) }
    : undefined;
  return {
    ...(affinity ? { affinity } : {}),
    ...(placement.zoneSpread
      ? {
        topologySpreadConstraints: [{
          maxSkew: 1,
          topologyKey: ZONE_TOPOLOGY_KEY,
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: { matchLabels: selector },
        }],
      }
      : {}),
    ...(placement.nodeSelector ? { nodeSelector: placement.nodeSelector } : {}),
    ...(placement.tolerations ? { tolerations: placement.tolerations } : {}),
    ...(placement.priorityClassName ? { priorityClassName: placement.priorityClassName } : {}),
  };
}
