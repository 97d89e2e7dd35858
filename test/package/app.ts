/**
 * A user's app, made the way a newcomer makes one: the package packed with
 * `npm pack` from a copy of the checkout, an app laid out by cdk8s-cli's own
 * `typescript-app` template (what `cdk8s init typescript-app` writes), and the
 * README's install commands run in it against the packed tarball.
 *
 * Building it costs a jsii build and an `npm install`, so the test files of
 * this folder share one per jest run: the first caller builds it under the
 * run's private temporary directory (test/support/global-setup.js, removed by
 * global-teardown.js), the others wait for it.
 */
import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { KUBERNETES_VERSIONS } from '../support/schemas';

export const REPO = path.resolve(__dirname, '..', '..');
const TEMPLATE = path.join(REPO, 'node_modules', 'cdk8s-cli', 'templates', 'typescript-app');
const HOOKS = '.hooks.sscaff.js';

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command; throws with its output unless it exits 0 (or `allowFailure`). */
export function sh(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number; allowFailure?: boolean }): Run {
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf-8', timeout: opts.timeout ?? 300_000, maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')} (in ${opts.cwd}): ${r.error.message}`);
  if (r.status !== 0 && !opts.allowFailure) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${opts.cwd}) exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// ---------------------------------------------------------------------------
// README.md

export interface CodeBlock {
  /** The fence's info string (`ts`, `sh`, or empty). */
  readonly lang: string;
  /** 1-based line of README.md where the code starts. */
  readonly line: number;
  readonly code: string;
  /** The nearest heading above the block. */
  readonly heading: string;
}

export function readme(): string {
  return fs.readFileSync(path.join(REPO, 'README.md'), 'utf-8');
}

/** Every fenced code block of a Markdown text, with its language and position. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split('\n');
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) {
      if (/^#+ /.test(lines[i])) heading = lines[i].replace(/^#+ /, '');
      continue;
    }
    const end = lines.indexOf('```', i + 1);
    if (end < 0) throw new Error(`README.md line ${i + 1}: a code block is never closed`);
    blocks.push({ lang: open[1], line: i + 2, code: lines.slice(i + 1, end).join('\n') + '\n', heading });
    i = end;
  }
  return blocks;
}

/** The text of the section under `## <heading>` (up to the next `## `). */
export function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no section '## ${heading}'`);
  const next = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start + 1, next < 0 ? undefined : next);
}

/** The first ```ts block of the Quick start section, verbatim. */
export function quickStart(): string {
  const ts = codeBlocks(section(readme(), 'Quick start')).filter((b) => b.lang === 'ts');
  if (ts.length !== 1) throw new Error(`README.md's Quick start has ${ts.length} TypeScript blocks, expected 1`);
  return ts[0].code;
}

/** The shell commands of the Install section's second block: what an app made by `cdk8s init` runs. */
export function installCommands(): string[][] {
  const blocks = codeBlocks(section(readme(), 'Install')).filter((b) => b.lang === 'sh');
  if (blocks.length !== 2) throw new Error(`README.md's Install section has ${blocks.length} sh blocks, expected 2 (any app; an app made by cdk8s init)`);
  return blocks[1].code.trim().split('\n').map((l) => l.trim().split(/\s+/));
}

// ---------------------------------------------------------------------------
// The package

export interface Packed {
  readonly tarball: string;
  /** Paths in the tarball (without `package/`) and their modes, as `npm pack --json` reports them. */
  readonly files: { path: string; mode: number }[];
}

/**
 * `npm pack` of a copy of the checkout (its tracked and untracked, not
 * ignored files, as a clone with these changes would have them, so nothing
 * built in the working tree can leak in and the working tree's lib/ is left
 * alone), its node_modules linked.
 */
export function pack(workDir: string): Packed {
  const copy = path.join(workDir, 'checkout');
  const files = sh('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO }).stdout.split('\0').filter((f) => f !== '');
  for (const f of files) {
    const from = path.join(REPO, f);
    if (!fs.existsSync(from) || fs.lstatSync(from).isDirectory()) continue; // deleted in the working tree, or a submodule
    fs.mkdirSync(path.dirname(path.join(copy, f)), { recursive: true });
    fs.copyFileSync(from, path.join(copy, f));
  }
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
  const out = path.join(workDir, 'tarball');
  fs.mkdirSync(out);
  const r = sh('npm', ['pack', '--json', '--pack-destination', out], { cwd: copy, timeout: 600_000 });
  // prepack's build prints before npm's JSON report
  const report = JSON.parse(r.stdout.slice(r.stdout.lastIndexOf('\n[\n') + 1))[0];
  return { tarball: path.join(out, report.filename), files: report.files.map((f: any) => ({ path: f.path, mode: f.mode })) };
}

// ---------------------------------------------------------------------------
// The app

/** cdk8s-cli's template package.json: its cdk8s-plus dependency is the one the README tells users to replace. */
export function templatePackageJson(): any {
  return JSON.parse(fs.readFileSync(path.join(TEMPLATE, 'package.json'), 'utf-8').replace(/\{\{[^}]*\}\}/g, '0.0.0'));
}

