import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// The validation plugin as a user enables it: the packed cdk8s-stateful-validation
// package installed in an app's node_modules, named in its cdk8s.yaml, and run
// by the real `cdk8s synth` on every object of the app, ours (a ZooKeeper
// ensemble) and theirs (a cdk8s-plus Deployment and Service). The app runs
// with the `app` line the README recommends.

const ROOT = path.resolve(__dirname, '..', '..');
const CDK8S = path.join(ROOT, 'node_modules', '.bin', 'cdk8s');

const MAIN_TS = `
import { ApiObject, App, Chart, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { RestrictedProfile, ZooKeeperEnsemble } from '${ROOT}/src';

const variant = process.env.VARIANT ?? 'good';
const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });
new ZooKeeperEnsemble(chart, 'zk');
const api = new kplus.Deployment(chart, 'api', {
  containers: [{
    image: 'example/api:1.0', portNumber: 8080,
    securityContext: { user: 10001, group: 10001, privileged: variant === 'privileged' },
  }],
});
RestrictedProfile.applyTo(api);
const svc = api.exposeViaService({ name: 'api' });
// a hand-written object (typed L1 and cdk8s-plus classes drop unknown keys; plain ApiObjects and includes do not)
if (variant === 'unknown-field') new ApiObject(chart, 'settings', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { mode: 'fast' }, immutible: true });
if (variant === 'runAsNonRoot-missing') {
  for (const p of ['/spec/template/spec/securityContext/runAsNonRoot', '/spec/template/spec/containers/0/securityContext/runAsNonRoot']) ApiObject.of(api).addJsonPatch(JsonPatch.remove(p));
}
if (variant === 'service-selects-nothing') ApiObject.of(svc).addJsonPatch(JsonPatch.replace('/spec/selector', { 'app.kubernetes.io/name': 'api' }));
app.synth();
`;

/** The `app` line the README recommends for users' apps (esbuild, then plain node). */
const README_APP_LINE = (() => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf-8');
  const section = readme.slice(readme.indexOf('## Synth speed'));
  return /```yaml\n(app: [^\n]+)\n```/.exec(section)![1];
})();

const CDK8S_YAML = `language: typescript
${README_APP_LINE}
validations:
  - package: ./node_modules/cdk8s-stateful-validation
    class: ManifestValidation
    version: 0.1.0
`;

let app: string;

