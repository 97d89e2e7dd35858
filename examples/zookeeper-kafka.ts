import { Chart, ChartProps, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { AntiAffinity, KafkaCluster, Resources, Storage, StorageClass, ZooKeeperEnsemble } from '../src';

/**
 * The seeds' streaming platform: a three-member ZooKeeper ensemble, one
 * member per node, scraped by Prometheus (its built-in provider and a
 * ServiceMonitor), and three Kafka 3.x brokers on it that prefer nodes
 * running ZooKeeper, all on Ceph RBD volumes (Rook) that are retained when
 * their claims go away.
 */
export class ZooKeeperKafkaChart extends Chart {
  public readonly zookeeper: ZooKeeperEnsemble;
  public readonly kafka: KafkaCluster;

  public constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);
    const ceph = StorageClass.cephRbd(this, 'ceph-rbd', { name: 'ceph-rbd', pool: 'replicapool' });
    this.zookeeper = new ZooKeeperEnsemble(this, 'zk', {
      replicas: 3,
      storage: Storage.persistent({ size: Size.gibibytes(10), storageClass: ceph }),
      placement: { antiAffinity: AntiAffinity.hard() },
      monitoring: {},
    });
    this.kafka = new KafkaCluster(this, 'kafka', {
      brokers: 3,
      zookeeper: this.zookeeper,
      zookeeperChroot: '/kafka',
      preferZooKeeperNodes: true,
      storage: Storage.persistent({ size: Size.gibibytes(100), storageClass: ceph }),
      resources: Resources.of({ cpuMillis: 1000, memory: Size.gibibytes(4) }),
      heap: Size.gibibytes(2),
    });
  }
}
