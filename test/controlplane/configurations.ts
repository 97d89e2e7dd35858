/**
 * Representative construct configurations the API server must accept, beside
 * the examples: every system with no props at all, and with its main options.
 * (Hooking every unit test's chart would apply hundreds of near-identical
 * manifests; these cover each construct's code paths that change the objects.)
 */
import { App, Chart, Duration, Size } from 'cdk8s';
import {
  BackupTarget, KafkaCluster, KafkaControllerMode, MongoReplicaSet, MySqlFlavor, MySqlReplicaSet, PostgresReplicaSet, Probe,
  RedisCluster, Resources, StatefulWorkload, Storage, UpdateStrategy, ZooKeeperEnsemble,
} from '../../src';

/** Adds one chart per configuration; each chart has its own namespace (the chart id). */
export function addConfigurations(app: App): Chart[] {
  const chart = (id: string) => new Chart(app, id, { namespace: id });
  const charts: Chart[] = [];

  let c = chart('cfg-workload');
  new StatefulWorkload(c, 'web', {
    appName: 'nginx',
    containers: [{
      name: 'nginx',
      image: 'nginxinc/nginx-unprivileged:1.27.3',
      ports: [{ name: 'web', port: 80, containerPort: 8080 }],
      mounts: [{ volume: 'www', path: '/usr/share/nginx/html' }],
      readinessProbe: Probe.tcp('web'),
    }],
    volumes: [{ name: 'www', storage: Storage.persistent({ size: Size.gibibytes(1) }) }],
  });
  charts.push(c);

  c = chart('cfg-zookeeper-defaults');
  new ZooKeeperEnsemble(c, 'zk');
  charts.push(c);

  c = chart('cfg-zookeeper-options');
  new ZooKeeperEnsemble(c, 'zk', {
    replicas: 5,
    transactionLogStorage: Storage.persistent({ size: Size.gibibytes(5) }),
    adminServer: true,
    monitoring: { interval: Duration.seconds(15) },
    updateStrategy: UpdateStrategy.rollingUpdate(2),
    resources: Resources.small(),
  });
  charts.push(c);

  c = chart('cfg-kafka-defaults');
  new KafkaCluster(c, 'kafka');
  charts.push(c);

  c = chart('cfg-kafka-dedicated');
  new KafkaCluster(c, 'kafka', { brokers: 5, controllerMode: KafkaControllerMode.DEDICATED, controllers: 5 });
  charts.push(c);

  c = chart('cfg-kafka-zookeeper');
  const zk = new ZooKeeperEnsemble(c, 'zk');
  new KafkaCluster(c, 'kafka', { zookeeper: zk, zookeeperChroot: '/kafka', preferZooKeeperNodes: true });
  charts.push(c);

  c = chart('cfg-mysql-defaults');
  new MySqlReplicaSet(c, 'db');
  charts.push(c);

  c = chart('cfg-mariadb-options');
  new MySqlReplicaSet(c, 'db', {
    flavor: MySqlFlavor.mariadb(),
    replicas: 2,
    databases: ['orders'],
    users: [{ name: 'orders_app', databases: ['orders'] }],
  });
  charts.push(c);

  c = chart('cfg-postgres-defaults');
  new PostgresReplicaSet(c, 'pg');
  charts.push(c);

  c = chart('cfg-redis-defaults');
  new RedisCluster(c, 'cache');
  charts.push(c);

  c = chart('cfg-redis-options');
  new RedisCluster(c, 'cache', { masters: 3, replicasPerMaster: 2, auth: false, storage: Storage.ephemeral() });
  charts.push(c);

  c = chart('cfg-mongodb-defaults');
  new MongoReplicaSet(c, 'mongo');
  charts.push(c);

  c = chart('cfg-mongodb-options');
  new MongoReplicaSet(c, 'mongo', {
    replicas: 5,
    databases: ['shop'],
    users: [{ name: 'shop_app', databases: ['shop'] }],
    monitoring: {},
    backup: { target: BackupTarget.volume({ size: Size.gibibytes(20) }) },
  });
  charts.push(c);

  return charts;
}
