import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ValidateFunction } from 'ajv';
import * as YAML from 'yaml';

type Json = any;

/** The schemas the project carries (schemas/NOTICE says where they come from; scripts/schemas/refresh.js renews them). */
export const SCHEMAS_DIR = path.resolve(__dirname, '..', '..', 'schemas');
/** What schemas/ holds: the Kubernetes versions, the kinds the checks need, the CRD files. */
export const SCHEMA_SOURCES: Json = JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, 'sources.json'), 'utf-8'));
export const KUBERNETES_VERSIONS: string[] = SCHEMA_SOURCES.kubernetes.versions;
/** The Prometheus Operator CRDs (ServiceMonitor, PodMonitor, PrometheusRule). */
export const CRD_DIR = path.join(SCHEMAS_DIR, 'crds');
export const CRD_FILES: string[] = Object.keys(SCHEMA_SOURCES.crds.files).map((f) => path.join(CRD_DIR, f));

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

/** Strict validators for one Kubernetes version, compiled on first use per kind. */
export class KubernetesSchema {
  private static readonly cache = new Map<string, KubernetesSchema>();

  public static forVersion(version: string): KubernetesSchema {
    let s = KubernetesSchema.cache.get(version);
    if (!s) {
      s = new KubernetesSchema(version);
      KubernetesSchema.cache.set(version, s);
    }
    return s;
  }

  private readonly definitions: Json;
  /** How many definitions the validators were compiled from. */
  public readonly definitionCount: number;
  private readonly ajv = newAjv();
  private readonly validators = new Map<string, ValidateFunction | undefined>();

  private constructor(public readonly version: string) {
    const file = path.join(SCHEMAS_DIR, 'kubernetes', version, '_definitions.json');
    this.definitions = strictify(JSON.parse(fs.readFileSync(file, 'utf-8')).definitions);
    this.definitionCount = Object.keys(this.definitions).length;
    this.ajv.addSchema({ $id: 'k8s', definitions: this.definitions });
  }

  /** Problems of `obj` against this version (empty when valid); throws for a kind the version does not have. */
  public validate(obj: Json): string[] {
    const key = `${obj.apiVersion}/${obj.kind}`;
    if (!this.validators.has(key)) {
      const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
      const name = Object.keys(this.definitions).find((d) => (this.definitions[d]['x-kubernetes-group-version-kind'] ?? [])
        .some((g: Json) => g.group === group && g.version === version && g.kind === obj.kind));
      this.validators.set(key, name ? this.ajv.compile({ $ref: `k8s#/definitions/${name}` }) : undefined);
    }
    const v = this.validators.get(key);
    if (!v) return [`${key} does not exist in Kubernetes ${this.version}`];
    return v(obj) ? [] : (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` '${e.params.additionalProperty}'` : ''}`);
  }
}

/** Strict validators for the custom resources whose CRDs are in schemas/crds. */
export class CrdSchemas {
  private static instance: CrdSchemas | undefined;

  public static get(): CrdSchemas {
    return CrdSchemas.instance ??= new CrdSchemas();
  }

  private readonly validators = new Map<string, ValidateFunction>();

  private constructor() {
    const ajv = newAjv();
    for (const file of CRD_FILES) {
      for (const doc of YAML.parseAllDocuments(fs.readFileSync(file, 'utf-8'))) {
        const crd = doc.toJSON();
        if (crd?.kind !== 'CustomResourceDefinition') continue;
        for (const v of crd.spec.versions) {
          const schema = strictify(v.schema.openAPIV3Schema);
          // metadata is validated by the API server itself, not by the CRD
          schema.properties.metadata = { type: 'object' };
          this.validators.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, ajv.compile(schema));
        }
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
    return v(obj) ? [] : (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` '${e.params.additionalProperty}'` : ''}`);
  }
}
