import { PG_PASSFILE, PG_RUN_DIR, POSTGRES_PORT, SLOT_PREFIX, SUPERUSER } from '../../postgres/config';
import { failure, refusal, timeout } from '../errors';
import { sleep } from '../workload';
import { judgeOnePrimary } from './mysql';
import { Check, CheckResult, Finding, ordinalsBetween, ScaleContext, System } from './system';

/** psql as the superuser over the pod's socket with the passfile start.sh writes (the probes' way in). */
const QUERY = `export PGPASSFILE=${PG_PASSFILE}
query() {
  psql -X -A -t -q -w -h ${PG_RUN_DIR} -p ${POSTGRES_PORT} -U ${SUPERUSER} -d postgres -v ON_ERROR_STOP=1 -c "$1"
}`;

/**
 * One member: the primary (not in recovery) lists its streaming standbys
 * (pg_stat_replication, by application_name = pod name); a standby is in
 * recovery with its WAL receiver streaming, and reports its replay lag.
 */
export function postgresMemberScript(): string {
  return `set -euo pipefail
${QUERY}
if [[ "$(query 'SELECT pg_is_in_recovery()')" == f ]]; then
  echo "role=primary"
  echo "streaming=$(query "SELECT coalesce(string_agg(application_name, ',' ORDER BY application_name), '') FROM pg_stat_replication WHERE state = 'streaming'")"
  exit 0
fi
echo "role=standby"
echo "lag_bytes=$(query 'SELECT coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)')"
receiver="$(query 'SELECT status FROM pg_stat_wal_receiver')"
if [[ "\${receiver}" != streaming ]]; then
  echo "in recovery, but its WAL receiver is \${receiver:-not running}: not streaming from the primary" >&2
  exit 1
fi
`;
}

/**
 * On the primary: drops the physical slots of removed ordinals
 * (`${SLOT_PREFIX}<ordinal>`, ordinal >= keep); a slot still in use by a
 * standby that is shutting down is reported as `active=`, to try again.
 */
export function postgresDropSlotsScript(): string {
  return `set -euo pipefail
keep="$1"
${QUERY}
if [[ "$(query 'SELECT pg_is_in_recovery()')" != f ]]; then
  echo "$0 is in recovery: slots are dropped on the primary" >&2
  exit 1
fi
slots="$(query "SELECT slot_name || ' ' || active FROM pg_replication_slots WHERE slot_type = 'physical' AND slot_name ~ '^${SLOT_PREFIX}[0-9]+$' AND substr(slot_name, ${SLOT_PREFIX.length + 1})::int >= \${keep} ORDER BY 1")"
while read -r slot active; do
  [[ -n "\${slot}" ]] || continue
  if [[ "\${active}" == t ]]; then
    echo "active=\${slot}"
  else
    query "SELECT pg_drop_replication_slot('\${slot}')" >/dev/null
    echo "dropped=\${slot}"
  fi
done <<<"\${slots}"
`;
}

/** Every standby streams, as the primary sees it. */
function judgeStreaming(members: CheckResult[], check: string): Finding[] {
  const findings = judgeOnePrimary(members, check);
  const primary = members.find((m) => m.values.role === 'primary');
  if (!primary) return findings;
  const streaming = (primary.values.streaming ?? '').split(',').filter(Boolean);
  for (const m of members.filter((x) => x.values.role === 'standby' && !streaming.includes(x.pod))) {
    findings.push({ pod: m.pod, check, detail: `the primary ${primary.pod} does not list ${m.pod} among its streaming standbys (pg_stat_replication: ${streaming.join(', ') || 'none'})` });
  }
  return findings;
}

/** Members the rendered slots.sh knows (`replicas=N`): it drops the slots of higher ordinals. */
function renderedReplicas(files: { [file: string]: string }): number | undefined {
  const m = /^replicas=(\d+)$/m.exec(files['slots.sh'] ?? '');
  return m ? Number(m[1]) : undefined;
}

export function postgres(): System {
  const member: Check = { name: 'streaming replication (pg_is_in_recovery, pg_stat_wal_receiver)', script: postgresMemberScript() };
  return {
    title: 'PostgreSQL',
    container: 'postgres',
    member,
    judge: (members) => judgeStreaming(members, member.name),
    role: (m) => m.values.role ?? '?',
    lag: (m) => (m.values.role === 'standby' ? `${m.values.lag_bytes ?? '?'} bytes` : ''),
    beforeScale: (ctx: ScaleContext) => {
      const rendered = renderedReplicas(ctx.configFiles());
      if (rendered !== undefined && ctx.to > rendered) {
        throw refusal(`refusing to scale PostgreSQL statefulset/${ctx.sts.metadata.name} to ${ctx.to}: slots.sh (its ConfigMap) was rendered for ${rendered} members `
          + `and drops the replication slot of any standby with ordinal ${rendered} or more whenever it is idle. Set replicas: ${ctx.to} on the PostgresReplicaSet and apply instead`);
      }
      return [];
    },
    afterScale: async (ctx: ScaleContext) => {
      if (ctx.to >= ctx.from) return [];
      const primary = `${ctx.sts.metadata.name}-0`;
      const drop: Check = { name: `drop the slots of removed standbys (${SLOT_PREFIX}<ordinal>)`, script: postgresDropSlotsScript(), args: [String(ctx.to)] };
      const deadline = Date.now() + 120_000;
      const dropped: string[] = [];
      for (;;) {
        const r = ctx.run(primary, drop);
        if (!r.ok) throw failure(`dropping the slots on ${primary} failed:\n${r.output}`);
        const lines = r.stdout.split('\n');
        dropped.push(...lines.filter((l) => l.startsWith('dropped=')).map((l) => l.slice('dropped='.length)));
        const active = lines.filter((l) => l.startsWith('active=')).map((l) => l.slice('active='.length));
        if (active.length === 0) break;
        if (Date.now() > deadline) throw timeout(`slots ${active.join(', ')} on ${primary} are still in use 2 minutes after their standbys were removed`);
        await sleep(2000);
      }
      const retained = ctx.sts.spec.persistentVolumeClaimRetentionPolicy?.whenScaled !== 'Delete';
      const claims = !retained ? [] : (ctx.sts.spec.volumeClaimTemplates ?? []).flatMap((t: { metadata: { name: string } }) =>
        ordinalsBetween(ctx.to, ctx.from).map((i) => `${t.metadata.name}-${ctx.sts.metadata.name}-${i}`));
      return [
        dropped.length > 0 ? `dropped the replication slots of the removed standbys on ${primary}: ${dropped.join(', ')}` : `no replication slot of a removed standby was left on ${primary}`,
        ...(claims.length > 0 ? [`their claims remain (${claims.join(', ')}): delete them before scaling up again, so that a returning standby bootstraps afresh instead of asking for WAL its slot no longer keeps`] : []),
      ];
    },
  };
}
