// Every rendered script runs for real under bash against the recording
// stand-ins of ./standins.ts (the pages they follow are cited there), one
// scripted cluster state per test.
import * as fs from 'fs';
import * as path from 'path';
import { READY_JS } from '../../src/mongodb/mongo-replica-set';
import {
  renderBackupScript, renderInitiatorScript, renderKeyfileScript, renderStartScript, UsersSettings,
} from '../../src/mongodb/config';
import { ClusterState, StandIns } from './standins';

const H = (i: number) => `db-${i}.db-headless.prod.svc.cluster.local:27017`;
const ROOT_PW = 'r00t-secret';
const ENV = { MONGO_ROOT_PASSWORD: ROOT_PW, MONGO_EXPORTER_PASSWORD: 'exp-secret', MONGO_PASSWORD_ORDERS_APP: 'app-secret' };
const USERS: UsersSettings = {
  exporter: true,
  backup: false,
  users: [{ name: 'orders_app', passwordKey: 'orders_app-password', passwordEnv: 'MONGO_PASSWORD_ORDERS_APP', databases: ['orders'], readOnly: false }],
};
const AUTH = "db.getSiblingDB('admin').auth('root', process.env.MONGO_ROOT_PASSWORD);";

let sandboxes: StandIns[] = [];
afterEach(() => {
  sandboxes.forEach((s) => s.cleanup());
  sandboxes = [];
});

function sandbox(state?: ClusterState): StandIns {
  const s = new StandIns(state);
  sandboxes.push(s);
  return s;
}

/** A cluster of `n` members that all answer; root exists on the seed (start.sh created it). */
function cluster(n: number, extra: Partial<ClusterState> = {}): ClusterState {
  return {
    replSetName: 'rs0',
    rootPassword: ROOT_PW,
    members: Object.fromEntries(Array.from({ length: n }, (_, i) => [H(i), {}])),
    users: { root: { pwd: ROOT_PW, roles: [{ role: 'root', db: 'admin' }] } },
    ...extra,
  };
}

function initiator(members: number, arbiter = false, waitAttempts = 5): string {
  return renderInitiatorScript({
    replicaSetName: 'rs0',
    members: Array.from({ length: members }, (_, i) => ({ host: H(i), arbiter: arbiter && i === members - 1 })),
    users: USERS,
    waitAttempts,
  });
}

/** The JavaScript each mongosh call ran, tagged by its `/* cdk8s:... *\/` marker (auth prefix removed). */
function evals(s: StandIns): string[] {
  return s.calls('mongosh').map((c) => c.js!.replace(AUTH, '').trim());
}

