/**
 * A real, throw-away Kubernetes control plane for the tests: etcd,
 * kube-apiserver, kube-controller-manager, kube-scheduler and kwok (fake
 * nodes that report pods Running and Ready), all built from source by
 * scripts/kubernetes/build.sh and all listening on 127.0.0.1 only.
 *
 * Every process runs in its own process group under `setpriv --pdeathsig KILL`
 * (the kernel kills it if the test process dies, even by SIGKILL); `stop()`,
 * process exit, SIGINT and SIGTERM kill the groups and remove the temporary
 * directory, and a detached watchdog does the same when the test process dies
 * without running any handler.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';

type Json = any;

export const REPO = path.resolve(__dirname, '../..');
const BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'kwok'];
/** The annotation that keeps kwok from marking a pod Ready (tests remove it to release the pod). */
export const HOLD_READY = 'controlplane.cdk8s-stateful.io/hold-ready';

function versions(): { [k: string]: string } {
  const text = fs.readFileSync(path.join(REPO, 'scripts/kubernetes/versions.env'), 'utf-8');
  return Object.fromEntries(text.split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=', 2) as [string, string]));
}

export const KUBERNETES_VERSION = versions().KUBERNETES_VERSION;

/** Where build.sh puts the binaries (the same rule as the script). */
export function cacheDir(): string {
  const root = process.env.CDK8S_STATEFUL_CACHE
    ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'cdk8s-stateful');
  return path.join(root, `kubernetes-v${KUBERNETES_VERSION}`);
}

function stagesFile(): string {
  return path.join(cacheDir(), `kwok-${versions().KWOK_VERSION}-stages.yaml`);
}

export function bin(name: string): string {
  return path.join(cacheDir(), 'bin', name);
}

let warned = false;
/**
 * True when the built control plane is there. Otherwise: under CI=true it
 * throws (CI must run these tests); elsewhere it prints a loud message once and
 * the caller skips.
 */
export function controlPlaneAvailable(): boolean {
  const missing = BINARIES.filter((b) => !fs.existsSync(bin(b)));
  if (!fs.existsSync(stagesFile())) missing.push(path.basename(stagesFile()));
  if (spawnSync('setpriv', ['--help']).status !== 0) missing.push('setpriv (util-linux)');
  if (missing.length === 0) return true;
  const what = `the Kubernetes control plane (${missing.join(', ')} in ${cacheDir()}; run scripts/kubernetes/build.sh, which needs Go)`;
  if (process.env.CI) throw new Error(`${what} is required in CI`);
  if (!warned) {
    warned = true;
    process.stderr.write(`\n*** SKIPPED: ${what} is not available, so the control-plane tests did not run ***\n`);
  }
  return false;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const live = new Set<ControlPlane>();
let handlersInstalled = false;
function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => live.forEach((c) => c.killNow()));
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      if (live.size > 0) process.stderr.write(`\n${sig}: stopping ${live.size} control plane(s)\n`);
      live.forEach((c) => c.killNow());
      process.kill(process.pid, sig);
    });
  }
}

export interface ControlPlaneOptions {
  /** Fake nodes (kwok), spread over three zones. @default 6 */
  readonly nodes?: number;
  /**
   * Keep running after this process exits (`npm run cluster:up`): the
   * processes are not tied to this one, and `dir` holds everything.
   * @default - tied to this process and removed with it
   */
  readonly persistent?: { readonly dir: string };
  /**
   * Serve `kubectl exec` into pods: kwok answers the kubelet's exec endpoint
   * on the nodes' port and runs the command as a local process, as the
   * namespaced `Exec` objects (kwok.x-k8s.io/v1alpha1, one per pod, created
   * by the test with `execLocally`) describe: working directory and env.
   * @default false
   */
  readonly exec?: boolean;
}

