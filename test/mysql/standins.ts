// Recording stand-ins for mysql, mysqladmin, mysqld and sleep: MySQL 8.4
// cannot be installed here, so the rendered scripts run for real under bash
// against these executables, which record every call (argv, stdin, the
// statements) and answer from a scripted server state with the shapes of the
// MySQL 8.4 Reference Manual:
//
// - CHANGE REPLICATION SOURCE TO (SOURCE_AUTO_POSITION, SOURCE_CONNECT_RETRY,
//   SOURCE_RETRY_COUNT): https://dev.mysql.com/doc/refman/8.4/en/change-replication-source-to.html
// - START REPLICA: https://dev.mysql.com/doc/refman/8.4/en/start-replica.html
// - CLONE INSTANCE FROM 'user'@'host':port IDENTIFIED BY 'password', after
//   which the recipient restarts; without a monitoring process (systemd,
//   mysqld_safe) the restart fails with ERROR 3707 and the server stops:
//   https://dev.mysql.com/doc/refman/8.4/en/clone.html,
//   https://dev.mysql.com/doc/refman/8.4/en/clone-plugin-remote.html,
//   https://dev.mysql.com/doc/refman/8.4/en/restart.html
// - SHOW REPLICA STATUS, vertical output, columns Replica_IO_Running,
//   Replica_SQL_Running, Seconds_Behind_Source (NULL unless both threads
//   run), Connect_Retry, Source_Retry_Count, Auto_Position:
//   https://dev.mysql.com/doc/refman/8.4/en/show-replica-status.html
// - CHANGE MASTER TO, START SLAVE and SHOW SLAVE STATUS were removed in 8.4.0
//   (https://dev.mysql.com/doc/refman/8.4/en/mysql-nutshell.html): a syntax error here.
// - mysqld --initialize-insecure refuses a data directory with files in it
//   and creates root@localhost without a password; options come from
//   --defaults-file (with !includedir) and the command line, the later one
//   winning: https://dev.mysql.com/doc/refman/8.4/en/data-directory-initialization.html,
//   https://dev.mysql.com/doc/refman/8.4/en/option-files.html
// - mysqladmin ping exits 0 when the server answers, even with access denied;
//   mysqladmin shutdown waits until the server has stopped:
//   https://dev.mysql.com/doc/refman/8.4/en/mysqladmin.html
// - mysqldump (https://dev.mysql.com/doc/refman/8.4/en/mysqldump.html): the
//   option file must come first (--defaults-extra-file, "Option-File
//   Options"); the stand-in accepts only options of that page
//   (--single-transaction, --routines, --events, --triggers, --hex-blob,
//   --no-tablespaces, --databases, -h, --source-data=1|2 ("Replication
//   Options"; the deprecated alias --master-data is refused),
//   --set-gtid-purged=OFF|ON|AUTO|COMMENTED) and writes a dump shaped like
//   the real one: a header naming the host, SET @@SESSION.SQL_LOG_BIN= 0 and
//   SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '<gtid set>' with
//   --set-gtid-purged=ON, the source position as a commented CHANGE
//   REPLICATION SOURCE TO with --source-data=2, a CREATE DATABASE /*!32312
//   IF NOT EXISTS*/ per database and a closing "-- Dump completed on" line.
//   Remote members (-h) are scripted per host; the backup user logs in with
//   the state's backupPassword.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The scripted server state every stand-in reads and updates. */
export interface ServerState {
  /** Root's password on this member ('' after --initialize-insecure). */
  rootPassword: string;
  /** Root's password on the primary, which a CLONE brings along. */
  primaryRootPassword: string;
  /** What CLONE INSTANCE does: finish, fail (donor unreachable), or wait for `releaseClone()`. */
  clone: 'ok' | 'unreachable' | 'hold';
  /** True while a held CLONE runs. */
  cloning?: boolean;
  /** `read_only` of the running server. */
  readOnly: number;
  /** Members reached over TCP (`-h host`): whether each answers, and its application schemas. */
  remote?: { [host: string]: { up: boolean; schemas: string[] } };
  /** The backup user's password on the remote members. */
  backupPassword?: string;
  /** Make mysqldump fail after writing part of the dump. */
  dumpFails?: boolean;
  /** Statements of a loaded dump, in order. */
  loaded?: string[];
  /** Replication, once CHANGE REPLICATION SOURCE TO ran; START REPLICA sets both threads to Yes. */
  replica?: {
    io: string;
    sql: string;
    lag: number | null;
    options: { [name: string]: string };
    lastSqlError?: string;
  };
}

