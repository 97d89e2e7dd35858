import { Chart, Size, Testing } from 'cdk8s';
import { KafkaCluster, KafkaClusterProps, KafkaControllerMode, Storage, ZooKeeperEnsemble } from '../../src';
import { scraped, series, sharedAlertCases } from '../support/alert-cases';
import { AlertCase, describeAlertCases, Labels } from '../support/promtool';

// The Kafka rules evaluated by promtool on series as the ServiceMonitors
// scrape them from the JMX exporter's agent (port 9404) with the rendered
// rules file: `job` is the headless Service, and the Prometheus Operator adds
// namespace, pod, service, endpoint, container and instance.
// test/e2e/kafka.test.ts shows that real brokers and controllers serve these
// series, healthy, in every mode.

const NS = 'streaming';
const team = { team: 'streaming' };

function render(props: KafkaClusterProps = {}, onZooKeeper = false): any[] {
  const chart = new Chart(Testing.app(), 'c', { namespace: NS });
  new KafkaCluster(chart, 'kafka', {
    name: 'kafka',
    storage: Storage.persistent({ size: Size.gibibytes(1) }),
    monitoring: { alertLabels: team },
    ...(onZooKeeper ? { zookeeper: new ZooKeeperEnsemble(chart, 'zk') } : {}),
    ...props,
  });
  return Testing.synth(chart);
}

/** The labels of a scraped series of pod `ordinal` of StatefulSet `name`. */
function pod(ordinal: number, name = 'kafka'): Labels {
  return scraped(NS, name, ordinal, 'kafka', 9404);
}

/** `metric` of pods 0..2 of `name`, with the given values. */
function each(metric: string, values: string[], name = 'kafka'): { [series: string]: string } {
  return Object.fromEntries(values.map((v, i) => [series(metric, pod(i, name)), v]));
}

const cluster = (name = 'kafka') => ({ namespace: NS, job: `${name}-headless` });
const UP = 'up';
const URP = 'kafka_server_replicamanager_underreplicatedpartitions';
const UNDER_MIN_ISR = 'kafka_server_replicamanager_underminisrpartitioncount';
const OFFLINE_DIRS = 'kafka_log_logmanager_offlinelogdirectorycount';
const HANDLER_IDLE = 'kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent';
const NETWORK_IDLE = 'kafka_network_socketserver_networkprocessoravgidlepercent';
const ACTIVE = 'kafka_controller_kafkacontroller_activecontrollercount';
const OFFLINE = 'kafka_controller_kafkacontroller_offlinepartitionscount';

