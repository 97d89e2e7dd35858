/**
 * The Go module as a Go user gets it: test/bindings/go is a Go app whose
 * go.mod requires github.com/cdk8s-stateful/cdk8s-stateful-go/cdk8sstateful;
 * a copy of it points that module (and cdk8s, cdk8s-plus-27 and constructs,
 * generated from node_modules by jsii-pacmak, see scripts/bindings/package.sh)
 * at the generated modules with replace directives, and builds with the Go
 * toolchain; jsii-runtime-go comes from the module proxy (go.sum pins it).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { bindingEnv, evenEnsembleError, describeWithTools, expectSameManifests, packageOf, REPO, run, synthTypeScriptExample } from './support';

const GO = process.env.GO ?? 'go';

/** The Go module paths of the generated modules, by directory name. */
const MODULES: { [dir: string]: string } = {
  cdk8sstateful: 'github.com/cdk8s-stateful/cdk8s-stateful-go/cdk8sstateful',
  cdk8s: 'github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2',
  cdk8splus27: 'github.com/cdk8s-team/cdk8s-plus-go/cdk8splus27/v2',
  constructs: 'github.com/aws/constructs-go/constructs/v10',
};

function missingGo(): string | undefined {
  return spawnSync(GO, ['version'], { stdio: 'ignore' }).status === 0 ? undefined : `${GO} (the Go toolchain)`;
}

describeWithTools('the Go module', missingGo, () => {
  let tmp: string;
  let bin: string;

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bindings-go-'));
    const generated = packageOf('go');
    const app = path.join(tmp, 'app');
    fs.cpSync(path.join(REPO, 'test/bindings/go'), app, { recursive: true });
    // every generated module replaces its published version
    const replaces = Object.entries(MODULES).map(([dir, mod]) => {
      expect(fs.readFileSync(path.join(generated, dir, 'go.mod'), 'utf-8')).toContain(`module ${mod}\n`);
      return `-replace=${mod}=${path.join(generated, dir)}`;
    });
    run(GO, ['mod', 'edit', ...replaces], { cwd: app });
    bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin);
    run(GO, ['build', '-o', bin + path.sep, './...'], { cwd: app, env: { ...process.env, GOFLAGS: '-mod=readonly -buildvcs=false' } });
  }, 900_000);

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('the zookeeper-kafka example written in Go synthesizes the same YAML as the TypeScript example', () => {
    // GIVEN the TypeScript example synthesized
    const expected = path.join(tmp, 'typescript');
    synthTypeScriptExample(expected);
    // WHEN its Go port runs against the generated module
    const actual = path.join(tmp, 'go');
    run(path.join(bin, 'zookeeper-kafka'), [actual], { env: bindingEnv(tmp) });
    // THEN the same files, documents and bytes
    expectSameManifests(actual, expected);
  });

  test('a construction-time error reaches Go as a panic with the construct\'s message', () => {
    // GIVEN the message TypeScript gets for an even ZooKeeper ensemble
    const message = evenEnsembleError();
    // WHEN Go makes the same ensemble (cmd/bad-replicas)
    const r = spawnSync(path.join(bin, 'bad-replicas'), [], { encoding: 'utf-8', env: bindingEnv(tmp) });
    // THEN it panics with that message
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`panic: ${message}`);
  });
});
