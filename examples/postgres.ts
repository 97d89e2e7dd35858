import { Chart, ChartProps, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { BackupTarget, PostgresReplicaSet, Resources, Storage, StorageClass } from '../src';

/**
 * The orders database on PostgreSQL: a primary (`orders-pg-0`) and two hot
 * standbys streaming over their own replication slots, on Ceph RBD volumes.
 * Applications write to `db.primaryHost` and read from `db.readHost`; a kplus
 * container gets its libpq environment with `db.connectionEnv('orders_app', 'orders')`
 * (the password stays in the Secret `orders-pg-credentials`, generated in the
 * cluster) and `db.allowClients(app)` admits it in the NetworkPolicy.
 * Prometheus scrapes the postgres_exporter sidecars and evaluates the alerts.
 *
 * Backups: the primary archives its WAL with pgBackRest to the repository
 * host `orders-pg-repo-0`, which keeps the repository on a 200 GiB claim of
 * another storage class; CronJobs take a weekly full and daily differential
 * backup there, copying files from a standby. The image is the official one
 * plus pgBackRest and openssl (the README's Dockerfile), pushed to your registry.
 */
export class PostgresChart extends Chart {
  public readonly db: PostgresReplicaSet;

  public constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);
    const ssd = StorageClass.cephRbd(this, 'ssd', { name: 'orders-pg-ceph-rbd' });
    this.db = new PostgresReplicaSet(this, 'db', {
      name: 'orders-pg',
      replicas: 3,
      storage: Storage.persistent({ size: Size.gibibytes(100), storageClass: ssd }),
      resources: Resources.of({ cpuMillis: 2000, memory: Size.gibibytes(8) }),
      parameters: { maxConnections: 300, workMem: Size.mebibytes(16) },
      databases: ['orders'],
      users: [{ name: 'orders_app', databases: ['orders'] }],
      monitoring: { labels: { release: 'kube-prometheus-stack' } },
      image: 'registry.example.com/postgres-pgbackrest:18.3',
      backup: { target: BackupTarget.volume({ size: Size.gibibytes(200), storageClassName: 'standard-hdd' }), retainFull: 4 },
    });
  }
}
