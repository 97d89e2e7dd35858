/**
 * Every TypeScript block of README.md is a complete program a user can paste
 * into an app made by `cdk8s init typescript-app`: each is type-checked with
 * that app's tsconfig (strict, noUnusedLocals, noUnusedParameters, ...)
 * against the packed package, run, and the manifests it writes pass the
 * project's strict checks.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { manifestProblems } from '../support/manifest';
import { CodeBlock, codeBlocks, installedApp, objectsIn, quickStart, readme, sh } from './app';

const blocks = codeBlocks(readme());
const tsBlocks = blocks.filter((b) => b.lang === 'ts');
const fileOf = (b: CodeBlock) => `readme-line-${b.line}.ts`;
/** The Quick Start with the unused import the issue found in it: must fail the type-check. */
const CONTROL = 'control-unused-import.ts';

/** Objects the README's programs refer to that a user creates outside them. */
const OUTSIDE = {
  // the bucket credentials of BackupTarget.s3({ credentialsSecret: 's3-creds' }), with the keys its docs ask for
  externalSecrets: { 's3-creds': ['access-key-id', 'secret-access-key'] },
};

describe('README.md', () => {
  let dir: string;
  let tsconfig: any;
  /** tsc's errors per file of `dir`. */
  const errors = new Map<string, string[]>();

  beforeAll(async () => {
    // GIVEN an app made by cdk8s init with the packed package installed: its tsconfig, package.json and node_modules
    const app = await installedApp();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-snippets-'));
    for (const f of ['tsconfig.json', 'package.json']) fs.copyFileSync(path.join(app.dir, f), path.join(dir, f));
    fs.symlinkSync(path.join(app.dir, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    tsconfig = JSON.parse(fs.readFileSync(path.join(dir, 'tsconfig.json'), 'utf-8'));
    // with every block as a file of its own, and the control
    for (const b of tsBlocks) fs.writeFileSync(path.join(dir, fileOf(b)), b.code);
    fs.writeFileSync(path.join(dir, CONTROL), `import { PortRole } from 'cdk8s-stateful';\n${quickStart()}`);
    // WHEN the app's TypeScript compiles them all (emitting the files that do compile)
    const r = sh(path.join(dir, 'node_modules', '.bin', 'tsc'), ['-p', '.', '--noEmitOnError', 'false', '--pretty', 'false'], { cwd: dir, allowFailure: true });
    let file = '(tsc)';
    for (const line of r.stdout.split('\n').filter((l) => l.trim() !== '')) {
      // a diagnostic's first line names its file; indented lines continue it
      if (!/^\s/.test(line)) file = /^([^(]+)\(\d+,\d+\): error /.exec(line)?.[1] ?? '(tsc)';
      errors.set(file, [...(errors.get(file) ?? []), line]);
    }
  }, 900_000);

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('TypeScript is fenced as ts, and no other block holds TypeScript', () => {
    expect(tsBlocks.length).toBeGreaterThan(0);
    for (const b of blocks.filter((x) => x.lang !== 'ts')) {
      expect({ line: b.line, lang: b.lang }).not.toEqual({ line: b.line, lang: expect.stringMatching(/^(typescript|tsx|js|javascript)$/) });
      expect({ line: b.line, code: b.code }).not.toEqual({ line: b.line, code: expect.stringMatching(/from '[^']+';|\bnew [A-Z]\w*\(/) });
    }
  });

  test('the check runs with cdk8s init\'s strict settings: the unused import of the old Quick Start fails it', () => {
    expect(tsconfig.compilerOptions).toMatchObject({ strict: true, noUnusedLocals: true, noUnusedParameters: true, noImplicitReturns: true, noImplicitAny: true });
    expect(errors.get(CONTROL)).toEqual([expect.stringMatching(/error TS6133: 'PortRole' is declared but its value is never read/)]);
    // and nothing outside the README's programs fails (the package's own declarations included)
    expect([...errors.keys()].filter((f) => f !== CONTROL && !f.startsWith('readme-line-'))).toEqual([]);
  });

  test.each(tsBlocks.map((b) => [b.line, b.heading, b] as const))('line %i (%s) is a complete program: it type-checks and synthesizes manifests that pass every check', (_line, _heading, b) => {
    // THEN it compiled without an error
    expect(errors.get(fileOf(b)) ?? []).toEqual([]);
    // and running it writes a manifest
    const outdir = path.join(dir, 'dist', String(b.line));
    sh(process.execPath, [fileOf(b).replace(/\.ts$/, '.js')], { cwd: dir, env: { ...process.env, CDK8S_OUTDIR: outdir } });
    const objects = objectsIn(outdir);
    expect(objects.length).toBeGreaterThan(0);
    // that passes the strict schemas, the cross-references and Pod Security restricted
    expect(manifestProblems(objects, OUTSIDE)).toEqual([]);
  }, 120_000);
});
