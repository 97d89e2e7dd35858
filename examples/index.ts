import { App } from 'cdk8s';
import { AppWiring } from './app-wiring';
import { CephStorageChart } from './ceph-storage';
import { KafkaKraftChart } from './kafka-kraft';
import { MongoDbChart } from './mongodb';
import { MySqlChart } from './mysql';
import { PostgresChart } from './postgres';
import { RedisClusterChart } from './redis-cluster';
import { WebChart } from './web';
import { ZooKeeperKafkaChart } from './zookeeper-kafka';

/** Adds every example's charts to `app`; `cdk8s synth` writes dist/<chart>.k8s.yaml for each chart. */
export function addExamples(app: App): void {
  new WebChart(app, 'web');
  new CephStorageChart(app, 'ceph-storage', { namespace: 'files' });
  new ZooKeeperKafkaChart(app, 'zookeeper-kafka', { namespace: 'streaming' });
  new KafkaKraftChart(app, 'kafka-kraft', { namespace: 'kafka' });
  new MySqlChart(app, 'mysql', { namespace: 'orders' });
  new RedisClusterChart(app, 'redis-cluster', { namespace: 'cache' });
  new PostgresChart(app, 'postgres', { namespace: 'orders' });
  new MongoDbChart(app, 'mongodb', { namespace: 'production' });
  new AppWiring(app, 'app-wiring');
}
