// The checks the CLI runs inside pods, run here under bash: every one passes
// shellcheck, and each reads its tool's documented output correctly, against
// the recording stand-ins of ./standins.ts (Kafka, MySQL 8.4 syntax, and the
// Redis and PostgreSQL edge cases) and of ../mongodb/standins.ts (mongosh).
// Real ZooKeeper, Redis, MariaDB and PostgreSQL run them in
// test/e2e/cli-gates.test.ts.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { kafka, kafkaStrandedScript, kafkaUnderReplicatedScript } from '../../src/cli/systems/kafka';
import { mongo, mongoMembersScript, mongoMemberScript } from '../../src/cli/systems/mongodb';
import { mySql, mySqlMemberScript } from '../../src/cli/systems/mysql';
import { postgres, postgresDropSlotsScript, postgresMemberScript } from '../../src/cli/systems/postgres';
import { redis, redisMemberScript } from '../../src/cli/systems/redis';
import { Check, CheckResult, keyValues, System } from '../../src/cli/systems/system';
import { judgeQuorum, zooKeeper, zooKeeperMemberScript } from '../../src/cli/systems/zookeeper';
import { ClusterState, StandIns as MongoStandIns } from '../mongodb/standins';
import { haveShellcheck, shellcheck } from '../support/shellcheck';
import { kafkaDescribe, redisCluster, StandIns } from './standins';

let standIns: StandIns;
beforeEach(() => { standIns = new StandIns(); });
afterEach(() => standIns.cleanup());

/** Runs `check` as kubectl exec would: `bash -c script pod args...`, with HOSTNAME the pod. */
function run(check: Check, pod: string, env: { [k: string]: string } = standIns.env()): CheckResult {
  // stdin not a socket: bash would take itself for an rsh session and read ~/.bashrc
  const r = spawnSync('bash', ['-c', check.script, pod, ...(check.args ?? [])], { encoding: 'utf-8', env: { ...env, HOSTNAME: pod }, timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return {
    pod, ordinal: Number(pod.slice(pod.lastIndexOf('-') + 1)), check: check.name, ok: r.status === 0,
    stdout: r.stdout, values: keyValues(r.stdout), output: [r.stdout.trim(), r.stderr.trim()].filter(Boolean).join('\n'),
  };
}

const result = (pod: string, values: { [k: string]: string }, ok = true): CheckResult =>
  ({ pod, ordinal: Number(pod.slice(-1)), check: 'c', ok, stdout: '', values, output: '' });

(haveShellcheck() ? test : test.skip)('every check script passes shellcheck', () => {
  const scripts: [string, string][] = [
    ['zookeeper member', zooKeeperMemberScript()], ['kafka under-replicated', kafkaUnderReplicatedScript()], ['kafka stranded', kafkaStrandedScript()],
    ['redis member', redisMemberScript()], ['mysql member', mySqlMemberScript()], ['postgres member', postgresMemberScript()],
    ['postgres drop slots', postgresDropSlotsScript()], ['mongodb member', mongoMemberScript()], ['mongodb members', mongoMembersScript()],
  ];
  const findings = scripts.flatMap(([where, text]) => shellcheck({ where, shell: 'bash', text }));
  expect(findings).toEqual([]);
  for (const [where, text] of scripts) expect({ where, strict: text.startsWith('set -euo pipefail\n') }).toEqual({ where, strict: true });
});

describe('Kafka', () => {
  const system = kafka('broker', 9092);
  const env = () => ({ ...standIns.env(), KAFKA_HOME: '/nonexistent/kafka', KAFKA_HEAP_OPTS: '-Xms2g -Xmx2g', KAFKA_OPTS: '-javaagent:/opt/jmx.jar=9404:/etc/jmx.yaml' });

  test('under-replicated partitions: none passes; any fails, printing them; the tool runs with a small heap and without the broker\'s agent', () => {
    // GIVEN a cluster whose partitions are all in sync
    standIns.kafka(kafkaDescribe({ orders: [[0, 1, 2], [1, 2, 0]] }), '');
    // WHEN the cluster check runs in a broker
    const ok = run(system.cluster!, 'kafka-0', env());
    // THEN it passes and says so
    expect(ok.output).toBe('under_replicated=0');
    expect(ok.ok).toBe(true);
    const call = standIns.calls('kafka-topics.sh')[0];
    expect(call.argv).toEqual(['--bootstrap-server', 'localhost:9092', '--describe', '--under-replicated-partitions']);
    expect({ heap: call.heap, opts: call.opts, jmx: call.jmx }).toEqual({ heap: '-Xmx256m', opts: null, jmx: null });
    // WHEN two partitions lag
    const urp = '\tTopic: orders\tPartition: 0\tLeader: 0\tReplicas: 0,1,2\tIsr: 0,1\tElr: \tLastKnownElr: \n\tTopic: orders\tPartition: 1\tLeader: 1\tReplicas: 1,2,0\tIsr: 1,0\tElr: \tLastKnownElr: \n';
    standIns.kafka(kafkaDescribe({ orders: [[0, 1, 2], [1, 2, 0]] }), urp);
    const bad = run(system.cluster!, 'kafka-0', env());
    // THEN it fails, with the count and the partition lines
    expect(bad.ok).toBe(false);
    expect(bad.values.under_replicated).toBe('2');
    expect(bad.output).toContain('2 under-replicated partition(s):');
    expect(bad.output).toContain('Partition: 1\tLeader: 1\tReplicas: 1,2,0\tIsr: 1,0');
  });

  test('partitions on removed brokers: every partition with a replica on an id >= the kept count, by topic and partition', () => {
    // GIVEN 5 brokers, scaling to 3: ids 3 and 4 go
    standIns.kafka(kafkaDescribe({
      orders: [[0, 1, 2], [3, 0, 1], [1, 4, 3]],
      'audit.log': [[2, 0, 1]],
      'big_topic-2': [[4, 2, 0]],
    }), '');
    const check = { name: 'stranded', script: kafkaStrandedScript(), args: ['9092', '3'] };
    const r = run(check, 'kafka-0', env());
    expect(r.ok).toBe(true);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('stranded='))).toEqual([
      'stranded=orders-1 replicas 3,0,1 (on removed broker 3)',
      'stranded=orders-2 replicas 1,4,3 (on removed broker 4,3)',
      'stranded=big_topic-2-0 replicas 4,2,0 (on removed broker 4)',
    ]);
    expect(r.values.checked).toBe('5');
    // AND with every replica on brokers that stay, nothing is stranded
    const keepAll = run({ ...check, args: ['9092', '5'] }, 'kafka-0', env());
    expect(keepAll.stdout.split('\n').filter((l) => l.startsWith('stranded='))).toEqual([]);
  });
});

