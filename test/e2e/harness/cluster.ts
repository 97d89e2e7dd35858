/**
 * A "cluster" made of local processes: it takes synthesized manifests and runs
 * StatefulSet pods and Jobs from them, exactly as written (ConfigMap and
 * Secret files at their mount paths, env from the manifest, init containers
 * then containers with their command and args, the rendered probes deciding
 * readiness), with Debian's servers standing in for container images.
 * Where a container image and a Debian package differ, a listed
 * `Substitution` bridges the gap; the table is printed with the results.
 */
import { ChildProcess, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DnsPod, endpointsOf, hostsFileOf, serviceRecords } from './dns';
import { NFT_TABLE, PolicyPod, renderPolicyTables } from './policy';
import { Bind, ContainerRoot, Network, Sandbox, sleep, SUBNET_PREFIX } from './sandbox';
import { Labels } from './selectors';

type Json = any;

/** One place where the local run differs from a real cluster, and why. */
export interface Substitution {
  /** What the manifest (or the image) has. */
  readonly manifest: string;
  /** What the harness does instead. */
  readonly local: string;
  /** Why the difference cannot be avoided. */
  readonly why: string;
}

/** An executable the harness provides under a container image's name. */
export interface BinaryShim extends Substitution {
  /** The name scripts call (found first on PATH). */
  readonly name: string;
  /** Shell script body (after `#!/bin/bash`) that stands in for it. */
  readonly script: string;
}

/** A host directory the harness binds read-only where a container image has its own (e.g. /opt/kafka/libs). */
export interface ImageMount extends Substitution {
  /** The directory on the host. */
  readonly source: string;
  /** Where the image has it, in every container (or in those of `image`). */
  readonly target: string;
  /**
   * Bind it only into containers that run this image, e.g. where two images keep different files at one path.
   * @default - every container
   */
  readonly image?: string;
}

export interface LocalClusterOptions {
  /** Shims for executables whose path or behaviour differs between image and Debian. */
  readonly binaries?: BinaryShim[];
  /** Directories of an image's filesystem that Debian does not have, bound read-only into every container. */
  readonly mounts?: ImageMount[];
  /** Extra env per container name (the image's own ENV lines). */
  readonly imageEnv?: { [container: string]: { [key: string]: string } };
  /** Substitutions that are not binaries or env (listed in the table). */
  readonly notes?: Substitution[];
  /** Longest wait for a pod to become Ready. */
  readonly readyTimeoutMs?: number;
}

/** A pod with no containers beyond a shell, for connecting from (see `startClientPod`). */
export interface ClientPodOptions {
  /** Pod name (unique in the cluster). */
  readonly name: string;
  /** Its namespace. @default 'default' */
  readonly namespace?: string;
  /** Its labels, which NetworkPolicies select on. @default - none */
  readonly labels?: Labels;
  /** User and group of its shell. @default - nobody (65534:65534) */
  readonly runAs?: { readonly uid: number; readonly gid: number };
}

interface RunningPod extends DnsPod, PolicyPod {
  readonly owner: Json;
  readonly ordinal: number;
  readonly sandbox: Sandbox;
  readonly template: Json;
  readonly main: Map<string, ChildProcess>;
  readonly hostsFile: string;
  ready: boolean;
  /** Set once stopPod has begun: the pod is terminating. */
  stopped?: Promise<void>;
  /** The readiness loop (after the first Ready), and how to cut its pause short. */
  monitor?: Promise<void>;
  wake?: () => void;
  monitorError?: Error;
  /** What was last written or applied, to skip unchanged rewrites. */
  hosts?: string;
  policy?: string;
}

/** How often probes run until a pod is first Ready. */
const PROBE_POLL_MS = 1000;
/** The longest period between readiness probes once a pod is Ready (a manifest's shorter periodSeconds stays). */
export const READINESS_PERIOD_CAP_S = 2;

export class LocalCluster {
  public readonly dir: string;
  public readonly substitutions: Substitution[];
  private readonly network: Network;
  private readonly prefix: string;
  private readonly pods = new Map<string, RunningPod>();
  private readonly secrets = new Map<string, { [key: string]: string }>();
  private readonly binDir: string;
  private readonly secretStore: string;
  private nextIp = 11;
  private destroying = false;
  /** Every change of a pod's readiness (its first Ready and its stop included), in order. */
  public readonly readinessEvents: { readonly pod: string; readonly ready: boolean; readonly at: number }[] = [];
  private netIndex = 0;

