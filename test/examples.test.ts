import { Testing } from 'cdk8s';
import { addExamples } from '../examples';
import { only, synthValid } from './support/manifest';

describe('examples', () => {
  const app = Testing.app();
  addExamples(app);

  test.each(app.charts.map((c) => [c.node.id, c]))('chart %s synthesizes a manifest that passes every check', (_id, chart) => {
    // GIVEN the example chart WHEN synthesized THEN strict schemas, cross-references, PSS and shellcheck pass
    const objects = synthValid(chart as any);
    expect(objects.length).toBeGreaterThan(0);
  });

  test('web is the tutorial StatefulSet: headless nginx, three pods, a retained 1Gi www claim each', () => {
    // GIVEN the web chart
    const objects = synthValid(app.charts.find((c) => c.node.id === 'web')!);
    // THEN
    const svc = only(objects, 'Service', 'nginx');
    expect(svc.spec.clusterIP).toBe('None');
    expect(svc.spec.ports).toEqual([{ name: 'web', port: 80, targetPort: 'web', protocol: 'TCP' }]);
    const sts = only(objects, 'StatefulSet', 'web');
    expect(sts.spec.serviceName).toBe('nginx');
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
    expect(sts.spec.volumeClaimTemplates).toHaveLength(1);
    expect(sts.spec.volumeClaimTemplates[0].metadata.name).toBe('www');
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('1Gi');
    const nginx = sts.spec.template.spec.containers[0];
    expect(nginx.volumeMounts).toContainEqual({ name: 'www', mountPath: '/usr/share/nginx/html' });
    expect(sts.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 101, seccompProfile: { type: 'RuntimeDefault' } });
    expect(nginx.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(only(objects, 'PodDisruptionBudget', 'web').spec.maxUnavailable).toBe(1);
  });
});