/** One recorded call. */
export interface Call {
  tool: string;
  argv: string[];
  stdin?: string;
  /** Statements the client sent, whitespace collapsed. */
  statements?: string[];
  /** mysqld: the options in effect (option files, then the command line). */
  options?: { [name: string]: string };
  exit: number;
}

const COMMON = String.raw`
const fs = require('fs');
const path = require('path');
const dir = process.env.STANDIN_DIR;
const stateFile = path.join(dir, 'state.json');
const readState = () => JSON.parse(fs.readFileSync(stateFile, 'utf-8'));
const writeState = (s) => { fs.writeFileSync(stateFile + '.tmp', JSON.stringify(s)); fs.renameSync(stateFile + '.tmp', stateFile); };
const record = (entry) => fs.appendFileSync(path.join(dir, 'calls.jsonl'), JSON.stringify(entry) + '\n');
const serverFile = (socket) => path.join(dir, 'servers', path.basename(socket));
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
// [client] options of --defaults-extra-file
const clientOptions = (argv) => {
  const file = (argv.find((a) => a.startsWith('--defaults-extra-file=')) || '').split('=').slice(1).join('=');
  const o = {};
  if (!file) return o;
  for (const line of fs.readFileSync(file, 'utf-8').split('\n')) {
    const m = /^([a-z_-]+)=(.*)$/.exec(line.trim());
    if (m) o[m[1]] = m[2].startsWith('"') ? JSON.parse(m[2]) : m[2];
  }
  return o;
};
`;

