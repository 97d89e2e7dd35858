import {
  bootstrapMongodArgs, initiateJs, mongodArgs, MongodSettings, renderStartScript, usersJs,
} from '../../src/mongodb/config';

/**
 * mongod's command-line options in MongoDB 8.0, as documented at
 * https://www.mongodb.com/docs/v8.0/reference/program/mongod/ (the subset a
 * replica-set member could use), with whether each takes a value. Options
 * removed before 8.0 (`--journal`, `--nojournal` in 6.1, `--sslMode`'s
 * successors aside) are deliberately absent.
 */
const MONGOD_8_0_OPTIONS: { [name: string]: 'flag' | 'value' } = {
  '--config': 'value',
  '--port': 'value',
  '--bind_ip': 'value',
  '--bind_ip_all': 'flag',
  '--ipv6': 'flag',
  '--maxConns': 'value',
  '--logpath': 'value',
  '--fork': 'flag',
  '--auth': 'flag',
  '--noauth': 'flag',
  '--transitionToAuth': 'flag',
  '--keyFile': 'value',
  '--clusterAuthMode': 'value',
  '--unixSocketPrefix': 'value',
  '--nounixsocket': 'flag',
  '--setParameter': 'value',
  '--dbpath': 'value',
  '--directoryperdb': 'flag',
  '--storageEngine': 'value',
  '--wiredTigerCacheSizeGB': 'value',
  '--wiredTigerCacheSizePct': 'value',
  '--replSet': 'value',
  '--oplogSizeMB': 'value',
  '--enableMajorityReadConcern': 'value',
  '--shutdown': 'flag',
  '--quiet': 'flag',
  '--tlsMode': 'value',
};

/** Problems of `argv` against the documented options. */
function optionProblems(argv: string[]): string[] {
  const problems: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      problems.push(`stray value '${a}'`);
      continue;
    }
    const kind = MONGOD_8_0_OPTIONS[a];
    if (!kind) problems.push(`'${a}' is not a documented mongod 8.0 option`);
    else if (kind === 'value') {
      if (argv[i + 1] === undefined || argv[i + 1].startsWith('--')) problems.push(`'${a}' needs a value`);
      i++;
    }
  }
  return problems;
}

const S: MongodSettings = { replicaSetName: 'orders-rs', cacheSizeGb: 1.5, keyFile: '/var/run/mongodb/keyfile', dataDir: '/data/db', runDir: '/var/run/mongodb' };

describe('mongod options', () => {
  test('the member\'s options are documented mongod 8.0 options with their values', () => {
    const argv = mongodArgs(S);
    expect(optionProblems(argv)).toEqual([]);
    expect(argv).toEqual([
      '--replSet', 'orders-rs', '--keyFile', '/var/run/mongodb/keyfile', '--bind_ip_all', '--port', '27017',
      '--dbpath', '/data/db', '--unixSocketPrefix', '/var/run/mongodb', '--wiredTigerCacheSizeGB', '1.5',
    ]);
  });

  test('the temporary seed mongod is standalone, authorizing, on localhost only', () => {
    const argv = bootstrapMongodArgs(S);
    expect(optionProblems(argv)).toEqual([]);
    expect(argv).toEqual(['--auth', '--bind_ip', '127.0.0.1', '--port', '27017', '--dbpath', '/data/db', '--unixSocketPrefix', '/var/run/mongodb', '--wiredTigerCacheSizeGB', '1.5']);
    expect(argv).not.toContain('--replSet');
    expect(argv).not.toContain('--bind_ip_all');
  });

  test('the table check itself rejects an undocumented or removed option and a missing value', () => {
    expect(optionProblems(['--journal', '--replSet'])).toEqual(["'--journal' is not a documented mongod 8.0 option", "'--replSet' needs a value"]);
  });

  test('start.sh runs mongod with exactly those options', () => {
    const script = renderStartScript({ mongod: S, bootstrapWaitSeconds: 120 });
    const lines = script.split('\n').filter((l) => /^\s*(exec )?mongod /.test(l)).map((l) => l.trim().replace(/^exec /, '').replace(/ &$/, ''));
    expect(lines).toEqual([
      'mongod --auth --bind_ip 127.0.0.1 --port 27017 --dbpath /data/db --unixSocketPrefix /var/run/mongodb --wiredTigerCacheSizeGB 1.5',
      'mongod --replSet orders-rs --keyFile /var/run/mongodb/keyfile --bind_ip_all --port 27017 --dbpath /data/db --unixSocketPrefix /var/run/mongodb --wiredTigerCacheSizeGB 1.5',
    ]);
    for (const l of lines) expect(optionProblems(l.split(' ').slice(1))).toEqual([]);
  });
});

describe('initiator JavaScript', () => {
  test('rs.initiate lists members with consecutive ids and marks the arbiter', () => {
    expect(initiateJs('rs0', [{ host: 'a:27017', arbiter: false }, { host: 'b:27017', arbiter: true }]))
      .toBe("/* cdk8s:initiate */ rs.initiate({ _id: 'rs0', members: [{ _id: 0, host: 'a:27017' }, { _id: 1, host: 'b:27017', arbiterOnly: true }] })");
  });

  test('users: read-only users get read, others readWrite, on each of their databases; the exporter and backup users their built-in roles', () => {
    const js = usersJs({
      exporter: true,
      backup: true,
      users: [
        { name: 'reporting', passwordKey: 'reporting-password', passwordEnv: 'MONGO_PASSWORD_REPORTING', databases: ['orders', 'billing'], readOnly: true },
        { name: 'app', passwordKey: 'app-password', passwordEnv: 'MONGO_PASSWORD_APP', databases: ['orders'], readOnly: false },
      ],
    });
    expect(js.split('\n').filter((l) => l.startsWith('ensure('))).toEqual([
      "ensure('exporter', 'MONGO_EXPORTER_PASSWORD', [{ role: 'clusterMonitor', db: 'admin' }, { role: 'read', db: 'local' }]);",
      "ensure('backup', 'MONGO_BACKUP_PASSWORD', [{ role: 'backup', db: 'admin' }]);",
      "ensure('reporting', 'MONGO_PASSWORD_REPORTING', [{ role: 'read', db: 'orders' }, { role: 'read', db: 'billing' }]);",
      "ensure('app', 'MONGO_PASSWORD_APP', [{ role: 'readWrite', db: 'orders' }]);",
    ]);
    expect(js).not.toMatch(/pwd: '/);
  });

  test('no users at all renders no user step', () => {
    expect(usersJs({ exporter: false, backup: false, users: [] })).toBe('');
  });
});
