import { Chart } from 'cdk8s';
import { IConstruct } from 'constructs';
import { defaultResourceName, MAX_STATEFUL_SET_NAME, pathIds, Problem } from './names';

/** Options of `WorkloadIdentity.of`. */
export interface WorkloadIdentityOptions {
  /**
   * Kind of the owning construct, used in error messages.
   * @default 'StatefulWorkload'
   */
  readonly kind?: string;
  /**
   * StatefulSet name.
   * @default - the owner's path from the chart, joined with '-'
   */
  readonly name?: string;
  /**
   * Name of the headless governing Service.
   * @default - `<name>-headless`
   */
  readonly headlessServiceName?: string;
  /**
   * Cluster DNS domain.
   * @default 'cluster.local'
   */
  readonly clusterDomain?: string;
}

/**
 * The stable names of a StatefulSet's pods, known before any object exists.
 * Systems render config files that list every member (zoo.cfg's server
 * lines, KRaft voters, replication sources) from the same identity the
 * `StatefulWorkload` then uses, so the two cannot disagree.
 */
export class WorkloadIdentity {
  /** The identity of the workload `owner` will create; throws if a name is invalid or too long. */
  public static of(owner: IConstruct, options: WorkloadIdentityOptions = {}): WorkloadIdentity {
    const problem = new Problem(options.kind ?? 'StatefulWorkload', owner);
    const name = options.name ?? defaultResourceName(owner);
    if (name.length > MAX_STATEFUL_SET_NAME) {
      const hint = options.name ? 'choose a shorter name' : `shorten the ids ${pathIds(owner).join(', ')} or set a shorter name`;
      throw problem.error('name', `'${name}' is ${name.length} characters; a StatefulSet name may have at most ${MAX_STATEFUL_SET_NAME} (longer names overflow the controller-revision-hash label and no pod is ever created): ${hint}`);
    }
    problem.dnsLabel('name', name, MAX_STATEFUL_SET_NAME);
    const headless = problem.dnsLabel('headlessServiceName', options.headlessServiceName ?? `${name}-headless`);
    return new WorkloadIdentity(name, headless, Chart.of(owner).namespace, options.clusterDomain ?? 'cluster.local');
  }

  private constructor(
    /** The StatefulSet name. */
    public readonly name: string,
    /** The headless Service name. */
    public readonly headlessServiceName: string,
    /** The namespace (the chart's), if set. */
    public readonly namespace: string | undefined,
    /** The cluster DNS domain. */
    public readonly clusterDomain: string,
  ) {}

  /** `<name>-<ordinal>`. */
  public podName(ordinal: number): string {
    return `${this.name}-${ordinal}`;
  }

  /** `<pod>.<headless>.<namespace>.svc.<clusterDomain>`. */
  public podFqdn(ordinal: number): string {
    return `${this.podName(ordinal)}.${this.serviceFqdn(this.headlessServiceName)}`;
  }

  /** `<service>.<namespace>.svc.<clusterDomain>` (namespace `default` when the chart has none). */
  public serviceFqdn(serviceName: string): string {
    return `${serviceName}.${this.namespace ?? 'default'}.svc.${this.clusterDomain}`;
  }
}

/** The version in an image reference (`zookeeper:3.9.4` -> `3.9.4`), if it has a tag. */
export function imageTag(image: string): string | undefined {
  const last = image.split('@')[0].split('/').pop() ?? '';
  const tag = last.includes(':') ? last.split(':')[1] : undefined;
  return tag && /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(tag) ? tag : undefined;
}
