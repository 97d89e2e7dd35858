/**
 * A local Kubernetes API server to try manifests against (a dev tool, not a
 * cluster for workloads): etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler and kwok fake nodes on 127.0.0.1, built by build.sh.
 *
 * `npm run cluster:up|cluster:apply|cluster:down` run this file:
 *
 *   cluster-cli.ts up              start it (state in <cache>/cluster), print KUBECONFIG
 *   cluster-cli.ts apply [paths]   create the namespaces the manifests use, then
 *                              server-side apply every file (default: dist/)
 *   cluster-cli.ts down            stop it and remove its state
 */
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { CRD_DIR } from '../support/schemas';
import { applyServerSide, installCrds, namespacesOf } from './apply';
import { bin, cacheDir, ControlPlane, controlPlaneAvailable, KUBERNETES_VERSION, REPO } from './harness';
import { createDefaultStorageClass } from './volumes';

const stateDir = path.join(cacheDir(), 'cluster');
const stateFile = path.join(stateDir, 'state.json');

interface State { readonly server: string; readonly kubeconfig: string; readonly pids: { [name: string]: number } }

function readState(): State | undefined {
  return fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, 'utf-8')) : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

async function up(): Promise<void> {
  const state = readState();
  if (state && Object.values(state.pids).every(alive)) {
    say(`already running: ${state.server}\nexport KUBECONFIG=${state.kubeconfig}`);
    return;
  }
  if (state) await down();
  if (!controlPlaneAvailable()) {
    process.exitCode = 1;
    return;
  }
  const cp = await ControlPlane.start({ persistent: { dir: stateDir } });
  createDefaultStorageClass(cp);
  await installCrds(cp);
  fs.writeFileSync(stateFile, JSON.stringify({ server: cp.server, kubeconfig: cp.kubeconfig, pids: cp.pids() }, undefined, 2));
  say([
    `Kubernetes ${KUBERNETES_VERSION} control plane at ${cp.server} (127.0.0.1 only; 6 kwok fake nodes, no real containers)`,
    `Prometheus Operator CRDs: installed from ${CRD_DIR}; default StorageClass controlplane-local (create PersistentVolumes to bind claims)`,
    `logs: ${stateDir}/*.log`,
    '',
    `export KUBECONFIG=${cp.kubeconfig}`,
    `alias kubectl=${bin('kubectl')}   # the matching client, or use your own`,
    'npm run cluster:apply            # server-side apply of dist/*.k8s.yaml',
    'npm run cluster:down',
  ].join('\n'));
}

async function down(): Promise<void> {
  const state = readState();
  if (state) {
    for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
      for (const pid of Object.values(state.pids)) {
        try { process.kill(-pid, sig); } catch { /* gone */ }
      }
      const deadline = Date.now() + 5000;
      while (Object.values(state.pids).some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    }
  }
  fs.rmSync(stateDir, { recursive: true, force: true });
  say(state ? 'control plane stopped and removed' : 'no control plane was running');
}

function apply(paths: string[]): void {
  const state = readState();
  if (!state || !Object.values(state.pids).every(alive)) {
    say('no control plane is running: npm run cluster:up');
    process.exitCode = 1;
    return;
  }
  const files = (paths.length ? paths : [path.join(REPO, 'dist')]).flatMap((p) => (fs.statSync(p).isDirectory()
    ? fs.readdirSync(p).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(p, f)) : [p]));
  // the harness talks through the state's kubeconfig
  const cp = ControlPlane.attach(state.server, state.kubeconfig);
  const docs = files.map((f) => ({ file: f, objects: YAML.parseAllDocuments(fs.readFileSync(f, 'utf-8')).map((d) => d.toJSON()).filter(Boolean) }));
  cp.createNamespaces(namespacesOf(docs.flatMap((d) => d.objects)).filter((ns) => !cp.get(['namespace', ns])));
  let rejected = 0;
  for (const d of docs) {
    const r = applyServerSide(cp, d.objects);
    rejected += r.rejections.length;
    say(`${path.relative(process.cwd(), d.file)}: ${r.applied}/${r.objects} objects accepted, ${r.rejections.length} rejected, ${r.warnings.length} warnings`);
    for (const line of [...r.rejections, ...r.warnings]) say(`  ${line}`);
  }
  if (rejected > 0) process.exitCode = 1;
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'up') await up();
  else if (command === 'down') await down();
  else if (command === 'apply') apply(rest);
  else {
    say('usage: cluster-cli.ts up | apply [file or dir...] | down');
    process.exitCode = 2;
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
