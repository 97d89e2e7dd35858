import { Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { KafkaCluster, MySqlReplicaSet, RestrictedProfile } from '../src';

/**
 * An application wired to our systems with cdk8s-plus: the `orders-api`
 * Deployment (namespace `shop`) writes to its own MySQL replica set beside
 * it and produces to a Kafka cluster that the platform team runs in
 * namespace `data`. It gets the endpoints as plain values and the database
 * password as a Secret-backed env value (Secrets are namespaced, which is why
 * the database lives in the app's namespace), and each system's
 * NetworkPolicy admits exactly the app's pods, across the namespace boundary
 * for Kafka. Neither system admits any other client (`allowClientsFrom: []`).
 */
export class AppWiring extends Construct {
  public readonly data: Chart;
  public readonly shop: Chart;
  public readonly kafka: KafkaCluster;
  public readonly db: MySqlReplicaSet;
  public readonly api: kplus.Deployment;

  public constructor(scope: Construct, id: string) {
    super(scope, id);
    this.data = new Chart(scope, `${id}-data`, { namespace: 'data' });
    this.shop = new Chart(scope, `${id}-shop`, { namespace: 'shop' });

    this.kafka = new KafkaCluster(this.data, 'events', { allowClientsFrom: [] });
    this.db = new MySqlReplicaSet(this.shop, 'orders-db', {
      databases: ['orders'],
      users: [{ name: 'orders_app', databases: ['orders'] }],
      allowClientsFrom: [],
    });

    this.api = new kplus.Deployment(this.shop, 'orders-api', {
      replicas: 2,
      containers: [{
        image: 'example/orders-api:1.4.2',
        portNumber: 8080,
        securityContext: { user: 10001, group: 10001 },
        resources: {
          cpu: { request: kplus.Cpu.millis(250) },
          memory: { request: Size.mebibytes(256), limit: Size.mebibytes(256) },
        },
        envVariables: {
          KAFKA_BOOTSTRAP_SERVERS: kplus.EnvValue.fromValue(this.kafka.bootstrapServers),
          DB_HOST: kplus.EnvValue.fromValue(this.db.primaryHost),
          DB_READ_HOST: kplus.EnvValue.fromValue(this.db.readHost),
          DB_USER: kplus.EnvValue.fromValue('orders_app'),
          DB_PASSWORD: this.db.passwordEnv('orders_app'),
        },
      }],
    });
    RestrictedProfile.applyTo(this.api);
    this.kafka.allowClients(this.api);
    this.db.allowClients(this.api);
  }
}
