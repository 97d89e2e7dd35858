// Recording stand-ins for mongosh, mongod, mongodump and sleep: MongoDB
// server binaries cannot be installed here, so the rendered scripts run for
// real under bash against these executables, which record every call and
// answer from a scripted cluster state with MongoDB's documented shapes:
//
// - the temporary mongod of start.sh accepts connections (on 127.0.0.1) only
//   once it is up, and stops cleanly on SIGTERM, as mongod does.
// - mongosh runs the JavaScript it is given (every `--eval`, joined, as
//   mongosh evaluates them in order) in a VM with `db`, `rs`, `print`, `quit`
//   and `process.env`, and prints a non-undefined completion value as mongosh
//   does (https://www.mongodb.com/docs/mongodb-shell/reference/options/#std-option-mongosh.--eval).
// - rs.status() / rs.conf() before initiation throw MongoServerError code 94
//   NotYetInitialized (https://www.mongodb.com/docs/manual/reference/method/rs.status/,
//   https://www.mongodb.com/docs/manual/reference/error-codes/); rs.initiate on an
//   initiated member throws 23 AlreadyInitialized
//   (https://www.mongodb.com/docs/manual/reference/method/rs.initiate/); rs.add /
//   rs.addArb work on the primary only, else 10107 NotWritablePrimary
//   (https://www.mongodb.com/docs/manual/reference/method/rs.add/,
//   https://www.mongodb.com/docs/manual/reference/method/rs.addArb/); so does
//   rs.remove (https://www.mongodb.com/docs/manual/reference/method/rs.remove/).
// - db.hello() returns isWritablePrimary, secondary, arbiterOnly, setName,
//   hosts, arbiters and primary (https://www.mongodb.com/docs/manual/reference/command/hello/).
// - Commands other than ping and hello need authentication (13 Unauthorized),
//   except that with no user at all a localhost connection may create the
//   first user (https://www.mongodb.com/docs/manual/core/localhost-exception/);
//   db.auth with a wrong password throws 18 AuthenticationFailed; createUser of
//   an existing user throws 51003 (the code recalled from mongod's replies, not
//   checked against a server here; the scripts' flows meet 13 first), see
//   https://www.mongodb.com/docs/manual/reference/method/db.createUser/.
// - mongodump reads the password from the YAML option file of `--config`
//   (https://www.mongodb.com/docs/database-tools/mongodump/mongodump-behavior/#std-label-mongodump-config).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';

/** A member of the scripted cluster. */
export interface MemberState {
  /** Pings that fail (connection refused) before the member answers; -1: never answers. */
  down?: number;
  /** start.sh's temporary mongod: answers only while it runs. */
  temporary?: boolean;
  /** The member this address reaches (a probe's 127.0.0.1 is the pod's own member). */
  alias?: string;
  /** In initial sync (STARTUP2): neither primary nor secondary yet. */
  syncing?: boolean;
}

/** The scripted cluster every stand-in reads and updates. */
export interface ClusterState {
  /** The name mongod was started with (`--replSet`). */
  replSetName: string;
  /** The root password the stand-in server accepts. */
  rootPassword: string;
  members: { [host: string]: MemberState };
  /** The replica set config, once initiated. */
  config?: { _id: string; version: number; members: { _id: number; host: string; arbiterOnly?: boolean }[] };
  /** hello calls after initiation before a primary is elected. */
  electionPolls?: number;
  primary?: string;
  users: { [name: string]: { pwd: string; roles: unknown[] } };
}

/** One recorded call. */
export interface Call {
  tool: string;
  argv: string[];
  host?: string;
  js?: string;
  /** Operations the JavaScript performed on the stand-in server. */
  ops?: string[];
  exit: number;
}