/**
 * Lays out `dir` as `cdk8s init typescript-app` does: cdk8s-cli's template
 * through its own engine (sscaff) with the variables `cdk8s init` computes
 * from the versions it ships. The template's post hook (npm install, `cdk8s
 * import`, compile, test, synth) is left out: the caller runs those steps.
 */
export function initApp(dir: string): void {
  const cli = path.dirname(require.resolve('cdk8s-cli/package.json', { paths: [REPO] }));
  const cliPkg = JSON.parse(fs.readFileSync(path.join(cli, 'package.json'), 'utf-8'));
  const plus = Object.keys(templatePackageJson().dependencies).find((d) => /^cdk8s-plus-\d+$/.test(d));
  if (!plus) throw new Error(`cdk8s-cli's typescript-app template has no cdk8s-plus dependency: ${JSON.stringify(templatePackageJson().dependencies)}`);
  const version = (name: string) => JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`, { paths: [cli] }), 'utf-8')).version;
  const variables = {
    cdk8s_core_version: version('cdk8s'),
    cdk8s_plus_version: version(plus),
    constructs_version: cliPkg.dependencies.constructs.replace('^', ''),
    cdk8s_cli_spec: `^${cliPkg.version}`,
  };
  const template = `${dir}-template`;
  fs.cpSync(TEMPLATE, template, { recursive: true, filter: (f) => path.basename(f) !== HOOKS });
  try {
    // sscaff changes the working directory: run it in a process of its own
    const script = `require(${JSON.stringify(require.resolve('sscaff', { paths: [cli] }))}).sscaff(process.argv[1], process.argv[2], JSON.parse(process.argv[3])).catch((e) => { console.error(e); process.exit(1); })`;
    sh(process.execPath, ['-e', script, template, dir, JSON.stringify(variables)], { cwd: REPO });
  } finally {
    fs.rmSync(template, { recursive: true, force: true });
  }
}

/** npm flags for the tests: the local cache first, no audit or funding calls. */
export const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund'];

/**
 * Runs the README's install commands for an app made by `cdk8s init` in
 * `dir`, with the packed tarball in place of the package name.
 */
export function installPerReadme(dir: string, tarball: string): void {
  for (const [cmd, ...args] of installCommands()) {
    if (cmd !== 'npm') throw new Error(`README.md's Install section runs '${cmd}', not npm`);
    sh('npm', [...args.map((a) => (a === 'cdk8s-stateful' ? tarball : a)), ...NPM_FLAGS], { cwd: dir, timeout: 600_000 });
  }
}

/**
 * The Kubernetes version of the app's imports/k8s.ts: the oldest the project
 * carries the schema of (cdk8s-plus-27's); `cdk8s import k8s` would fetch its
 * own default version from GitHub.
 */
const IMPORT_K8S_VERSION = KUBERNETES_VERSIONS[0].replace(/^v/, '');

export interface InstalledApp {
  /** The app, as `cdk8s init` + the README's install left it, with imports/k8s.ts. */
  readonly dir: string;
  readonly packed: Packed;
}

const WAIT_MS = 900_000;

/** The shared app of this jest run (built by the first caller). */
export async function installedApp(): Promise<InstalledApp> {
  const runDir = process.env.CDK8S_STATEFUL_TEST_TMPDIR;
  if (!runDir) throw new Error('CDK8S_STATEFUL_TEST_TMPDIR is not set: run the tests with the project\'s jest config (test/support/global-setup.js)');
  const root = path.join(runDir, 'package-app');
  const result = path.join(root, 'result.json');
  try {
    fs.mkdirSync(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const until = Date.now() + WAIT_MS;
    while (!fs.existsSync(result)) {
      if (Date.now() > until) throw new Error(`the shared package app in ${root} was not ready after ${WAIT_MS / 1000} s`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const done = JSON.parse(fs.readFileSync(result, 'utf-8'));
    if (done.error) throw new Error(`building the shared package app failed (in another test file):\n${done.error}`);
    return done;
  }
  try {
    const packed = pack(root);
    const dir = path.join(root, 'hello');
    initApp(dir);
    installPerReadme(dir, packed.tarball);
    // `cdk8s import` of the template's cdk8s.yaml needs GitHub; the project's offline
    // wrapper generates the same classes from the schemas it carries
    sh(process.execPath, [path.join(REPO, 'imports', 'offline-import.js'), `k8s@${IMPORT_K8S_VERSION}`], { cwd: dir });
    const app: InstalledApp = { dir, packed };
    fs.writeFileSync(result, JSON.stringify(app));
    return app;
  } catch (e) {
    fs.writeFileSync(result, JSON.stringify({ error: (e as Error).message }));
    throw e;
  }
}

/** The manifests `app.synth()` wrote to `outdir`, as objects. */
export function objectsIn(outdir: string): any[] {
  return fs.readdirSync(outdir).filter((f) => f.endsWith('.yaml')).sort()
    .flatMap((f) => YAML.parseAllDocuments(fs.readFileSync(path.join(outdir, f), 'utf-8')).map((d) => d.toJS()))
    .filter((o: any) => o !== null);
}
