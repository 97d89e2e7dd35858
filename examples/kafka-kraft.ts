import { Chart, ChartProps, Duration, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { KafkaCluster, Storage } from '../src';

/**
 * Kafka 4 without ZooKeeper: three brokers that are also the KRaft
 * controller quorum, a cluster id derived once from the construct path, and
 * topics replicated three times with two in-sync replicas required.
 */
export class KafkaKraftChart extends Chart {
  public readonly kafka: KafkaCluster;

  public constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);
    this.kafka = new KafkaCluster(this, 'kafka', {
      brokers: 3,
      storage: Storage.persistent({ size: Size.gibibytes(100), storageClassName: 'fast-ssd' }),
      logRetention: Duration.hours(168),
      logSegmentSize: Size.gibibytes(1),
    });
  }
}
