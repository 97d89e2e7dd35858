/**
 * NetworkPolicy (networking.k8s.io/v1) enforcement for the harness's pods: the
 * policies of the manifest, rendered per pod as an nftables table in the
 * pod's own network namespace, the way a CNI plugin enforces them:
 *
 * - a pod selected by a policy whose policyTypes include Ingress accepts only
 *   what the union of those policies' ingress rules allows (likewise Egress);
 *   a pod no policy selects is open in that direction;
 * - peers: podSelector (in the policy's namespace), namespaceSelector (on the
 *   namespace's labels, `kubernetes.io/metadata.name` among them), both
 *   combined, ipBlock (cidr minus except), each resolved to the addresses of
 *   the pods running now, so the tables are rendered again whenever a pod
 *   starts or stops;
 * - ports: a number, a range (endPort) or a container port name (resolved on
 *   the selected pod for ingress and on each destination pod for egress), per
 *   protocol;
 * - replies to allowed connections (established, related) and loopback are
 *   always allowed; anything else is dropped (a refused client times out).
 *
 * Whatever the harness does not implement throws, naming the policy.
 */
import { checkSelector, Labels, selects } from './selectors';

type Json = any;

/** A running pod as the policies see it. */
export interface PolicyPod {
  readonly name: string;
  readonly namespace: string;
  readonly ip: string;
  readonly labels: Labels;
  /** Its containers' ports (for named ports). */
  readonly ports: { readonly name?: string; readonly containerPort: number; readonly protocol?: string }[];
}

/** The nftables table every pod's rules live in. */
export const NFT_TABLE = 'cdk8s_netpol';

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];

/**
 * The nft script for each pod (by name): it replaces the pod's table in one
 * transaction, with a chain per direction in which the pod is isolated.
 */
export function renderPolicyTables(policies: Json[], pods: PolicyPod[], namespaceLabels: (ns: string) => Labels): Map<string, string> {
  policies.forEach(checkPolicy);
  const out = new Map<string, string>();
  for (const pod of pods) {
    const selecting = policies.filter((p) => namespaceOf(p) === pod.namespace && selects(p.spec.podSelector, pod.labels, where(p, 'podSelector')));
    const chains: string[] = [];
    const ingress = selecting.filter((p) => policyTypes(p).includes('Ingress'));
    if (ingress.length > 0) {
      const rules = ingress.flatMap((p) => (p.spec.ingress ?? []).flatMap((r: Json, i: number) =>
        ruleLines(p, r.from, r.ports, 'saddr', pod, pods, namespaceLabels, `${where(p, `ingress[${i}]`)}`)));
      chains.push(chain('ingress', 'input', 'iif', rules));
    }
    const egress = selecting.filter((p) => policyTypes(p).includes('Egress'));
    if (egress.length > 0) {
      const rules = egress.flatMap((p) => (p.spec.egress ?? []).flatMap((r: Json, i: number) =>
        ruleLines(p, r.to, r.ports, 'daddr', pod, pods, namespaceLabels, `${where(p, `egress[${i}]`)}`)));
      chains.push(chain('egress', 'output', 'oif', rules));
    }
    const lines = [`table inet ${NFT_TABLE}`, `delete table inet ${NFT_TABLE}`];
    if (chains.length > 0) lines.push(`table inet ${NFT_TABLE} {`, ...chains, '}');
    out.set(pod.name, `${lines.join('\n')}\n`);
  }
  return out;
}

function chain(name: string, hook: string, loopback: string, rules: string[]): string {
  return [
    `  chain ${name} {`,
    `    type filter hook ${hook} priority filter; policy accept;`,
    `    ${loopback} "lo" accept`,
    '    ct state established,related accept',
    ...rules.map((r) => `    ${r}`),
    '    counter drop',
    '  }',
  ].join('\n');
}

/**
 * The nft rules of one ingress (`saddr`: peers are sources, ports are the
 * pod's) or egress (`daddr`: peers are destinations, named ports are theirs) rule.
 */
function ruleLines(policy: Json, peers: Json[] | undefined, ports: Json[] | undefined, dir: 'saddr' | 'daddr',
  pod: PolicyPod, pods: PolicyPod[], namespaceLabels: (ns: string) => Labels, at: string): string[] {
  const comment = ` comment "${namespaceOf(policy)}/${policy.metadata.name}"`;
  const anyPeer = !peers || peers.length === 0;
  const podPeers = anyPeer ? pods : pods.filter((p) => peers.some((peer) => !peer.ipBlock && peerSelects(policy, peer, p, namespaceLabels, at)));
  const blocks: Json[] = anyPeer ? [] : peers.filter((peer) => peer.ipBlock).map((peer) => peer.ipBlock);
  const portList: Json[] = ports && ports.length > 0 ? ports : [undefined];
  const lines: string[] = [];
  for (const port of portList) {
    const named = port && typeof port.port === 'string' && !/^[0-9]+$/.test(port.port);
    if (named && dir === 'daddr') {
      // egress to a named port: each destination pod's own number for that name
      if (blocks.length > 0) throw new Error(`${at}: a named port ('${port.port}') with an ipBlock peer is not supported by the harness; use a number`);
      for (const peer of podPeers) {
        const match = portMatch(port, peer, at);
        if (match !== undefined) lines.push(`ip daddr ${peer.ip} ${match}accept${comment}`);
      }
      continue;
    }
    const match = portMatch(port, pod, at);
    if (match === undefined) continue; // a named port the pod does not have matches nothing
    if (anyPeer) {
      lines.push(`${match}accept${comment}`);
      continue;
    }
    const ips = [...new Set(podPeers.map((p) => p.ip))];
    if (ips.length > 0) lines.push(`ip ${dir} { ${ips.join(', ')} } ${match}accept${comment}`);
    for (const b of blocks) lines.push(`${ipBlock(b, dir, at)}${match}accept${comment}`);
  }
  return lines;
}

