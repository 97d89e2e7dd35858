import { haveShellcheck, shellcheck } from '../support/shellcheck';
import {
  confQuote, renderMemberFiles, renderPgHba, renderPostgresqlConf, renderProbeScript, renderSlotsScript, renderStartScript,
  PostgresqlConfSettings, StartSettings,
} from '../../src/postgres/config';

const CONF: PostgresqlConfSettings = {
  maxConnections: 150,
  sharedBuffersMebibytes: 512,
  effectiveCacheSizeMebibytes: 1536,
  workMemKibibytes: 8192,
  maintenanceWorkMemMebibytes: 128,
  maxWalSenders: 20,
  maxReplicationSlots: 10,
  maxSlotWalKeepSizeMebibytes: 5120,
  extra: {},
};
const START: StartSettings = {
  primaryHost: 'pg-0.pg-headless.shop.svc.cluster.local',
  users: [{ name: 'app', passwordKey: 'app-password' }],
  databases: [{ name: 'shop', owner: 'app' }, { name: 'audit', owner: 'postgres' }],
  monitorUser: true,
};

function lines(text: string): string[] {
  return text.split('\n');
}

describe('postgresql.conf', () => {
  test('renders every tuned size, the replication settings and the shared paths', () => {
    const conf = renderPostgresqlConf(CONF);
    expect(lines(conf)).toEqual(expect.arrayContaining([
      "listen_addresses = '*'",
      'port = 5432',
      "unix_socket_directories = '/var/run/postgresql'",
      "hba_file = '/opt/cdk8s/postgres/pg_hba.conf'",
      "password_encryption = 'scram-sha-256'",
      'max_connections = 150',
      'shared_buffers = 512MB',
      'effective_cache_size = 1536MB',
      'work_mem = 8192kB',
      'maintenance_work_mem = 128MB',
      "wal_level = 'replica'",
      'max_wal_senders = 20',
      'max_replication_slots = 10',
      'max_slot_wal_keep_size = 5120MB',
      'hot_standby = on',
      "synchronous_standby_names = ''",
    ]));
    // settings removed from PostgreSQL that the seed manifests used are never rendered
    const settings = lines(conf).filter((l) => !l.startsWith('#')).join('\n');
    expect(settings).not.toMatch(/wal_keep_segments|standby_mode|recovery\.conf|primary_conninfo|primary_slot_name/);
  });

  test('quorum commit renders synchronous_standby_names and synchronous_commit', () => {
    const conf = renderPostgresqlConf({ ...CONF, synchronousStandbyNames: 'ANY 1 (*)' });
    expect(lines(conf)).toEqual(expect.arrayContaining(["synchronous_standby_names = 'ANY 1 (*)'", "synchronous_commit = 'on'"]));
    expect(conf).not.toContain("synchronous_standby_names = ''");
  });

  test('free-form parameters are rendered quoted, quotes and backslashes escaped', () => {
    const conf = renderPostgresqlConf({ ...CONF, extra: { log_min_duration_statement: '250ms', search_path: "\"$user\", public's" } });
    expect(conf).toContain("log_min_duration_statement = '250ms'\n");
    expect(conf).toContain(`search_path = '"$user", public''s'\n`);
    expect(confQuote('a\\b')).toBe("'a\\\\b'");
  });
});

describe('pg_hba.conf', () => {
  test('SCRAM only; the superuser is rejected over the network; replication only for the replication user', () => {
    const rules = lines(renderPgHba()).filter((l) => l && !l.startsWith('#')).map((l) => l.split(/\s+/));
    expect(rules).toEqual([
      ['local', 'all', 'all', 'scram-sha-256'],
      ['host', 'all', 'postgres', '0.0.0.0/0', 'reject'],
      ['host', 'all', 'postgres', '::/0', 'reject'],
      ['host', 'replication', 'replicator', '0.0.0.0/0', 'scram-sha-256'],
      ['host', 'replication', 'replicator', '::/0', 'scram-sha-256'],
      ['host', 'all', 'all', '0.0.0.0/0', 'scram-sha-256'],
      ['host', 'all', 'all', '::/0', 'scram-sha-256'],
    ]);
    expect(rules.some((r) => ['trust', 'md5', 'password'].includes(r[r.length - 1]))).toBe(false);
  });
});

