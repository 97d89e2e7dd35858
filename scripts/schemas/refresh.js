#!/usr/bin/env node
// Refreshes the schemas that the project carries in schemas/ (the strict
// manifest checks, the control-plane tests and `npm run import` read them):
// the Kubernetes OpenAPI definitions and the Prometheus Operator CRDs that
// schemas/sources.json lists. Every file is read from the named source and
// verified (valid JSON or YAML, every kind of sources.json present, the CRDs
// of the stated operator version) before anything is written; then
// schemas/SHA256SUMS and schemas/NOTICE are rewritten.
//
//   node scripts/schemas/refresh.js --kubernetes SRC --crds SRC [--out DIR]
//   node scripts/schemas/refresh.js --check [--out DIR]
//
// SRC is a directory or an http(s) URL; for --kubernetes it holds
// <version>/_definitions.json, for --crds the CRD files; `upstream` means the
// upstream URL of sources.json. Either may be left out to refresh only the
// other; SCHEMAS_KUBERNETES_SOURCE and SCHEMAS_CRDS_SOURCE stand in for the
// arguments. --check verifies the files in DIR and their SHA256SUMS and NOTICE
// without reading any source. DIR defaults to the project's schemas/.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const YAML = require('yaml');

const SCHEMAS = path.resolve(__dirname, '..', '..', 'schemas');
const USAGE = 'usage: refresh.js --kubernetes SRC --crds SRC [--out DIR] | --check [--out DIR] (SRC: a directory, an http(s) URL or `upstream`)';

/** Every vendored file of a group: its path below schemas/ and below its source. */
function filesOf(sources, group) {
  return group === 'kubernetes'
    ? sources.kubernetes.versions.map((v) => ({ rel: `kubernetes/${v}/_definitions.json`, inSource: `${v}/_definitions.json` }))
    : Object.keys(sources.crds.files).map((f) => ({ rel: `crds/${f}`, inSource: f }));
}

const allFiles = (sources) => [...filesOf(sources, 'kubernetes'), ...filesOf(sources, 'crds')].map((f) => f.rel).sort();

async function read(source, rel) {
  if (!/^https?:\/\//.test(source)) return fs.readFileSync(path.resolve(source, rel), 'utf-8');
  const url = `${source.replace(/\/+$/, '')}/${rel}`;
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.text();
}

function kubernetesProblems(sources, text) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return [`is not JSON (${e.message})`];
  }
  const definitions = doc && doc.definitions;
  if (!definitions || typeof definitions !== 'object') return ['has no "definitions" object'];
  const kinds = new Set();
  for (const d of Object.values(definitions)) {
    if (!d.properties) continue;
    for (const g of d['x-kubernetes-group-version-kind'] || []) kinds.add(`${g.group ? `${g.group}/` : ''}${g.version}/${g.kind}`);
  }
  return sources.kubernetes.kinds.filter((k) => !kinds.has(k)).map((k) => `has no definition of ${k}`);
}

function crdProblems(sources, file, text) {
  const docs = YAML.parseAllDocuments(text);
  const errors = docs.flatMap((d) => d.errors);
  if (errors.length > 0) return [`is not YAML (${errors[0].message})`];
  const objects = docs.map((d) => d.toJSON()).filter((o) => o !== null);
  if (objects.length !== 1 || objects[0].kind !== 'CustomResourceDefinition') return ['is not exactly one CustomResourceDefinition'];
  const crd = objects[0];
  const { group, version } = sources.crds;
  const kind = sources.crds.files[file];
  const problems = [];
  if (crd.spec?.group !== group || crd.spec?.names?.kind !== kind) problems.push(`defines ${crd.spec?.group}/${crd.spec?.names?.kind}, sources.json says ${group}/${kind}`);
  const actual = crd.metadata?.annotations?.['operator.prometheus.io/version'];
  if (actual !== version) problems.push(`is Prometheus Operator ${actual}, sources.json says ${version}`);
  if (!(crd.spec?.versions || []).some((v) => v.schema?.openAPIV3Schema?.properties?.spec)) problems.push('has no version with an openAPIV3Schema of spec');
  return problems;
}

/** What is wrong with the text of the vendored file `rel` (empty when it is fit to use). */
function problemsOf(sources, rel, text) {
  const found = rel.startsWith('kubernetes/') ? kubernetesProblems(sources, text) : crdProblems(sources, path.basename(rel), text);
  return found.map((p) => `${rel}: ${p}`);
}

const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');

function sumsOf(sources, out) {
  return allFiles(sources).map((rel) => ({ rel, sha: sha256(fs.readFileSync(path.join(out, rel))) }));
}

function sumsText(sums) {
  return sums.map((s) => `${s.sha}  ${s.rel}\n`).join('');
}