const MYSQL = String.raw`
${COMMON}
const argv = process.argv.slice(2);
const opts = clientOptions(argv);
const eIndex = argv.indexOf('-e');
const sql = eIndex >= 0 ? argv[eIndex + 1] : fs.readFileSync(0, 'utf-8');
// comment lines (a dump's header and positions) are not statements
const statements = sql.split('\n').filter((l) => !l.startsWith('--')).join('\n')
  .split(/;\s*(?:\n|$)/).map((x) => x.replace(/\s+/g, ' ').trim()).filter(Boolean);
const entry = { tool: 'mysql', argv, ...(eIndex >= 0 ? {} : { stdin: sql }), statements };
const fail = (message) => { record({ ...entry, exit: 1 }); process.stderr.write(message + '\n'); process.exit(1); };
const hIndex = argv.indexOf('-h');
if (hIndex >= 0) {
  // a remote member, as the backup user
  const host = argv[hIndex + 1];
  const st0 = readState();
  const member = (st0.remote || {})[host];
  if (!member || !member.up) fail("ERROR 2003 (HY000): Can't connect to MySQL server on '" + host + ":3306' (111)");
  if (opts.user !== 'backup' || opts.password !== st0.backupPassword) fail("ERROR 1045 (28000): Access denied for user '" + opts.user + "'@'10.0.0.9' (using password: YES)");
  let out = '';
  for (const st of statements) {
    if (st === 'SELECT 1') out += '1\n';
    else if (/^SELECT schema_name FROM information_schema\.schemata WHERE schema_name NOT IN \('mysql', 'information_schema', 'performance_schema', 'sys'\) ORDER BY schema_name$/.test(st)) out += member.schemas.map((x) => x + '\n').join('');
    else fail("ERROR 1064 (42000): You have an error in your SQL syntax near '" + st.slice(0, 40) + "'");
  }
  record({ ...entry, exit: 0 });
  process.stdout.write(out);
  process.exit(0);
}
if (!fs.existsSync(serverFile(opts.socket || ''))) fail("ERROR 2002 (HY000): Can't connect to local MySQL server through socket '" + opts.socket + "' (2)");
let state = readState();
if ((opts.password || '') !== state.rootPassword) fail("ERROR 1045 (28000): Access denied for user 'root'@'localhost' (using password: " + (opts.password ? 'YES' : 'NO') + ')');
let out = '';
for (const st of statements) {
  let m;
  if (/^(SET @@SESSION\.SQL_LOG_BIN= 0|SET @@GLOBAL\.GTID_PURGED=\/\*!80000 '\+'\*\/ '[^']+'|CREATE DATABASE \/\*!32312 IF NOT EXISTS\*\/ \x60\w+\x60|USE \x60\w+\x60)$/.test(st)) {
    state.loaded = [...(state.loaded || []), st];
    continue;
  }
  if ((m = /^ALTER USER 'root'@'localhost' IDENTIFIED BY '(.*)'$/.exec(st))) state.rootPassword = m[1];
  else if (/^(CREATE USER IF NOT EXISTS |GRANT |CREATE DATABASE IF NOT EXISTS |SET GLOBAL clone_valid_donor_list=')/.test(st)) { /* accepted */ }
  else if (/^CLONE INSTANCE FROM '[^']+'@'[^']+':\d+ IDENTIFIED BY '.*'$/.test(st)) {
    if (state.clone === 'unreachable') fail("ERROR 2003 (HY000): Can't connect to MySQL server on 'donor:3306' (111)");
    if (state.clone === 'hold') {
      state.cloning = true;
      writeState(state);
      while (!fs.existsSync(path.join(dir, 'release-clone'))) sleep(50);
      state = readState();
      state.cloning = false;
    }
    state.rootPassword = state.primaryRootPassword;
    writeState(state);
    // the recipient restarts; with no monitoring process the server stops instead
    fs.writeFileSync(serverFile(opts.socket) + '.stop', '');
    fail('ERROR 3707 (HY000): Restart server failed (mysqld is not managed by supervisor process).');
  } else if ((m = /^CHANGE REPLICATION SOURCE TO (.*)$/.exec(st))) {
    const options = Object.fromEntries(m[1].split(/,\s*/).map((kv) => kv.split('=').map((x) => x.trim())));
    state.replica = { io: 'No', sql: 'No', lag: null, options };
  } else if (st === 'START REPLICA') {
    if (!state.replica) fail('ERROR 3081 (HY000): Replica is not configured or failed to initialize properly.');
    state.replica = { ...state.replica, io: 'Yes', sql: 'Yes', lag: 0 };
  } else if (st === 'SHOW REPLICA STATUS') {
    if (!argv.includes('-E')) fail('stand-in: SHOW REPLICA STATUS is answered in vertical (-E) output only');
    const r = state.replica;
    if (r) {
      const running = r.io === 'Yes' && r.sql === 'Yes';
      const rows = [
        ['Replica_IO_State', r.io === 'Yes' ? 'Waiting for source to send event' : r.io === 'Connecting' ? 'Connecting to source' : ''],
        ['Source_Host', (r.options.SOURCE_HOST || '').replace(/'/g, '')],
        ['Source_User', (r.options.SOURCE_USER || '').replace(/'/g, '')],
        ['Source_Port', r.options.SOURCE_PORT || '3306'],
        ['Connect_Retry', r.options.SOURCE_CONNECT_RETRY || '60'],
        ['Replica_IO_Running', r.io],
        ['Replica_SQL_Running', r.sql],
        ['Last_SQL_Error', r.lastSqlError || ''],
        ['Seconds_Behind_Source', running && r.lag !== null ? String(r.lag) : 'NULL'],
        ['Last_IO_Error', r.io === 'Connecting' ? "Error connecting to source 'replicator@db-0:3306'. This was attempt 3/86400, with a delay of 10 seconds between attempts." : ''],
        ['Source_Retry_Count', r.options.SOURCE_RETRY_COUNT || '10'],
        ['Auto_Position', r.options.SOURCE_AUTO_POSITION || '0'],
      ];
      out += '*************************** 1. row ***************************\n' + rows.map(([k, v]) => k.padStart(30) + ': ' + v).join('\n') + '\n';
    }
  } else if (st === 'SELECT @@global.read_only') out += state.readOnly + '\n';
  else if (st === 'SELECT 1') out += '1\n';
  else fail("ERROR 1064 (42000): You have an error in your SQL syntax near '" + st.slice(0, 40) + "'");
}
writeState(state);
record({ ...entry, exit: 0 });
process.stdout.write(out);
`;