describe('Redis Cluster', () => {
  test('a node reports its role, id, slot count and link; cluster_state other than ok fails with the counts', () => {
    redisCluster(standIns, 'cache', 3);
    standIns.redis('cache-1', { role: 'master', id: 'a'.repeat(40), slots: ['0-99', '200', '300-399', '[400->-bbbbbbbb]'], state: 'ok' });
    const system = redis(6379);
    const master = run(system.member!, 'cache-1');
    expect(master.ok).toBe(true);
    expect(master.values).toEqual({ role: 'master', id: 'a'.repeat(40), slots: String(100 + 1 + 100), cluster_state: 'ok' });
    const replica = run(system.member!, 'cache-4');
    expect(replica.values).toMatchObject({ role: 'slave', slots: '0', link: 'up' });
    expect(system.role!(replica)).toBe('replica');
    expect(system.lag!(replica)).toBe('link up');
    standIns.redis('cache-2', { role: 'master', id: 'c'.repeat(40), slots: ['10923-16383'], state: 'fail' });
    const failing = run(system.member!, 'cache-2');
    expect(failing.ok).toBe(false);
    expect(failing.output).toContain('cluster_state:fail (cluster_slots_ok:10923 cluster_slots_pfail:0 cluster_slots_fail:5461 cluster_known_nodes:6 cluster_size:3');
  });
});