  public constructor(private readonly objects: Json[], private readonly options: LocalClusterOptions = {}) {
    this.prefix = `cdk8s-e2e-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-e2e-'));
    fs.chmodSync(this.dir, 0o755);
    this.binDir = path.join(this.dir, 'bin');
    this.secretStore = path.join(this.dir, 'api-secrets');
    fs.mkdirSync(this.binDir);
    fs.mkdirSync(this.secretStore, { mode: 0o777 });
    fs.chmodSync(this.secretStore, 0o777);
    fs.mkdirSync(path.join(this.secretStore, '.exec'), { mode: 0o777 });
    fs.chmodSync(path.join(this.secretStore, '.exec'), 0o777);
    for (const s of objects.filter((o) => o.kind === 'Secret')) {
      const data: { [k: string]: string } = {};
      for (const [k, v] of Object.entries<string>(s.data ?? {})) data[k] = Buffer.from(v, 'base64').toString('utf-8');
      Object.assign(data, s.stringData ?? {});
      this.secrets.set(s.metadata.name, data);
    }
    const shims: BinaryShim[] = [...KUBECTL_SHIM(this.secretStore), ...(options.binaries ?? [])];
    for (const b of shims) fs.writeFileSync(path.join(this.binDir, b.name), `#!/bin/bash\n${b.script}\n`, { mode: 0o755 });
    this.substitutions = [
      ...[...shims, ...(options.mounts ?? [])].map(({ manifest, local, why }) => ({ manifest, local, why })),
      ...Object.entries(options.imageEnv ?? {}).flatMap(([c, env]) => Object.entries(env).map(([k, v]) => ({
        manifest: `image ENV of container '${c}': ${k}`, local: `${k}=${v}`, why: 'an image sets it in its Dockerfile, which the harness does not read',
      }))),
      {
        manifest: 'pod network', local: `own network namespace per pod with ${SUBNET_PREFIX}x on a private bridge`,
        why: 'no cluster network here; every address stays in 127.0.0.0/8 inside namespaces the test creates',
      },
      {
        manifest: 'cluster DNS (CoreDNS)',
        local: 'each pod\'s /etc/hosts, rewritten whenever a pod starts, stops or changes readiness: a Service\'s endpoints are the Ready pods it selects in its namespace '
          + '(and the not-Ready ones with publishNotReadyAddresses: true); a headless Service name resolves to every endpoint and <pod>.<service> exists only for endpoints; '
          + 'an ordinary Service name resolves to one endpoint (the first started) and not at all without one; every pod resolves its own name; short names are aliases (no search path)',
        why: 'no DNS server or kube-proxy here, so no Service virtual IP and no load balancing; a Service with no endpoints fails to resolve instead of refusing connections',
      },
      {
        manifest: 'NetworkPolicy (CNI enforcement)',
        local: `nftables table inet ${NFT_TABLE} in each pod's network namespace, rendered from every NetworkPolicy of the manifest (pod and namespace selectors with matchLabels `
          + 'and matchExpressions, ipBlock, numeric, ranged and named ports) and rendered again for every pod when a pod starts or stops; denied packets are dropped; '
          + 'loopback and replies to allowed connections always pass; DNS egress rules have nothing to allow (names come from /etc/hosts)',
        why: 'no CNI plugin here; the rules are rendered from the manifest\'s policies as written, so a policy that shuts out a peer breaks the test as it would break the system',
      },
      { manifest: 'container image filesystem', local: 'the host\'s /usr and /etc, read-only, with the pod\'s volumes bound at their mount paths', why: 'no container images can be pulled here' },
      {
        manifest: 'probe periodSeconds',
        local: `until a pod is first Ready its probes run every ${PROBE_POLL_MS / 1000} s; after that the readiness probes keep running every min(periodSeconds, ${READINESS_PERIOD_CAP_S}) s `
          + 'with the manifest\'s failureThreshold and successThreshold, and a pod whose container exited is not Ready (containers are not restarted)',
        why: 'keeps each scenario within its time budget; the probe commands and thresholds themselves are unchanged',
      },
      ...(options.notes ?? []),
    ];
    if (spawnSync('nft', ['--version'], { stdio: 'ignore' }).status !== 0) {
      throw new Error('the harness enforces NetworkPolicies with nft, which is missing: install the Debian package nftables');
    }
    this.network = new Network(this.prefix);
  }

  /** The substitution table, for the test output. */
  public table(): string {
    const rows = this.substitutions.map((s) => `| ${s.manifest} | ${s.local} | ${s.why} |`);
    return ['| in the manifest / image | here | why |', '| --- | --- | --- |', ...rows].join('\n');
  }

  /** Values of a Secret as the API server would hold them. */
  public secret(name: string): { [key: string]: string } {
    this.loadGeneratedSecrets();
    const s = this.secrets.get(name);
    if (!s) throw new Error(`Secret '${name}' does not exist (not in the manifest and not created by a Job)`);
    return s;
  }

