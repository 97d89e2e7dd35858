import { spawnSync } from 'child_process';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { crossReferenceProblems, CrossRefOptions } from './cross-refs';
import { formatFinding } from '../../plugin/src/findings';
import { schemaFindings } from '../../plugin/src/schemas';
import { SCHEMAS_DIR } from './schemas';
import { haveShellcheck, scriptsIn, shellcheck } from './shellcheck';

type Json = any;

export type ManifestCheckOptions = CrossRefOptions;

const warned = new Set<string>();
/** Skips a check that needs something a user's own clone may lack; CI must have everything. */
function unavailable(what: string): boolean {
  if (process.env.CI) throw new Error(`${what} is required in CI`);
  if (!warned.has(what)) {
    warned.add(what);
    process.stderr.write(`\n*** SKIPPED: ${what} is not available, so those manifest checks did not run ***\n`);
  }
  return true;
}

/** kubernetes-models' own validation of every built-in object. */
export function kubernetesModelsProblems(objects: Json[]): string[] {
  const problems: string[] = [];
  for (const o of objects) {
    const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
    let Model: Json;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      Model = require(`kubernetes-models/${group ? `${group}/` : ''}${version}/${o.kind}`)[o.kind];
    } catch {
      if (!group.endsWith('monitoring.coreos.com')) problems.push(`${o.kind}/${o.metadata?.name}: kubernetes-models has no ${o.apiVersion} ${o.kind}`);
      continue;
    }
    try {
      new Model(o).validate();
    } catch (e) {
      problems.push(`${o.kind}/${o.metadata?.name}: kubernetes-models: ${(e as Error).message}`);
    }
  }
  return problems;
}

/** Strict schema problems against every Kubernetes version in schemas/ and the CRDs (the validation plugin's schema check). */
export function schemaProblems(objects: Json[]): string[] {
  return schemaFindings(objects, { schemasDir: SCHEMAS_DIR }).map(formatFinding);
}

/** @monokle/validation: Pod Security Standards (restricted) and resource links. */
export function monokleProblems(objects: Json[]): string[] {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'monokle-check.mjs')], {
    input: JSON.stringify(objects), encoding: 'utf-8', maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`monokle-check failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** shellcheck findings in every script of the manifest. */
export function scriptProblems(objects: Json[]): string[] {
  const scripts = scriptsIn(objects);
  if (scripts.length === 0) return [];
  if (!haveShellcheck() && unavailable('shellcheck (apt-get install shellcheck)')) return [];
  return scripts.flatMap((s) => shellcheck(s));
}

/** Every problem any check finds in `objects` (empty when the manifest is good). */
export function manifestProblems(objects: Json[], options: ManifestCheckOptions = {}): string[] {
  return [
    ...kubernetesModelsProblems(objects),
    ...schemaProblems(objects),
    ...crossReferenceProblems(objects, options),
    ...monokleProblems(objects),
    ...scriptProblems(objects),
  ];
}

/** Synthesizes `chart` and asserts that every check passes; returns the objects. */
export function synthValid(chart: Chart, options: ManifestCheckOptions = {}): Json[] {
  const errors = validationErrors(chart);
  if (errors.length > 0) throw new Error(`the app of chart '${chart.node.id}' fails validation:\n  ${errors.join('\n  ')}`);
  const objects = Testing.synth(chart);
  const problems = manifestProblems(objects, options);
  if (problems.length > 0) {
    throw new Error(`the manifest of chart '${chart.node.id}' has ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  }
  return objects;
}

/** What `app.synth()` would reject: every construct's `node.validate()` in the chart's app. */
export function validationErrors(chart: Chart): string[] {
  return chart.node.root.node.findAll().flatMap((c) => c.node.validate().map((e) => `${c.node.path}: ${e}`));
}

/** The objects of `kind` (optionally named `name`). */
export function objectsOf(objects: Json[], kind: string, name?: string): Json[] {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
}

/** The single object of `kind` (and `name`); throws if there is not exactly one. */
export function only(objects: Json[], kind: string, name?: string): Json {
  const found = objectsOf(objects, kind, name);
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` '${name}'` : ''}, found ${found.length}`);
  return found[0];
}
