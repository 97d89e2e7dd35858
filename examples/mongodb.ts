import { Chart, ChartProps, Cron, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { BackupTarget, MongoReplicaSet, Resources, Storage, StorageClass } from '../src';

/**
 * The seed's replica set, made to work: 3 MongoDB 8.0 members `mongodb-0..2`
 * (replica set `rs0`) on Ceph RBD volumes, keyfile authentication from a
 * Secret generated in the cluster, one initiator Job, Prometheus metrics
 * with alerts, and a nightly mongodump from a secondary onto a claim of
 * another StorageClass. Apps in this namespace connect with
 * `db.connectionEnv('orders_app')` and are admitted with `db.allowClients(app)`.
 */
export class MongoDbChart extends Chart {
  public readonly db: MongoReplicaSet;

  public constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);
    const ssd = StorageClass.cephRbd(this, 'ssd', { name: 'mongodb-ceph-rbd' });
    this.db = new MongoReplicaSet(this, 'db', {
      name: 'mongodb',
      replicaSetName: 'rs0',
      replicas: 3,
      storage: Storage.persistent({ size: Size.gibibytes(50), storageClass: ssd }),
      resources: Resources.of({ cpuMillis: 1000, memory: Size.gibibytes(4) }),
      databases: ['orders'],
      users: [{ name: 'orders_app', databases: ['orders'] }],
      monitoring: { labels: { release: 'kube-prometheus-stack' } },
      backup: {
        target: BackupTarget.volume({ size: Size.gibibytes(200), storageClassName: 'standard-hdd' }),
        schedule: Cron.schedule({ minute: '15', hour: '3' }),
        keep: 14,
      },
    });
  }
}
