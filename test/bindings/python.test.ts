/**
 * The Python package as a Python user gets it: the wheel jsii-pacmak builds
 * from the current sources, pip-installed into a fresh venv with cdk8s,
 * cdk8s-plus-27 and constructs from PyPI at the versions the TypeScript side
 * uses. The pip downloads are cached outside the checkout, so a warm run
 * installs offline.
 */
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { bindingEnv, evenEnsembleError, cacheRoot, describeWithTools, expectSameManifests, installedVersion, packageOf, REPO, run, synthTypeScriptExample } from './support';

const PYTHON = process.env.PYTHON ?? 'python3';

function missingPython(): string | undefined {
  for (const [args, what] of [[['--version'], PYTHON], [['-m', 'venv', '--help'], `${PYTHON} -m venv`], [['-m', 'pip', '--version'], `${PYTHON} -m pip`]] as const) {
    if (spawnSync(PYTHON, [...args], { stdio: 'ignore' }).status !== 0) return `${what} (Debian packages python3, python3-venv, python3-pip)`;
  }
  return undefined;
}

/** What the app installs besides the wheel: the TypeScript side's versions, and the jsii runtime of the jsii-pacmak that built it. */
function requirements(): string[] {
  return [
    `cdk8s==${installedVersion('cdk8s')}`,
    `cdk8s-plus-27==${installedVersion('cdk8s-plus-27')}`,
    `constructs==${installedVersion('constructs')}`,
    `jsii==${installedVersion('jsii-pacmak')}`,
  ];
}

/** A directory of the wheels of `reqs` and their dependencies, downloaded from PyPI once per set of requirements. */
function wheelhouse(reqs: string[]): string {
  const python = run(PYTHON, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])']).trim();
  const key = crypto.createHash('sha256').update([python, ...reqs].join('\n')).digest('hex').slice(0, 16);
  const dir = path.join(cacheRoot(), `python-wheels-${key}`);
  if (fs.existsSync(dir)) return dir;
  fs.mkdirSync(cacheRoot(), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(cacheRoot(), '.python-wheels-'));
  try {
    run(PYTHON, ['-m', 'pip', 'download', '--quiet', '--disable-pip-version-check', '--only-binary', ':all:', '--dest', tmp, ...reqs]);
    fs.renameSync(tmp, dir);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(dir)) throw e; // else another run filled it first
  }
  return dir;
}

describeWithTools('the Python package', missingPython, () => {
  let tmp: string;
  let venvPython: string;

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bindings-python-'));
    const built = packageOf('python');
    const wheels = fs.readdirSync(built).filter((f) => f.endsWith('.whl'));
    expect(wheels).toHaveLength(1);
    const wheel = path.join(built, wheels[0]);
    const reqs = requirements();
    const downloads = wheelhouse(reqs);
    run(PYTHON, ['-m', 'venv', path.join(tmp, 'venv')]);
    venvPython = path.join(tmp, 'venv', 'bin', 'python');
    run(venvPython, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-index', '--find-links', downloads, wheel, ...reqs]);
  }, 900_000);

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('the zookeeper-kafka example written in Python synthesizes the same YAML as the TypeScript example', () => {
    // GIVEN the TypeScript example synthesized
    const expected = path.join(tmp, 'typescript');
    synthTypeScriptExample(expected);
    // WHEN its Python port runs against the installed wheel
    const actual = path.join(tmp, 'python');
    run(venvPython, [path.join(REPO, 'test/bindings/python/zookeeper_kafka.py'), actual], { env: bindingEnv(tmp) });
    // THEN the same files, documents and bytes
    expectSameManifests(actual, expected);
  });

  test('a construction-time error reaches Python as an exception with the construct\'s message', () => {
    // GIVEN the message TypeScript gets for an even ZooKeeper ensemble
    const message = evenEnsembleError();
    // WHEN Python makes the same ensemble
    const r = spawnSync(venvPython, ['-c', [
      'from cdk8s import App, Chart',
      'from cdk8s_stateful import ZooKeeperEnsemble',
      'ZooKeeperEnsemble(Chart(App(), "c"), "zk", replicas=2)',
    ].join('\n')], { encoding: 'utf-8', env: bindingEnv(tmp) });
    // THEN it fails with that message, raised as a Python exception
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Traceback');
    expect(r.stderr).toContain(message);
  });
});
