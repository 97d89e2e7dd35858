import { Chart, Duration, Size, Testing } from 'cdk8s';
import { AntiAffinity, Resources, Storage, ZooKeeperEnsemble, ZooKeeperEnsembleProps } from '../../src';
import { only, synthValid } from '../support/manifest';

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
      prometheusMetrics: true,
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

  test('allowClients admits a peer to the client port only', () => {
    const c = chart();
    const zk = new ZooKeeperEnsemble(c, 'zk', { allowClientsFrom: [] });
    zk.allowClients({ podSelector: { matchLabels: { app: 'kafka' } } });
    const np = only(synthValid(c), 'NetworkPolicy').spec.ingress;
    expect(np[np.length - 1]).toEqual({ from: [{ podSelector: { matchLabels: { app: 'kafka' } } }], ports: [{ port: 'client', protocol: 'TCP' }] });
  });

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
    ];
    test.each(cases)('%s', (_name, props, message) => {
      expect(() => new ZooKeeperEnsemble(chart(), 'zk', props)).toThrow(message);
    });
  });
});
