// The PrometheusRule of a KafkaCluster with `monitoring`, on the series the
// Prometheus JMX exporter's agent serves with the rules of jmx-exporter.ts
// (names checked on running brokers and controllers by test/e2e/kafka.test.ts):
// - `kafka_server_replicamanager_{underreplicatedpartitions,underminisrpartitioncount}`:
//   per broker, partitions it leads that lack replicas in their ISR, or have
//   fewer in-sync replicas than min.insync.replicas;
// - `kafka_controller_kafkacontroller_{activecontrollercount,offlinepartitionscount}`:
//   1 and the cluster's partitions without a leader on the active controller,
//   0 on every other node that can be controller (KRaft controllers, every
//   broker on ZooKeeper); KRaft brokers without the controller role serve none;
// - `kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent` and
//   `kafka_network_socketserver_networkprocessoravgidlepercent`: idle ratios 0..1;
// - `kafka_log_logmanager_offlinelogdirectorycount`: log dirs the broker lost to I/O errors;
// - `up`: Prometheus's own, 1 while a pod's agent answers the scrape.
// The StatefulSet and volume alerts come from the core.
import { Duration } from 'cdk8s';
import { displayName, kubernetesAlerts, scrapeSelector } from '../core/alerts';
import { WorkloadIdentity } from '../core/identity';
import { AlertRule, MonitoringOptions } from '../core/monitoring';
import { Problem } from '../core/names';
import { Storage } from '../core/storage';
import type { KafkaIdentities, KafkaSettings } from './settings';

/** The rules of one Kafka StatefulSet, and the user's monitoring options as they apply to it. */
export interface KafkaUnitAlerts {
  readonly rules: AlertRule[];
  readonly monitoring: MonitoringOptions;
}

/**
 * The rules of the brokers' and (dedicated) controllers' StatefulSets. With
 * dedicated controllers the controller alerts move to the controllers'
 * PrometheusRule (they read the controllers' series), and the user's
 * `disabledAlerts` and `alertOverrides` name alerts of either: each
 * StatefulSet gets those of its own alerts (a shared name such as
 * `StatefulSetReplicasMismatch` applies to both), and a name of neither
 * throws, listing every alert of the cluster.
 */
export function kafkaAlerts(problem: Problem, monitoring: MonitoringOptions, brokerStorage: Storage, s: KafkaSettings, ids: KafkaIdentities):
{ brokers: KafkaUnitAlerts; controllers: KafkaUnitAlerts | undefined } {
  const brokerRules = kafkaBrokerAlerts(ids.brokers, s.brokers);
  if (!ids.controllers) {
    return { brokers: { rules: [...brokerRules, ...kafkaControllerAlerts(ids.brokers, ids.brokers)], monitoring }, controllers: undefined };
  }
  const controllerRules = kafkaControllerAlerts(ids.controllers, ids.brokers, s.controllers);
  // the names of the alerts every monitored workload gets: the StatefulSet's, and the volumes' with claims
  const builtIn = (id: WorkloadIdentity, storage: Storage) => kubernetesAlerts(problem, 'backupAlert', {
    namespace: id.namespaceName, statefulSet: id.name, claimTemplates: storage.isPersistent ? ['data'] : [],
  }).map((r) => r.name);
  const [forBrokers, forControllers] = splitMonitoring(problem, monitoring, [
    [...brokerRules.map((r) => r.name), ...builtIn(ids.brokers, brokerStorage)],
    [...controllerRules.map((r) => r.name), ...builtIn(ids.controllers, s.controllerStorage)],
  ]);
  return { brokers: { rules: brokerRules, monitoring: forBrokers }, controllers: { rules: controllerRules, monitoring: forControllers } };
}

/** `monitoring` for each of several StatefulSets whose alerts are `names[i]`; ill-typed options go on unchanged for the core to report. */
function splitMonitoring(problem: Problem, options: MonitoringOptions, names: string[][]): MonitoringOptions[] {
  if (typeof options !== 'object' || options === null) return names.map(() => options);
  const all = [...new Set(names.flat())];
  const disabled = Array.isArray(options.disabledAlerts) ? options.disabledAlerts : undefined;
  const o = options.alertOverrides;
  const overrides = typeof o === 'object' && o !== null && !Array.isArray(o) ? o : undefined;
  const named: [string, string[]][] = [['disabledAlerts', disabled ?? []], ['alertOverrides', Object.keys(overrides ?? {})]];
  for (const [prop, list] of named) {
    const unknown = list.find((n) => !all.includes(n));
    if (unknown !== undefined) {
      throw problem.error(`monitoring.${prop}`, `names '${unknown}', which is not an alert of this cluster's brokers or controllers; the alerts are: ${all.join(', ')}`);
    }
  }
  return names.map((own) => ({
    ...options,
    ...(disabled ? { disabledAlerts: disabled.filter((n) => own.includes(n)) } : {}),
    ...(overrides ? { alertOverrides: Object.fromEntries(Object.entries(overrides).filter(([n]) => own.includes(n))) } : {}),
  }));
}

