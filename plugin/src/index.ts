/**
 * cdk8s-stateful-validation: cdk8s-stateful's manifest checks (strict
 * Kubernetes and CRD schemas, cross-references, Pod Security Standards
 * restricted) as a cdk8s validation plugin, and as functions.
 */
export { ManifestValidation, CHECKS } from './plugin';
export type { ManifestValidationProperties, ValidationContext, Check } from './plugin';
export { formatFinding } from './findings';
export type { Finding, Rule } from './findings';
export { schemaFindings, SCHEMA_RULES, KubernetesSchema, CrdSchemas, DEFAULT_SCHEMAS_DIR, readSchemaSources, crdFiles } from './schemas';
export type { SchemaCheckOptions } from './schemas';
export { crossReferenceFindings, crossReferenceProblems, CROSS_REFERENCE_RULES, GENERATES_SECRET, GENERATES_KEYS } from './cross-refs';
export type { CrossRefOptions } from './cross-refs';
export { podSecurityFindings, POD_SECURITY_RULES, podOf } from './pod-security';
