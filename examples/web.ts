import { Chart, ChartProps, Duration, Size } from 'cdk8s';
import { Construct } from 'constructs';
import {
  ClaimRetention, PortRole, Probe, Resources, StatefulWorkload, Storage,
} from '../src';

/**
 * The Kubernetes tutorial's `web` StatefulSet, production-grade: three nginx
 * pods behind the headless Service `nginx`, each with its own 1Gi `www`
 * claim, claims retained when the StatefulSet is deleted.
 *
 * The image is nginx-unprivileged (same nginx, runs as uid 101 and listens on
 * 8080) because the stock image starts as root and cannot pass the
 * "restricted" Pod Security Standard. The Services still expose port 80.
 */
export class WebChart extends Chart {
  public readonly web: StatefulWorkload;

  public constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);
    this.web = new StatefulWorkload(this, 'web', {
      appName: 'nginx',
      name: 'web',
      headlessServiceName: 'nginx',
      replicas: 3,
      runAs: { uid: 101, gid: 101 },
      resources: Resources.of({ cpuMillis: 100, memory: Size.mebibytes(128) }),
      claimsWhenDeleted: ClaimRetention.RETAIN,
      volumes: [
        { name: 'www', storage: Storage.persistent({ size: Size.gibibytes(1) }) },
        // nginx writes its pid, temp files and cache here; the root filesystem stays read-only
        { name: 'tmp', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(64) }) },
        { name: 'cache', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(256) }) },
      ],
      containers: [{
        name: 'nginx',
        image: 'nginxinc/nginx-unprivileged:1.27.3',
        ports: [{ name: 'web', port: 80, containerPort: 8080, role: PortRole.CLIENT }],
        mounts: [
          { volume: 'www', path: '/usr/share/nginx/html' },
          { volume: 'tmp', path: '/tmp' },
          { volume: 'cache', path: '/var/cache/nginx' },
        ],
        readinessProbe: Probe.tcp('web', { period: Duration.seconds(5) }),
        livenessProbe: Probe.tcp('web', { initialDelay: Duration.seconds(10), period: Duration.seconds(20), failureThreshold: 6 }),
      }],
    });
  }
}
