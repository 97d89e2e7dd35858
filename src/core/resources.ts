import { Size, SizeRoundingBehavior } from 'cdk8s';
import { describe, Problem } from './names';
import { k8s } from './private/k8s';

/** Props of `Resources.of`. */
export interface ResourcesProps {
  /** CPU request in millicores (1000 = one core). */
  readonly cpuMillis: number;
  /**
   * CPU limit in millicores. Unset by default: a CPU limit throttles a
   * database in the middle of a request without protecting anything.
   * @default - no CPU limit
   */
  readonly cpuLimitMillis?: number;
  /** Memory request. */
  readonly memory: Size;
  /**
   * Memory limit. Equal to the request by default, so the pod is never
   * OOM-killed for using memory it was promised.
   * @default - same as `memory`
   */
  readonly memoryLimit?: Size;
}

/**
 * CPU and memory for a container, always explicit (never cdk8s-plus's
 * 1000m/512Mi default), with presets.
 */
export class Resources {
  /** Explicit requests and limits. */
  public static of(props: ResourcesProps): Resources {
    return new Resources(props);
  }

  /** 100m CPU, 256Mi: sidecars and init containers. */
  public static tiny(): Resources {
    return new Resources({ cpuMillis: 100, memory: Size.mebibytes(256) });
  }

  /** 250m CPU, 1Gi: development and small caches. */
  public static small(): Resources {
    return new Resources({ cpuMillis: 250, memory: Size.gibibytes(1) });
  }

  /** 1 CPU, 2Gi: a small production node. */
  public static medium(): Resources {
    return new Resources({ cpuMillis: 1000, memory: Size.gibibytes(2) });
  }

  /** 2 CPU, 8Gi: a busy production node. */
  public static large(): Resources {
    return new Resources({ cpuMillis: 2000, memory: Size.gibibytes(8) });
  }

  private constructor(private readonly props: ResourcesProps) {}

  /** The memory limit in MiB (what heap and cache sizes must fit in). */
  public get memoryLimitMebibytes(): number {
    return (this.props.memoryLimit ?? this.props.memory).toMebibytes({ rounding: SizeRoundingBehavior.FLOOR });
  }

  /** The memory request in MiB. */
  public get memoryRequestMebibytes(): number {
    return this.props.memory.toMebibytes({ rounding: SizeRoundingBehavior.FLOOR });
  }

  /**
   * Problems with these values, as messages (empty when valid).
   * @internal
   */
  public _problems(): string[] {
    const out: string[] = [];
    const p = this.props;
    for (const k of ['memory', 'memoryLimit'] as const) {
      if (p[k] !== undefined && !(p[k] instanceof Size)) out.push(`${k} must be a Size such as Size.gibibytes(1), got ${describe(p[k])}`);
    }
    if (out.length > 0) return out;
    if (!Number.isInteger(p.cpuMillis) || p.cpuMillis <= 0) out.push(`cpuMillis must be a positive integer, got ${p.cpuMillis}`);
    if (p.cpuLimitMillis !== undefined && (!Number.isInteger(p.cpuLimitMillis) || p.cpuLimitMillis < p.cpuMillis)) {
      out.push(`cpuLimitMillis must be an integer >= cpuMillis (${p.cpuMillis}), got ${p.cpuLimitMillis}`);
    }
    if (!(this.memoryRequestMebibytes > 0)) out.push(`memory must be at least 1Mi, got ${p.memory.asString()}`);
    if (this.memoryLimitMebibytes < this.memoryRequestMebibytes) {
      out.push(`memoryLimit (${this.memoryLimitMebibytes}Mi) must be >= memory (${this.memoryRequestMebibytes}Mi)`);
    }
    return out;
  }

  /** @internal */
  public _render(): k8s.ResourceRequirements {
    const p = this.props;
    return {
      requests: {
        cpu: k8s.Quantity.fromString(`${p.cpuMillis}m`),
        memory: k8s.Quantity.fromString(`${this.memoryRequestMebibytes}Mi`),
      },
      limits: {
        ...(p.cpuLimitMillis !== undefined ? { cpu: k8s.Quantity.fromString(`${p.cpuLimitMillis}m`) } : {}),
        memory: k8s.Quantity.fromString(`${this.memoryLimitMebibytes}Mi`),
      },
    };
  }
}

/**
 * `resources` (of `prop`), checked before a size is derived from it: a
 * Resources with valid sizes.
 * @internal
 */
export function checkedResources(problem: Problem, prop: string, resources: Resources): Resources {
  problem.instanceOf(prop, resources, Resources, 'a Resources such as Resources.medium() or Resources.of({ cpuMillis, memory })');
  const problems = resources._problems();
  if (problems.length > 0) throw problem.error(prop, problems.join('; '));
  return resources;
}
