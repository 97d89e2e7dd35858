// Recording stand-ins for the tools the CLI's checks call inside pods:
// redis-cli, kafka-topics.sh, psql and mysql. They answer from a scripted
// state per pod (by HOSTNAME, which is the pod's name in a container and in
// the control plane's exec) with the output formats the tools document, and
// append every call to calls.jsonl:
//
// - redis-cli: CLUSTER INFO is `field:value` lines with CRLF, cluster_state
//   ok or fail (https://redis.io/docs/latest/commands/cluster-info/); CLUSTER
//   NODES is one line per node, `<id> <ip:port@cport[,hostname]> <flags>
//   <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot>...`,
//   the node itself flagged `myself` (https://redis.io/docs/latest/commands/cluster-nodes/);
//   ROLE's first element is master or slave (https://redis.io/docs/latest/commands/role/);
//   INFO replication has master_link_status on a replica (https://redis.io/docs/latest/commands/info/).
//   redis-cli prints a bulk reply as is and an array reply one element per line.
// - kafka-topics.sh --describe: a line per topic, then one per partition,
//   tab-separated `Topic: t  Partition: 0  Leader: 1  Replicas: 1,2,0  Isr: 1,2,0`;
//   --under-replicated-partitions prints only the partition lines whose ISR is
//   short (https://kafka.apache.org/documentation/#basic_ops_add_topic and
//   the tool's --help; Kafka 3.7+ adds `Elr:` and `LastKnownElr:` fields).
// - psql -A -t: unaligned, tuples only, one row per line, `t`/`f` for
//   booleans (https://www.postgresql.org/docs/15/app-psql.html); the views and
//   functions as in https://www.postgresql.org/docs/15/monitoring-stats.html
//   (pg_stat_replication, pg_stat_wal_receiver) and
//   https://www.postgresql.org/docs/15/functions-admin.html (pg_drop_replication_slot
//   fails on an active slot).
// - mysql -E: SHOW REPLICA STATUS vertically, `  Column: value`; MySQL 8.4
//   names the columns Replica_IO_Running, Replica_SQL_Running,
//   Seconds_Behind_Source, Source_Host (https://dev.mysql.com/doc/refman/8.4/en/show-replica-status.html);
//   nothing at all on a server that is not a replica.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** One Redis node as the stand-in serves it. */
export interface RedisNode {
  readonly role: 'master' | 'slave';
  readonly id: string;
  /** Slot ranges (`0-5460`), none for a replica. */
  readonly slots: string[];
  readonly state: 'ok' | 'fail';
  /** A replica's master_link_status. */
  readonly link?: 'up' | 'down';
}

/** One PostgreSQL member. */
export interface PostgresMember {
  readonly recovery: boolean;
  /** On the primary: application_name of each streaming standby. */
  readonly streaming?: string[];
  /** On a standby: pg_stat_wal_receiver.status, or '' for no receiver. */
  readonly receiver?: string;
  readonly lagBytes?: number;
  /** On the primary: physical slots and whether in use. */
  readonly slots?: { [name: string]: boolean };
}

/** One MySQL member: SHOW REPLICA STATUS columns (none: not a replica) and read_only. */
export interface MySqlMember {
  readonly replica?: { [column: string]: string };
  readonly readOnly: number;
}

const COMMON = String.raw`
const fs = require('fs');
const path = require('path');
const dir = process.env.STANDIN_DIR;
const pod = process.env.HOSTNAME;
const argv = process.argv.slice(2);
const stateFile = (tool) => path.join(dir, 'state', tool, pod + '.json');
const load = (tool) => JSON.parse(fs.readFileSync(stateFile(tool), 'utf-8'));
const save = (tool, s) => fs.writeFileSync(stateFile(tool), JSON.stringify(s));
const record = (tool, extra) => fs.appendFileSync(path.join(dir, 'calls.jsonl'), JSON.stringify({ tool, pod, argv, ...extra }) + '\n');
`;