function noticeText(sources, sums) {
  const { kubernetes: k, crds: c } = sources;
  const files = (dir) => sums.filter((s) => s.rel.startsWith(`${dir}/`)).map((s) => `    ${s.rel}\n      sha256 ${s.sha}\n`).join('');
  return `These files are not the work of the cdk8s-stateful authors. They are copied
unchanged from the projects named below, under the Apache License 2.0 (the
text is in LICENSE beside this file), for the project's tests and
\`npm run import\`; they are not part of the npm package.

${k.title}
  from:     ${k.origin}
  upstream: ${k.upstream}
  versions: ${k.versions.join(', ')}
  license:  ${k.license}
${files('kubernetes')}
${c.title}
  from:     ${c.origin}
  upstream: ${c.upstream}
  version:  ${c.version}
  license:  ${c.license}
${files('crds')}
scripts/schemas/refresh.js writes this file and SHA256SUMS; edit
sources.json (versions, kinds the checks need, CRD files) and run, e.g.
  node scripts/schemas/refresh.js --kubernetes upstream --crds upstream
`;
}

function writeAtomically(file, data) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.part`, data);
  fs.renameSync(`${file}.part`, file);
}

function writeMeta(sources, out) {
  const sums = sumsOf(sources, out);
  writeAtomically(path.join(out, 'SHA256SUMS'), sumsText(sums));
  writeAtomically(path.join(out, 'NOTICE'), noticeText(sources, sums));
}

function walk(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** Problems of the files in `out` as they are: each verified, no stray file, SHA256SUMS and NOTICE current. */
function check(sources, out) {
  const files = allFiles(sources);
  const missing = files.filter((rel) => !fs.existsSync(path.join(out, rel)));
  if (missing.length > 0) return missing.map((rel) => `${rel}: missing`);
  const problems = files.flatMap((rel) => problemsOf(sources, rel, fs.readFileSync(path.join(out, rel), 'utf-8')));
  const stray = [...walk(path.join(out, 'kubernetes')), ...walk(path.join(out, 'crds'))]
    .map((f) => path.relative(out, f)).filter((rel) => !files.includes(rel));
  problems.push(...stray.map((rel) => `${rel}: not listed in sources.json`));
  const sums = sumsOf(sources, out);
  for (const [name, want] of [['SHA256SUMS', sumsText(sums)], ['NOTICE', noticeText(sources, sums)]]) {
    const file = path.join(out, name);
    if (!fs.existsSync(file) || fs.readFileSync(file, 'utf-8') !== want) problems.push(`${name}: not current (run scripts/schemas/refresh.js)`);
  }
  return problems;
}

/** Reads and verifies every file of the groups in `from`, then writes them; nothing is written when any is unfit. */
async function refresh(sources, out, from) {
  const fetched = [];
  for (const group of ['kubernetes', 'crds']) {
    if (!from[group]) continue;
    const source = from[group] === 'upstream' ? sources[group].upstream : from[group];
    for (const f of filesOf(sources, group)) fetched.push({ rel: f.rel, text: await read(source, f.inSource) });
  }
  const problems = fetched.flatMap((f) => problemsOf(sources, f.rel, f.text));
  if (problems.length > 0) throw new Error(`refused, nothing was written:\n  ${problems.join('\n  ')}`);
  for (const f of fetched) {
    const file = path.join(out, f.rel);
    const before = fs.existsSync(file) ? sha256(fs.readFileSync(file)) : undefined;
    const after = sha256(f.text);
    writeAtomically(file, f.text);
    process.stdout.write(`${f.rel}  ${Buffer.byteLength(f.text)} bytes  ${after}  ${before === undefined ? 'new' : before === after ? 'unchanged' : 'changed'}\n`);
  }
  writeMeta(sources, out);
}

async function main(argv) {
  const opts = { kubernetes: process.env.SCHEMAS_KUBERNETES_SOURCE, crds: process.env.SCHEMAS_CRDS_SOURCE, out: SCHEMAS, check: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--check') opts.check = true;
    else if (['--kubernetes', '--crds', '--out'].includes(a) && argv[i + 1] !== undefined) opts[a.slice(2)] = argv[++i];
    else throw new Error(`unknown argument '${a}'\n${USAGE}`);
  }
  const out = path.resolve(opts.out);
  const sources = JSON.parse(fs.readFileSync(path.join(SCHEMAS, 'sources.json'), 'utf-8'));
  if (opts.check) {
    const problems = check(sources, out);
    if (problems.length > 0) throw new Error(`${out}:\n  ${problems.join('\n  ')}`);
    process.stdout.write(`${out}: ${allFiles(sources).length} files verified, SHA256SUMS and NOTICE current\n`);
    return;
  }
  if (!opts.kubernetes && !opts.crds) throw new Error(`name a source\n${USAGE}`);
  await refresh(sources, out, opts);
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`refresh.js: ${e.message}\n`);
  process.exit(1);
});
