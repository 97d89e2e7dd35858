import { Testing } from 'cdk8s';
import { MongoDbChart } from '../../examples/mongodb';
import { only, synthValid } from '../support/manifest';

describe('example mongodb', () => {
  test('synthesizes the seed\'s 3-member set in namespace production that passes every check, with Ceph volumes, metrics and backups', () => {
    // GIVEN the example chart in the seed's namespace
    const chart = new MongoDbChart(Testing.app(), 'mongodb', { namespace: 'production' });
    // WHEN
    const objects = synthValid(chart);
    // THEN
    expect(chart.db.hosts).toEqual([0, 1, 2].map((i) => `mongodb-${i}.mongodb-headless.production.svc.cluster.local:27017`));
    const sts = only(objects, 'StatefulSet', 'mongodb');
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.volumeClaimTemplates[0].spec).toMatchObject({ storageClassName: 'mongodb-ceph-rbd', resources: { requests: { storage: '50Gi' } } });
    expect(only(objects, 'ConfigMap', 'mongodb-config').data['start.sh']).toContain('--replSet rs0 ');
    // 4Gi limit: (4096 - 1024) / 2 = 1536Mi of cache
    expect(chart.db.wiredTigerCacheSizeGb).toBe(1.5);
    expect(only(objects, 'CronJob', 'mongodb-backup').spec.schedule).toBe('15 3 * * *');
    expect(only(objects, 'PersistentVolumeClaim', 'mongodb-backup').spec.storageClassName).toBe('standard-hdd');
    expect(only(objects, 'ServiceMonitor', 'mongodb').metadata.labels.release).toBe('kube-prometheus-stack');
  });
});