const MYSQLADMIN = String.raw`
${COMMON}
const argv = process.argv.slice(2);
const opts = clientOptions(argv);
const up = fs.existsSync(serverFile(opts.socket || ''));
const done = (exit, out) => { record({ tool: 'mysqladmin', argv, exit }); process.stdout.write(out); process.exit(exit); };
if (!up) done(1, "mysqladmin: connect to server at 'localhost' failed\n");
if (argv.includes('ping')) done(0, 'mysqld is alive\n');
if (argv.includes('shutdown')) {
  if ((opts.password || '') !== readState().rootPassword) done(1, "mysqladmin: connect to server at 'localhost' failed\nerror: 'Access denied for user 'root'@'localhost''\n");
  fs.writeFileSync(serverFile(opts.socket) + '.stop', '');
  while (fs.existsSync(serverFile(opts.socket))) sleep(20);
  done(0, '');
}
done(2, 'stand-in: unsupported mysqladmin command\n');
`;

const MYSQLD = String.raw`
${COMMON}
const argv = process.argv.slice(2);
const options = {};
const set = (k, v) => { options[k.replace(/-/g, '_')] = v; };
const readCnf = (file) => {
  let group = '';
  for (const raw of fs.readFileSync(file, 'utf-8').split('\n')) {
    const line = raw.trim();
    let m;
    if ((m = /^!includedir (.*)$/.exec(line))) {
      for (const f of fs.readdirSync(m[1]).filter((x) => x.endsWith('.cnf')).sort()) readCnf(path.join(m[1], f));
    } else if ((m = /^\[(.*)\]$/.exec(line))) group = m[1];
    else if (group === 'mysqld' && line && !line.startsWith('#')) {
      const i = line.indexOf('=');
      set(i < 0 ? line : line.slice(0, i), i < 0 ? 'ON' : line.slice(i + 1));
    }
  }
};
if (!argv[0].startsWith('--defaults-file=')) { process.stderr.write('--defaults-file must be the first option\n'); process.exit(1); }
readCnf(argv[0].slice('--defaults-file='.length));
for (const a of argv.slice(1)) {
  const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
  set(m[1], m[2] === undefined ? 'ON' : m[2]);
}
const entry = { tool: 'mysqld', argv, options };
if (options.initialize_insecure) {
  const datadir = options.datadir;
  if (fs.existsSync(datadir) && fs.readdirSync(datadir).length > 0) {
    record({ ...entry, exit: 1 });
    process.stderr.write('[ERROR] [MY-010457] [Server] --initialize specified but the data directory has files in it. Aborting.\n');
    process.exit(1);
  }
  fs.mkdirSync(path.join(datadir, 'mysql'), { recursive: true });
  const s = readState();
  s.rootPassword = '';
  writeState(s);
  record({ ...entry, exit: 0 });
  process.exit(0);
}
const socket = options.socket;
if (!options.skip_networking && !process.env.STANDIN_SERVE) { record({ ...entry, exit: 0 }); process.exit(0); }
const s = readState();
s.readOnly = options.read_only === 'ON' ? 1 : 0;
writeState(s);
fs.writeFileSync(serverFile(socket), String(process.pid));
record({ ...entry, exit: -1 });
const stop = () => { fs.rmSync(serverFile(socket), { force: true }); fs.rmSync(serverFile(socket) + '.stop', { force: true }); process.exit(0); };
process.on('SIGTERM', stop);
setInterval(() => { if (fs.existsSync(serverFile(socket) + '.stop')) stop(); }, 20);
`;

