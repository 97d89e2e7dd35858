import { Chart, ChartProps, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { MySqlFlavor, MySqlReplicaSet, Resources, Storage, StorageClass } from '../src';

/**
 * The orders database: a MySQL 8.4 primary and two replicas on Ceph RBD
 * volumes. Applications write to `db.primaryHost` and read from
 * `db.readHost`; passwords are generated in the cluster (never in this YAML)
 * into the Secret `orders-db-credentials`, which an app's kplus container in
 * this namespace reads with `db.passwordEnv('orders_app')`; `db.allowClients(app)`
 * admits it in the NetworkPolicy.
 */
export class MySqlChart extends Chart {
  public readonly db: MySqlReplicaSet;

  public constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);
    const ssd = StorageClass.cephRbd(this, 'ssd', { name: 'orders-ceph-rbd' });
    this.db = new MySqlReplicaSet(this, 'db', {
      name: 'orders-db',
      replicas: 3,
      flavor: MySqlFlavor.mysql(),
      storage: Storage.persistent({ size: Size.gibibytes(50), storageClass: ssd }),
      resources: Resources.of({ cpuMillis: 1000, memory: Size.gibibytes(4) }),
      bufferPool: Size.gibibytes(2),
      databases: ['orders'],
      users: [{ name: 'orders_app', databases: ['orders'] }],
    });
  }
}
