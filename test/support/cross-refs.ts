// The cross-reference checks live in the validation plugin (plugin/src/cross-refs.ts),
// which users run from their cdk8s.yaml.
export { crossReferenceFindings, crossReferenceProblems, GENERATES_KEYS, GENERATES_SECRET } from '../../plugin/src/cross-refs';
export type { CrossRefOptions } from '../../plugin/src/cross-refs';
