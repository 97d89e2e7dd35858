import { Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  AntiAffinity, ImagePullPolicy, Resources, Storage, UnhealthyPodEvictionPolicy, ZooKeeperEnsemble, ZooKeeperEnsembleProps,
} from '../../src';
import { ZOOKEEPER_DEFAULT_IMAGE } from '../../src/zookeeper/settings';
import { only, synthValid } from '../support/manifest';
import { describeAppWiring } from './app-wiring';

function chart(): Chart {
  return new Chart(Testing.app(), 'streaming', { namespace: 'streaming' });
}

function zooCfgOf(objects: any[]): string {
  return only(objects, 'ConfigMap').data['zoo.cfg'];
}

describe('ZooKeeperEnsemble', () => {
  test('with no props renders a 3-member ensemble that passes every check', () => {
    // GIVEN
    const c = chart();
    new ZooKeeperEnsemble(c, 'zk');
    // WHEN
    const objects = synthValid(c);
    // THEN
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/streaming-zk-config', 'NetworkPolicy/streaming-zk', 'PodDisruptionBudget/streaming-zk', 'Service/streaming-zk',
      'Service/streaming-zk-headless', 'ServiceAccount/streaming-zk', 'StatefulSet/streaming-zk',
    ]);
    expect(objects).toMatchSnapshot();
  });

  test('exposes the connect string, client port and member FQDNs', () => {
    const zk = new ZooKeeperEnsemble(chart(), 'zk');
    expect(zk.replicas).toBe(3);
    expect(zk.clientPort).toBe(2181);
    expect(zk.podFqdn(1)).toBe('streaming-zk-1.streaming-zk-headless.streaming.svc.cluster.local');
    expect(zk.connectString).toBe([0, 1, 2].map((i) => `streaming-zk-${i}.streaming-zk-headless.streaming.svc.cluster.local:2181`).join(','));
    expect(zk.statefulSet.name).toBe('streaming-zk');
    expect(zk.headlessService.name).toBe('streaming-zk-headless');
    expect(zk.pdb.name).toBe('streaming-zk');
  });

  test('zoo.cfg names every member by its pod FQDN, and the data dir is on the claim', () => {
    const c = chart();
    new ZooKeeperEnsemble(c, 'zk');
    const objects = synthValid(c);
    const cfg = zooCfgOf(objects);
    expect(cfg).toContain('server.1=streaming-zk-0.streaming-zk-headless.streaming.svc.cluster.local:2888:3888\n');
    expect(cfg).toContain('server.3=streaming-zk-2.streaming-zk-headless.streaming.svc.cluster.local:2888:3888\n');
    expect(cfg).toContain('dataDir=/data\n');
    expect(cfg).toContain('4lw.commands.whitelist=ruok,srvr,mntr\n');
    const sts = only(objects, 'StatefulSet').spec;
    expect(sts.volumeClaimTemplates.map((t: any) => [t.metadata.name, t.spec.resources.requests.storage])).toEqual([['data', '10Gi']]);
    expect(sts.template.spec.containers[0].volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
  });

  test('a 5-member ensemble lists five servers and allows two disruptions; the default allows one', () => {
    const c = chart();
    new ZooKeeperEnsemble(c, 'zk');
    new ZooKeeperEnsemble(c, 'big', { replicas: 5 });
    const objects = synthValid(c);
    expect(only(objects, 'PodDisruptionBudget', 'streaming-zk').spec.maxUnavailable).toBe(1);
    expect(only(objects, 'PodDisruptionBudget', 'streaming-big').spec.maxUnavailable).toBe(2);
    const cfg = only(objects, 'ConfigMap', 'streaming-big-config').data['zoo.cfg'];
    expect(cfg.split('\n').filter((l: string) => l.startsWith('server.'))).toHaveLength(5);
    expect(cfg).toContain('server.5=streaming-big-4.streaming-big-headless.streaming.svc.cluster.local:2888:3888');
  });

  test('the container runs the start script with an explicit command, heap and config dir', () => {
    const c = chart();
    new ZooKeeperEnsemble(c, 'zk');
    const objects = synthValid(c);
    const pod = only(objects, 'StatefulSet').spec.template.spec;
    const zk = pod.containers[0];
    expect(zk.image).toBe('zookeeper:3.9.4');
    expect(zk.command).toEqual(['bash', '/scripts/zk-start.sh']);
    expect(zk.env).toEqual(expect.arrayContaining([
      { name: 'ZOOCFGDIR', value: '/conf' }, { name: 'ZK_SERVER_HEAP', value: '512' }, { name: 'ZOO_LOG_DIR', value: '/logs' },
    ]));
    expect(pod.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, runAsNonRoot: true });
    const data = only(objects, 'ConfigMap').data;
    expect(data['zk-start.sh']).toContain('exec zkServer.sh start-foreground');
    expect(Object.keys(data).sort()).toEqual(['logback.xml', 'zk-live.sh', 'zk-ready.sh', 'zk-start.sh', 'zoo.cfg']);
  });

  test('ports are client, quorum and election; quorum and election are open to members only', () => {
    const c = chart();
    const zk = new ZooKeeperEnsemble(c, 'zk');
    const objects = synthValid(c);
    expect(only(objects, 'StatefulSet').spec.template.spec.containers[0].ports.map((p: any) => [p.name, p.containerPort]))
      .toEqual([['client', 2181], ['quorum', 2888], ['election', 3888]]);
    expect(only(objects, 'Service', 'streaming-zk-headless').spec.publishNotReadyAddresses).toBe(true);
    expect(only(objects, 'Service', 'streaming-zk').spec.ports.map((p: any) => p.port)).toEqual([2181]);
    const np = only(objects, 'NetworkPolicy').spec.ingress;
    expect(np[0]).toEqual({ from: [{ podSelector: { matchLabels: zk.selectorLabels } }], ports: [{ port: 'quorum', protocol: 'TCP' }, { port: 'election', protocol: 'TCP' }] });
  });

  test('readiness asks ruok, liveness is a different, more tolerant check', () => {
    const c = chart();
    new ZooKeeperEnsemble(c, 'zk');
    const zk = only(synthValid(c), 'StatefulSet').spec.template.spec.containers[0];
    expect(zk.readinessProbe.exec.command).toEqual(['bash', '/scripts/zk-ready.sh']);
    expect(zk.livenessProbe.exec.command).toEqual(['bash', '/scripts/zk-live.sh']);
    expect(zk.livenessProbe.periodSeconds * zk.livenessProbe.failureThreshold)
      .toBeGreaterThan(zk.readinessProbe.periodSeconds * zk.readinessProbe.failureThreshold);
  });

  test('starts members in order, one at a time, with rolling updates', () => {
    const c = chart();
    new ZooKeeperEnsemble(c, 'zk');
    const sts = only(synthValid(c), 'StatefulSet').spec;
    expect(sts.podManagementPolicy).toBe('OrderedReady');
    expect(sts.updateStrategy.type).toBe('RollingUpdate');
  });

  test('options: transaction-log claim, AdminServer, Prometheus metrics, hard anti-affinity, tunables', () => {
    const c = chart();
    new ZooKeeperEnsemble(c, 'zk', {
      storage: Storage.persistent({ size: Size.gibibytes(20), storageClassName: 'ceph-rbd' }),
      transactionLogStorage: Storage.persistent({ size: Size.gibibytes(5), storageClassName: 'fast' }),
      adminServer: true,
      monitoring: {},
      placement: { antiAffinity: AntiAffinity.hard() },
      tickTime: Duration.millis(3000),
      initLimit: 20,
      syncLimit: 10,
      maxClientConnections: 0,
      snapRetainCount: 5,
      purgeInterval: Duration.hours(6),
      fourLetterWords: ['conf'],
    });
    const objects = synthValid(c);
    const cfg = zooCfgOf(objects);
    for (const line of ['dataLogDir=/datalog', 'admin.enableServer=true', 'admin.serverPort=8080', 'metricsProvider.httpPort=7000',
      'tickTime=3000', 'initLimit=20', 'syncLimit=10', 'maxClientCnxns=0', 'autopurge.snapRetainCount=5', 'autopurge.purgeInterval=6',
      '4lw.commands.whitelist=ruok,srvr,mntr,conf']) {
      expect(cfg).toContain(`${line}\n`);
    }
    const sts = only(objects, 'StatefulSet').spec;
    expect(sts.volumeClaimTemplates.map((t: any) => [t.metadata.name, t.spec.storageClassName])).toEqual([['data', 'ceph-rbd'], ['datalog', 'fast']]);
    expect(sts.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
    expect(sts.template.spec.containers[0].ports.map((p: any) => p.name)).toEqual(['client', 'quorum', 'election', 'admin', 'metrics']);
    expect(sts.template.spec.containers[0].volumeMounts).toContainEqual({ name: 'datalog', mountPath: '/datalog' });
  });

  test('a single member is allowed for development, with a warning annotation', () => {
    const c = chart();
    const zk = new ZooKeeperEnsemble(c, 'zk', { replicas: 1 });
    const objects = synthValid(c);
    expect(only(objects, 'StatefulSet').metadata.annotations['cdk8s-stateful.io/warning']).toContain('development setup');
    expect(zk.node.metadata.some((m) => m.type === 'warning')).toBe(true);
    expect(zooCfgOf(objects)).toContain('standaloneEnabled=true\n');
    expect(only(objects, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
  });

  test('heap follows the memory limit', () => {
    const c = chart();
    new ZooKeeperEnsemble(c, 'zk', { resources: Resources.medium(), heap: Size.mebibytes(1536) });
    const env = only(synthValid(c), 'StatefulSet').spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: 'ZK_SERVER_HEAP', value: '1536' });
  });

  test('allowClients admits a peer to the client port only, not the AdminServer', () => {
    // GIVEN an ensemble with the AdminServer (a second CLIENT port) and no default clients
    const c = chart();
    const zk = new ZooKeeperEnsemble(c, 'zk', { allowClientsFrom: [], adminServer: true });
    // WHEN
    zk.allowClients(kplus.Pods.select(c, 'kafka', { labels: { app: 'kafka' } }));
    // THEN
    const np = only(synthValid(c), 'NetworkPolicy').spec.ingress;
    expect(np[np.length - 1]).toEqual({ from: [{ podSelector: { matchLabels: { app: 'kafka' } } }], ports: [{ port: 'client', protocol: 'TCP' }] });
  });

  test('monitoring turns on the Prometheus provider and a ServiceMonitor scraping it; without it there is neither', () => {
    // GIVEN one ensemble with monitoring and one without
    const c = chart();
    const zk = new ZooKeeperEnsemble(c, 'zk', { monitoring: { interval: Duration.seconds(15), labels: { release: 'prom' } } });
    new ZooKeeperEnsemble(c, 'plain');
    // WHEN
    const objects = synthValid(c);
    // THEN the monitored one has the provider, the port (open to every namespace) and the ServiceMonitor
    expect(zk.workload.metrics).toBeDefined();
    const monitor = only(objects, 'ServiceMonitor');
    expect(monitor.metadata).toMatchObject({ name: 'streaming-zk', labels: { release: 'prom' } });
    expect(monitor.spec.selector.matchLabels).toEqual(zk.selectorLabels);
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics', interval: '15s' })]);
    const cfg = only(objects, 'ConfigMap', 'streaming-zk-config').data['zoo.cfg'];
    expect(cfg).toContain('metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\nmetricsProvider.httpPort=7000\n');
    expect(only(objects, 'StatefulSet', 'streaming-zk').spec.template.spec.containers[0].ports).toContainEqual({ name: 'metrics', containerPort: 7000, protocol: 'TCP' });
    expect(only(objects, 'NetworkPolicy', 'streaming-zk').spec.ingress).toContainEqual({ from: [{ namespaceSelector: {} }], ports: [{ port: 'metrics', protocol: 'TCP' }] });
    // and the plain one has none of it
    expect(only(objects, 'ConfigMap', 'streaming-plain-config').data['zoo.cfg']).not.toContain('metricsProvider');
    expect(only(objects, 'StatefulSet', 'streaming-plain').spec.template.spec.containers[0].ports.map((p: any) => p.name)).not.toContain('metrics');
  });

  test('shared props override the ensemble\'s defaults: grace period, user, budget, pull policy, pod labels', () => {
    const c = chart();
    new ZooKeeperEnsemble(c, 'zk', {
      name: 'zoo',
      terminationGracePeriod: Duration.seconds(120),
      runAs: { uid: 2000, gid: 3000 },
      disruptionBudget: { maxUnavailable: 1, unhealthyPodEvictionPolicy: UnhealthyPodEvictionPolicy.ALWAYS_ALLOW },
      imagePullPolicy: ImagePullPolicy.ALWAYS,
      podLabels: { team: 'data' },
      replicas: 5,
    });
    const objects = synthValid(c);
    const sts = only(objects, 'StatefulSet', 'zoo').spec.template;
    expect(sts.spec.terminationGracePeriodSeconds).toBe(120);
    expect(sts.spec.securityContext).toMatchObject({ runAsUser: 2000, runAsGroup: 3000, fsGroup: 3000 });
    expect(sts.spec.containers[0].imagePullPolicy).toBe('Always');
    expect(sts.metadata.labels.team).toBe('data');
    expect(only(objects, 'PodDisruptionBudget', 'zoo').spec).toMatchObject({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
  });

  test('the defaults of the shared props: the pinned image, 60 s to stop, uid 1000, 10Gi', () => {
    const c = chart();
    const zk = new ZooKeeperEnsemble(c, 'zk');
    const sts = only(synthValid(c), 'StatefulSet').spec;
    expect(ZooKeeperEnsemble.DEFAULT_IMAGE).toBe(ZOOKEEPER_DEFAULT_IMAGE);
    expect(zk.image).toBe(ZooKeeperEnsemble.DEFAULT_IMAGE);
    expect(sts.template.spec.containers[0].image).toBe(ZooKeeperEnsemble.DEFAULT_IMAGE);
    expect(sts.template.spec.terminationGracePeriodSeconds).toBe(60);
    expect(sts.template.spec.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 1000 });
    expect(sts.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('10Gi');
    expect(sts.template.spec.containers[0].resources.limits.memory).toBe('1024Mi');
  });

  describe('apps wired to the ensemble with cdk8s-plus', () => describeAppWiring({
    subject: "ZooKeeperEnsemble 'streaming/sys'",
    make: (c, props) => new ZooKeeperEnsemble(c, 'sys', props),
    envName: 'ZOOKEEPER_CONNECT',
    connection: (zk) => zk.connectString,
    expected: [0, 1, 2].map((i) => `streaming-sys-${i}.streaming-sys-headless.streaming.svc.cluster.local:2181`).join(','),
    port: 'client',
  }));

  describe('bad input fails at construction with the construct, the property and what is allowed', () => {
    const cases: [string, ZooKeeperEnsembleProps, string][] = [
      ['an even ensemble', { replicas: 4 }, "ZooKeeperEnsemble 'streaming/zk': replicas must be an odd number >= 3 for a quorum (or 1 for development), got 4: a quorum is a strict majority"],
      ['two members', { replicas: 2 }, 'replicas must be an odd number >= 3 for a quorum (or 1 for development), got 2'],
      ['zero members', { replicas: 0 }, 'replicas must be an odd number >= 3 for a quorum (or 1 for development), got 0'],
      ['a fractional ensemble', { replicas: 3.5 }, 'replicas must be an odd number >= 3 for a quorum (or 1 for development), got 3.5'],
      ['a heap above the limit', { heap: Size.gibibytes(2) }, "ZooKeeperEnsemble 'streaming/zk': heap (2048Mi) must be at least 64Mi and fit in the memory limit (1024Mi)"],
      ['a heap with no room for the JVM', { heap: Size.mebibytes(800) }, 'at most 75% of it, 768Mi'],
      ['a zero initLimit', { initLimit: 0 }, 'initLimit must be an integer >= 1, got 0'],
      ['a fractional syncLimit', { syncLimit: 2.5 }, 'syncLimit must be an integer >= 1, got 2.5'],
      ['snapRetainCount below 3', { snapRetainCount: 2 }, 'snapRetainCount must be an integer >= 3, got 2'],
      ['a negative maxClientConnections', { maxClientConnections: -1 }, 'maxClientConnections must be an integer >= 0, got -1'],
      ['a fractional purge interval', { purgeInterval: Duration.minutes(90) }, 'purgeInterval (in hours) must be an integer >= 0, got 1.5'],
      ['a bad four-letter word', { fourLetterWords: ['stats'] }, "fourLetterWords must be four lower-case letters (or '*'), got 'stats'"],
      ['extraConfig overriding a typed setting', { extraConfig: { dataDir: '/x' } }, "extraConfig key 'dataDir' is not allowed"],
      ['an unpinned image', { image: 'zookeeper:latest' }, "container 'zookeeper' image 'zookeeper:latest' uses 'latest'"],
      ['a too long name', { name: 'z'.repeat(53) }, "ZooKeeperEnsemble 'streaming/zk': name '" + 'z'.repeat(53) + "' is 53 characters; a StatefulSet name may have at most 52"],
      ['clients without a NetworkPolicy', { networkPolicy: false, allowClientsFrom: [] }, "ZooKeeperEnsemble 'streaming/zk': allowClientsFrom needs networkPolicy"],
      // JavaScript callers: wrong types are errors that name the prop, not TypeErrors
      ['storage as a plain object', { storage: { size: '10Gi' } as any },
        "ZooKeeperEnsemble 'streaming/zk': storage must be Storage.persistent({ size: Size.gibibytes(10) }) or Storage.ephemeral(), got a plain object {\"size\":\"10Gi\"}"],
      ['a storage size as a string', { storage: Storage.persistent({ size: '10Gi' as any }) },
        "ZooKeeperEnsemble 'streaming/zk': storage size must be a Size such as Size.gibibytes(10), got the string '10Gi'"],
      ['a transaction-log storage size as a string', { transactionLogStorage: Storage.persistent({ size: '5Gi' as any }) },
        "ZooKeeperEnsemble 'streaming/zk': transactionLogStorage size must be a Size such as Size.gibibytes(10), got the string '5Gi'"],
      ['transactionLogStorage as a plain object', { transactionLogStorage: { size: 5 } as any },
        "ZooKeeperEnsemble 'streaming/zk': transactionLogStorage must be Storage.persistent({ size: Size.gibibytes(5) }) or Storage.ephemeral(), got a plain object"],
      ['a heap as a string', { heap: '2Gi' as any }, "ZooKeeperEnsemble 'streaming/zk': heap must be a Size such as Size.gibibytes(1), got the string '2Gi'"],
      ['a tick time in milliseconds as a number', { tickTime: 2000 as any }, "ZooKeeperEnsemble 'streaming/zk': tickTime must be a Duration such as Duration.millis(2000), got 2000"],
      ['a purge interval as a string', { purgeInterval: '24h' as any }, "ZooKeeperEnsemble 'streaming/zk': purgeInterval must be a Duration in whole hours such as Duration.hours(24), got the string '24h'"],
      ['resources as a plain object', { resources: { cpuMillis: 250, memory: '1Gi' } as any },
        "ZooKeeperEnsemble 'streaming/zk': resources must be a Resources such as Resources.medium() or Resources.of({ cpuMillis, memory }), got a plain object"],
      ['a memory size as a string', { resources: Resources.of({ cpuMillis: 250, memory: '1Gi' as any }) },
        "ZooKeeperEnsemble 'streaming/zk': resources memory must be a Size such as Size.gibibytes(1), got the string '1Gi'"],
      ['a grace period in seconds', { terminationGracePeriod: 60 as any }, "ZooKeeperEnsemble 'streaming/zk': terminationGracePeriod must be a Duration such as Duration.seconds(60), got 60"],
      ['a multi-line extraConfig value', { extraConfig: { 'snapCount': '1\nserver.9=evil:1:2' } }, "extraConfig value of 'snapCount' must be a single-line string"],
    ];
    test.each(cases)('%s', (_name, props, message) => {
      expect(() => new ZooKeeperEnsemble(chart(), 'zk', props)).toThrow(message);
    });
  });
});