export class ControlPlane {
  /** Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok and waits until they work. */
  public static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const persistent = options.persistent !== undefined;
    if (persistent) fs.mkdirSync(options.persistent!.dir, { recursive: true, mode: 0o700 });
    else installHandlers();
    const cp = new ControlPlane(persistent ? options.persistent!.dir : fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-controlplane-')), persistent);
    if (!persistent) {
      live.add(cp);
      cp.startWatchdog();
    }
    try {
      await cp.boot(options.nodes ?? 6, options.exec ?? false);
    } catch (e) {
      const logs = cp.logTails();
      await cp.stop();
      throw new Error(`${(e as Error).message}\n${logs}`);
    }
    return cp;
  }

  /** A handle on a running control plane (`npm run cluster:up`) through its admin kubeconfig; it owns no process. */
  public static attach(server: string, kubeconfig: string): ControlPlane {
    const cp = new ControlPlane(path.dirname(kubeconfig), true);
    cp.server = server;
    cp.stopped = true;
    return cp;
  }

  public readonly kubeconfig: string;
  public server = '';
  private readonly token = crypto.randomBytes(24).toString('hex');
  private readonly processes = new Map<string, ChildProcess>();
  private stopped = false;
  private watchdog: ChildProcess | undefined;

  private constructor(public readonly dir: string, private readonly persistent = false) {
    this.kubeconfig = path.join(dir, 'admin.kubeconfig');
  }