describe('initiator script', () => {
  test('not initiated: pings every member, sees code 94, initiates with the FQDNs and creates the users', () => {
    // GIVEN three reachable members, none initiated
    const s = sandbox(cluster(3));
    // WHEN
    const r = s.run(initiator(3), ENV);
    // THEN
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const calls = s.calls('mongosh');
    expect(calls.slice(0, 3).map((c) => [c.host, c.js])).toEqual([0, 1, 2].map((i) => [H(i), '/* cdk8s:ping */ db.adminCommand({ ping: 1 }).ok']));
    expect(calls[0].argv).toEqual(['--quiet', '--norc', `mongodb://${H(0)}/admin?directConnection=true`, '--eval', '/* cdk8s:ping */ db.adminCommand({ ping: 1 }).ok']);
    expect(calls[3].host).toBe(H(0));
    expect(calls[3].js).toBe(`${AUTH} /* cdk8s:status */\ntry {\n  rs.status();\n  print('initiated');\n} catch (e) {\n  if (e.code !== 94) throw e;\n  print('uninitiated');\n}`);
    expect(calls[4].js).toBe(`${AUTH} /* cdk8s:initiate */ rs.initiate({ _id: 'rs0', members: [`
      + `{ _id: 0, host: '${H(0)}' }, { _id: 1, host: '${H(1)}' }, { _id: 2, host: '${H(2)}' }] })`);
    expect(s.state().config!.members).toEqual([0, 1, 2].map((i) => ({ _id: i, host: H(i) })));
    // the users go to the primary, with their passwords from the environment only
    const users = calls[calls.length - 1];
    expect(users.host).toBe(H(0));
    expect(users.ops).toEqual([
      'auth root',
      'createUser exporter [{"role":"clusterMonitor","db":"admin"},{"role":"read","db":"local"}]',
      'createUser orders_app [{"role":"readWrite","db":"orders"}]',
    ]);
    expect(s.state().users.orders_app.pwd).toBe('app-secret');
    expect(s.state().users.exporter.pwd).toBe('exp-secret');
    for (const c of calls) expect(c.argv.join(' ')).not.toMatch(/secret/);
    expect(r.stdout).toContain(`replica set ready, primary ${H(0)}`);
  });

  test('not initiated: waits for the election before creating users on the primary', () => {
    // GIVEN a set whose primary is elected only after 2 hello polls
    const s = sandbox(cluster(3, { electionPolls: 2 }));
    // WHEN
    const r = s.run(initiator(3), ENV);
    // THEN it polled hello until a primary appeared, sleeping in between
    expect(r.status).toBe(0);
    expect(evals(s).filter((j) => j.startsWith('/* cdk8s:primary */'))).toHaveLength(3);
    expect(s.calls('sleep').map((c) => c.argv)).toEqual([['5'], ['5']]);
    expect(Object.keys(s.state().users).sort()).toEqual(['exporter', 'orders_app', 'root']);
  });

  test('already initiated with every member: no initiate, no add; users updated with the current passwords', () => {
    // GIVEN an initiated set of 3 whose users exist with old passwords
    const s = sandbox(cluster(3, {
      config: { _id: 'rs0', version: 1, members: [0, 1, 2].map((i) => ({ _id: i, host: H(i) })) },
      primary: H(1),
      users: {
        root: { pwd: ROOT_PW, roles: [] },
        exporter: { pwd: 'old', roles: [] },
        orders_app: { pwd: 'old', roles: [] },
      },
    }));
    // WHEN
    const r = s.run(initiator(3), ENV);
    // THEN
    expect(r.status).toBe(0);
    const js = evals(s);
    expect(js.some((j) => j.includes('rs.initiate'))).toBe(false);
    expect(js.some((j) => j.includes('cdk8s:add'))).toBe(false);
    // members were listed on the primary (ordinal 1 now), and the users re-applied there
    const list = s.calls('mongosh').find((c) => c.js!.includes('cdk8s:members'))!;
    expect(list.host).toBe(H(1));
    expect(list.js).toBe(`${AUTH} /* cdk8s:members */ rs.conf().members.forEach((m) => print(m.host))`);
    const users = s.calls('mongosh').pop()!;
    expect(users.host).toBe(H(1));
    expect(users.ops).toEqual([
      'auth root',
      'updateUser exporter [{"role":"clusterMonitor","db":"admin"},{"role":"read","db":"local"}]',
      'updateUser orders_app [{"role":"readWrite","db":"orders"}]',
    ]);
    expect(s.state().users.orders_app.pwd).toBe('app-secret');
  });

  test('after a scale-up from 3 to 5: adds the two new members on the primary with rs.add', () => {
    // GIVEN an initiated set of 3, and 5 pods now
    const s = sandbox(cluster(5, {
      config: { _id: 'rs0', version: 1, members: [0, 1, 2].map((i) => ({ _id: i, host: H(i) })) },
      primary: H(2),
    }));
    // WHEN
    const r = s.run(initiator(5), ENV);
    // THEN
    expect(r.status).toBe(0);
    const adds = s.calls('mongosh').filter((c) => c.js!.includes('cdk8s:add'));
    expect(adds.map((c) => [c.host, c.js])).toEqual([
      [H(2), `${AUTH} /* cdk8s:add */ rs.add({ host: '${H(3)}' })`],
      [H(2), `${AUTH} /* cdk8s:add */ rs.add({ host: '${H(4)}' })`],
    ]);
    expect(s.state().config!.members.map((m) => [m._id, m.host])).toEqual([0, 1, 2, 3, 4].map((i) => [i, H(i)]));
    expect(r.stdout).toContain(`adding ${H(3)}`);
  });

  test('a member that is not reachable yet: waits for it, then initiates', () => {
    // GIVEN member 2 refuses connections for its first 3 pings
    const state = cluster(3);
    state.members[H(2)] = { down: 3 };
    const s = sandbox(state);
    // WHEN
    const r = s.run(initiator(3), ENV);
    // THEN 4 pings to member 2, 5 s apart, before anything else
    expect(r.status).toBe(0);
    const pings = s.calls('mongosh').filter((c) => c.host === H(2) && c.js!.includes('cdk8s:ping'));
    expect(pings.map((c) => c.exit)).toEqual([1, 1, 1, 0]);
    expect(s.calls('sleep').map((c) => c.argv)).toEqual([['5'], ['5'], ['5']]);
    expect(r.stdout.match(new RegExp(`waiting for ${H(2).replace(/\./g, '\\.')}`, 'g'))).toHaveLength(3);
    expect(s.state().config!.members).toHaveLength(3);
  });

  test('a member that never answers: gives up after the attempts and initiates nothing', () => {
    // GIVEN member 1 never answers, and 3 attempts
    const state = cluster(3);
    state.members[H(1)] = { down: -1 };
    const s = sandbox(state);
    // WHEN
    const r = s.run(initiator(3, false, 3), ENV);
    // THEN
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${H(1)} did not answer after 3 attempts`);
    expect(s.state().config).toBeUndefined();
    expect(evals(s).some((j) => j.includes('cdk8s:status'))).toBe(false);
  });

  test('with an arbiter: initiates it as arbiterOnly, and adds it with rs.addArb when the config lacks it', () => {
    // GIVEN 2 data members + an arbiter, not initiated
    const first = sandbox(cluster(3));
    // WHEN
    expect(first.run(initiator(3, true), ENV).status).toBe(0);
    // THEN
    expect(first.state().config!.members).toEqual([{ _id: 0, host: H(0) }, { _id: 1, host: H(1) }, { _id: 2, host: H(2), arbiterOnly: true }]);
    expect(evals(first).find((j) => j.includes('rs.initiate'))).toBe(`/* cdk8s:initiate */ rs.initiate({ _id: 'rs0', members: [`
      + `{ _id: 0, host: '${H(0)}' }, { _id: 1, host: '${H(1)}' }, { _id: 2, host: '${H(2)}', arbiterOnly: true }] })`);
    // GIVEN an initiated 2-member set and the arbiter added to the StatefulSet
    const later = sandbox(cluster(3, { config: { _id: 'rs0', version: 1, members: [0, 1].map((i) => ({ _id: i, host: H(i) })) } }));
    // WHEN
    expect(later.run(initiator(3, true), ENV).status).toBe(0);
    // THEN
    expect(evals(later).filter((j) => j.includes('cdk8s:add'))).toEqual([`/* cdk8s:add-arbiter */ rs.addArb('${H(2)}')`]);
    expect(later.state().config!.members[2]).toEqual({ _id: 2, host: H(2), arbiterOnly: true });
  });

  test('after a scale-down without rs.remove: warns about the member and removes nothing', () => {
    // GIVEN a config of 3 members and a StatefulSet of 1
    const s = sandbox(cluster(3, { config: { _id: 'rs0', version: 1, members: [0, 1, 2].map((i) => ({ _id: i, host: H(i) })) } }));
    // WHEN
    const r = s.run(initiator(1), ENV);
    // THEN
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`warning: ${H(1)} is in the replica set config but not in the StatefulSet; remove it with rs.remove('${H(1)}')`);
    expect(r.stderr).toContain(`warning: ${H(2)} is in the replica set config`);
    expect(s.state().config!.members).toHaveLength(3);
  });

  test('a wrong root password fails the run (code 18) before anything changes', () => {
    const s = sandbox(cluster(3));
    const r = s.run(initiator(3), { ...ENV, MONGO_ROOT_PASSWORD: 'wrong' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('MongoServerError: Authentication failed.');
    expect(s.state().config).toBeUndefined();
  });

  test('without the root password in the environment it stops at once', () => {
    const s = sandbox(cluster(3));
    const r = s.run(initiator(3), {});
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('MONGO_ROOT_PASSWORD must be set from the credentials Secret');
    expect(s.calls()).toEqual([]);
  });
});

describe('keyfile.sh', () => {
  function paths(s: StandIns): { source: string; target: string } {
    fs.mkdirSync(path.join(s.dir, 'secret'));
    fs.mkdirSync(path.join(s.dir, 'run'));
    return { source: path.join(s.dir, 'secret', 'keyfile'), target: path.join(s.dir, 'run', 'keyfile') };
  }

  test('copies the key to a file of mode 0400, and again over its own 0400 copy after a restart', () => {
    // GIVEN a group-readable Secret file, as a Secret volume with fsGroup presents it
    const s = sandbox();
    const p = paths(s);
    const key = 'a1'.repeat(32);
    fs.writeFileSync(p.source, key, { mode: 0o440 });
    // WHEN run twice (an init container runs again when the pod restarts)
    const first = s.run(renderKeyfileScript(p));
    const second = s.run(renderKeyfileScript(p));
    // THEN
    expect([first.status, second.status, second.stderr]).toEqual([0, 0, '']);
    expect(fs.statSync(p.target).mode & 0o777).toBe(0o400);
    expect(fs.readFileSync(p.target, 'utf-8')).toBe(`${key}\n`);
  });

  test.each([
    ['too short', 'abc12'],
    ['outside the base64 set', `${'a'.repeat(20)}!`],
    ['too long', 'a'.repeat(1025)],
  ])('rejects a key %s with MongoDB\'s rule', (_what, key) => {
    const s = sandbox();
    const p = paths(s);
    fs.writeFileSync(p.source, key);
    const r = s.run(renderKeyfileScript(p));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('keyfile must hold 6 to 1024 characters of the base64 set');
    expect(fs.existsSync(p.target)).toBe(false);
  });

  test('accepts whitespace around the key (mongod ignores it) and the longest allowed key', () => {
    const s = sandbox();
    const p = paths(s);
    fs.writeFileSync(p.source, ` ${'A/+='.repeat(256)}\n`);
    expect(s.run(renderKeyfileScript(p)).status).toBe(0);
    expect(fs.readFileSync(p.target, 'utf-8')).toBe(`${'A/+='.repeat(256)}\n`);
  });

  test('fails with the Secret key to add when the keyfile is missing', () => {
    const s = sandbox();
    const p = paths(s);
    const r = s.run(renderKeyfileScript(p));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("the credentials Secret needs the key 'keyfile'");
  });
});

describe('start.sh', () => {
  function start(s: StandIns): string {
    fs.mkdirSync(path.join(s.dir, 'data'));
    return renderStartScript({
      mongod: { replicaSetName: 'rs0', cacheSizeGb: 0.5, keyFile: '/run/keyfile', dataDir: path.join(s.dir, 'data'), runDir: '/run/mongodb' },
      bootstrapWaitSeconds: 10,
    });
  }
  const replSetArgs = (data: string) => ['--replSet', 'rs0', '--keyFile', '/run/keyfile', '--bind_ip_all', '--port', '27017', '--dbpath', data,
    '--unixSocketPrefix', '/run/mongodb', '--wiredTigerCacheSizeGB', '0.5'];
  const localhost = (extra: Partial<ClusterState> = {}): ClusterState => ({ replSetName: 'rs0', rootPassword: ROOT_PW, members: { '127.0.0.1:27017': { down: 2, temporary: true } }, users: {}, ...extra });

  test('the seed\'s first start creates root through the localhost exception, stops the temporary mongod, then execs the member', () => {
    // GIVEN ordinal 0 with an empty data directory; the temporary mongod answers on the third ping
    const s = sandbox(localhost());
    const script = start(s);
    const data = path.join(s.dir, 'data');
    // WHEN
    const r = s.run(script, { HOSTNAME: 'db-0', MONGO_ROOT_PASSWORD: ROOT_PW });
    // THEN
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const mongod = s.calls('mongod');
    expect(mongod.map((c) => c.argv)).toEqual([
      ['--auth', '--bind_ip', '127.0.0.1', '--port', '27017', '--dbpath', data, '--unixSocketPrefix', '/run/mongodb', '--wiredTigerCacheSizeGB', '0.5'],
      replSetArgs(data),
    ]);
    // pinged until it answered (at least the 2 scripted refusals), a second apart, then created root once
    const sh = s.calls('mongosh');
    const pings = sh.slice(0, -1);
    expect(pings.length).toBeGreaterThanOrEqual(3);
    expect(pings.map((c) => c.exit)).toEqual([...pings.slice(1).map(() => 1), 0]);
    expect(pings.every((c) => c.js === '/* cdk8s:ping */ db.adminCommand({ ping: 1 }).ok')).toBe(true);
    expect(s.calls('sleep').map((c) => c.argv)).toEqual(pings.slice(1).map(() => ['1']));
    const create = sh[sh.length - 1];
    expect(create.exit).toBe(0);
    expect(create.argv.slice(0, 3)).toEqual(['--quiet', '--norc', 'mongodb://127.0.0.1:27017/admin']);
    expect(create.js).toBe([
      '/* cdk8s:create-root */',
      "const admin = db.getSiblingDB('admin');",
      'try {',
      "  admin.createUser({ user: 'root', pwd: process.env.MONGO_ROOT_PASSWORD, roles: [{ role: 'root', db: 'admin' }] });",
      "  print('root created');",
      '} catch (e) {',
      '  // 13 Unauthorized: a user exists, so the localhost exception is closed; 51003: root exists',
      '  if (e.code !== 13 && e.code !== 51003) throw e;',
      "  print('root exists');",
      '}',
    ].join('\n'));
    expect(s.state().users).toEqual({ root: { pwd: ROOT_PW, roles: [{ role: 'root', db: 'admin' }] } });
    expect(r.stdout).toContain('root created');
    expect(fs.existsSync(path.join(data, '.cdk8s-root-created'))).toBe(true);
    expect(fs.existsSync(path.join(data, '.cdk8s-root-creating'))).toBe(false);
  });

  test('later starts of the seed, and every start of the other members, exec mongod only', () => {
    // GIVEN a seed that created root before
    const seed = sandbox(localhost());
    const seedScript = start(seed);
    const data = path.join(seed.dir, 'data');
    fs.writeFileSync(path.join(data, 'WiredTiger'), '');
    fs.writeFileSync(path.join(data, '.cdk8s-root-created'), '');
    // WHEN / THEN
    expect(seed.run(seedScript, { HOSTNAME: 'db-0', MONGO_ROOT_PASSWORD: ROOT_PW }).status).toBe(0);
    expect(seed.calls().map((c) => [c.tool, c.argv])).toEqual([['mongod', replSetArgs(data)]]);
    // GIVEN member 2 with an empty data directory
    const other = sandbox(localhost());
    const otherScript = start(other);
    // WHEN / THEN
    expect(other.run(otherScript, { HOSTNAME: 'db-2', MONGO_ROOT_PASSWORD: ROOT_PW }).status).toBe(0);
    expect(other.calls().map((c) => [c.tool, c.argv])).toEqual([['mongod', replSetArgs(path.join(other.dir, 'data'))]]);
  });

  test('a first start interrupted after root was created runs again and finds root (the exception is closed)', () => {
    // GIVEN data with the creating marker and the root user
    const s = sandbox(localhost({ members: { '127.0.0.1:27017': { temporary: true } }, users: { root: { pwd: ROOT_PW, roles: [] } } }));
    const script = start(s);
    const data = path.join(s.dir, 'data');
    fs.writeFileSync(path.join(data, 'WiredTiger'), '');
    fs.writeFileSync(path.join(data, '.cdk8s-root-creating'), '');
    // WHEN
    const r = s.run(script, { HOSTNAME: 'db-0', MONGO_ROOT_PASSWORD: ROOT_PW });
    // THEN createUser was refused with 13, which the script takes as "root exists"
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('root exists');
    expect(s.calls('mongod')).toHaveLength(2);
    expect(fs.existsSync(path.join(data, '.cdk8s-root-created'))).toBe(true);
  });

  test('a seed with data from elsewhere and no markers is not touched', () => {
    const s = sandbox(localhost());
    const script = start(s);
    const data = path.join(s.dir, 'data');
    fs.writeFileSync(path.join(data, 'WiredTiger'), '');
    expect(s.run(script, { HOSTNAME: 'db-0', MONGO_ROOT_PASSWORD: ROOT_PW }).status).toBe(0);
    expect(s.calls().map((c) => c.tool)).toEqual(['mongod']);
  });

  test('a temporary mongod that never answers fails the start', () => {
    const s = sandbox(localhost({ members: { '127.0.0.1:27017': { down: -1, temporary: true } } }));
    const r = s.run(start(s), { HOSTNAME: 'db-0', MONGO_ROOT_PASSWORD: ROOT_PW });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('the temporary mongod did not answer within 10 s');
    expect(s.calls('mongod').map((c) => c.argv[0])).toEqual(['--auth']);
  });
});

describe('backup script', () => {
  test('dumps from a secondary with the password in a 0600 option file, and keeps the newest archives', () => {
    // GIVEN 4 older archives and keep = 3
    const s = sandbox();
    const dir = path.join(s.dir, 'backup');
    const tmp = path.join(s.dir, 'tmp');
    fs.mkdirSync(dir);
    fs.mkdirSync(tmp);
    const old = ['20260101T000000Z', '20260102T000000Z', '20260103T000000Z', '20260104T000000Z'].map((t) => `mongodump-${t}.archive.gz`);
    old.forEach((f) => fs.writeFileSync(path.join(dir, f), ''));
    fs.writeFileSync(path.join(dir, 'notes.txt'), '');
    const script = renderBackupScript({ hosts: [H(0), H(1), H(2)], replicaSetName: 'rs0', keep: 3, dir, tmpDir: tmp });
    // WHEN
    const r = s.run(script, { MONGO_BACKUP_PASSWORD: 'bk-secret' });
    // THEN
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const dump = s.calls('mongodump')[0] as any;
    const archive = dump.argv.find((a: string) => a.startsWith('--archive=')).slice('--archive='.length);
    expect(archive).toMatch(new RegExp(`^${dir}/mongodump-\\d{8}T\\d{6}Z\\.archive\\.gz\\.partial$`));
    expect(dump.argv).toEqual([
      `--config=${tmp}/mongodump.yaml`,
      `--uri=mongodb://${H(0)},${H(1)},${H(2)}/?replicaSet=rs0&authSource=admin&readPreference=secondary`,
      '--username=backup', '--gzip', `--archive=${archive}`,
    ]);
    expect(dump.config).toBe('password: "bk-secret"\n');
    expect(dump.configMode).toBe('600');
    expect(fs.existsSync(path.join(tmp, 'mongodump.yaml'))).toBe(false);
    const final = path.basename(archive.replace(/\.partial$/, ''));
    expect(fs.readdirSync(dir).sort()).toEqual([...old.slice(2), final, 'notes.txt'].sort());
  });
});