describe('MySQL 8.4 and MariaDB', () => {
  const replica84 = { Replica_IO_State: 'Waiting for source to send event', Source_Host: 'db-0.db-headless', Replica_IO_Running: 'Yes', Replica_SQL_Running: 'Yes', Seconds_Behind_Source: '3', Last_IO_Error: '', Last_SQL_Error: '' };

  test('MySQL 8.4 columns: a replica with both threads running passes with its source and lag; the primary is the writable member that replicates from nothing', () => {
    standIns.mysql('db-1', { replica: replica84, readOnly: 1 });
    standIns.mysql('db-0', { readOnly: 0 });
    const system = mySql('mysql');
    const r = run(system.member!, 'db-1');
    expect(r.ok).toBe(true);
    expect(r.values).toEqual({ role: 'replica', source: 'db-0.db-headless', lag: '3' });
    expect(system.lag!(r)).toBe('3s');
    const p = run(system.member!, 'db-0');
    expect(p.ok).toBe(true);
    expect(p.values).toEqual({ role: 'primary' });
    // the option file start.sh writes, as the client's first option (it must be)
    expect(standIns.calls('mysql').map((c) => [c.defaults, c.sql])).toEqual([
      ['--defaults-extra-file=/var/run/mysqld/client.cnf', 'SHOW REPLICA STATUS'],
      ['--defaults-extra-file=/var/run/mysqld/client.cnf', 'SHOW REPLICA STATUS'],
      ['--defaults-extra-file=/var/run/mysqld/client.cnf', 'SELECT @@global.read_only'],
    ]);
  });

  test('a stopped SQL thread fails with both threads and the error; a read-only member that replicates from nothing fails', () => {
    standIns.mysql('db-2', { replica: { ...replica84, Replica_SQL_Running: 'No', Seconds_Behind_Source: 'NULL', Last_SQL_Error: "Error 'Duplicate entry '10' for key 'orders.PRIMARY'' on query" }, readOnly: 1 });
    const r = run(mySql('mysql').member!, 'db-2');
    expect(r.ok).toBe(false);
    expect(r.output).toContain('replication is not running: IO thread Yes, SQL thread No');
    expect(r.output).toContain("Last_SQL_Error: Error 'Duplicate entry '10' for key 'orders.PRIMARY'' on query");
    expect(mySql('mysql').lag!(r)).toBe('unknown');
    standIns.mysql('db-0', { readOnly: 1 });
    const orphan = run(mySql('mysql').member!, 'db-0');
    expect(orphan.ok).toBe(false);
    expect(orphan.output).toContain('replicates from nothing, yet read_only=1');
  });

  test('the MariaDB flavor runs mariadb in the mariadb container', () => {
    const m = mySql('mariadb');
    expect([m.container, m.member!.args, m.title]).toEqual(['mariadb', ['mariadb'], 'MariaDB']);
    expect([mySql('mysql').container, mySql('mysql').member!.args]).toEqual(['mysql', ['mysql']]);
  });

  test('exactly one primary: none or two is a finding', () => {
    const judge = mySql('mysql').judge!;
    expect(judge([result('db-0', { role: 'primary' }), result('db-1', { role: 'replica' })])).toEqual([]);
    expect(judge([result('db-0', { role: 'replica' }), result('db-1', { role: 'replica' })])[0].detail).toBe('no member is the primary (db-0=replica, db-1=replica)');
    expect(judge([result('db-0', { role: 'primary' }), result('db-1', { role: 'primary' })])[0].detail).toBe('2 members are primary: db-0, db-1 (db-0=primary, db-1=primary)');
  });
});

