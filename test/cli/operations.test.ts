import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Chart, Size, Testing } from 'cdk8s';
import {
  KafkaCluster, MongoReplicaSet, PostgresReplicaSet, Probe, RedisCluster, StatefulWorkload, StatefulWorkloadProps, Storage, ZooKeeperEnsemble,
} from '../../src';
import { EXIT } from '../../src/cli/errors';
import { applyServerSide } from '../controlplane/apply';
import { bin, ControlPlane, controlPlaneAvailable, HOLD_READY, KUBERNETES_VERSION, REPO, sleep } from '../controlplane/harness';
import { createDefaultStorageClass, createVolumesFor, isReady, LOCAL_CLASS, podsOf, waitStatefulSetReady } from '../controlplane/volumes';
import { ClusterState, StandIns as MongoStandIns } from '../mongodb/standins';
import { cli } from './run';
import { kafkaDescribe, redisCluster, StandIns } from './standins';

// `cdk8s-stateful scale`, `expand-storage` and `status` against a real
// kube-apiserver, kube-controller-manager and kwok. Where a system step
// runs inside a pod, `kubectl exec` reaches a local process through kwok's
// Exec, next to the recording stand-ins of ./standins.ts and
// ../mongodb/standins.ts; the steps' scripts run against real servers in
// test/e2e/cli-gates.test.ts.

type Json = any;
const run = controlPlaneAvailable();
const EXPANDABLE = 'cli-expandable';

