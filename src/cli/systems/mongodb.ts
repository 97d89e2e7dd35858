import { ROOT_PASSWORD_ENV, ROOT_USER } from '../../mongodb/config';
import { failure, refusal } from '../errors';
import { judgeOnePrimary } from './mysql';
import { Check, CheckResult, Finding, ordinalsBetween, ScaleContext, System } from './system';

const MONGOSH = 'mongosh --quiet --norc';

/**
 * One member's state from `hello` (which needs no authentication): PRIMARY,
 * SECONDARY or ARBITER, else unhealthy (startup, recovery, initial sync,
 * removed); and whom it sees as primary.
 */
export function mongoMemberScript(): string {
  return `set -euo pipefail
port="$1"
${MONGOSH} "mongodb://127.0.0.1:\${port}/admin?directConnection=true" --eval "$(cat <<'JS'
/* cdk8s-stateful:member */
const h = db.hello();
const state = h.isWritablePrimary ? 'PRIMARY' : h.secondary ? 'SECONDARY' : h.arbiterOnly ? 'ARBITER' : 'OTHER';
print('role=' + state);
print('set=' + (h.setName || ''));
print('primary=' + (h.primary || ''));
print('arbiters=' + (h.arbiters || []).join(','));
if (state === 'OTHER') {
  print('neither primary, secondary nor arbiter: ' + (h.info || 'in startup, recovery or initial sync'));
  quit(1);
}
JS
)"
`;
}

/**
 * On the primary, as root (the password from the container's env, inside the
 * JavaScript): \`rs.remove\` (REMOVE) or \`rs.add\` (ADD) of the members of the
 * pods named in the arguments; a new member's host is its pod name with the
 * domain and port the existing members have.
 */
export function mongoMembersScript(): string {
  return `set -euo pipefail
port="$1"
action="$2"
shift 2
primary="$(${MONGOSH} "mongodb://127.0.0.1:\${port}/admin?directConnection=true" --eval 'print(db.hello().primary || "")')"
if [[ -z "\${primary}" ]]; then
  echo "the replica set has no primary: members are added and removed on the primary" >&2
  exit 1
fi
echo "primary=\${primary}"
CDK8S_ACTION="\${action}" CDK8S_PODS="$*" ${MONGOSH} "mongodb://\${primary}/admin?directConnection=true" --eval "$(cat <<'JS'
/* cdk8s-stateful:members */
db.getSiblingDB('admin').auth('${ROOT_USER}', process.env.${ROOT_PASSWORD_ENV});
const pods = process.env.CDK8S_PODS.split(' ');
const members = rs.conf().members;
const podOf = (host) => host.split(':')[0].split('.')[0];
if (process.env.CDK8S_ACTION === 'REMOVE') {
  for (const m of members.filter((x) => pods.includes(podOf(x.host)))) {
    rs.remove(m.host);
    print('removed=' + m.host);
  }
} else {
  const suffix = members[0].host.slice(members[0].host.indexOf('.'));
  for (const pod of pods.filter((p) => !members.some((x) => podOf(x.host) === p))) {
    rs.add({ host: pod + suffix });
    print('added=' + pod + suffix);
  }
}
JS
)"
`;
}

function judgeReplicaSet(members: CheckResult[], check: string): Finding[] {
  const findings = judgeOnePrimary(members, check, 'PRIMARY');
  const primary = members.find((m) => m.values.role === 'PRIMARY');
  for (const m of members.filter((x) => x.values.role !== 'PRIMARY' && x.values.role !== 'SECONDARY' && x.values.role !== 'ARBITER')) {
    findings.push({ pod: m.pod, check, detail: `is ${m.values.role}, not SECONDARY` });
  }
  if (primary) {
    const seen = new Set(members.map((m) => m.values.primary));
    if (seen.size > 1) findings.push({ check, detail: `members disagree about the primary: ${members.map((m) => `${m.pod} sees ${m.values.primary || 'none'}`).join(', ')}` });
  }
  return findings;
}

export function mongo(port: number): System {
  const member: Check = { name: 'replica set member state (hello)', script: mongoMemberScript(), args: [String(port)] };
  const members = (action: 'ADD' | 'REMOVE', pods: string[]): Check => ({
    name: `${action === 'ADD' ? 'rs.add' : 'rs.remove'} on the primary`, script: mongoMembersScript(), args: [String(port), action, ...pods],
  });
  const apply = (ctx: ScaleContext, action: 'ADD' | 'REMOVE', pods: string[]): string[] => {
    const r = ctx.run(`${ctx.sts.metadata.name}-0`, members(action, pods));
    if (!r.ok) throw failure(`${action === 'ADD' ? 'adding' : 'removing'} members ${pods.join(', ')} failed:\n${r.output}`);
    return r.stdout.split('\n').filter((l) => /^(added|removed)=/.test(l)).map((l) => l.replace('=', ' '));
  };
  return {
    title: 'MongoDB',
    container: 'mongod',
    member,
    judge: (results) => judgeReplicaSet(results, member.name),
    role: (m) => m.values.role ?? '?',
    beforeScale: (ctx: ScaleContext) => {
      const name = ctx.sts.metadata.name;
      const first = ctx.run(`${name}-0`, member);
      if (first.values.arbiters) {
        throw refusal(`refusing to scale MongoDB statefulset/${name}: the set has an arbiter (${first.values.arbiters}), the pod with the last ordinal; `
          + 'change replicas on the MongoReplicaSet and apply instead');
      }
      if (ctx.to >= ctx.from) return [];
      const removed = ordinalsBetween(ctx.to, ctx.from).map((i) => `${name}-${i}`);
      const primary = removed.map((pod) => ({ pod, r: ctx.run(pod, member) })).find((x) => x.r.values.role === 'PRIMARY');
      if (primary) {
        throw refusal(`refusing to scale MongoDB statefulset/${name} from ${ctx.from} to ${ctx.to}: ${primary.pod} is the primary. `
          + `Step it down first (${ctx.kubectl} exec ${primary.pod} -c mongod -- mongosh ... --eval 'rs.stepDown()'), then run this scale again`);
      }
      const done = apply(ctx, 'REMOVE', removed);
      ctx.o.out(`removed from the replica set before the pods go: ${done.map((l) => l.slice('removed '.length)).join(', ') || 'none (not members)'}`);
      return [];
    },
    join: (ctx: ScaleContext) => {
      const added = ordinalsBetween(ctx.from, ctx.to).map((i) => `${ctx.sts.metadata.name}-${i}`);
      const done = apply(ctx, 'ADD', added);
      return [`added to the replica set: ${done.map((l) => l.slice('added '.length)).join(', ') || 'none (already members)'}`];
    },
  };
}
