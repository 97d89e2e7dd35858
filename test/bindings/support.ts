/**
 * What the consumer tests of the jsii packages share: the package of the
 * current sources (scripts/bindings/package.sh builds it into a cache outside
 * the checkout), the TypeScript example they must reproduce, and the
 * comparison of two synthesized output directories.
 */
import { spawnSync, SpawnSyncOptions } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { ZooKeeperKafkaChart } from '../../examples/zookeeper-kafka';
import { ZooKeeperEnsemble } from '../../src';

export const REPO = path.resolve(__dirname, '../..');

/** Where the bindings, the pip downloads and the like are cached (the same rule as the scripts). */
export function cacheRoot(): string {
  return process.env.CDK8S_STATEFUL_CACHE
    ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'cdk8s-stateful');
}

/**
 * `describe` for a language's consumer test: it runs where `missing()` finds
 * nothing missing; elsewhere it is skipped with a loud message, and in CI a
 * missing tool is an error, never a silent skip.
 */
export function describeWithTools(name: string, missing: () => string | undefined, body: () => void): void {
  const what = missing();
  if (!what) {
    describe(name, body);
    return;
  }
  if (process.env.CI) throw new Error(`'${name}' needs ${what} in CI`);
  process.stderr.write(`\n*** SKIPPED: '${name}' needs ${what} ***\n`);
  describe.skip(name, body);
}

/** Runs a command, failing with its output when it exits non-zero; returns stdout. */
export function run(cmd: string, args: string[], options: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf-8', timeout: 900_000, maxBuffer: 64 * 1024 * 1024, ...options });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}${r.error ? ` (${r.error.message})` : ''}\n${r.stdout}\n${r.stderr}`);
  }
  return String(r.stdout);
}

/** The directory of the current sources' package for `target` (built unless cached). */
export function packageOf(target: 'python' | 'go'): string {
  const out = run(path.join(REPO, 'scripts/bindings/package.sh'), [target]).trim().split('\n');
  return out[out.length - 1];
}

/** The environment a binding's process runs in: the jsii kernel's temporary files go to `tmp`. */
export function bindingEnv(tmp: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, TMPDIR: tmp, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: process.versions.node.split('.')[0], ...extra };
}

/** The version of an npm package as installed (what the TypeScript side synthesizes with). */
export function installedVersion(pkg: string): string {
  return JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', pkg, 'package.json'), 'utf-8')).version;
}

/** Synthesizes the TypeScript zookeeper-kafka example as examples/index.ts adds it, into `outdir`. */
export function synthTypeScriptExample(outdir: string): void {
  const app = new App({ outdir });
  new ZooKeeperKafkaChart(app, 'zookeeper-kafka', { namespace: 'streaming' });
  app.synth();
}

/** The construction-time error TypeScript gets for a ZooKeeper ensemble of two members (chart 'c', id 'zk'). */
export function evenEnsembleError(): string {
  try {
    new ZooKeeperEnsemble(new Chart(Testing.app(), 'c'), 'zk', { replicas: 2 });
  } catch (e) {
    const message = (e as Error).message;
    expect(message).toContain("ZooKeeperEnsemble 'c/zk': replicas");
    return message;
  }
  throw new Error('a ZooKeeper ensemble of two members was accepted');
}

/** The files of a cdk8s output directory: name -> text. */
export function manifests(dir: string): Map<string, string> {
  return new Map(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf-8')]));
}

/**
 * Asserts that `actual` (a binding's output) holds the same files as
 * `expected` (the TypeScript example's), each with the same documents in the
 * same order, byte for byte.
 */
export function expectSameManifests(actual: string, expected: string): void {
  const a = manifests(actual);
  const e = manifests(expected);
  expect([...a.keys()]).toEqual([...e.keys()]);
  for (const [file, text] of e) {
    const docs = YAML.parseAllDocuments(text).map((d) => d.toJS());
    expect(docs.length).toBeGreaterThan(0);
    expect(YAML.parseAllDocuments(a.get(file)!).map((d) => d.toJS())).toEqual(docs);
    expect(a.get(file)).toBe(text);
  }
}
