// The PrometheusRule of a RedisCluster with `monitoring`. The metrics are
// those redis_exporter serves from INFO and, on a cluster node, CLUSTER INFO
// (checked against Debian's prometheus-redis-exporter 1.45 beside a real
// cluster in test/e2e/redis-ops.test.ts): `redis_up`, `redis_cluster_state`,
// `redis_cluster_slots_ok`, `redis_cluster_slots_fail`,
// `redis_connected_slaves`, `redis_instance_info{role}`,
// `redis_memory_used_bytes`, `redis_memory_max_bytes` and
// `redis_rejected_connections_total`.
import { Duration } from 'cdk8s';
import { AlertRule } from '../core/monitoring';
import { REDIS_SLOTS } from './backup-config';
import type { RedisSettings } from './settings';

/** Share of maxmemory above which RedisMemoryNearMax fires (noeviction: writes fail at the limit). */
export const MEMORY_ALERT_RATIO = 0.9;

/**
 * Node down, cluster state, slot coverage, masters short of replicas,
 * memory near maxmemory and rejected connections, scoped to this cluster's
 * pods; with `backup`, a backup that is too old.
 */
export function redisAlerts(s: RedisSettings): AlertRule[] {
  const id = s.identity;
  const sel = `${id.namespaceName ? `namespace="${id.namespaceName}",` : ''}pod=~"${id.name}-[0-9]+"`;
  const cluster = `${id.namespaceName ?? 'default'}/${id.name}`;
  const rules: AlertRule[] = [
    {
      name: 'RedisNodeDown', severity: 'critical', pendingFor: Duration.minutes(2),
      expr: `count(redis_up{${sel}} == 1) < ${s.nodes} or absent(redis_up{${sel}} == 1)`,
      summary: `Fewer than ${s.nodes} nodes of Redis Cluster ${cluster} answer their exporter`,
      description: 'A node is down or its exporter cannot reach it (redis_up 0, or no series at all). A master\'s replica takes over after the node timeout; look at the pods, their events and redis-server\'s log.',
    },
    {
      name: 'RedisClusterStateNotOk', severity: 'critical', pendingFor: Duration.minutes(1),
      expr: `redis_cluster_state{${sel}} == 0`,
      summary: `Redis node {{ $labels.pod }} of ${cluster} reports cluster_state:fail`,
      description: 'The node refuses queries: it sees slots without a reachable master, or it is cut off from the majority of masters. Check CLUSTER NODES on it.',
    },
    {
      name: 'RedisClusterSlotsNotOk', severity: 'critical', pendingFor: Duration.minutes(2),
      expr: `redis_cluster_slots_ok{${sel}} < ${REDIS_SLOTS} or redis_cluster_slots_fail{${sel}} > 0`,
      summary: `Redis node {{ $labels.pod }} of ${cluster} sees fewer than ${REDIS_SLOTS} slots served`,
      description: 'Keys of the missing slots cannot be read or written. Find the failing master (CLUSTER NODES), bring it back or fail over to its replica, and fix unassigned slots with redis-cli --cluster fix.',
    },
    {
      name: 'RedisMemoryNearMax', pendingFor: Duration.minutes(10),
      expr: `redis_memory_used_bytes{${sel}} / redis_memory_max_bytes{${sel}} > ${MEMORY_ALERT_RATIO} and redis_memory_max_bytes{${sel}} > 0`,
      summary: `Redis node {{ $labels.pod }} of ${cluster} uses over ${MEMORY_ALERT_RATIO * 100}% of maxmemory`,
      description: 'With maxmemory-policy noeviction, writes fail with OOM once the limit is reached. Delete or expire keys, raise the memory limit, or add masters and reshard.',
    },
    {
      name: 'RedisRejectedConnections', pendingFor: Duration.minutes(5),
      expr: `increase(redis_rejected_connections_total{${sel}}[5m]) > 0`,
      summary: `Redis node {{ $labels.pod }} of ${cluster} rejects connections`,
      description: 'The node reached maxclients. Look for connection leaks in clients, or raise maxclients (config prop).',
    },
  ];
  if (s.replicasPerMaster > 0) {
    rules.push({
      name: 'RedisMasterWithoutReplica', pendingFor: Duration.minutes(10),
      expr: `redis_connected_slaves{${sel}} < ${s.replicasPerMaster} and on (namespace, pod) redis_instance_info{${sel},role="master"}`,
      summary: `Redis master {{ $labels.pod }} of ${cluster} has fewer than ${s.replicasPerMaster} connected replicas`,
      description: 'If this master fails now, its slots have no replica to take over and the cluster stops serving them. Bring the replica back (a failed-over node rejoins as a replica) or check replication (INFO replication).',
    });
  }
  if (s.backup) {
    const b = s.backup;
    const hours = Math.round(b.maxAge.toSeconds() / 360) / 10;
    rules.push({
      name: 'RedisBackupTooOld', pendingFor: Duration.minutes(30),
      expr: `time() - max(kube_cronjob_status_last_successful_time{namespace="${id.namespaceName ?? 'default'}",cronjob="${b.cronJobName}"}) > ${b.maxAge.toSeconds()}`,
      summary: `No backup of Redis Cluster ${cluster} succeeded in the last ${hours} hours`,
      description: 'A restore would lose everything written since the last good set. Look at the backup Jobs\' logs (kube-state-metrics\' view of the CronJob).',
    });
  }
  return rules;
}
