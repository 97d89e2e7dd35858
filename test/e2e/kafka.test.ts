import * as fs from 'fs';
import * as path from 'path';
import { Chart, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { KafkaCluster, KafkaControllerMode, Resources, StatefulWorkload, Storage, ZooKeeperEnsemble } from '../../src';
import { imageTag } from '../../src/core/stateful-workload';
import { haveShellcheck, shellcheck } from '../support/shellcheck';
import { BinaryShim, LocalCluster, LocalClusterOptions } from './harness/cluster';
import { describeWithNamespaces, until } from './harness/testing';
import { fetchKafkaJars, jmxExporterImage, KafkaJars, kafkaImage, ZOOKEEPER_IMAGE } from './images';

// KafkaCluster, as rendered, on real Kafka brokers: the jars of the default
// images' releases (Maven Central, scripts/kafka/fetch.sh) stand in for
// apache/kafka. KRaft with combined controllers forms its quorum, keeps every
// acks=all write through a broker crash, takes the broker back on a new
// address, and goes through a rolling restart paced by its readiness probe
// without taking a broker down while a partition is under-replicated;
// dedicated controllers keep the quorum through the loss of their leader; on
// ZooKeeper (Kafka 3.9) the brokers register in the rendered ensemble. Every
// cluster runs with `monitoring`: the JMX exporter's agent (Maven Central) in
// each broker and controller JVM serves the series the alerts read, healthy,
// while the probes' and tools' JVMs in the same containers run without it.
// The scenarios of one cluster run in order and share its topic (one JVM boot each).

const jars = fetchKafkaJars();

/** Kafka sized for 2 shared cores: a 320 MiB heap (half the memory limit). */
const BROKER_RESOURCES = Resources.of({ cpuMillis: 250, memory: Size.mebibytes(640) });
const STORAGE = Storage.persistent({ size: Size.gibibytes(1) });

/** The harness options for the image of `k` and the JMX exporter's image, with other images' `binaries` beside them. */
function clusterOptions(k: KafkaJars, binaries: BinaryShim[] = []): LocalClusterOptions {
  const image = kafkaImage(k);
  const agent = jmxExporterImage(jars['jmx-exporter'], KafkaCluster.DEFAULT_JMX_EXPORTER_IMAGE, KafkaCluster.DEFAULT_JMX_EXPORTER_JAR_PATH);
  return { readyTimeoutMs: 240000, binaries: [...binaries, ...image.binaries], mounts: [...image.mounts, agent], notes: image.notes };
}

/** One sample of a scraped page: `name{labels} value`. */
interface Sample { name: string; labels: string; value: number }

/** The pod's /metrics on the agent's port, scraped from `from` (as Prometheus would, over the pod network). */
async function scrape(cluster: LocalCluster, from: string, host: string): Promise<Sample[]> {
  const page = await cluster.sh(from, `curl -fsS --max-time 20 http://${host}:${METRICS_PORT}/metrics`);
  return page.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$/.exec(l);
    if (!m) throw new Error(`not a sample line from ${host}: ${l}`);
    return { name: m[1], labels: m[2] ?? '', value: Number(m[3]) };
  });
}

/** The Kafka series (kafka_*) the rendered alerts of `objects` read, by alert. */
function alertSeries(objects: any[]): Map<string, string[]> {
  const rules = objects.filter((o) => o.kind === 'PrometheusRule').flatMap((o) => o.spec.groups).flatMap((g: any) => g.rules);
  return new Map(rules.filter((r: any) => /\bkafka_/.test(r.expr)).map((r: any) => [r.alert, [...new Set<string>(r.expr.match(/\bkafka_[a-z_]+/g))]]));
}

/** The value of a single-sample series of a page; throws if the page lacks it. */
function valueOf(page: Sample[], name: string, pod: string): number {
  const found = page.filter((x) => x.name === name);
  if (found.length !== 1) throw new Error(`${pod} serves ${found.length} samples of ${name}, expected 1`);
  return found[0].value;
}

/**
 * Metrics of a cluster's pods: every series the alerts read, with healthy
 * values (a broker's under-replicated, under-min-ISR and offline-log-dir
 * counts 0, idle ratios above the alerts' 20%; exactly one active controller
 * and no offline partitions over `controllers`, the pods that can be
 * controller).
 */
