import { Testing } from 'cdk8s';
import { PostgresChart } from '../../examples/postgres';
import { only, synthValid } from '../support/manifest';

describe('examples/postgres', () => {
  test('synthesizes a primary and two standbys on the Ceph class, with metrics and backups to a claim, that pass every check', () => {
    // GIVEN the example chart
    const chart = new PostgresChart(Testing.app(), 'postgres', { namespace: 'orders' });
    // WHEN
    const objects = synthValid(chart);
    // THEN
    const sts = only(objects, 'StatefulSet', 'orders-pg');
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.volumeClaimTemplates[0].spec.storageClassName).toBe('orders-pg-ceph-rbd');
    expect(only(objects, 'ConfigMap', 'orders-pg-config').data['postgresql.conf']).toContain('shared_buffers = 2048MB\n');
    expect(only(objects, 'Service', 'orders-pg-primary').spec.selector['statefulset.kubernetes.io/pod-name']).toBe('orders-pg-0');
    expect(only(objects, 'PrometheusRule').metadata.labels.release).toBe('kube-prometheus-stack');
    expect(chart.db.primaryHost).toBe('orders-pg-primary.orders.svc.cluster.local');
    // backups to a claim of another class, through the repository host
    expect(only(objects, 'StatefulSet', 'orders-pg-repo').spec.volumeClaimTemplates[0].spec).toMatchObject({ storageClassName: 'standard-hdd', resources: { requests: { storage: '200Gi' } } });
    expect(objects.filter((o: any) => o.kind === 'CronJob').map((o: any) => o.metadata.name)).toEqual(['orders-pg-backup-full', 'orders-pg-backup-diff']);
  });
});
