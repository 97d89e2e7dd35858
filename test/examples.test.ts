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

  test('app-wiring: the kplus app reads the database password from the Secret and is the only client of MySQL and Kafka', () => {
    // GIVEN the two charts of the example
    const shop = synthValid(app.charts.find((c) => c.node.id === 'app-wiring-shop')!);
    const data = synthValid(app.charts.find((c) => c.node.id === 'app-wiring-data')!);
    const deployment = only(shop, 'Deployment');
    const appPods = deployment.spec.selector.matchLabels;
    // THEN the app gets endpoints as values and the password as a secretKeyRef, never as a value
    const env = Object.fromEntries(deployment.spec.template.spec.containers[0].env.map((e: any) => [e.name, e]));
    expect(env.DB_PASSWORD).toEqual({ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'app-wiring-shop-orders-db-credentials', key: 'orders_app-password' } } });
    expect(env.DB_HOST.value).toBe('app-wiring-shop-orders-db-primary.shop.svc.cluster.local');
    expect(env.KAFKA_BOOTSTRAP_SERVERS.value).toMatch(/^app-wiring-data-events-0\.app-wiring-data-events-headless\.data\.svc\.cluster\.local:9092,/);
    // and each system admits the app's pods (from namespace shop) on its client port, and no other client
    // (MySQL's own members keep the SQL port: replicas replicate over it)
    const clientRules = (objects: any[], name: string, port: string) => only(objects, 'NetworkPolicy', name).spec.ingress
      .filter((r: any) => r.ports.some((p: any) => p.port === port));
    const inShop = (matchLabels: any) => [{ podSelector: { matchLabels }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } } }];
    const fromShop = inShop(appPods);
    expect(clientRules(shop, 'app-wiring-shop-orders-db', 'mysql')).toEqual([
      { from: inShop(only(shop, 'StatefulSet').spec.selector.matchLabels), ports: [{ port: 'mysql', protocol: 'TCP' }] },
      { from: fromShop, ports: [{ port: 'mysql', protocol: 'TCP' }] },
    ]);
    expect(clientRules(data, 'app-wiring-data-events', 'client')).toEqual([{ from: fromShop, ports: [{ port: 'client', protocol: 'TCP' }] }]);
    // and the app itself runs under the restricted profile
    expect(deployment.spec.template.spec.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
  });
});