const MONGOSH = String.raw`
const fs = require('fs');
const vm = require('vm');
const util = require('util');
const stateFile = process.env.STANDIN_STATE;
const state = JSON.parse(fs.readFileSync(stateFile, 'utf-8'));
const argv = process.argv.slice(2);
const uri = argv.find((a) => a.startsWith('mongodb://')) || 'mongodb://127.0.0.1:27017/';
const host = uri.slice('mongodb://'.length).split('/')[0];
const js = argv.flatMap((a, i) => (argv[i - 1] === '--eval' ? [a] : [])).join('\n');
const ops = [];
const record = (exit) => {
  fs.writeFileSync(stateFile, JSON.stringify(state));
  fs.appendFileSync(process.env.STANDIN_LOG, JSON.stringify({ tool: 'mongosh', argv, host, js, ops, exit }) + '\n');
};
const die = (message) => { record(1); process.stderr.write(message + '\n'); process.exit(1); };
const member = state.members[host];
if (!member) die('MongoServerSelectionError: getaddrinfo ENOTFOUND ' + host.split(':')[0]);
// the temporary mongod of start.sh answers only once it is up (see the mongod stand-in)
if (member.temporary && !fs.existsSync(stateFile + '.listening')) die('MongoNetworkError: connect ECONNREFUSED ' + host);
const self = member.alias || host;
if (member.down === -1 || member.down > 0) {
  if (member.down > 0) member.down--;
  die('MongoNetworkError: connect ECONNREFUSED ' + host);
}
class MongoServerError extends Error {
  constructor(code, codeName, message) { super(message); this.code = code; this.codeName = codeName; this.name = 'MongoServerError'; }
}
let authed = false;
const noUsers = () => Object.keys(state.users).length === 0;
const needAuth = (cmd) => { if (!authed) throw new MongoServerError(13, 'Unauthorized', 'Command ' + cmd + ' requires authentication'); };
const initiated = () => state.config !== undefined;
const notInitiated = () => new MongoServerError(94, 'NotYetInitialized', 'no replset config has been received');
const isArbiter = (h) => !!(state.config && state.config.members.find((m) => m.host === h && m.arbiterOnly));
const primary = () => {
  if (!initiated()) return undefined;
  if ((state.electionPolls || 0) > 0) { state.electionPolls--; return undefined; }
  if (!state.primary) state.primary = state.config.members.find((m) => !m.arbiterOnly).host;
  return state.primary;
};
const needPrimary = (cmd) => {
  if (primary() !== self) throw new MongoServerError(10107, 'NotWritablePrimary', 'not primary');
};
const db = {
  getSiblingDB: () => db,
  auth: (user, pwd) => {
    ops.push('auth ' + user);
    const u = state.users[user];
    if (!u || u.pwd !== pwd) throw new MongoServerError(18, 'AuthenticationFailed', 'Authentication failed.');
    authed = true;
    return { ok: 1 };
  },
  adminCommand: (cmd) => {
    if (cmd.ping === 1) return { ok: 1 };
    throw new Error('stand-in: unsupported command ' + JSON.stringify(cmd));
  },
  hello: () => {
    ops.push('hello');
    if (!initiated()) return { isWritablePrimary: false, secondary: false, isreplicaset: true, info: 'Does not have a valid replica set config', ok: 1 };
    const p = primary();
    return {
      isWritablePrimary: p === self,
      secondary: p !== undefined && p !== self && !isArbiter(self) && !member.syncing,
      ...(isArbiter(self) ? { arbiterOnly: true } : {}),
      setName: state.config._id,
      hosts: state.config.members.filter((m) => !m.arbiterOnly).map((m) => m.host),
      ...(state.config.members.some((m) => m.arbiterOnly) ? { arbiters: state.config.members.filter((m) => m.arbiterOnly).map((m) => m.host) } : {}),
      ...(p ? { primary: p } : {}),
      ok: 1,
    };
  },
  createUser: (u) => {
    const localhostException = noUsers() && host.startsWith('127.0.0.1:');
    if (!localhostException) needAuth('createUser');
    if (initiated()) needPrimary('createUser');
    if (state.users[u.user]) throw new MongoServerError(51003, 'Location51003', 'User "' + u.user + '@admin" already exists');
    if (typeof u.pwd !== 'string' || u.pwd === '') throw new Error('stand-in: createUser without a password');
    state.users[u.user] = { pwd: u.pwd, roles: u.roles };
    ops.push('createUser ' + u.user + ' ' + JSON.stringify(u.roles));
    return { ok: 1 };
  },
  getUser: (name) => { needAuth('usersInfo'); return state.users[name] ? { user: name, roles: state.users[name].roles } : null; },
  updateUser: (name, u) => {
    needAuth('updateUser');
    needPrimary('updateUser');
    state.users[name] = { pwd: u.pwd, roles: u.roles };
    ops.push('updateUser ' + name + ' ' + JSON.stringify(u.roles));
    return { ok: 1 };
  },
};
const addMember = (m) => {
  const id = Math.max(...state.config.members.map((x) => x._id)) + 1;
  state.config.members.push({ _id: id, ...m });
  state.config.version++;
  return { ok: 1 };
};
const rs = {
  status: () => {
    needAuth('replSetGetStatus');
    if (!initiated()) throw notInitiated();
    return { set: state.config._id, members: state.config.members.map((m) => ({ _id: m._id, name: m.host })), ok: 1 };
  },
  conf: () => {
    needAuth('replSetGetConfig');
    if (!initiated()) throw notInitiated();
    return state.config;
  },
  initiate: (cfg) => {
    needAuth('replSetInitiate');
    if (initiated()) throw new MongoServerError(23, 'AlreadyInitialized', 'already initialized');
    if (cfg._id !== state.replSetName) throw new MongoServerError(93, 'InvalidReplicaSetConfig', "Attempting to initiate a replica set with name " + cfg._id + ", but command line reports " + state.replSetName);
    if (!cfg.members.some((m) => m.host === self)) throw new MongoServerError(93, 'InvalidReplicaSetConfig', 'No host described in new configuration with {version: 1, term: 0} for replica set ' + cfg._id + ' maps to this node');
    state.config = { _id: cfg._id, version: 1, members: cfg.members };
    ops.push('initiate ' + JSON.stringify(cfg));
    return { ok: 1 };
  },
  add: (m) => {
    needAuth('replSetReconfig');
    needPrimary('replSetReconfig');
    const spec = typeof m === 'string' ? { host: m } : m;
    ops.push('add ' + JSON.stringify(spec));
    return addMember(spec);
  },
  addArb: (h) => {
    needAuth('replSetReconfig');
    needPrimary('replSetReconfig');
    ops.push('addArb ' + h);
    return addMember({ host: h, arbiterOnly: true });
  },
  remove: (h) => {
    needAuth('replSetReconfig');
    needPrimary('replSetReconfig');
    if (!state.config.members.some((m) => m.host === h)) throw new Error('stand-in: rs.remove of a host the config does not list: ' + h);
    ops.push('remove ' + h);
    state.config.members = state.config.members.filter((m) => m.host !== h);
    state.config.version++;
    return { ok: 1 };
  },
};
let printed = '';
const print = (...a) => { printed += a.map((x) => (typeof x === 'string' ? x : util.inspect(x))).join(' ') + '\n'; };
class Quit { constructor(code) { this.code = code; } }
const quit = (code = 0) => { throw new Quit(code); };
try {
  const value = vm.runInNewContext(js, { db, rs, print, quit, process: { env: { ...process.env } } });
  if (value !== undefined) print(value);
} catch (e) {
  process.stdout.write(printed);
  if (e instanceof Quit) { record(e.code); process.exit(e.code); }
  record(1);
  process.stderr.write((e.name || 'Error') + ': ' + e.message + '\n');
  process.exit(1);
}
process.stdout.write(printed);
record(0);
`;