  /** Writes a kubeconfig for `token` (default: the admin) and returns its path. */
  public writeKubeconfig(file: string, token: string = this.token, namespace?: string): string {
    const config = {
      apiVersion: 'v1', kind: 'Config',
      clusters: [{ name: 'test', cluster: { 'server': this.server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'user', user: { token } }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: 'user', ...(namespace ? { namespace } : {}) } }],
      ['current-context']: 'test',
    };
    fs.writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
    return file;
  }

  /** Runs the built kubectl against this cluster (admin unless `kubeconfig` says otherwise). */
  public kubectl(args: string[], opts: { input?: string; kubeconfig?: string; timeoutMs?: number } = {}): KubectlResult {
    const r = spawnSync(bin('kubectl'), ['--kubeconfig', opts.kubeconfig ?? this.kubeconfig, ...args], {
      input: opts.input, encoding: 'utf-8', timeout: opts.timeoutMs ?? 60_000, maxBuffer: 256 * 1024 * 1024,
      env: { PATH: process.env.PATH, HOME: this.dir },
    });
    return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
  }

  /** kubectl that must succeed; returns stdout. */
  public must(args: string[], opts: { input?: string; kubeconfig?: string } = {}): string {
    const r = this.kubectl(args, opts);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  }

  /** `kubectl get -o json` of a list; the items. */
  public items(args: string[]): Json[] {
    return JSON.parse(this.must(['get', ...args, '-o', 'json'])).items;
  }

  public get(args: string[]): Json | undefined {
    const r = this.kubectl(['get', ...args, '-o', 'json']);
    if (r.code !== 0) {
      if (/NotFound|not found/.test(r.stderr)) return undefined;
      throw new Error(`kubectl get ${args.join(' ')}: ${r.stderr}`);
    }
    return JSON.parse(r.stdout);
  }

  /** Polls `probe` until it returns a truthy value; throws with `what` after `timeoutMs`. */
  public async waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const v = await probe();
        if (v) return v;
      } catch (e) {
        last = e;
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
      await sleep(everyMs);
    }
  }

  /** Creates namespaces that enforce the restricted Pod Security Standard (and warn on it). */
  public createNamespaces(names: string[]): void {
    const docs = names.map((n) => ({
      apiVersion: 'v1', kind: 'Namespace',
      metadata: {
        name: n,
        labels: {
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/audit': 'restricted',
        },
      },
    }));
    if (docs.length === 0) return;
    this.must(['apply', '--server-side', '--field-manager=controlplane-test', '-f', '-'], { input: docs.map((d) => JSON.stringify(d)).join('\n') });
  }

  /**
   * Needs `exec`: `kubectl exec` into each pod of `pods` (namespace `ns`,
   * any container) runs the command as a local process in `workDir`, with
   * `env` and HOSTNAME set to the pod's name, through kwok's Exec objects.
   * The pods need not exist yet.
   */
  public execLocally(ns: string, pods: string[], local: { readonly workDir: string; readonly env: { [name: string]: string } }): void {
    const docs = pods.map((pod) => ({
      apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'Exec', metadata: { name: pod, namespace: ns },
      spec: { execs: [{ local: { workDir: local.workDir, envs: Object.entries({ HOSTNAME: pod, ...local.env }).map(([name, value]) => ({ name, value })) } }] },
    }));
    this.must(['apply', '--server-side', '--field-manager=controlplane-test', '-f', '-'], { input: docs.map((d) => JSON.stringify(d)).join('\n') });
  }

  /** Stops every process (TERM, then KILL) and removes the temporary directory. */
  public async stop(): Promise<void> {
    if (this.stopped) return;
    const order = ['kwok', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'];
    for (const name of order) {
      const p = this.processes.get(name);
      if (!p) continue;
      killGroup(p, 'SIGTERM');
      const deadline = Date.now() + 5000;
      while (p.exitCode === null && p.signalCode === null && Date.now() < deadline) await sleep(50);
      killGroup(p, 'SIGKILL');
      const until = Date.now() + 5000;
      while (p.exitCode === null && p.signalCode === null && Date.now() < until) await sleep(50);
    }
    this.stopped = true;
    live.delete(this);
    fs.rmSync(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    this.watchdog?.stdin?.end();
  }

  /**
   * A detached shell that outlives this process: when this process dies in any
   * way (even SIGKILL, which runs no handler) its stdin pipe closes, and it
   * kills every process group listed in `pids` and removes the directory.
   */
  private startWatchdog(): void {
    const script = 'trap "" INT TERM HUP; cat >/dev/null; '
      + 'if [ -f "$1/pids" ]; then for p in $(cat "$1/pids"); do kill -KILL -- "-$p" 2>/dev/null; done; sleep 1; fi; rm -rf -- "$1"';
    this.watchdog = spawn('sh', ['-c', script, 'controlplane-watchdog', this.dir], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    this.watchdog.unref();
    (this.watchdog.stdin as unknown as { unref(): void }).unref();
  }

  /** Synchronous last resort (process exit, signals). */
  public killNow(): void {
    if (this.stopped) return;
    this.processes.forEach((p) => killGroup(p, 'SIGKILL'));
    this.stopped = true;
    // wait (synchronously: no event loop here) until every process is gone or a zombie
    const pids = [...this.processes.values()].map((p) => p.pid!).filter(Boolean);
    const deadline = Date.now() + 5000;
    while (pids.some(running) && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    try { fs.rmSync(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }); } catch { /* best effort */ }
  }

  /** The last lines of every component's log (for failure messages). */
  public logTails(lines = 15): string {
    return [...this.processes.keys()].map((name) => {
      const file = path.join(this.dir, `${name}.log`);
      const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf-8').split('\n').slice(-lines).join('\n') : '';
      return `--- ${name} ---\n${text}`;
    }).join('\n');
  }

  /** The process id of each component (each leads its own process group). */
  public pids(): { [name: string]: number } {
    return Object.fromEntries([...this.processes].map(([name, p]) => [name, p.pid!]));
  }

  /** Pauses (SIGSTOP) or resumes (SIGCONT) one component. */
  public signal(name: string, sig: NodeJS.Signals): void {
    const p = this.processes.get(name);
    if (!p) throw new Error(`no process ${name}`);
    killGroup(p, sig);
  }

  private run(name: string, args: string[]): ChildProcess {
    const log = fs.openSync(path.join(this.dir, `${name}.log`), 'a');
    const argv = this.persistent ? [bin(name), ...args] : ['setpriv', '--pdeathsig', 'KILL', '--', bin(name), ...args];
    const child = spawn(argv[0], argv.slice(1), {
      stdio: ['ignore', log, log], detached: true, cwd: this.dir, env: { PATH: process.env.PATH, HOME: this.dir },
    });
    fs.closeSync(log);
    if (this.persistent) child.unref();
    else fs.appendFileSync(path.join(this.dir, 'pids'), `${child.pid}\n`);
    this.processes.set(name, child);
    return child;
  }

  private alive(name: string): void {
    const p = this.processes.get(name)!;
    if (p.exitCode !== null || p.signalCode !== null) throw new Error(`${name} exited (${p.exitCode ?? p.signalCode})`);
  }

  private async boot(nodes: number, exec: boolean): Promise<void> {
    const d = this.dir;
    const [etcdClient, etcdPeer, apiPort, kcmPort, schedPort, kwokPort, kwokNodePort] = await Promise.all(
      [1, 2, 3, 4, 5, 6, 7].map(() => freePort()));

    // etcd
    this.run('etcd', [
      '--name=default', `--data-dir=${path.join(d, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`, `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`, '--unsafe-no-fsync', '--log-level=warn',
    ]);
    await this.waitFor('etcd', async () => {
      this.alive('etcd');
      const r = await fetch(`http://127.0.0.1:${etcdClient}/health`);
      return r.ok && ((await r.json()) as { health?: string }).health === 'true';
    }, 30_000);

    // service-account keys and the admin token
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const saKey = path.join(d, 'sa.key');
    const saPub = path.join(d, 'sa.pub');
    fs.writeFileSync(saKey, privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
    fs.writeFileSync(saPub, publicKey.export({ type: 'spki', format: 'pem' }));
    const tokens = path.join(d, 'tokens.csv');
    fs.writeFileSync(tokens, `${this.token},admin,admin,"system:masters"\n`, { mode: 0o600 });

    this.server = `https://127.0.0.1:${apiPort}`;
    this.run('kube-apiserver', [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${apiPort}`,
      // the "kubernetes" Endpoints may not hold a loopback address: do not maintain it
      '--endpoint-reconciler-type=none',
      `--cert-dir=${path.join(d, 'certs')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${saPub}`, `--service-account-signing-key-file=${saKey}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--authorization-mode=Node,RBAC', `--token-auth-file=${tokens}`,
      '--anonymous-auth=false', '--profiling=false', '--v=1',
    ]);
    this.writeKubeconfig(this.kubeconfig);
    await this.waitFor('kube-apiserver /readyz', () => {
      this.alive('kube-apiserver');
      return this.kubectl(['get', '--raw', '/readyz'], { timeoutMs: 10_000 }).stdout.trim() === 'ok';
    }, 90_000, 500);

    const ca = path.join(d, 'certs', 'apiserver.crt');
    this.run('kube-controller-manager', [
      `--kubeconfig=${this.kubeconfig}`, `--authentication-kubeconfig=${this.kubeconfig}`, `--authorization-kubeconfig=${this.kubeconfig}`,
      '--bind-address=127.0.0.1', `--secure-port=${kcmPort}`, `--cert-dir=${path.join(d, 'kcm-certs')}`,
      '--controllers=*', '--use-service-account-credentials',
      `--service-account-private-key-file=${saKey}`, `--root-ca-file=${ca}`,
      '--leader-elect=false', '--profiling=false', '--v=1',
      // no cloud, no node IPAM: kwok assigns pod IPs
      '--allocate-node-cidrs=false',
    ]);
    this.run('kube-scheduler', [
      `--kubeconfig=${this.kubeconfig}`, `--authentication-kubeconfig=${this.kubeconfig}`, `--authorization-kubeconfig=${this.kubeconfig}`,
      '--bind-address=127.0.0.1', `--secure-port=${schedPort}`, `--cert-dir=${path.join(d, 'sched-certs')}`,
      '--leader-elect=false', '--profiling=false', '--v=1',
    ]);

    // kwok: the default stages, with pod readiness held while a pod carries HOLD_READY
    const stages = YAML.parseAllDocuments(fs.readFileSync(stagesFile(), 'utf-8')).map((doc) => doc.toJSON()).filter(Boolean);
    const ready = stages.find((s: Json) => s.metadata.name === 'pod-ready');
    if (!ready) throw new Error(`${stagesFile()} has no pod-ready stage`);
    ready.spec.selector.matchExpressions.push({ key: `.metadata.annotations["${HOLD_READY}"]`, operator: 'DoesNotExist' });
    if (exec) {
      this.must(['apply', '--server-side', '--field-manager=controlplane-test', '-f', '-'], { input: JSON.stringify(EXEC_CRD) });
      this.must(['wait', '--for=condition=Established', '--timeout=60s', `crd/${EXEC_CRD.metadata.name}`]);
    }
    const kwokConfig = path.join(d, 'kwok.yaml');
    fs.writeFileSync(kwokConfig, stages.map((s: Json) => YAML.stringify(s)).join('---\n'));
    this.run('kwok', [
      `--kubeconfig=${this.kubeconfig}`, `--config=${kwokConfig}`,
      '--manage-all-nodes=false', '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      // with exec, the server answers on the port the nodes advertise, where the API server dials the "kubelet"
      `--server-address=127.0.0.1:${exec ? kwokNodePort : kwokPort}`, '--node-ip=127.0.0.1', `--node-port=${kwokNodePort}`,
      ...(exec ? ['--enable-crds=Exec'] : []),
    ]);

    // controllers at work: the serviceaccount and root-CA publishers ran
    await this.waitFor('kube-controller-manager (default ServiceAccount, kube-root-ca.crt)', () => {
      this.alive('kube-controller-manager');
      this.alive('kube-scheduler');
      return this.get(['serviceaccount', 'default', '-n', 'default']) && this.get(['configmap', 'kube-root-ca.crt', '-n', 'default']);
    }, 60_000, 500);

    // fake nodes over three zones, made Ready by kwok
    const nodeDocs = Array.from({ length: nodes }, (_, i) => ({
      apiVersion: 'v1', kind: 'Node',
      metadata: {
        name: `kwok-node-${i}`,
        annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        labels: {
          'kubernetes.io/hostname': `kwok-node-${i}`, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64',
          'topology.kubernetes.io/zone': `zone-${'abc'[i % 3]}`, 'type': 'kwok',
        },
      },
      status: { allocatable: { cpu: '64', memory: '256Gi', pods: '110' }, capacity: { cpu: '64', memory: '256Gi', pods: '110' } },
    }));
    this.must(['create', '-f', '-'], { input: nodeDocs.map((n) => JSON.stringify(n)).join('\n') });
    await this.waitFor(`${nodes} Ready kwok nodes`, () => {
      this.alive('kwok');
      const ready = this.items(['nodes']).filter((n) => n.status?.conditions?.some((c: Json) => c.type === 'Ready' && c.status === 'True'));
      return ready.length === nodes;
    }, 60_000, 500);
  }
}

/**
 * kwok's `Exec` resource (kwok.x-k8s.io/v1alpha1): which local process a
 * `kubectl exec` into a pod runs as. Served without a schema of its own (kwok
 * validates what it reads); the fields are documented at https://kwok.sigs.k8s.io/docs/user/exec-configuration/.
 */
const EXEC_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
  metadata: { name: 'execs.kwok.x-k8s.io' },
  spec: {
    group: 'kwok.x-k8s.io', scope: 'Namespaced',
    names: { kind: 'Exec', listKind: 'ExecList', plural: 'execs', singular: 'exec' },
    versions: [{
      name: 'v1alpha1', served: true, storage: true, subresources: { status: {} },
      schema: { openAPIV3Schema: { 'type': 'object', 'x-kubernetes-preserve-unknown-fields': true } },
    }],
  },
};

/** True while `pid` exists and is not a zombie. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf-8'));
  } catch {
    return false;
  }
}

function killGroup(p: ChildProcess, signal: NodeJS.Signals): void {
  if (p.pid === undefined || p.exitCode !== null || p.signalCode !== null) return;
  try {
    process.kill(-p.pid, signal);
  } catch {
    try { p.kill(signal); } catch { /* gone */ }
  }
}
