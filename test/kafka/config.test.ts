import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  deriveClusterId, isClusterId, KafkaConfig, KafkaStartOptions, renderKafkaLogging, renderKafkaStartScript, renderServerProperties,
} from '../../src/kafka/config';

const PORTS = { client: 9092, internal: 9091, controller: 9093 };
const KRAFT: KafkaConfig = {
  mode: 'kraft',
  ports: PORTS,
  logDir: '/var/lib/kafka/data/logs',
  voters: ['0@k-0.k-headless.ns.svc.cluster.local', '1@k-1.k-headless.ns.svc.cluster.local', '2@k-2.k-headless.ns.svc.cluster.local'],
  partitions: 3,
  replicationFactor: 3,
  minInsyncReplicas: 2,
  autoCreateTopics: false,
  logRetentionHours: 168,
  logSegmentBytes: 1073741824,
  logRetentionCheckIntervalMs: 300000,
  extra: {},
};

function props(text: string): { [key: string]: string } {
  return Object.fromEntries(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** Runs the start script with fake Kafka tools; returns exit status, output and the pod's rendered properties. */
function runStart(o: Partial<KafkaStartOptions>, hostname: string, formatted: boolean | string = false, caughtUp = false) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-start-'));
  try {
    const home = path.join(dir, 'kafka');
    fs.mkdirSync(path.join(home, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(home, 'bin', 'kafka-storage.sh'), '#!/bin/bash\necho "kafka-storage.sh $*"\n', { mode: 0o755 });
    fs.writeFileSync(path.join(home, 'bin', 'kafka-server-start.sh'), '#!/bin/bash\necho "kafka-server-start.sh $*"\n', { mode: 0o755 });
    const logDir = path.join(dir, 'data', 'logs');
    fs.mkdirSync(logDir, { recursive: true });
    // meta.properties as kafka-storage.sh format writes it, with `formatted` as cluster.id when it is a string
    const clusterIdLine = typeof formatted === 'string' ? `cluster.id=${formatted}\n` : '';
    if (formatted !== false) fs.writeFileSync(path.join(logDir, 'meta.properties'), `#\n#Mon Dec 01 06:00:00 UTC 2025\nnode.id=0\ndirectory.id=Xo4Yc3Q0QjGq1oH0W5bFmA\nversion=1\n${clusterIdLine}`);
    const marker = path.join(dir, 'run-caught-up');
    if (caughtUp) fs.writeFileSync(marker, '');
    fs.writeFileSync(path.join(dir, 'base.properties'), 'log.dirs=x\n');
    const options: KafkaStartOptions = {
      mode: 'kraft', ports: PORTS, baseConfig: path.join(dir, 'base.properties'), runtimeConfig: path.join(dir, 'run', 'server.properties'),
      logDir, headlessServiceName: 'k-headless', clusterDomain: 'cluster.local', replicas: 4, controllers: 3, clusterId: 'GJHPMqWz0VX9BDyUZ_jmlg',
      caughtUpMarker: marker, ...o,
    };
    fs.writeFileSync(path.join(dir, 'start.sh'), renderKafkaStartScript(options));
    const r = spawnSync('bash', [path.join(dir, 'start.sh')], {
      encoding: 'utf-8', env: { PATH: process.env.PATH, HOSTNAME: hostname, POD_NAMESPACE: 'ns', KAFKA_HOME: home },
    });
    const rendered = fs.existsSync(options.runtimeConfig) ? fs.readFileSync(options.runtimeConfig, 'utf-8') : '';
    return { status: r.status, out: r.stdout + r.stderr, rendered, config: options.runtimeConfig, markerExists: fs.existsSync(marker) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('server.properties', () => {
  test('KRaft: controller listener and a static quorum over the pod FQDNs', () => {
    const p = props(renderServerProperties(KRAFT));
    expect(p['controller.listener.names']).toBe('CONTROLLER');
    expect(p['controller.quorum.voters']).toBe('0@k-0.k-headless.ns.svc.cluster.local:9093,1@k-1.k-headless.ns.svc.cluster.local:9093,2@k-2.k-headless.ns.svc.cluster.local:9093');
    expect(p['listener.security.protocol.map']).toBe('CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT');
    expect(p['inter.broker.listener.name']).toBe('INTERNAL');
    expect(p['zookeeper.connect']).toBeUndefined();
  });

  test('durable defaults, retention and no per-pod settings', () => {
    const p = props(renderServerProperties(KRAFT));
    expect(p).toMatchObject({
      'default.replication.factor': '3', 'min.insync.replicas': '2', 'offsets.topic.replication.factor': '3',
      'transaction.state.log.replication.factor': '3', 'transaction.state.log.min.isr': '2',
      'unclean.leader.election.enable': 'false', 'auto.create.topics.enable': 'false', 'num.partitions': '3',
      'log.retention.hours': '168', 'log.segment.bytes': '1073741824', 'log.retention.check.interval.ms': '300000',
      'log.dirs': '/var/lib/kafka/data/logs',
    });
    for (const perPod of ['node.id', 'broker.id', 'listeners', 'advertised.listeners', 'process.roles']) expect(p[perPod]).toBeUndefined();
  });

  test('ZooKeeper mode: zookeeper.connect with chroot, no controller settings', () => {
    const p = props(renderServerProperties({ ...KRAFT, mode: 'zookeeper', voters: [], zookeeperConnect: 'zk-0:2181,zk-1:2181/kafka' }));
    expect(p['zookeeper.connect']).toBe('zk-0:2181,zk-1:2181/kafka');
    expect(p['controller.quorum.voters']).toBeUndefined();
    expect(p['listener.security.protocol.map']).toBe('CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT');
  });

  test('KRaft with dedicated controllers: the voters are the controllers, with their own node ids', () => {
    const voters = [0, 1, 2].map((i) => `${1000 + i}@k-controller-${i}.k-controller-headless.ns.svc.cluster.local`);
    const p = props(renderServerProperties({ ...KRAFT, voters }));
    expect(p['controller.quorum.voters']).toBe(voters.map((v) => `${v}:9093`).join(','));
    expect(p['controller.listener.names']).toBe('CONTROLLER');
  });

  test('is exactly this file for the default KRaft cluster', () => {
    expect(renderServerProperties(KRAFT)).toMatchSnapshot();
  });
});

describe('start script', () => {
  test('a KRaft controller gets node.id, both roles, three listeners and advertises its own FQDN', () => {
    const r = runStart({}, 'k-1');
    expect(r.status).toBe(0);
    const p = props(r.rendered);
    expect(p).toMatchObject({
      'log.dirs': 'x', 'node.id': '1', 'process.roles': 'broker,controller',
      'listeners': 'CLIENT://:9092,INTERNAL://:9091,CONTROLLER://:9093',
      'advertised.listeners': 'CLIENT://k-1.k-headless.ns.svc.cluster.local:9092,INTERNAL://k-1.k-headless.ns.svc.cluster.local:9091',
    });
    expect(r.out).toContain('kafka-storage.sh format --config');
    expect(r.out).toContain('--cluster-id GJHPMqWz0VX9BDyUZ_jmlg --ignore-formatted');
    expect(r.out).toContain(`kafka-server-start.sh ${r.config}`);
  });

  test('a KRaft broker above the controllers runs the broker role only', () => {
    const p = props(runStart({}, 'k-3').rendered);
    expect(p['process.roles']).toBe('broker');
    expect(p.listeners).toBe('CLIENT://:9092,INTERNAL://:9091');
  });

  test('storage is formatted only once', () => {
    const r = runStart({}, 'k-0', true);
    expect(r.status).toBe(0);
    expect(r.out).not.toContain('kafka-storage.sh');
  });

  test('ZooKeeper mode: broker.id from the ordinal, no format, no controller', () => {
    const r = runStart({ mode: 'zookeeper', controllers: 0, clusterId: undefined }, 'k-2');
    expect(r.status).toBe(0);
    const p = props(r.rendered);
    expect(p['broker.id']).toBe('2');
    expect(p['node.id']).toBeUndefined();
    expect(p['process.roles']).toBeUndefined();
    expect(p['advertised.listeners']).toBe('CLIENT://k-2.k-headless.ns.svc.cluster.local:9092,INTERNAL://k-2.k-headless.ns.svc.cluster.local:9091');
    expect(r.out).not.toContain('kafka-storage.sh');
  });

  test('a dedicated controller: node.id past the broker ids, the controller role and listener only, nothing advertised', () => {
    // GIVEN the script of a 3-voter dedicated controller StatefulSet
    const controller = { role: 'controller', replicas: 3, controllers: 3, nodeIdOffset: 1000 };
    // WHEN pod 2 starts
    const r = runStart(controller, 'k-controller-2');
    // THEN
    expect(r.status).toBe(0);
    const p = props(r.rendered);
    expect(p).toMatchObject({ 'node.id': '1002', 'process.roles': 'controller', 'listeners': 'CONTROLLER://:9093' });
    expect(p['advertised.listeners']).toBeUndefined();
    expect(r.out).toContain('--cluster-id GJHPMqWz0VX9BDyUZ_jmlg --ignore-formatted');
    expect(r.out).toContain('starting Kafka controller 2 as k-controller-2.k-headless.ns.svc.cluster.local');
  });

  test('a dedicated controller formats its storage only once and refuses an ordinal outside its quorum', () => {
    const controller = { role: 'controller', replicas: 3, controllers: 3, nodeIdOffset: 1000 };
    expect(runStart(controller, 'k-controller-0', true).out).not.toContain('kafka-storage.sh');
    const outside = runStart(controller, 'k-controller-3');
    expect(outside.status).not.toBe(0);
    expect(outside.out).toContain('cannot derive a controller ordinal below 3');
  });

  test('a broker beside dedicated controllers runs the broker role only on every ordinal, with node.id = ordinal', () => {
    for (const host of ['k-0', 'k-3']) {
      // WHEN a broker of a cluster without combined controllers starts
      const r = runStart({ controllers: 0 }, host);
      // THEN
      expect(r.status).toBe(0);
      const p = props(r.rendered);
      expect(p).toMatchObject({ 'node.id': host.slice(2), 'process.roles': 'broker', 'listeners': 'CLIENT://:9092,INTERNAL://:9091' });
      expect(p['advertised.listeners']).toBe(`CLIENT://${host}.k-headless.ns.svc.cluster.local:9092,INTERNAL://${host}.k-headless.ns.svc.cluster.local:9091`);
      expect(r.out).toContain('kafka-storage.sh format');
    }
  });

  test('starts on a volume formatted for this cluster', () => {
    // GIVEN meta.properties carrying the rendered cluster id WHEN the pod starts THEN Kafka runs, nothing is formatted
    const r = runStart({}, 'k-0', 'GJHPMqWz0VX9BDyUZ_jmlg');
    expect(r.status).toBe(0);
    expect(r.out).not.toContain('kafka-storage.sh');
    expect(r.out).toContain('kafka-server-start.sh');
  });

  test('refuses a volume formatted for another cluster id, naming both ids and the fix', () => {
    // GIVEN meta.properties of another cluster id (a renamed or moved cluster, or another cluster's volume)
    for (const role of [{}, { role: 'controller', replicas: 3, nodeIdOffset: 1000 }]) {
      // WHEN a broker or a dedicated controller starts on it
      const r = runStart(role, 'k-0', 'MkU3OEVBNTcwNTJENDM2Qk');
      // THEN it stops before Kafka runs, saying what to set
      expect(r.status).toBe(1);
      expect(r.out).toContain("belongs to Kafka cluster 'MkU3OEVBNTcwNTJENDM2Qk', but this");
      expect(r.out).toContain("is configured for cluster 'GJHPMqWz0VX9BDyUZ_jmlg'");
      expect(r.out).toContain("set clusterId: 'MkU3OEVBNTcwNTJENDM2Qk' on the KafkaCluster");
      expect(r.out).not.toContain('kafka-server-start.sh');
      expect(r.out).not.toContain('kafka-storage.sh');
    }
  });

  test('a ZooKeeper-mode broker does not compare cluster ids (ZooKeeper assigns its own)', () => {
    const r = runStart({ mode: 'zookeeper', controllers: 0, clusterId: undefined }, 'k-0', 'MkU3OEVBNTcwNTJENDM2Qk');
    expect(r.status).toBe(0);
    expect(r.out).toContain('kafka-server-start.sh');
  });

  test('every broker start removes the probe\'s caught-up marker, so readiness checks the ISRs again', () => {
    // GIVEN a marker left by the previous container of this pod (the run volume outlives it)
    // WHEN the broker starts again THEN the marker is gone
    expect(runStart({}, 'k-1', 'GJHPMqWz0VX9BDyUZ_jmlg', true).markerExists).toBe(false);
    // and a script without a marker (a dedicated controller's) leaves the file alone
    expect(runStart({ caughtUpMarker: undefined }, 'k-1', 'GJHPMqWz0VX9BDyUZ_jmlg', true).markerExists).toBe(true);
  });

  test('refuses a hostname without an ordinal or outside the cluster', () => {
    expect(runStart({}, 'kafka').status).not.toBe(0);
    expect(runStart({}, 'k-4').out).toContain('cannot derive a broker ordinal below 4');
  });
});

describe('cluster id', () => {
  const seed = { namespace: 'streaming', name: 'streaming-kafka', path: 'streaming/kafka' };

  test('is derived deterministically and is a valid Kafka id', () => {
    const a = deriveClusterId(seed);
    expect(deriveClusterId({ ...seed })).toBe(a);
    expect(isClusterId(a)).toBe(true);
    for (let i = 0; i < 200; i++) expect(deriveClusterId({ ...seed, path: `seed-${i}` }).startsWith('-')).toBe(false);
  });

  test('differs per namespace, StatefulSet name and construct path', () => {
    const ids = [
      seed,
      { ...seed, namespace: 'staging' },
      { ...seed, name: 'streaming-events' },
      { ...seed, path: 'streaming/events' },
    ].map(deriveClusterId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('validation accepts 16-byte URL-safe base64 only', () => {
    expect(isClusterId('MkU3OEVBNTcwNTJENDM2Qk')).toBe(true);
    expect(isClusterId('too-short')).toBe(false);
    expect(isClusterId('MkU3OEVBNTcwNTJENDM2Q+')).toBe(false);
  });
});

describe('logging', () => {
  test('Kafka 4.x: log4j2 YAML with a console appender on stdout only, selected by -Dlog4j2.configurationFile', () => {
    const l = renderKafkaLogging(4, '/etc/kafka/cdk8s');
    expect(l.path).toBe('/etc/kafka/cdk8s/log4j2.yaml');
    expect(l.log4jOpts).toBe(`-Dlog4j2.configurationFile=${l.path}`);
    expect(l.content).toContain('    Console:\n      name: STDOUT\n      target: SYSTEM_OUT\n');
    expect(l.content).toContain('    Root:\n      level: INFO\n      AppenderRef:\n        - ref: STDOUT\n');
    // no file appenders of any kind
    expect(l.content).not.toMatch(/File|fileName|filePattern/);
    expect(l.content.match(/- ref: /g)).toHaveLength(1);
  });

  test('Kafka 3.x: log4j 1.x (reload4j) properties with a ConsoleAppender on System.out only, selected by -Dlog4j.configuration', () => {
    const l = renderKafkaLogging(3, '/etc/kafka/cdk8s');
    expect(l.path).toBe('/etc/kafka/cdk8s/log4j.properties');
    expect(l.log4jOpts).toBe(`-Dlog4j.configuration=file:${l.path}`);
    const p = props(l.content);
    expect(p['log4j.rootLogger']).toBe('INFO, stdout');
    expect(p['log4j.appender.stdout']).toBe('org.apache.log4j.ConsoleAppender');
    expect(p['log4j.appender.stdout.Target']).toBe('System.out');
    const appenders = Object.keys(p).filter((k) => /^log4j\.appender\.[^.]+$/.test(k));
    expect(appenders).toEqual(['log4j.appender.stdout']);
    expect(Object.entries(p).filter(([k, v]) => k.startsWith('log4j.logger.') && v.includes(','))).toEqual([]);
  });
});
