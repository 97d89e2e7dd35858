// The PrometheusRule of a MongoReplicaSet with `monitoring`. The metric names
// are those percona's mongodb_exporter exports (checked in its source,
// https://github.com/percona/mongodb_exporter):
// - `mongodb_up` (exporter/exporter.go): 1 while the exporter reaches its mongod;
// - `mongodb_mongod_replset_my_state` (exporter/v1_compatibility.go, myState()):
//   the member's replica state, 1 = PRIMARY; exported with --compatible-mode;
// - `mongodb_mongod_replset_member_replication_lag` (v1_compatibility.go,
//   replSetMetrics()): seconds each non-primary member's optime is behind the
//   primary's, labels name/state/set; exported with --compatible-mode.
// The shared StatefulSet, volume and backup alerts are added by the core.
import { Duration } from 'cdk8s';
import { displayName, scrapeSelector } from '../core/alerts';
import { AlertRule } from '../core/monitoring';
import type { MongoSettings } from './settings';

/**
 * Member down, no primary, replication lag; selected by the ServiceMonitor's
 * job (the headless Service). An arbiter holds no users, so its exporter
 * cannot log in and reports `mongodb_up 0`: "member down" counts the
 * data-bearing members only.
 */
export function mongoAlerts(s: MongoSettings): AlertRule[] {
  const id = s.identity;
  const sel = scrapeSelector(id);
  const set = displayName(id.namespaceName, id.name);
  return [
    {
      name: 'MongoMemberDown',
      expr: `count(mongodb_up{${sel}} == 1) < ${s.replicas} or absent(mongodb_up{${sel}} == 1)`,
      pendingFor: Duration.minutes(5),
      severity: 'warning',
      summary: `A data-bearing member of MongoDB replica set ${set} is down`,
      description: `Fewer than ${s.replicas} data-bearing members answer their exporter. A majority keeps the set writable; look at the pods, their events and mongod's log.`,
    },
    {
      name: 'MongoNoPrimary',
      expr: `absent(mongodb_mongod_replset_my_state{${sel}} == 1)`,
      pendingFor: Duration.minutes(2),
      severity: 'critical',
      summary: `MongoDB replica set ${set} has no primary`,
      description: 'No member reports state PRIMARY: writes fail. Check that a majority of the voting members is up and can reach each other (rs.status()).',
    },
    {
      name: 'MongoReplicationLag',
      expr: `max by (name) (mongodb_mongod_replset_member_replication_lag{${sel}}) > $threshold`,
      pendingFor: Duration.minutes(10),
      severity: 'warning',
      threshold: { value: 60, unit: 'seconds behind the primary', min: 1 },
      summary: `Member {{ $labels.name }} of MongoDB replica set ${set} is more than $threshold s behind the primary`,
      description: 'A secondary lags: reads from it are stale and it may fall off the oplog. Check its disk, CPU and network, and the oplog window.',
    },
  ];
}
