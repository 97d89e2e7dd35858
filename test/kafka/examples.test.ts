import { Testing } from 'cdk8s';
import { KafkaKraftChart } from '../../examples/kafka-kraft';
import { ZooKeeperKafkaChart } from '../../examples/zookeeper-kafka';
import { only, synthValid } from '../support/manifest';

describe('streaming examples', () => {
  test('zookeeper-kafka: hard anti-affinity and metrics for ZooKeeper, Kafka 3.x on it near its members, Ceph RBD claims', () => {
    // GIVEN the example WHEN synthesized
    const chart = new ZooKeeperKafkaChart(Testing.app(), 'zookeeper-kafka', { namespace: 'streaming' });
    const objects = synthValid(chart);
    // THEN
    const zk = only(objects, 'StatefulSet', 'zookeeper-kafka-zk').spec;
    expect(zk.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
    expect(zk.volumeClaimTemplates[0].spec.storageClassName).toBe('ceph-rbd');
    expect(only(objects, 'ServiceMonitor').spec.endpoints[0].port).toBe('metrics');
    expect(only(objects, 'NetworkPolicy', 'zookeeper-kafka-zk').spec.ingress)
      .toContainEqual({ from: [{ podSelector: { matchLabels: chart.kafka.selectorLabels } }], ports: [{ port: 'client', protocol: 'TCP' }] });
    const kafka = only(objects, 'StatefulSet', 'zookeeper-kafka-kafka').spec;
    expect(kafka.template.spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector.matchLabels)
      .toEqual(chart.zookeeper.selectorLabels);
    expect(kafka.volumeClaimTemplates[0].spec).toMatchObject({ storageClassName: 'ceph-rbd', resources: { requests: { storage: '100Gi' } } });
    expect(only(objects, 'ConfigMap', 'zookeeper-kafka-kafka-config').data['server.properties'])
      .toContain(`zookeeper.connect=${chart.zookeeper.connectString}/kafka\n`);
    expect(only(objects, 'StorageClass').provisioner).toBe('rook-ceph.rbd.csi.ceph.com');
  });

  test('kafka-kraft: Kafka 4 brokers beside a quorum of three dedicated KRaft controllers', () => {
    // GIVEN the example WHEN synthesized
    const chart = new KafkaKraftChart(Testing.app(), 'kafka-kraft', { namespace: 'kafka' });
    const objects = synthValid(chart);
    // THEN the brokers vote through the controllers' pod FQDNs
    const props = only(objects, 'ConfigMap', 'kafka-kraft-kafka-config').data['server.properties'];
    expect(props).toContain('controller.quorum.voters=1000@kafka-kraft-kafka-controller-0.kafka-kraft-kafka-controller-headless.kafka.svc.cluster.local:9093,');
    expect(only(objects, 'StatefulSet', 'kafka-kraft-kafka').spec.template.spec.containers[0].image).toMatch(/^apache\/kafka:4\./);
    const controllers = only(objects, 'StatefulSet', 'kafka-kraft-kafka-controller').spec;
    expect(controllers.replicas).toBe(3);
    expect(controllers.volumeClaimTemplates[0].spec).toMatchObject({ storageClassName: 'fast-ssd', resources: { requests: { storage: '10Gi' } } });
    expect(only(objects, 'PodDisruptionBudget', 'kafka-kraft-kafka-controller').spec.maxUnavailable).toBe(1);
  });
});