const brokerCases: AlertCase[] = [
  {
    name: 'broker 1 does not answer its scrape for 10 minutes: fires for the cluster',
    alert: 'KafkaBrokerDown', at: '10m',
    series: each(UP, ['1x20', '0x20', '1x20']),
    fires: [{ ...cluster(), severity: 'warning', ...team }],
  },
  {
    name: 'broker 2 has no target at all (its pod is gone): fires',
    alert: 'KafkaBrokerDown', at: '10m',
    series: each(UP, ['1x20', '1x20']),
    fires: [{ ...cluster(), severity: 'warning', ...team }],
  },
  {
    name: 'no broker scraped, while another cluster is: fires',
    alert: 'KafkaBrokerDown', at: '10m',
    series: each(UP, ['1x20', '1x20', '1x20'], 'other'),
    fires: [{ ...cluster(), severity: 'warning', ...team }],
  },
  {
    name: 'a broker down for 3 minutes (a restart), and a broker of another cluster down: silent',
    alert: 'KafkaBrokerDown', at: '10m',
    series: { ...each(UP, ['1x20', '1x6 0x3 1x10', '1x20']), ...each(UP, ['0x20', '1x20', '1x20'], 'other') },
    fires: [],
  },
  {
    name: 'broker 2 leads 4 under-replicated partitions for 15 minutes: fires for broker 2',
    alert: 'KafkaUnderReplicatedPartitions', at: '15m',
    series: each(URP, ['0x20', '0x20', '4x20']),
    fires: [{ ...pod(2), severity: 'warning', ...team }],
  },
  {
    name: 'under-replicated for 5 minutes while a broker restarts, then in sync; another cluster under-replicated: silent',
    alert: 'KafkaUnderReplicatedPartitions', at: '15m',
    series: { ...each(URP, ['2x5 0x15', '0x20', '1x5 0x15']), ...each(URP, ['3x20'], 'other') },
    fires: [],
  },
  {
    name: 'broker 0 leads a partition under min.insync.replicas for 3 minutes: fires, critical',
    alert: 'KafkaUnderMinIsrPartitions', at: '3m',
    series: each(UNDER_MIN_ISR, ['1x5', '0x5', '0x5']),
    fires: [{ ...pod(0), severity: 'critical', ...team }],
  },
  {
    name: 'every partition at or above min.insync.replicas, another cluster\'s under: silent',
    alert: 'KafkaUnderMinIsrPartitions', at: '3m',
    series: { ...each(UNDER_MIN_ISR, ['0x5', '0x5', '0x5']), ...each(UNDER_MIN_ISR, ['2x5'], 'other') },
    fires: [],
  },
  {
    name: 'broker 1 lost its log directory: fires for broker 1, critical',
    alert: 'KafkaOfflineLogDirectory', at: '3m',
    series: each(OFFLINE_DIRS, ['0x5', '1x5', '0x5']),
    fires: [{ ...pod(1), severity: 'critical', ...team }],
  },
  {
    name: 'no offline log directory here, one in another cluster: silent',
    alert: 'KafkaOfflineLogDirectory', at: '3m',
    series: { ...each(OFFLINE_DIRS, ['0x5', '0x5', '0x5']), ...each(OFFLINE_DIRS, ['1x5'], 'other') },
    fires: [],
  },
  {
    name: 'broker 0\'s request handlers 10% idle for 20 minutes: fires for broker 0',
    alert: 'KafkaRequestHandlerIdleLow', at: '20m',
    series: each(HANDLER_IDLE, ['0.1x25', '0.8x25', '0.9x25']),
    fires: [{ ...pod(0), severity: 'warning', ...team }],
  },
  {
    name: 'request handlers 10% idle for 10 minutes, then 60%; 25% idle elsewhere; another cluster saturated: silent',
    alert: 'KafkaRequestHandlerIdleLow', at: '20m',
    series: { ...each(HANDLER_IDLE, ['0.1x10 0.6x15', '0.25x25', '0.9x25']), ...each(HANDLER_IDLE, ['0.01x25'], 'other') },
    fires: [],
  },
  {
    name: 'broker 2\'s network threads 5% idle for 20 minutes: fires for broker 2',
    alert: 'KafkaNetworkProcessorIdleLow', at: '20m',
    series: each(NETWORK_IDLE, ['0.7x25', '0.7x25', '0.05x25']),
    fires: [{ ...pod(2), severity: 'warning', ...team }],
  },
  {
    name: 'network threads 30% idle, another cluster saturated: silent',
    alert: 'KafkaNetworkProcessorIdleLow', at: '20m',
    series: { ...each(NETWORK_IDLE, ['0.3x25', '0.3x25', '0.3x25']), ...each(NETWORK_IDLE, ['0.01x25'], 'other') },
    fires: [],
  },
];

/** The controller alerts over the series of StatefulSet `name`. */
function controllerCases(name: string): AlertCase[] {
  const fires = [{ ...cluster(name), severity: 'critical', ...team }];
  return [
    {
      name: `no ${name} pod reports an active controller for 5 minutes: fires`,
      alert: 'KafkaActiveControllerCount', at: '5m',
      series: each(ACTIVE, ['0x10', '0x10', '0x10'], name),
      fires,
    },
    {
      name: `two ${name} pods report themselves active: fires`,
      alert: 'KafkaActiveControllerCount', at: '5m',
      series: each(ACTIVE, ['1x10', '0x10', '1x10'], name),
      fires,
    },
    {
      name: `one active controller among the ${name} pods, after a minute-long failover; none in another cluster: silent`,
      alert: 'KafkaActiveControllerCount', at: '5m',
      series: { ...each(ACTIVE, ['1x2 0x8', '0x3 1x7', '0x10'], name), ...each(ACTIVE, ['0x10', '0x10'], 'other') },
      fires: [],
    },
    {
      name: `the active controller (${name} 1) counts 2 offline partitions: fires`,
      alert: 'KafkaOfflinePartitions', at: '3m',
      series: each(OFFLINE, ['0x5', '2x5', '0x5'], name),
      fires,
    },
    {
      name: 'no offline partitions here, some in another cluster: silent',
      alert: 'KafkaOfflinePartitions', at: '3m',
      series: { ...each(OFFLINE, ['0x5', '0x5', '0x5'], name), ...each(OFFLINE, ['3x5'], 'other') },
      fires: [],
    },
  ];
}