beforeAll(() => {
  // GIVEN an app directory with the packed plugin installed, and the app's own dependencies
  app = fs.mkdtempSync(path.join(os.tmpdir(), 'plugin-app-'));
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', app], { cwd: path.join(ROOT, 'plugin'), encoding: 'utf-8', stdio: ['ignore', 'pipe', 'pipe'] }));
  const installed = path.join(app, 'node_modules', 'cdk8s-stateful-validation');
  fs.mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', path.join(app, packed[0].filename), '-C', installed, '--strip-components=1']);
  // what npm would install beside it: the app's dependencies and the plugin's (ajv, yaml)
  for (const dep of ['cdk8s', 'cdk8s-plus-27', 'constructs', 'esbuild', ...Object.keys(JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf-8')).dependencies)]) {
    fs.symlinkSync(path.join(ROOT, 'node_modules', dep), path.join(app, 'node_modules', dep));
  }
  fs.mkdirSync(path.join(app, 'node_modules', '.bin'));
  fs.symlinkSync(path.join(ROOT, 'node_modules', '.bin', 'esbuild'), path.join(app, 'node_modules', '.bin', 'esbuild'));
  fs.writeFileSync(path.join(app, 'main.ts'), MAIN_TS);
  fs.writeFileSync(path.join(app, 'cdk8s.yaml'), CDK8S_YAML);
}, 300_000);

afterAll(() => fs.rmSync(app, { recursive: true, force: true }));

/** `cdk8s synth` of the app's `variant`. */
function synth(variant: string): { status: number | null; output: string } {
  const r = spawnSync(CDK8S, ['synth', '--check-upgrade=false'], { cwd: app, encoding: 'utf-8', env: { ...process.env, VARIANT: variant } });
  // the report marks rule names with terminal colours
  return { status: r.status, output: `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '') };
}

describe('cdk8s synth with the validation plugin', () => {
  test('the packed package carries its compiled code and its schemas, and nothing else', () => {
    const files = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)).map((f) => `${e.name}/${f}`) : [e.name]));
    const shipped = files(path.join(app, 'node_modules', 'cdk8s-stateful-validation'));
    expect(shipped).toContain('lib/index.js');
    expect(shipped).toContain('schemas/sources.json');
    for (const v of JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas', 'sources.json'), 'utf-8')).kubernetes.versions) expect(shipped).toContain(`schemas/kubernetes/${v}/_definitions.json`);
    expect(shipped.filter((f) => !/^(lib\/.*\.(js|d\.ts)|schemas\/.*|package\.json|LICENSE|README\.md)$/.test(f))).toEqual([]);
    // the plugin's copy of the schemas exists only in the package, not in the checkout
    expect(fs.existsSync(path.join(ROOT, 'plugin', 'schemas'))).toBe(false);
  });

  test('a good app passes: every object of ours and theirs is validated', () => {
    expect(README_APP_LINE).toMatch(/^app: node_modules\/.bin\/esbuild main.ts .*&& node /);
    const { status, output } = synth('good');
    expect(fs.readdirSync(path.join(app, 'dist'))).toContain('shop.k8s.yaml');
    expect(output).toContain('Validations ended succesfully');
    expect(status).toBe(0);
    expect(output).toMatch(/Status\s+│ success/);
    expect(output).toMatch(/checks\s+│ schema, cross-references, pod-security/);
    // ZooKeeper's Services, StatefulSet, PDB, ConfigMap, NetworkPolicy... and the Deployment and its Service
    const objects = Number(/objects\s+│ (\d+)/.exec(output)![1]);
    expect(objects).toBeGreaterThan(6);
  }, 120_000);

  test('(a) an unknown field fails the synth, naming the object, the field and both Kubernetes versions', () => {
    const { status, output } = synth('unknown-field');
    expect(status).toBe(2);
    expect(output).toContain('Validation failed');
    for (const v of ['v1.27.0', 'v1.36.0']) {
      expect(output).toContain(`schema/kubernetes-${v} (1 occurrences)`);
      expect(output).toContain(`> ConfigMap/settings: Kubernetes ${v}: / must NOT have additional properties 'immutible'`);
    }
    expect(output).toContain('Construct Path: shop/settings');
  }, 120_000);

  test('(b) a Service that selects no pod fails the synth', () => {
    const { status, output } = synth('service-selects-nothing');
    expect(status).toBe(2);
    expect(output).toContain('cross-references/selectors (1 occurrences)');
    expect(output).toContain('> Service/api: selector selects no pod template in the manifest');
  }, 120_000);

  test('(c) a privileged container fails the synth, naming the container and the field', () => {
    const { status, output } = synth('privileged');
    expect(status).toBe(2);
    expect(output).toContain('pod-security/privileged (1 occurrences)');
    expect(output).toMatch(/> Deployment\/shop-api-\w+ container 'main': securityContext.privileged is true/);
    expect(output).toContain('How to fix: Remove securityContext.privileged or set it to false.');
  }, 120_000);

  test('(c) a pod without runAsNonRoot fails the synth', () => {
    const { status, output } = synth('runAsNonRoot-missing');
    expect(status).toBe(2);
    expect(output).toContain('pod-security/run-as-non-root (1 occurrences)');
    expect(output).toMatch(/> Deployment\/shop-api-\w+ container 'main': runAsNonRoot is set to true neither in the container nor in the pod securityContext/);
  }, 120_000);
});
