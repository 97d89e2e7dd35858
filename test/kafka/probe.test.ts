import { spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { KAFKA_PROBE_ANSWER_SECONDS, renderKafkaProbeScript } from '../../src/kafka/config';
import { haveShellcheck, shellcheck } from '../support/shellcheck';

// kafka-probe.sh executed with bash against stand-in Kafka listeners on
// 127.0.0.1 and a stand-in kafka-topics.sh, as the kubelet runs it in a pod.

const API_VERSIONS = 18;
const CLIENT_ID = 'cdk8s-probe';

/** A request as the Kafka protocol frames it: int32 size, then the header (RequestHeader v1) and body. */
interface Request {
  readonly size: number;
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string;
  /** Bytes after the client id: ApiVersions v0 has an empty body. */
  readonly body: Buffer;
}

function parseRequest(frame: Buffer): Request {
  const clientIdLength = frame.readInt16BE(12);
  return {
    size: frame.readInt32BE(0),
    apiKey: frame.readInt16BE(4),
    apiVersion: frame.readInt16BE(6),
    correlationId: frame.readInt32BE(8),
    clientId: frame.subarray(14, 14 + clientIdLength).toString('latin1'),
    body: frame.subarray(14 + clientIdLength),
  };
}

/** An ApiVersions v0 response: int32 size, int32 correlation_id, int16 error_code, [int16 api_key, int16 min, int16 max]. */
function apiVersionsResponse(correlationId: number, errorCode: number): Buffer {
  // enough API keys that the size has a byte above 0x7f, as a real broker's (~60 keys) has
  const keys = Array.from({ length: 30 }, (_, key) => [key, 0, 9]);
  const body = Buffer.alloc(4 + 2 + 4 + keys.length * 6);
  body.writeInt32BE(correlationId, 0);
  body.writeInt16BE(errorCode, 4);
  body.writeInt32BE(keys.length, 6);
  keys.forEach(([key, min, max], i) => {
    body.writeInt16BE(key, 10 + i * 6);
    body.writeInt16BE(min, 12 + i * 6);
    body.writeInt16BE(max, 14 + i * 6);
  });
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

/** A listener on 127.0.0.1 that records each complete request frame and answers `answer(request)` (undefined: never). */
interface StandIn {
  readonly port: number;
  readonly requests: Request[];
  close(): Promise<void>;
}

async function standIn(answer: (r: Request) => Buffer | undefined): Promise<StandIn> {
  const requests: Request[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let received = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4 || received.length < 4 + received.readInt32BE(0)) return;
      const request = parseRequest(received);
      requests.push(request);
      const reply = answer(request);
      if (reply) socket.write(reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A partition line exactly as Kafka's TopicCommand.PartitionDescription prints it (3.9 and 4.x). */
function partitionLine(p: { topic: string; partition: number; leader: number | 'none'; replicas: number[]; isr: number[]; adding?: number[] }): string {
  const reassignment = p.adding ? `\tAdding Replicas: ${p.adding.join(',')}\tRemoving Replicas: ` : '';
  return `\tTopic: ${p.topic}\tPartition: ${p.partition}\tLeader: ${p.leader}\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}${reassignment}\tElr: \tLastKnownElr: `;
}

/** The topic line that precedes a topic's partitions. */
function topicLine(topic: string, partitions: number): string {
  return `Topic: ${topic}\tTopicId: 3HwzH0rNQ3yHf0Plm_kF3g\tPartitionCount: ${partitions}\tReplicationFactor: 3\tConfigs: min.insync.replicas=2`;
}

interface ProbeRun {
  readonly code: number | null;
  readonly out: string;
  readonly ms: number;
  /** The probe's PID: its `$$`, which it sends as the correlation id. */
  readonly pid: number;
  /** One line per stand-in kafka-topics.sh call: its arguments, KAFKA_HEAP_OPTS and KAFKA_LOG4J_OPTS. */
  readonly toolCalls: string[];
  readonly markerExists: boolean;
}

interface ProbeOptions {
  readonly port: number;
  readonly mode: string;
  readonly hostname?: string;
  /** Brokers: what the stand-in kafka-topics.sh prints (its exit code is `toolExit`). */
  readonly describe?: string;
  readonly toolExit?: number;
  /** Create the caught-up marker first. */
  readonly caughtUp?: boolean;
  /** Render the script of a dedicated controller (no in-sync check). */
  readonly controller?: boolean;
}

/** Runs kafka-probe.sh with bash, asynchronously (the stand-in listener lives in this process). */
async function runProbe(o: ProbeOptions): Promise<ProbeRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-probe-'));
  try {
    const marker = path.join(dir, 'run', 'caught-up');
    fs.mkdirSync(path.dirname(marker));
    if (o.caughtUp) fs.writeFileSync(marker, '');
    const bin = path.join(dir, 'kafka', 'bin');
    fs.mkdirSync(bin, { recursive: true });
    const calls = path.join(dir, 'calls');
    fs.writeFileSync(path.join(dir, 'describe.txt'), o.describe ?? '');
    fs.writeFileSync(path.join(bin, 'kafka-topics.sh'), [
      '#!/bin/bash',
      `echo "$* heap=\${KAFKA_HEAP_OPTS:-} log4j=\${KAFKA_LOG4J_OPTS:-}" >> '${calls}'`,
      `cat '${path.join(dir, 'describe.txt')}'`,
      `exit ${o.toolExit ?? 0}`,
      '',
    ].join('\n'), { mode: 0o755 });
    const script = path.join(dir, 'kafka-probe.sh');
    fs.writeFileSync(script, renderKafkaProbeScript({ port: o.port, caughtUpMarker: o.controller ? undefined : marker }));
    const started = Date.now();
    const child = spawn('bash', [script, o.mode], {
      env: {
        PATH: process.env.PATH,
        HOSTNAME: o.hostname ?? 'streaming-kafka-1',
        KAFKA_HOME: path.join(dir, 'kafka'),
        // the container's settings, which are the broker's and must not reach the tool
        KAFKA_HEAP_OPTS: '-Xms1024m -Xmx1024m',
        KAFKA_LOG4J_OPTS: '-Dlog4j2.configurationFile=/etc/kafka/cdk8s/log4j2.yaml',
      },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    return {
      code,
      out,
      ms: Date.now() - started,
      pid: child.pid!,
      toolCalls: fs.existsSync(calls) ? fs.readFileSync(calls, 'utf-8').trim().split('\n') : [],
      markerExists: fs.existsSync(marker),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A listener that answers like a broker that serves requests. */
const serving = () => standIn((r) => apiVersionsResponse(r.correlationId, 0));

describe('kafka-probe.sh', () => {
  jest.setTimeout(60000);

  (haveShellcheck() ? test : test.skip)('the broker and controller scripts pass shellcheck', () => {
    for (const caughtUpMarker of ['/var/run/kafka/caught-up', undefined]) {
      const where = `kafka-probe.sh (${caughtUpMarker ? 'broker' : 'controller'})`;
      expect({ where, problems: shellcheck({ where, shell: 'bash', text: renderKafkaProbeScript({ port: 9092, caughtUpMarker }) }) })
        .toEqual({ where, problems: [] });
    }
  });

  describe('live: an ApiVersions round-trip with the pod\'s own listener', () => {
    test('sends exactly one ApiVersions v0 request and passes on a matching answer with error code 0', async () => {
      // GIVEN a listener that answers as a serving broker
      const kafka = await serving();
      try {
        // WHEN the probe runs
        const r = await runProbe({ port: kafka.port, mode: 'live' });
        // THEN it passed, after sending the request the protocol defines: header v1, empty v0 body
        expect({ code: r.code, out: r.out }).toEqual({ code: 0, out: '' });
        expect(kafka.requests).toEqual([{
          size: 2 + 2 + 4 + 2 + CLIENT_ID.length,
          apiKey: API_VERSIONS,
          apiVersion: 0,
          correlationId: r.pid,
          clientId: CLIENT_ID,
          body: Buffer.alloc(0),
        }]);
      } finally {
        await kafka.close();
      }
    });

    test('fails within its own deadline when the listener accepts but never answers (Kafka still starting)', async () => {
      // GIVEN a bound port whose owner does not handle requests yet
      const kafka = await standIn(() => undefined);
      try {
        // WHEN
        const r = await runProbe({ port: kafka.port, mode: 'live' });
        // THEN it failed after about its deadline, well inside the kubelet's timeout
        expect(r.code).toBe(1);
        expect(r.out).toContain(`no complete ApiVersions response from 127.0.0.1:${kafka.port} within ${KAFKA_PROBE_ANSWER_SECONDS} s`);
        expect(r.ms).toBeGreaterThanOrEqual((KAFKA_PROBE_ANSWER_SECONDS - 1) * 1000);
        expect(r.ms).toBeLessThan((KAFKA_PROBE_ANSWER_SECONDS + 2) * 1000);
        expect(kafka.requests).toHaveLength(1);
      } finally {
        await kafka.close();
      }
    });

    test('fails on an answer to another request (wrong correlation id)', async () => {
      const kafka = await standIn((r) => apiVersionsResponse(r.correlationId + 1, 0));
      try {
        const r = await runProbe({ port: kafka.port, mode: 'live' });
        expect(r.code).toBe(1);
        expect(r.out).toContain(`ApiVersions response carries correlation id ${r.pid + 1}, expected ${r.pid}`);
      } finally {
        await kafka.close();
      }
    });

    test('fails on an error code (35, UNSUPPORTED_VERSION)', async () => {
      const kafka = await standIn((r) => apiVersionsResponse(r.correlationId, 35));
      try {
        const r = await runProbe({ port: kafka.port, mode: 'live' });
        expect(r.code).toBe(1);
        expect(r.out).toContain('ApiVersions failed with error code 35');
      } finally {
        await kafka.close();
      }
    });

    test('fails at once on a closed port', async () => {
      const port = await closedPort();
      const r = await runProbe({ port, mode: 'live' });
      expect(r.code).toBe(1);
      expect(r.out).toContain(`cannot connect to 127.0.0.1:${port}`);
      expect(r.ms).toBeLessThan(KAFKA_PROBE_ANSWER_SECONDS * 1000);
    });

    test('never runs the JVM tool, and neither do unknown modes', async () => {
      const kafka = await serving();
      try {
        const lagging = partitionLine({ topic: 't', partition: 0, leader: 0, replicas: [0, 1], isr: [0] });
        expect((await runProbe({ port: kafka.port, mode: 'live', describe: lagging })).toolCalls).toEqual([]);
        const unknown = await runProbe({ port: kafka.port, mode: 'alive', describe: lagging });
        expect(unknown.code).toBe(2);
        expect(unknown.toolCalls).toEqual([]);
      } finally {
        await kafka.close();
      }
    });
  });

  describe('ready: a broker is Ready once it is back in the ISRs', () => {
    let kafka: StandIn;
    beforeAll(async () => {
      kafka = await serving();
    });
    afterAll(async () => {
      await kafka.close();
    });

    const ready = (describe: string, more: Partial<ProbeOptions> = {}) => runProbe({ port: kafka.port, mode: 'ready', describe, ...more });

    test('passes when every partition of this broker lists it in sync; runs kafka-topics.sh with its own heap and logging', async () => {
      // GIVEN broker 1 in the ISR of each of its partitions (and not a replica of t-2)
      const describe = [
        topicLine('orders', 3),
        partitionLine({ topic: 'orders', partition: 0, leader: 1, replicas: [1, 2, 0], isr: [1, 0, 2] }),
        partitionLine({ topic: 'orders', partition: 1, leader: 2, replicas: [2, 0, 1], isr: [2, 1] }),
        partitionLine({ topic: 'orders', partition: 2, leader: 0, replicas: [0, 2], isr: [0] }),
        '',
      ].join('\n');
      // WHEN
      const r = await ready(describe);
      // THEN
      expect({ code: r.code, out: r.out }).toEqual({ code: 0, out: '' });
      expect(r.toolCalls).toEqual([`--bootstrap-server 127.0.0.1:${kafka.port} --describe heap=-Xms32m -Xmx128m log4j=`]);
      expect(r.markerExists).toBe(true);
    });

    test('fails while this broker is missing from the ISR of a partition whose leader is live', async () => {
      const describe = [
        topicLine('orders', 2),
        partitionLine({ topic: 'orders', partition: 0, leader: 2, replicas: [1, 2, 0], isr: [1, 2, 0] }),
        partitionLine({ topic: 'orders', partition: 1, leader: 2, replicas: [2, 0, 1], isr: [2, 0] }),
        topicLine('__consumer_offsets', 1),
        partitionLine({ topic: '__consumer_offsets', partition: 7, leader: 0, replicas: [0, 1, 2], isr: [0, 2] }),
      ].join('\n');
      const r = await ready(describe);
      expect(r.code).toBe(1);
      expect(r.out).toContain('broker 1 is not yet in the ISR of 2 partition(s) with a live leader, e.g. orders-1 __consumer_offsets-7');
      expect(r.markerExists).toBe(false);
    });

    test('ignores partitions without a leader ("none", or -1): there is no one to catch up with', async () => {
      const describe = [
        partitionLine({ topic: 'orders', partition: 0, leader: 'none', replicas: [1, 2], isr: [2] }),
        partitionLine({ topic: 'orders', partition: 1, leader: -1, replicas: [1, 2], isr: [2] }),
      ].join('\n');
      expect((await ready(describe)).code).toBe(0);
    });

    test('ignores another broker missing from an ISR', async () => {
      const describe = partitionLine({ topic: 'orders', partition: 0, leader: 1, replicas: [1, 2, 0], isr: [1, 0] });
      expect((await ready(describe)).code).toBe(0);
    });

    test('ignores a partition this broker is being added to by a reassignment, which may take hours', async () => {
      const describe = partitionLine({ topic: 'orders', partition: 0, leader: 2, replicas: [2, 0, 1], isr: [2, 0], adding: [1] });
      expect((await ready(describe)).code).toBe(0);
    });

    test('takes the broker id from the pod\'s hostname, whole: broker 10 is not broker 1 or 0', async () => {
      // GIVEN partitions where broker 1 (and 0) lag but broker 10 is in sync
      const describe = partitionLine({ topic: 'orders', partition: 0, leader: 10, replicas: [10, 1, 0], isr: [10] });
      // THEN pod kafka-10 passes and pod kafka-1 does not
      expect((await ready(describe, { hostname: 'streaming-kafka-10' })).code).toBe(0);
      expect((await ready(describe, { hostname: 'streaming-kafka-1' })).code).toBe(1);
      const lagging10 = partitionLine({ topic: 'orders', partition: 0, leader: 1, replicas: [10, 1, 0], isr: [1, 0] });
      expect((await ready(lagging10, { hostname: 'streaming-kafka-10' })).out).toContain('broker 10 is not yet in the ISR of 1 partition(s)');
    });

    test('after it passed once, only the round-trip runs until the broker restarts', async () => {
      const lagging = partitionLine({ topic: 'orders', partition: 0, leader: 2, replicas: [1, 2], isr: [2] });
      const r = await ready(lagging, { caughtUp: true });
      expect(r.code).toBe(0);
      expect(r.toolCalls).toEqual([]);
    });

    test('fails when kafka-topics.sh fails, and without running it when the broker does not answer', async () => {
      const failed = await ready('', { toolExit: 1 });
      expect(failed.code).toBe(1);
      expect(failed.out).toContain('kafka-topics.sh --describe failed');
      const port = await closedPort();
      const down = await runProbe({ port, mode: 'ready', describe: '' });
      expect(down.code).toBe(1);
      expect(down.toolCalls).toEqual([]);
    });

    test('a dedicated controller\'s ready is the round-trip alone (it holds no partitions)', async () => {
      const lagging = partitionLine({ topic: 'orders', partition: 0, leader: 2, replicas: [1, 2], isr: [2] });
      const r = await ready(lagging, { controller: true });
      expect(r.code).toBe(0);
      expect(r.toolCalls).toEqual([]);
      expect(kafka.requests.length).toBeGreaterThan(0);
    });
  });
});