const MYSQLDUMP = String.raw`
${COMMON}
const argv = process.argv.slice(2);
const entry = { tool: 'mysqldump', argv };
const fail = (message) => { record({ ...entry, exit: 2 }); process.stderr.write(message + '\n'); process.exit(2); };
if (!argv[0] || !argv[0].startsWith('--defaults-extra-file=')) fail('mysqldump: [ERROR] --defaults-extra-file must be given as the first argument.');
const opts = clientOptions(argv);
const FLAGS = ['--single-transaction', '--routines', '--events', '--triggers', '--hex-blob', '--no-tablespaces', '--databases'];
let host = '';
const databases = [];
const options = {};
for (let i = 1; i < argv.length; i++) {
  const a = argv[i];
  let m;
  if (a === '-h') host = argv[++i];
  else if (FLAGS.includes(a)) options[a] = true;
  else if ((m = /^--source-data=([12])$/.exec(a))) options['--source-data'] = m[1];
  else if ((m = /^--set-gtid-purged=(OFF|ON|AUTO|COMMENTED)$/.exec(a))) options['--set-gtid-purged'] = m[1];
  else if (a.startsWith('-')) fail('mysqldump: [ERROR] unknown option ' + JSON.stringify(a) + '.');
  else databases.push(a);
}
const state = readState();
const member = (state.remote || {})[host];
if (!member || !member.up) fail("mysqldump: Got error: 2003: Can't connect to MySQL server on '" + host + ":3306' (111) when trying to connect");
if (opts.user !== 'backup' || opts.password !== state.backupPassword) fail("mysqldump: Got error: 1045: Access denied for user '" + opts.user + "'@'10.0.0.9' (using password: YES) when trying to connect");
if (!options['--databases'] || databases.length === 0) fail('mysqldump: stand-in: expected --databases and their names');
const q = (name) => String.fromCharCode(96) + name + String.fromCharCode(96);
const gtid = '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-42';
let out = '-- MySQL dump 10.13  Distrib 8.4.8, for Linux (x86_64)\n--\n-- Host: ' + host + '    Database: ' + databases[0] + '\n-- ------------------------------------------------------\n-- Server version\t8.4.8\n';
if (options['--set-gtid-purged'] === 'ON') out += "SET @@SESSION.SQL_LOG_BIN= 0;\n\n--\n-- GTID state at the beginning of the backup \n--\n\nSET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '" + gtid + "';\n";
if (options['--source-data'] === '2') out += "\n--\n-- Position to start replication or point-in-time recovery from\n--\n\n-- CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='binlog.000003', SOURCE_LOG_POS=157;\n";
for (const d of databases) out += '\n--\n-- Current Database: ' + q(d) + '\n--\n\nCREATE DATABASE /*!32312 IF NOT EXISTS*/ ' + q(d) + ';\n\nUSE ' + q(d) + ';\n';
if (state.dumpFails) { process.stdout.write(out); fail('mysqldump: Error 2013: Lost connection to server during query when dumping table orders at row: 1200'); }
out += '-- Dump completed on 2026-12-01  2:30:07\n';
record({ ...entry, options, host, databases, exit: 0 });
process.stdout.write(out);
`;

/** Absolute paths of the image that the tests move under a temporary root. */
const IMAGE_PATHS = /(\/var\/lib\/mysql|\/var\/run\/mysqld|\/var\/run\/secrets\/mysql|\/opt\/cdk8s\/mysql)/g;

/**
 * One member's filesystem in a temporary directory, with the stand-ins first
 * on PATH: the manifest's ConfigMap files (with the image's absolute paths
 * moved under the directory), the Secret files, and the volumes' directories.
 * `cleanup()` removes it and stops any stand-in server left running.
 */
export class MySqlMember {
  public readonly dir: string;
  public readonly root: string;
  private readonly bin: string;
  private readonly children: ChildProcess[] = [];

