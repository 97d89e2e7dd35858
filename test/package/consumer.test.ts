/**
 * The package as a user gets it: packed with `npm pack`, installed into an
 * app laid out by `cdk8s init typescript-app` with the README's install
 * commands, and the README's Quick Start pasted into its main.ts, compiled
 * with the app's own strict tsconfig and synthesized with `cdk8s synth`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { manifestProblems, only } from '../support/manifest';
import { cli } from '../cli/run';
import { InstalledApp, installedApp, installCommands, NPM_FLAGS, objectsIn, quickStart, REPO, sh, templatePackageJson } from './app';

const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf-8'));

/** Every file under `dir` (relative to it) whose name ends with `ext`. */
function filesUnder(dir: string, ext: string): string[] {
  return fs.readdirSync(path.join(REPO, dir), { recursive: true, encoding: 'utf-8' })
    .filter((f) => f.endsWith(ext) && !f.endsWith('.d.ts'))
    .map((f) => path.posix.join(dir, f.split(path.sep).join('/')));
}

describe('the packed package in an app made by cdk8s init', () => {
  let app: InstalledApp;

  beforeAll(async () => {
    app = await installedApp();
  }, 900_000);

  test('npm pack ships the compiled library and its types, the jsii assembly, README and LICENSE, and nothing else', () => {
    // GIVEN what jsii compiles: every .ts of src/ and imports/ into lib/ (tsconfig.jsii.json's outDir)
    const outDir = JSON.parse(fs.readFileSync(path.join(REPO, pkg.jsii.tsconfig), 'utf-8')).compilerOptions.outDir;
    const compiled = [...filesUnder('src', '.ts'), ...filesUnder('imports', '.ts')]
      .flatMap((f) => [`${outDir}/${f.replace(/\.ts$/, '.js')}`, `${outDir}/${f.replace(/\.ts$/, '.d.ts')}`]);
    // THEN the tarball holds exactly those, the assembly, and npm's fixed three
    expect(app.packed.files.map((f) => f.path).sort()).toEqual([...compiled, '.jsii', 'LICENSE', 'README.md', 'package.json'].sort());
    // and what package.json points at is in it, the command executable
    const paths = app.packed.files.map((f) => f.path);
    expect(paths).toContain(pkg.main);
    expect(paths).toContain(pkg.types);
    const bin = app.packed.files.find((f) => f.path === pkg.bin['cdk8s-stateful'])!;
    expect(bin.mode & 0o111).toBe(0o111);
  });

  test('the README\'s install commands replace the template\'s cdk8s-plus with cdk8s-plus-27 and install one copy of each peer', () => {
    // GIVEN the cdk8s-plus a fresh app depends on (cdk8s-cli's template)
    const templatePlus = Object.keys(templatePackageJson().dependencies).find((d) => d.startsWith('cdk8s-plus-'));
    const [uninstall] = installCommands();
    // THEN the README uninstalls exactly that one
    expect(uninstall).toEqual(['npm', 'uninstall', templatePlus]);
    // and the app depends on the package and its peers, not on the template's cdk8s-plus
    const appPkg = JSON.parse(fs.readFileSync(path.join(app.dir, 'package.json'), 'utf-8'));
    expect(Object.keys(appPkg.dependencies).sort()).toEqual(['cdk8s-stateful', ...Object.keys(pkg.peerDependencies)].sort());
    // (cdk8s-cli, a devDependency, keeps its own for `cdk8s import`), and the app and the library
    // resolve each peer to the same single copy
    const library = path.join(app.dir, 'node_modules', 'cdk8s-stateful');
    const resolve = `const [lib, peers] = JSON.parse(process.argv[1]); console.log(JSON.stringify(peers.map((p) => [
      require.resolve(p + '/package.json', { paths: [lib] }), require.resolve(p + '/package.json', { paths: [process.cwd()] })])))`;
    const resolved: string[][] = JSON.parse(sh(process.execPath, ['-e', resolve, JSON.stringify([library, Object.keys(pkg.peerDependencies)])], { cwd: app.dir }).stdout);
    expect(resolved.map(([fromLibrary]) => fromLibrary)).toEqual(resolved.map(([, fromApp]) => fromApp));
    expect(resolved.map(([, fromApp]) => path.relative(app.dir, fromApp))).toEqual(Object.keys(pkg.peerDependencies).map((p) => path.join('node_modules', p, 'package.json')));
    // and `npm ls` finds the package's tree consistent (every peer range satisfied)
    sh('npm', ['ls', 'cdk8s-stateful', ...Object.keys(pkg.peerDependencies), ...NPM_FLAGS], { cwd: app.dir });
  });

  test('the README Quick Start as main.ts compiles with the app\'s strict tsconfig and `cdk8s synth` renders the stateful unit', () => {
    // GIVEN the Quick Start, verbatim, as the app's main.ts (the template's main.test.ts imports its MyChart)
    fs.writeFileSync(path.join(app.dir, 'main.ts'), quickStart());
    fs.rmSync(path.join(app.dir, 'dist'), { recursive: true, force: true });
    // WHEN the app's own scripts compile it (tsc --build: main.ts, main.test.ts, imports/k8s.ts) and synthesize it
    sh('npm', ['run', 'compile'], { cwd: app.dir });
    sh('npm', ['run', 'synth', '--', '--check-upgrade=false'], { cwd: app.dir });
    // THEN dist/ holds the unit: a StatefulSet governed by a headless Service, a PDB and a NetworkPolicy over its pods
    const objects = objectsIn(path.join(app.dir, 'dist'));
    const sts = only(objects, 'StatefulSet');
    const pods = sts.spec.selector.matchLabels;
    expect(only(objects, 'Service', sts.spec.serviceName).spec.clusterIP).toBe('None');
    expect(only(objects, 'PodDisruptionBudget').spec.selector.matchLabels).toEqual(pods);
    expect(only(objects, 'NetworkPolicy').spec.podSelector.matchLabels).toEqual(pods);
    expect(sts.spec.template.spec.serviceAccountName).toBe(only(objects, 'ServiceAccount').metadata.name);
    expect(sts.spec.volumeClaimTemplates.map((c: any) => c.metadata.name)).toEqual(['www']);
    // and nginx-unprivileged can start under the restricted profile: its own uid (101), and every
    // directory it writes to (pid and temp files in /tmp, caches in /var/cache/nginx) a writable
    // volume beside the read-only root filesystem
    const pod = sts.spec.template.spec;
    const [nginx] = pod.containers;
    expect(pod.securityContext).toMatchObject({ runAsUser: 101, runAsGroup: 101, runAsNonRoot: true });
    expect(nginx.securityContext.readOnlyRootFilesystem).toBe(true);
    const volumeAt = (dir: string) => pod.volumes.find((v: any) => v.name === nginx.volumeMounts.find((m: any) => m.mountPath === dir)?.name);
    for (const dir of ['/tmp', '/var/cache/nginx']) {
      expect({ dir, emptyDir: volumeAt(dir)?.emptyDir !== undefined }).toEqual({ dir, emptyDir: true });
      expect(nginx.volumeMounts.find((m: any) => m.mountPath === dir).readOnly).toBeFalsy();
    }
    // and the whole manifest passes the project's strict checks (schemas, cross-references, Pod Security restricted)
    expect(manifestProblems(objects)).toEqual([]);
  }, 300_000);

  test('the package\'s command runs from the app: `npx cdk8s-stateful` is the CLI of src/cli, exit codes included', async () => {
    // GIVEN what the CLI's source prints
    const help = await cli(['--help']);
    const usage = await cli(['scale', 'web']);
    // WHEN the installed bin runs
    const r = sh('npx', ['--no-install', 'cdk8s-stateful', '--help'], { cwd: app.dir });
    const bad = sh('npx', ['--no-install', 'cdk8s-stateful', 'scale', 'web'], { cwd: app.dir, allowFailure: true });
    // THEN it prints the same, and exits with the same codes
    expect(r.stdout).toBe(`${help.out}\n`);
    expect([bad.status, bad.stderr]).toEqual([usage.code, `${usage.err}\n`]);
    expect(usage.code).not.toBe(0);
  });
});