const MONGOD = String.raw`
const fs = require('fs');
const argv = process.argv.slice(2);
const log = (exit) => fs.appendFileSync(process.env.STANDIN_LOG, JSON.stringify({ tool: 'mongod', argv, exit }) + '\n');
const dbpath = argv[argv.indexOf('--dbpath') + 1];
fs.writeFileSync(dbpath + '/WiredTiger', 'WiredTiger\n');
if (argv.includes('--replSet')) { log(0); process.exit(0); }
// the temporary standalone: serve until SIGTERM, then shut down cleanly
const listening = process.env.STANDIN_STATE + '.listening';
process.on('SIGTERM', () => { fs.rmSync(listening, { force: true }); log(0); process.exit(0); });
fs.writeFileSync(listening, '');
setInterval(() => {}, 1000);
`;

const MONGODUMP = String.raw`
const fs = require('fs');
const argv = process.argv.slice(2);
const opt = (name) => (argv.find((a) => a.startsWith(name + '=')) || '').slice(name.length + 1);
const config = fs.readFileSync(opt('--config'), 'utf-8');
const mode = (fs.statSync(opt('--config')).mode & 0o777).toString(8);
fs.writeFileSync(opt('--archive'), 'archive\n');
fs.appendFileSync(process.env.STANDIN_LOG, JSON.stringify({ tool: 'mongodump', argv, config, configMode: mode, exit: 0 }) + '\n');
`;

const SLEEP = String.raw`
require('fs').appendFileSync(process.env.STANDIN_LOG, JSON.stringify({ tool: 'sleep', argv: process.argv.slice(2), exit: 0 }) + '\n');
`;

/** A temporary directory with the stand-ins on PATH; `cleanup()` removes it. */
export class StandIns {
  public readonly dir: string;
  private readonly bin: string;
  private readonly stateFile: string;
  private readonly logFile: string;

  public constructor(state?: ClusterState) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mongo-standins-'));
    this.bin = path.join(this.dir, 'bin');
    fs.mkdirSync(this.bin);
    for (const [name, body] of [['mongosh', MONGOSH], ['mongod', MONGOD], ['mongodump', MONGODUMP], ['sleep', SLEEP]]) {
      fs.writeFileSync(path.join(this.bin, name), `#!${process.execPath}\n${body}`, { mode: 0o755 });
    }
    this.stateFile = path.join(this.dir, 'state.json');
    this.logFile = path.join(this.dir, 'calls.jsonl');
    fs.writeFileSync(this.logFile, '');
    fs.writeFileSync(this.stateFile, JSON.stringify(state ?? { replSetName: 'rs0', rootPassword: '', members: {}, users: {} }));
  }

  /** Runs `script` under bash with the stand-ins first on PATH. */
  public run(script: string, env: { [name: string]: string } = {}): { status: number; stdout: string; stderr: string } {
    const file = path.join(this.dir, `script-${Date.now()}-${Math.random().toString(16).slice(2)}.sh`);
    fs.writeFileSync(file, script);
    const r = spawnSync('bash', [file], {
      encoding: 'utf-8',
      timeout: 60_000,
      env: { PATH: `${this.bin}:/usr/bin:/bin`, STANDIN_STATE: this.stateFile, STANDIN_LOG: this.logFile, ...env },
    });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  /** Every call, in order. */
  public calls(tool?: string): Call[] {
    return fs.readFileSync(this.logFile, 'utf-8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Call)
      .filter((c) => tool === undefined || c.tool === tool);
  }

  /** The cluster state after the run. */
  public state(): ClusterState {
    return JSON.parse(fs.readFileSync(this.stateFile, 'utf-8'));
  }

  public cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