describeAlertCases('Kafka alerts of 3 KRaft brokers with combined controllers (promtool)', () => render(), [
  ...brokerCases,
  ...controllerCases('kafka'),
  ...sharedAlertCases({ namespace: NS, statefulSet: 'kafka', claim: 'data-kafka-2', extraLabels: team }),
]);

describeAlertCases('Kafka alerts of 3 brokers on ZooKeeper (promtool)', () => render({}, true), [
  ...brokerCases,
  // on ZooKeeper one broker is the controller, the others report 0
  ...controllerCases('kafka'),
  ...sharedAlertCases({ namespace: NS, statefulSet: 'kafka', claim: 'data-kafka-0', extraLabels: team }),
]);

/** Dedicated controllers: the objects with only the PrometheusRule of StatefulSet `name` (the Operator loads each as a file of its own). */
function dedicated(name: string): any[] {
  const objects = render({ controllerMode: KafkaControllerMode.DEDICATED, controllerStorage: Storage.persistent({ size: Size.gibibytes(1) }) });
  return objects.filter((o) => o.kind !== 'PrometheusRule' || o.metadata.name === name);
}

describeAlertCases('Kafka alerts of brokers beside dedicated controllers (promtool)', () => dedicated('kafka'), [
  ...brokerCases,
  ...sharedAlertCases({ namespace: NS, statefulSet: 'kafka', claim: 'data-kafka-2', extraLabels: team }),
]);

describeAlertCases('Kafka alerts of 3 dedicated controllers (promtool)', () => dedicated('kafka-controller'), [
  ...controllerCases('kafka-controller'),
  {
    name: 'the brokers\' own zeros do not count: one active controller among the controllers, none among the brokers: silent',
    alert: 'KafkaActiveControllerCount', at: '5m',
    series: { ...each(ACTIVE, ['0x10', '1x10', '0x10'], 'kafka-controller'), ...each(ACTIVE, ['0x10', '0x10', '0x10']) },
    fires: [],
  },
  {
    name: 'controller 2 does not answer its scrape for 10 minutes: fires',
    alert: 'KafkaControllerDown', at: '10m',
    series: { ...each(UP, ['1x20', '1x20', '0x20'], 'kafka-controller'), ...each(UP, ['1x20', '1x20', '1x20']) },
    fires: [{ ...cluster('kafka-controller'), severity: 'warning', ...team }],
  },
  {
    name: 'every controller up, a broker down: silent (KafkaBrokerDown\'s)',
    alert: 'KafkaControllerDown', at: '10m',
    series: { ...each(UP, ['1x20', '1x20', '1x20'], 'kafka-controller'), ...each(UP, ['0x20', '1x20', '1x20']) },
    fires: [],
  },
  ...sharedAlertCases({ namespace: NS, statefulSet: 'kafka-controller', claim: 'data-kafka-controller-0', extraLabels: team }),
]);

describeAlertCases('Kafka alerts with an idle threshold of 5% (promtool)', () => render({
  monitoring: { alertLabels: team, alertOverrides: { KafkaRequestHandlerIdleLow: { threshold: 5 } } },
}), [
  ...brokerCases.filter((c) => c.alert !== 'KafkaRequestHandlerIdleLow'),
  ...controllerCases('kafka'),
  ...sharedAlertCases({ namespace: NS, statefulSet: 'kafka', claim: 'data-kafka-1', extraLabels: team }),
  {
    name: '10% idle, under the default 20% but over 5%: silent',
    alert: 'KafkaRequestHandlerIdleLow', at: '20m',
    series: each(HANDLER_IDLE, ['0.1x25', '0.1x25', '0.1x25']),
    fires: [],
  },
  {
    name: '3% idle: fires',
    alert: 'KafkaRequestHandlerIdleLow', at: '20m',
    series: each(HANDLER_IDLE, ['0.03x25', '0.5x25', '0.5x25']),
    fires: [{ ...pod(0), severity: 'warning', ...team }],
  },
]);
