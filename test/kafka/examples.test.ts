import { Testing } from 'cdk8s';
import { KafkaKraftChart } from '../../examples/kafka-kraft';
import { ZooKeeperKafkaChart } from '../../examples/zookeeper-kafka';
import { only, synthValid } from '../support/manifest';

describe('streaming examples', () => {
  test('zookeeper-kafka: hard anti-affinity for ZooKeeper, Kafka 3.x on it near its members, Ceph RBD claims', () => {
    // GIVEN the example WHEN synthesized
    const chart = new ZooKeeperKafkaChart(Testing.app(), 'zookeeper-kafka', { namespace: 'streaming' });
    const objects = synthValid(chart);
    // THEN
    const zk = only(objects, 'StatefulSet', 'zookeeper-kafka-zk').spec;
    expect(zk.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
    expect(zk.volumeClaimTemplates[0].spec.storageClassName).toBe('ceph-rbd');
    const kafka = only(objects, 'StatefulSet', 'zookeeper-kafka-kafka').spec;
    expect(kafka.template.spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector.matchLabels)
      .toEqual(chart.zookeeper.selectorLabels);
    expect(kafka.volumeClaimTemplates[0].spec).toMatchObject({ storageClassName: 'ceph-rbd', resources: { requests: { storage: '100Gi' } } });
    expect(only(objects, 'ConfigMap', 'zookeeper-kafka-kafka-config').data['server.properties'])
      .toContain(`zookeeper.connect=${chart.zookeeper.connectString}/kafka\n`);
    expect(only(objects, 'StorageClass').provisioner).toBe('rook-ceph.rbd.csi.ceph.com');
  });

  test('kafka-kraft: KRaft on Kafka 4 with three voters', () => {
    const chart = new KafkaKraftChart(Testing.app(), 'kafka-kraft', { namespace: 'kafka' });
    const objects = synthValid(chart);
    const props = only(objects, 'ConfigMap').data['server.properties'];
    expect(props).toContain('controller.quorum.voters=0@kafka-kraft-kafka-0.kafka-kraft-kafka-headless.kafka.svc.cluster.local:9093,');
    expect(only(objects, 'StatefulSet').spec.template.spec.containers[0].image).toMatch(/^apache\/kafka:4\./);
  });
});