describe('start.sh', () => {
  const script = renderStartScript(START);

  test('initializes the primary with SCRAM, the Secret\'s passwords read by psql, users, owned databases and the monitor role', () => {
    expect(script).toContain('initdb -D "$pgdata" --username=postgres --pwfile=/var/run/secrets/postgres/postgres-password --auth=scram-sha-256');
    expect(script).toContain('\\set repl_pw `cat /var/run/secrets/postgres/replication-password`\nCREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :\'repl_pw\';');
    expect(script).toContain('\\set user0_pw `cat /var/run/secrets/postgres/app-password`\nCREATE ROLE "app" WITH LOGIN PASSWORD :\'user0_pw\';');
    expect(script).toContain('CREATE DATABASE "shop" OWNER "app";\nCREATE DATABASE "audit" OWNER "postgres";');
    expect(script).toContain('GRANT pg_monitor TO monitor;');
    // the SQL is a quoted here-document: bash expands nothing in it
    expect(script).toContain("<<'SQL'");
    // the temporary server never waits for synchronous standbys that do not exist yet
    // the temporary init server listens on no address and on a socket of its own, which the probes do not use
    expect(script).toContain(`-c listen_addresses='' -c unix_socket_directories="$init_socket" -c synchronous_standby_names=''`);
    expect(script).toContain('init_socket=/var/run/postgresql/init\n');
  });

  test('without monitoring there is no monitor role', () => {
    expect(renderStartScript({ ...START, monitorUser: false })).not.toContain('monitor');
  });

  test('bootstraps a standby with pg_basebackup -R -X stream over the slot of its ordinal, without a prompt, replacing a stale slot', () => {
    expect(script).toContain('slot="standby_${ordinal}"');
    expect(script).toContain('primary=pg-0.pg-headless.shop.svc.cluster.local');
    expect(script).toContain('-c "DROP_REPLICATION_SLOT $slot"');
    expect(script).toMatch(/pg_basebackup -D "\$pgdata" -h "\$primary" -p 5432 -U replicator -w \\\n\s+-R -X stream -C -S "\$slot"/);
    expect(script).not.toMatch(/pg_basebackup[^\n]* -W/);
    // the password -R wrote into postgresql.auto.conf is removed, and so is a restore's recovery target
    expect(script).toMatch(/pg_basebackup[^]*sed -i -E '\/\^\(primary_conninfo\|restore_command\|recovery_target\[a-z_\]\*\)\[\[:space:\]\]\*=\/d' "\$pgdata\/postgresql.auto.conf"\n\}/);
  });

  test('a standby always starts as a standby, its conninfo names a passfile (never a password) and its slot', () => {
    expect(script).toContain('touch "$pgdata/standby.signal"');
    expect(script).toContain('conninfo="host=$primary port=5432 user=replicator passfile=/var/run/postgresql/pgpass application_name=$host connect_timeout=10 keepalives_idle=30"');
    expect(script).toContain('exec postgres -D "$pgdata" -c config_file="$conf" -c primary_conninfo="$conninfo" -c primary_slot_name="$slot"');
    expect(script).not.toMatch(/password=/);
  });

  test('an interrupted initialization is started over', () => {
    expect(script).toContain('pending=/var/lib/postgresql/data/.cdk8s-initializing');
    expect(script).toMatch(/if \[\[ -e "\$pending" \]\]; then\n[^\n]*\n  rm -rf "\$pgdata"/);
  });

  test('rejects identifiers it cannot quote safely', () => {
    expect(() => renderStartScript({ ...START, users: [{ name: 'a"b', passwordKey: 'x' }] })).toThrow(/invalid SQL identifier/);
  });
});

describe('probe.sh and slots.sh', () => {
  test('readiness checks the role: primary not in recovery, standby in recovery with a streaming WAL receiver', () => {
    const probe = renderProbeScript();
    expect(probe).toContain('[[ "$(query "SELECT NOT pg_is_in_recovery()")" == t ]]');
    expect(probe).toContain("SELECT pg_is_in_recovery() AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')");
    expect(probe).toContain('exec pg_isready -q -h /var/run/postgresql -p 5432');
  });

  test('the reconciler drops only inactive standby slots of ordinals >= replicas, on the member not in recovery', () => {
    const slots = renderSlotsScript({ replicas: 2, intervalSeconds: 10 });
    expect(slots).toContain('replicas=2');
    expect(slots).toContain("WHERE slot_type = 'physical' AND NOT active AND slot_name ~ '^standby_[0-9]+$' AND substr(slot_name, 9)::int >= $replicas");
    expect(slots).toContain('[[ "$(query "SELECT pg_is_in_recovery()")" == f ]] || return 0');
    expect(slots).toContain('sleep 10 &');
  });

  (haveShellcheck() ? test : test.skip)('every script passes shellcheck', () => {
    const files = renderMemberFiles(CONF, START, { replicas: 3, intervalSeconds: 10 }).filter((f) => f.executable);
    expect(files.map((f) => f.path)).toEqual(['/opt/cdk8s/postgres/start.sh', '/opt/cdk8s/postgres/probe.sh', '/opt/cdk8s/postgres/slots.sh']);
    for (const f of files) expect({ path: f.path, problems: shellcheck({ where: f.path, shell: 'bash', text: f.content }) }).toEqual({ path: f.path, problems: [] });
  });
});
