import { Chart, Duration, Size, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import * as kplus from 'cdk8s-plus-27';
import {
  AntiAffinity, Budgets, ClaimRetention, ImagePullPolicy, WorkloadIdentity, PodManagementPolicy, PortRole, Probe, Resources,
  StatefulWorkload, StatefulWorkloadProps, Storage, StorageClass, UnhealthyPodEvictionPolicy, UpdateStrategy,
} from '../../src';
import { only, synthValid, validationErrors } from '../support/manifest';

const IMAGE = 'example/db:1.2.3';

function chart(id = 'test', namespace = 'data'): Chart {
  return new Chart(Testing.app(), id, { namespace });
}

function baseProps(overrides: Partial<StatefulWorkloadProps> = {}): StatefulWorkloadProps {
  return {
    appName: 'db',
    volumes: [{ name: 'data', storage: Storage.persistent({ size: Size.gibibytes(5) }) }],
    containers: [{
      name: 'db',
      image: IMAGE,
      ports: [
        { name: 'client', port: 5000 },
        { name: 'peer', port: 5001, role: PortRole.PEER },
        { name: 'metrics', port: 9100, role: PortRole.METRICS },
      ],
      mounts: [{ volume: 'data', path: '/var/lib/db' }],
      readinessProbe: Probe.tcp('client'),
      livenessProbe: Probe.tcp('client', { period: Duration.seconds(30), failureThreshold: 6 }),
    }],
    ...overrides,
  };
}

describe('StatefulWorkload', () => {
  test('renders headless Service, StatefulSet, PDB, ServiceAccount, NetworkPolicy and client Service that pass every check', () => {
    // GIVEN
    const c = chart();
    new StatefulWorkload(c, 'db', baseProps());
    // WHEN
    const objects = synthValid(c);
    // THEN
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'NetworkPolicy/test-db', 'PodDisruptionBudget/test-db', 'Service/test-db', 'Service/test-db-headless',
      'ServiceAccount/test-db', 'StatefulSet/test-db',
    ]);
    expect(objects).toMatchSnapshot();
  });

  test('the headless Service publishes not-ready pods on every named port', () => {
    const c = chart();
    new StatefulWorkload(c, 'db', baseProps());
    const svc = only(synthValid(c), 'Service', 'test-db-headless');
    expect(svc.spec.clusterIP).toBe('None');
    expect(svc.spec.publishNotReadyAddresses).toBe(true);
    expect(svc.spec.ports.map((p: any) => [p.name, p.port, p.targetPort])).toEqual([
      ['client', 5000, 'client'], ['peer', 5001, 'peer'], ['metrics', 9100, 'metrics'],
    ]);
  });

  test('the StatefulSet uses the headless Service, a stable selector and production defaults', () => {
    const c = chart();
    const w = new StatefulWorkload(c, 'db', baseProps({ component: 'server' }));
    const sts = only(synthValid(c), 'StatefulSet');
    expect(sts.spec.serviceName).toBe('test-db-headless');
    expect(sts.spec.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'db', 'app.kubernetes.io/instance': 'test-db', 'app.kubernetes.io/component': 'server',
    });
    expect(w.selectorLabels).toEqual(sts.spec.selector.matchLabels);
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.podManagementPolicy).toBe('OrderedReady');
    expect(sts.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
    const pod = sts.spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.enableServiceLinks).toBe(false);
    expect(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
    expect(pod.containers[0].resources).toEqual({ requests: { cpu: '250m', memory: '1024Mi' }, limits: { memory: '1024Mi' } });
    expect(pod.containers[0].imagePullPolicy).toBe('IfNotPresent');
    expect(sts.spec.volumeClaimTemplates[0].spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } } });
  });

  test('every object carries the standard labels', () => {
    const c = chart();
    new StatefulWorkload(c, 'db', baseProps({ partOf: 'shop', version: '1.2.3' }));
    for (const o of synthValid(c)) {
      expect(o.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'db', 'app.kubernetes.io/instance': 'test-db', 'app.kubernetes.io/part-of': 'shop',
        'app.kubernetes.io/managed-by': 'cdk8s-stateful', 'app.kubernetes.io/version': '1.2.3',
      });
    }
  });

  test('podFqdn names the pod under the headless Service, namespace and cluster domain', () => {
    const w = new StatefulWorkload(chart(), 'db', baseProps({ clusterDomain: 'k8s.example' }));
    expect(w.podName(2)).toBe('test-db-2');
    expect(w.podFqdn(0)).toBe('test-db-0.test-db-headless.data.svc.k8s.example');
    expect(() => w.podFqdn(3)).toThrow("StatefulWorkload 'test/db': ordinal must be an integer from 0 to 2, got 3");
  });

  test('without a chart namespace, FQDNs use the default namespace', () => {
    const w = new StatefulWorkload(new Chart(Testing.app(), 'x'), 'db', baseProps());
    expect(w.podFqdn(1)).toBe('x-db-1.x-db-headless.default.svc.cluster.local');
  });

  test('a client Service can target a single ordinal (a primary)', () => {
    const c = chart();
    const w = new StatefulWorkload(c, 'db', baseProps());
    w.addClientService('primary', { ordinal: 0 });
    const svc = only(synthValid(c), 'Service', 'test-db-primary');
    expect(svc.spec.selector['statefulset.kubernetes.io/pod-name']).toBe('test-db-0');
    expect(svc.spec.ports.map((p: any) => p.name)).toEqual(['client']);
  });

  test('the PDB defaults to one disruption and takes quorum-derived values', () => {
    const c = chart();
    new StatefulWorkload(c, 'a', baseProps());
    new StatefulWorkload(c, 'b', baseProps({ replicas: 5, disruptionBudget: { maxUnavailable: 2, unhealthyPodEvictionPolicy: UnhealthyPodEvictionPolicy.ALWAYS_ALLOW } }));
    new StatefulWorkload(c, 'c', baseProps({ disruptionBudget: { minAvailable: 2 } }));
    const objects = synthValid(c);
    expect(only(objects, 'PodDisruptionBudget', 'test-a').spec.maxUnavailable).toBe(1);
    expect(only(objects, 'PodDisruptionBudget', 'test-b').spec).toMatchObject({ maxUnavailable: 2, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
    expect(only(objects, 'PodDisruptionBudget', 'test-c').spec.minAvailable).toBe(2);
  });

  test('a quorum budget keeps a majority: 1 -> 1, 3 -> 1, 5 -> 2, 7 -> 3', () => {
    expect([1, 3, 5, 7].map((n) => Budgets.quorum(n).maxUnavailable)).toEqual([1, 1, 2, 3]);
  });

  test('the NetworkPolicy admits peers on peer ports, clients on client ports and any namespace on metrics', () => {
    // GIVEN clients named as cdk8s-plus peers, at construction and later
    const c = chart();
    const app = kplus.Pods.select(c, 'app', { labels: { role: 'app' } });
    const w = new StatefulWorkload(c, 'db', baseProps({ allowClientsFrom: [app] }));
    w.allowClients(kplus.Namespaces.select(c, 'team-x', { labels: { team: 'x' } }));
    // WHEN
    const np = only(synthValid(c), 'NetworkPolicy');
    // THEN
    expect(np.spec.policyTypes).toEqual(['Ingress']);
    expect(np.spec.ingress).toEqual([
      { from: [{ podSelector: { matchLabels: w.selectorLabels } }], ports: [{ port: 'peer', protocol: 'TCP' }] },
      { from: [{ namespaceSelector: {} }], ports: [{ port: 'metrics', protocol: 'TCP' }] },
      { from: [{ podSelector: { matchLabels: { role: 'app' } } }], ports: [{ port: 'client', protocol: 'TCP' }] },
      { from: [{ podSelector: {}, namespaceSelector: { matchLabels: { team: 'x' } } }], ports: [{ port: 'client', protocol: 'TCP' }] },
    ]);
  });

  test('a kplus Deployment in another namespace is admitted by its pod labels in its own namespace only', () => {
    // GIVEN the workload in namespace 'data' and an app Deployment in namespace 'shop'
    const app = Testing.app();
    const data = new Chart(app, 'data', { namespace: 'data' });
    const shop = new Chart(app, 'shop', { namespace: 'shop' });
    const w = new StatefulWorkload(data, 'db', baseProps());
    const deployment = new kplus.Deployment(shop, 'web', { containers: [{ image: 'example/web:1.0.0' }] });
    // WHEN
    w.allowClients(deployment);
    // THEN the rule selects the Deployment's pods by its selector label, in namespace 'shop'
    const selector = only(Testing.synth(shop), 'Deployment').spec.selector.matchLabels;
    const rules = only(synthValid(data), 'NetworkPolicy').spec.ingress;
    expect(rules[rules.length - 1]).toEqual({
      from: [{ podSelector: { matchLabels: selector }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } } }],
      ports: [{ port: 'client', protocol: 'TCP' }],
    });
  });

  test('kplus.Pods.all admits every pod of the namespace, and an IP block is rendered as one', () => {
    const c = chart();
    const w = new StatefulWorkload(c, 'db', baseProps({ allowClientsFrom: [] }));
    w.allowClients(kplus.Pods.all(c, 'everyone'));
    w.allowClients(kplus.NetworkPolicyIpBlock.ipv4(c, 'office', '203.0.113.0/24'));
    const rules = only(synthValid(c), 'NetworkPolicy').spec.ingress;
    expect(rules.slice(2)).toEqual([
      { from: [{ podSelector: {} }], ports: [{ port: 'client', protocol: 'TCP' }] },
      { from: [{ ipBlock: { cidr: '203.0.113.0/24' } }], ports: [{ port: 'client', protocol: 'TCP' }] },
    ]);
  });

  test('allowClientsFrom: [] admits no client at all (members and metrics only)', () => {
    const c = chart();
    new StatefulWorkload(c, 'db', baseProps({ allowClientsFrom: [] }));
    const rules = only(synthValid(c), 'NetworkPolicy').spec.ingress;
    expect(rules.map((r: any) => r.ports[0].port)).toEqual(['peer', 'metrics']);
  });

  test('allowClients with the network policy off is an error instead of a silent no-op', () => {
    const c = chart();
    const w = new StatefulWorkload(c, 'db', baseProps({ networkPolicy: false }));
    expect(() => w.allowClients(kplus.Pods.all(c, 'everyone')))
      .toThrow("StatefulWorkload 'test/db': networkPolicy is off, so allowClients('test/everyone') would do nothing");
    expect(() => new StatefulWorkload(chart(), 'db', baseProps({ networkPolicy: false, allowClientsFrom: [] })))
      .toThrow('allowClientsFrom needs networkPolicy');
  });

  test('a cdk8s-plus Deployment can open its egress to the workload through its own connections API', () => {
    // GIVEN
    const c = chart();
    const w = new StatefulWorkload(c, 'db', baseProps());
    const deployment = new kplus.Deployment(c, 'web', { containers: [{ image: 'example/web:1.0.0' }] });
    // WHEN the app opens its egress to the workload's pods (kplus's own API, with our pods as the peer)
    deployment.connections.allowTo(w.pods, { isolation: kplus.PodConnectionsIsolation.POD, ports: [kplus.NetworkPolicyPort.tcp(5000)] });
    // THEN kplus renders an egress policy that selects exactly our pods
    const egress = Testing.synth(c).find((o: any) => o.kind === 'NetworkPolicy' && o.spec.policyTypes?.includes('Egress'));
    expect(egress.spec.egress[0].to[0].podSelector).toEqual({ matchLabels: w.selectorLabels });
  });

  test('config files land in one ConfigMap, mounted per directory, scripts executable, and their hash rolls the pods', () => {
    const c = chart();
    const files = [
      { path: '/conf/db.conf', content: 'a=1\n' },
      { path: '/scripts/start.sh', content: '#!/bin/bash\nset -euo pipefail\nexec db\n', executable: true },
    ];
    new StatefulWorkload(c, 'db', baseProps({ configFiles: files }));
    const objects = synthValid(c);
    expect(only(objects, 'ConfigMap').data).toEqual({ 'db.conf': 'a=1\n', 'start.sh': files[1].content });
    const pod = only(objects, 'StatefulSet').spec.template;
    expect(pod.spec.volumes.filter((v: any) => v.configMap)).toEqual([
      { name: 'config-0', configMap: { name: 'test-db-config', defaultMode: 0o444, items: [{ key: 'db.conf', path: 'db.conf' }] } },
      { name: 'config-1', configMap: { name: 'test-db-config', defaultMode: 0o444, items: [{ key: 'start.sh', path: 'start.sh', mode: 0o555 }] } },
    ]);
    expect(pod.spec.containers[0].volumeMounts).toEqual(expect.arrayContaining([
      { name: 'config-0', mountPath: '/conf', readOnly: true }, { name: 'config-1', mountPath: '/scripts', readOnly: true },
    ]));
    const hash = pod.metadata.annotations['cdk8s-stateful.io/config-hash'];
    const c2 = chart();
    new StatefulWorkload(c2, 'db', baseProps({ configFiles: [{ ...files[0], content: 'a=2\n' }, files[1]] }));
    expect(only(synthValid(c2), 'StatefulSet').spec.template.metadata.annotations['cdk8s-stateful.io/config-hash']).not.toBe(hash);
  });

  test('containers get the restricted security context; the pod a fixed non-root uid and fsGroup', () => {
    const c = chart();
    new StatefulWorkload(c, 'db', baseProps({ runAs: { uid: 999, gid: 998 } }));
    const pod = only(synthValid(c), 'StatefulSet').spec.template.spec;
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true, runAsUser: 999, runAsGroup: 998, fsGroup: 998, fsGroupChangePolicy: 'OnRootMismatch', seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.containers[0].securityContext).toEqual({
      runAsNonRoot: true, allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  test('settings pass through: partition, OnDelete, Parallel, retention, grace period, hard anti-affinity, zone spread', () => {
    const c = chart();
    new StatefulWorkload(c, 'a', baseProps({
      updateStrategy: UpdateStrategy.rollingUpdate(2), podManagementPolicy: PodManagementPolicy.PARALLEL,
      claimsWhenDeleted: ClaimRetention.DELETE, claimsWhenScaled: ClaimRetention.DELETE,
      terminationGracePeriod: Duration.minutes(5), minReady: Duration.seconds(10),
      placement: { antiAffinity: AntiAffinity.hard(), zoneSpread: true, nodeSelector: { disk: 'ssd' }, tolerations: [{ key: 'db', operator: 'Exists', effect: 'NoSchedule' }] },
    }));
    new StatefulWorkload(c, 'b', baseProps({ updateStrategy: UpdateStrategy.onDelete() }));
    const objects = synthValid(c);
    const a = only(objects, 'StatefulSet', 'test-a').spec;
    expect(a.updateStrategy.rollingUpdate.partition).toBe(2);
    expect(a.podManagementPolicy).toBe('Parallel');
    expect(a.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Delete', whenScaled: 'Delete' });
    expect(a.minReadySeconds).toBe(10);
    expect(a.template.spec.terminationGracePeriodSeconds).toBe(300);
    expect(a.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).toBe('kubernetes.io/hostname');
    expect(a.template.spec.topologySpreadConstraints[0]).toMatchObject({ topologyKey: 'topology.kubernetes.io/zone', maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway' });
    expect(a.template.spec.nodeSelector).toEqual({ disk: 'ssd' });
    expect(only(objects, 'StatefulSet', 'test-b').spec.updateStrategy).toEqual({ type: 'OnDelete' });
  });

  test('several claim templates, a StorageClass construct and ephemeral storage', () => {
    const c = chart();
    const sc = StorageClass.cephRbd(c, 'ceph', { name: 'ceph-rbd' });
    new StatefulWorkload(c, 'db', baseProps({
      volumes: [
        { name: 'data', storage: Storage.persistent({ size: Size.gibibytes(10), storageClass: sc, annotations: { backup: 'yes' } }) },
        { name: 'log', storage: Storage.persistent({ size: Size.gibibytes(2), storageClassName: 'fast' }) },
        { name: 'tmp', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(100), memory: true }) },
      ],
      containers: [{ ...baseProps().containers[0], mounts: [{ volume: 'data', path: '/data' }, { volume: 'log', path: '/log' }, { volume: 'tmp', path: '/tmp' }] }],
    }));
    const objects = synthValid(c);
    const sts = only(objects, 'StatefulSet').spec;
    expect(sts.volumeClaimTemplates.map((t: any) => [t.metadata.name, t.spec.storageClassName, t.spec.resources.requests.storage])).toEqual([
      ['data', 'ceph-rbd', '10Gi'], ['log', 'fast', '2Gi'],
    ]);
    expect(sts.volumeClaimTemplates[0].metadata.annotations).toEqual({ backup: 'yes' });
    expect(sts.template.spec.volumes).toContainEqual({ name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '100Mi' } });
    expect(only(objects, 'StorageClass')).toMatchObject({
      provisioner: 'rook-ceph.rbd.csi.ceph.com', reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true,
    });
  });

  test('StorageClass presets name their CSI drivers', () => {
    const c = chart();
    const provisioners = [
      StorageClass.awsGp3(c, 'aws'), StorageClass.gcePdSsd(c, 'gce'), StorageClass.azureManagedDisk(c, 'az'), StorageClass.alibabaCloudSsd(c, 'ali'),
    ].map((s) => [s.name, s.apiObject.toJson().provisioner, s.apiObject.toJson().parameters]);
    expect(provisioners.slice(3)).toEqual([['alicloud-disk-ssd', 'diskplugin.csi.alibabacloud.com', { type: 'cloud_essd' }]]);
    expect(provisioners.map((p) => p[1])).toEqual(['ebs.csi.aws.com', 'pd.csi.storage.gke.io', 'disk.csi.azure.com', 'diskplugin.csi.alibabacloud.com']);
    expect(provisioners[0][2]).toEqual({ type: 'gp3', encrypted: 'true' });
    synthValid(c);
  });

  test('resources presets and explicit values render requests and limits', () => {
    const c = chart();
    new StatefulWorkload(c, 'db', baseProps({ resources: Resources.of({ cpuMillis: 500, cpuLimitMillis: 2000, memory: Size.gibibytes(2), memoryLimit: Size.gibibytes(3) }) }));
    expect(only(synthValid(c), 'StatefulSet').spec.template.spec.containers[0].resources).toEqual({
      requests: { cpu: '500m', memory: '2048Mi' }, limits: { cpu: '2000m', memory: '3072Mi' },
    });
  });

  describe('bad input fails at construction with the construct, the property and what is allowed', () => {
    const cases: [string, Partial<StatefulWorkloadProps>, string][] = [
      ['replicas 0', { replicas: 0 }, "StatefulWorkload 'test/db': replicas must be an integer >= 1, got 0"],
      ['replicas 2.5', { replicas: 2.5 }, "StatefulWorkload 'test/db': replicas must be an integer >= 1, got 2.5"],
      ['maxUnavailable 0', { disruptionBudget: { maxUnavailable: 0 } }, 'disruptionBudget.maxUnavailable must be an integer >= 1, got 0: a budget of 0 forbids every voluntary disruption'],
      ['minAvailable = replicas', { disruptionBudget: { minAvailable: 3 } }, 'disruptionBudget.minAvailable must be an integer from 0 to replicas - 1 (2)'],
      ['zero storage', { volumes: [{ name: 'data', storage: Storage.persistent({ size: Size.gibibytes(0) }) }] }, "volume 'data' storage must have a size greater than 0, got 0Gi"],
      ['negative partition', { updateStrategy: UpdateStrategy.rollingUpdate(-1) }, 'updateStrategy partition must be an integer from 0 to 3, got -1'],
      ['duplicate config names', { configFiles: [{ path: '/a/x.conf', content: '' }, { path: '/b/x.conf', content: '' }] }, "configFiles has two files named 'x.conf'"],
      ['unmounted claim', { volumes: [{ name: 'data', storage: Storage.persistent({ size: Size.gibibytes(1) }) }, { name: 'extra', storage: Storage.persistent({ size: Size.gibibytes(1) }) }] }, "volumes declare claim template 'extra' but no container mounts it"],
      ['latest image', { containers: [{ name: 'db', image: 'example/db:latest', mounts: [{ volume: 'data', path: '/d' }] }] }, "container 'db' image 'example/db:latest' uses 'latest'"],
      ['untagged image', { containers: [{ name: 'db', image: 'example/db', mounts: [{ volume: 'data', path: '/d' }] }] }, "container 'db' image 'example/db' has no tag"],
    ];
    test.each(cases)('%s', (_name, overrides, message) => {
      expect(() => new StatefulWorkload(chart(), 'db', baseProps(overrides))).toThrow(message);
    });

    test('invalid and duplicate port names', () => {
      const container = baseProps().containers[0];
      expect(() => new StatefulWorkload(chart(), 'db', baseProps({ containers: [{ ...container, ports: [{ name: 'replication-port', port: 1 }] }] })))
        .toThrow("container 'db' ports port name 'replication-port' is invalid: use at most 15 lower-case letters");
      expect(() => new StatefulWorkload(chart(), 'db', baseProps({ containers: [{ ...container, ports: [{ name: 'client', port: 1 }, { name: 'client', port: 2 }] }] })))
        .toThrow("ports has two ports named 'client'");
    });

    test('a probe on an undeclared port', () => {
      const container = { ...baseProps().containers[0], readinessProbe: Probe.tcp('http') };
      expect(() => new StatefulWorkload(chart(), 'db', baseProps({ containers: [container] })))
        .toThrow("container 'db' probes target port 'http', which the container does not declare");
    });

    test('a mount of a volume that does not exist', () => {
      const container = { ...baseProps().containers[0], mounts: [{ volume: 'data', path: '/d' }, { volume: 'nope', path: '/n' }] };
      expect(() => new StatefulWorkload(chart(), 'db', baseProps({ containers: [container] })))
        .toThrow("container 'db' mounts name volume 'nope', which does not exist; declared volumes: data");
    });

    test('a 53-character StatefulSet name says which ids to shorten', () => {
      const c = new Chart(Testing.app(), 'a-chart-with-a-rather-long-name');
      expect(() => new StatefulWorkload(c, 'and-an-even-longer-workload-id', baseProps()))
        .toThrow("StatefulWorkload 'a-chart-with-a-rather-long-name/and-an-even-longer-workload-id': name 'a-chart-with-a-rather-long-name-and-an-even-longer-workload-id' is 62 characters; a StatefulSet name may have at most 52 (longer names overflow the controller-revision-hash label and no pod is ever created): shorten the ids 'a-chart-with-a-rather-long-name', 'and-an-even-longer-workload-id' or set a shorter name");
      expect(() => new StatefulWorkload(chart(), 'db', baseProps({ name: 'x'.repeat(53) }))).toThrow('is 53 characters; a StatefulSet name may have at most 52');
      expect(() => new StatefulWorkload(chart(), 'db', baseProps({ name: 'x'.repeat(52) }))).not.toThrow();
    });
  });

  describe('the shared knobs of StatefulSystemProps', () => {
    test('podLabels and podAnnotations reach the pod template but never the selector', () => {
      const c = chart();
      const w = new StatefulWorkload(c, 'db', baseProps({ podLabels: { 'cost-center': 'data' }, podAnnotations: { 'example.com/owner': 'dba' } }));
      const sts = only(synthValid(c), 'StatefulSet').spec;
      expect(sts.template.metadata.labels).toMatchObject({ 'cost-center': 'data', ...w.selectorLabels });
      expect(sts.selector.matchLabels).toEqual(w.selectorLabels);
      expect(sts.template.metadata.annotations['example.com/owner']).toBe('dba');
    });

    test('podLabels may not take over the standard labels that select the pods', () => {
      expect(() => new StatefulWorkload(chart(), 'db', baseProps({ podLabels: { 'app.kubernetes.io/instance': 'other' } })))
        .toThrow("StatefulWorkload 'test/db': podLabels must not set 'app.kubernetes.io/instance'");
      expect(() => new StatefulWorkload(chart(), 'db', baseProps({ podLabels: { team: 'a b' } })))
        .toThrow("podLabels 'team' must be a label value");
    });

    test('a ServiceAccount of the user replaces ours; the token stays unmounted', () => {
      const c = chart();
      const sa = kplus.ServiceAccount.fromServiceAccountName(c, 'sa', 'db-cloud-identity');
      const w = new StatefulWorkload(c, 'db', baseProps({ serviceAccount: sa }));
      expect(() => synthValid(c)).toThrow("serviceAccountName 'db-cloud-identity' is not in the manifest");
      const objects = synthValid(c, { externalServiceAccounts: ['db-cloud-identity'] });
      expect(objects.filter((o: any) => o.kind === 'ServiceAccount')).toEqual([]);
      expect(w.serviceAccount).toBeUndefined();
      const pod = only(objects, 'StatefulSet').spec.template.spec;
      expect([pod.serviceAccountName, pod.automountServiceAccountToken]).toEqual(['db-cloud-identity', false]);
    });

    test('image and imagePullPolicy are the defaults of every container', () => {
      const c = chart();
      const container = { ...baseProps().containers[0], image: undefined };
      new StatefulWorkload(c, 'db', baseProps({ image: 'example/db:2.0.0', imagePullPolicy: ImagePullPolicy.ALWAYS, containers: [container] }));
      const main = only(synthValid(c), 'StatefulSet').spec.template.spec.containers[0];
      expect([main.image, main.imagePullPolicy]).toEqual(['example/db:2.0.0', 'Always']);
      expect(() => new StatefulWorkload(chart(), 'db', baseProps({ containers: [container] })))
        .toThrow("container 'db' image is required: set the container's image or the workload's image");
    });

    test('storage is the default of volumes that name none', () => {
      const c = chart();
      new StatefulWorkload(c, 'db', baseProps({ storage: Storage.persistent({ size: Size.gibibytes(7) }), volumes: [{ name: 'data' }] }));
      expect(only(synthValid(c), 'StatefulSet').spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('7Gi');
      expect(() => new StatefulWorkload(chart(), 'db', baseProps({ volumes: [{ name: 'data' }] })))
        .toThrow("volume 'data' storage is required (or set the workload's storage)");
    });

    test('monitoring scrapes the METRICS port with a ServiceMonitor in the workload\'s namespace', () => {
      const c = chart();
      new StatefulWorkload(c, 'db', baseProps({ monitoring: { labels: { release: 'prom' }, interval: Duration.seconds(15) } }));
      const sm = only(synthValid(c), 'ServiceMonitor');
      expect(sm.metadata.labels.release).toBe('prom');
      expect(sm.spec.namespaceSelector).toEqual({ matchNames: ['data'] });
      expect(sm.spec.endpoints[0]).toMatchObject({ port: 'metrics', interval: '15s' });
      const noMetrics = { ...baseProps().containers[0], ports: [{ name: 'client', port: 5000 }] };
      expect(() => new StatefulWorkload(chart(), 'db', baseProps({ monitoring: {}, containers: [noMetrics] })))
        .toThrow("StatefulWorkload 'test/db': monitoring needs a METRICS port to scrape; ports: client");
    });
  });

  describe('names are unique and come from the workload or the identity it is given', () => {
    test('two workloads with the same name in one namespace are an error that names both', () => {
      const c = chart();
      new StatefulWorkload(c, 'a', baseProps({ name: 'db' }));
      expect(() => new StatefulWorkload(c, 'b', baseProps({ name: 'db' })))
        .toThrow("StatefulWorkload 'test/b': name 'db' gives the object name 'db', which 'test/a' already uses in namespace 'data'");
    });

    test('a workload named like another\'s headless Service is an error too; other namespaces are fine', () => {
      const app = Testing.app();
      const c = new Chart(app, 'one', { namespace: 'one' });
      new StatefulWorkload(c, 'a', baseProps({ name: 'db' }));
      expect(() => new StatefulWorkload(c, 'b', baseProps({ name: 'db-headless' }))).toThrow("gives the object name 'db-headless', which 'one/a' already uses");
      new StatefulWorkload(new Chart(app, 'two', { namespace: 'two' }), 'a', baseProps({ name: 'db' }));
    });

    test('objects of the app that clash with the workload\'s are found at synth, naming both constructs', () => {
      const c = chart();
      new StatefulWorkload(c, 'db', baseProps());
      new kplus.ServiceAccount(c, 'mine', { metadata: { name: 'test-db' } });
      expect(validationErrors(c).join('\n')).toMatch(/'test\/mine\/Resource' and 'test\/db\/ServiceAccount' are both ServiceAccount 'test-db' in namespace 'data'|'test\/db\/ServiceAccount' and 'test\/mine\/Resource' are both ServiceAccount 'test-db'/);
      expect(() => synthValid(c)).toThrow('fails validation');
    });

    test('an identity made for a system names the objects after the system and errors after it', () => {
      // GIVEN two systems in one chart, each building its unit from its own identity
      const c = chart();
      const owners = ['orders', 'billing'].map((id) => new Construct(c, id));
      for (const o of owners) {
        new StatefulWorkload(o, 'Unit', baseProps({ identity: WorkloadIdentity.of(o, { kind: 'OrdersDb' }) }));
      }
      // THEN each is named after its own system, so nothing clashes
      expect(synthValid(c).filter((o: any) => o.kind === 'StatefulSet').map((o: any) => o.metadata.name)).toEqual(['test-orders', 'test-billing']);
      // and errors name the system's kind and path
      const o = new Construct(c, 'x');
      expect(() => new StatefulWorkload(o, 'Unit', baseProps({ identity: WorkloadIdentity.of(o, { kind: 'OrdersDb' }), replicas: 0 })))
        .toThrow("OrdersDb 'test/x': replicas must be an integer >= 1, got 0");
      expect(() => new StatefulWorkload(o, 'Unit2', baseProps({ identity: WorkloadIdentity.of(o, { kind: 'OrdersDb' }), name: 'y' })))
        .toThrow("OrdersDb 'test/x': name is set by the identity");
    });
  });

  describe('values of the wrong type from JavaScript callers fail with the property, not a TypeError', () => {
    const cases: [string, any, string][] = [
      ['storage as a plain object', { storage: { size: '10Gi' }, volumes: [{ name: 'data' }] }, "StatefulWorkload 'test/db': storage must be Storage.persistent({ size: Size.gibibytes(10) }) or Storage.ephemeral(), got a plain object {\"size\":\"10Gi\"}"],
      ['a string size', { volumes: [{ name: 'data', storage: Storage.persistent({ size: '10Gi' as any }) }] }, "volume 'data' storage size must be a Size such as Size.gibibytes(10), got the string '10Gi'"],
      ['a string memory', { resources: Resources.of({ cpuMillis: 100, memory: '1Gi' as any }) }, "resources memory must be a Size such as Size.gibibytes(1), got the string '1Gi'"],
      ['a number grace period', { terminationGracePeriod: 30 }, 'terminationGracePeriod must be a Duration such as Duration.seconds(60), got 30'],
      ['a string update strategy', { updateStrategy: 'OnDelete' }, "updateStrategy must be UpdateStrategy.rollingUpdate(partition) or UpdateStrategy.onDelete(), got the string 'OnDelete'"],
      ['a plain env value', { containers: [{ ...baseProps().containers[0], env: { A: 'b' } }] }, "container 'db' env 'A' must be a kplus.EnvValue"],
    ];
    test.each(cases)('%s', (_name, overrides, message) => {
      expect(() => new StatefulWorkload(chart(), 'db', baseProps(overrides))).toThrow(message);
    });
  });
});
