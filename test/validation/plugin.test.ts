import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import type { Validation, ValidationContext as CliValidationContext } from 'cdk8s-cli/lib/plugins/validation';
import * as YAML from 'yaml';
import { ZooKeeperEnsemble } from '../../src';
import { GENERATES_KEYS_ANNOTATION, GENERATES_SECRET_ANNOTATION } from '../../src/core/credentials';
import { WebChart } from '../../examples/web';
import { GENERATES_KEYS, GENERATES_SECRET } from '../../plugin/src/cross-refs';
import { ManifestValidation } from '../../plugin/src/plugin';
import { SCHEMA_SOURCES, SCHEMAS_DIR } from '../support/schemas';

// The plugin class as cdk8s-cli drives it (its own ValidationContext, on
// manifest files); test/validation/cdk8s-synth.test.ts runs it in a real
// `cdk8s synth`.

// cdk8s-cli exports its ValidationContext at runtime as 'cdk8s-cli/plugins'
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ValidationContext } = require('cdk8s-cli/plugins') as { ValidationContext: typeof CliValidationContext };

type Json = any;
let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugin-')); });
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Writes each manifest (a list of objects) to a file and runs the plugin on them like cdk8s synth does. */
async function run(plugin: ManifestValidation, manifests: Json[][]): Promise<Json> {
  const files = manifests.map((objects, i) => {
    const file = path.join(dir, `m${i}.k8s.yaml`);
    fs.writeFileSync(file, objects.map((o) => YAML.stringify(o)).join('---\n'));
    return file;
  });
  const context = new ValidationContext(files, 'cdk8s-stateful-validation', '0.1.0');
  await plugin.validate(context);
  return context.report.toJson();
}
const locations = (report: Json) => report.violations.flatMap((v: Json) => v.violatingConstructs.flatMap((c: Json) => c.locations));
const web = (): Json[] => Testing.synth(new WebChart(Testing.app(), 'web'));

