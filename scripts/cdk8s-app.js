#!/usr/bin/env node
// Runs a cdk8s TypeScript app the fast way: `node scripts/cdk8s-app.js examples/main.ts`
// (cdk8s.yaml's `app`). esbuild bundles the app and everything it imports into one
// CommonJS file under node_modules/.cache/cdk8s-app/, which plain `node` then runs with
// V8's code cache: no TypeScript compiler, no per-file module resolution and little
// parsing on each synth.
//
// The bundle cannot go stale: next to it we keep the list of every file esbuild read,
// and each run hashes the contents of those files, the listing of their directories (a
// file added beside an input can change what an import resolves to), tsconfig.json,
// esbuild's version and this script. Any difference rebuilds the bundle before running
// it. Type errors are not this script's business: `npm run build` / `npm test` check types.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

/** esbuild options; part of the fingerprint, so changing them rebuilds. */
function buildOptions(entry, outfile) {
  return {
    entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'cjs',
    target: `node${process.versions.node.split('.')[0]}`,
    sourcemap: 'linked', metafile: true, logLevel: 'warning', write: false,
  };
}

function fingerprint(entry, inputs, esbuildVersion) {
  const hash = crypto.createHash('sha256');
  const add = (label, data) => hash.update(`${label}\0`).update(data).update('\0');
  add('esbuild', esbuildVersion);
  add('options', JSON.stringify(buildOptions(entry, '')));
  add('launcher', fs.readFileSync(__filename));
  const tsconfig = path.resolve('tsconfig.json');
  if (fs.existsSync(tsconfig)) add(tsconfig, fs.readFileSync(tsconfig));
  for (const dir of [...new Set(inputs.map((f) => path.dirname(f)))].sort()) add(dir, fs.readdirSync(dir).sort().join('\n'));
  for (const file of inputs) add(file, fs.readFileSync(file));
  return hash.digest('hex');
}

/** The recorded build of `entry`, or undefined when there is none or any input changed (or vanished). */
function freshBuild(entry, stampFile) {
  try {
    const stamp = JSON.parse(fs.readFileSync(stampFile, 'utf-8'));
    return stamp.fingerprint === fingerprint(entry, stamp.inputs, stamp.esbuild) && fs.existsSync(stamp.bundle) ? stamp : undefined;
  } catch {
    return undefined;
  }
}

function writeAtomically(file, contents) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, contents);
  fs.renameSync(tmp, file);
}

function rebuild(entry, stampFile, bundle) {
  const esbuild = require(require.resolve('esbuild', { paths: [process.cwd(), __dirname] }));
  const result = esbuild.buildSync(buildOptions(entry, bundle));
  // written under temporary names and renamed, so a concurrent synth never reads half a file
  for (const out of result.outputFiles) writeAtomically(out.path, out.contents);
  const inputs = Object.keys(result.metafile.inputs).map((f) => path.resolve(f)).sort();
  const stamp = { bundle, esbuild: esbuild.version, inputs, fingerprint: fingerprint(entry, inputs, esbuild.version) };
  writeAtomically(stampFile, JSON.stringify(stamp));
  return stamp;
}

function main() {
  const [arg] = process.argv.slice(2);
  if (!arg) {
    process.stderr.write('usage: node cdk8s-app.js <app entry .ts file>\n');
    process.exit(64);
  }
  const entry = path.resolve(arg);
  if (!fs.existsSync(entry)) {
    process.stderr.write(`cdk8s-app: the app entry ${entry} does not exist\n`);
    process.exit(66);
  }
  const { stampFile, bundle } = cachePaths(entry);
  if (!freshBuild(entry, stampFile)) {
    fs.mkdirSync(path.dirname(bundle), { recursive: true });
    rebuild(entry, stampFile, bundle);
  }
  // A synth lasts a fraction of a second: TurboFan's optimizing compiles would
  // cost more CPU than they save (measured: a sixth of the app's CPU time).
  require('v8').setFlagsFromString('--no-opt');
  process.argv.splice(1, 2, entry);
  const sourceMaps = process.execArgv.includes('--enable-source-maps') || /--enable-source-maps/.test(process.env.NODE_OPTIONS ?? '');
  if (sourceMaps) require(bundle); // node maps stack traces only for modules it loads itself
  else runWithCodeCache(bundle);
}

/**
 * Runs the bundle as a CommonJS module with V8's code cache: the bytecode of
 * every function the last run compiled, so that this run parses and compiles
 * almost nothing (a fifth of the app's time). V8 checks a cache only against
 * the source's length, so the cache is named by the hash of the bundle's
 * contents: a rebuilt bundle never meets the code of the one before.
 */
function runWithCodeCache(bundle) {
  const vm = require('vm');
  const Module = require('module');
  const source = fs.readFileSync(bundle, 'utf-8');
  const hash = crypto.createHash('sha256').update(source).digest('hex').slice(0, 16);
  const cacheFile = `${bundle}.${hash}.v8cache`;
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData });
  const m = new Module(bundle, module);
  m.filename = bundle;
  m.paths = Module._nodeModulePaths(path.dirname(bundle));
  script.runInThisContext().call(m.exports, m.exports, Module.createRequire(bundle), m, bundle, path.dirname(bundle));
  if (!cachedData || script.cachedDataRejected) {
    // drop the caches of earlier bundles, then keep this one's
    const prefix = `${path.basename(bundle)}.`;
    for (const f of fs.readdirSync(path.dirname(bundle))) if (f.startsWith(prefix) && f.endsWith('.v8cache')) fs.rmSync(path.join(path.dirname(bundle), f), { force: true });
    writeAtomically(cacheFile, script.createCachedData());
  }
}

/** Where the bundle of `entry` (an absolute path) and its stamp live, under the current directory. */
function cachePaths(entry) {
  const cacheDir = path.resolve('node_modules', '.cache', 'cdk8s-app');
  const name = crypto.createHash('sha256').update(entry).digest('hex').slice(0, 16);
  return { stampFile: path.join(cacheDir, `${name}.json`), bundle: path.join(cacheDir, `${name}.js`) };
}

if (require.main === module) main();
module.exports = { cachePaths };
