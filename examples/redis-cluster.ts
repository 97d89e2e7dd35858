import { Chart, ChartProps, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { RedisCluster, Resources, Storage } from '../src';

/**
 * A cache: a Redis Cluster of 3 masters with 1 replica each (6 pods) that
 * forms itself through its bootstrap Job. Clients seed from
 * `cache.seedNodes` and read the password with `cache.passwordEnv()` (the
 * `password` key of the Secret `cache-credentials`, generated in the cluster).
 */
export class RedisClusterChart extends Chart {
  public readonly cache: RedisCluster;

  public constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);
    this.cache = new RedisCluster(this, 'cache', {
      name: 'cache',
      masters: 3,
      replicasPerMaster: 1,
      storage: Storage.persistent({ size: Size.gibibytes(5) }),
      resources: Resources.of({ cpuMillis: 250, memory: Size.gibibytes(2) }),
    });
  }
}
