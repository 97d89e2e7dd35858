import { refusal } from '../errors';
import { Check, CheckResult, ordinalsBetween, ScaleContext, System } from './system';

/**
 * One node: `cluster_state` from CLUSTER INFO must be ok; prints its role
 * (ROLE), node id and slot count (its `myself` line of CLUSTER NODES), and a
 * replica's link to its master. redis-cli reads the password from
 * REDISCLI_AUTH, which the container has from the Secret.
 */
export function redisMemberScript(): string {
  return `set -euo pipefail
info="$(redis-cli cluster info | tr -d '\\r')"
role="$(redis-cli role | tr -d '\\r')"
role="\${role%%$'\\n'*}"
myself="$(redis-cli cluster nodes | tr -d '\\r' | awk '$3 ~ /myself/')"
echo "role=\${role}"
echo "id=$(awk '{ print $1 }' <<<"\${myself}")"
echo "slots=$(awk '{ n = 0; for (i = 9; i <= NF; i++) if ($i !~ /^\\[/) { c = split($i, r, "-"); n += (c == 1 ? 1 : r[2] - r[1] + 1) } print n }' <<<"\${myself}")"
if [[ "\${role}" == slave ]]; then
  echo "link=$(redis-cli info replication | tr -d '\\r' | sed -n 's/^master_link_status://p')"
fi
state="$(sed -n 's/^cluster_state://p' <<<"\${info}")"
echo "cluster_state=\${state}"
if [[ "\${state}" != ok ]]; then
  echo "cluster_state:\${state:-unknown} ($(grep -E '^cluster_(slots_ok|slots_pfail|slots_fail|known_nodes|size):' <<<"\${info}" | tr '\\n' ' '))" >&2
  exit 1
fi
`;
}

const role = (m: CheckResult) => (m.values.role === 'slave' ? 'replica' : m.values.role ?? '?');

export function redis(clientPort: number): System {
  const member: Check = { name: 'cluster_state (redis-cli cluster info)', script: redisMemberScript() };
  return {
    title: 'Redis Cluster',
    container: 'redis',
    member,
    role,
    lag: (m) => (m.values.link ? `link ${m.values.link}` : ''),
    beforeScale: (ctx: ScaleContext) => {
      const name = ctx.sts.metadata.name;
      if (ctx.to > ctx.from) {
        throw refusal([
          `refusing to scale Redis Cluster statefulset/${name} up: a new node is not Ready until it joins the cluster (readiness needs cluster_state:ok),`,
          'and the bootstrap Job only forms a new cluster. Add nodes by hand, one at a time:',
          `  ${ctx.kubectl} scale statefulset/${name} --replicas=${ctx.to}`,
          `  ${ctx.kubectl} exec ${name}-0 -c redis -- redis-cli --cluster add-node <new-pod-ip>:${clientPort} <${name}-0-ip>:${clientPort}   (add --cluster-slave --cluster-master-id <id> for a replica)`,
          `  ${ctx.kubectl} exec ${name}-0 -c redis -- redis-cli --cluster rebalance <${name}-0-ip>:${clientPort} --cluster-use-empty-masters`,
        ].join('\n'));
      }
      const removed = ordinalsBetween(ctx.to, ctx.from).map((i) => `${name}-${i}`).map((pod) => ({ pod, r: ctx.run(pod, member) }));
      const unreadable = removed.filter((x) => !x.r.values.id);
      if (unreadable.length > 0) {
        throw refusal(`refusing to scale Redis Cluster statefulset/${name} down: cannot tell what ${unreadable.map((x) => x.pod).join(', ')} serve:\n`
          + unreadable.map((x) => x.r.output).join('\n'));
      }
      const holding = removed.filter((x) => x.r.values.role === 'master' && Number(x.r.values.slots ?? 0) > 0);
      if (holding.length > 0) {
        throw refusal([
          `refusing to scale Redis Cluster statefulset/${name} from ${ctx.from} to ${ctx.to}: masters being removed hold slots:`,
          ...holding.map((x) => `  ${x.pod} (node ${x.r.values.id}) holds ${x.r.values.slots} slots`),
          'Move their slots to masters that stay (in a pod that stays):',
          ...holding.map((x) => `  redis-cli --cluster reshard <${name}-0-ip>:${clientPort} --cluster-from ${x.r.values.id} --cluster-to <master-id> --cluster-slots ${x.r.values.slots} --cluster-yes`),
          'or fail over to a replica that stays (CLUSTER FAILOVER in that replica), then run this scale again.',
        ].join('\n'));
      }
      const ids = removed.map((x) => x.r.values.id);
      ctx.o.out(`the nodes being removed hold no slots: ${removed.map((x) => `${x.pod} (${role(x.r)} ${x.r.values.id})`).join(', ')}`);
      return [
        'The remaining nodes still list the removed ones (as failed): make every node forget them, within 60 s of each other:',
        `  for i in $(seq 0 ${ctx.to - 1}); do for id in ${ids.join(' ')}; do ${ctx.kubectl} exec ${name}-$i -c redis -- redis-cli CLUSTER FORGET $id; done; done`,
      ];
    },
  };
}