  /**
   * Starts every pod of StatefulSet `name`, honouring its podManagementPolicy:
   * OrderedReady starts each pod once the previous one is Ready; Parallel
   * starts them all, runs `whileStarting` (e.g. a bootstrap Job that the
   * pods' readiness depends on), then waits until all are Ready.
   */
  public async startStatefulSet(name: string, opts: { whileStarting?: () => Promise<void> } = {}): Promise<void> {
    const sts = this.find('StatefulSet', name);
    const n = sts.spec.replicas ?? 1;
    if ((sts.spec.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady') {
      for (let i = 0; i < n; i++) await this.startPod(name, i);
      await opts.whileStarting?.();
    } else {
      const pods = await Promise.all(Array.from({ length: n }, (_, i) => this.launchPod(name, i, false)));
      await opts.whileStarting?.();
      await Promise.all(pods.map((p) => this.waitReady(p)));
    }
  }

  /** Starts pod `<name>-<ordinal>` and waits until its probes say Ready. */
  public async startPod(stsName: string, ordinal: number, opts: { newAddress?: boolean } = {}): Promise<void> {
    await this.waitReady(await this.launchPod(stsName, ordinal, opts.newAddress ?? false));
  }

  private async launchPod(stsName: string, ordinal: number, newAddress: boolean): Promise<RunningPod> {
    const sts = this.find('StatefulSet', stsName);
    const podName = `${stsName}-${ordinal}`;
    if (this.pods.has(podName)) throw new Error(`pod ${podName} is already running`);
    const ip = this.addressFor(podName, newAddress);
    const pod = await this.createPod(podName, sts, ordinal, sts.spec.template, ip, (sts.spec.volumeClaimTemplates ?? []).map((t: Json) => t.metadata.name));
    await this.runInitContainers(pod);
    this.startContainers(pod);
    return pod;
  }

  /**
   * Stops a pod (SIGTERM, then SIGKILL after its grace period, capped at 20 s); its claims stay.
   * Like a terminating pod it leaves its Services' Ready endpoints at once.
   */
  public async stopPod(podName: string): Promise<void> {
    const pod = this.pods.get(podName);
    if (!pod) return;
    await this.removePod(pod, Math.min(20, pod.template.spec.terminationGracePeriodSeconds ?? 30) * 1000);
  }

  /**
   * Starts a pod with no containers beyond a shell (`sleep infinity` as
   * `runAs`), with the given labels in the given namespace: a client (or a
   * stranger) to connect from with `exec` and `sh`. It is Ready at once and
   * subject to the NetworkPolicies that select it.
   */
  public async startClientPod(opts: ClientPodOptions): Promise<string> {
    if (this.pods.has(opts.name)) throw new Error(`pod ${opts.name} is already running`);
    const metadata = { name: opts.name, namespace: opts.namespace ?? 'default', labels: opts.labels ?? {} };
    const uid = opts.runAs?.uid ?? 65534;
    const template = {
      metadata: { labels: metadata.labels },
      spec: {
        securityContext: { runAsUser: uid, runAsGroup: opts.runAs?.gid ?? 65534 },
        containers: [{ name: 'client', image: 'e2e/shell', command: ['sleep', 'infinity'] }],
      },
    };
    const pod = await this.createPod(opts.name, { kind: 'Pod', metadata }, 0, template, this.addressFor(opts.name, true), []);
    this.startContainers(pod);
    this.setReady(pod, true);
    return opts.name;
  }

  /** The NetworkPolicy rules nft holds in a running pod's network namespace now ('' when no policy selects it). */
  public policyTable(podName: string): string {
    const pod = this.pods.get(podName);
    if (!pod) throw new Error(`pod ${podName} is not running`);
    const r = spawnSync('ip', ['netns', 'exec', pod.sandbox.netns, 'nft', 'list', 'table', 'inet', NFT_TABLE], { encoding: 'utf-8' });
    return r.status === 0 ? r.stdout : '';
  }

  /** Whether a running pod is Ready now (its probes keep running after the first Ready). */
  public isReady(podName: string): boolean {
    const pod = this.pods.get(podName);
    if (!pod) throw new Error(`pod ${podName} is not running`);
    return pod.ready;
  }

  /**
   * Ends a pod: out of its Services' Ready endpoints, its processes stopped
   * (which ends an in-flight probe), its readiness loop finished, its
   * namespace gone, and every other pod's DNS and policies rendered again.
   * Concurrent calls share one removal.
   */
  private removePod(pod: RunningPod, graceMs: number): Promise<void> {
    pod.stopped ??= (async () => {
      this.setReady(pod, false);
      pod.wake?.();
      await pod.sandbox.stop(graceMs);
      await pod.monitor;
      // synchronously together: no policy is ever rendered into a namespace being deleted
      this.network.detach(pod.sandbox.netns);
      this.pods.delete(pod.name);
      if (!this.destroying) {
        this.writeHosts();
        this.applyPolicies();
      }
      if (pod.monitorError) throw pod.monitorError;
    })();
    return pod.stopped;
  }

  /** Runs Job `name` to completion, retrying up to its backoffLimit. */
  public async runJob(name: string, timeoutMs = 60000): Promise<string> {
    return this.runJobObject(this.find('Job', name), timeoutMs);
  }

  /**
   * Runs one Job of CronJob `name` now (like `kubectl create job --from=cronjob/NAME`),
   * to completion, retrying up to its backoffLimit.
   */
  public async runCronJob(name: string, timeoutMs = 60000): Promise<string> {
    const cron = this.find('CronJob', name);
    return this.runJobObject({ kind: 'Job', metadata: cron.metadata, spec: cron.spec.jobTemplate.spec }, timeoutMs);
  }

  private async runJobObject(job: Json, timeoutMs: number): Promise<string> {
    const name = job.metadata.name;
    const attempts = (job.spec.backoffLimit ?? 6) + 1;
    let last = '';
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 1; attempt <= attempts && Date.now() < deadline; attempt++) {
      const podName = `${name}-e2e${attempt}`;
      const pod = await this.createPod(podName, job, 0, job.spec.template, this.addressFor(podName, true), []);
      const relay = setInterval(() => void this.serveExecRequests(), 500);
      try {
        await this.runInitContainers(pod);
        const outputs: string[] = [];
        let ok = true;
        for (const c of pod.template.spec.containers) {
          const r = await this.execIn(pod, c, this.commandOf(c), Math.max(1000, deadline - Date.now()));
          outputs.push(r.output);
          ok = ok && r.code === 0;
        }
        last = outputs.join('\n');
        if (ok) return last;
      } finally {
        clearInterval(relay);
        await this.removePod(pod, 1000);
      }
      await sleep(1000);
    }
    throw new Error(`Job ${name} did not succeed:\n${last}`);
  }