describe('PostgreSQL', () => {
  test('the primary lists its streaming standbys; a standby reports its lag; a standby without a streaming receiver fails', () => {
    standIns.postgres('pg-0', { recovery: false, streaming: ['pg-2', 'pg-1'] });
    standIns.postgres('pg-1', { recovery: true, receiver: 'streaming', lagBytes: 8192 });
    standIns.postgres('pg-2', { recovery: true, receiver: '' });
    const system = postgres();
    const [p, s1, s2] = ['pg-0', 'pg-1', 'pg-2'].map((pod) => run(system.member!, pod));
    expect([p.ok, p.values]).toEqual([true, { role: 'primary', streaming: 'pg-1,pg-2' }]);
    expect([s1.ok, s1.values, system.lag!(s1)]).toEqual([true, { role: 'standby', lag_bytes: '8192' }, '8192 bytes']);
    expect(s2.ok).toBe(false);
    expect(s2.output).toContain('in recovery, but its WAL receiver is not running: not streaming from the primary');
    expect(standIns.calls('psql').every((c) => c.passfile === '/var/run/postgresql/pgpass' && c.argv.join(' ').startsWith('-X -A -t -q -w -h /var/run/postgresql -p 5432 -U postgres'))).toBe(true);
  });

  test('a standby the primary does not list as streaming is a finding', () => {
    const judge = postgres().judge!;
    const primary = result('pg-0', { role: 'primary', streaming: 'pg-1' });
    expect(judge([primary, result('pg-1', { role: 'standby' })])).toEqual([]);
    expect(judge([primary, result('pg-1', { role: 'standby' }), result('pg-2', { role: 'standby' })])).toEqual([
      { pod: 'pg-2', check: postgres().member!.name, detail: 'the primary pg-0 does not list pg-2 among its streaming standbys (pg_stat_replication: pg-1)' },
    ]);
  });

  test('dropping slots: inactive slots of removed ordinals go, active ones are reported, others stay; refused on a standby', () => {
    standIns.postgres('pg-0', { recovery: false, slots: { standby_1: true, standby_2: false, standby_3: true, standby_10: false, other: false } });
    const drop = { name: 'drop', script: postgresDropSlotsScript(), args: ['2'] };
    const r = run(drop, 'pg-0');
    expect(r.ok).toBe(true);
    expect(r.stdout.trim().split('\n')).toEqual(['dropped=standby_10', 'dropped=standby_2', 'active=standby_3']);
    expect(standIns.postgresState('pg-0').slots).toEqual({ standby_1: true, standby_3: true, other: false });
    standIns.postgres('pg-1', { recovery: true, receiver: 'streaming', slots: {} });
    const standby = run(drop, 'pg-1');
    expect(standby.ok).toBe(false);
    expect(standby.output).toContain('pg-1 is in recovery: slots are dropped on the primary');
  });
});

describe('ZooKeeper', () => {
  test('one leader among followers passes; none, two, or a member in another mode is a finding', () => {
    const check = zooKeeper(2181).member!.name;
    const z = (roles: string[]) => roles.map((r, i) => result(`zk-${i}`, { role: r }));
    expect(judgeQuorum(z(['follower', 'leader', 'follower']), check)).toEqual([]);
    expect(judgeQuorum(z(['standalone']), check)).toEqual([]);
    expect(judgeQuorum(z(['follower', 'follower', 'follower']), check).map((f) => f.detail)).toEqual(['no member is the leader (zk-0=follower, zk-1=follower, zk-2=follower)']);
    expect(judgeQuorum(z(['leader', 'leader', 'follower']), check).map((f) => f.detail)).toEqual(['2 members claim to lead: zk-0, zk-1 (zk-0=leader, zk-1=leader, zk-2=follower)']);
    expect(judgeQuorum(z(['leader', 'standalone', 'follower']), check)).toEqual([
      { pod: 'zk-1', check, detail: "mode 'standalone' is not leader, follower or observer (zk-0=leader, zk-1=standalone, zk-2=follower)" },
    ]);
  });
});

