import { Construct } from 'constructs';
import { k8s } from './private/k8s';
import { StatefulWorkload } from './stateful-workload';

/**
 * What every system construct (ZooKeeper, Kafka, MySQL, Redis) exposes about
 * the stateful unit it is built on: the escape hatches (`statefulSet`,
 * `headlessService`, `pdb`, ...) for `ApiObject.of(...)` patches, and the
 * stable pod names clients wire to. Systems compose the unit (`workload`);
 * this base only forwards to it, so they all answer the same way.
 */
export abstract class StatefulSystem extends Construct {
  /** The stateful unit the system is built on. */
  public abstract readonly workload: StatefulWorkload;

  /** The StatefulSet. */
  public get statefulSet(): k8s.KubeStatefulSet {
    return this.workload.statefulSet;
  }

  /** The headless governing Service. */
  public get headlessService(): k8s.KubeService {
    return this.workload.headlessService;
  }

  /** The ClusterIP Service over the client ports, if the system has one. */
  public get clientService(): k8s.KubeService | undefined {
    return this.workload.clientService;
  }

  /** The PodDisruptionBudget. */
  public get pdb(): k8s.KubePodDisruptionBudget {
    return this.workload.pdb;
  }

  /** The labels that select the system's pods (for affinity rules and NetworkPolicies). */
  public get selectorLabels(): { [key: string]: string } {
    return this.workload.selectorLabels;
  }

  /** Name of the pod with `ordinal`. */
  public podName(ordinal: number): string {
    return this.workload.podName(ordinal);
  }

  /** Stable DNS name of the pod with `ordinal`. */
  public podFqdn(ordinal: number): string {
    return this.workload.podFqdn(ordinal);
  }
}