describe('ManifestValidation', () => {
  test('is a cdk8s validation plugin by type', () => {
    // compile-time: cdk8s-cli's Validation interface accepts the class
    const plugin: Validation = new ManifestValidation();
    expect(typeof plugin.validate).toBe('function');
  });

  test('a good app, in several manifests, passes and the report says what ran', async () => {
    // GIVEN two charts in two manifests
    const app = Testing.app();
    const zk = new Chart(app, 'zk', { namespace: 'data' });
    new ZooKeeperEnsemble(zk, 'zk');
    // WHEN validated
    const report = await run(new ManifestValidation(), [web(), Testing.synth(zk)]);
    // THEN success, with the counts and the versions in the summary
    expect(report.violations).toEqual([]);
    expect(report.summary.status).toBe('success');
    expect(report.summary.metadata).toEqual({
      'objects': String(web().length + Testing.synth(zk).length),
      'checks': 'schema, cross-references, pod-security',
      'kubernetes versions': SCHEMA_SOURCES.kubernetes.versions.join(', '),
      'findings': '0',
    });
  });

  test('findings are grouped by rule, with the recommendation, the fix, the resource and its manifest', async () => {
    // GIVEN a manifest with an unknown field
    const objects = web();
    objects.find((o) => o.kind === 'StatefulSet').spec.replicaz = 3;
    // WHEN validated
    const report = await run(new ManifestValidation(), [objects]);
    // THEN one violation per Kubernetes version, each naming the field, the object and the manifest
    expect(report.summary.status).toBe('failure');
    expect(report.violations.map((v: Json) => v.ruleName)).toEqual(SCHEMA_SOURCES.kubernetes.versions.map((v: string) => `schema/kubernetes-${v}`));
    for (const v of report.violations) {
      expect(v.recommendation).toMatch(/unknown fields rejected/);
      expect(v.fix).toMatch(/Correct or remove the field/);
      expect(v.violatingConstructs).toEqual([{
        resourceName: 'web', manifestPath: path.join(dir, 'm0.k8s.yaml'), constructPath: undefined,
        locations: [expect.stringMatching(/^StatefulSet\/web: Kubernetes v[\d.]+: \/spec must NOT have additional properties 'replicaz'$/)],
      }]);
    }
  });

  test('references resolve within a namespace: a Service does not select pods of another namespace', async () => {
    // GIVEN the web example in namespace a, and a copy of its client Service in namespace b
    const objects = web().map((o) => ({ ...o, metadata: { ...o.metadata, namespace: 'a' } }));
    const svc = JSON.parse(JSON.stringify(objects.find((o) => o.kind === 'Service' && o.spec.clusterIP === 'None')));
    svc.metadata = { name: 'elsewhere', namespace: 'b' };
    // WHEN validated with both
    const report = await run(new ManifestValidation({ checks: ['cross-references'] }), [objects, [svc]]);
    // THEN the Service in b selects nothing
    expect(locations(report)).toEqual(['Service/elsewhere: selector selects no pod template in the manifest']);
    expect(report.violations[0].ruleName).toBe('cross-references/selectors');
  });

  test('an object without a name or kind is a schema finding, not a crash of the other checks', async () => {
    // GIVEN a good manifest and two malformed objects
    const objects = [...web(), { apiVersion: 'v1', kind: 'ConfigMap', data: { a: 'b' } }, { apiVersion: 'v1', metadata: { name: 'x' } }];
    // WHEN validated
    const report = await run(new ManifestValidation(), [objects]);
    // THEN both are reported by the schema check, and nothing else is found
    const versions = SCHEMA_SOURCES.kubernetes.versions;
    expect(locations(report)).toEqual([
      'ConfigMap/undefined: metadata.name is missing',
      `undefined/x: v1/undefined is neither a kind of Kubernetes ${versions.join(' or ')} nor a custom resource of a known CRD`,
    ]);
    expect(report.violations.map((v: Json) => v.ruleName)).toEqual(['schema/metadata-name', 'schema/unknown-kind']);
  });

  test('checks and kubernetesVersions choose what runs', async () => {
    // GIVEN a manifest with an unknown field and a privileged container
    const objects = web();
    const sts = objects.find((o) => o.kind === 'StatefulSet');
    sts.spec.replicaz = 3;
    sts.spec.template.spec.containers[0].securityContext.privileged = true;
    // THEN pod-security alone finds only the privileged container
    expect((await run(new ManifestValidation({ checks: ['pod-security'] }), [objects])).violations.map((v: Json) => v.ruleName)).toEqual(['pod-security/privileged']);
    // AND one Kubernetes version only validates against it
    const v = SCHEMA_SOURCES.kubernetes.versions[0];
    const report = await run(new ManifestValidation({ checks: ['schema'], kubernetesVersions: [v] }), [objects]);
    expect(report.violations.map((x: Json) => x.ruleName)).toEqual([`schema/kubernetes-${v}`]);
    expect(report.summary.metadata['kubernetes versions']).toBe(v);
  });

  test('externalSecrets and externalServiceAccounts declare what exists outside the app', async () => {
    // GIVEN a pod that reads a Secret and runs as a ServiceAccount that the manifest lacks
    const objects = web().filter((o) => o.kind !== 'ServiceAccount');
    objects.find((o) => o.kind === 'StatefulSet').spec.template.spec.containers[0].env = [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'api', key: 'token' } } }];
    // THEN both are findings
    expect(locations(await run(new ManifestValidation({ checks: ['cross-references'] }), [objects]))).toEqual([
      "StatefulSet/web: serviceAccountName 'web' is not in the manifest",
      "StatefulSet/web container 'nginx' env TOKEN: Secret 'api' is neither in the manifest, created by a generator Job, nor declared external",
    ]);
    // UNLESS declared external
    const plugin = new ManifestValidation({ checks: ['cross-references'], externalSecrets: { api: ['token'] }, externalServiceAccounts: ['web'] });
    expect((await run(plugin, [objects])).violations).toEqual([]);
  });

  describe('custom resources', () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'backups.example.com' },
      spec: {
        group: 'example.com', scope: 'Namespaced', names: { kind: 'Backup', plural: 'backups', singular: 'backup', listKind: 'BackupList' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { schedule: { type: 'string' } } } } } } }],
      },
    };
    const backup = (spec: Json) => ({ apiVersion: 'example.com/v1', kind: 'Backup', metadata: { name: 'nightly' }, spec });

    test('a kind the plugin knows no schema for is a finding that says how to add its CRD', async () => {
      const report = await run(new ManifestValidation({ checks: ['schema'] }), [[backup({ schedule: '@daily' })]]);
      expect(report.violations.map((v: Json) => v.ruleName)).toEqual(['schema/unknown-kind']);
      expect(report.violations[0].fix).toMatch(/list the CRD's YAML file in the plugin's crds property/);
      expect(locations(report)).toEqual([
        `Backup/nightly: example.com/v1/Backup is neither a kind of Kubernetes ${SCHEMA_SOURCES.kubernetes.versions.join(' or ')} nor a custom resource of a known CRD`,
      ]);
    });

    test("a CRD in the app's manifests validates its custom resources strictly", async () => {
      expect((await run(new ManifestValidation({ checks: ['schema'] }), [[crd, backup({ schedule: '@daily' })]])).violations).toEqual([]);
      const report = await run(new ManifestValidation({ checks: ['schema'] }), [[crd, backup({ schedul: '@daily' })]]);
      expect(locations(report)).toEqual(["Backup/nightly: CRD schema: /spec must NOT have additional properties 'schedul'"]);
    });

    test('a CRD file named in crds validates its custom resources strictly', async () => {
      const file = path.join(dir, 'backup-crd.yaml');
      fs.writeFileSync(file, YAML.stringify(crd));
      const report = await run(new ManifestValidation({ checks: ['schema'], crds: [file] }), [[backup({ schedul: '@daily' })]]);
      expect(locations(report)).toEqual(["Backup/nightly: CRD schema: /spec must NOT have additional properties 'schedul'"]);
    });
  });

  describe('properties are checked when cdk8s loads the plugin', () => {
    const versions = SCHEMA_SOURCES.kubernetes.versions.join(', ');
    test.each([
      [{ kubernetesVersion: ['v1.27.0'] }, "property 'kubernetesVersion' is unknown; the properties are kubernetesVersions, checks, externalSecrets, externalServiceAccounts, crds"],
      [{ kubernetesVersions: ['v1.99.0'] }, `property 'kubernetesVersions' names 'v1.99.0', which the package has no schema for; available: ${versions}`],
      [{ kubernetesVersions: 'v1.27.0' }, 'property \'kubernetesVersions\' must be a list of Kubernetes versions, got "v1.27.0"'],
      [{ kubernetesVersions: [] }, `property 'kubernetesVersions' must name at least one version (available: ${versions})`],
      [{ checks: ['schemas'] }, "property 'checks' names 'schemas'; the checks are schema, cross-references, pod-security"],
      [{ checks: [] }, "property 'checks' must name at least one check (schema, cross-references, pod-security)"],
      [{ externalSecrets: ['api'] }, 'property \'externalSecrets\' must be a map from Secret name to its list of keys, got ["api"]'],
      [{ externalSecrets: { api: 'token' } }, 'property \'externalSecrets\' must be a map from Secret name to its list of keys, got {"api":"token"}'],
      [{ externalServiceAccounts: [1] }, "property 'externalServiceAccounts' must be a list of ServiceAccount names, got [1]"],
      [{ crds: ['missing-crd.yaml'] }, `property 'crds' names ${path.resolve('missing-crd.yaml')}, which does not exist`],
    ])('%j', (properties, message) => {
      expect(() => new ManifestValidation(properties)).toThrow(`cdk8s-stateful-validation ManifestValidation: ${message}`);
    });
  });

  test("the README's cdk8s.yaml example is a valid configuration", () => {
    // GIVEN the validations block of the README, and the CRD file it names
    const readme = fs.readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf-8');
    const block = /```yaml\n(validations:\n[\s\S]*?)```/.exec(readme)![1];
    const [entry] = YAML.parse(block).validations;
    expect(entry).toMatchObject({ package: './node_modules/cdk8s-stateful-validation', class: 'ManifestValidation' });
    expect(entry.version).toBe(JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'plugin', 'package.json'), 'utf-8')).version);
    for (const f of entry.properties.crds) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), '');
    }
    // THEN the plugin accepts its properties (crds relative to the app directory)
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(() => new ManifestValidation(entry.properties)).not.toThrow();
    } finally {
      process.chdir(cwd);
    }
  });

  test("the generator-Job annotations the cross-references read are the ones the library's Jobs carry", () => {
    expect([GENERATES_SECRET, GENERATES_KEYS]).toEqual([GENERATES_SECRET_ANNOTATION, GENERATES_KEYS_ANNOTATION]);
  });

  test('the package declares every package its code imports, and carries its schemas', () => {
    // GIVEN the plugin's package.json and sources
    const root = path.resolve(__dirname, '..', '..', 'plugin');
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf-8'));
    const imported = new Set<string>();
    for (const f of fs.readdirSync(path.join(root, 'src'))) {
      for (const m of fs.readFileSync(path.join(root, 'src', f), 'utf-8').matchAll(/^import .* from '([^.][^']*)';$/gm)) imported.add(m[1]);
    }
    // THEN every package that is not part of node is a dependency, and nothing else is
    const builtins = new Set(require('module').builtinModules);
    expect([...imported].filter((m) => !builtins.has(m)).sort()).toEqual(Object.keys(pkg.dependencies).sort());
    // AND the packed files include the schemas that prepack copies from the repository's schemas/
    expect(pkg.files).toContain('schemas/**');
    expect(pkg.scripts.prepack).toContain("fs.cpSync('../schemas', 'schemas'");
    expect(fs.existsSync(path.join(SCHEMAS_DIR, 'sources.json'))).toBe(true);
  });
});
