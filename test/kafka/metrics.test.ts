import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Duration, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { KafkaCluster, KafkaClusterProps, KafkaControllerMode, Storage, ZooKeeperEnsemble } from '../../src';
import { renderKafkaStartScript } from '../../src/kafka/config';
import { renderJmxAgentCopyScript, renderJmxExporterConfig } from '../../src/kafka/jmx-exporter';
import { only, synthValid } from '../support/manifest';
import { alertsOf } from '../support/promtool';
import { haveShellcheck, shellcheck } from '../support/shellcheck';

// KafkaCluster's monitoring: the Prometheus JMX exporter's agent copied by
// an init container and loaded by kafka-start.sh into the server's JVM only,
// the metrics port, the ServiceMonitor and the rules per StatefulSet. The
// real agent in real brokers is test/e2e/kafka.test.ts.

const NS = 'streaming';

function chart(): Chart {
  return new Chart(Testing.app(), 'streaming', { namespace: NS });
}

function render(props: KafkaClusterProps = {}): any[] {
  const c = chart();
  new KafkaCluster(c, 'kafka', { monitoring: {}, ...props });
  return synthValid(c);
}

function podSpec(objects: any[], name = 'streaming-kafka'): any {
  return only(objects, 'StatefulSet', name).spec.template.spec;
}

function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

describe('KafkaCluster monitoring: the JMX exporter agent in the pods', () => {
  test('an init container copies the agent from the pinned exporter image into an emptyDir: restricted, read-only root, its own small resources', () => {
    // GIVEN monitoring with the default exporter image WHEN synthesized
    const spec = podSpec(render());
    // THEN one init container runs the copy script from the ConfigMap in that image
    expect(spec.initContainers).toHaveLength(1);
    const init = spec.initContainers[0];
    expect(init).toMatchObject({
      name: 'jmx-exporter',
      image: KafkaCluster.DEFAULT_JMX_EXPORTER_IMAGE,
      command: ['bash', '/etc/kafka/cdk8s/jmx-exporter-copy.sh'],
      resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '256Mi' } },
      securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
    });
    expect(KafkaCluster.DEFAULT_JMX_EXPORTER_IMAGE).toMatch(/:[0-9][^:]*$/);
    // AND it writes the volume the Kafka container reads (read-only there)
    expect(init.volumeMounts).toContainEqual({ name: 'jmx-exporter', mountPath: '/opt/jmx-exporter' });
    expect(spec.containers[0].volumeMounts).toContainEqual({ name: 'jmx-exporter', mountPath: '/opt/jmx-exporter', readOnly: true });
    expect(spec.volumes).toContainEqual({ name: 'jmx-exporter', emptyDir: { sizeLimit: '32Mi' } });
  });

  test('the agent is not in the container env: no KAFKA_OPTS or JAVA_TOOL_OPTIONS that the probes\' and tools\' JVMs would load', () => {
    const container = podSpec(render()).containers[0];
    const env = container.env.map((e: any) => e.name);
    expect(env).not.toContain('KAFKA_OPTS');
    expect(env).not.toContain('JAVA_TOOL_OPTIONS');
    expect(JSON.stringify(container.env)).not.toContain('javaagent');
  });

  test('the metrics port 9404 on brokers and dedicated controllers, open to every namespace, scraped by a ServiceMonitor per StatefulSet', () => {
    // GIVEN dedicated controllers WHEN monitored
    const objects = render({ controllerMode: KafkaControllerMode.DEDICATED, monitoring: { labels: { release: 'prom' }, interval: Duration.seconds(15) } });
    for (const name of ['streaming-kafka', 'streaming-kafka-controller']) {
      // THEN each pod declares the port
      expect(podSpec(objects, name).containers[0].ports).toContainEqual({ name: 'metrics', containerPort: 9404, protocol: 'TCP' });
      // AND each StatefulSet has a ServiceMonitor on its headless Service's metrics port
      const sm = only(objects, 'ServiceMonitor', name);
      expect(sm.metadata.labels.release).toBe('prom');
      expect(sm.spec.endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics', interval: '15s' })]);
      expect(sm.spec.selector.matchLabels).toEqual(only(objects, 'Service', `${name}-headless`).spec.selector);
      expect(only(objects, 'Service', `${name}-headless`).spec.ports).toContainEqual(expect.objectContaining({ name: 'metrics', port: 9404 }));
      // AND the NetworkPolicy admits every namespace to it
      const rules = only(objects, 'NetworkPolicy', name).spec.ingress;
      expect(rules).toContainEqual({ from: [{ namespaceSelector: {} }], ports: [{ port: 'metrics', protocol: 'TCP' }] });
    }
  });

  test('without monitoring: no agent, no init container, no metrics port, no ServiceMonitor', () => {
    const c = chart();
    new KafkaCluster(c, 'kafka');
    const objects = synthValid(c);
    const spec = podSpec(objects);
    expect(spec.initContainers).toBeUndefined();
    expect(spec.containers[0].ports.map((p: any) => p.name)).not.toContain('metrics');
    expect(only(objects, 'ConfigMap', 'streaming-kafka-config').data['kafka-start.sh']).not.toContain('javaagent');
    expect(objects.filter((o) => ['ServiceMonitor', 'PrometheusRule'].includes(o.kind))).toEqual([]);
  });

  test('kafka-start.sh loads the agent with the rendered rules file on the metrics port; the rules file is in the ConfigMap', () => {
    const data = only(render(), 'ConfigMap', 'streaming-kafka-config').data;
    expect(data['kafka-start.sh']).toContain('export KAFKA_OPTS="-javaagent:/opt/jmx-exporter/jmx_prometheus_javaagent.jar=9404:/etc/kafka/cdk8s/jmx-exporter.yaml${KAFKA_OPTS:+ ${KAFKA_OPTS}}"\n');
    expect(data['jmx-exporter.yaml']).toBe(renderJmxExporterConfig());
    expect(data['jmx-exporter-copy.sh']).toContain(`jars=(${KafkaCluster.DEFAULT_JMX_EXPORTER_JAR_PATH})\n`);
  });

  test('jmxExporterImage and jmxExporterJarPath choose where the jar comes from', () => {
    const objects = render({ jmxExporterImage: 'registry.example.com/tools/jmx-agent:1.0.1', jmxExporterJarPath: '/agent/jmx_prometheus_javaagent-1.0.1.jar' });
    expect(podSpec(objects).initContainers[0].image).toBe('registry.example.com/tools/jmx-agent:1.0.1');
    expect(only(objects, 'ConfigMap', 'streaming-kafka-config').data['jmx-exporter-copy.sh']).toContain('jars=(/agent/jmx_prometheus_javaagent-1.0.1.jar)\n');
  });
});