const REDIS_CLI = String.raw`
const n = load('redis');
record('redis-cli', { auth: process.env.REDISCLI_AUTH !== undefined });
const words = argv.map((a) => a.toLowerCase()).join(' ');
const out = (text) => process.stdout.write(text);
if (words === 'cluster info') {
  out(['cluster_state:' + n.state, 'cluster_slots_assigned:16384', 'cluster_slots_ok:' + (n.state === 'ok' ? 16384 : 10923),
    'cluster_slots_pfail:0', 'cluster_slots_fail:' + (n.state === 'ok' ? 0 : 5461), 'cluster_known_nodes:6', 'cluster_size:3', ''].join('\r\n') + '\n');
} else if (words === 'role') {
  out(n.role === 'master' ? 'master\n3021\n' : 'slave\n10.0.0.1\n6379\nconnected\n3021\n');
} else if (words === 'cluster nodes') {
  const flags = 'myself,' + n.role;
  out(n.id + ' 10.0.0.9:6379@16379,' + pod + ' ' + flags + ' ' + (n.role === 'master' ? '-' : 'f'.repeat(40)) + ' 0 0 1 connected ' + n.slots.join(' ') + '\n'
    + 'e'.repeat(40) + ' 10.0.0.8:6379@16379 master - 0 1700000000000 2 connected\n');
} else if (words === 'info replication') {
  out('# Replication\r\nrole:' + n.role + '\r\n' + (n.role === 'slave' ? 'master_link_status:' + n.link + '\r\n' : 'connected_slaves:1\r\n'));
} else {
  process.stderr.write('redis-cli stand-in: unsupported ' + argv.join(' ') + '\n');
  process.exit(2);
}
`;

const PSQL = String.raw`
const s = load('postgres');
const sql = argv[argv.indexOf('-c') + 1];
record('psql', { sql, passfile: process.env.PGPASSFILE });
const rows = (r) => { if (r.length) process.stdout.write(r.join('\n') + '\n'); };
if (/pg_drop_replication_slot\('([a-z_0-9]+)'\)/.test(sql)) {
  const slot = /pg_drop_replication_slot\('([a-z_0-9]+)'\)/.exec(sql)[1];
  if (!(slot in s.slots)) { process.stderr.write('ERROR:  replication slot "' + slot + '" does not exist\n'); process.exit(1); }
  if (s.slots[slot]) { process.stderr.write('ERROR:  replication slot "' + slot + '" is active for PID 4242\n'); process.exit(1); }
  delete s.slots[slot];
  save('postgres', s);
  rows(['']);
} else if (/FROM pg_replication_slots/.test(sql)) {
  const keep = Number(/>= (\d+)/.exec(sql)[1]);
  rows(Object.entries(s.slots).filter(([n]) => /^standby_\d+$/.test(n) && Number(n.slice(8)) >= keep).sort().map(([n, a]) => n + ' ' + (a ? 't' : 'f')));
} else if (/^SELECT pg_is_in_recovery\(\)$/.test(sql)) {
  rows([s.recovery ? 't' : 'f']);
} else if (/FROM pg_stat_replication/.test(sql)) {
  rows([(s.streaming || []).slice().sort().join(',')]);
} else if (/pg_last_wal_replay_lsn/.test(sql)) {
  rows([String(s.lagBytes || 0)]);
} else if (/FROM pg_stat_wal_receiver/.test(sql)) {
  rows(s.receiver ? [s.receiver] : []);
} else {
  process.stderr.write('psql stand-in: unsupported query ' + sql + '\n');
  process.exit(2);
}
`;

const MYSQL = String.raw`
const m = load('mysql');
const sql = argv[argv.indexOf('-e') + 1];
record('mysql', { sql, defaults: argv[0] });
if (sql === 'SHOW REPLICA STATUS') {
  if (m.replica) process.stdout.write('*************************** 1. row ***************************\n'
    + Object.entries(m.replica).map(([k, v]) => k.padStart(30) + ': ' + v).join('\n') + '\n');
} else if (sql === 'SELECT @@global.read_only') {
  process.stdout.write(m.readOnly + '\n');
} else {
  process.stderr.write('mysql stand-in: unsupported ' + sql + '\n');
  process.exit(2);
}
`;

const KAFKA_TOPICS = String.raw`
const under = argv.includes('--under-replicated-partitions');
record('kafka-topics.sh', { heap: process.env.KAFKA_HEAP_OPTS, opts: process.env.KAFKA_OPTS ?? null, jmx: process.env.JMX_PORT ?? null });
const file = path.join(dir, 'state', 'kafka', under ? 'under-replicated' : 'describe');
process.stdout.write(fs.existsSync(file) ? fs.readFileSync(file, 'utf-8') : '');
`;

