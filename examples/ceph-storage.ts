import { Chart, ChartProps, Duration, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { Probe, Resources, StatefulWorkload, Storage, StorageClass } from '../src';

/**
 * A Ceph RBD StorageClass (Rook's CSI driver) and a workload whose claim
 * template uses it: volumes are retained after their claims are deleted,
 * provisioned in the zone the pod lands in, and can be grown in place.
 */
export class CephStorageChart extends Chart {
  public constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);
    const ceph = StorageClass.cephRbd(this, 'ceph-rbd', { name: 'ceph-rbd', pool: 'replicapool' });
    new StatefulWorkload(this, 'files', {
      appName: 'nginx',
      runAs: { uid: 101, gid: 101 },
      resources: Resources.of({ cpuMillis: 100, memory: Size.mebibytes(128) }),
      volumes: [
        { name: 'data', storage: Storage.persistent({ size: Size.gibibytes(20), storageClass: ceph }) },
        { name: 'tmp', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(64) }) },
      ],
      containers: [{
        name: 'nginx',
        image: 'nginxinc/nginx-unprivileged:1.27.3',
        ports: [{ name: 'http', port: 80, containerPort: 8080 }],
        mounts: [{ volume: 'data', path: '/usr/share/nginx/html', readOnly: true }, { volume: 'tmp', path: '/tmp' }],
        readinessProbe: Probe.http('/', 'http', { period: Duration.seconds(5) }),
        livenessProbe: Probe.tcp('http', { period: Duration.seconds(20), failureThreshold: 6 }),
      }],
    });
  }
}
