// The PrometheusRule of a RedisCluster with `monitoring`. The metrics are
// those redis_exporter serves from INFO and, on a cluster node, CLUSTER INFO
// (checked against Debian's prometheus-redis-exporter 1.45 beside a real
// cluster in test/e2e/redis-ops.test.ts): `redis_up`, `redis_cluster_state`,
// `redis_cluster_slots_ok` (slots whose master is neither FAIL nor PFAIL:
// fewer than 16384 covers unassigned and failing slots alike),
// `redis_connected_slaves`, `redis_instance_info{role}`,
// `redis_memory_used_bytes`, `redis_memory_max_bytes` and
// `redis_rejected_connections_total`.
// The shared StatefulSet, volume and backup alerts are added by the core.
import { Duration } from 'cdk8s';
import { displayName, scrapeSelector } from '../core/alerts';
import { AlertRule } from '../core/monitoring';
import { REDIS_SLOTS } from './backup-config';
import type { RedisSettings } from './settings';

/**
 * Node down, cluster state, slot coverage, masters short of replicas,
 * memory near maxmemory and rejected connections, on the series this
 * cluster's ServiceMonitor scrapes.
 */
export function redisAlerts(s: RedisSettings): AlertRule[] {
  const id = s.identity;
  const sel = scrapeSelector(id);
  const cluster = displayName(id.namespaceName, id.name);
  const rules: AlertRule[] = [
    {
      name: 'RedisNodeDown', severity: 'critical', pendingFor: Duration.minutes(2),
      expr: `sum by (namespace, job) (redis_up{${sel}}) < ${s.nodes} or absent(redis_up{${sel}})`,
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
      expr: `redis_cluster_slots_ok{${sel}} < ${REDIS_SLOTS}`,
      summary: `Redis node {{ $labels.pod }} of ${cluster} sees fewer than ${REDIS_SLOTS} slots served`,
      description: 'Keys of the missing slots cannot be read or written. Find the failing master (CLUSTER NODES), bring it back or fail over to its replica, and fix unassigned slots with redis-cli --cluster fix.',
    },
    {
      name: 'RedisMemoryNearMax', severity: 'warning', pendingFor: Duration.minutes(10),
      threshold: { value: 90, unit: 'percent of maxmemory', min: 1, max: 100 },
      expr: `redis_memory_used_bytes{${sel}} > $threshold / 100 * redis_memory_max_bytes{${sel}} and redis_memory_max_bytes{${sel}} > 0`,
      summary: `Redis node {{ $labels.pod }} of ${cluster} uses over $threshold% of maxmemory`,
      description: 'With maxmemory-policy noeviction, writes fail with OOM once the limit is reached. Delete or expire keys, raise the memory limit, or add masters and reshard.',
    },
    {
      name: 'RedisRejectedConnections', severity: 'warning', pendingFor: Duration.minutes(5),
      threshold: { value: 0, unit: 'connections rejected in 5 minutes', min: 0 },
      expr: `increase(redis_rejected_connections_total{${sel}}[5m]) > $threshold`,
      summary: `Redis node {{ $labels.pod }} of ${cluster} rejected more than $threshold connections in 5 minutes`,
      description: 'The node reached maxclients. Look for connection leaks in clients, or raise maxclients (config prop).',
    },
  ];
  if (s.replicasPerMaster > 0) {
    rules.push({
      name: 'RedisMasterWithoutReplica', severity: 'warning', pendingFor: Duration.minutes(10),
      expr: `redis_connected_slaves{${sel}} < ${s.replicasPerMaster} and on (namespace, pod) redis_instance_info{${sel}, role="master"}`,
      summary: `Redis master {{ $labels.pod }} of ${cluster} has fewer than ${s.replicasPerMaster} connected replicas`,
      description: 'If this master fails now, its slots have no replica to take over and the cluster stops serving them. Bring the replica back (a failed-over node rejoins as a replica) or check replication (INFO replication).',
    });
  }
  return rules;
}