describe('MongoDB', () => {
  const H = (i: number) => `mongo-${i}.mongo-headless.data.svc.cluster.local:27017`;
  let mongoStandIns: MongoStandIns;
  afterEach(() => mongoStandIns?.cleanup());

  /** A set of `n` members whose 127.0.0.1 is `self`'s. */
  function replicaSet(n: number, self: number, primary = H(0)): ClusterState {
    return {
      replSetName: 'rs0', rootPassword: 'pw',
      members: { ...Object.fromEntries(Array.from({ length: n }, (_, i) => [H(i), {}])), '127.0.0.1:27017': { alias: H(self) } },
      config: { _id: 'rs0', version: 1, members: Array.from({ length: n }, (_, i) => ({ _id: i, host: H(i) })) },
      primary, users: { root: { pwd: 'pw', roles: [] } },
    };
  }
  const env = (s: MongoStandIns) => ({
    PATH: `${path.join(s.dir, 'bin')}:/usr/bin:/bin`, STANDIN_STATE: path.join(s.dir, 'state.json'), STANDIN_LOG: path.join(s.dir, 'calls.jsonl'),
    MONGO_ROOT_PASSWORD: 'pw',
  });
  const system: System = mongo(27017);

  test('hello says PRIMARY or SECONDARY, without credentials; a member in initial sync fails', () => {
    mongoStandIns = new MongoStandIns(replicaSet(3, 1));
    const r = run(system.member!, 'mongo-1', env(mongoStandIns));
    expect(r.ok).toBe(true);
    expect(r.values).toEqual({ role: 'SECONDARY', set: 'rs0', primary: H(0), arbiters: '' });
    expect(mongoStandIns.calls('mongosh').flatMap((c) => c.ops)).toEqual(['hello']);
    mongoStandIns.cleanup();
    const syncing = replicaSet(3, 2);
    syncing.members['127.0.0.1:27017'] = { alias: H(2), syncing: true };
    mongoStandIns = new MongoStandIns(syncing);
    const s = run(system.member!, 'mongo-2', env(mongoStandIns));
    expect(s.ok).toBe(false);
    expect(s.values.role).toBe('OTHER');
    expect(s.output).toContain('neither primary, secondary nor arbiter');
  });

  test('one PRIMARY, the others SECONDARY or ARBITER, all seeing the same primary', () => {
    const judge = system.judge!;
    const m = (pod: string, role: string, primary = H(0)) => result(pod, { role, primary });
    expect(judge([m('mongo-0', 'PRIMARY'), m('mongo-1', 'SECONDARY'), m('mongo-2', 'ARBITER')])).toEqual([]);
    expect(judge([m('mongo-0', 'SECONDARY'), m('mongo-1', 'SECONDARY')]).map((f) => f.detail)).toEqual(['no member is the PRIMARY (mongo-0=SECONDARY, mongo-1=SECONDARY)']);
    expect(judge([m('mongo-0', 'PRIMARY'), m('mongo-1', 'SECONDARY', H(1))]).map((f) => f.detail))
      .toEqual([`members disagree about the primary: mongo-0 sees ${H(0)}, mongo-1 sees ${H(1)}`]);
  });

  test('members are removed and added on the primary, as root with the password from the env, hosts named like the others', () => {
    // GIVEN 3 members, mongo-1 primary; the script runs in mongo-0
    mongoStandIns = new MongoStandIns(replicaSet(3, 0, H(1)));
    const remove = run({ name: 'rm', script: mongoMembersScript(), args: ['27017', 'REMOVE', 'mongo-2'] }, 'mongo-0', env(mongoStandIns));
    expect(remove.ok).toBe(true);
    expect(remove.stdout.trim().split('\n')).toEqual([`primary=${H(1)}`, `removed=${H(2)}`]);
    expect(mongoStandIns.state().config!.members.map((m) => m.host)).toEqual([H(0), H(1)]);
    const last = mongoStandIns.calls('mongosh').pop()!;
    expect([last.host, last.ops]).toEqual([H(1), ['auth root', `remove ${H(2)}`]]);
    expect(last.argv.join(' ')).not.toContain('pw');
    // WHEN two pods come back
    const add = run({ name: 'add', script: mongoMembersScript(), args: ['27017', 'ADD', 'mongo-2', 'mongo-3', 'mongo-1'] }, 'mongo-0', env(mongoStandIns));
    expect(add.ok).toBe(true);
    expect(add.stdout.trim().split('\n')).toEqual([`primary=${H(1)}`, `added=${H(2)}`, `added=${H(3)}`]);
    expect(mongoStandIns.state().config!.members.map((m) => m.host)).toEqual([H(0), H(1), H(2), H(3)]);
  });

  test('without a primary, nothing is removed', () => {
    const state = replicaSet(3, 0);
    state.electionPolls = 100;
    mongoStandIns = new MongoStandIns(state);
    const r = run({ name: 'rm', script: mongoMembersScript(), args: ['27017', 'REMOVE', 'mongo-2'] }, 'mongo-0', env(mongoStandIns));
    expect(r.ok).toBe(false);
    expect(r.output).toContain('the replica set has no primary: members are added and removed on the primary');
    expect(mongoStandIns.state().config!.members).toHaveLength(3);
  });
});
