import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { MySqlReplicaSet } from '../../src';
import { only } from '../support/manifest';
import { applyServerSide, table } from './apply';
import { bin, ControlPlane, controlPlaneAvailable, KUBERNETES_VERSION } from './harness';

type Json = any;

const run = controlPlaneAvailable();

(run ? describe : describe.skip)(`the Secret-generator Job's RBAC on kube-apiserver ${KUBERNETES_VERSION}`, () => {
  let cp: ControlPlane;
  const ns = 'rbac';
  const app = Testing.app();
  const chart = new Chart(app, ns, { namespace: ns });
  new MySqlReplicaSet(chart, 'db');
  const objects = Testing.synth(chart);
  const job = objects.find((o) => o.kind === 'Job' && o.metadata.annotations?.['cdk8s-stateful.io/generates-secret'])!;
  const secretName: string = job.metadata.annotations['cdk8s-stateful.io/generates-secret'];
  const keys: string[] = job.metadata.annotations['cdk8s-stateful.io/generates-keys'].split(',');
  const podSpec = job.spec.template.spec;
  const container = podSpec.containers[0];
  let saKubeconfig: string;
  let pathDir: string;

  beforeAll(async () => {
    cp = await ControlPlane.start({ nodes: 3 });
    cp.createNamespaces([ns]);
    // GIVEN the chart applied (ServiceAccount, Role, RoleBinding, Job...) and a token of the Job's ServiceAccount
    const r = applyServerSide(cp, objects);
    expect([...r.rejections, ...r.warnings]).toEqual([]);
    const token = cp.must(['create', 'token', podSpec.serviceAccountName, '-n', ns, '--duration=1h']).trim();
    saKubeconfig = cp.writeKubeconfig(path.join(cp.dir, 'generator.kubeconfig'), token, ns);
    // the script's `kubectl` is the built one, talking as the ServiceAccount (as in-cluster config would)
    pathDir = path.join(cp.dir, 'generator-bin');
    fs.mkdirSync(pathDir);
    fs.symlinkSync(bin('kubectl'), path.join(pathDir, 'kubectl'));
  }, 180_000);

  afterAll(async () => {
    await cp?.stop();
  }, 60_000);

  /** Runs a generator Job's own command (`/bin/bash -c <script>`) on this machine, as its ServiceAccount. */
  function runScript(c: Json = container): Promise<{ code: number; output: string }> {
    expect(c.command.slice(0, 2)).toEqual(['/bin/bash', '-c']);
    const env: { [k: string]: string } = Object.fromEntries((c.env ?? []).filter((e: Json) => e.value !== undefined).map((e: Json) => [e.name, e.value]));
    return new Promise((resolve) => {
      const child = spawn(c.command[0], c.command.slice(1), {
        env: { ...env, HOME: cp.dir, PATH: `${pathDir}:/usr/bin:/bin`, KUBECONFIG: saKubeconfig }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d) => { output += d; });
      child.stderr.on('data', (d) => { output += d; });
      child.on('close', (code) => resolve({ code: code ?? 1, output }));
    });
  }

  test('the script creates the Secret once, with a 64-hex-digit value per key, and a second run changes nothing', async () => {
    // WHEN the script runs as the ServiceAccount
    const first = await runScript();
    // THEN the Secret exists with exactly the keys
    expect(first).toEqual({ code: 0, output: `secret ${secretName} created with ${keys.length} keys\n` });
    const created = cp.get(['secret', secretName, '-n', ns]);
    expect(Object.keys(created.data).sort()).toEqual([...keys].sort());
    for (const k of keys) expect(Buffer.from(created.data[k], 'base64').toString()).toMatch(/^[0-9a-f]{64}$/);
    // WHEN it runs again THEN it leaves the Secret as it was
    const second = await runScript();
    expect(second).toEqual({ code: 0, output: `secret ${secretName} exists; leaving it unchanged\n` });
    const after = cp.get(['secret', secretName, '-n', ns]);
    expect(after.data).toEqual(created.data);
    expect(after.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    // WHEN two runs race on a missing Secret THEN both succeed and one set of values wins
    cp.must(['delete', 'secret', secretName, '-n', ns]);
    const race = await Promise.all([runScript(), runScript()]);
    expect(race.map((r) => r.code)).toEqual([0, 0]);
    expect(race.filter((r) => r.output.includes('created')).length).toBeGreaterThanOrEqual(1);
    const raced = cp.get(['secret', secretName, '-n', ns]);
    expect(Object.keys(raced.data).sort()).toEqual([...keys].sort());
    console.log(`generator ${job.metadata.name} as ServiceAccount ${podSpec.serviceAccountName}: run 1 "${first.output.trim()}", `
      + `run 2 "${second.output.trim()}" (resourceVersion ${created.metadata.resourceVersion} unchanged), racing runs: ${race.map((r) => `"${r.output.trim().split('\n').pop()}"`).join(' and ')}`);
  }, 120_000);

  test('after a user is added, the new generator Job (a new name) adds its key and changes no existing value', async () => {
    // GIVEN the Secret as the first generator left it
    const before = cp.get(['secret', secretName, '-n', ns]);
    // WHEN the replica set gets a user, and the new generator's script runs as the same ServiceAccount
    const changed = new Chart(Testing.app(), ns, { namespace: ns });
    new MySqlReplicaSet(changed, 'db', { databases: ['orders'], users: [{ name: 'orders_app', databases: ['orders'] }] });
    const newJob = Testing.synth(changed).find((o) => o.kind === 'Job' && o.metadata.annotations?.['cdk8s-stateful.io/generates-secret'])!;
    expect(newJob.metadata.name).not.toBe(job.metadata.name);
    expect(newJob.spec.template.spec.serviceAccountName).toBe(podSpec.serviceAccountName);
    const r = await runScript(newJob.spec.template.spec.containers[0]);
    // THEN the key is added through the API server, and every old value is byte for byte the same
    expect(r).toEqual({ code: 0, output: `secret ${secretName} exists; added orders_app-password\n` });
    const after = cp.get(['secret', secretName, '-n', ns]);
    for (const k of keys) expect(after.data[k]).toBe(before.data[k]);
    expect(Buffer.from(after.data['orders_app-password'], 'base64').toString()).toMatch(/^[0-9a-f]{64}$/);
    console.log(`generator ${newJob.metadata.name} (a user added): "${r.output.trim()}", ${keys.length} existing values unchanged`);
  }, 120_000);

  test('its ServiceAccount may create Secrets and read and patch this one, and nothing else', () => {
    // GIVEN the ServiceAccount's own kubeconfig WHEN it asks the API server (SelfSubjectAccessReview)
    const can = (args: string[]) => cp.kubectl(['auth', 'can-i', ...args], { kubeconfig: saKubeconfig }).stdout.trim();
    const matrix: [string, string[], string][] = [
      ['create secrets', ['create', 'secrets'], 'yes'],
      [`get secret/${secretName}`, ['get', `secret/${secretName}`], 'yes'],
      ['get secret/other', ['get', 'secret/other'], 'no'],
      ['list secrets', ['list', 'secrets'], 'no'],
      ['watch secrets', ['watch', 'secrets'], 'no'],
      [`update secret/${secretName}`, ['update', `secret/${secretName}`], 'no'],
      [`patch secret/${secretName}`, ['patch', `secret/${secretName}`], 'yes'],
      ['patch secret/other', ['patch', 'secret/other'], 'no'],
      [`delete secret/${secretName}`, ['delete', `secret/${secretName}`], 'no'],
      ['create secrets -n default', ['create', 'secrets', '-n', 'default'], 'no'],
      ['get configmaps', ['get', 'configmaps'], 'no'],
      ['create configmaps', ['create', 'configmaps'], 'no'],
      ['get pods', ['get', 'pods'], 'no'],
      ['create pods', ['create', 'pods'], 'no'],
      ['get statefulsets', ['get', 'statefulsets.apps'], 'no'],
      ['create rolebindings', ['create', 'rolebindings.rbac.authorization.k8s.io'], 'no'],
      ['list namespaces', ['list', 'namespaces'], 'no'],
    ];
    const answers = matrix.map(([label, args, expected]) => [label, expected, can(args)]);
    // and real requests are refused, not only reviews
    const tries = [
      ['get secret other', ['get', 'secret', 'other']],
      [`delete secret ${secretName}`, ['delete', 'secret', secretName]],
      ['get configmaps', ['get', 'configmaps']],
    ].map(([label, args]) => {
      const r = cp.kubectl(args as string[], { kubeconfig: saKubeconfig });
      return [label as string, r.code === 0 ? 'allowed' : /Forbidden|forbidden/.test(r.stderr) ? 'Forbidden' : r.stderr.trim()];
    });
    console.log(`ServiceAccount ${ns}/${podSpec.serviceAccountName} (Role ${only(objects, 'Role').metadata.name}):\n${table(['request', 'intended', 'API server'], answers)}\n${table(['real request', 'result'], tries)}`);
    // THEN every answer is the intended one
    expect(answers.filter(([, expected, actual]) => expected !== actual)).toEqual([]);
    expect(tries.map(([, result]) => result)).toEqual(['Forbidden', 'Forbidden', 'Forbidden']);
    expect(cp.get(['secret', secretName, '-n', ns])).toBeDefined();
  }, 60_000);
});
