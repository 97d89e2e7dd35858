import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import * as YAML from 'yaml';
import { Finding, Rule } from './findings';

type Json = any;

/**
 * The schemas this package validates against: the package's own `schemas/`
 * (copied in when it is packed), or, in a checkout of the repository, the
 * repository's `schemas/` (schemas/NOTICE says where they come from;
 * scripts/schemas/refresh.js renews them).
 */
export const DEFAULT_SCHEMAS_DIR: string = [path.resolve(__dirname, '..', 'schemas'), path.resolve(__dirname, '..', '..', 'schemas')]
  .find((d) => fs.existsSync(path.join(d, 'sources.json'))) ?? path.resolve(__dirname, '..', 'schemas');

/** What a schemas directory holds (its sources.json): the Kubernetes versions and the CRD files. */
export interface SchemaSources {
  readonly kubernetes: { readonly versions: string[]; readonly [key: string]: Json };
  readonly crds: { readonly files: { [file: string]: string }; readonly group: string; readonly [key: string]: Json };
}

export function readSchemaSources(dir: string = DEFAULT_SCHEMAS_DIR): SchemaSources {
  const file = path.join(dir, 'sources.json');
  if (!fs.existsSync(file)) throw new Error(`no schemas in ${dir}: ${file} is missing`);
  return JSON.parse(fs.readFileSync(file, 'utf-8'));
}

/** The CRD files of a schemas directory (the Prometheus Operator's ServiceMonitor, PodMonitor, PrometheusRule). */
export function crdFiles(dir: string = DEFAULT_SCHEMAS_DIR): string[] {
  return Object.keys(readSchemaSources(dir).crds.files).map((f) => path.join(dir, 'crds', f));
}

/**
 * Makes a schema strict the way the API server's field validation is: an
 * object schema that lists its properties rejects any other property, unless
 * it preserves unknown fields on purpose.
 */
function strictify(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(strictify);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    out[k] = k === 'properties' || k === 'definitions'
      ? Object.fromEntries(Object.entries(v as Json).map(([pk, pv]) => [pk, strictify(pv)]))
      : strictify(v);
  }
  if (out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) {
    out.additionalProperties = false;
  }
  return out;
}

/** CRD patterns are Go (RE2) regular expressions: translate the inline `(?i)` flag. */
const goRegExp = Object.assign(
  (pattern: string, flags: string) => (pattern.includes('(?i)') ? new RegExp(pattern.split('(?i)').join(''), `${flags}i`) : new RegExp(pattern, flags)),
  { code: 'new RegExp' },
);

function newAjv(): Ajv {
  return new Ajv({ strict: false, validateFormats: false, allErrors: true, code: { regExp: goRegExp } });
}

function describe(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` '${e.params.additionalProperty}'` : ''}`);
}

/** Strict validators for one Kubernetes version, compiled on first use per kind. */
export class KubernetesSchema {
  private static readonly cache = new Map<string, KubernetesSchema>();

  /** The validators of `version` (a directory name under `<dir>/kubernetes`, e.g. `v1.27.0`). */
  public static forVersion(version: string, dir: string = DEFAULT_SCHEMAS_DIR): KubernetesSchema {
    const key = path.join(dir, version);
    let s = KubernetesSchema.cache.get(key);
    if (!s) {
      s = new KubernetesSchema(version, dir);
      KubernetesSchema.cache.set(key, s);
    }
    return s;
  }

  private readonly definitions: Json;
  /** How many definitions the validators were compiled from. */
  public readonly definitionCount: number;
  private readonly ajv = newAjv();
  private readonly validators = new Map<string, ValidateFunction | undefined>();

  private constructor(public readonly version: string, dir: string) {
    const file = path.join(dir, 'kubernetes', version, '_definitions.json');
    this.definitions = strictify(JSON.parse(fs.readFileSync(file, 'utf-8')).definitions);
    this.definitionCount = Object.keys(this.definitions).length;
    this.ajv.addSchema({ $id: 'k8s', definitions: this.definitions });
  }

  private validator(obj: Json): ValidateFunction | undefined {
    const key = `${obj.apiVersion}/${obj.kind}`;
    if (!this.validators.has(key)) {
      const [group, version] = String(obj.apiVersion).includes('/') ? String(obj.apiVersion).split('/') : ['', obj.apiVersion];
      const name = Object.keys(this.definitions).find((d) => (this.definitions[d]['x-kubernetes-group-version-kind'] ?? [])
        .some((g: Json) => g.group === group && g.version === version && g.kind === obj.kind));
      this.validators.set(key, name ? this.ajv.compile({ $ref: `k8s#/definitions/${name}` }) : undefined);
    }
    return this.validators.get(key);
  }

  /** True when this version has the object's apiVersion and kind. */
  public has(obj: Json): boolean {
    return this.validator(obj) !== undefined;
  }

  /** Problems of `obj` against this version (empty when valid); one problem when the version lacks its kind. */
  public validate(obj: Json): string[] {
    const v = this.validator(obj);
    if (!v) return [`${obj.apiVersion}/${obj.kind} does not exist in Kubernetes ${this.version}`];
    return v(obj) ? [] : describe(v.errors);
  }
}

/** Strict validators for custom resources, compiled from their CustomResourceDefinitions. */
export class CrdSchemas {
  private static readonly bundled = new Map<string, CrdSchemas>();