/** The nft match for one NetworkPolicyPort (with a trailing space), '' for any port, undefined when a named port is absent on `pod`. */
function portMatch(port: Json, pod: PolicyPod, at: string): string | undefined {
  if (port === undefined) return '';
  const protocol = port.protocol ?? 'TCP';
  const proto = `meta l4proto ${protocol.toLowerCase()} `;
  if (port.port === undefined) return proto;
  let number: number;
  if (typeof port.port === 'number' || /^[0-9]+$/.test(port.port)) {
    number = Number(port.port);
  } else {
    if (port.endPort !== undefined) throw new Error(`${at}: endPort needs a numeric port, got '${port.port}'`);
    const found = pod.ports.find((p) => p.name === port.port && (p.protocol ?? 'TCP') === protocol);
    if (!found) return undefined;
    number = found.containerPort;
  }
  if (port.endPort !== undefined) return `${proto}th dport ${number}-${port.endPort} `;
  return `${proto}th dport ${number} `;
}

function ipBlock(block: Json, dir: 'saddr' | 'daddr', at: string): string {
  const family = block.cidr.includes(':') ? 'ip6' : 'ip';
  const except: string[] = block.except ?? [];
  for (const e of except) {
    if (e.includes(':') !== block.cidr.includes(':')) throw new Error(`${at}: ipBlock except ${e} is not of the family of ${block.cidr}`);
  }
  return `${family} ${dir} ${block.cidr} ${except.length > 0 ? `${family} ${dir} != { ${except.join(', ')} } ` : ''}`;
}

/** Does NetworkPolicyPeer `peer` (not an ipBlock) of `policy` select pod `p`? */
function peerSelects(policy: Json, peer: Json, p: PolicyPod, namespaceLabels: (ns: string) => Labels, at: string): boolean {
  if (peer.namespaceSelector === undefined && p.namespace !== namespaceOf(policy)) return false;
  if (peer.namespaceSelector !== undefined && !selects(peer.namespaceSelector, namespaceLabels(p.namespace), `${at} namespaceSelector`)) return false;
  return selects(peer.podSelector ?? {}, p.labels, `${at} podSelector`);
}

function namespaceOf(o: Json): string {
  return o.metadata?.namespace ?? 'default';
}

function where(policy: Json, field: string): string {
  return `NetworkPolicy ${namespaceOf(policy)}/${policy.metadata?.name} ${field}`;
}

function policyTypes(policy: Json): string[] {
  return policy.spec.policyTypes ?? ['Ingress', ...(policy.spec.egress ? ['Egress'] : [])];
}

/** Throws on anything in a policy the harness does not enforce (or the API server would reject). */
export function checkPolicy(policy: Json): void {
  const spec = policy.spec ?? {};
  const unknown = (o: Json, allowed: string[], at: string) => {
    const extra = Object.keys(o ?? {}).filter((k) => !allowed.includes(k));
    if (extra.length > 0) throw new Error(`${at}: unsupported field '${extra[0]}' (the harness implements ${allowed.join(', ')})`);
  };
  unknown(spec, ['podSelector', 'policyTypes', 'ingress', 'egress'], where(policy, 'spec'));
  if (spec.podSelector === undefined) throw new Error(`${where(policy, 'spec')}: podSelector is required`);
  checkSelector(spec.podSelector, where(policy, 'podSelector'));
  for (const t of spec.policyTypes ?? []) {
    if (t !== 'Ingress' && t !== 'Egress') throw new Error(`${where(policy, 'policyTypes')}: '${t}' is neither Ingress nor Egress`);
  }
  for (const [dir, peersKey] of [['ingress', 'from'], ['egress', 'to']] as const) {
    (spec[dir] ?? []).forEach((rule: Json, i: number) => {
      const at = where(policy, `${dir}[${i}]`);
      unknown(rule, [peersKey, 'ports'], at);
      (rule[peersKey] ?? []).forEach((peer: Json, j: number) => {
        const pat = `${at}.${peersKey}[${j}]`;
        unknown(peer, ['podSelector', 'namespaceSelector', 'ipBlock'], pat);
        if (peer.ipBlock && (peer.podSelector || peer.namespaceSelector)) throw new Error(`${pat}: ipBlock cannot be combined with a selector`);
        if (!peer.ipBlock && !peer.podSelector && !peer.namespaceSelector) throw new Error(`${pat}: a peer needs podSelector, namespaceSelector or ipBlock`);
        if (peer.ipBlock) unknown(peer.ipBlock, ['cidr', 'except'], `${pat}.ipBlock`);
        checkSelector(peer.podSelector, `${pat}.podSelector`);
        checkSelector(peer.namespaceSelector, `${pat}.namespaceSelector`);
      });
      (rule.ports ?? []).forEach((port: Json, j: number) => {
        const pat = `${at}.ports[${j}]`;
        unknown(port, ['port', 'endPort', 'protocol'], pat);
        if (port.protocol !== undefined && !PROTOCOLS.includes(port.protocol)) throw new Error(`${pat}: protocol '${port.protocol}' is not one of ${PROTOCOLS.join(', ')}`);
        if (port.endPort !== undefined && port.port === undefined) throw new Error(`${pat}: endPort needs port`);
      });
    });
  }
}
