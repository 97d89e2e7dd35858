import * as path from 'path';
import { crdFiles, readSchemaSources } from '../../plugin/src/schemas';

// The strict validators live in the validation plugin (plugin/src/schemas.ts),
// which users run from their cdk8s.yaml; the tests use them on the schemas the
// repository carries.
export { CrdSchemas, KubernetesSchema } from '../../plugin/src/schemas';

/** The schemas the project carries (schemas/NOTICE says where they come from; scripts/schemas/refresh.js renews them). */
export const SCHEMAS_DIR = path.resolve(__dirname, '..', '..', 'schemas');
/** What schemas/ holds: the Kubernetes versions, the kinds the checks need, the CRD files. */
export const SCHEMA_SOURCES: any = readSchemaSources(SCHEMAS_DIR);
export const KUBERNETES_VERSIONS: string[] = SCHEMA_SOURCES.kubernetes.versions;
/** The Prometheus Operator CRDs (ServiceMonitor, PodMonitor, PrometheusRule). */
export const CRD_DIR = path.join(SCHEMAS_DIR, 'crds');
export const CRD_FILES: string[] = crdFiles(SCHEMAS_DIR);
