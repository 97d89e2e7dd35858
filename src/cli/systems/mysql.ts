import { MYSQL_PROBE_CLIENT_CNF } from '../../mysql/config';
import { Check, CheckResult, Finding, System } from './system';

/**
 * One member: a replica's IO and SQL threads must both run (SHOW REPLICA
 * STATUS; MySQL 8.4 names the columns Replica_* and *_Source, MariaDB
 * Slave_* and *_Master); a member that does not replicate is the primary and
 * must be writable. Root logs in over the socket with the client option file
 * start.sh writes from the Secret: no password on a command line.
 */
export function mySqlMemberScript(): string {
  return `set -euo pipefail
client="$1"
cnf=${MYSQL_PROBE_CLIENT_CNF}
status="$("\${client}" --defaults-extra-file="\${cnf}" -E -e 'SHOW REPLICA STATUS')"
column() {
  sed -n -E "s/^ *($1): //p" <<<"\${status}" | head -n 1
}
if [[ -z "\${status}" ]]; then
  echo "role=primary"
  read_only="$("\${client}" --defaults-extra-file="\${cnf}" -N -B -e 'SELECT @@global.read_only')"
  if [[ "\${read_only}" != 0 ]]; then
    echo "replicates from nothing, yet read_only=\${read_only}: neither a working replica nor a writable primary" >&2
    exit 1
  fi
  exit 0
fi
io="$(column 'Replica_IO_Running|Slave_IO_Running')"
sql="$(column 'Replica_SQL_Running|Slave_SQL_Running')"
echo "role=replica"
echo "source=$(column 'Source_Host|Master_Host')"
echo "lag=$(column 'Seconds_Behind_Source|Seconds_Behind_Master')"
if [[ "\${io}" != Yes || "\${sql}" != Yes ]]; then
  echo "replication is not running: IO thread \${io:-none}, SQL thread \${sql:-none}" >&2
  echo "Last_IO_Error: $(column Last_IO_Error)" >&2
  echo "Last_SQL_Error: $(column Last_SQL_Error)" >&2
  exit 1
fi
`;
}

/** Exactly one member is the primary. */
export function judgeOnePrimary(members: CheckResult[], check: string, primary = 'primary'): Finding[] {
  const primaries = members.filter((m) => m.values.role === primary);
  if (primaries.length === 1) return [];
  const roles = members.map((m) => `${m.pod}=${m.values.role}`).join(', ');
  return [{ check, detail: primaries.length === 0 ? `no member is the ${primary} (${roles})` : `${primaries.length} members are ${primary}: ${primaries.map((m) => m.pod).join(', ')} (${roles})` }];
}

export function mySql(flavor: string): System {
  const client = flavor === 'mariadb' ? 'mariadb' : 'mysql';
  const member: Check = { name: 'replication (SHOW REPLICA STATUS)', script: mySqlMemberScript(), args: [client] };
  return {
    title: flavor === 'mariadb' ? 'MariaDB' : 'MySQL',
    container: flavor,
    member,
    judge: (members) => judgeOnePrimary(members, member.name),
    role: (m) => m.values.role ?? '?',
    lag: (m) => (m.values.role === 'replica' ? `${m.values.lag === 'NULL' || !m.values.lag ? 'unknown' : `${m.values.lag}s`}` : ''),
  };
}