  public constructor(files: { [name: string]: string }, secrets: { [key: string]: string }, public readonly hostname: string, state: Partial<ServerState> = {}) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mysql-standins-'));
    this.root = path.join(this.dir, 'root');
    this.bin = path.join(this.dir, 'bin');
    for (const d of ['bin', 'servers', 'root/var/lib/mysql', 'root/var/run/mysqld', 'root/var/run/secrets/mysql', 'root/opt/cdk8s/mysql', 'root/opt/cdk8s/mysql-instance',
      'root/var/run/mysqld-exporter', 'root/var/run/secrets/mysql-exporter', 'root/backup', 'root/tmp']) {
      fs.mkdirSync(path.join(this.dir, d), { recursive: true });
    }
    for (const [name, body] of [['mysql', MYSQL], ['mysqladmin', MYSQLADMIN], ['mysqld', MYSQLD], ['mysqldump', MYSQLDUMP]]) {
      fs.writeFileSync(path.join(this.bin, name), `#!${process.execPath}\n${body}`, { mode: 0o755 });
    }
    // the scripts' polling loops, at a test's pace
    fs.writeFileSync(path.join(this.bin, 'sleep'), '#!/bin/bash\nexec /bin/sleep 0.05\n', { mode: 0o755 });
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(this.root, 'opt/cdk8s/mysql', name), this.local(content));
    for (const [key, value] of Object.entries(secrets)) fs.writeFileSync(path.join(this.root, 'var/run/secrets/mysql', key), value);
    fs.writeFileSync(path.join(this.dir, 'calls.jsonl'), '');
    this.setState({ rootPassword: '', primaryRootPassword: '', clone: 'ok', readOnly: 0, ...state });
  }

  /** `text` with the image's absolute paths moved under this member's root. */
  public local(text: string): string {
    return text.replace(IMAGE_PATHS, `${this.root}$1`);
  }

  /** Where an image path is here. */
  public path(imagePath: string): string {
    return this.local(imagePath);
  }

  private env(): NodeJS.ProcessEnv {
    return { PATH: `${this.bin}:/usr/bin:/bin`, HOSTNAME: this.hostname, STANDIN_DIR: this.dir };
  }

  /** Runs a command of the manifest (image paths moved) to completion. */
  public run(command: string[]): { status: number; stdout: string; stderr: string } {
    const [cmd, ...args] = command.map((a) => this.local(a));
    const r = spawnSync(cmd, args, { encoding: 'utf-8', timeout: 30_000, env: this.env() });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  /** Starts a command of the manifest in the background; resolves with its exit code and output. */
  public start(command: string[]): Promise<{ status: number; output: string }> {
    const [cmd, ...args] = command.map((a) => this.local(a));
    const child = spawn(cmd, args, { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    let output = '';
    child.stdout!.on('data', (d) => { output += d; });
    child.stderr!.on('data', (d) => { output += d; });
    return new Promise((resolve) => child.on('close', (code) => resolve({ status: code ?? -1, output })));
  }

  /** A stand-in server answering on `socket` (an image path), as the exec'd mysqld would. */
  public serve(socket: string): void {
    fs.writeFileSync(path.join(this.dir, 'servers', path.basename(socket)), 'test');
  }

  /** Lets a held CLONE finish. */
  public releaseClone(): void {
    fs.writeFileSync(path.join(this.dir, 'release-clone'), '');
  }

  public state(): ServerState {
    return JSON.parse(fs.readFileSync(path.join(this.dir, 'state.json'), 'utf-8'));
  }

  public setState(patch: Partial<ServerState>): void {
    const file = path.join(this.dir, 'state.json');
    const current = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf-8')) : {};
    fs.writeFileSync(file, JSON.stringify({ ...current, ...patch }));
  }

  /** Every call, in order. */
  public calls(tool?: string): Call[] {
    return fs.readFileSync(path.join(this.dir, 'calls.jsonl'), 'utf-8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Call)
      .filter((c) => tool === undefined || c.tool === tool);
  }

  public cleanup(): void {
    for (const c of this.children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const f of fs.readdirSync(path.join(this.dir, 'servers'))) {
      const pid = Number(fs.readFileSync(path.join(this.dir, 'servers', f), 'utf-8'));
      if (Number.isInteger(pid) && pid > 0) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
