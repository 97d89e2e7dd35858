// The Kubernetes 1.27 L1 classes. cdk8s-plus-27 ships exactly what
// `cdk8s import k8s@1.27.0` generates (the same classes), already compiled:
// importing them from there keeps `cdk8s synth` from transpiling 1.1 MB of
// TypeScript on every run (~1.4 s here). Moving to another Kubernetes version
// or to a locally generated imports/k8s.ts changes only this file.
export { k8s } from 'cdk8s-plus-27';