/** Runs kafka-start.sh with a stand-in kafka-server-start.sh that records its args and KAFKA_OPTS. */
function runStartScript(javaAgent: string | undefined, kafkaOpts: string | undefined): { status: number | null; recorded: string; out: string } {
  const dir = tmpDir('kafka-agent-');
  try {
    const bin = path.join(dir, 'kafka', 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'kafka-server-start.sh'), `#!/bin/bash\nprintf 'args=%s\\nKAFKA_OPTS=%s\\n' "$*" "\${KAFKA_OPTS-<unset>}" > "${dir}/recorded"\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'base.properties'), 'log.dirs=x\n');
    fs.writeFileSync(path.join(dir, 'start.sh'), renderKafkaStartScript({
      mode: 'zookeeper', ports: { client: 9092, internal: 9091, controller: 9093 }, baseConfig: path.join(dir, 'base.properties'),
      runtimeConfig: path.join(dir, 'run', 'server.properties'), logDir: path.join(dir, 'data'), headlessServiceName: 'k-headless',
      clusterDomain: 'cluster.local', replicas: 3, controllers: 0, javaAgent,
    }));
    const env: { [k: string]: string } = { PATH: process.env.PATH!, HOSTNAME: 'k-1', POD_NAMESPACE: 'ns', KAFKA_HOME: path.join(dir, 'kafka') };
    if (kafkaOpts !== undefined) env.KAFKA_OPTS = kafkaOpts;
    const r = spawnSync('bash', [path.join(dir, 'start.sh')], { encoding: 'utf-8', env });
    const recordedFile = path.join(dir, 'recorded');
    return { status: r.status, recorded: fs.existsSync(recordedFile) ? fs.readFileSync(recordedFile, 'utf-8') : '', out: r.stdout + r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('kafka-start.sh with the agent (run with bash against a stand-in kafka-server-start.sh)', () => {
  const agent = '-javaagent:/opt/jmx-exporter/jmx_prometheus_javaagent.jar=9404:/etc/kafka/cdk8s/jmx-exporter.yaml';

  test('the server gets the agent in KAFKA_OPTS, and the pod\'s server.properties as its argument', () => {
    const r = runStartScript(agent, undefined);
    expect(r.status).toBe(0);
    expect(r.recorded).toMatch(new RegExp(`^args=\\S+/run/server\\.properties\nKAFKA_OPTS=${agent.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n$`));
  });

  test('options the container already has in KAFKA_OPTS are kept after the agent', () => {
    const r = runStartScript(agent, '-Dfoo=bar -Xss1m');
    expect(r.recorded).toContain(`KAFKA_OPTS=${agent} -Dfoo=bar -Xss1m\n`);
  });

  test('without an agent KAFKA_OPTS is left alone', () => {
    expect(runStartScript(undefined, undefined).recorded).toContain('KAFKA_OPTS=<unset>\n');
    expect(runStartScript(undefined, '-Dfoo=bar').recorded).toContain('KAFKA_OPTS=-Dfoo=bar\n');
  });
});

/** Runs the init container's copy script against a directory standing in for the exporter image. */
function runCopy(jars: string[], pattern: string): { status: number | null; out: string; copied: string | undefined } {
  const dir = tmpDir('jmx-copy-');
  try {
    const image = path.join(dir, 'image', 'libs');
    fs.mkdirSync(image, { recursive: true });
    for (const j of jars) fs.writeFileSync(path.join(image, j), `jar ${j}`);
    fs.mkdirSync(path.join(dir, 'volume'));
    const target = path.join(dir, 'volume', 'jmx_prometheus_javaagent.jar');
    fs.writeFileSync(path.join(dir, 'copy.sh'), renderJmxAgentCopyScript({ image: 'example/exporter:1.2.3', jarPath: path.join(image, pattern), target }));
    const r = spawnSync('bash', [path.join(dir, 'copy.sh')], { encoding: 'utf-8', env: { PATH: process.env.PATH } });
    const left = fs.readdirSync(path.join(dir, 'volume'));
    expect(left.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    return { status: r.status, out: r.stdout + r.stderr, copied: fs.existsSync(target) ? fs.readFileSync(target, 'utf-8') : undefined };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('the init container\'s copy script (run with bash against a stand-in image directory)', () => {
  test('copies the one jar the pattern matches, whatever its version', () => {
    const r = runCopy(['jmx_prometheus_javaagent-1.0.1.jar', 'kafka-clients-3.9.0.jar'], 'jmx_prometheus_javaagent*.jar');
    expect(r).toMatchObject({ status: 0, copied: 'jar jmx_prometheus_javaagent-1.0.1.jar' });
  });

  test('a plain path is copied as it is', () => {
    expect(runCopy(['agent.jar'], 'agent.jar')).toMatchObject({ status: 0, copied: 'jar agent.jar' });
  });

  test('no jar there: fails, naming the image, the path and the props to set', () => {
    const r = runCopy(['kafka-clients-3.9.0.jar'], 'jmx_prometheus_javaagent*.jar');
    expect(r.status).toBe(1);
    expect(r.copied).toBeUndefined();
    expect(r.out).toContain("in image 'example/exporter:1.2.3', found 0: none");
    expect(r.out).toContain('set jmxExporterImage and jmxExporterJarPath on the KafkaCluster');
    expect(runCopy([], 'agent.jar')).toMatchObject({ status: 1, copied: undefined });
  });

  test('two jars match: fails rather than guess', () => {
    const r = runCopy(['jmx_prometheus_javaagent-0.20.0.jar', 'jmx_prometheus_javaagent-1.0.1.jar'], 'jmx_prometheus_javaagent*.jar');
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/found 2: .*0\.20\.0\.jar .*1\.0\.1\.jar/);
  });

  (haveShellcheck() ? test : test.skip)('the copy script and the start script with the agent pass shellcheck', () => {
    const scripts = {
      copy: renderJmxAgentCopyScript({ image: KafkaCluster.DEFAULT_JMX_EXPORTER_IMAGE, jarPath: KafkaCluster.DEFAULT_JMX_EXPORTER_JAR_PATH, target: '/opt/jmx-exporter/a.jar' }),
      start: only(render(), 'ConfigMap', 'streaming-kafka-config').data['kafka-start.sh'],
    };
    for (const [where, text] of Object.entries(scripts)) expect({ where, problems: shellcheck({ where, shell: 'bash', text }) }).toEqual({ where, problems: [] });
  });
});

/**
 * The name the agent gives a bean's attribute under a rule: the pattern
 * (anchored, as the agent anchors it) matched against
 * `domain<key=value, ...><>attribute`, `$n` replaced, lower-cased.
 */
function exported(rules: any[], bean: string): string | undefined {
  for (const r of rules) {
    const m = new RegExp(`^${r.pattern}$`).exec(bean);
    if (m) return r.name.replace(/\$(\d)/g, (_: string, i: string) => m[Number(i)]).toLowerCase();
  }
  return undefined;
}

describe('the JMX exporter rules file', () => {
  const config = YAML.parse(renderJmxExporterConfig());

  test('lower-case names, and only the Kafka beans the rules read', () => {
    expect(config).toMatchObject({ lowercaseOutputName: true, lowercaseOutputLabelNames: true });
    const domains = config.includeObjectNames.map((n: string) => n.split(':')[0]);
    expect([...new Set(domains)].sort()).toEqual(['kafka.controller', 'kafka.log', 'kafka.network', 'kafka.server']);
  });

  test('every Kafka series an alert reads is what a rule makes of the bean Kafka registers', () => {
    // GIVEN the beans (as the agent writes them for matching) behind the series the alerts read
    const beans: { [series: string]: string } = {
      kafka_server_replicamanager_underreplicatedpartitions: 'kafka.server<type=ReplicaManager, name=UnderReplicatedPartitions><>Value',
      kafka_server_replicamanager_underminisrpartitioncount: 'kafka.server<type=ReplicaManager, name=UnderMinIsrPartitionCount><>Value',
      kafka_log_logmanager_offlinelogdirectorycount: 'kafka.log<type=LogManager, name=OfflineLogDirectoryCount><>Value',
      kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent: 'kafka.server<type=KafkaRequestHandlerPool, name=RequestHandlerAvgIdlePercent><>OneMinuteRate',
      kafka_network_socketserver_networkprocessoravgidlepercent: 'kafka.network<type=SocketServer, name=NetworkProcessorAvgIdlePercent><>Value',
      kafka_controller_kafkacontroller_activecontrollercount: 'kafka.controller<type=KafkaController, name=ActiveControllerCount><>Value',
      kafka_controller_kafkacontroller_offlinepartitionscount: 'kafka.controller<type=KafkaController, name=OfflinePartitionsCount><>Value',
    };
    // WHEN the alerts of every mode are rendered
    const c = chart();
    const zk = new ZooKeeperEnsemble(c, 'zk');
    new KafkaCluster(c, 'zk-mode', { zookeeper: zk, monitoring: {} });
    new KafkaCluster(c, 'dedicated', { controllerMode: KafkaControllerMode.DEDICATED, monitoring: {} });
    const read = new Set([...alertsOf(Testing.synth(c)).values()].flatMap((r: any) => r.expr.match(/\bkafka_[a-z_]+/g) ?? []));
    // THEN each series they read comes from its bean through the rules, and no other bean makes it
    expect([...read].sort()).toEqual(Object.keys(beans).sort());
    for (const [series, bean] of Object.entries(beans)) expect({ bean, name: exported(config.rules, bean) }).toEqual({ bean, name: series });
    // AND the per-topic variants of a broker-wide bean are not exported (the series stay per broker)
    expect(exported(config.rules, 'kafka.server<type=BrokerTopicMetrics, name=BytesInPerSec, topic=orders><>Count')).toBeUndefined();
    expect(exported(config.rules, 'kafka.server<type=BrokerTopicMetrics, name=BytesInPerSec><>Count')).toBe('kafka_server_brokertopicmetrics_bytesinpersec_total');
  });
});

describe('alerts per StatefulSet and the user\'s options', () => {
  const names = (objects: any[], rule: string) => only(objects, 'PrometheusRule', rule).spec.groups.flatMap((g: any) => g.rules.map((r: any) => r.alert));

  test('combined KRaft and ZooKeeper mode: every Kafka alert on the brokers, controller alerts over the brokers\' series', () => {
    const c = chart();
    const zk = new ZooKeeperEnsemble(c, 'zk');
    new KafkaCluster(c, 'onzk', { zookeeper: zk, monitoring: {} });
    new KafkaCluster(c, 'kafka', { monitoring: {} });
    const objects = synthValid(c);
    for (const name of ['streaming-kafka', 'streaming-onzk']) {
      const rule = only(objects, 'PrometheusRule', name);
      expect(names(objects, name)).toEqual(expect.arrayContaining(['KafkaBrokerDown', 'KafkaActiveControllerCount', 'KafkaOfflinePartitions', 'KafkaUnderReplicatedPartitions']));
      expect(names(objects, name)).not.toContain('KafkaControllerDown');
      const active = rule.spec.groups.flatMap((g: any) => g.rules).find((r: any) => r.alert === 'KafkaActiveControllerCount');
      expect(active.expr).toContain(`job="${name}-headless"`);
    }
  });

  test('dedicated controllers: the controller alerts and KafkaControllerDown move to the controllers\' rule', () => {
    const objects = render({ controllerMode: KafkaControllerMode.DEDICATED });
    const brokers = names(objects, 'streaming-kafka');
    const controllers = names(objects, 'streaming-kafka-controller');
    expect(brokers.filter((n: string) => n.startsWith('Kafka'))).toEqual([
      'KafkaBrokerDown', 'KafkaUnderReplicatedPartitions', 'KafkaUnderMinIsrPartitions', 'KafkaOfflineLogDirectory', 'KafkaRequestHandlerIdleLow', 'KafkaNetworkProcessorIdleLow',
    ]);
    expect(controllers.filter((n: string) => n.startsWith('Kafka'))).toEqual(['KafkaControllerDown', 'KafkaActiveControllerCount', 'KafkaOfflinePartitions']);
    // the StatefulSet alerts watch each StatefulSet
    expect(brokers).toContain('StatefulSetReplicasMismatch');
    expect(controllers).toContain('StatefulSetReplicasMismatch');
  });

  test('dedicated controllers: disabledAlerts and alertOverrides name alerts of either StatefulSet and reach the one that has them', () => {
    // GIVEN ephemeral brokers (no volume alerts) and persistent controllers
    const objects = render({
      controllerMode: KafkaControllerMode.DEDICATED,
      storage: Storage.ephemeral(),
      monitoring: {
        disabledAlerts: ['KafkaControllerDown', 'StatefulSetUpdateNotRolledOut'],
        alertOverrides: { VolumeAlmostFull: { threshold: 5 }, KafkaRequestHandlerIdleLow: { threshold: 10 }, KafkaOfflinePartitions: { severity: 'page' } },
      },
    });
    const brokers = alertsOf(objects.filter((o) => o.metadata.name === 'streaming-kafka'));
    const controllers = alertsOf(objects.filter((o) => o.metadata.name === 'streaming-kafka-controller'));
    // THEN a name shared by both is disabled on both, and one of one on that one
    expect([...controllers.keys()]).not.toContain('KafkaControllerDown');
    expect([...brokers.keys(), ...controllers.keys()]).not.toContain('StatefulSetUpdateNotRolledOut');
    // AND each override changes the StatefulSet that has the alert
    expect(controllers.get('VolumeAlmostFull').expr).toContain('< 5 / 100');
    expect(brokers.has('VolumeAlmostFull')).toBe(false);
    expect(brokers.get('KafkaRequestHandlerIdleLow').expr).toContain('< 10 / 100');
    expect(controllers.get('KafkaOfflinePartitions').labels.severity).toBe('page');
  });
});

describe('bad monitoring input fails at construction with the construct, the property and what is allowed', () => {
  const cases: [string, KafkaClusterProps, string][] = [
    ['an exporter image without monitoring', { jmxExporterImage: 'example/agent:1.0.1' },
      "KafkaCluster 'streaming/kafka': jmxExporterImage applies with monitoring only: without it no JMX exporter runs"],
    ['a jar path without monitoring', { jmxExporterJarPath: '/agent.jar' },
      "KafkaCluster 'streaming/kafka': jmxExporterJarPath applies with monitoring only: without it no JMX exporter runs"],
    ['an exporter image without a tag', { monitoring: {}, jmxExporterImage: 'example/agent' },
      "KafkaCluster 'streaming/kafka': jmxExporterImage must be an image reference with a pinned tag or digest (not 'latest'), such as 'quay.io/strimzi/kafka:0.45.0-kafka-3.9.0', got the string 'example/agent'"],
    ['a latest exporter image', { monitoring: {}, jmxExporterImage: 'example/agent:latest' }, "jmxExporterImage must be an image reference with a pinned tag or digest (not 'latest')"],
    ['an exporter image that is not a string', { monitoring: {}, jmxExporterImage: 7 as any }, 'jmxExporterImage must be an image reference with a pinned tag or digest (not \'latest\'), such as \'quay.io/strimzi/kafka:0.45.0-kafka-3.9.0\', got 7'],
    ['a relative jar path', { monitoring: {}, jmxExporterJarPath: 'libs/agent.jar' },
      "KafkaCluster 'streaming/kafka': jmxExporterJarPath must be the absolute path of the agent's jar in jmxExporterImage (letters, digits, '.', '_', '-'; '*' only in the file name), such as '/opt/kafka/libs/jmx_prometheus_javaagent*.jar', got the string 'libs/agent.jar'"],
    ['a jar path that is no jar', { monitoring: {}, jmxExporterJarPath: '/opt/agent.zip' }, "jmxExporterJarPath must be the absolute path of the agent's jar"],
    ['a pattern in a directory name', { monitoring: {}, jmxExporterJarPath: '/opt/*/agent.jar' }, "'*' only in the file name"],
    ['a jar path with a space', { monitoring: {}, jmxExporterJarPath: '/opt/my agent.jar' }, "got the string '/opt/my agent.jar'"],
    ['a jar path with shell syntax', { monitoring: {}, jmxExporterJarPath: '/opt/$(reboot).jar' }, "got the string '/opt/$(reboot).jar'"],
    ['disabling an alert of neither StatefulSet (dedicated)', { controllerMode: KafkaControllerMode.DEDICATED, monitoring: { disabledAlerts: ['KafkaBrokersDown'] } },
      "KafkaCluster 'streaming/kafka': monitoring.disabledAlerts names 'KafkaBrokersDown', which is not an alert of this cluster's brokers or controllers; the alerts are: KafkaBrokerDown, "],
    ['overriding an alert of neither StatefulSet (dedicated)', { controllerMode: KafkaControllerMode.DEDICATED, monitoring: { alertOverrides: { KafkaLag: { threshold: 1 } } } },
      "KafkaCluster 'streaming/kafka': monitoring.alertOverrides names 'KafkaLag', which is not an alert of this cluster's brokers or controllers"],
    ['disabling KafkaControllerDown without dedicated controllers', { monitoring: { disabledAlerts: ['KafkaControllerDown'] } },
      "KafkaCluster 'streaming/kafka': monitoring.disabledAlerts names 'KafkaControllerDown', which is not an alert of this workload"],
    ['a threshold on an alert without one', { monitoring: { alertOverrides: { KafkaOfflinePartitions: { threshold: 1 } } } },
      "KafkaCluster 'streaming/kafka': monitoring.alertOverrides 'KafkaOfflinePartitions' threshold cannot be set: 'KafkaOfflinePartitions' has no threshold; alerts with one: KafkaRequestHandlerIdleLow, KafkaNetworkProcessorIdleLow, VolumeFillingUp, VolumeAlmostFull"],
    ['an idle threshold over 100 percent', { monitoring: { alertOverrides: { KafkaNetworkProcessorIdleLow: { threshold: 120 } } } },
      "monitoring.alertOverrides 'KafkaNetworkProcessorIdleLow' threshold must be a number from 0 to 100 (percent of network thread time idle), got 120"],
    ['a controller alert threshold on the controllers (dedicated)', { controllerMode: KafkaControllerMode.DEDICATED, monitoring: { alertOverrides: { KafkaActiveControllerCount: { threshold: 2 } } } },
      "monitoring.alertOverrides 'KafkaActiveControllerCount' threshold cannot be set: 'KafkaActiveControllerCount' has no threshold"],
    ['disabledAlerts that is not a list (dedicated)', { controllerMode: KafkaControllerMode.DEDICATED, monitoring: { disabledAlerts: 'KafkaBrokerDown' as any } },
      "KafkaCluster 'streaming/kafka': monitoring.disabledAlerts must be a list of alert names, got the string 'KafkaBrokerDown'"],
  ];
  test.each(cases)('%s', (_name, props, message) => {
    expect(() => new KafkaCluster(chart(), 'kafka', props)).toThrow(message);
  });
});