  private readonly execServing = new Set<string>();
  /**
   * Serves the `kubectl exec` requests Job pods left in the API stand-in
   * (`.exec/<id>.req`): runs each in the named pod's container and writes
   * its output and exit code back for the waiting kubectl shim.
   */
  private async serveExecRequests(): Promise<void> {
    const dir = path.join(this.secretStore, '.exec');
    if (!fs.existsSync(dir)) return;
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.req'))) {
      const id = f.slice(0, -4);
      if (this.execServing.has(id)) continue;
      this.execServing.add(id);
      const fields = fs.readFileSync(path.join(dir, f), 'utf-8').split('\0');
      fields.pop(); // after the last NUL
      const [pod, container, ...argv] = fields;
      let code = 1;
      let output: string;
      try {
        const r = await this.exec(pod, argv, { container: container || undefined, timeoutMs: 600000 });
        code = r.code;
        output = r.output;
      } catch (e) {
        output = `Error from server: ${(e as Error).message}\n`;
      }
      fs.writeFileSync(path.join(dir, `${id}.out`), output, { mode: 0o644 });
      fs.writeFileSync(path.join(dir, `${id}.tmp`), String(code), { mode: 0o644 });
      fs.renameSync(path.join(dir, `${id}.tmp`), path.join(dir, `${id}.done`));
      fs.rmSync(path.join(dir, f), { force: true });
    }
  }

  /** Runs a command in a running pod's container (like `kubectl exec`). */
  public async exec(podName: string, command: string[], opts: { container?: string; timeoutMs?: number } = {}): Promise<{ code: number; output: string }> {
    const pod = this.pods.get(podName);
    if (!pod) throw new Error(`pod ${podName} is not running`);
    const c = opts.container ? pod.template.spec.containers.find((x: Json) => x.name === opts.container) : pod.template.spec.containers[0];
    return this.execIn(pod, c, command, opts.timeoutMs ?? 30000);
  }

  /** Like `exec`, but throws unless the command succeeds; returns its output. */
  public async sh(podName: string, script: string, container?: string): Promise<string> {
    const r = await this.exec(podName, ['bash', '-c', script], { container });
    if (r.code !== 0) throw new Error(`in ${podName}: ${script}\nexit ${r.code}: ${r.output}`);
    return r.output;
  }

  public ipOf(podName: string): string {
    const pod = this.pods.get(podName);
    if (!pod) throw new Error(`pod ${podName} is not running`);
    return pod.ip;
  }

  /** The last lines a pod's containers printed (for failure messages). */
  public logs(podName: string, lines = 40): string {
    const dir = path.join(this.dir, 'pods', podName);
    if (!fs.existsSync(dir)) return '';
    return fs.readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => {
      const text = fs.readFileSync(path.join(dir, f), 'utf-8').split('\n').slice(-lines).join('\n');
      return `--- ${podName}/${f}\n${text}`;
    }).join('\n');
  }

  /** Stops everything and removes every namespace and file the cluster created. */
  public async destroy(): Promise<void> {
    this.destroying = true;
    await Promise.all([...this.pods.keys()].map((p) => this.stopPod(p)));
    this.network.destroy();
    // never delete through a mount point: every mount lived in a pod's private
    // mount namespace, which is gone once its processes are
    const mounted = fs.readFileSync('/proc/self/mountinfo', 'utf-8').split('\n').some((l) => l.split(' ')[4]?.startsWith(this.dir));
    if (mounted) throw new Error(`refusing to remove ${this.dir}: something is still mounted below it`);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  // ------------------------------------------------------------------------

  private find(kind: string, name: string): Json {
    const o = this.objects.find((x) => x.kind === kind && x.metadata?.name === name);
    if (!o) throw new Error(`no ${kind} '${name}' in the manifest`);
    return o;
  }

  private readonly addresses = new Map<string, string>();
  private addressFor(podName: string, fresh: boolean): string {
    if (fresh || !this.addresses.has(podName)) {
      if (this.nextIp > 250) throw new Error('out of addresses');
      this.addresses.set(podName, `${SUBNET_PREFIX}${this.nextIp++}`);
    }
    return this.addresses.get(podName)!;
  }

  private namespaceOf(o: Json): string {
    return o.metadata?.namespace ?? 'default';
  }

  private loadGeneratedSecrets(): void {
    for (const name of fs.readdirSync(this.secretStore).filter((f) => !f.startsWith('.'))) {
      const dir = path.join(this.secretStore, name);
      this.secrets.set(name, Object.fromEntries(fs.readdirSync(dir).map((k) => [k, fs.readFileSync(path.join(dir, k), 'utf-8')])));
    }
  }

  /** The pods behind Service `name` now, in start order (like `kubectl get endpoints NAME`). */
  public endpoints(name: string): string[] {
    return endpointsOf(this.find('Service', name), [...this.pods.values()]).map((p) => p.name);
  }

  /** Rewrites the /etc/hosts of every pod whose records changed (see dns.ts). */
  private writeHosts(): void {
    const running = [...this.pods.values()];
    const shared = serviceRecords(this.objects, running);
    for (const p of running) {
      const text = hostsFileOf(p, shared);
      if (text === p.hosts) continue;
      // in place: each container's /etc/hosts is a bind mount of this very file
      fs.writeFileSync(p.hostsFile, text);
      p.hosts = text;
    }
  }

  /** Renders the NetworkPolicies for every running pod and applies each changed table in its namespace (see policy.ts). */
  private applyPolicies(): void {
    const running = [...this.pods.values()];
    const tables = renderPolicyTables(this.objects.filter((o) => o.kind === 'NetworkPolicy'), running, (ns) => this.namespaceLabels(ns));
    for (const p of running) {
      const script = tables.get(p.name)!;
      if (script === p.policy) continue;
      const r = spawnSync('ip', ['netns', 'exec', p.sandbox.netns, 'nft', '-f', '-'], { input: script, encoding: 'utf-8' });
      if (r.status !== 0) throw new Error(`nft rejected the NetworkPolicy table of ${p.name}: ${r.stderr}\n${script}`);
      p.policy = script;
    }
  }

  /** A namespace's labels: those of its Namespace object in the manifest, and kubernetes.io/metadata.name. */
  private namespaceLabels(ns: string): Labels {
    const o = this.objects.find((x) => x.kind === 'Namespace' && x.metadata?.name === ns);
    return { ...(o?.metadata?.labels ?? {}), 'kubernetes.io/metadata.name': ns };
  }

  /** The labels the pod carries: its template's, and those its controller adds. */
  private labelsOf(podName: string, owner: Json, ordinal: number, template: Json): Labels {
    const own: Labels = { ...(template.metadata?.labels ?? {}) };
    if (owner.kind === 'StatefulSet') {
      own['statefulset.kubernetes.io/pod-name'] = podName;
      own['apps.kubernetes.io/pod-index'] = String(ordinal);
    } else if (owner.kind === 'Job') {
      own['job-name'] = owner.metadata.name;
      own['batch.kubernetes.io/job-name'] = owner.metadata.name;
    }
    return own;
  }

  private async createPod(podName: string, owner: Json, ordinal: number, template: Json, ip: string, claims: string[]): Promise<RunningPod> {
    const spec = template.spec;
    const podDir = path.join(this.dir, 'pods', podName);
    fs.rmSync(podDir, { recursive: true, force: true });
    fs.mkdirSync(podDir, { recursive: true });
    const fsGroup: number = spec.securityContext?.fsGroup ?? 0;
    const hostsFile = path.join(podDir, 'hosts');
    fs.writeFileSync(hostsFile, '');
    this.loadGeneratedSecrets();

    // volumes: files and directories on the host, bound into each container root
    const volumeDirs = new Map<string, string>();
    const owned = (dir: string, mode: number) => {
      fs.mkdirSync(dir, { recursive: true });
      fs.chownSync(dir, 0, fsGroup);
      fs.chmodSync(dir, mode);
      return dir;
    };
    for (const claim of claims) {
      const dir = path.join(this.dir, 'claims', `${claim}-${podName}`);
      if (!fs.existsSync(dir)) owned(dir, 0o2775);
      volumeDirs.set(claim, dir);
    }
    for (const v of spec.volumes ?? []) {
      const dir = path.join(podDir, 'volumes', v.name);
      if (v.emptyDir) volumeDirs.set(v.name, owned(dir, 0o2777));
      else if (v.configMap || v.secret) {
        const src = v.configMap ? this.find('ConfigMap', v.configMap.name).data ?? {} : this.secret(v.secret.secretName);
        const items: { key: string; path: string; mode?: number }[] = (v.configMap ?? v.secret).items ?? Object.keys(src).map((k) => ({ key: k, path: k }));
        const defaultMode = (v.configMap ?? v.secret).defaultMode ?? 0o644;
        owned(dir, 0o755);
        for (const item of items) {
          if (!(item.key in src)) throw new Error(`${podName}: volume ${v.name} refers to missing key ${item.key}`);
          const file = path.join(dir, item.path);
          fs.writeFileSync(file, src[item.key]);
          fs.chownSync(file, 0, fsGroup);
          fs.chmodSync(file, item.mode ?? defaultMode);
        }
        volumeDirs.set(v.name, dir);
      } else {
        throw new Error(`${podName}: volume type of '${v.name}' is not supported by the harness`);
      }
    }

    const containers: ContainerRoot[] = [...(spec.initContainers ?? []), ...spec.containers].map((c: Json) => ({
      name: c.name,
      readOnlyRoot: c.securityContext?.readOnlyRootFilesystem ?? false,
      binds: [
        { source: hostsFile, target: '/etc/hosts', readOnly: true },
        { source: this.binDir, target: '/e2e-bin', readOnly: true },
        { source: this.secretStore, target: '/e2e-api/secrets', readOnly: false },
        ...(this.options.mounts ?? []).filter((m) => !m.image || m.image === c.image).map((m) => ({ source: m.source, target: m.target, readOnly: true })),
        ...(c.volumeMounts ?? []).map((m: Json): Bind => {
          const base = volumeDirs.get(m.name);
          if (!base) throw new Error(`${podName}/${c.name}: mount of unknown volume ${m.name}`);
          const source = m.subPath ? path.join(base, m.subPath) : base;
          if (m.subPath && !fs.existsSync(source)) owned(source, 0o2775);
          return { source, target: m.mountPath, readOnly: !!m.readOnly };
        }),
      ],
    }));

    const netns = `${this.prefix}-${this.netIndex}`;
    this.network.attach(netns, this.netIndex++, ip);
    const sandbox = new Sandbox(podName, netns, podDir, containers);
    const pod: RunningPod = {
      name: podName, namespace: this.namespaceOf(owner), ip, labels: this.labelsOf(podName, owner, ordinal, template),
      ports: spec.containers.flatMap((c: Json) => c.ports ?? []),
      subdomain: owner.kind === 'StatefulSet' ? owner.spec.serviceName : undefined,
      owner, ordinal, sandbox, template, main: new Map(), hostsFile, ready: false,
    };
    this.pods.set(podName, pod);
    // its own policies and its peers' (which now know its address) before anything in it runs
    this.applyPolicies();
    this.writeHosts();
    await sandbox.start();
    return pod;
  }

  private envOf(pod: RunningPod, c: Json): { [k: string]: string } {
    const env: { [k: string]: string } = {
      PATH: '/e2e-bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOSTNAME: pod.name,
      HOME: '/tmp',
      ...(this.options.imageEnv?.[c.name] ?? {}),
    };
    this.loadGeneratedSecrets();
    for (const e of c.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m: string, v: string) => env[v] ?? m);
      else if (e.valueFrom?.fieldRef) {
        const f = e.valueFrom.fieldRef.fieldPath;
        const values: { [k: string]: string } = {
          'metadata.name': pod.name, 'metadata.namespace': this.namespaceOf(pod.owner), 'status.podIP': pod.ip,
          'status.hostIP': pod.ip, 'spec.nodeName': 'local-node', 'spec.serviceAccountName': pod.template.spec.serviceAccountName ?? 'default',
        };
        if (!(f in values)) throw new Error(`fieldRef ${f} is not supported by the harness`);
        env[e.name] = values[f];
      } else if (e.valueFrom?.secretKeyRef) {
        const { name, key } = e.valueFrom.secretKeyRef;
        const s = this.secret(name);
        if (!(key in s)) throw new Error(`Secret ${name} has no key ${key}`);
        env[e.name] = s[key];
      } else if (e.valueFrom?.configMapKeyRef) {
        env[e.name] = this.find('ConfigMap', e.valueFrom.configMapKeyRef.name).data[e.valueFrom.configMapKeyRef.key];
      } else if (e.valueFrom?.resourceFieldRef) {
        const r = e.valueFrom.resourceFieldRef;
        const [kind, res] = r.resource.split('.');
        const q = c.resources?.[kind]?.[res];
        env[e.name] = String(quantityToNumber(q, res) / quantityToNumber(r.divisor ?? '1', res));
      } else {
        throw new Error(`env ${e.name}: unsupported source`);
      }
    }
    return env;
  }

  private commandOf(c: Json): string[] {
    if (!c.command) throw new Error(`container ${c.name} relies on its image's entrypoint; the harness needs an explicit command`);
    return [...c.command, ...(c.args ?? [])];
  }

  private ids(pod: RunningPod, c: Json): [number, number] {
    const ps = pod.template.spec.securityContext ?? {};
    const cs = c.securityContext ?? {};
    const uid = cs.runAsUser ?? ps.runAsUser;
    if (uid === undefined || uid === 0) throw new Error(`${pod.name}/${c.name}: no non-root runAsUser`);
    return [uid, ps.fsGroup ?? cs.runAsGroup ?? ps.runAsGroup ?? uid];
  }

  private execIn(pod: RunningPod, c: Json, command: string[], timeoutMs: number) {
    const [uid, gid] = this.ids(pod, c);
    return pod.sandbox.exec(c.name, uid, gid, this.envOf(pod, c), command, timeoutMs);
  }

  private async runInitContainers(pod: RunningPod): Promise<void> {
    for (const c of pod.template.spec.initContainers ?? []) {
      const r = await this.execIn(pod, c, this.commandOf(c), 120000);
      fs.appendFileSync(path.join(pod.sandbox.dir, `${c.name}.log`), r.output);
      if (r.code !== 0) throw new Error(`${pod.name}: init container ${c.name} failed (exit ${r.code}):\n${r.output}`);
    }
  }

  private startContainers(pod: RunningPod): void {
    for (const c of pod.template.spec.containers) {
      const [uid, gid] = this.ids(pod, c);
      pod.main.set(c.name, pod.sandbox.spawn(c.name, uid, gid, this.envOf(pod, c), this.commandOf(c), path.join(pod.sandbox.dir, `${c.name}.log`)));
    }
  }

  /** Runs one probe; true on success. */
  public async probe(pod: RunningPod, c: Json, probe: Json): Promise<boolean> {
    const timeout = (probe.timeoutSeconds ?? 1) * 1000;
    const port = (p: Json) => (typeof p === 'number' ? p : c.ports.find((x: Json) => x.name === p).containerPort);
    if (probe.exec) return (await this.execIn(pod, c, probe.exec.command, timeout)).code === 0;
    if (probe.tcpSocket) {
      return (await this.execIn(pod, c, ['bash', '-c', `exec 3<>/dev/tcp/${pod.ip}/${port(probe.tcpSocket.port)}`], timeout)).code === 0;
    }
    if (probe.httpGet) {
      return (await this.execIn(pod, c, ['curl', '-fsS', '-o', '/dev/null', `http://${pod.ip}:${port(probe.httpGet.port)}${probe.httpGet.path ?? '/'}`], timeout)).code === 0;
    }
    throw new Error(`unsupported probe ${JSON.stringify(probe)}`);
  }

  private async waitReady(pod: RunningPod): Promise<void> {
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 90000);
    for (const c of pod.template.spec.containers) {
      const checks: [Json, number][] = [[c.startupProbe, 1], [c.readinessProbe, c.readinessProbe?.successThreshold ?? 1]];
      for (const [probe, successes] of checks.filter(([p]) => p)) {
        for (let inARow = 0; inARow < successes;) {
          const proc = pod.main.get(c.name)!;
          if (proc.exitCode !== null || proc.signalCode !== null) {
            throw new Error(`${pod.name}/${c.name} exited (${proc.exitCode ?? proc.signalCode}) before it was Ready:\n${this.logs(pod.name)}`);
          }
          inARow = (await this.probe(pod, c, probe)) ? inARow + 1 : 0;
          if (inARow >= successes) break;
          if (Date.now() > deadline) throw new Error(`${pod.name}/${c.name} never became Ready:\n${this.logs(pod.name)}`);
          await sleep(PROBE_POLL_MS);
        }
      }
      if (c.livenessProbe && !(await this.probe(pod, c, c.livenessProbe))) {
        throw new Error(`${pod.name}/${c.name} is Ready but its liveness probe fails:\n${this.logs(pod.name)}`);
      }
    }
    this.setReady(pod, true);
    this.monitorReadiness(pod);
  }

  /**
   * After the first Ready, as the kubelet does: each container's readiness
   * probe runs every min(periodSeconds, READINESS_PERIOD_CAP_S) s; the
   * container turns not Ready after failureThreshold failures in a row and
   * Ready again after successThreshold successes in a row; the pod is Ready
   * while every container is and none has exited. One loop per pod, so its
   * probes never overlap; it ends when the pod stops.
   */
  private monitorReadiness(pod: RunningPod): void {
    const states = pod.template.spec.containers.filter((c: Json) => c.readinessProbe).map((c: Json) => {
      const probe = c.readinessProbe;
      const periodMs = Math.min(probe.periodSeconds ?? 10, READINESS_PERIOD_CAP_S) * 1000;
      return { c, probe, periodMs, due: Date.now() + periodMs, ready: true, failures: 0, successes: 0 };
    });
    const loop = async () => {
      while (!pod.stopped) {
        const next = Math.min(Date.now() + READINESS_PERIOD_CAP_S * 1000, ...states.map((x: { due: number }) => x.due));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, next - Date.now()));
          pod.wake = () => { clearTimeout(timer); resolve(); };
        });
        pod.wake = undefined;
        for (const st of states) {
          if (pod.stopped) return;
          if (Date.now() < st.due) continue;
          const ok = await this.probe(pod, st.c, st.probe);
          st.due = Date.now() + st.periodMs;
          st.failures = ok ? 0 : st.failures + 1;
          st.successes = ok ? st.successes + 1 : 0;
          if (st.ready && st.failures >= (st.probe.failureThreshold ?? 3)) st.ready = false;
          if (!st.ready && st.successes >= (st.probe.successThreshold ?? 1)) st.ready = true;
        }
        if (pod.stopped) return;
        const exited = [...pod.main.values()].some((proc) => proc.exitCode !== null || proc.signalCode !== null);
        this.setReady(pod, !exited && states.every((x: { ready: boolean }) => x.ready));
      }
    };
    pod.monitor = loop().catch((e) => {
      // a probe cut short by the pod's own stop is no error; anything else fails stopPod
      if (pod.stopped) return;
      pod.monitorError = e as Error;
      this.setReady(pod, false);
    });
  }

  private setReady(pod: RunningPod, ready: boolean): void {
    if (pod.ready === ready) return;
    pod.ready = ready;
    this.readinessEvents.push({ pod: pod.name, ready, at: Date.now() });
    this.writeHosts();
  }
}