/** Alerts on what each broker reports. */
export function kafkaBrokerAlerts(brokers: WorkloadIdentity, count: number): AlertRule[] {
  const sel = scrapeSelector(brokers);
  const cluster = displayName(brokers.namespaceName, brokers.name);
  return [
    {
      name: 'KafkaBrokerDown', severity: 'warning', pendingFor: Duration.minutes(5),
      expr: `sum by (namespace, job) (up{${sel}}) < ${count} or absent(up{${sel}})`,
      summary: `Fewer than ${count} brokers of Kafka cluster ${cluster} serve their metrics`,
      description: 'A broker\'s pod is missing, not running or its JVM does not answer. Its partitions are under-replicated (or offline with a replication factor of 1) until it is back.',
    },
    {
      name: 'KafkaUnderReplicatedPartitions', severity: 'warning', pendingFor: Duration.minutes(10),
      expr: `kafka_server_replicamanager_underreplicatedpartitions{${sel}} > 0`,
      summary: `Broker {{ $labels.pod }} of ${cluster} leads under-replicated partitions`,
      description: 'Followers of partitions this broker leads are out of the ISR for 10 minutes: a broker is down, slow or cannot keep up. One more failure may stop acks=all writes.',
    },
    {
      name: 'KafkaUnderMinIsrPartitions', severity: 'critical', pendingFor: Duration.minutes(1),
      expr: `kafka_server_replicamanager_underminisrpartitioncount{${sel}} > 0`,
      summary: `Broker {{ $labels.pod }} of ${cluster} leads partitions with fewer in-sync replicas than min.insync.replicas`,
      description: 'Producers with acks=all get NOT_ENOUGH_REPLICAS on these partitions: writes fail until enough replicas are back in sync.',
    },
    {
      name: 'KafkaOfflineLogDirectory', severity: 'critical', pendingFor: Duration.minutes(1),
      expr: `kafka_log_logmanager_offlinelogdirectorycount{${sel}} > 0`,
      summary: `Broker {{ $labels.pod }} of ${cluster} has an offline log directory`,
      description: 'The broker stopped using a log directory after an I/O error; its replicas there are offline. Check the volume and the broker log.',
    },
    {
      name: 'KafkaRequestHandlerIdleLow', severity: 'warning', pendingFor: Duration.minutes(15),
      threshold: { value: 20, unit: 'percent of request handler time idle', min: 0, max: 100 },
      expr: `kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent{${sel}} < $threshold / 100`,
      summary: `The request handlers of broker {{ $labels.pod }} of ${cluster} are idle less than $threshold% of the time`,
      description: 'The broker\'s I/O threads are nearly saturated: request latency grows. Look for a hot partition, slow disks or too few num.io.threads.',
    },
    {
      name: 'KafkaNetworkProcessorIdleLow', severity: 'warning', pendingFor: Duration.minutes(15),
      threshold: { value: 20, unit: 'percent of network thread time idle', min: 0, max: 100 },
      expr: `kafka_network_socketserver_networkprocessoravgidlepercent{${sel}} < $threshold / 100`,
      summary: `The network threads of broker {{ $labels.pod }} of ${cluster} are idle less than $threshold% of the time`,
      description: 'The broker\'s network threads are nearly saturated: clients see timeouts. Look at connection counts, request rates and num.network.threads.',
    },
  ];
}

/**
 * Alerts on the controllers' view of the cluster, on the series of
 * `controllers`: the brokers' pods (KRaft combined, ZooKeeper mode) or the
 * dedicated controllers' (with `dedicated`, their count, which adds
 * KafkaControllerDown). `brokers` names the cluster in the summaries.
 */
export function kafkaControllerAlerts(controllers: WorkloadIdentity, brokers: WorkloadIdentity, dedicated?: number): AlertRule[] {
  const sel = scrapeSelector(controllers);
  const where = displayName(brokers.namespaceName, brokers.name);
  const down: AlertRule[] = dedicated === undefined ? [] : [{
    name: 'KafkaControllerDown', severity: 'warning', pendingFor: Duration.minutes(5),
    expr: `sum by (namespace, job) (up{${sel}}) < ${dedicated} or absent(up{${sel}})`,
    summary: `Fewer than ${dedicated} dedicated controllers of Kafka cluster ${where} serve their metrics`,
    description: `The quorum keeps working while a majority (${Math.floor(dedicated / 2) + 1} of ${dedicated}) runs; one more loss than that stops every metadata change.`,
  }];
  return [
    ...down,
    {
      name: 'KafkaActiveControllerCount', severity: 'critical', pendingFor: Duration.minutes(2),
      expr: `sum by (namespace, job) (kafka_controller_kafkacontroller_activecontrollercount{${sel}}) != 1`,
      summary: `Kafka cluster ${where} does not have exactly one active controller`,
      description: 'No active controller means no leader elections, topic changes or broker registrations; more than one that the nodes disagree about the controller. Check the quorum (kafka-metadata-quorum.sh describe --status) or, on ZooKeeper, the /controller znode.',
    },
    {
      name: 'KafkaOfflinePartitions', severity: 'critical', pendingFor: Duration.minutes(1),
      expr: `sum by (namespace, job) (kafka_controller_kafkacontroller_offlinepartitionscount{${sel}}) > 0`,
      summary: `Kafka cluster ${where} has offline partitions`,
      description: 'Partitions without a leader: producers and consumers of them fail. Every replica in their ISR is down (unclean leader election is off).',
    },
  ];
}