async function expectHealthyMetrics(cluster: LocalCluster, from: string, objects: any[], brokers: string[], brokerFqdns: string[], controllers: { pods: string[]; fqdns: string[] }): Promise<void> {
  const series = alertSeries(objects);
  const wanted = (names: string[]) => [...series.entries()].filter(([a]) => names.includes(a)).flatMap(([, s]) => s);
  const brokerSeries = wanted(['KafkaUnderReplicatedPartitions', 'KafkaUnderMinIsrPartitions', 'KafkaOfflineLogDirectory', 'KafkaRequestHandlerIdleLow', 'KafkaNetworkProcessorIdleLow']);
  const controllerSeries = wanted(['KafkaActiveControllerCount', 'KafkaOfflinePartitions']);
  expect([...brokerSeries, ...controllerSeries].sort()).toEqual([...new Set([...series.values()].flat())].sort());
  expect(controllerSeries.length).toBe(2);
  const seen: { [pod: string]: { [name: string]: number } } = {};
  for (const [i, pod] of brokers.entries()) {
    const page = await scrape(cluster, from, brokerFqdns[i]);
    seen[pod] = Object.fromEntries(brokerSeries.map((n) => [n, valueOf(page, n, pod)]));
  }
  for (const [i, pod] of controllers.pods.entries()) {
    const page = await scrape(cluster, from, controllers.fqdns[i]);
    seen[pod] = { ...(seen[pod] ?? {}), ...Object.fromEntries(controllerSeries.map((n) => [n, valueOf(page, n, pod)])) };
  }
  console.log(`metrics: ${JSON.stringify(seen)}`);
  for (const pod of brokers) {
    const v = seen[pod];
    expect({ pod, under: [v.kafka_server_replicamanager_underreplicatedpartitions, v.kafka_server_replicamanager_underminisrpartitioncount, v.kafka_log_logmanager_offlinelogdirectorycount] })
      .toEqual({ pod, under: [0, 0, 0] });
    // the idle ratios are served as ratios; how idle a broker is depends on how busy this
    // machine is, so the threshold itself is proven by the promtool scenarios, not here
    const idle = [v.kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent, v.kafka_network_socketserver_networkprocessoravgidlepercent];
    expect({ pod, idleIsRatio: idle.map((x) => Number.isFinite(x) && x >= 0 && x <= 2) }).toEqual({ pod, idleIsRatio: [true, true] });
  }
  const sum = (n: string) => controllers.pods.reduce((a, p) => a + seen[p][n], 0);
  expect({ activeControllers: sum('kafka_controller_kafkacontroller_activecontrollercount'), offlinePartitions: sum('kafka_controller_kafkacontroller_offlinepartitionscount') })
    .toEqual({ activeControllers: 1, offlinePartitions: 0 });
}

/**
 * The readiness probe's kafka-topics.sh (Kafka's tools, in the broker's
 * container with the container's env) runs without the agent while the
 * broker's agent holds the metrics port; the same tool with the agent in
 * KAFKA_OPTS (as a container env would give it) fails to start.
 */
async function expectToolsWithoutAgent(cluster: LocalCluster, objects: any[], pod: string, stsName: string): Promise<void> {
  const sts = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === stsName);
  const container = sts.spec.template.spec.containers[0];
  expect(container.env.map((e: any) => e.name)).not.toContain('KAFKA_OPTS');
  // GIVEN the agent of the broker's JVM serves the port
  expect(await cluster.sh(pod, `curl -fsS --max-time 20 http://127.0.0.1:${METRICS_PORT}/metrics | grep -c '^kafka_server_replicamanager_underreplicatedpartitions '`)).toMatch(/^1\s*$/);
  // WHEN readiness runs its kafka-topics.sh check again (the marker of a passed check removed)
  await cluster.sh(pod, 'rm -f /var/run/kafka/caught-up');
  const probe = await cluster.exec(pod, container.readinessProbe.exec.command, { timeoutMs: container.readinessProbe.timeoutSeconds * 1000 });
  // THEN it passes, and it did run the tool (the marker is back)
  expect(probe).toMatchObject({ code: 0 });
  expect((await cluster.sh(pod, 'ls /var/run/kafka')).split('\n')).toContain('caught-up');
  // AND a tool JVM given the agent through KAFKA_OPTS cannot start: the port is the broker's
  const agent = /export KAFKA_OPTS="(-javaagent:[^$"]+)/.exec(objects.find((o) => o.kind === 'ConfigMap' && o.data?.['kafka-start.sh'] && o.metadata.name === `${stsName}-config`).data['kafka-start.sh'])![1];
  const withAgent = await cluster.exec(pod, ['bash', '-c', `KAFKA_OPTS='${agent}' KAFKA_HEAP_OPTS=-Xmx64m timeout 60 kafka-topics.sh --version`], { timeoutMs: 90000 });
  expect(withAgent.code).not.toBe(0);
  expect(withAgent.output).toMatch(/Address already in use|BindException/);
}

