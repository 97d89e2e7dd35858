import { Chart } from 'cdk8s';
import { IConstruct } from 'constructs';
import { defaultResourceName, MAX_STATEFUL_SET_NAME, pathIds, Problem } from './names';

/** Options of `WorkloadIdentity.of`. */
export interface WorkloadIdentityOptions {
  /**
   * Kind of the owning construct, named in error messages (it never changes a name).
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
    const hint = options.name ? 'choose a shorter name' : `shorten the ids ${pathIds(owner).join(', ')} or set a shorter name`;
    if (name.length > MAX_STATEFUL_SET_NAME) {
      throw problem.error('name', `'${name}' is ${name.length} characters; a StatefulSet name may have at most ${MAX_STATEFUL_SET_NAME} (longer names overflow the controller-revision-hash label and no pod is ever created): ${hint}`);
    }
    problem.dnsLabel('name', name, MAX_STATEFUL_SET_NAME);
    const headless = problem.dnsLabel('headlessServiceName', options.headlessServiceName ?? `${name}-headless`);
    const clusterDomain = options.clusterDomain ?? 'cluster.local';
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(clusterDomain)) {
      throw problem.error('clusterDomain', `must be a DNS domain such as 'cluster.local', got '${clusterDomain}'`);
    }
    return new WorkloadIdentity(name, headless, Chart.of(owner).namespace, clusterDomain, problem, hint);
  }

  /** The StatefulSet name. */
  public readonly name: string;
  /** The headless Service name. */
  public readonly headlessServiceName: string;
  /** The namespace (the chart's), if set. */
  public readonly namespaceName: string | undefined;
  /** The cluster DNS domain. */
  public readonly clusterDomain: string;
  /**
   * Errors about this identity name its owner.
   * @internal
   */
  public readonly _problem: Problem;
  /**
   * How to shorten the name: which ids, or the `name` prop.
   * @internal
   */
  public readonly _nameHint: string;

  private constructor(name: string, headlessServiceName: string, namespaceName: string | undefined, clusterDomain: string, problem: Problem, nameHint: string) {
    this.name = name;
    this.headlessServiceName = headlessServiceName;
    this.namespaceName = namespaceName;
    this.clusterDomain = clusterDomain;
    this._problem = problem;
    this._nameHint = nameHint;
  }

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
    return `${serviceName}.${this.namespaceName ?? 'default'}.svc.${this.clusterDomain}`;
  }
}

