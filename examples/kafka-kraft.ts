import { Chart, ChartProps, Duration, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { KafkaCluster, KafkaControllerMode, Storage } from '../src';

/**
 * Kafka 4 without ZooKeeper: three brokers and a separate quorum of three
 * KRaft controllers (their own StatefulSet `<chart>-kafka-controller`, small
 * pods with a 10Gi metadata claim), a cluster id derived once from the
 * construct path, and topics replicated three times with two in-sync
 * replicas required. Drop `controllerMode` to let the three brokers double
 * as the controllers instead (fewer pods; the default).
 */
export class KafkaKraftChart extends Chart {
  public readonly kafka: KafkaCluster;

  public constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);
    this.kafka = new KafkaCluster(this, 'kafka', {
      brokers: 3,
      controllerMode: KafkaControllerMode.DEDICATED,
      controllers: 3,
      storage: Storage.persistent({ size: Size.gibibytes(100), storageClassName: 'fast-ssd' }),
      controllerStorage: Storage.persistent({ size: Size.gibibytes(10), storageClassName: 'fast-ssd' }),
      logRetention: Duration.hours(168),
      logSegmentSize: Size.gibibytes(1),
    });
  }
}