/**
 * A client pod (kcat and Kafka's tools) that outlives broker restarts, admitted
 * to the brokers as a user would admit an application.
 */
function kafkaClient(chart: Chart, kafka: KafkaCluster): StatefulWorkload {
  const client = new StatefulWorkload(chart, 'client', {
    appName: 'kafka-client',
    replicas: 1,
    runAs: { uid: 1000, gid: 1000 },
    resources: Resources.of({ cpuMillis: 100, memory: Size.mebibytes(256) }),
    volumes: [{ name: 'tmp', storage: Storage.ephemeral() }],
    containers: [{
      name: 'client', image: kafka.image, command: ['sleep', 'infinity'],
      // the tools' LOG_DIR (the image's /opt/kafka/logs is read-only here, as under readOnlyRootFilesystem)
      env: { LOG_DIR: kplus.EnvValue.fromValue('/tmp') },
      mounts: [{ volume: 'tmp', path: '/tmp' }],
    }],
  });
  kafka.allowClients(kplus.Pods.select(chart, 'KafkaClients', { labels: client.selectorLabels }));
  return client;
}

/**
 * Runs a Kafka tool in `pod` as `kubectl exec` would, with a small heap and
 * the tools' own logging (warnings to stderr); returns its stdout, or throws
 * with its stderr.
 */
async function kafkaTool(cluster: LocalCluster, pod: string, command: string, timeoutMs = 120000): Promise<string> {
  const script = `err=$(mktemp); if KAFKA_HEAP_OPTS=-Xmx128m KAFKA_LOG4J_OPTS= ${command} 2>"$err"; then rm -f "$err"; else code=$?; cat "$err"; rm -f "$err"; exit "$code"; fi`;
  const r = await cluster.exec(pod, ['bash', '-c', script], { timeoutMs });
  if (r.code !== 0) throw new Error(`in ${pod}: ${command}\nexit ${r.code}: ${r.output}`);
  return r.output;
}

/** Kills the pod's JVM with SIGKILL (a crash, no controlled shutdown): only processes in the pod's own network namespace. */
async function crash(cluster: LocalCluster, pod: string): Promise<void> {
  const out = await cluster.sh(pod, 'me=$(readlink /proc/self/ns/net); n=0; for p in $(pgrep -x java); do if [ "$(readlink "/proc/$p/ns/net" 2>/dev/null)" = "$me" ]; then kill -9 "$p"; n=$((n + 1)); fi; done; echo "killed=$n"');
  expect(out.trim()).toBe('killed=1');
}

interface Quorum { leader: number; voters: number[] }
/** `kafka-metadata-quorum.sh describe --status`, parsed. */
function parseQuorumStatus(text: string): Quorum {
  const leader = Number(/^LeaderId:\s*(-?\d+)/m.exec(text)?.[1] ?? NaN);
  // CurrentVoters: [{"id": 0, "directoryId": ..., "endpoints": [...]}, ...]
  const votersLine = /^CurrentVoters:\s*(.*)$/m.exec(text)?.[1] ?? '';
  const voters = [...votersLine.matchAll(/"id":\s*(\d+)/g)].map((m) => Number(m[1]));
  return { leader, voters: voters.sort((a, b) => a - b) };
}

/** Waits for the quorum to have a leader (other than `not`), through the brokers. */
async function quorumWithLeader(cluster: LocalCluster, pod: string, bootstrap: string, not?: number): Promise<Quorum> {
  return until(not === undefined ? 'a quorum leader' : `a quorum leader other than ${not}`, 120000, async () => {
    const s = parseQuorumStatus(await kafkaTool(cluster, pod, `kafka-metadata-quorum.sh --bootstrap-server ${bootstrap} describe --status`));
    return s.leader >= 0 && s.leader !== not ? s : undefined;
  });
}

interface ReplicationRow { nodeId: number; lag: number; lastCaughtUp: number; status: string }
/** `kafka-metadata-quorum.sh describe --replication`, parsed by its header. */
function parseQuorumReplication(text: string): ReplicationRow[] {
  const lines = text.trim().split('\n').filter((l) => l.trim());
  const headerAt = lines.findIndex((l) => /^NodeId\s/.test(l));
  const header = lines[headerAt].trim().split(/\s+/);
  return lines.slice(headerAt + 1).map((l) => {
    const f = l.trim().split(/\s+/);
    const col = (name: string) => f[header.indexOf(name)];
    return { nodeId: Number(col('NodeId')), lag: Number(col('Lag')), lastCaughtUp: Number(col('LastCaughtUpTimestamp')), status: col('Status') };
  });
}

