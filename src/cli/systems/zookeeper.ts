import { refusal } from '../errors';
import { Check, CheckResult, Finding, ScaleContext, System } from './system';

/**
 * One member's view (`srvr` on its own client port): its mode. A member that
 * is not in a quorum answers "This ZooKeeper instance is not currently
 * serving requests" without a Mode line.
 */
export function zooKeeperMemberScript(): string {
  return `set -euo pipefail
port="$1"
exec 3<>"/dev/tcp/127.0.0.1/\${port}"
printf srvr >&3
reply="$(cat <&3)"
exec 3>&-
mode="$(sed -n 's/^Mode: //p' <<<"\${reply}")"
if [[ -z "\${mode}" ]]; then
  echo "srvr on port \${port} reported no mode: \${reply:-no answer}" >&2
  exit 1
fi
echo "role=\${mode}"
echo "zxid=$(sed -n 's/^Zxid: //p' <<<"\${reply}")"
`;
}

/** The ensemble has one leader and every other member follows (or observes); a single member is standalone. */
export function judgeQuorum(members: CheckResult[], check: string): Finding[] {
  const roles = members.map((m) => `${m.pod}=${m.values.role}`).join(', ');
  if (members.length === 1 && members[0].values.role === 'standalone') return [];
  const leaders = members.filter((m) => m.values.role === 'leader');
  const strays = members.filter((m) => !['leader', 'follower', 'observer'].includes(m.values.role));
  const findings: Finding[] = strays.map((m) => ({ pod: m.pod, check, detail: `mode '${m.values.role}' is not leader, follower or observer (${roles})` }));
  if (leaders.length === 0) findings.push({ check, detail: `no member is the leader (${roles})` });
  if (leaders.length > 1) findings.push({ check, detail: `${leaders.length} members claim to lead: ${leaders.map((m) => m.pod).join(', ')} (${roles})` });
  return findings;
}

/** `server.N=` lines of zoo.cfg: the static ensemble. */
function ensembleSize(zooCfg: string): number {
  return zooCfg.split('\n').filter((l) => /^server\.\d+=/.test(l.trim())).length;
}

export function zooKeeper(clientPort: number): System {
  const member: Check = { name: 'quorum (srvr)', script: zooKeeperMemberScript(), args: [String(clientPort)] };
  return {
    title: 'ZooKeeper',
    container: 'zookeeper',
    member,
    judge: (members) => judgeQuorum(members, member.name),
    role: (m) => m.values.role ?? '?',
    beforeScale: (ctx: ScaleContext) => {
      const name = ctx.sts.metadata.name;
      if (ctx.to !== 1 && ctx.to % 2 === 0) {
        throw refusal(`refusing to scale ZooKeeper statefulset/${name} to ${ctx.to}: a quorum is a strict majority, so ${ctx.to} members `
          + `survive ${(ctx.to - 2) / 2} failure(s), no more than ${ctx.to - 1} members would, at the cost of one more; choose an odd number (3, 5, 7)`);
      }
      const zooCfg = ctx.configFiles()['zoo.cfg'];
      const listed = zooCfg === undefined ? undefined : ensembleSize(zooCfg);
      if (listed !== ctx.to) {
        throw refusal([
          `refusing to scale ZooKeeper statefulset/${name} from ${ctx.from} to ${ctx.to}: the ensemble is static.`,
          `  zoo.cfg (ConfigMap of the pods) lists ${listed === undefined ? 'no' : listed} members (server.1 to server.${listed ?? 0}) and reconfigEnabled=false;`,
          `  a member whose ordinal is not listed refuses to start, and the others would not let it join.`,
          `  To change the ensemble: set replicas: ${ctx.to} on the ZooKeeperEnsemble, synth and apply with the update partition at the`,
          `  current replicas (UpdateStrategy.rollingUpdate(${ctx.from})), then restart the members one at a time with the quorum gate:`,
          `    cdk8s-stateful rollout ${name} --stages 1,50%,100%`,
        ].join('\n'));
      }
      return [];
    },
  };
}
