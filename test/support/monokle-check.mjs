// Runs @monokle/validation (an ES module, so outside Jest's CommonJS runtime)
// on the JSON array of objects read from stdin: every Pod Security Standards
// rule (baseline and restricted) and the resource-links rules, all as errors.
// Prints one JSON array of "ruleId kind/name: message" strings.
import { createDefaultMonokleValidator } from '@monokle/validation';
import YAML from 'yaml';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const objects = JSON.parse(Buffer.concat(chunks).toString('utf-8'));
const resources = objects.map((o, i) => ({
  id: `r${i}`, fileId: 'manifest', filePath: 'manifest.yaml', fileOffset: 0,
  text: YAML.stringify(o), content: o, kind: o.kind, apiVersion: o.apiVersion,
  name: o.metadata?.name, namespace: o.metadata?.namespace,
}));
const plugins = { 'pod-security-standards': true, 'resource-links': true };
const validator = createDefaultMonokleValidator();
await validator.preload({ plugins });
const rules = {};
for (const p of Object.keys(plugins)) for (const r of validator.getPlugin(p).rules) rules[`${p}/${r.name}`] = 'err';
await validator.preload({ plugins, rules });
const response = await validator.validate({ resources });
const out = [];
for (const run of response.runs) {
  for (const r of run.results) {
    const where = r.locations?.[1]?.logicalLocations?.[0]?.fullyQualifiedName ?? '?';
    out.push(`${r.ruleId} ${where}: ${r.message.text}`);
  }
}
process.stdout.write(JSON.stringify(out));
