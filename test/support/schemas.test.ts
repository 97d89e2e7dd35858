import { spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { addExamples } from '../../examples';
import { SCHEMA_SOURCES, SCHEMAS_DIR } from './schemas';

// schemas/ holds what the strict checks, the control-plane tests and
// `npm run import` read; scripts/schemas/refresh.js renews it from a source.
const REPO = path.resolve(__dirname, '..', '..');
const REFRESH = path.join(REPO, 'scripts', 'schemas', 'refresh.js');
const DATA = [
  ...SCHEMA_SOURCES.kubernetes.versions.map((v: string) => `kubernetes/${v}/_definitions.json`),
  ...Object.keys(SCHEMA_SOURCES.crds.files).map((f) => `crds/${f}`),
];
const GENERATED = ['SHA256SUMS', 'NOTICE'];

interface Run { readonly status: number | null; readonly stdout: string; readonly stderr: string }

/** Runs a node script without blocking this process (the http test serves the refresh's source). */
function node(script: string, args: string[], cwd = REPO): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SCHEMAS_KUBERNETES_SOURCE: '', SCHEMAS_CRDS_SOURCE: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const refresh = (args: string[]) => node(REFRESH, args);
const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
/** sha256 of every data and generated file below `dir` (undefined where missing). */
const digests = (dir: string) => Object.fromEntries([...DATA, ...GENERATED].map((rel) => [rel, fs.existsSync(path.join(dir, rel)) ? sha256(path.join(dir, rel)) : undefined]));

jest.setTimeout(60_000);

describe('schemas/, scripts/schemas/refresh.js and the imports generated from schemas/crds', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-stateful-schemas-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const fresh = (name: string) => fs.mkdirSync(path.join(tmp, name));

  test('the vendored files pass the refresh verification and match SHA256SUMS and NOTICE', async () => {
    const r = await refresh(['--check']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`${DATA.length} files verified`);
    // sha256sum itself agrees with SHA256SUMS
    const sums = fs.readFileSync(path.join(SCHEMAS_DIR, 'SHA256SUMS'), 'utf-8');
    expect(sums.trim().split('\n').map((l) => l.split('  ')[1]).sort()).toEqual([...DATA].sort());
    const c = await new Promise<number | null>((resolve) => spawn('sha256sum', ['--quiet', '-c', 'SHA256SUMS'], { cwd: SCHEMAS_DIR, stdio: 'ignore' }).on('close', resolve));
    expect(c).toBe(0);
  });

  test('every kind the examples synthesize is one the refresh verification requires', () => {
    const app = Testing.app();
    addExamples(app);
    const crdKinds = Object.values(SCHEMA_SOURCES.crds.files);
    const emitted = new Set(app.charts.flatMap((c) => Testing.synth(c))
      .filter((o) => !crdKinds.includes(o.kind))
      .map((o) => `${o.apiVersion}/${o.kind}`));
    expect(emitted.size).toBeGreaterThan(0);
    const missing = [...emitted].filter((k) => !SCHEMA_SOURCES.kubernetes.kinds.includes(k));
    if (missing.length > 0) throw new Error(`add ${missing.join(', ')} to kubernetes.kinds of schemas/sources.json`);
  });

  test('a refresh from a directory writes the same files, SHA256SUMS and NOTICE; a second one changes nothing', async () => {
    // GIVEN an empty output directory
    const out = path.join(tmp, 'from-dir');
    fresh('from-dir');
    // WHEN refreshed from the vendored files as the source
    const first = await refresh(['--kubernetes', path.join(SCHEMAS_DIR, 'kubernetes'), '--crds', path.join(SCHEMAS_DIR, 'crds'), '--out', out]);
    // THEN every file is new and identical to the project's, checksums and NOTICE included
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout.trim().split('\n').map((l) => l.split('  ').pop())).toEqual(DATA.map(() => 'new'));
    expect(digests(out)).toEqual(digests(SCHEMAS_DIR));
    // AND a second refresh finds every file unchanged
    const second = await refresh(['--kubernetes', path.join(SCHEMAS_DIR, 'kubernetes'), '--crds', path.join(SCHEMAS_DIR, 'crds'), '--out', out]);
    expect(second.stdout.trim().split('\n').map((l) => l.split('  ').pop())).toEqual(DATA.map(() => 'unchanged'));
  });

  test('a refresh from an http source fetches every file', async () => {
    // GIVEN the vendored files served on 127.0.0.1, with a log of the paths asked for
    const asked: string[] = [];
    const server = http.createServer((req, res) => {
      asked.push(req.url!);
      const file = path.join(SCHEMAS_DIR, path.normalize(decodeURIComponent(req.url!)));
      if (!file.startsWith(SCHEMAS_DIR) || !fs.existsSync(file)) return void res.writeHead(404).end();
      res.writeHead(200).end(fs.readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const out = path.join(tmp, 'from-http');
    fresh('from-http');
    try {
      // WHEN refreshed from the URLs
      const r = await refresh(['--kubernetes', `${base}/kubernetes/`, '--crds', `${base}/crds`, '--out', out]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    // THEN every file was fetched once and is identical
    expect(asked.sort()).toEqual(DATA.map((rel) => `/${rel}`).sort());
    expect(digests(out)).toEqual(digests(SCHEMAS_DIR));
  });

  test('a refresh refuses a source that lacks a definition the checks need or has CRDs of another operator version, and writes nothing', async () => {
    // GIVEN a good output directory
    const out = path.join(tmp, 'kept');
    fresh('kept');
    expect((await refresh(['--kubernetes', path.join(SCHEMAS_DIR, 'kubernetes'), '--crds', path.join(SCHEMAS_DIR, 'crds'), '--out', out])).status).toBe(0);
    const before = digests(out);
    // AND a source whose v1.27.0 lacks StatefulSet and whose ServiceMonitor CRD is another release
    const src = path.join(tmp, 'bad-source');
    const [oldest] = SCHEMA_SOURCES.kubernetes.versions;
    for (const rel of DATA) {
      fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
      fs.copyFileSync(path.join(SCHEMAS_DIR, rel), path.join(src, rel));
    }
    const defsFile = path.join(src, 'kubernetes', oldest, '_definitions.json');
    const defs = JSON.parse(fs.readFileSync(defsFile, 'utf-8'));
    delete defs.definitions['io.k8s.api.apps.v1.StatefulSet'];
    fs.writeFileSync(defsFile, JSON.stringify(defs));
    const smFile = path.join(src, 'crds', 'monitoring.coreos.com_servicemonitors.yaml');
    const version = SCHEMA_SOURCES.crds.version;
    fs.writeFileSync(smFile, fs.readFileSync(smFile, 'utf-8').replace(`operator.prometheus.io/version: ${version}`, 'operator.prometheus.io/version: 0.0.1'));
    // WHEN refreshed from it
    const r = await refresh(['--kubernetes', path.join(src, 'kubernetes'), '--crds', path.join(src, 'crds'), '--out', out]);
    // THEN it fails naming both problems, and the output directory is as it was
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`kubernetes/${oldest}/_definitions.json: has no definition of apps/v1/StatefulSet`);
    expect(r.stderr).toContain(`crds/monitoring.coreos.com_servicemonitors.yaml: is Prometheus Operator 0.0.1, sources.json says ${version}`);
    expect(r.stderr).toContain('nothing was written');
    expect(digests(out)).toEqual(before);
  });

  test('--check catches a vendored file edited without a refresh, and a file sources.json does not list', async () => {
    // GIVEN a copy of schemas/ whose PrometheusRule CRD gained a comment (still valid YAML)
    const out = path.join(tmp, 'edited');
    fs.cpSync(SCHEMAS_DIR, out, { recursive: true });
    fs.appendFileSync(path.join(out, 'crds', 'monitoring.coreos.com_prometheusrules.yaml'), '# edited\n');
    fs.writeFileSync(path.join(out, 'crds', 'extra.yaml'), '');
    // WHEN checked THEN the stale checksums and the stray file are named
    const r = await refresh(['--check', '--out', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('SHA256SUMS: not current');
    expect(r.stderr).toContain('crds/extra.yaml: not listed in sources.json');
  });

  test('with no source named it fails with its usage', async () => {
    const r = await refresh([]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/name a source\nusage: refresh.js --kubernetes SRC --crds SRC/);
  });

  test('cdk8s.yaml imports exactly the vendored CRDs; the offline import regenerates imports/*.ts byte for byte and Kubernetes 1.27 from schemas/, without rewriting cdk8s.yaml', async () => {
    // GIVEN cdk8s.yaml, whose imports are the CRD files of sources.json
    const configFile = path.join(REPO, 'cdk8s.yaml');
    const config = fs.readFileSync(configFile, 'utf-8');
    expect(YAML.parse(config).imports.map((i: string) => i.split(':=').pop()).sort())
      .toEqual(Object.keys(SCHEMA_SOURCES.crds.files).map((f) => `schemas/crds/${f}`).sort());
    // WHEN `npm run import` runs into a temporary directory
    const out = path.join(tmp, 'imports');
    const r = await node(path.join(REPO, 'imports', 'offline-import.js'), ['-o', out]);
    expect(r.status).toBe(0);
    // THEN it generates the committed imports/*.ts, unchanged, and leaves cdk8s.yaml (and its comments) alone
    const committed = fs.readdirSync(path.join(REPO, 'imports')).filter((f) => f.endsWith('.ts')).sort();
    expect(fs.readdirSync(out).sort()).toEqual(committed);
    expect(committed.map((f) => sha256(path.join(out, f)))).toEqual(committed.map((f) => sha256(path.join(REPO, 'imports', f))));
    // AND `k8s@1.27.0` (an explicit spec, which the CLI would otherwise add to cdk8s.yaml) is generated from
    // schemas/kubernetes with the Kube classes cdk8s-plus-27 ships
    const k8sOut = path.join(tmp, 'imports-k8s');
    expect((await node(path.join(REPO, 'imports', 'offline-import.js'), ['k8s@1.27.0', '-o', k8sOut])).status).toBe(0);
    const classes = (file: string) => [...fs.readFileSync(file, 'utf-8').matchAll(/^export (?:declare )?class (Kube\w+)/gm)].map((m) => m[1]).sort();
    const plus = classes(path.join(path.dirname(require.resolve('cdk8s-plus-27/package.json')), 'lib', 'imports', 'k8s.d.ts'));
    expect(plus.length).toBeGreaterThan(0);
    expect(classes(path.join(k8sOut, 'k8s.ts'))).toEqual(plus);
    const after = fs.readFileSync(configFile, 'utf-8');
    if (after !== config) fs.writeFileSync(configFile, config);
    expect(after).toBe(config);
  });
});

/** True when `text` reaches for a `shared` folder beside the checkout. */
function refersToSiblingShared(text: string): boolean {
  return /\.\.[\\/]shared\b|['"]\.\.['"]\s*,\s*['"]shared['"]/.test(text);
}

describe('the project reads nothing beside its checkout', () => {
  test('the guard recognises the forms a path to the sibling shared folder takes', () => {
    const up = '..';
    expect(refersToSiblingShared(`imports:\n  - x:=${up}/shared/crds/x.yaml`)).toBe(true);
    // the folder's name is spelled in two pieces here, so this guard's own test is not a reference to it
    const folder = ['sha', 'red'].join('');
    expect(refersToSiblingShared(`path.resolve(__dirname, '${up}', '${up}', '${folder}', 'k8s-schemas')`)).toBe(true);
    expect(refersToSiblingShared(`path.join(REPO, "${up}", "shared")`)).toBe(true);
    expect(refersToSiblingShared('sharedAlertCases(s.shared.image, shared_buffers)')).toBe(false);
  });

  test('no file under src/, test/, scripts/, imports/, examples/ or .ci/, nor cdk8s.yaml, package.json or a tsconfig, refers to the shared folder beside the checkout', () => {
    const walk = (p: string): string[] => (fs.statSync(p).isDirectory()
      ? fs.readdirSync(p).filter((n) => n !== 'node_modules').flatMap((n) => walk(path.join(p, n)))
      : [p]);
    const files = [
      ...['src', 'test', 'scripts', 'imports', 'examples', '.ci'].flatMap((d) => walk(path.join(REPO, d))),
      ...fs.readdirSync(REPO).filter((n) => n === 'cdk8s.yaml' || n === 'package.json' || /^tsconfig.*\.json$/.test(n)).map((n) => path.join(REPO, n)),
    ];
    expect(files).toContain(path.join(REPO, 'cdk8s.yaml'));
    expect(files).toContain(__filename);
    const offending = files.filter((f) => refersToSiblingShared(fs.readFileSync(f, 'utf-8'))).map((f) => path.relative(REPO, f));
    expect(offending).toEqual([]);
  });
});
