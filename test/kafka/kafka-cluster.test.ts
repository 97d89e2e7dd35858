import { Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  ImagePullPolicy, KafkaCluster, KafkaClusterProps, KafkaControllerMode, KafkaMode, Resources, Storage, UpdateStrategy, ZooKeeperEnsemble,
} from '../../src';
import { KAFKA_PROBE_ANSWER_SECONDS, KAFKA_PROBE_DESCRIBE_SECONDS } from '../../src/kafka/config';
import { KAFKA_DEFAULT_IMAGE, KAFKA_ZOOKEEPER_MODE_DEFAULT_IMAGE } from '../../src/kafka/settings';
import { objectsOf, only, synthValid } from '../support/manifest';
import { describeAppWiring } from '../zookeeper/app-wiring';

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
    expect(f['kafka-start.sh']).toContain(`cluster_id="${k.clusterId}"\n`);
    expect(new KafkaCluster(chart(), 'kafka').clusterId).toBe(k.clusterId);
    expect(new KafkaCluster(chart(), 'other').clusterId).not.toBe(k.clusterId);
    expect(new KafkaCluster(chart(), 'given', { clusterId: 'MkU3OEVBNTcwNTJENDM2Qk' }).clusterId).toBe('MkU3OEVBNTcwNTJENDM2Qk');
  });

  test('the derived cluster id differs per namespace and StatefulSet name, not only per construct path', () => {
    // GIVEN the same code synthesized for staging and production, and under another name
    const inNamespace = (namespace: string | undefined, props: KafkaClusterProps = {}) =>
      new KafkaCluster(new Chart(Testing.app(), 'streaming', { namespace }), 'kafka', props).clusterId;
    const production = inNamespace('production');
    // THEN each gets its own id, and the same inputs the same id on every synth
    expect(inNamespace('staging')).not.toBe(production);
    expect(inNamespace('production', { name: 'events' })).not.toBe(production);
    expect(inNamespace('production')).toBe(production);
    // a chart without a namespace deploys to 'default' (as the pod FQDNs assume)
    expect(inNamespace(undefined)).toBe(inNamespace('default'));
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
    const probe = (mode: string) => ({ command: ['bash', '/etc/kafka/cdk8s/kafka-probe.sh', mode] });
    expect(kafka.startupProbe).toMatchObject({ exec: probe('live'), periodSeconds: 10, failureThreshold: 90 });
    expect(kafka.readinessProbe).toMatchObject({ exec: probe('ready') });
    expect(kafka.livenessProbe).toMatchObject({ exec: probe('live') });
    expect(kafka.livenessProbe.failureThreshold * kafka.livenessProbe.periodSeconds).toBeGreaterThan(kafka.readinessProbe.failureThreshold * kafka.readinessProbe.periodSeconds);
    const props = files(objects)['server.properties'];
    expect(props).toContain('unclean.leader.election.enable=false\n');
    expect(props).toContain('log.retention.hours=168\nlog.segment.bytes=1073741824\nlog.retention.check.interval.ms=300000\n');
  });

  test('probes speak Kafka to the client listener; readiness also waits, once per start, for the broker to rejoin the ISRs', () => {
    // GIVEN
    const c = chart();
    new KafkaCluster(c, 'kafka');
    // WHEN
    const objects = synthValid(c);
    // THEN the probe script targets the client listener and keeps its marker where the start script removes it
    const f = files(objects);
    const kafka = only(objects, 'StatefulSet').spec.template.spec.containers[0];
    expect(f['kafka-probe.sh']).toContain(`port=${kafka.ports.find((p: any) => p.name === 'client').containerPort}\n`);
    const marker = /local marker="([^"]+)"/.exec(f['kafka-probe.sh'])![1];
    expect(f['kafka-start.sh']).toContain(`rm -f "${marker}"\n`);
    // on a writable volume of the pod that outlives the container, so 'once' means once per container start
    const runMount = kafka.volumeMounts.find((m: any) => marker.startsWith(`${m.mountPath}/`));
    expect(runMount.readOnly ?? false).toBe(false);
    expect(only(objects, 'StatefulSet').spec.template.spec.volumes.find((v: any) => v.name === runMount.name).emptyDir).toBeDefined();
    // every probe outlasts the script's own deadlines: the round-trip's, and in readiness the JVM tool's
    expect(kafka.startupProbe.timeoutSeconds).toBeGreaterThan(KAFKA_PROBE_ANSWER_SECONDS);
    expect(kafka.livenessProbe.timeoutSeconds).toBeGreaterThan(KAFKA_PROBE_ANSWER_SECONDS);
    expect(kafka.readinessProbe.timeoutSeconds).toBeGreaterThan(KAFKA_PROBE_ANSWER_SECONDS + KAFKA_PROBE_DESCRIBE_SECONDS);
    expect(f['kafka-probe.sh']).toContain(`timeout ${KAFKA_PROBE_DESCRIBE_SECONDS} kafka-topics.sh`);
  });

  test('startupTimeout sets the brokers\' startup budget in 10 s probes, not the dedicated controllers\'', () => {
    const c = chart();
    new KafkaCluster(c, 'kafka', { startupTimeout: Duration.minutes(30), controllerMode: KafkaControllerMode.DEDICATED });
    new KafkaCluster(c, 'odd', { startupTimeout: Duration.seconds(95) });
    const objects = synthValid(c);
    expect(only(objects, 'StatefulSet', 'streaming-kafka').spec.template.spec.containers[0].startupProbe).toMatchObject({ periodSeconds: 10, failureThreshold: 180 });
    expect(only(objects, 'StatefulSet', 'streaming-kafka-controller').spec.template.spec.containers[0].startupProbe.failureThreshold).toBe(30);
    // rounded up: never less time than asked for
    expect(only(objects, 'StatefulSet', 'streaming-odd').spec.template.spec.containers[0].startupProbe.failureThreshold).toBe(10);
  });

  test('combined KRaft brokers start in parallel: readiness needs a quorum, i.e. a majority of the voting brokers running', () => {
    const c = chart();
    new KafkaCluster(c, 'combined');
    new KafkaCluster(c, 'dedicated', { controllerMode: KafkaControllerMode.DEDICATED });
    new KafkaCluster(c, 'onzk', { zookeeper: new ZooKeeperEnsemble(c, 'zk') });
    const objects = synthValid(c);
    const policy = (name: string) => only(objects, 'StatefulSet', name).spec.podManagementPolicy;
    expect(policy('streaming-combined')).toBe('Parallel');
    // brokers of dedicated controllers or of ZooKeeper serve on their own: one at a time
    expect(policy('streaming-dedicated')).toBe('OrderedReady');
    expect(policy('streaming-onzk')).toBe('OrderedReady');
  });

  test('logs go to stdout only: a console logging config for the image\'s Kafka line, no GC log files, a small log volume', () => {
    const c = chart();
    const zk = new ZooKeeperEnsemble(c, 'zk');
    new KafkaCluster(c, 'k4');
    new KafkaCluster(c, 'k3', { image: 'apache/kafka:3.9.1' });
    new KafkaCluster(c, 'zk3', { zookeeper: zk });
    new KafkaCluster(c, 'own', { image: 'registry.example.com/kafka:prod' });
    new KafkaCluster(c, 'ownzk', { zookeeper: zk, image: 'registry.example.com/kafka:prod', zookeeperChroot: '/own' });
    const objects = synthValid(c);
    const pod = (name: string) => only(objects, 'StatefulSet', `streaming-${name}`).spec.template.spec;
    const env = (name: string) => Object.fromEntries(pod(name).containers[0].env.map((e: any) => [e.name, e.value]));
    const LOG4J2 = '-Dlog4j2.configurationFile=/etc/kafka/cdk8s/log4j2.yaml';
    const LOG4J1 = '-Dlog4j.configuration=file:/etc/kafka/cdk8s/log4j.properties';
    // Kafka 4.x logs through log4j2, 3.x through log4j 1.x; a tag without a version gets the mode's default line
    expect(['k4', 'k3', 'zk3', 'own', 'ownzk'].map((n) => env(n).KAFKA_LOG4J_OPTS)).toEqual([LOG4J2, LOG4J1, LOG4J1, LOG4J2, LOG4J1]);
    for (const [name, file] of [['k4', 'log4j2.yaml'], ['k3', 'log4j.properties']]) {
      const cm = files(objects, `streaming-${name}-config`);
      expect(cm[file]).toContain('# Rendered by cdk8s-stateful (KafkaCluster): log to stdout only');
      expect(Object.keys(cm).filter((k) => k.startsWith('log4j'))).toEqual([file]);
      const configVolumes = pod(name).volumes.filter((v: any) => v.configMap?.name === `streaming-${name}-config`);
      expect(configVolumes.flatMap((v: any) => v.configMap.items.map((i: any) => i.key))).toContain(file);
    }
    // without -loggc kafka-run-class.sh writes no GC log files
    expect(env('k4').EXTRA_ARGS).toBe('-name kafkaServer');
    // LOG_DIR only has to exist
    const logDir = env('k4').LOG_DIR;
    const logMount = pod('k4').containers[0].volumeMounts.find((m: any) => m.mountPath === logDir);
    expect(pod('k4').volumes.find((v: any) => v.name === logMount.name).emptyDir.sizeLimit).toBe('16Mi');
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

  test('the defaults of the shared props: the pinned image per mode, Resources.medium(), 50Gi, uid 1000', () => {
    const c = chart();
    const k = new KafkaCluster(c, 'kafka');
    const sts = only(synthValid(c), 'StatefulSet').spec;
    expect([KafkaCluster.DEFAULT_IMAGE, KafkaCluster.ZOOKEEPER_MODE_DEFAULT_IMAGE]).toEqual([KAFKA_DEFAULT_IMAGE, KAFKA_ZOOKEEPER_MODE_DEFAULT_IMAGE]);
    expect(k.image).toBe(KafkaCluster.DEFAULT_IMAGE);
    expect(sts.template.spec.containers[0].resources).toEqual({ requests: { cpu: '1000m', memory: '2048Mi' }, limits: { memory: '2048Mi' } });
    expect(sts.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('50Gi');
    expect(sts.template.spec.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 });
  });

  test('shared props override the defaults: grace period, budget, pull policy, user', () => {
    const c = chart();
    new KafkaCluster(c, 'kafka', {
      terminationGracePeriod: Duration.seconds(600),
      disruptionBudget: { minAvailable: 2 },
      imagePullPolicy: ImagePullPolicy.ALWAYS,
      runAs: { uid: 1001, gid: 1001 },
    });
    const objects = synthValid(c);
    const pod = only(objects, 'StatefulSet').spec.template.spec;
    expect(pod.terminationGracePeriodSeconds).toBe(600);
    expect(pod.containers[0].imagePullPolicy).toBe('Always');
    expect(pod.securityContext).toMatchObject({ runAsUser: 1001, runAsGroup: 1001 });
    expect(only(objects, 'PodDisruptionBudget').spec).toEqual(expect.objectContaining({ minAvailable: 2 }));
  });

  test('ZooKeeper in another namespace admits the brokers by their labels in their namespace', () => {
    // GIVEN the ensemble in 'zoo' and the cluster in 'events'
    const app = Testing.app();
    const zoo = new Chart(app, 'zoo', { namespace: 'zoo' });
    const events = new Chart(app, 'events', { namespace: 'events' });
    const zk = new ZooKeeperEnsemble(zoo, 'zk');
    // WHEN
    const k = new KafkaCluster(events, 'kafka', { zookeeper: zk });
    // THEN
    expect(only(synthValid(events), 'ConfigMap').data['server.properties']).toContain(`zookeeper.connect=${zk.connectString}\n`);
    const rules = only(synthValid(zoo), 'NetworkPolicy').spec.ingress;
    expect(rules[rules.length - 1]).toEqual({
      from: [{ podSelector: { matchLabels: k.selectorLabels }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'events' } } }],
      ports: [{ port: 'client', protocol: 'TCP' }],
    });
  });

  test('ZooKeeper in another namespace admits brokers of a chart without a namespace from namespace default', () => {
    const app = Testing.app();
    const zoo = new Chart(app, 'zoo', { namespace: 'zoo' });
    const zk = new ZooKeeperEnsemble(zoo, 'zk');
    const k = new KafkaCluster(new Chart(app, 'events'), 'kafka', { zookeeper: zk });
    const rules = only(synthValid(zoo), 'NetworkPolicy').spec.ingress;
    expect(rules[rules.length - 1].from).toEqual([
      { podSelector: { matchLabels: k.selectorLabels }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'default' } } },
    ]);
  });

  test('an ensemble without a NetworkPolicy needs no admission; a cluster without one still gets admitted', () => {
    // GIVEN an ensemble without a policy WHEN a cluster is wired to it THEN nothing throws and there is no policy to change
    const c = chart();
    const open = new ZooKeeperEnsemble(c, 'open', { networkPolicy: false });
    new KafkaCluster(c, 'a', { zookeeper: open });
    expect(objectsOf(synthValid(c), 'NetworkPolicy').map((p: any) => p.metadata.name)).toEqual(['streaming-a']);
    // GIVEN a guarded ensemble WHEN a cluster without a policy is wired to it THEN the ensemble still admits it
    const c2 = chart();
    const zk = new ZooKeeperEnsemble(c2, 'zk');
    const b = new KafkaCluster(c2, 'b', { zookeeper: zk, networkPolicy: false });
    const policies = objectsOf(synthValid(c2), 'NetworkPolicy');
    expect(policies.map((p: any) => p.metadata.name)).toEqual(['streaming-zk']);
    expect(policies[0].spec.ingress).toContainEqual({ from: [{ podSelector: { matchLabels: b.selectorLabels } }], ports: [{ port: 'client', protocol: 'TCP' }] });
  });

  describe('apps wired to the cluster with cdk8s-plus', () => describeAppWiring({
    subject: "KafkaCluster 'streaming/sys'",
    make: (c, props) => new KafkaCluster(c, 'sys', props),
    envName: 'KAFKA_BOOTSTRAP_SERVERS',
    connection: (kafka) => kafka.bootstrapServers,
    expected: [0, 1, 2].map((i) => `streaming-sys-${i}.streaming-sys-headless.streaming.svc.cluster.local:9092`).join(','),
    port: 'client',
  }));

  describe('KRaft with dedicated controllers', () => {
    const DEDICATED = { controllerMode: KafkaControllerMode.DEDICATED };
    const controllerFqdn = (i: number) => `streaming-kafka-controller-${i}.streaming-kafka-controller-headless.streaming.svc.cluster.local`;

    test('adds a controller StatefulSet with its own Services, budget, policy and config, and passes every check', () => {
      // GIVEN
      const c = chart();
      new KafkaCluster(c, 'kafka', DEDICATED);
      // WHEN
      const objects = synthValid(c);
      // THEN brokers as before, plus a controller unit without a client Service
      expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
        'ConfigMap/streaming-kafka-config', 'ConfigMap/streaming-kafka-controller-config',
        'NetworkPolicy/streaming-kafka', 'NetworkPolicy/streaming-kafka-controller',
        'PodDisruptionBudget/streaming-kafka', 'PodDisruptionBudget/streaming-kafka-controller',
        'Service/streaming-kafka', 'Service/streaming-kafka-controller-headless', 'Service/streaming-kafka-headless',
        'ServiceAccount/streaming-kafka', 'ServiceAccount/streaming-kafka-controller',
        'StatefulSet/streaming-kafka', 'StatefulSet/streaming-kafka-controller',
      ]);
      expect(objects).toMatchSnapshot();
    });

    test('exposes the mode, the quorum size and the controller unit; combined clusters have none', () => {
      const k = new KafkaCluster(chart(), 'kafka', DEDICATED);
      expect(k.controllerMode).toBe(KafkaControllerMode.DEDICATED);
      expect(k.controllers).toBe(3);
      expect(k.controllerWorkload?.statefulSet.name).toBe('streaming-kafka-controller');
      expect(k.controllerWorkload?.podFqdn(2)).toBe(controllerFqdn(2));
      expect(k.statefulSet.name).toBe('streaming-kafka');
      const combined = new KafkaCluster(chart(), 'kafka');
      expect(combined.controllerMode).toBe(KafkaControllerMode.COMBINED);
      expect(combined.controllerWorkload).toBeUndefined();
    });

    test('controllers run process.roles=controller with node ids from 1000; brokers run the broker role with node.id = ordinal', () => {
      const c = chart();
      new KafkaCluster(c, 'kafka', DEDICATED);
      const objects = synthValid(c);
      const controllerScript = files(objects, 'streaming-kafka-controller-config')['kafka-start.sh'];
      expect(controllerScript).toContain('echo "node.id=$(( ordinal + 1000 ))"\n  echo "process.roles=controller"\n  echo "listeners=CONTROLLER://:9093"\n');
      expect(controllerScript).not.toContain('advertised.listeners');
      expect(controllerScript).toContain('(( ordinal >= 3 ))');
      const brokerScript = files(objects)['kafka-start.sh'];
      expect(brokerScript).toContain('echo "node.id=${ordinal}"\n  echo "process.roles=broker"\n  echo "listeners=CLIENT://:9092,INTERNAL://:9091"\n');
      expect(brokerScript).not.toContain('controller');
      expect(brokerScript).toContain('echo "advertised.listeners=CLIENT://${fqdn}:9092,INTERNAL://${fqdn}:9091"');
    });

    test('brokers and controllers share server.properties whose voters are the controller pods', () => {
      const c = chart();
      const k = new KafkaCluster(c, 'kafka', DEDICATED);
      const objects = synthValid(c);
      const voters = `controller.quorum.voters=${[0, 1, 2].map((i) => `${1000 + i}@${controllerFqdn(i)}:9093`).join(',')}\n`;
      expect(files(objects)['server.properties']).toContain(voters);
      expect(files(objects, 'streaming-kafka-controller-config')['server.properties']).toBe(k.serverProperties);
      // the same cluster id formats both
      expect(files(objects, 'streaming-kafka-controller-config')['kafka-start.sh']).toContain(`cluster_id="${k.clusterId}"\n`);
    });

    test('the quorum size is independent of the broker count', () => {
      const c = chart();
      const k = new KafkaCluster(c, 'kafka', { ...DEDICATED, brokers: 1, controllers: 5 });
      const objects = synthValid(c);
      expect(k.controllers).toBe(5);
      expect(only(objects, 'StatefulSet', 'streaming-kafka-controller').spec.replicas).toBe(5);
      expect(only(objects, 'StatefulSet', 'streaming-kafka').spec.replicas).toBe(1);
      expect(files(objects)['server.properties']).toContain(`1004@${controllerFqdn(4)}:9093\n`);
    });

    test.each([[1, 1], [3, 1], [5, 2], [7, 3]])('%i controllers: the budget keeps a majority (maxUnavailable %i); brokers keep 1', (n, maxUnavailable) => {
      const c = chart();
      new KafkaCluster(c, 'kafka', { ...DEDICATED, controllers: n });
      const objects = synthValid(c);
      expect(only(objects, 'PodDisruptionBudget', 'streaming-kafka-controller').spec.maxUnavailable).toBe(maxUnavailable);
      expect(only(objects, 'PodDisruptionBudget', 'streaming-kafka').spec.maxUnavailable).toBe(1);
    });

    test('NetworkPolicies: controllers admit each other and the brokers on the controller port; brokers expose no controller port', () => {
      const c = chart();
      const k = new KafkaCluster(c, 'kafka', DEDICATED);
      const objects = synthValid(c);
      const controllerSelector = k.controllerWorkload!.selectorLabels;
      expect(controllerSelector).toEqual({ 'app.kubernetes.io/name': 'kafka', 'app.kubernetes.io/instance': 'streaming-kafka', 'app.kubernetes.io/component': 'controller' });
      const controllerPolicy = only(objects, 'NetworkPolicy', 'streaming-kafka-controller').spec;
      expect(controllerPolicy.podSelector).toEqual({ matchLabels: controllerSelector });
      expect(controllerPolicy.ingress).toEqual([
        { from: [{ podSelector: { matchLabels: controllerSelector } }], ports: [{ port: 'controller', protocol: 'TCP' }] },
        { from: [{ podSelector: { matchLabels: k.selectorLabels } }], ports: [{ port: 'controller', protocol: 'TCP' }] },
      ]);
      const brokerPolicy = only(objects, 'NetworkPolicy', 'streaming-kafka').spec.ingress;
      expect(JSON.stringify(brokerPolicy)).not.toContain('controller');
      const broker = only(objects, 'StatefulSet', 'streaming-kafka').spec.template.spec.containers[0];
      expect(broker.ports.map((p: any) => p.name)).toEqual(['client', 'internal']);
    });

    test('controllers: own claim, small resources and heap, parallel start, probes on the controller port that differ', () => {
      const c = chart();
      new KafkaCluster(c, 'kafka', DEDICATED);
      const objects = synthValid(c);
      const sts = only(objects, 'StatefulSet', 'streaming-kafka-controller').spec;
      expect(sts.serviceName).toBe('streaming-kafka-controller-headless');
      expect(sts.podManagementPolicy).toBe('Parallel');
      expect(sts.volumeClaimTemplates.map((t: any) => [t.metadata.name, t.spec.resources.requests.storage])).toEqual([['data', '10Gi']]);
      const pod = sts.template.spec;
      expect(pod.terminationGracePeriodSeconds).toBe(60);
      const kafka = pod.containers[0];
      expect(kafka.image).toBe('apache/kafka:4.1.0');
      expect(kafka.resources.limits.memory).toBe('1024Mi');
      expect(kafka.env).toContainEqual({ name: 'KAFKA_HEAP_OPTS', value: '-Xms512m -Xmx512m' });
      expect(kafka.ports).toEqual([{ name: 'controller', containerPort: 9093, protocol: 'TCP' }]);
      const probe = (mode: string) => ({ command: ['bash', '/etc/kafka/cdk8s/kafka-probe.sh', mode] });
      expect(kafka.startupProbe).toMatchObject({ exec: probe('live'), failureThreshold: 30 });
      expect(kafka.readinessProbe).toMatchObject({ exec: probe('ready'), timeoutSeconds: kafka.livenessProbe.timeoutSeconds });
      expect(kafka.livenessProbe).toMatchObject({ exec: probe('live') });
      expect(kafka.livenessProbe.failureThreshold * kafka.livenessProbe.periodSeconds).toBeGreaterThan(kafka.readinessProbe.failureThreshold * kafka.readinessProbe.periodSeconds);
      // the round-trip goes to the controller listener; there are no partitions to wait for
      const script = files(objects, 'streaming-kafka-controller-config')['kafka-probe.sh'];
      expect(script).toContain('port=9093\n');
      expect(script).not.toContain('kafka-topics.sh');
      expect(files(objects, 'streaming-kafka-controller-config')['kafka-start.sh']).not.toContain('caught-up');
      expect(only(objects, 'Service', 'streaming-kafka-controller-headless').spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    });

    test('controllers share the pods\' settings (pull policy, labels, annotations, user, ServiceAccount, OnDelete), not a partition', () => {
      // GIVEN shared props meant for every Kafka pod
      const c = chart();
      const sa = kplus.ServiceAccount.fromServiceAccountName(c, 'sa', 'kafka-irsa');
      new KafkaCluster(c, 'kafka', {
        ...DEDICATED,
        imagePullPolicy: ImagePullPolicy.ALWAYS,
        podLabels: { team: 'data' },
        podAnnotations: { 'example.com/scrape': 'false' },
        runAs: { uid: 1001, gid: 1001 },
        serviceAccount: sa,
      });
      // WHEN
      const objects = synthValid(c, { externalServiceAccounts: ['kafka-irsa'] });
      // THEN brokers and controllers alike carry them
      for (const name of ['streaming-kafka', 'streaming-kafka-controller']) {
        const pod = only(objects, 'StatefulSet', name).spec.template;
        expect(pod.metadata.labels.team).toBe('data');
        expect(pod.metadata.annotations['example.com/scrape']).toBe('false');
        expect(pod.spec.serviceAccountName).toBe('kafka-irsa');
        expect(pod.spec.securityContext).toMatchObject({ runAsUser: 1001, runAsGroup: 1001 });
        expect(pod.spec.containers[0].imagePullPolicy).toBe('Always');
      }
      expect(objectsOf(objects, 'ServiceAccount')).toHaveLength(0);
      // a partition counts broker ordinals; OnDelete holds for both
      const partitioned = chart();
      new KafkaCluster(partitioned, 'kafka', { ...DEDICATED, brokers: 5, updateStrategy: UpdateStrategy.rollingUpdate(4) });
      const p = synthValid(partitioned);
      expect(only(p, 'StatefulSet', 'streaming-kafka').spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { partition: 4 } });
      expect(only(p, 'StatefulSet', 'streaming-kafka-controller').spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
      const manual = chart();
      new KafkaCluster(manual, 'kafka', { ...DEDICATED, updateStrategy: UpdateStrategy.onDelete() });
      for (const sts of objectsOf(synthValid(manual), 'StatefulSet')) expect(sts.spec.updateStrategy).toEqual({ type: 'OnDelete' });
    });

    test('without NetworkPolicies there is nothing to admit the brokers to, and nothing throws', () => {
      const c = chart();
      new KafkaCluster(c, 'kafka', { ...DEDICATED, networkPolicy: false });
      expect(objectsOf(synthValid(c), 'NetworkPolicy')).toHaveLength(0);
    });

    test('controllerResources and controllerStorage size the controllers, not the brokers', () => {
      const c = chart();
      new KafkaCluster(c, 'kafka', {
        ...DEDICATED,
        controllerResources: Resources.of({ cpuMillis: 500, memory: Size.gibibytes(2) }),
        controllerStorage: Storage.persistent({ size: Size.gibibytes(20), storageClassName: 'fast-ssd' }),
      });
      const objects = synthValid(c);
      const controllers = only(objects, 'StatefulSet', 'streaming-kafka-controller').spec;
      expect(controllers.volumeClaimTemplates[0].spec).toMatchObject({ storageClassName: 'fast-ssd', resources: { requests: { storage: '20Gi' } } });
      expect(controllers.template.spec.containers[0].env).toContainEqual({ name: 'KAFKA_HEAP_OPTS', value: '-Xms1024m -Xmx1024m' });
      const brokers = only(objects, 'StatefulSet', 'streaming-kafka').spec;
      expect(brokers.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('50Gi');
    });
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
      ['a startup timeout under a minute', { startupTimeout: Duration.seconds(30) }, "KafkaCluster 'streaming/kafka': startupTimeout (in seconds) must be an integer >= 60, got 30"],
      ['a startup timeout of fractional seconds', { startupTimeout: Duration.millis(90500) }, 'startupTimeout (in seconds) must be an integer >= 60, got 90.5'],
      ['a startup timeout in seconds', { startupTimeout: 900 as any }, "KafkaCluster 'streaming/kafka': startupTimeout must be a Duration such as Duration.minutes(15), got 900"],
      ['an even dedicated controller quorum', { controllerMode: KafkaControllerMode.DEDICATED, controllers: 4 },
        "KafkaCluster 'streaming/kafka': controllers must be odd for a controller quorum, got 4"],
      ['no dedicated controllers', { controllerMode: KafkaControllerMode.DEDICATED, controllers: 0 }, 'controllers must be an integer >= 1, got 0'],
      ['controllerResources without dedicated controllers', { controllerResources: Resources.small() },
        "KafkaCluster 'streaming/kafka': controllerResources applies only with controllerMode: KafkaControllerMode.DEDICATED"],
      ['controllerStorage with combined controllers', { controllerMode: KafkaControllerMode.COMBINED, controllerStorage: Storage.ephemeral() },
        'controllerStorage applies only with controllerMode: KafkaControllerMode.DEDICATED'],
      ['controllers too small for a heap', { controllerMode: KafkaControllerMode.DEDICATED, controllerResources: Resources.of({ cpuMillis: 100, memory: Size.mebibytes(200) }) },
        "KafkaCluster 'streaming/kafka': controllerResources leave a controller heap of 100Mi (half the memory limit of 200Mi); give at least 256Mi of memory"],
      ['more brokers than the controller node ids leave room for', { controllerMode: KafkaControllerMode.DEDICATED, brokers: 1001, replicationFactor: 3 },
        'brokers must be at most 1000 with dedicated controllers, got 1001: controllers take node ids from 1000'],
      ['a name that leaves no room for the controllers', { controllerMode: KafkaControllerMode.DEDICATED, name: 'a'.repeat(42) },
        `name '${'a'.repeat(42)}' leaves no room for the dedicated controllers' StatefulSet '${'a'.repeat(42)}-controller' (53 characters; at most 52): choose a name of at most 41 characters`],
      ['a controller mode that is not one', { controllerMode: 'split' as any },
        "KafkaCluster 'streaming/kafka': controllerMode must be KafkaControllerMode.COMBINED or KafkaControllerMode.DEDICATED, got \"split\""],
      ['clients without a NetworkPolicy', { networkPolicy: false, allowClientsFrom: [] }, "KafkaCluster 'streaming/kafka': allowClientsFrom needs networkPolicy"],
      ['a multi-line extraConfig value', { extraConfig: { 'compression.type': 'zstd\nnode.id=7' } }, "extraConfig value of 'compression.type' must be a single-line string"],
      // JavaScript callers: wrong types are errors that name the prop, not TypeErrors
      ['zookeeper as a plain object', { zookeeper: {} as any }, "KafkaCluster 'streaming/kafka': zookeeper must be a ZooKeeperEnsemble of this app, got a plain object {}"],
      ['storage as a plain object', { storage: { size: '50Gi' } as any },
        "KafkaCluster 'streaming/kafka': storage must be Storage.persistent({ size: Size.gibibytes(10) }) or Storage.ephemeral(), got a plain object {\"size\":\"50Gi\"}"],
      ['a storage size as a string', { storage: Storage.persistent({ size: '50Gi' as any }) },
        "KafkaCluster 'streaming/kafka': storage size must be a Size such as Size.gibibytes(10), got the string '50Gi'"],
      ['a heap as a string', { heap: '2Gi' as any }, "KafkaCluster 'streaming/kafka': heap must be a Size such as Size.gibibytes(1), got the string '2Gi'"],
      ['resources as a plain object', { resources: { cpuMillis: 1000, memory: '2Gi' } as any },
        "KafkaCluster 'streaming/kafka': resources must be a Resources such as Resources.medium() or Resources.of({ cpuMillis, memory }), got a plain object"],
      ['a retention in hours as a number', { logRetention: 168 as any }, "KafkaCluster 'streaming/kafka': logRetention must be a Duration in whole hours such as Duration.hours(168), got 168"],
      ['a segment size as a string', { logSegmentSize: '1Gi' as any }, "KafkaCluster 'streaming/kafka': logSegmentSize must be a Size such as Size.gibibytes(1), got the string '1Gi'"],
      ['a check interval in milliseconds', { logRetentionCheckInterval: 300000 as any },
        "KafkaCluster 'streaming/kafka': logRetentionCheckInterval must be a Duration such as Duration.minutes(5), got 300000"],
      ['controllerStorage as a plain object', { controllerMode: KafkaControllerMode.DEDICATED, controllerStorage: { size: '10Gi' } as any },
        "KafkaCluster 'streaming/kafka': controllerStorage must be Storage.persistent({ size: Size.gibibytes(10) }) or Storage.ephemeral(), got a plain object"],
      ['a controller storage size as a string', { controllerMode: KafkaControllerMode.DEDICATED, controllerStorage: Storage.persistent({ size: '10Gi' as any }) },
        "KafkaCluster 'streaming/kafka': controllerStorage size must be a Size such as Size.gibibytes(10), got the string '10Gi'"],
      ['controllerResources as a plain object', { controllerMode: KafkaControllerMode.DEDICATED, controllerResources: { cpuMillis: 250 } as any },
        "KafkaCluster 'streaming/kafka': controllerResources must be a Resources such as Resources.medium() or Resources.of({ cpuMillis, memory }), got a plain object"],
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

    test('dedicated controllers on ZooKeeper', () => {
      // GIVEN an ensemble
      const c = chart();
      const zk = new ZooKeeperEnsemble(c, 'zk');
      // WHEN a ZooKeeper-mode cluster asks for dedicated controllers THEN it throws, naming the prop
      expect(() => new KafkaCluster(c, 'kafka', { zookeeper: zk, controllerMode: KafkaControllerMode.DEDICATED }))
        .toThrow("KafkaCluster 'streaming/kafka': controllerMode applies to KRaft only; a cluster on ZooKeeper has no controllers and no cluster id");
      expect(() => new KafkaCluster(c, 'b', { zookeeper: zk, controllerStorage: Storage.ephemeral() })).toThrow('controllerStorage applies to KRaft only');
    });

    test('a default name that leaves no room for the controllers names the ids to shorten', () => {
      const c = chart();
      const id = 'k'.repeat(41 - 'streaming-'.length + 1);
      expect(() => new KafkaCluster(c, id, { controllerMode: KafkaControllerMode.DEDICATED }))
        .toThrow(`name 'streaming-${id}' leaves no room for the dedicated controllers' StatefulSet 'streaming-${id}-controller' (53 characters; at most 52): shorten the ids 'streaming', '${id}' or set a name of at most 41 characters`);
      // one character less fits
      synthValid(((ch) => (new KafkaCluster(ch, id.slice(1), { controllerMode: KafkaControllerMode.DEDICATED }), ch))(chart()));
    });

    test('KRaft-only props on ZooKeeper, and a bad chroot', () => {
      const c = chart();
      const zk = new ZooKeeperEnsemble(c, 'zk');
      expect(() => new KafkaCluster(c, 'a', { zookeeper: zk, controllers: 3 })).toThrow('controllers applies to KRaft only');
      expect(() => new KafkaCluster(c, 'b', { zookeeper: zk, zookeeperChroot: 'kafka' })).toThrow("zookeeperChroot must be an absolute ZooKeeper path such as '/kafka', got 'kafka'");
    });
  });
});
