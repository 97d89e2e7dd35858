import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { RedisCluster } from '../../src';
import { WebChart } from '../../examples/web';
import { crossReferenceProblems } from './cross-refs';
import { kubernetesModelsProblems, monokleProblems, schemaProblems, scriptProblems } from './manifest';
import { CrdSchemas, KUBERNETES_VERSIONS, KubernetesSchema, SCHEMA_SOURCES, SCHEMAS_DIR } from './schemas';

// The checks every manifest passes must themselves catch what they claim to:
// each test breaks a known-good manifest in one way and expects that finding.
function web(): any[] {
  return Testing.synth(new WebChart(Testing.app(), 'web'));
}
const sts = (objects: any[]) => objects.find((o) => o.kind === 'StatefulSet');

describe('manifest checks', () => {
  test('the strict validators are compiled from every definition the project carries, so the schema checks cannot be skipped', () => {
    // GIVEN the Kubernetes versions in schemas/kubernetes
    const dirs = fs.readdirSync(path.join(SCHEMAS_DIR, 'kubernetes')).sort();
    expect(dirs.length).toBeGreaterThan(0);
    expect([...KUBERNETES_VERSIONS].sort()).toEqual(dirs);
    for (const v of dirs) {
      // THEN each version's validators hold all of its definitions
      const file = JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, 'kubernetes', v, '_definitions.json'), 'utf-8'));
      const count = Object.keys(file.definitions).length;
      expect(count).toBeGreaterThan(0);
      expect(KubernetesSchema.forVersion(v).definitionCount).toBe(count);
      console.log(`strict schema validators: Kubernetes ${v}, ${count} definitions`);
    }
    // AND every CRD of schemas/crds has a validator
    const group = SCHEMA_SOURCES.crds.group;
    const kinds = CrdSchemas.get().kinds;
    for (const kind of Object.values(SCHEMA_SOURCES.crds.files)) {
      expect(kinds.filter((k) => k.startsWith(`${group}/`) && k.endsWith(`/${kind}`)).length).toBeGreaterThan(0);
    }
    console.log(`strict CRD validators: ${kinds.join(', ')}`);
  });

  test('a known-good manifest has no findings', () => {
    const objects = web();
    expect([...schemaProblems(objects), ...crossReferenceProblems(objects), ...monokleProblems(objects), ...kubernetesModelsProblems(objects)]).toEqual([]);
  });

  test('strict schema validation rejects an unknown field in both Kubernetes versions', () => {
    const objects = web();
    sts(objects).spec.template.spec.containers[0].imagePullPolicyy = 'Always';
    const problems = schemaProblems(objects);
    expect(problems.filter((p) => p.includes("'imagePullPolicyy'"))).toHaveLength(2);
  });

  test('strict schema validation rejects a wrong type', () => {
    const objects = web();
    sts(objects).spec.replicas = 'three';
    expect(schemaProblems(objects).join('\n')).toMatch(/\/spec\/replicas must be integer/);
  });

  test('CRD schema validation rejects an unknown field in a ServiceMonitor endpoint', () => {
    const sm = {
      apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'x' },
      spec: { selector: { matchLabels: { a: 'b' } }, endpoints: [{ port: 'metrics', intervall: '30s' }] },
    };
    expect(schemaProblems([sm])).toEqual(["ServiceMonitor/x: CRD schema: /spec/endpoints/0 must NOT have additional properties 'intervall'"]);
    delete (sm.spec.endpoints[0] as any).intervall;
    expect(schemaProblems([sm])).toEqual([]);
  });

  test('kubernetes-models rejects a missing required field', () => {
    const objects = web();
    delete sts(objects).spec.selector;
    expect(kubernetesModelsProblems(objects).join('\n')).toMatch(/StatefulSet\/web: kubernetes-models/);
  });

  test('cross-references catch a selector that misses the pods', () => {
    const objects = web();
    sts(objects).spec.selector.matchLabels['app.kubernetes.io/name'] = 'other';
    expect(crossReferenceProblems(objects).join('\n')).toMatch(/does not match the pod template labels/);
  });

  test('cross-references catch a NetworkPolicy peer that names our instance but selects no pod', () => {
    // GIVEN a Redis cluster, whose policy admits its bootstrap Job by the Job's labels
    const chart = new Chart(Testing.app(), 'c', { namespace: 'cache' });
    new RedisCluster(chart, 'cache');
    const objects = Testing.synth(chart);
    expect(crossReferenceProblems(objects)).toEqual([]);
    // WHEN the Job's component label no longer matches the peer
    const job = objects.find((o) => o.kind === 'Job' && o.metadata.labels['app.kubernetes.io/component'] === 'cluster-bootstrap');
    job.spec.template.metadata.labels['app.kubernetes.io/component'] = 'bootstrap';
    // THEN the peer is found to select nothing
    expect(crossReferenceProblems(objects).join('\n')).toMatch(/ingress peer \{"app.kubernetes.io\/component":"cluster-bootstrap","app.kubernetes.io\/instance":"c-cache"\} selects no pod of the manifest/);
  });

  test('cross-references catch a serviceName without a headless Service', () => {
    const objects = web();
    sts(objects).spec.serviceName = 'missing';
    expect(crossReferenceProblems(objects)).toContain("StatefulSet/web: serviceName 'missing' names no Service in the manifest");
  });

  test('cross-references catch a PDB that allows no disruption', () => {
    const objects = web();
    const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget');
    delete pdb.spec.maxUnavailable;
    pdb.spec.minAvailable = 3;
    expect(crossReferenceProblems(objects)).toContain('PodDisruptionBudget/web: allows no disruption of its 3 pods (node drains would hang)');
  });

  test('cross-references catch a mount of a missing volume and an unmounted claim', () => {
    const objects = web();
    sts(objects).spec.template.spec.containers[0].volumeMounts[0].name = 'wwww';
    const problems = crossReferenceProblems(objects);
    expect(problems).toContain("StatefulSet/web container 'nginx': mounts 'wwww', which is neither a volume nor a claim template");
    expect(problems).toContain("StatefulSet/web: claim template 'www' is never mounted");
  });

  test('cross-references catch a probe on an undeclared port and identical probes', () => {
    const objects = web();
    const c = sts(objects).spec.template.spec.containers[0];
    c.livenessProbe = { ...c.readinessProbe };
    c.readinessProbe.tcpSocket.port = 'http';
    c.livenessProbe = JSON.parse(JSON.stringify(c.readinessProbe));
    const problems = crossReferenceProblems(objects);
    expect(problems).toContain("StatefulSet/web container 'nginx': readinessProbe targets port 'http', which the container does not declare");
    expect(problems.join('\n')).toMatch(/readiness and liveness probes are identical/);
  });

  test('cross-references catch a missing Secret and a missing key', () => {
    const objects = web();
    sts(objects).spec.template.spec.containers[0].env = [
      { name: 'A', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
    ];
    expect(crossReferenceProblems(objects).join('\n')).toMatch(/Secret 'creds' is neither in the manifest/);
    expect(crossReferenceProblems(objects, { externalSecrets: { creds: ['user'] } }).join('\n')).toMatch(/Secret 'creds' has no key 'password'/);
    expect(crossReferenceProblems(objects, { externalSecrets: { creds: ['password'] } })).toEqual([]);
  });

  test('cross-references catch names over their length limits', () => {
    const objects = web();
    sts(objects).metadata.name = 'a'.repeat(53);
    expect(crossReferenceProblems(objects).join('\n')).toMatch(/StatefulSet name is 53 characters \(max 52\)/);
  });

  test('Pod Security Standards (restricted) flag a root container', () => {
    const objects = web();
    const c = sts(objects).spec.template.spec.containers[0];
    c.securityContext.runAsNonRoot = false;
    delete sts(objects).spec.template.spec.securityContext.runAsNonRoot;
    c.securityContext.allowPrivilegeEscalation = true;
    const problems = monokleProblems(objects).join('\n');
    expect(problems).toMatch(/PSS203/);
    expect(problems).toMatch(/PSS202/);
  });

  test('shellcheck flags an unquoted variable in a ConfigMap script', () => {
    const objects = [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { 'start.sh': '#!/bin/bash\nset -euo pipefail\nrm -rf $DIR/data\n' } }];
    expect(scriptProblems(objects).join('\n')).toMatch(/SC2086/);
  });
});
