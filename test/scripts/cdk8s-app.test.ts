import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { addExamples } from '../../examples';

// scripts/cdk8s-app.js is cdk8s.yaml's app: it runs an esbuild bundle of the
// app and must never run a stale one.

const ROOT = path.resolve(__dirname, '..', '..');
const LAUNCHER = path.join(ROOT, 'scripts', 'cdk8s-app.js');
const CDK8S = path.join(ROOT, 'node_modules', '.bin', 'cdk8s');

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-app-')); });
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const cacheDir = (cwd: string) => path.join(cwd, 'node_modules', '.cache', 'cdk8s-app');
/** The bundle, its map and its stamp, each with its modification time. */
function builds(cwd: string): string {
  const dir = cacheDir(cwd);
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => !f.endsWith('.v8cache')).map((f) => `${f}@${fs.statSync(path.join(dir, f)).mtimeMs}`).join() : '';
}
const codeCaches = (cwd: string) => fs.readdirSync(cacheDir(cwd)).filter((f) => f.endsWith('.v8cache'));

/** Runs the launcher on `entry` in `cwd`; returns what the app printed and whether it rebuilt. */
function launch(cwd: string, entry: string, env: NodeJS.ProcessEnv = process.env): { stdout: string; rebuilt: boolean } {
  const before = builds(cwd);
  const stdout = execFileSync(process.execPath, [LAUNCHER, entry], { cwd, encoding: 'utf-8', env });
  return { stdout, rebuilt: before !== builds(cwd) };
}

function write(file: string, text: string) {
  fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  fs.writeFileSync(path.join(dir, file), text);
}

describe('scripts/cdk8s-app.js', () => {
  test('runs a TypeScript app from a bundle it builds once and reuses while nothing changed', () => {
    // GIVEN a two-file TypeScript app
    write('lib.ts', 'export const greeting: string = "hello";\n');
    write('main.ts', 'import { greeting } from "./lib";\nconsole.log(`${greeting} from ${process.argv[1].split("/").pop()}`);\n');
    // WHEN launched twice THEN the first run builds, the second reuses the bundle, both run the app
    const first = launch(dir, 'main.ts');
    expect(first).toEqual({ stdout: 'hello from main.ts\n', rebuilt: true });
    const [cache] = codeCaches(dir);
    expect(launch(dir, 'main.ts')).toEqual({ stdout: 'hello from main.ts\n', rebuilt: false });
    // AND the first run left V8's code cache, which the second accepted (it did not write it anew)
    expect(codeCaches(dir)).toEqual([cache]);
  });

  test('with source maps enabled, stack traces point at the TypeScript sources', () => {
    // GIVEN an app that throws in an imported file
    write('lib.ts', 'export function fail(): never {\n  throw new Error("broken");\n}\n');
    write('main.ts', 'import { fail } from "./lib";\nfail();\n');
    // WHEN run with NODE_OPTIONS=--enable-source-maps
    const r = spawnSync(process.execPath, [LAUNCHER, 'main.ts'], { cwd: dir, encoding: 'utf-8', env: { ...process.env, NODE_OPTIONS: '--enable-source-maps' } });
    // THEN the trace names lib.ts:2 and main.ts:2
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/at fail \(.*lib\.ts:2:\d+\)/);
    expect(r.stderr).toMatch(/main\.ts:2:\d+/);
  });

  test('an edited import rebuilds the bundle, even when its size and modification time are unchanged', () => {
    // GIVEN a built app whose lib.ts has a whole-second modification time
    const lib = path.join(dir, 'lib.ts');
    const stamp = 1_700_000_000;
    write('lib.ts', 'export const n = 1;\n');
    fs.utimesSync(lib, stamp, stamp);
    write('main.ts', 'import { n } from "./lib";\nconsole.log(n);\n');
    expect(launch(dir, 'main.ts').stdout).toBe('1\n');
    // WHEN lib.ts changes to content of the same length and gets the same modification time back
    fs.writeFileSync(lib, 'export const n = 2;\n');
    fs.utimesSync(lib, stamp, stamp);
    expect(fs.statSync(lib).mtimeMs).toBe(stamp * 1000);
    // THEN the next run rebuilds and prints the new value: the bundle has the same length, and V8's
    // code cache of the old one (which V8 checks against the length only) is not used
    expect(launch(dir, 'main.ts')).toEqual({ stdout: '2\n', rebuilt: true });
    expect(codeCaches(dir)).toHaveLength(1);
  });

  test('a new file that changes what an import resolves to rebuilds the bundle', () => {
    // GIVEN `./config` resolved to config/index.ts
    write('config/index.ts', 'export const where = "directory";\n');
    write('main.ts', 'import { where } from "./config";\nconsole.log(where);\n');
    expect(launch(dir, 'main.ts').stdout).toBe('directory\n');
    // WHEN config.ts appears beside it (which the resolver prefers)
    write('config.ts', 'export const where = "file";\n');
    // THEN the bundle is rebuilt from it
    expect(launch(dir, 'main.ts')).toEqual({ stdout: 'file\n', rebuilt: true });
  });

  test('a deleted import rebuilds, and the build error reaches the caller', () => {
    // GIVEN a built app
    write('lib.ts', 'export const n = 1;\n');
    write('main.ts', 'import { n } from "./lib";\nconsole.log(n);\n');
    launch(dir, 'main.ts');
    // WHEN its import is deleted
    fs.rmSync(path.join(dir, 'lib.ts'));
    // THEN the launcher fails naming the missing import instead of running the old bundle
    const r = spawnSync(process.execPath, [LAUNCHER, 'main.ts'], { cwd: dir, encoding: 'utf-8' });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Could not resolve "\.\/lib"/);
  });

  test('a missing entry file is a clear usage error', () => {
    const r = spawnSync(process.execPath, [LAUNCHER, 'nope.ts'], { cwd: dir, encoding: 'utf-8' });
    expect(r.status).toBe(66);
    expect(r.stderr).toContain(`the app entry ${path.join(fs.realpathSync(dir), 'nope.ts')} does not exist`);
  });

  test("`cdk8s synth` with the repository's cdk8s.yaml writes exactly what the examples synthesize in-process", () => {
    // GIVEN the examples synthesized in this process
    const app = Testing.app();
    addExamples(app);
    const expected = Object.fromEntries(app.charts.map((c) => [`${c.node.id}.k8s.yaml`, c.toJson()]));
    // WHEN the real CLI synthesizes the repository's app through the launcher
    const out = path.join(dir, 'dist');
    execFileSync(CDK8S, ['synth', '--check-upgrade=false', '--output', out], { cwd: ROOT, stdio: 'pipe' });
    // THEN every chart's file holds the same objects
    const files = fs.readdirSync(out).sort();
    expect(files).toEqual(Object.keys(expected).sort());
    for (const f of files) {
      const objects = YAML.parseAllDocuments(fs.readFileSync(path.join(out, f), 'utf-8')).map((d) => d.toJSON()).filter((o) => o);
      expect({ file: f, objects }).toEqual({ file: f, objects: expected[f] });
    }
  }, 120_000);
});