interface PartitionState { topic: string; partition: number; leader: number; replicas: number[]; isr: number[] }
/** `kafka-topics.sh --describe`, parsed (one line per partition). */
function parsePartitions(text: string): PartitionState[] {
  const re = /Topic:\s*(\S+)\s+Partition:\s*(\d+)\s+Leader:\s*(-?\d+|none)\s+Replicas:\s*([\d,]+)\s+Isr:\s*([\d,]*)/g;
  const ids = (s: string) => (s ? s.split(',').map(Number) : []);
  return [...text.matchAll(re)].map((m) => ({
    topic: m[1], partition: Number(m[2]), leader: m[3] === 'none' ? -1 : Number(m[3]), replicas: ids(m[4]), isr: ids(m[5]),
  }));
}

/** Brokers that answer through the bootstrap servers (`kafka-broker-api-versions.sh`), by id. */
async function registeredBrokers(cluster: LocalCluster, pod: string, bootstrap: string): Promise<number[]> {
  const out = await kafkaTool(cluster, pod, `kafka-broker-api-versions.sh --bootstrap-server ${bootstrap}`);
  return [...out.matchAll(/\(id: (\d+) rack:/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
}

/** Lines 'msg-<tag>-00001'... */
function messages(tag: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `msg-${tag}-${String(i + 1).padStart(5, '0')}`);
}

/** Produces `seq -f` generated lines with kcat and acks=all; `perSecond` paces them. */
function produceScript(bootstrap: string, topic: string, tag: string, n: number, perSecond?: number): string {
  const lines = `seq -f 'msg-${tag}-%05g' 1 ${n}`;
  const paced = perSecond ? `${lines} | while read -r l; do echo "$l"; sleep ${(1 / perSecond).toFixed(3)}; done` : lines;
  return `set -o pipefail; ${paced} | kcat -P -b ${bootstrap} -t ${topic} -X acks=all -X message.timeout.ms=120000 -X enable.idempotence=true`;
}

/** Every message of `topic`, from the beginning (kcat exits at the end of every partition). */
async function consumeAll(cluster: LocalCluster, pod: string, bootstrap: string, topic: string): Promise<string[]> {
  const out = await cluster.sh(pod, `kcat -C -b ${bootstrap} -t ${topic} -o beginning -e -q -f '%s\\n'`);
  return out.split('\n').filter((l) => l.startsWith('msg-'));
}

async function createTopic(cluster: LocalCluster, pod: string, bootstrap: string, topic: string): Promise<void> {
  await kafkaTool(cluster, pod, `kafka-topics.sh --bootstrap-server ${bootstrap} --create --topic ${topic} --partitions 3 --replication-factor 3 --config min.insync.replicas=2`);
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
const METRICS_PORT = 9404;

describe('the Kafka jars the e2e runs', () => {
  test('each pom pins the release of its default image', () => {
    // GIVEN the jars scripts/kafka/fetch.sh keeps THEN their versions are the default images' tags
    expect(jars.kraft.version).toBe(imageTag(KafkaCluster.DEFAULT_IMAGE));
    expect(jars['zookeeper-mode'].version).toBe(imageTag(KafkaCluster.ZOOKEEPER_MODE_DEFAULT_IMAGE));
    for (const k of [jars.kraft, jars['zookeeper-mode']]) {
      expect(fs.readdirSync(k.libs)).toEqual(expect.arrayContaining([`kafka_2.13-${k.version}.jar`, `kafka-tools-${k.version}.jar`, `kafka-clients-${k.version}.jar`]));
    }
    // AND the JMX exporter's agent, alone: a shaded jar
    expect(fs.readdirSync(jars['jmx-exporter'].libs)).toEqual([`jmx_prometheus_javaagent-${jars['jmx-exporter'].version}.jar`]);
  });

  (haveShellcheck() ? test : test.skip)('the fetch script and the Kafka stand-ins pass shellcheck', () => {
    const fetch = path.join(__dirname, '..', '..', 'scripts', 'kafka', 'fetch.sh');
    const scripts = [
      { where: 'scripts/kafka/fetch.sh', text: fs.readFileSync(fetch, 'utf-8') },
      ...[jars.kraft, jars['zookeeper-mode']].flatMap((k) => kafkaImage(k).binaries.map((b) => ({ where: `${k.version}/${b.name}`, text: `#!/bin/bash\n${b.script}\n` }))),
    ];
    for (const s of scripts) expect({ where: s.where, problems: shellcheck({ where: s.where, shell: 'bash', text: s.text }) }).toEqual({ where: s.where, problems: [] });
  });
});

describeWithNamespaces('KafkaCluster (KRaft, combined controllers) on real Kafka brokers', () => {
  const chart = new Chart(Testing.app(), 'e2e', { namespace: 'streaming' });
  const kafka = new KafkaCluster(chart, 'kafka', { brokers: 3, storage: STORAGE, resources: BROKER_RESOURCES, monitoring: {} });
  const client = kafkaClient(chart, kafka);
  const objects = Testing.synth(chart);
  const pods = [0, 1, 2].map((i) => kafka.workload.podName(i));
  const cli = client.podName(0);
  const boot = kafka.bootstrapServers;
  const topic = 'e2e-acks';
  const produced: string[] = [];
  let cluster: LocalCluster;
  const partitions = async () => parsePartitions(await kafkaTool(cluster, cli, `kafka-topics.sh --bootstrap-server ${boot} --describe --topic ${topic}`));
  const underReplicated = async () => parsePartitions(await kafkaTool(cluster, cli, `kafka-topics.sh --bootstrap-server ${boot} --describe --under-replicated-partitions`))
    .map((p) => `${p.topic}-${p.partition} isr [${p.isr}]`);
  beforeAll(async () => {
    cluster = new LocalCluster(objects, clusterOptions(jars.kraft));
    console.log(`substitutions (Kafka ${jars.kraft.version}, KRaft):\n${cluster.table()}`);
    const start = Date.now();
    // Parallel, as rendered: with OrderedReady the first broker would wait for a quorum of
    // brokers that are never started (it exits after initial.broker.registration.timeout.ms)
    await cluster.startStatefulSet(kafka.workload.name);
    console.log(`KRaft combined: 3 brokers Ready in ${seconds(start)}`);
    await cluster.startStatefulSet(client.name);
  }, 600000);
  afterAll(async () => {
    await cluster?.destroy();
  }, 120000);

  test('the quorum forms: three voters (the brokers 0..2) and a leader among them', async () => {
    const q = await quorumWithLeader(cluster, cli, boot);
    console.log(`KRaft combined quorum: voters ${q.voters.join(',')}, leader ${q.leader}`);
    expect(q.voters).toEqual([0, 1, 2]);
    expect(q.voters).toContain(q.leader);
    expect(await registeredBrokers(cluster, cli, boot)).toEqual([0, 1, 2]);
  }, 180000);

  test('the brokers log to stdout only: LOG_DIR stays empty (no GC or log4j files) and the container log has the startup', async () => {
    for (const p of pods) {
      expect({ pod: p, logDir: (await cluster.sh(p, 'ls -A "$LOG_DIR"')).trim() }).toEqual({ pod: p, logDir: '' });
      expect(cluster.logs(p, 100000)).toMatch(/Kafka Server started/);
    }
  });

  test('a topic with 3 replicas and min.insync.replicas 2 takes 1000 acks=all messages and gives every one back', async () => {
    await createTopic(cluster, cli, boot, topic);
    const sent = messages('a', 1000);
    const start = Date.now();
    await cluster.sh(cli, produceScript(boot, topic, 'a', 1000));
    produced.push(...sent);
    const got = await consumeAll(cluster, cli, boot, topic);
    console.log(`acks=all: produced ${sent.length}, consumed ${got.length} (${new Set(got).size} distinct) in ${seconds(start)}`);
    expect(got).toHaveLength(sent.length);
    expect([...got].sort()).toEqual(sent);
  }, 180000);

  test('monitoring: every broker serves the series the alerts read, healthy: nothing under-replicated or offline, one active controller among the voters', async () => {
    const fqdns = [0, 1, 2].map((i) => kafka.podFqdn(i));
    await expectHealthyMetrics(cluster, cli, objects, pods, fqdns, { pods, fqdns });
  }, 120000);

  test('monitoring: the readiness probe\'s kafka-topics.sh runs without the agent while the broker\'s agent holds its port', async () => {
    await expectToolsWithoutAgent(cluster, objects, pods[1], kafka.workload.name);
  }, 180000);

  test('a broker crash: acks=all producers go on, the ISR shrinks to 2, and the broker back on a new address rejoins every ISR', async () => {
    // GIVEN every partition in sync on all three brokers; the victim leads partition 0
    const before = await until('every partition in sync on 3 brokers', 120000, async () => {
      const p = await partitions();
      return p.length === 3 && p.every((x) => x.isr.length === 3) ? p : undefined;
    });
    const victim = before.find((p) => p.partition === 0)!.leader;
    const oldIp = cluster.ipOf(pods[victim]);

    // WHEN it crashes while a producer writes with acks=all
    const producing = cluster.exec(cli, ['bash', '-c', produceScript(boot, topic, 'crash', 300, 20)], { timeoutMs: 240000 });
    await new Promise((r) => setTimeout(r, 3000));
    const crashedAt = Date.now();
    await crash(cluster, pods[victim]);

    // THEN the ISR shrinks to the two survivors and new leaders take over
    const shrunk = await until('the ISRs to drop the crashed broker', 120000, async () => {
      const p = await partitions();
      return p.every((x) => x.isr.length === 2 && !x.isr.includes(victim) && x.leader !== victim && x.leader >= 0) ? p : undefined;
    });
    console.log(`broker ${victim} crashed: ISRs ${shrunk.map((p) => `${p.partition}:[${p.isr}]`).join(' ')} after ${seconds(crashedAt)}`);
    // AND the producer that ran through the crash delivered everything
    const r = await producing;
    expect({ code: r.code, what: 'kcat producer across the crash' }).toEqual({ code: 0, what: 'kcat producer across the crash' });
    produced.push(...messages('crash', 300));
    // AND with 2 of 3 replicas in sync, acks=all writes are still accepted
    const degraded = Date.now();
    await cluster.sh(cli, produceScript(boot, topic, 'degraded', 100));
    produced.push(...messages('degraded', 100));
    console.log(`acks=all with broker ${victim} down: 300 messages across the crash and 100 more in ${seconds(degraded)} delivered`);

    // WHEN the broker comes back on a new address
    await cluster.stopPod(pods[victim]);
    const restartAt = Date.now();
    await cluster.startPod(kafka.workload.name, victim, { newAddress: true });
    expect(cluster.ipOf(pods[victim])).not.toBe(oldIp);
    // THEN it rejoins every ISR
    const healed = await until('the restarted broker to rejoin every ISR', 180000, async () => {
      const p = await partitions();
      return p.every((x) => x.isr.length === 3) ? p : undefined;
    });
    console.log(`broker ${victim} back at ${cluster.ipOf(pods[victim])} (was ${oldIp}): every ISR has 3 replicas ${seconds(restartAt)} after its restart (${healed.map((p) => `${p.partition}:[${p.isr}]`).join(' ')})`);
    const got = await consumeAll(cluster, cli, boot, topic);
    expect([...got].sort()).toEqual([...produced].sort());
  }, 600000);

  test('a rolling restart paced by the readiness probe never takes a broker down while a partition is under-replicated', async () => {
    // GIVEN a producer writing 20 messages a second with acks=all throughout
    const producing = cluster.exec(cli, ['bash', '-c', produceScript(boot, topic, 'roll', 1200, 20)], { timeoutMs: 540000 });
    const start = Date.now();
    const under: { before: number; partitions: string[] }[] = [];
    // WHEN each broker, from the highest ordinal down, is stopped and started, and the next
    // one goes down as soon as the harness (running the rendered probes) says it is Ready
    for (const i of [2, 1, 0]) {
      const urp = await underReplicated();
      under.push({ before: i, partitions: urp });
      console.log(`rolling restart: before stopping ${pods[i]} (${seconds(start)}): ${urp.length} under-replicated partitions ${urp.join('; ')}`);
      const t = Date.now();
      await cluster.stopPod(pods[i]);
      await cluster.startPod(kafka.workload.name, i);
      console.log(`rolling restart: ${pods[i]} stopped and Ready again in ${seconds(t)}`);
    }
    // THEN no broker went down while a partition was under-replicated
    expect(under).toEqual([2, 1, 0].map((i) => ({ before: i, partitions: [] })));
    // AND every write of the producer is there
    const r = await producing;
    expect({ code: r.code, what: 'kcat producer across the rolling restart' }).toEqual({ code: 0, what: 'kcat producer across the rolling restart' });
    produced.push(...messages('roll', 1200));
    const got = await consumeAll(cluster, cli, boot, topic);
    console.log(`rolling restart: ${got.length} messages on the topic, ${produced.length} produced`);
    expect([...got].sort()).toEqual([...produced].sort());
  }, 900000);

  test('the same check catches a probe that says Ready before the broker serves', async () => {
    // GIVEN probes that pass at once (as a port bound at JVM start would)
    const brokerSet = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === kafka.workload.name);
    const container = brokerSet.spec.template.spec.containers[0];
    const rendered = { startupProbe: container.startupProbe, readinessProbe: container.readinessProbe, livenessProbe: container.livenessProbe };
    const always = { exec: { command: ['true'] } };
    Object.assign(container, { startupProbe: always, readinessProbe: always, livenessProbe: always });
    try {
      // WHEN a broker is restarted
      await cluster.stopPod(pods[2]);
      await cluster.startPod(kafka.workload.name, 2);
    } finally {
      Object.assign(container, rendered);
    }
    // THEN at the moment the next broker would go down, partitions are under-replicated
    const urp = await underReplicated();
    console.log(`rolling restart with always-Ready probes: ${urp.length} under-replicated partitions when the next broker would stop (${urp.join('; ')})`);
    expect(urp.length).toBeGreaterThan(0);
    await until('the restarted broker to rejoin every ISR', 180000, async () => ((await underReplicated()).length === 0 ? true : undefined));
  }, 300000);
});

describeWithNamespaces('KafkaCluster (KRaft, dedicated controllers) on real Kafka brokers', () => {
  const chart = new Chart(Testing.app(), 'e2e', { namespace: 'streaming' });
  const kafka = new KafkaCluster(chart, 'kafka', {
    brokers: 3, storage: STORAGE, resources: BROKER_RESOURCES,
    controllerMode: KafkaControllerMode.DEDICATED, controllerStorage: STORAGE,
    controllerResources: Resources.of({ cpuMillis: 250, memory: Size.mebibytes(512) }),
    monitoring: {},
  });
  const client = kafkaClient(chart, kafka);
  const objects = Testing.synth(chart);
  const controllers = kafka.controllerWorkload!;
  const cli = client.podName(0);
  const boot = kafka.bootstrapServers;
  let cluster: LocalCluster;

  beforeAll(async () => {
    cluster = new LocalCluster(objects, clusterOptions(jars.kraft));
    const start = Date.now();
    await cluster.startStatefulSet(controllers.name);
    await cluster.startStatefulSet(kafka.workload.name);
    console.log(`KRaft dedicated: 3 controllers and 3 brokers Ready in ${seconds(start)}`);
    await cluster.startStatefulSet(client.name);
  }, 600000);
  afterAll(async () => {
    await cluster?.destroy();
  }, 120000);

  test('the controllers form the quorum (voters 1000..1002 and a leader) and the brokers register with it', async () => {
    const q = await quorumWithLeader(cluster, cli, boot);
    const brokers = await registeredBrokers(cluster, cli, boot);
    console.log(`KRaft dedicated quorum: voters ${q.voters.join(',')}, leader ${q.leader}; brokers registered: ${brokers.join(',')}`);
    expect(q.voters).toEqual([1000, 1001, 1002]);
    expect(q.voters).toContain(q.leader);
    expect(brokers).toEqual([0, 1, 2]);
  }, 180000);

  test('monitoring: brokers and controllers serve the series of their alerts, healthy: one active controller among the controllers', async () => {
    const ctl = [0, 1, 2].map((i) => controllers.podName(i));
    await expectHealthyMetrics(cluster, cli, objects, [0, 1, 2].map((i) => kafka.podName(i)), [0, 1, 2].map((i) => kafka.podFqdn(i)),
      { pods: ctl, fqdns: [0, 1, 2].map((i) => controllers.podFqdn(i)) });
  }, 120000);

  test('when the leading controller crashes another takes over, topics can still be created, and it rejoins as a caught-up voter', async () => {
    // GIVEN the quorum and its leader
    const q = await quorumWithLeader(cluster, cli, boot);
    const lostPod = controllers.podName(q.leader - 1000);
    // WHEN the leader crashes
    const crashedAt = Date.now();
    await crash(cluster, lostPod);
    // THEN another voter leads and metadata changes still commit
    const next = await quorumWithLeader(cluster, cli, boot, q.leader);
    console.log(`controller ${q.leader} crashed: ${next.leader} leads after ${seconds(crashedAt)}`);
    expect(next.voters).toEqual([1000, 1001, 1002]);
    await createTopic(cluster, cli, boot, 'e2e-after-controller-loss');
    const described = parsePartitions(await kafkaTool(cluster, cli, `kafka-topics.sh --bootstrap-server ${boot} --describe --topic e2e-after-controller-loss`));
    expect(described.map((p) => p.replicas.length)).toEqual([3, 3, 3]);

    // WHEN it comes back
    await cluster.stopPod(lostPod);
    const restartAt = Date.now();
    await cluster.startPod(controllers.name, q.leader - 1000);
    // THEN it is a voter again that has caught up with the leader since its restart
    const row = await until('the restarted controller to catch up', 120000, async () => {
      const rows = parseQuorumReplication(await kafkaTool(cluster, cli, `kafka-metadata-quorum.sh --bootstrap-server ${boot} describe --replication`));
      const r = rows.find((x) => x.nodeId === q.leader);
      return r && r.lag === 0 && r.lastCaughtUp >= restartAt && /Leader|Follower/.test(r.status) ? r : undefined;
    });
    console.log(`controller ${q.leader} rejoined as ${row.status} with lag ${row.lag} ${seconds(restartAt)} after its restart`);
    expect(row.status).toMatch(/Leader|Follower/);
  }, 400000);
});

describeWithNamespaces('KafkaCluster on ZooKeeper (Kafka 3.9) on real brokers and a real ensemble', () => {
  const chart = new Chart(Testing.app(), 'e2e', { namespace: 'streaming' });
  const zk = new ZooKeeperEnsemble(chart, 'zk', { storage: STORAGE, resources: Resources.of({ cpuMillis: 100, memory: Size.mebibytes(256) }) });
  const kafka = new KafkaCluster(chart, 'kafka', { brokers: 3, zookeeper: zk, storage: STORAGE, resources: BROKER_RESOURCES, monitoring: {} });
  const client = kafkaClient(chart, kafka);
  const objects = Testing.synth(chart);
  const cli = client.podName(0);
  const boot = kafka.bootstrapServers;
  let cluster: LocalCluster;

  beforeAll(async () => {
    cluster = new LocalCluster(objects, clusterOptions(jars['zookeeper-mode'], ZOOKEEPER_IMAGE));
    console.log(`substitutions (Kafka ${jars['zookeeper-mode'].version} on ZooKeeper):\n${cluster.table()}`);
    const start = Date.now();
    await cluster.startStatefulSet(zk.workload.name);
    // a broker gives up after zookeeper.connection.timeout.ms (18 s) without a serving ensemble, and
    // ZooKeeper's readiness (ruok) does not wait for a quorum: the kubelet would restart the broker
    // until the ensemble serves; the harness restarts no container, so the test waits for a leader
    await until('a ZooKeeper leader', 60000, async () => {
      const modes = await Promise.all([0, 1, 2].map((i) => cluster.sh(zk.workload.podName(i), `exec 3<>/dev/tcp/${zk.podFqdn(i)}/2181; printf srvr >&3; cat <&3`)));
      return modes.some((m) => /Mode: leader/.test(m)) ? true : undefined;
    });
    await cluster.startStatefulSet(kafka.workload.name);
    console.log(`ZooKeeper mode: 3 ZooKeeper members and 3 brokers Ready in ${seconds(start)}`);
    await cluster.startStatefulSet(client.name);
  }, 600000);
  afterAll(async () => {
    await cluster?.destroy();
  }, 120000);

  test('the brokers register in ZooKeeper as ids 0..2 and answer as one cluster', async () => {
    const ids = await until('three broker ids in ZooKeeper', 120000, async () => {
      const out = await cluster.sh(zk.workload.podName(0), `zkCli.sh -server ${zk.podFqdn(0)}:2181 ls /brokers/ids`);
      const m = /^\[([\d, ]*)\]$/m.exec(out);
      return m && m[1].split(',').length === 3 ? m[1].split(',').map((x) => Number(x.trim())).sort() : undefined;
    });
    console.log(`ZooKeeper /brokers/ids: [${ids.join(', ')}]`);
    expect(ids).toEqual([0, 1, 2]);
    expect(await registeredBrokers(cluster, cli, boot)).toEqual([0, 1, 2]);
  }, 180000);

  test('a topic with 3 replicas takes 200 acks=all messages and gives every one back', async () => {
    await createTopic(cluster, cli, boot, 'e2e-zk');
    const p = parsePartitions(await kafkaTool(cluster, cli, `kafka-topics.sh --bootstrap-server ${boot} --describe --topic e2e-zk`));
    expect(p.map((x) => x.replicas.length)).toEqual([3, 3, 3]);
    await cluster.sh(cli, produceScript(boot, 'e2e-zk', 'zk', 200));
    const got = await consumeAll(cluster, cli, boot, 'e2e-zk');
    console.log(`ZooKeeper mode: produced 200, consumed ${got.length}`);
    expect([...got].sort()).toEqual(messages('zk', 200));
  }, 180000);

  test('monitoring: every broker serves the series the alerts read, healthy: one active controller among the brokers', async () => {
    const pods = [0, 1, 2].map((i) => kafka.podName(i));
    const fqdns = [0, 1, 2].map((i) => kafka.podFqdn(i));
    await expectHealthyMetrics(cluster, cli, objects, pods, fqdns, { pods, fqdns });
  }, 120000);
});