describe('readiness probe', () => {
  // the probe exactly as the container runs it: mongosh against the pod's own mongod on 127.0.0.1
  const probe = 'mongosh --quiet --norc --eval "$READY_JS"\n';
  const config = { _id: 'rs0', version: 1, members: [{ _id: 0, host: H(0) }, { _id: 1, host: H(1) }, { _id: 2, host: H(2), arbiterOnly: true }] };
  const member = (i: number, extra: object = {}, initiated = true): ClusterState => ({
    ...cluster(3, initiated ? { config, primary: H(0) } : {}),
    members: { '127.0.0.1:27017': { alias: H(i), ...extra } },
  });

  test.each([
    ['the primary', member(0), 0],
    ['a secondary', member(1), 0],
    ['the arbiter', member(2), 0],
    ['a member in initial sync', member(1, { syncing: true }), 1],
    ['a member of a set not initiated yet', member(1, {}, false), 1],
  ])('is Ready for %s', (_what, state, status) => {
    const s = sandbox(state);
    const r = s.run(probe, { READY_JS });
    expect(r.status).toBe(status);
    expect(s.calls('mongosh')[0].argv).toEqual(['--quiet', '--norc', '--eval', READY_JS]);
    expect(s.calls('mongosh')[0].ops).toEqual(['hello']);
  });

  test('fails when mongod does not answer', () => {
    const s = sandbox(member(0, { down: -1 }));
    expect(s.run(probe, { READY_JS }).status).toBe(1);
  });
});
