import * as fs from 'fs';
import * as path from 'path';
import { CROSS_REFERENCE_RULES, crossReferenceFindings } from './cross-refs';
import { Finding, formatFinding, Rule } from './findings';
import { POD_SECURITY_RULES, podSecurityFindings } from './pod-security';
import { CrdSchemas, DEFAULT_SCHEMAS_DIR, readSchemaSources, SCHEMA_RULES, schemaFindings } from './schemas';

type Json = any;

/**
 * What cdk8s hands a validation plugin (cdk8s-cli's `ValidationContext`),
 * reduced to what this plugin uses, so that the package needs no cdk8s-cli.
 */
export interface ValidationContext {
  readonly manifests: readonly string[];
  parseManifest(manifestPath: string): any[];
  readonly report: {
    addViolation(violation: {
      readonly ruleName: string;
      readonly recommendation: string;
      readonly fix: string;
      readonly violatingResources: readonly { readonly resourceName: string; readonly locations: readonly string[]; readonly manifestPath: string }[];
    }): void;
    submit(status: 'success' | 'failure', metadata?: { readonly [key: string]: string }): void;
  };
}

/** The checks the plugin can run (`checks` property). */
export const CHECKS = ['schema', 'cross-references', 'pod-security'] as const;
export type Check = typeof CHECKS[number];

/** The `properties` of the plugin's entry in cdk8s.yaml's `validations`. */
export interface ManifestValidationProperties {
  /** Kubernetes versions to validate against. @default - every version the package carries (v1.27.0 and v1.36.0) */
  readonly kubernetesVersions?: string[];
  /** Which checks run. @default - all: schema, cross-references, pod-security */
  readonly checks?: Check[];
  /** Secrets that exist outside the app (created by hand or by an operator), with their keys. @default {} */
  readonly externalSecrets?: { [name: string]: string[] };
  /** ServiceAccounts that exist outside the app. @default [] */
  readonly externalServiceAccounts?: string[];
  /** YAML files with the CustomResourceDefinitions of custom resources the app uses, relative to the app's directory. @default [] */
  readonly crds?: string[];
}

const PROPERTIES: { [key in keyof ManifestValidationProperties]-?: string } = {
  kubernetesVersions: 'a list of Kubernetes versions',
  checks: `a list of checks (${CHECKS.join(', ')})`,
  externalSecrets: 'a map from Secret name to its list of keys',
  externalServiceAccounts: 'a list of ServiceAccount names',
  crds: 'a list of CRD YAML files',
};

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * cdk8s-stateful's manifest checks as a cdk8s validation plugin: every object
 * that `cdk8s synth` writes, from any construct library or hand-written, is
 * validated against the strict Kubernetes schemas of the target versions
 * (unknown fields are errors) and the CRDs, its references to other objects
 * of its namespace are resolved (selectors select pods, mounts name volumes,
 * ConfigMap and Secret keys exist, probes name ports, PDBs allow a
 * disruption), and its pods are held to the Pod Security Standards'
 * restricted profile. Enable it in cdk8s.yaml:
 *
 * ```yaml
 * validations:
 *   - package: ./node_modules/cdk8s-stateful-validation
 *     class: ManifestValidation
 *     version: 0.1.0
 * ```
 */
export class ManifestValidation {
  private readonly versions: string[];
  private readonly checks: Set<Check>;
  private readonly externalSecrets: { [name: string]: string[] };
  private readonly externalServiceAccounts: string[];
  private readonly crds: CrdSchemas[];

  public constructor(properties: { [key: string]: unknown } = {}, private readonly schemasDir: string = DEFAULT_SCHEMAS_DIR) {
    const fail = (property: string, problem: string): never => {
      throw new Error(`cdk8s-stateful-validation ManifestValidation: property '${property}' ${problem}`);
    };
    for (const key of Object.keys(properties)) {
      if (!(key in PROPERTIES)) fail(key, `is unknown; the properties are ${Object.keys(PROPERTIES).join(', ')}`);
    }
    const list = (key: keyof ManifestValidationProperties): string[] | undefined => {
      const v = properties[key];
      if (v === undefined) return undefined;
      if (!isStringList(v)) fail(key, `must be ${PROPERTIES[key]}, got ${JSON.stringify(v)}`);
      return v as string[];
    };

    const available = readSchemaSources(schemasDir).kubernetes.versions;
    this.versions = list('kubernetesVersions') ?? available;
    if (this.versions.length === 0) fail('kubernetesVersions', `must name at least one version (available: ${available.join(', ')})`);
    for (const v of this.versions) {
      if (!available.includes(v)) fail('kubernetesVersions', `names '${v}', which the package has no schema for; available: ${available.join(', ')}`);
    }

    const checks = list('checks') ?? [...CHECKS];
    for (const c of checks) if (!(CHECKS as readonly string[]).includes(c)) fail('checks', `names '${c}'; the checks are ${CHECKS.join(', ')}`);
    if (checks.length === 0) fail('checks', `must name at least one check (${CHECKS.join(', ')})`);
    this.checks = new Set(checks as Check[]);

    const secrets = properties.externalSecrets ?? {};
    if (typeof secrets !== 'object' || secrets === null || Array.isArray(secrets) || !Object.values(secrets).every(isStringList)) {
      fail('externalSecrets', `must be ${PROPERTIES.externalSecrets}, got ${JSON.stringify(secrets)}`);
    }
    this.externalSecrets = secrets as { [name: string]: string[] };
    this.externalServiceAccounts = list('externalServiceAccounts') ?? [];

    const crdFiles = (list('crds') ?? []).map((f) => path.resolve(f));
    for (const f of crdFiles) if (!fs.existsSync(f)) fail('crds', `names ${f}, which does not exist`);
    this.crds = crdFiles.length > 0 ? [CrdSchemas.fromFiles(crdFiles)] : [];
  }

