import { Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { StatefulSystem } from '../../src';
import { only, synthValid } from '../support/manifest';

/** How a system is wired into an app: the env var holding its connection string, and the one client port. */
export interface AppWiring<T extends StatefulSystem> {
  /** Kind and construct path of the system, as errors name it, for a system built with id 'sys' in chart 'streaming'. */
  readonly subject: string;
  /** Builds the system (clients limited to the ones named). */
  readonly make: (chart: Chart, props: { allowClientsFrom?: kplus.INetworkPolicyPeer[]; networkPolicy?: boolean }) => T;
  /** The app's env var and its value. */
  readonly envName: string;
  readonly connection: (system: T) => string;
  /** The connection string of `make(chart 'streaming' in namespace 'streaming')`. */
  readonly expected: string;
  /** The only port `allowClients` opens. */
  readonly port: string;
}

/**
 * The tests of a system wired to a cdk8s-plus Deployment: the connection
 * string in the app's env, `allowClients(deployment)` admitting the
 * Deployment's pods (in this namespace and in another one), and
 * `allowClients` without a NetworkPolicy being an error.
 */
export function describeAppWiring<T extends StatefulSystem>(w: AppWiring<T>): void {
  const rule = (deployment: any, namespace: string) => ({
    from: [{ podSelector: { matchLabels: deployment.spec.selector.matchLabels }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } }],
    ports: [{ port: w.port, protocol: 'TCP' }],
  });
  const app = (chart: Chart, id: string, system: T) => new kplus.Deployment(chart, id, {
    containers: [{ image: 'example/app:1.0.0', envVariables: { [w.envName]: kplus.EnvValue.fromValue(w.connection(system)) } }],
  });

  test('a Deployment in the same namespace gets the connection string and is admitted to the client port only', () => {
    // GIVEN the system and an app Deployment in its chart
    const c = new Chart(Testing.app(), 'streaming', { namespace: 'streaming' });
    const system = w.make(c, { allowClientsFrom: [] });
    // WHEN
    system.allowClients(app(c, 'app', system));
    // THEN
    const objects = Testing.synth(c);
    const deployment = only(objects, 'Deployment');
    expect(deployment.spec.template.spec.containers[0].env).toEqual([{ name: w.envName, value: w.expected }]);
    const rules = only(objects, 'NetworkPolicy').spec.ingress;
    expect(rules[rules.length - 1]).toEqual(rule(deployment, 'streaming'));
  });

  test('a Deployment in another namespace is admitted by its pod labels in its own namespace only', () => {
    // GIVEN the system in 'streaming' and an app Deployment in 'shop'
    const a = Testing.app();
    const data = new Chart(a, 'streaming', { namespace: 'streaming' });
    const shop = new Chart(a, 'shop', { namespace: 'shop' });
    const system = w.make(data, {});
    // WHEN
    system.allowClients(app(shop, 'web', system));
    // THEN
    const deployment = only(Testing.synth(shop), 'Deployment');
    expect(deployment.spec.template.spec.containers[0].env).toEqual([{ name: w.envName, value: w.expected }]);
    const rules = only(synthValid(data), 'NetworkPolicy').spec.ingress;
    expect(rules[rules.length - 1]).toEqual(rule(deployment, 'shop'));
  });

  test('allowClients with the network policy off is an error, not a silent no-op', () => {
    const c = new Chart(Testing.app(), 'streaming', { namespace: 'streaming' });
    const system = w.make(c, { networkPolicy: false });
    expect(Testing.synth(c).filter((o: any) => o.kind === 'NetworkPolicy')).toHaveLength(0);
    expect(() => system.allowClients(kplus.Pods.all(c, 'everyone')))
      .toThrow(`${w.subject}: networkPolicy is off, so allowClients('streaming/everyone') would do nothing`);
  });
}
