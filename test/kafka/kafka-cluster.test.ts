import { Chart, Duration, Size, Testing } from 'cdk8s';
import { KafkaCluster, KafkaClusterProps, KafkaMode, ZooKeeperEnsemble } from '../../src';
import { only, synthValid } from '../support/manifest';

function chart(): Chart {
  return new Chart(Testing.app(), 'streaming', { namespace: 'streaming' });
}

function files(objects: any[], name = 'streaming-kafka-config'): { [key: string]: string } {
  return only(objects, 'ConfigMap', name).data;
}

describe('KafkaCluster', () => {
  test('with no props renders a 3-broker KRaft cluster that passes every check', () => {
    // GIVEN
    const c = chart();
    new KafkaCluster(c, 'kafka');
    // WHEN
    const objects = synthValid(c);
    // THEN
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/streaming-kafka-config', 'NetworkPolicy/streaming-kafka', 'PodDisruptionBudget/streaming-kafka', 'Service/streaming-kafka',
      'Service/streaming-kafka-headless', 'ServiceAccount/streaming-kafka', 'StatefulSet/streaming-kafka',
    ]);
    expect(objects).toMatchSnapshot();
  });

  test('exposes bootstrap servers, pod FQDNs and the resolved durability settings', () => {
    const k = new KafkaCluster(chart(), 'kafka');
    expect(k.mode).toBe(KafkaMode.KRAFT);
    expect(k.brokers).toBe(3);
    expect(k.bootstrapServers).toBe([0, 1, 2].map((i) => `streaming-kafka-${i}.streaming-kafka-headless.streaming.svc.cluster.local:9092`).join(','));
    expect(k.podFqdn(2)).toBe('streaming-kafka-2.streaming-kafka-headless.streaming.svc.cluster.local');
    expect([k.replicationFactor, k.minInsyncReplicas, k.controllers]).toEqual([3, 2, 3]);
    expect(k.statefulSet.name).toBe('streaming-kafka');
    expect(k.headlessService.name).toBe('streaming-kafka-headless');
    expect(k.pdb.name).toBe('streaming-kafka');
  });

  test('KRaft: a static voter set over the pod FQDNs and a cluster id that is stable across synths', () => {
    const c = chart();
    const k = new KafkaCluster(c, 'kafka');
    const f = files(synthValid(c));
    expect(f['server.properties']).toContain('controller.quorum.voters=0@streaming-kafka-0.streaming-kafka-headless.streaming.svc.cluster.local:9093,1@');
    expect(f['kafka-start.sh']).toContain(`--cluster-id "${k.clusterId}"`);
    expect(new KafkaCluster(chart(), 'kafka').clusterId).toBe(k.clusterId);
    expect(new KafkaCluster(chart(), 'other').clusterId).not.toBe(k.clusterId);
    expect(new KafkaCluster(chart(), 'given', { clusterId: 'MkU3OEVBNTcwNTJENDM2Qk' }).clusterId).toBe('MkU3OEVBNTcwNTJENDM2Qk');
  });

  test('the container runs the start script with an explicit command, the namespace and the heap', () => {
    const c = chart();
    new KafkaCluster(c, 'kafka');
    const objects = synthValid(c);
    const pod = only(objects, 'StatefulSet').spec.template.spec;
    const kafka = pod.containers[0];
    expect(kafka.image).toBe('apache/kafka:4.1.0');
    expect(kafka.command).toEqual(['bash', '/etc/kafka/cdk8s/kafka-start.sh']);
    expect(kafka.env).toEqual(expect.arrayContaining([
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'KAFKA_HEAP_OPTS', value: '-Xms1024m -Xmx1024m' },
    ]));
    // no env value tries to expand $(hostname -f): each broker's FQDN is built in the script
    expect(JSON.stringify(kafka.env)).not.toContain('hostname');
    expect(files(objects)['kafka-start.sh']).toContain('echo "advertised.listeners=CLIENT://${fqdn}:9092,INTERNAL://${fqdn}:9091"');
    expect(kafka.ports.map((p: any) => [p.name, p.containerPort])).toEqual([['client', 9092], ['internal', 9091], ['controller', 9093]]);
  });

  test('production defaults: grace period for controlled shutdown, one disruption, anti-affinity, probes that differ', () => {
    const c = chart();
    new KafkaCluster(c, 'kafka');
    const objects = synthValid(c);
    const pod = only(objects, 'StatefulSet').spec.template.spec;
    expect(pod.terminationGracePeriodSeconds).toBe(300);
    expect(only(objects, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
    expect(pod.affinity.podAntiAffinity).toBeDefined();
    const kafka = pod.containers[0];
    expect(kafka.readinessProbe.tcpSocket.port).toBe('client');
    expect(kafka.livenessProbe.tcpSocket.port).toBe('internal');
    expect(kafka.livenessProbe.failureThreshold * kafka.livenessProbe.periodSeconds).toBeGreaterThan(kafka.readinessProbe.failureThreshold * kafka.readinessProbe.periodSeconds);
    const props = files(objects)['server.properties'];
    expect(props).toContain('unclean.leader.election.enable=false\n');
    expect(props).toContain('log.retention.hours=168\nlog.segment.bytes=1073741824\nlog.retention.check.interval.ms=300000\n');
  });

  test('small clusters scale the defaults down: one broker has RF 1, one controller', () => {
    const c = chart();
    const one = new KafkaCluster(c, 'one', { brokers: 1 });
    const two = new KafkaCluster(c, 'two', { brokers: 2 });
    synthValid(c);
    expect([one.replicationFactor, one.minInsyncReplicas, one.controllers]).toEqual([1, 1, 1]);
    expect([two.replicationFactor, two.minInsyncReplicas, two.controllers]).toEqual([2, 1, 1]);
  });

  test('ZooKeeper mode: Kafka 3.x, broker.id from the ordinal, zookeeper.connect with chroot, admitted by the ensemble', () => {
    // GIVEN an ensemble and a cluster wired to it
    const c = chart();
    const zk = new ZooKeeperEnsemble(c, 'zk');
    const k = new KafkaCluster(c, 'kafka', { zookeeper: zk, zookeeperChroot: '/kafka', preferZooKeeperNodes: true });
    // WHEN
    const objects = synthValid(c);
    // THEN
    expect(k.mode).toBe(KafkaMode.ZOOKEEPER);
    expect(k.clusterId).toBeUndefined();
    const f = files(objects);
    expect(f['server.properties']).toContain(`zookeeper.connect=${zk.connectString}/kafka\n`);
    expect(f['server.properties']).not.toContain('controller.quorum.voters');
    expect(f['kafka-start.sh']).toContain('echo "broker.id=${ordinal}"');
    expect(f['kafka-start.sh']).not.toContain('kafka-storage.sh');
    const sts = only(objects, 'StatefulSet', 'streaming-kafka').spec.template.spec;
    expect(sts.containers[0].image).toBe('apache/kafka:3.9.1');
    expect(sts.containers[0].ports.map((p: any) => p.name)).toEqual(['client', 'internal']);
    expect(sts.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution).toEqual([
      { weight: 50, podAffinityTerm: { labelSelector: { matchLabels: zk.selectorLabels }, topologyKey: 'kubernetes.io/hostname' } },
    ]);
    const zkPolicy = only(objects, 'NetworkPolicy', 'streaming-zk').spec.ingress;
    expect(zkPolicy).toContainEqual({ from: [{ podSelector: { matchLabels: k.selectorLabels } }], ports: [{ port: 'client', protocol: 'TCP' }] });
  });

  test('options: retention, segment size, partitions, controllers and storage', () => {
    const c = chart();
    new KafkaCluster(c, 'kafka', {
      brokers: 5, controllers: 5, partitions: 12, replicationFactor: 3, minInsyncReplicas: 2, autoCreateTopics: true,
      logRetention: Duration.hours(72), logSegmentSize: Size.mebibytes(512), logRetentionCheckInterval: Duration.minutes(1),
      extraConfig: { 'compression.type': 'zstd' },
    });
    const objects = synthValid(c);
    const props = files(objects)['server.properties'];
    for (const line of ['num.partitions=12', 'auto.create.topics.enable=true', 'log.retention.hours=72', 'log.segment.bytes=536870912',
      'log.retention.check.interval.ms=60000', 'compression.type=zstd']) {
      expect(props).toContain(`${line}\n`);
    }
    expect(props).toContain('4@streaming-kafka-4.streaming-kafka-headless.streaming.svc.cluster.local:9093\n');
  });

  describe('bad input fails at construction with the construct, the property and what is allowed', () => {
    const cases: [string, KafkaClusterProps, string][] = [
      ['no brokers', { brokers: 0 }, "KafkaCluster 'streaming/kafka': brokers must be an integer >= 1, got 0"],
      ['fractional brokers', { brokers: 2.5 }, 'brokers must be an integer >= 1, got 2.5'],
      ['RF above brokers', { brokers: 2, replicationFactor: 3 }, 'replicationFactor (3) must be at most brokers (2): each replica of a partition needs its own broker'],
      ['fractional RF', { replicationFactor: 1.5 }, 'replicationFactor must be an integer >= 1, got 1.5'],
      ['minISR equal to RF', { replicationFactor: 3, minInsyncReplicas: 3 }, 'minInsyncReplicas (3) must be below replicationFactor (3)'],
      ['minISR above RF 1', { brokers: 1, minInsyncReplicas: 2 }, 'minInsyncReplicas (2) must be below replicationFactor (1)'],
      ['an even controller quorum', { brokers: 4, controllers: 2 }, 'controllers must be odd for a controller quorum, got 2'],
      ['more controllers than brokers', { brokers: 3, controllers: 5 }, 'controllers must be an integer from 1 to 3, got 5'],
      ['zero partitions', { partitions: 0 }, 'partitions must be an integer >= 1, got 0'],
      ['a bad cluster id', { clusterId: 'my-cluster' }, "clusterId must be 22 characters of URL-safe base64 encoding 16 bytes (as 'kafka-storage.sh random-uuid' prints), got 'my-cluster'"],
      ['a heap above the limit', { heap: Size.gibibytes(4) }, "KafkaCluster 'streaming/kafka': heap (4096Mi) must be at least 128Mi and fit in the memory limit (2048Mi)"],
      ['fractional retention hours', { logRetention: Duration.minutes(30) }, 'logRetention (in hours) must be an integer >= 1, got 0.5'],
      ['a segment over 2 GiB', { logSegmentSize: Size.gibibytes(2) }, 'logSegmentSize (in bytes) must be an integer from 14 to 2147483647, got 2147483648'],
      ['extraConfig setting a per-pod key', { extraConfig: { 'node.id': '7' } }, "extraConfig key 'node.id' is not allowed"],
      ['KRaft on an old image', { image: 'apache/kafka:3.2.0' }, "image 'apache/kafka:3.2.0' is Kafka 3.2, which has no production-ready KRaft"],
      ['a chroot without ZooKeeper', { zookeeperChroot: '/kafka' }, "zookeeperChroot applies only with 'zookeeper'"],
      ['ZooKeeper affinity without ZooKeeper', { preferZooKeeperNodes: true }, "preferZooKeeperNodes needs 'zookeeper'"],
      ['a latest image', { image: 'apache/kafka:latest' }, "container 'kafka' image 'apache/kafka:latest' uses 'latest'"],
    ];
    test.each(cases)('%s', (_name, props, message) => {
      expect(() => new KafkaCluster(chart(), 'kafka', props)).toThrow(message);
    });

    test('a Kafka 4.x image on ZooKeeper', () => {
      const c = chart();
      const zk = new ZooKeeperEnsemble(c, 'zk');
      expect(() => new KafkaCluster(c, 'kafka', { zookeeper: zk, image: 'apache/kafka:4.1.0' }))
        .toThrow("KafkaCluster 'streaming/kafka': image 'apache/kafka:4.1.0' is Kafka 4.1, which cannot use ZooKeeper (support was removed in 4.0)");
    });

    test('KRaft-only props on ZooKeeper, and a bad chroot', () => {
      const c = chart();
      const zk = new ZooKeeperEnsemble(c, 'zk');
      expect(() => new KafkaCluster(c, 'a', { zookeeper: zk, controllers: 3 })).toThrow('controllers applies to KRaft only');
      expect(() => new KafkaCluster(c, 'b', { zookeeper: zk, zookeeperChroot: 'kafka' })).toThrow("zookeeperChroot must be an absolute ZooKeeper path such as '/kafka', got 'kafka'");
    });
  });
});