  /** Every finding in `objects`, as one synthesized app (all of its manifests). */
  public findings(objects: Json[]): Finding[] {
    const findings: Finding[] = [];
    // an object without a kind or name is the schema check's finding; the other checks look up objects by both
    const named = objects.filter((o) => typeof o.kind === 'string' && typeof o.metadata?.name === 'string');
    if (this.checks.has('schema')) {
      findings.push(...schemaFindings(objects, { versions: this.versions, schemasDir: this.schemasDir, crds: [...this.crds, CrdSchemas.fromObjects(objects)] }));
    }
    if (this.checks.has('cross-references')) {
      // names resolve within a namespace; objects without one are in the namespace they are applied to
      const namespaces = new Map<string, Json[]>();
      for (const o of named) {
        const ns = o.metadata.namespace ?? '';
        namespaces.set(ns, [...(namespaces.get(ns) ?? []), o]);
      }
      for (const group of namespaces.values()) {
        findings.push(...crossReferenceFindings(group, { externalSecrets: this.externalSecrets, externalServiceAccounts: this.externalServiceAccounts }));
      }
    }
    if (this.checks.has('pod-security')) findings.push(...podSecurityFindings(named));
    return findings;
  }

  /** Called by `cdk8s synth` with the manifests it wrote. */
  public async validate(context: ValidationContext): Promise<void> {
    const manifestOf = new Map<Json, string>();
    const objects: Json[] = [];
    for (const manifest of context.manifests) {
      for (const o of context.parseManifest(manifest)) {
        if (o === null || typeof o !== 'object') continue;
        manifestOf.set(o, manifest);
        objects.push(o);
      }
    }
    const findings = this.findings(objects);
    const where = (f: Finding) => manifestOf.get(objects.find((o) => o.kind === f.kind && o.metadata?.name === f.name && o.metadata?.namespace === f.namespace)) ?? 'N/A';

    const byRule = new Map<string, Finding[]>();
    for (const f of findings) byRule.set(f.rule, [...(byRule.get(f.rule) ?? []), f]);
    for (const [id, ruleFindings] of byRule) {
      const rule = ruleFor(id);
      const resources = new Map<string, { resourceName: string; manifestPath: string; locations: string[] }>();
      for (const f of ruleFindings) {
        const key = `${f.kind}/${f.namespace}/${f.name}`;
        if (!resources.has(key)) resources.set(key, { resourceName: f.name, manifestPath: where(f), locations: [] });
        resources.get(key)!.locations.push(formatFinding(f));
      }
      context.report.addViolation({ ruleName: id, recommendation: rule.recommendation, fix: rule.fix, violatingResources: [...resources.values()] });
    }
    context.report.submit(findings.length === 0 ? 'success' : 'failure', {
      objects: String(objects.length),
      checks: [...this.checks].join(', '),
      'kubernetes versions': this.versions.join(', '),
      findings: String(findings.length),
    });
  }
}

function ruleFor(id: string): Rule {
  const known: Rule[] = [...Object.values(CROSS_REFERENCE_RULES), ...Object.values(POD_SECURITY_RULES), SCHEMA_RULES.customResources, SCHEMA_RULES.unknownKind, SCHEMA_RULES.name];
  const version = /^schema\/kubernetes-(.+)$/.exec(id);
  const rule = version ? SCHEMA_RULES.kubernetes(version[1]) : known.find((r) => r.id === id);
  if (!rule) throw new Error(`cdk8s-stateful-validation: no rule ${id}`);
  return rule;
}