  /** The CRDs of a schemas directory (by default the ones this package carries). */
  public static get(dir: string = DEFAULT_SCHEMAS_DIR): CrdSchemas {
    let s = CrdSchemas.bundled.get(dir);
    if (!s) {
      s = CrdSchemas.fromFiles(crdFiles(dir));
      CrdSchemas.bundled.set(dir, s);
    }
    return s;
  }

  /** The CRDs in YAML files (other documents in them are ignored). */
  public static fromFiles(files: string[]): CrdSchemas {
    return new CrdSchemas(files.flatMap((file) => YAML.parseAllDocuments(fs.readFileSync(file, 'utf-8')).map((d) => d.toJSON())));
  }

  /** The CustomResourceDefinitions among `objects` (others are ignored). */
  public static fromObjects(objects: Json[]): CrdSchemas {
    return new CrdSchemas(objects);
  }

  private readonly validators = new Map<string, ValidateFunction>();

  private constructor(objects: Json[]) {
    const ajv = newAjv();
    for (const crd of objects) {
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      for (const v of crd.spec?.versions ?? []) {
        const schema = strictify(v.schema?.openAPIV3Schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
        // apiVersion, kind and metadata are the API server's, whether or not the CRD's schema lists them
        schema.properties = { ...schema.properties, apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' } };
        this.validators.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, ajv.compile(schema));
      }
    }
  }

  /** `group/version/Kind` of every custom resource with a validator. */
  public get kinds(): string[] {
    return [...this.validators.keys()];
  }

  /** True when `obj` is one of the custom resources we have a CRD for. */
  public has(obj: Json): boolean {
    return this.validators.has(`${obj.apiVersion}/${obj.kind}`);
  }

  public validate(obj: Json): string[] {
    const v = this.validators.get(`${obj.apiVersion}/${obj.kind}`)!;
    return v(obj) ? [] : describe(v.errors);
  }
}

/** The schema rules, as the validation report names and explains them. */
export const SCHEMA_RULES = {
  kubernetes: (version: string): Rule => ({
    id: `schema/kubernetes-${version}`,
    recommendation: `Every object is valid against the Kubernetes ${version} OpenAPI schema, with unknown fields rejected as the API server's strict field validation does.`,
    fix: 'Correct or remove the field (a misspelt field is silently dropped by a non-strict API server), or use an apiVersion that this Kubernetes version serves.',
  }),
  customResources: {
    id: 'schema/custom-resources',
    recommendation: 'Every custom resource is valid against the schema of its CustomResourceDefinition, with unknown fields rejected.',
    fix: 'Correct or remove the field.',
  } as Rule,
  name: {
    id: 'schema/metadata-name',
    recommendation: 'Every object has a metadata.name (or a generateName): the API server rejects an object without one.',
    fix: 'Name the object.',
  } as Rule,
  unknownKind: {
    id: 'schema/unknown-kind',
    recommendation: 'Every object is a kind of the target Kubernetes versions or a custom resource whose CustomResourceDefinition the plugin knows.',
    fix: "Correct apiVersion and kind, or list the CRD's YAML file in the plugin's crds property (CRDs in the app's own manifests are known already).",
  } as Rule,
};

export interface SchemaCheckOptions {
  /** The Kubernetes versions to validate against (directories of `<schemasDir>/kubernetes`). @default - every version the schemas directory has */
  readonly versions?: string[];
  /** @default DEFAULT_SCHEMAS_DIR */
  readonly schemasDir?: string;
  /** More custom resource schemas than the Prometheus Operator CRDs that the schemas directory carries. */
  readonly crds?: CrdSchemas[];
}

/** Strict schema problems of `objects` against every target Kubernetes version, and against the CRDs for custom resources. */
export function schemaFindings(objects: Json[], options: SchemaCheckOptions = {}): Finding[] {
  const dir = options.schemasDir ?? DEFAULT_SCHEMAS_DIR;
  const versions = (options.versions ?? readSchemaSources(dir).kubernetes.versions).map((v) => KubernetesSchema.forVersion(v, dir));
  const crds = [CrdSchemas.get(dir), ...(options.crds ?? [])];
  const findings: Finding[] = [];
  for (const o of objects) {
    const report = (rule: Rule, message: string) => findings.push({ rule: rule.id, kind: o?.kind, name: o?.metadata?.name, namespace: o?.metadata?.namespace, message });
    if (typeof o?.metadata?.name !== 'string' && typeof o?.metadata?.generateName !== 'string') report(SCHEMA_RULES.name, 'metadata.name is missing');
    const crd = crds.find((c) => c.has(o));
    if (crd) {
      crd.validate(o).forEach((p) => report(SCHEMA_RULES.customResources, `CRD schema: ${p}`));
    } else if (!versions.some((v) => v.has(o))) {
      report(SCHEMA_RULES.unknownKind, `${o?.apiVersion}/${o?.kind} is neither a kind of Kubernetes ${versions.map((v) => v.version).join(' or ')} nor a custom resource of a known CRD`);
    } else {
      for (const v of versions) v.validate(o).forEach((p) => report(SCHEMA_RULES.kubernetes(v.version), `Kubernetes ${v.version}: ${p}`));
    }
  }
  return findings;
}