function quantityToNumber(q: string | number | undefined, resource: string): number {
  if (q === undefined) throw new Error(`resource ${resource} is not set`);
  const s = String(q);
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(s);
  if (!m) throw new Error(`bad quantity ${s}`);
  const units: { [u: string]: number } = {
    '': 1, 'm': 0.001, 'k': 1e3, 'M': 1e6, 'G': 1e9, 'Ki': 1024, 'Mi': 1024 ** 2, 'Gi': 1024 ** 3, 'Ti': 1024 ** 4,
  };
  return Number(m[1]) * units[m[2]];
}

/**
 * `kubectl` for generator Jobs: `get secret NAME [-o go-template=<keys>]`,
 * `create secret generic NAME --from-literal=k=v...` and `patch secret NAME
 * --type=merge -p JSON`, against a directory that stands in for the API
 * server. Only what the Jobs use is implemented; anything else fails loudly.
 */
function KUBECTL_SHIM(store: string): BinaryShim[] {
  return [{
    name: 'kubectl',
    manifest: 'kubectl (API server)',
    local: `a kubectl stand-in that keeps each Secret as a directory of key files in ${path.basename(store)}/, and relays \`exec\` to the test process`,
    why: 'no API server here; the Job\'s own script still decides what to create',
    script: `set -euo pipefail
store=/e2e-api/secrets
args=()
for a in "$@"; do case "$a" in -n|--namespace) skip=1 ;; *) if [ -n "\${skip:-}" ]; then skip=; else args+=("$a"); fi ;; esac; done
case "\${args[0]:-} \${args[1]:-}" in
  "get secret"|"get secrets")
    name=\${args[2]#secret/}
    [ -d "$store/$name" ] || { echo "Error from server (NotFound): secrets \\"$name\\" not found" >&2; exit 1; }
    case "\${args[3]:-}" in
      -o) ls "$store/$name" ;;  # -o go-template over .data: the key names, one per line
      '') echo "secret/$name" ;;
      *) echo "kubectl shim: unsupported argument \${args[3]}" >&2; exit 2 ;;
    esac ;;
  "patch secret")
    # kubectl patch secret NAME --type=merge -p '{"data":{"k":"<base64>"}}': adds or replaces those keys
    name=\${args[2]}
    [ -d "$store/$name" ] || { echo "Error from server (NotFound): secrets \\"$name\\" not found" >&2; exit 1; }
    [ "\${args[3]:-}" = --type=merge ] && [ "\${args[4]:-}" = -p ] || { echo "kubectl shim: only 'patch --type=merge -p JSON'" >&2; exit 2; }
    python3 -c 'import base64, json, os, sys
for k, v in json.loads(sys.argv[2])["data"].items():
    open(os.path.join(sys.argv[1], k), "wb").write(base64.b64decode(v))' "$store/$name" "\${args[5]}"
    echo "secret/$name patched" ;;
  "create secret")
    [ "\${args[2]:-}" = generic ] || { echo "kubectl shim: only 'create secret generic'" >&2; exit 2; }
    name=\${args[3]}
    [ ! -e "$store/$name" ] || { echo "Error from server (AlreadyExists): secrets \\"$name\\" already exists" >&2; exit 1; }
    tmp="$store/.$name.$$"
    mkdir "$tmp"
    for a in "\${args[@]:4}"; do
      case "$a" in
        --from-literal=*) kv=\${a#--from-literal=}; printf '%s' "\${kv#*=}" > "$tmp/\${kv%%=*}" ;;
        --dry-run*|-o|--output*|--save-config) ;;
        *) echo "kubectl shim: unsupported argument $a" >&2; rm -rf "$tmp"; exit 2 ;;
      esac
    done
    mv "$tmp" "$store/$name"
    echo "secret/$name created" ;;
  "exec "*)
    # kubectl exec POD [-c CONTAINER] -- CMD...: relayed to the test process, which runs it in the pod
    pod=\${args[1]} container=
    rest=("\${args[@]:2}")
    if [ "\${rest[0]:-}" = -c ]; then container=\${rest[1]}; rest=("\${rest[@]:2}"); fi
    [ "\${rest[0]:-}" = -- ] || { echo "kubectl shim: exec needs -- before the command" >&2; exit 2; }
    id="$$-$RANDOM"
    printf '%s\\0' "$pod" "$container" "\${rest[@]:1}" > "$store/.exec/$id.new"
    mv "$store/.exec/$id.new" "$store/.exec/$id.req"
    while [ ! -e "$store/.exec/$id.done" ]; do sleep 0.5; done
    cat "$store/.exec/$id.out"
    code=$(cat "$store/.exec/$id.done")
    rm -f "$store/.exec/$id.out" "$store/.exec/$id.done"
    exit "$code" ;;
  *) echo "kubectl shim: unsupported command: \${args[*]}" >&2; exit 2 ;;
esac`,
  }];
}

