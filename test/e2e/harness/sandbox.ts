/**
 * Linux plumbing for running a "pod" as local processes: a network namespace
 * with its own loopback-range address on a private bridge, a UTS namespace
 * with the pod's hostname, and a mount namespace in which each container gets
 * its own read-only root (the host's /usr and /etc) with the pod's volumes
 * bound at their mount paths and a private /etc/hosts.
 *
 * Every address is in 127.0.0.0/8 and lives only in namespaces this harness
 * creates (route_localnet lets the veths carry it); nothing is sent anywhere
 * else. Everything is removed by `Network.destroy` and `Sandbox.stop`.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const SUBNET_PREFIX = '127.0.10.';

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf-8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryRun(cmd: string, args: string[]): void {
  spawnSync(cmd, args, { stdio: 'ignore' });
}

/** True when this machine lets us create namespaces (root, iproute2, util-linux). */
export function canCreateNamespaces(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = `cdk8s-e2e-probe-${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', probe], { stdio: 'ignore' });
  if (r.status !== 0) return false;
  tryRun('ip', ['netns', 'del', probe]);
  return spawnSync('unshare', ['--uts', '--mount', 'true'], { stdio: 'ignore' }).status === 0;
}

/** A bridge in a namespace of its own that every pod's veth plugs into. */
export class Network {
  public readonly bridgeNs: string;
  private readonly pods = new Set<string>();

  public constructor(public readonly prefix: string) {
    // remove leftovers of an earlier run that died before cleaning up
    for (const ns of run('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0])) {
      if (ns.startsWith('cdk8s-e2e-') && !ns.startsWith(prefix)) {
        const pid = Number(ns.split('-')[2]);
        if (!Number.isInteger(pid) || !isAlive(pid)) tryRun('ip', ['netns', 'del', ns]);
      }
    }
    this.bridgeNs = `${prefix}-br`;
    run('ip', ['netns', 'add', this.bridgeNs]);
    run('ip', ['-n', this.bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
    run('ip', ['-n', this.bridgeNs, 'link', 'set', 'br0', 'up']);
  }

  /** Creates the namespace `ns` with interface eth0 at `ip`. */
  public attach(ns: string, index: number, ip: string): void {
    const host = `e2e${process.pid % 10000}x${index}`.slice(0, 15);
    run('ip', ['netns', 'add', ns]);
    this.pods.add(ns);
    run('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', `${host}p`]);
    run('ip', ['link', 'set', `${host}p`, 'netns', ns]);
    run('ip', ['link', 'set', host, 'netns', this.bridgeNs]);
    run('ip', ['-n', this.bridgeNs, 'link', 'set', host, 'master', 'br0']);
    run('ip', ['-n', this.bridgeNs, 'link', 'set', host, 'up']);
    run('ip', ['-n', ns, 'link', 'set', `${host}p`, 'name', 'eth0']);
    run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.conf.all.route_localnet=1', 'net.ipv4.conf.eth0.route_localnet=1']);
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // a MAC derived from the address: a pod that comes back on the same IP has the same MAC,
    // so its peers' neighbour caches stay right (a fresh random MAC left them unreachable ~60 s)
    run('ip', ['-n', ns, 'link', 'set', 'eth0', 'address', macFor(ip)]);
    run('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  }

  /** Removes a pod's namespace (its veth goes with it). */
  public detach(ns: string): void {
    tryRun('ip', ['netns', 'del', ns]);
    this.pods.delete(ns);
  }

  public destroy(): void {
    for (const ns of [...this.pods]) this.detach(ns);
    tryRun('ip', ['netns', 'del', this.bridgeNs]);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A bind mount inside a container root. */
export interface Bind {
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

/** What one container of a pod sees. */
export interface ContainerRoot {
  readonly name: string;
  readonly binds: Bind[];
  readonly readOnlyRoot: boolean;
}

/**
 * The namespaces of one pod, held open by a `sleep` process; containers'
 * processes are started inside them with nsenter + chroot.
 */
export class Sandbox {
  private holder: ChildProcess | undefined;
  private readonly processes = new Set<ChildProcess>();

  public constructor(
    public readonly hostname: string,
    public readonly netns: string,
    public readonly dir: string,
    private readonly containers: ContainerRoot[],
  ) {}

  public rootOf(container: string): string {
    return path.join(this.dir, 'roots', container);
  }

  /** Creates the namespaces and the container roots; resolves when they are ready. */
  public async start(): Promise<void> {
    const script = ['set -euo pipefail', `hostname ${q(this.hostname)}`, 'mount --make-rprivate /'];
    for (const c of this.containers) {
      const root = this.rootOf(c.name);
      fs.mkdirSync(root, { recursive: true });
      script.push(`mount --bind ${q(root)} ${q(root)}`);
      for (const d of ['usr', 'etc', 'dev', 'proc', 'tmp', 'run', 'var']) fs.mkdirSync(path.join(root, d), { recursive: true });
      for (const l of ['bin', 'sbin', 'lib', 'lib64']) {
        if (!fs.existsSync(path.join(root, l))) fs.symlinkSync(`usr/${l}`, path.join(root, l));
      }
      for (const tree of ['/usr', '/etc']) script.push(...this.hostTree(tree, c));
      script.push(`mount --rbind /dev ${q(root)}/dev`, `mount -t proc proc ${q(root)}/proc`);
      for (const b of c.binds) {
        const target = path.join(root, b.target);
        if (fs.existsSync(b.source) && fs.statSync(b.source).isFile()) {
          fs.mkdirSync(path.dirname(target), { recursive: true });
          if (!fs.existsSync(target)) fs.writeFileSync(target, '');
        } else {
          fs.mkdirSync(target, { recursive: true });
        }
        script.push(`mount --bind ${q(b.source)} ${q(target)}`);
        if (b.readOnly) script.push(`mount -o remount,bind,ro ${q(target)}`);
      }
      if (c.readOnlyRoot) script.push(`mount -o remount,bind,ro ${q(root)}`);
    }
    const marker = path.join(this.dir, 'sandbox-ready');
    script.push(`touch ${q(marker)}`, 'exec sleep infinity');
    fs.writeFileSync(path.join(this.dir, 'sandbox.sh'), `${script.join('\n')}\n`);
    const log = fs.openSync(path.join(this.dir, 'sandbox.log'), 'a');
    this.holder = spawn('ip', ['netns', 'exec', this.netns, 'unshare', '--uts', '--mount', '--propagation', 'private', 'bash', path.join(this.dir, 'sandbox.sh')],
      { stdio: ['ignore', log, log], detached: true });
    fs.closeSync(log);
    const deadline = Date.now() + 15000;
    while (!fs.existsSync(marker)) {
      if (this.holder.exitCode !== null || Date.now() > deadline) {
        throw new Error(`sandbox of ${this.hostname} did not start: ${fs.readFileSync(path.join(this.dir, 'sandbox.log'), 'utf-8')}`);
      }
      await sleep(50);
    }
  }

  /**
   * Lines that show the host's `tree` (/usr, /etc) read-only in a container
   * root. Where the container binds something at a path the host's tree lacks
   * (an image's /etc/kafka), the tree is an overlay whose upper layer, in the
   * pod's dir, holds those mount points: the host's tree is never written.
   */
  private hostTree(tree: string, c: ContainerRoot): string[] {
    const root = this.rootOf(c.name);
    const missing = c.binds.filter((b) => b.target.startsWith(`${tree}/`) && !fs.existsSync(b.target));
    if (missing.length === 0) return [`mount --rbind ${tree} ${q(root + tree)}`, `mount -o remount,bind,ro ${q(root + tree)}`];
    const layers = path.join(this.dir, 'overlays', c.name, tree.slice(1));
    for (const b of missing) {
      const point = path.join(layers, 'upper', b.target.slice(tree.length));
      const file = fs.existsSync(b.source) && fs.statSync(b.source).isFile();
      fs.mkdirSync(file ? path.dirname(point) : point, { recursive: true });
      if (file) fs.writeFileSync(point, '');
    }
    fs.mkdirSync(path.join(layers, 'work'), { recursive: true });
    return [
      `mount -t overlay overlay -o ${q(`lowerdir=${tree},upperdir=${layers}/upper,workdir=${layers}/work`)} ${q(root + tree)}`,
      `mount -o remount,ro ${q(root + tree)}`,
    ];
  }

  /** argv that runs `command` in `container` as uid:gid with `env` only. */
  public argv(container: string, uid: number, gid: number, env: { [k: string]: string }, command: string[]): string[] {
    if (!this.holder?.pid) throw new Error(`sandbox of ${this.hostname} is not running`);
    return [
      'nsenter', '--target', String(this.holder.pid), '--mount', '--uts', '--net', '--',
      'chroot', `--userspec=${uid}:${gid}`, `--groups=${gid}`, this.rootOf(container),
      'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...command,
    ];
  }

  /** Starts a long-running process; its output goes to `logFile`. */
  public spawn(container: string, uid: number, gid: number, env: { [k: string]: string }, command: string[], logFile: string): ChildProcess {
    const [cmd, ...args] = this.argv(container, uid, gid, env, command);
    const log = fs.openSync(logFile, 'a');
    const child = spawn(cmd, args, { stdio: ['ignore', log, log], detached: true });
    fs.closeSync(log);
    this.processes.add(child);
    child.on('exit', () => this.processes.delete(child));
    return child;
  }

  /** Runs a command to completion; resolves with its exit code and output. */
  public exec(container: string, uid: number, gid: number, env: { [k: string]: string }, command: string[], timeoutMs: number): Promise<{ code: number; output: string }> {
    const [cmd, ...args] = this.argv(container, uid, gid, env, command);
    return new Promise((resolve) => {
      const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      this.processes.add(child);
      let output = '';
      child.stdout!.on('data', (d) => { output += d; });
      child.stderr!.on('data', (d) => { output += d; });
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), timeoutMs);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        this.processes.delete(child);
        resolve({ code: code ?? (signal ? 128 : 1), output });
      });
    });
  }

  /** Stops every process of the pod (TERM, then KILL after `graceMs`) and the namespaces. */
  public async stop(graceMs: number): Promise<void> {
    const running = [...this.processes].filter((p) => p.exitCode === null && p.signalCode === null);
    running.forEach((p) => killGroup(p, 'SIGTERM'));
    const deadline = Date.now() + graceMs;
    while (running.some((p) => p.exitCode === null && p.signalCode === null) && Date.now() < deadline) await sleep(100);
    running.forEach((p) => killGroup(p, 'SIGKILL'));
    if (this.holder) {
      killGroup(this.holder, 'SIGKILL');
      const h = this.holder;
      const until = Date.now() + 5000;
      while (h.exitCode === null && h.signalCode === null && Date.now() < until) await sleep(50);
      this.holder = undefined;
    }
    // a process that escaped its group (double fork) still lives in the pod's
    // network namespace: find it there
    for (const pid of run('ip', ['netns', 'pids', this.netns]).split('\n').filter(Boolean)) {
      try { process.kill(Number(pid), 'SIGKILL'); } catch { /* already gone */ }
    }
  }
}

export function killGroup(p: ChildProcess, signal: NodeJS.Signals): void {
  if (p.pid === undefined || p.exitCode !== null || p.signalCode !== null) return;
  try {
    process.kill(-p.pid, signal);
  } catch {
    try { p.kill(signal); } catch { /* gone */ }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Single-quotes a string for bash. */
export function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A locally administered unicast MAC (02:00:...) holding the four octets of `ip`. */
export function macFor(ip: string): string {
  return ['02', '00', ...ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0'))].join(':');
}