/** A directory of stand-ins: `bin/` for PATH, per-pod state, and the log of calls. */
export class StandIns {
  public readonly dir: string;
  public readonly bin: string;

  public constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-standins-'));
    fs.chmodSync(this.dir, 0o755);
    this.bin = path.join(this.dir, 'bin');
    fs.mkdirSync(this.bin);
    for (const tool of ['redis', 'postgres', 'mysql', 'kafka']) fs.mkdirSync(path.join(this.dir, 'state', tool), { recursive: true });
    for (const [name, body] of [['redis-cli', REDIS_CLI], ['psql', PSQL], ['mysql', MYSQL], ['kafka-topics.sh', KAFKA_TOPICS]]) {
      fs.writeFileSync(path.join(this.bin, name), `#!${process.execPath}\n${COMMON}\n${body}`, { mode: 0o755 });
    }
    fs.writeFileSync(path.join(this.dir, 'calls.jsonl'), '');
  }

  /** The env a command needs to find them: PATH first, STANDIN_DIR. */
  public env(): { [name: string]: string } {
    return { PATH: `${this.bin}:/usr/bin:/bin`, STANDIN_DIR: this.dir };
  }

  public redis(pod: string, node: RedisNode): void {
    fs.writeFileSync(path.join(this.dir, 'state', 'redis', `${pod}.json`), JSON.stringify(node));
  }

  public postgres(pod: string, member: PostgresMember): void {
    fs.writeFileSync(path.join(this.dir, 'state', 'postgres', `${pod}.json`), JSON.stringify(member));
  }

  public postgresState(pod: string): PostgresMember {
    return JSON.parse(fs.readFileSync(path.join(this.dir, 'state', 'postgres', `${pod}.json`), 'utf-8'));
  }

  public mysql(pod: string, member: MySqlMember): void {
    fs.writeFileSync(path.join(this.dir, 'state', 'mysql', `${pod}.json`), JSON.stringify(member));
  }

  /** What `kafka-topics.sh --describe` prints, and with --under-replicated-partitions. */
  public kafka(describe: string, underReplicated: string): void {
    fs.writeFileSync(path.join(this.dir, 'state', 'kafka', 'describe'), describe);
    fs.writeFileSync(path.join(this.dir, 'state', 'kafka', 'under-replicated'), underReplicated);
  }

  /** Every call so far (of `tool`), in order. */
  public calls(tool?: string): { tool: string; pod: string; argv: string[]; [k: string]: unknown }[] {
    return fs.readFileSync(path.join(this.dir, 'calls.jsonl'), 'utf-8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
      .filter((c) => tool === undefined || c.tool === tool);
  }

  public clearCalls(): void {
    fs.writeFileSync(path.join(this.dir, 'calls.jsonl'), '');
  }

  public cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A Redis Cluster of `masters` masters (ordinals 0..) and one replica each, all ok. */
export function redisCluster(s: StandIns, name: string, masters: number): void {
  const size = Math.floor(16384 / masters);
  for (let i = 0; i < masters * 2; i++) {
    const master = i < masters;
    const first = i * size;
    const last = i === masters - 1 ? 16383 : first + size - 1;
    s.redis(`${name}-${i}`, {
      role: master ? 'master' : 'slave', id: String(i).repeat(40).slice(0, 40),
      slots: master ? [`${first}-${last}`] : [], state: 'ok', ...(master ? {} : { link: 'up' as const }),
    });
  }
}

/** `kafka-topics.sh --describe` of topics given as { topic: [replicas of partition 0, of 1, ...] }. */
export function kafkaDescribe(topics: { [topic: string]: number[][] }): string {
  return Object.entries(topics).map(([t, parts]) =>
    `Topic: ${t}\tTopicId: AAAAAAAAAAAAAAAAAAAAAA\tPartitionCount: ${parts.length}\tReplicationFactor: ${parts[0].length}\tConfigs: min.insync.replicas=2\n`
    + parts.map((r, i) => `\tTopic: ${t}\tPartition: ${i}\tLeader: ${r[0]}\tReplicas: ${r.join(',')}\tIsr: ${r.join(',')}\tElr: \tLastKnownElr: \n`).join('')).join('');
}
