/**
 * Cluster DNS as /etc/hosts lines, following what CoreDNS answers from
 * EndpointSlices:
 *
 * - a Service's endpoints are the Ready pods of its namespace that its
 *   selector selects, plus the not-Ready (starting, failing or terminating)
 *   ones when it sets `publishNotReadyAddresses: true`;
 * - a headless Service (`clusterIP: None`) name resolves to every endpoint,
 *   and each endpoint whose pod names the Service as its subdomain (a
 *   StatefulSet's pods and its `serviceName`) gets `<pod>.<service>`;
 * - an ordinary Service name resolves to one endpoint, the first started
 *   (there is no virtual IP and no kube-proxy to balance), and does not
 *   resolve while it has none (in a cluster it would resolve to its ClusterIP
 *   and connections would be refused);
 * - every pod resolves its own hostname (and FQDN), as the kubelet's
 *   /etc/hosts does.
 *
 * There is no search path: the short forms (`svc`, `svc.ns`, `pod.svc`) are
 * listed as aliases, for any namespace.
 */
import { Labels } from './selectors';

type Json = any;

/** A running pod as DNS sees it. */
export interface DnsPod {
  readonly name: string;
  readonly namespace: string;
  readonly ip: string;
  readonly labels: Labels;
  /** The headless Service of its StatefulSet (spec.subdomain), if any. */
  readonly subdomain?: string;
  readonly ready: boolean;
}

const DOMAIN = 'cluster.local';

/**
 * The pods behind Service `svc` (its EndpointSlice): the Ready pods it selects
 * in its namespace, and the not-Ready ones too with publishNotReadyAddresses.
 */
export function endpointsOf<P extends DnsPod>(svc: Json, pods: P[]): P[] {
  const ns = svc.metadata.namespace ?? 'default';
  return pods.filter((p) => p.namespace === ns && (p.ready || svc.spec.publishNotReadyAddresses === true)
    && Object.entries<string>(svc.spec.selector ?? {}).every(([k, v]) => p.labels[k] === v));
}

/** The records every pod shares, from the Services of `objects` and the running pods (in start order). */
export function serviceRecords(objects: Json[], pods: DnsPod[]): string[] {
  const lines: string[] = [];
  for (const svc of objects.filter((o) => o.kind === 'Service' && o.spec?.selector)) {
    const ns = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name;
    const endpoints = endpointsOf(svc, pods);
    const names = `${name}.${ns}.svc.${DOMAIN} ${name}.${ns}.svc ${name}.${ns} ${name}`;
    if (svc.spec.clusterIP === 'None') {
      for (const p of endpoints) lines.push(`${p.ip} ${names}`);
      for (const p of endpoints.filter((x) => x.subdomain === name)) lines.push(`${p.ip} ${podNames(p).join(' ')}`);
    } else if (endpoints.length > 0) {
      lines.push(`${endpoints[0].ip} ${names}`);
    }
  }
  return lines;
}

/** The whole /etc/hosts of `pod`: localhost, its own names, then the shared records. */
export function hostsFileOf(pod: DnsPod, shared: string[]): string {
  return [
    '127.0.0.1 localhost',
    '::1 localhost ip6-localhost ip6-loopback',
    `${pod.ip} ${pod.subdomain ? `${podNames(pod).join(' ')} ` : ''}${pod.name}`,
    ...shared,
  ].join('\n') + '\n';
}

function podNames(p: DnsPod): string[] {
  const base = `${p.name}.${p.subdomain}`;
  return [`${base}.${p.namespace}.svc.${DOMAIN}`, `${base}.${p.namespace}.svc`, `${base}.${p.namespace}`, base];
}