(run ? describe : describe.skip)(`cdk8s-stateful scale, expand-storage and status on kube-apiserver ${KUBERNETES_VERSION}`, () => {
  let cp: ControlPlane;
  let home: string | undefined;
  let standIns: StandIns;
  const flags = (ns: string) => ['--kubectl', bin('kubectl'), '--kubeconfig', cp.kubeconfig, '-n', ns];
  const sts = (ns: string, name: string) => cp.get(['statefulset', name, '-n', ns]);

  beforeAll(async () => {
    cp = await ControlPlane.start({ nodes: 6, exec: true });
    // kubectl's discovery cache ($HOME/.kube/cache) goes with the control plane
    home = process.env.HOME;
    process.env.HOME = cp.dir;
    process.env.CDK8S_STATEFUL_POLL_MS = '200';
    createDefaultStorageClass(cp);
    cp.must(['apply', '--server-side', '--field-manager=controlplane-test', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: EXPANDABLE },
        provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'Immediate', reclaimPolicy: 'Retain', allowVolumeExpansion: true,
      }),
    });
    standIns = new StandIns();
  }, 180_000);

  afterAll(async () => {
    if (home === undefined) delete process.env.HOME; else process.env.HOME = home;
    standIns?.cleanup();
    await cp?.stop();
  }, 60_000);

  function synth(ns: string, build: (c: Chart) => void, kinds = ['StatefulSet', 'ConfigMap', 'Service', 'ServiceAccount']): Json[] {
    const chart = new Chart(Testing.app(), ns, { namespace: ns });
    build(chart);
    return Testing.synth(chart).filter((o) => kinds.includes(o.kind));
  }

  async function deploy(ns: string, objects: Json[], pvs = false): Promise<Json> {
    cp.createNamespaces([ns]);
    if (pvs) createVolumesFor(cp, objects);
    const r = applyServerSide(cp, objects);
    expect(r.rejections).toEqual([]);
    const s = objects.find((o) => o.kind === 'StatefulSet');
    return waitStatefulSetReady(cp, s);
  }

  const web = (ns: string, extra: Partial<StatefulWorkloadProps> = {}) => synth(ns, (c) => new StatefulWorkload(c, 'web', {
    name: 'web', appName: 'nginx', replicas: 3,
    containers: [{ name: 'nginx', image: 'nginxinc/nginx-unprivileged:1.27.3', ports: [{ name: 'web', port: 80, containerPort: 8080 }], readinessProbe: Probe.tcp('web') }],
    ...extra,
  }));

  describe('scale', () => {
    test('a workload without system steps: replicas patched, exactly the pods below the count, all Ready', async () => {
      const ns = 'scale-web';
      await deploy(ns, web(ns));
      for (const n of [5, 2]) {
        const r = await cli([...flags(ns), 'scale', 'web', String(n), '--timeout', '1m']);
        expect(r.err).toBe('');
        expect(r.code).toBe(EXIT.OK);
        const live = sts(ns, 'web');
        const pods = podsOf(cp, live);
        expect({ n, replicas: live.spec.replicas, pods: pods.map((p) => p.metadata.name), ready: pods.every(isReady) })
          .toEqual({ n, replicas: n, pods: Array.from({ length: n }, (_, i) => `web-${i}`), ready: true });
        expect(r.out).toContain(`statefulset/web has ${n} Ready replicas`);
      }
      const same = await cli([...flags(ns), 'scale', 'web', '2']);
      expect([same.code, same.out]).toEqual([EXIT.OK, 'statefulset/web already has 2 replicas: nothing to do']);
    }, 120_000);

    test('a new pod that never becomes Ready: the scale times out naming it', async () => {
      const ns = 'scale-held';
      await deploy(ns, web(ns, { replicas: 1 }));
      // the template now holds new pods not-Ready (a template change also rolls web-0, which the controller does first)
      const held = web(ns, { replicas: 1, podAnnotations: { [HOLD_READY]: 'true' } });
      applyServerSide(cp, held);
      await cp.waitFor('web-0 on the new template', () => podsOf(cp, sts(ns, 'web')).some((p) => p.metadata.annotations?.[HOLD_READY]), 30_000);
      cp.kubectl(['annotate', 'pod', 'web-0', '-n', ns, `${HOLD_READY}-`]);
      const r = await cli([...flags(ns), 'scale', 'web', '2', '--timeout', '5s']);
      expect(r.code).toBe(EXIT.TIMEOUT);
      expect(r.out).toMatch(/^ {2}1\/2 pods Ready; waiting for web-1$/m);
      expect(r.err).toMatch(/scaling statefulset\/web to 2 did not finish within 5s:\n {2}web-1: not Ready \(phase \w+/);
    }, 60_000);

    test('ZooKeeper: even counts are refused, and so is any count zoo.cfg does not list (a static ensemble)', async () => {
      const ns = 'scale-zk';
      await deploy(ns, synth(ns, (c) => new ZooKeeperEnsemble(c, 'zk', { name: 'zk', storage: Storage.ephemeral() })));
      const even = await cli([...flags(ns), 'scale', 'zk', '4']);
      expect(even.code).toBe(EXIT.REFUSED);
      expect(even.err).toContain('refusing to scale ZooKeeper statefulset/zk to 4: a quorum is a strict majority, so 4 members survive 1 failure(s), no more than 3 members would');
      const five = await cli([...flags(ns), 'scale', 'zk', '5']);
      expect(five.code).toBe(EXIT.REFUSED);
      expect(five.err).toContain('refusing to scale ZooKeeper statefulset/zk from 3 to 5: the ensemble is static.');
      expect(five.err).toContain('zoo.cfg (ConfigMap of the pods) lists 3 members (server.1 to server.3) and reconfigEnabled=false');
      expect(five.err).toContain('set replicas: 5 on the ZooKeeperEnsemble');
      expect(sts(ns, 'zk').spec.replicas).toBe(3);
    }, 60_000);

    test('Kafka: a scale-down that would strand partitions is refused with them and the reassignment; once moved, the brokers go', async () => {
      // GIVEN 5 KRaft brokers, the first 3 also controllers, whose kafka-topics.sh is the stand-in
      const ns = 'scale-kafka';
      const pods = Array.from({ length: 5 }, (_, i) => `kafka-${i}`);
      cp.createNamespaces([ns]);
      cp.execLocally(ns, pods, {
        workDir: standIns.dir,
        env: { ...standIns.env(), KAFKA_HOME: standIns.dir, KAFKA_HEAP_OPTS: '-Xms1g -Xmx1g', KAFKA_OPTS: '-javaagent:/opt/jmx.jar=9404:/etc/jmx.yaml' },
      });
      await deploy(ns, synth(ns, (c) => new KafkaCluster(c, 'kafka', { name: 'kafka', brokers: 5, controllers: 3, storage: Storage.ephemeral() })));
      standIns.kafka(kafkaDescribe({ orders: [[0, 1, 2], [3, 0, 1], [1, 4, 2]], payments: [[2, 0, 1]] }), '');
      standIns.clearCalls();
      // WHEN asked for more brokers than the start script accepts, or to drop a controller
      const up = await cli([...flags(ns), 'scale', 'kafka', '6']);
      expect(up.code).toBe(EXIT.REFUSED);
      expect(up.err).toContain('kafka-start.sh (its ConfigMap) accepts broker ordinals below 5 only, so broker 5 would exit at start. Set brokers: 6 on the KafkaCluster');
      const controllers = await cli([...flags(ns), 'scale', 'kafka', '2']);
      expect(controllers.code).toBe(EXIT.REFUSED);
      expect(controllers.err).toContain('brokers 0 to 2 are also the KRaft controllers');
      // WHEN asked to go to 3 while partitions have replicas on brokers 3 and 4
      const stranded = await cli([...flags(ns), 'scale', 'kafka', '3']);
      // THEN refused, naming each partition and the reassignment to brokers 0,1,2
      expect(stranded.code).toBe(EXIT.REFUSED);
      expect(stranded.err).toContain('2 partition(s) have replicas on the brokers being removed (ids 3, 4):\n  orders-1 replicas 3,0,1 (on removed broker 3)\n  orders-2 replicas 1,4,2 (on removed broker 4)\n');
      expect(stranded.err).toContain('kafka-reassign-partitions.sh --bootstrap-server localhost:9092 --topics-to-move-json-file topics.json --broker-list 0,1,2 --generate');
      expect(stranded.err).toContain(`kubectl -n ${ns} exec kafka-0 -c kafka -- bash`);
      expect(sts(ns, 'kafka').spec.replicas).toBe(5);
      expect(standIns.calls('kafka-topics.sh').map((c) => [c.pod, c.argv.join(' '), c.heap, c.opts])).toEqual([
        ['kafka-0', '--bootstrap-server localhost:9092 --describe', '-Xmx256m', null],
      ]);
      // WHEN the partitions have moved
      standIns.kafka(kafkaDescribe({ orders: [[0, 1, 2], [2, 0, 1], [1, 0, 2]], payments: [[2, 0, 1]] }), '');
      const r = await cli([...flags(ns), 'scale', 'kafka', '3', '--timeout', '1m']);
      // THEN brokers 3 and 4 go, the unregister commands are printed, and the under-replicated check passes
      expect(r.err).toBe('');
      expect(r.code).toBe(EXIT.OK);
      expect(r.out).toContain('no partition has a replica on brokers 3, 4 (4 partitions checked)');
      expect(r.out).toContain('kafka-cluster.sh unregister --bootstrap-server localhost:9092 --id 3; kafka-cluster.sh unregister --bootstrap-server localhost:9092 --id 4');
      expect(r.out).toContain('Kafka health gate passed: under-replicated partitions (kafka-topics.sh): under_replicated=0');
      expect(standIns.calls('kafka-topics.sh').pop()!.argv).toEqual(['--bootstrap-server', 'localhost:9092', '--describe', '--under-replicated-partitions']);
      expect(podsOf(cp, sts(ns, 'kafka')).map((p) => p.metadata.name)).toEqual(['kafka-0', 'kafka-1', 'kafka-2']);
    }, 120_000);

    test('PostgreSQL: after a scale-down the removed standby\'s slot is dropped on the primary once it is idle; more members than slots.sh knows are refused', async () => {
      // GIVEN 3 members: pg-0 primary with slots standby_1 and standby_2 in use
      const ns = 'scale-pg';
      const pods = ['pg-0', 'pg-1', 'pg-2'];
      cp.createNamespaces([ns]);
      cp.execLocally(ns, pods, { workDir: standIns.dir, env: standIns.env() });
      standIns.postgres('pg-0', { recovery: false, streaming: ['pg-1', 'pg-2'], slots: { standby_1: true, standby_2: true } });
      for (const p of ['pg-1', 'pg-2']) standIns.postgres(p, { recovery: true, receiver: 'streaming', lagBytes: 0 });
      await deploy(ns, synth(ns, (c) => new PostgresReplicaSet(c, 'pg', { name: 'pg', replicas: 3 })), true);
      const refused = await cli([...flags(ns), 'scale', 'pg', '4']);
      expect(refused.code).toBe(EXIT.REFUSED);
      expect(refused.err).toContain('slots.sh (its ConfigMap) was rendered for 3 members and drops the replication slot of any standby with ordinal 3 or more');
      // WHEN scaled to 2; the slot stays active until the test (as the walsender) sees pg-2 gone
      standIns.clearCalls();
      let finished = false;
      const scaling = cli([...flags(ns), 'scale', 'pg', '2', '--timeout', '1m']).finally(() => { finished = true; });
      let goneAt = 0;
      while (!finished) {
        if (!goneAt && !podsOf(cp, sts(ns, 'pg')).some((p) => p.metadata.name === 'pg-2')) {
          goneAt = standIns.calls('psql').length;
          standIns.postgres('pg-0', { ...standIns.postgresState('pg-0'), streaming: ['pg-1'], slots: { standby_1: true, standby_2: false } });
        }
        await sleep(100);
      }
      const r = await scaling;
      // THEN the slot is dropped on the primary, only after pg-2 was gone, and the claim left behind is named
      expect(r.err).toBe('');
      expect(r.code).toBe(EXIT.OK);
      expect(standIns.postgresState('pg-0').slots).toEqual({ standby_1: true });
      const drops = standIns.calls('psql').map((c, i) => ({ i, pod: c.pod, sql: String(c.sql) })).filter((c) => c.sql.includes('pg_drop_replication_slot'));
      expect(drops.map((d) => [d.pod, d.sql])).toEqual([['pg-0', "SELECT pg_drop_replication_slot('standby_2')"]]);
      expect(drops[0].i).toBeGreaterThanOrEqual(goneAt);
      expect(r.out).toContain('dropped the replication slots of the removed standbys on pg-0: standby_2');
      expect(r.out).toContain('their claims remain (data-pg-2): delete them before scaling up again');
      expect(r.out).toContain('PostgreSQL health gate passed: pg-0 primary, pg-1 standby');
    }, 120_000);

    describe('MongoDB', () => {
      const ns = 'scale-mongo';
      const H = (i: number) => `mongo-${i}.mongo-headless.${ns}.svc.cluster.local:27017`;
      const mongos: MongoStandIns[] = [];
      afterAll(() => mongos.forEach((m) => m.cleanup()));

      /** One stand-in state per pod (a pod's 127.0.0.1 is its own member): the set of `n` as `pod` sees it. */
      function replicaSet(n: number, self: number, primary: string): ClusterState {
        return {
          replSetName: 'rs0', rootPassword: 'root-pw',
          members: { ...Object.fromEntries(Array.from({ length: 4 }, (_, i) => [H(i), {}])), '127.0.0.1:27017': { alias: H(self) } },
          config: { _id: 'rs0', version: 1, members: Array.from({ length: n }, (_, i) => ({ _id: i, host: H(i) })) },
          primary, users: { root: { pwd: 'root-pw', roles: [] } },
        };
      }
      function standInsFor(primary: string): MongoStandIns[] {
        cp.createNamespaces([ns]);
        const all = [0, 1, 2].map((i) => new MongoStandIns(replicaSet(3, i, primary)));
        mongos.push(...all);
        all.forEach((m, i) => cp.execLocally(ns, [`mongo-${i}`], {
          workDir: m.dir,
          env: { PATH: `${path.join(m.dir, 'bin')}:/usr/bin:/bin`, STANDIN_STATE: path.join(m.dir, 'state.json'), STANDIN_LOG: path.join(m.dir, 'calls.jsonl'), MONGO_ROOT_PASSWORD: 'root-pw' },
        }));
        return all;
      }

      test('the primary is never removed; members are removed before their pods go and added once new pods run', async () => {
        // GIVEN 3 members, mongo-2 the primary
        let states = standInsFor(H(2));
        await deploy(ns, synth(ns, (c) => new MongoReplicaSet(c, 'mongo', { name: 'mongo', storage: Storage.ephemeral() })));
        const refused = await cli([...flags(ns), 'scale', 'mongo', '2']);
        expect(refused.code).toBe(EXIT.REFUSED);
        expect(refused.err).toContain('refusing to scale MongoDB statefulset/mongo from 3 to 2: mongo-2 is the primary. Step it down first');
        expect(states[0].state().config!.members).toHaveLength(3);
        // WHEN mongo-0 is the primary and the set goes to 2
        states = standInsFor(H(0));
        const down = await cli([...flags(ns), 'scale', 'mongo', '2', '--timeout', '1m']);
        // THEN rs.remove ran on the primary as root, and the set has 2 members and 2 pods
        expect(down.err).toBe('');
        expect(down.code).toBe(EXIT.OK);
        expect(down.out).toContain(`removed from the replica set before the pods go: ${H(2)}`);
        expect(states[0].state().config!.members.map((m) => m.host)).toEqual([H(0), H(1)]);
        expect(states[0].calls('mongosh').flatMap((c) => c.ops ?? []).filter((op) => op !== 'hello')).toEqual(['auth root', `remove ${H(2)}`]);
        expect(podsOf(cp, sts(ns, 'mongo')).map((p) => p.metadata.name)).toEqual(['mongo-0', 'mongo-1']);
        expect(down.out).toContain('MongoDB health gate passed: mongo-0 PRIMARY, mongo-1 SECONDARY');
        // WHEN it goes back to 3
        const up = await cli([...flags(ns), 'scale', 'mongo', '3', '--timeout', '1m']);
        expect(up.err).toBe('');
        expect(up.code).toBe(EXIT.OK);
        expect(up.out).toContain(`added to the replica set: ${H(2)}`);
        expect(states[0].state().config!.members.map((m) => m.host)).toEqual([H(0), H(1), H(2)]);
      }, 120_000);
    });

    test('Redis Cluster: removing masters that hold slots is refused with the reshard; removing a replica prints the CLUSTER FORGET; growing is refused with the add-node steps', async () => {
      const ns = 'scale-redis';
      const pods = Array.from({ length: 6 }, (_, i) => `cache-${i}`);
      redisCluster(standIns, 'cache', 3);
      cp.createNamespaces([ns]);
      cp.execLocally(ns, pods, { workDir: standIns.dir, env: standIns.env() });
      await deploy(ns, synth(ns, (c) => new RedisCluster(c, 'cache', { name: 'cache', masters: 3, replicasPerMaster: 1, storage: Storage.ephemeral() })));
      const masters = await cli([...flags(ns), 'scale', 'cache', '2']);
      expect(masters.code).toBe(EXIT.REFUSED);
      expect(masters.err).toContain('masters being removed hold slots:\n  cache-2 (node 2222222222222222222222222222222222222222) holds 5462 slots');
      expect(masters.err).toContain('redis-cli --cluster reshard <cache-0-ip>:6379 --cluster-from 2222222222222222222222222222222222222222 --cluster-to <master-id> --cluster-slots 5462 --cluster-yes');
      expect(sts(ns, 'cache').spec.replicas).toBe(6);
      const one = await cli([...flags(ns), 'scale', 'cache', '5', '--timeout', '1m']);
      expect(one.err).toBe('');
      expect(one.code).toBe(EXIT.OK);
      expect(one.out).toContain('the nodes being removed hold no slots: cache-5 (replica 5555555555555555555555555555555555555555)');
      expect(one.out).toContain(`for i in $(seq 0 4); do for id in 5555555555555555555555555555555555555555; do kubectl -n ${ns} exec cache-$i -c redis -- redis-cli CLUSTER FORGET $id; done; done`);
      const grow = await cli([...flags(ns), 'scale', 'cache', '6']);
      expect(grow.code).toBe(EXIT.REFUSED);
      expect(grow.err).toContain('redis-cli --cluster add-node <new-pod-ip>:6379 <cache-0-ip>:6379');
    }, 120_000);
  });

  describe('expand-storage', () => {
    const ns = 'expand';
    const www = (size: number, storageClassName = EXPANDABLE) => web(ns, { volumes: [{ name: 'www', storage: Storage.persistent({ size: Size.gibibytes(size), storageClassName }) }],
      containers: [{ name: 'nginx', image: 'nginxinc/nginx-unprivileged:1.27.3', ports: [{ name: 'web', port: 80, containerPort: 8080 }], mounts: [{ volume: 'www', path: '/usr/share/nginx/html' }], readinessProbe: Probe.tcp('web') }] });

    /**
     * Plays the external resizer (and, for `pending` claims, the kubelet) until
     * `done`: grows a claim's volume a moment after its request grows; a
     * pending claim reports FileSystemResizePending until its pod is replaced.
     * Records how many claims were mid-resize and pods not Ready at once.
     */
    async function resizer(done: () => boolean, pending: string[] = []): Promise<{ resizing: number; notReady: number; order: string[] }> {
      const seen = { resizing: 0, notReady: 0, order: [] as string[] };
      const podUid = new Map(podsOf(cp, sts(ns, 'web')).map((p) => [p.metadata.name, p.metadata.uid]));
      while (!done()) {
        const pvcs = cp.items(['pvc', '-n', ns]);
        const growing = pvcs.filter((p) => p.spec.resources.requests.storage !== p.status.capacity?.storage);
        seen.resizing = Math.max(seen.resizing, growing.length);
        for (const p of growing) {
          const name = p.metadata.name;
          if (!seen.order.includes(name)) { seen.order.push(name); await sleep(500); continue; }
          const size = p.spec.resources.requests.storage;
          cp.must(['patch', 'pv', p.spec.volumeName, '--type=merge', '-p', JSON.stringify({ spec: { capacity: { storage: size } } })]);
          const conditions = pending.includes(name) ? [{ type: 'FileSystemResizePending', status: 'True' }] : [];
          cp.must(['patch', 'pvc', name, '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { capacity: { storage: size }, conditions } })]);
        }
        // the kubelet: a replaced pod mounts its volume again, which grows the file system
        for (const name of pending) {
          const pod = `web-${name.slice(name.lastIndexOf('-') + 1)}`;
          const p = cp.get(['pod', pod, '-n', ns]);
          const pvc = pvcs.find((x) => x.metadata.name === name);
          if (p && p.metadata.uid !== podUid.get(pod) && pvc?.status.conditions?.length) {
            cp.must(['patch', 'pvc', name, '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { conditions: [] } })]);
          }
        }
        seen.notReady = Math.max(seen.notReady, 3 - podsOf(cp, sts(ns, 'web')).filter(isReady).length);
        await sleep(200);
      }
      return seen;
    }

    test('claims grow one at a time, then the StatefulSet is re-created with the new size and adopts the same pods', async () => {
      // GIVEN 3 pods with 1Gi claims of an expandable class (the volumes have room)
      const before = await deploy(ns, www(1), true);
      for (const pv of cp.items(['pv']).filter((p) => p.spec.claimRef?.namespace === ns)) {
        cp.must(['patch', 'pv', pv.metadata.name, '--type=merge', '-p', JSON.stringify({ spec: { capacity: { storage: '4Gi' } } })]);
      }
      const uids = podsOf(cp, before).map((p) => p.metadata.uid);
      // WHEN expanded to 2Gi, with the test as the volume resizer
      let finished = false;
      const expanding = cli([...flags(ns), 'expand-storage', 'web', '2Gi', '--timeout', '1m']).finally(() => { finished = true; });
      const seen = await resizer(() => finished);
      const r = await expanding;
      // THEN every claim asks for and has 2Gi, resized one after another; the StatefulSet is new, with 2Gi, and its pods are the same
      expect(r.err).toBe('');
      expect(r.code).toBe(EXIT.OK);
      expect(seen.order).toEqual(['www-web-0', 'www-web-1', 'www-web-2']);
      expect(seen.resizing).toBe(1);
      expect(seen.notReady).toBe(0);
      const pvcs = cp.items(['pvc', '-n', ns]);
      expect(pvcs.map((p) => [p.metadata.name, p.spec.resources.requests.storage, p.status.capacity.storage])).toEqual(
        ['www-web-0', 'www-web-1', 'www-web-2'].map((n) => [n, '2Gi', '2Gi']));
      const after = await waitStatefulSetReady(cp, sts(ns, 'web'));
      expect(after.metadata.uid).not.toBe(before.metadata.uid);
      expect(after.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('2Gi');
      expect(after.spec.template).toEqual(before.spec.template);
      expect(podsOf(cp, after).map((p) => p.metadata.uid)).toEqual(uids);
      expect(podsOf(cp, after).every((p) => p.metadata.ownerReferences[0].uid === after.metadata.uid)).toBe(true);
      expect(r.out).toContain('statefulset/web adopted its 3 pods, none restarted; claim template \'www\' asks for 2Gi');
      // and the saved copy of the object was removed
      const saved = /the new object is saved in (\S+)\)/.exec(r.out)![1];
      expect(fs.existsSync(saved)).toBe(false);
      console.log(`expand-storage 1Gi -> 2Gi:\n${r.out}`);
    }, 120_000);

    test('a file system that grows only on a fresh mount: that pod alone is restarted, after the online wait', async () => {
      // GIVEN the 2Gi StatefulSet of the previous test; www-web-1's volume will wait for a new mount
      const before = podsOf(cp, sts(ns, 'web'));
      let finished = false;
      const expanding = cli([...flags(ns), 'expand-storage', 'web', '3Gi', '--online-wait', '2s', '--timeout', '1m']).finally(() => { finished = true; });
      const seen = await resizer(() => finished, ['www-web-1']);
      const r = await expanding;
      expect(r.err).toBe('');
      expect(r.code).toBe(EXIT.OK);
      const after = podsOf(cp, sts(ns, 'web'));
      expect(after.map((p, i) => p.metadata.uid === before[i].metadata.uid)).toEqual([true, false, true]);
      expect(seen.notReady).toBeLessThanOrEqual(1);
      expect(r.out).toContain('www-web-1: the volume has grown; its file system grows when web-1 mounts it again: restarting web-1 (alone)');
      expect(r.out).toContain('statefulset/web adopted its 3 pods, none restarted');
      expect(cp.items(['pvc', '-n', ns]).map((p) => p.status.capacity.storage)).toEqual(['3Gi', '3Gi', '3Gi']);
    }, 120_000);

    test('refused: a shrink, a class without allowVolumeExpansion; usage errors: a bad size, an unknown claim', async () => {
      const shrink = await cli([...flags(ns), 'expand-storage', 'web', '1Gi']);
      expect(shrink.code).toBe(EXIT.REFUSED);
      expect(shrink.err).toContain("refusing to shrink claim template 'www' of statefulset/web from 3Gi to 1Gi: a volume never shrinks");
      const same = await cli([...flags(ns), 'expand-storage', 'web', '3Gi']);
      expect([same.code, same.out]).toEqual([EXIT.OK, "claim template 'www' of statefulset/web and its 3 claim(s) are already 3Gi: nothing to do"]);
      const bad = await cli([...flags(ns), 'expand-storage', 'web', '3GB']);
      expect(bad.code).toBe(EXIT.USAGE);
      const claim = await cli([...flags(ns), 'expand-storage', 'web', '4Gi', '--claim', 'data']);
      expect([claim.code, claim.err]).toEqual([EXIT.USAGE, "cdk8s-stateful: --claim: statefulset/web has no claim template 'data' (it has: www)"]);
      // a StatefulSet on the default class, which does not allow expansion
      const fixed = 'expand-fixed';
      const objects = web(fixed, { volumes: [{ name: 'data', storage: Storage.persistent({ size: Size.gibibytes(1) }) }],
        containers: [{ name: 'nginx', image: 'nginxinc/nginx-unprivileged:1.27.3', ports: [{ name: 'web', port: 80, containerPort: 8080 }], mounts: [{ volume: 'data', path: '/data' }] }] });
      const live = await deploy(fixed, objects, true);
      const r = await cli([...flags(fixed), 'expand-storage', 'web', '2Gi']);
      expect(r.code).toBe(EXIT.REFUSED);
      expect(r.err).toContain(`storageclass "${LOCAL_CLASS}" does not allow volume expansion (allowVolumeExpansion is not true): the claims of statefulset/web cannot grow`);
      expect(sts(fixed, 'web').metadata.uid).toBe(live.metadata.uid);
      expect(cp.items(['pvc', '-n', fixed]).map((p) => p.spec.resources.requests.storage)).toEqual(['1Gi', '1Gi', '1Gi']);
    }, 120_000);
  });

  test('the compiled command: jsii\'s compiler settings turn src/cli/main.ts into an executable that needs no package at run time', async () => {
    // GIVEN src compiled with the tsconfig jsii builds lib/ from, outside the repository (so no node_modules can be found)
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf-8'));
    const out = fs.mkdtempSync(path.join(cp.dir, 'lib-'));
    const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(REPO, pkg.jsii.tsconfig), '--outDir', out], { encoding: 'utf-8', timeout: 300_000 });
    expect(tsc.stdout + tsc.stderr).toBe('');
    // the file package.json's bin names, relative to the output directory (lib/ for jsii)
    const main = path.join(out, path.relative('lib', pkg.bin['cdk8s-stateful']));
    fs.chmodSync(main, 0o755); // as npm does for a bin on install
    // WHEN it runs by itself (its shebang finds node on PATH)
    const ns = 'bin-status';
    await deploy(ns, web(ns));
    const r = spawnSync(main, [...flags(ns), 'status', 'web', '-o', 'json'], {
      encoding: 'utf-8', cwd: out, env: { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: cp.dir },
    });
    // THEN it talks to the cluster and reports, with its exit code
    expect(r.stderr).toBe('');
    expect(r.status).toBe(EXIT.OK);
    expect(JSON.parse(r.stdout)).toMatchObject({ statefulSet: 'web', namespace: ns, replicas: 3, readyReplicas: 3, healthy: true });
    const usage = spawnSync(main, ['scale', 'web'], { encoding: 'utf-8', env: { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` } });
    expect([usage.status, usage.stderr.trim()]).toEqual([EXIT.USAGE, "cdk8s-stateful: scale takes <statefulset> <replicas>, got 'web' (see cdk8s-stateful scale --help)"]);
  }, 360_000);

  describe('status', () => {
    test('the members of a plain workload: ready, revision, restarts; a not-Ready member makes it exit 1', async () => {
      const ns = 'status-web';
      const live = await deploy(ns, web(ns));
      const rev = live.status.updateRevision.slice('web-'.length);
      const r = await cli([...flags(ns), 'status', 'web']);
      expect(r.code).toBe(EXIT.OK);
      const [header, strategy, blank, ...table] = r.out.split('\n');
      expect(header).toBe(`statefulset/web in namespace ${ns}: no health checks (no system the CLI knows by its labels), 3/3 ready, 3/3 updated`);
      expect(strategy).toBe(`update strategy RollingUpdate (partition 0), revisions: current ${rev}, update ${rev}`);
      expect(blank).toBe('');
      expect(table.map((l) => l.split(/\s{2,}/))).toEqual([
        ['POD', 'ORDINAL', 'READY', 'REVISION', 'ROLE', 'LAG', 'RESTARTS'],
        ...[0, 1, 2].map((i) => [`web-${i}`, String(i), 'yes', `${rev} (current)`, '-', '-', '0']),
      ]);
      // WHEN web-1 is held not-Ready
      cp.must(['annotate', 'pod', 'web-1', '-n', ns, `${HOLD_READY}=true`]);
      cp.must(['patch', 'pod', 'web-1', '-n', ns, '--subresource=status', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/status/conditions', value: [{ type: 'Ready', status: 'False' }] }])]);
      const held = await cli([...flags(ns), 'status', 'web', '-o', 'json']);
      expect(held.code).toBe(EXIT.FAILED);
      const json = JSON.parse(held.out);
      expect(json.members.map((m: Json) => [m.pod, m.ready])).toEqual([['web-0', 'yes'], ['web-1', 'no'], ['web-2', 'yes']]);
      expect(json).toMatchObject({ statefulSet: 'web', namespace: ns, system: null, replicas: 3, healthy: false, partition: 0 });
    }, 60_000);

    test('a PostgreSQL set: roles and lag from the checks in each pod; a standby that does not stream is reported', async () => {
      const ns = 'status-pg';
      cp.createNamespaces([ns]);
      cp.execLocally(ns, ['db-0', 'db-1', 'db-2'], { workDir: standIns.dir, env: standIns.env() });
      standIns.postgres('db-0', { recovery: false, streaming: ['db-1', 'db-2'], slots: {} });
      standIns.postgres('db-1', { recovery: true, receiver: 'streaming', lagBytes: 0 });
      standIns.postgres('db-2', { recovery: true, receiver: 'streaming', lagBytes: 16384 });
      await deploy(ns, synth(ns, (c) => new PostgresReplicaSet(c, 'db', { name: 'db', storage: Storage.ephemeral() })));
      const r = await cli([...flags(ns), 'status', 'db']);
      expect(r.err).toBe('');
      expect(r.code).toBe(EXIT.OK);
      const rows = r.out.split('\n').filter((l) => l.startsWith('db-')).map((l) => l.split(/\s{2,}/));
      expect(rows.map((x) => [x[0], x[2], x[4], x[5] ?? ''])).toEqual([
        ['db-0', 'yes', 'primary', '-'], ['db-1', 'yes', 'standby', '0 bytes'], ['db-2', 'yes', 'standby', '16384 bytes'],
      ]);
      expect(r.out).toContain('health: ok (streaming replication (pg_is_in_recovery, pg_stat_wal_receiver))');
      // WHEN db-2's receiver stops
      standIns.postgres('db-2', { recovery: true, receiver: '' });
      standIns.postgres('db-0', { recovery: false, streaming: ['db-1'], slots: {} });
      const bad = await cli([...flags(ns), 'status', 'db']);
      expect(bad.code).toBe(EXIT.FAILED);
      expect(bad.out).toMatch(/^db-2 +2 +yes +\S+ \(current\) +standby \(failing\) /m);
      expect(bad.out).toContain('health: problems\n  pod db-2, check "streaming replication (pg_is_in_recovery, pg_stat_wal_receiver)" printed:');
      expect(bad.out).toContain('in recovery, but its WAL receiver is not running: not streaming from the primary');
    }, 60_000);
  });
});

