// The PrometheusRule of a ZooKeeperEnsemble with `monitoring`, on the series
// of ZooKeeper's own Prometheus metrics provider (port 7000; names checked on
// a running ensemble by test/e2e/zookeeper-metrics.test.ts):
// - `leader_uptime` and `synced_followers`: served by the leader only, while it
//   leads (a member that loses its quorum stops serving them, and `quorum_size` too);
// - `up`: Prometheus's own, 1 while a member's provider answers the scrape.
// A standalone member (1 replica) has no leader and no quorum: it gets
// ZooKeeperMemberDown only. The StatefulSet and volume alerts come from the core.
import { Duration } from 'cdk8s';
import { displayName, scrapeSelector } from '../core/alerts';
import { WorkloadIdentity } from '../core/identity';
import { AlertRule } from '../core/monitoring';

/** Member down; for an ensemble also no leader, quorum lost, followers missing. */
export function zooKeeperAlerts(identity: WorkloadIdentity, replicas: number): AlertRule[] {
  const sel = scrapeSelector(identity);
  const ensemble = displayName(identity.namespaceName, identity.name);
  const memberDown: AlertRule = {
    name: 'ZooKeeperMemberDown',
    severity: 'warning',
    pendingFor: Duration.minutes(5),
    expr: `up{${sel}} == 0`,
    summary: `ZooKeeper member {{ $labels.pod }} of ${ensemble} does not answer its metrics scrape`,
    description: 'The member\'s JVM or its Prometheus provider is down. An ensemble keeps serving while a majority is up; a standalone member is an outage.',
  };
  if (replicas === 1) return [memberDown];
  const majority = Math.floor(replicas / 2) + 1;
  return [
    memberDown,
    {
      name: 'ZooKeeperNoLeader',
      severity: 'critical',
      pendingFor: Duration.minutes(2),
      expr: `absent(leader_uptime{${sel}})`,
      summary: `ZooKeeper ensemble ${ensemble} has no leader`,
      description: 'No member leads: the ensemble serves no reads or writes, and clients such as Kafka lose their sessions. Leader election normally takes seconds.',
    },
    {
      name: 'ZooKeeperQuorumLost',
      severity: 'critical',
      pendingFor: Duration.minutes(2),
      expr: `sum by (namespace, job) (up{${sel}}) < ${majority} or absent(up{${sel}})`,
      summary: `ZooKeeper ensemble ${ensemble} has fewer than ${majority} of ${replicas} members up`,
      description: `A quorum needs ${majority} of the ${replicas} members; without it no leader can be elected.`,
    },
    {
      name: 'ZooKeeperFollowersBelowExpected',
      severity: 'warning',
      pendingFor: Duration.minutes(5),
      expr: `synced_followers{${sel}} < ${replicas - 1}`,
      summary: `ZooKeeper leader {{ $labels.pod }} of ${ensemble} has fewer than ${replicas - 1} synced followers`,
      description: 'A member is down or cannot sync with the leader: one more failure may cost the quorum.',
    },
  ];
}
