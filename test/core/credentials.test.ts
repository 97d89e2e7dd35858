import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Credentials } from '../../src';
import {
  DEFAULT_KUBECTL_IMAGE, GENERATES_KEYS_ANNOTATION, GENERATES_SECRET_ANNOTATION, renderSecretGeneratorScript,
} from '../../src/core/credentials';
import { objectsOf, only, synthValid } from '../support/manifest';

function chart(): Chart {
  return new Chart(Testing.app(), 'test', { namespace: 'data' });
}

/** Runs the generator script with a kubectl stand-in that keeps Secrets as directories. */
function runGenerator(script: string, store: string): { status: number | null; output: string } {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'kubectl-shim-'));
  fs.writeFileSync(path.join(bin, 'kubectl'), `#!/bin/bash
# kubectl stand-in: each Secret is a directory of key files (values decoded)
set -eu
store=${store}
echo "$*" >> "$store/calls.log"
case "$1 $2" in
  "get secret")
    [ -d "$store/$3" ] || exit 1
    # -o go-template=... lists the keys, one per line
    if [ "$#" -gt 3 ]; then ls "$store/$3"; fi ;;
  "create secret")
    [ "$3" = generic ] && [ ! -e "$store/$4" ] || exit 1
    mkdir "$store/$4"
    for a in "\${@:5}"; do kv=\${a#--from-literal=}; printf '%s' "\${kv#*=}" > "$store/$4/\${kv%%=*}"; done ;;
  "patch secret")
    [ -d "$store/$3" ] && [ "$4" = --type=merge ] && [ "$5" = -p ] || exit 1
    python3 -c 'import base64, json, os, sys
for k, v in json.loads(sys.argv[2])["data"].items():
    open(os.path.join(sys.argv[1], k), "wb").write(base64.b64decode(v))' "$store/$3" "$6" ;;
  *) exit 2 ;;
esac
`, { mode: 0o755 });
  try {
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf-8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    return { status: r.status, output: r.stdout + r.stderr };
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
  }
}

describe('Credentials', () => {
  test('a generated Secret comes from a Job with minimal RBAC that passes every check', () => {
    // GIVEN
    const c = chart();
    const creds = new Credentials(c, 'db-credentials', { keys: ['root-password', 'replication-password'] });
    // WHEN
    const objects = synthValid(c);
    // THEN
    expect(creds.secretName).toBe('test-db-credentials');
    expect(creds.generated).toBe(true);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`.replace(/-gen-[0-9a-f]{4}$/, '-gen-<hash>')).sort()).toEqual([
      'Job/test-db-credentials-gen-<hash>', 'Role/test-db-credentials-generate',
      'RoleBinding/test-db-credentials-generate', 'ServiceAccount/test-db-credentials-generate',
    ]);
    expect(objectsOf(objects, 'Secret')).toEqual([]);
    expect(only(objects, 'Role').rules).toEqual([
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['test-db-credentials'], verbs: ['get', 'patch'] },
    ]);
    expect(objects).toMatchSnapshot();
  });

  test('the Job announces the Secret and its keys, runs non-root on a read-only root and cleans up after itself', () => {
    const c = chart();
    new Credentials(c, 'creds', { keys: ['a', 'b'] });
    const job = only(synthValid(c), 'Job');
    expect(job.metadata.annotations).toEqual({ [GENERATES_SECRET_ANNOTATION]: 'test-creds', [GENERATES_KEYS_ANNOTATION]: 'a,b' });
    expect(job.spec.backoffLimit).toBeGreaterThan(0);
    expect(job.spec.ttlSecondsAfterFinished).toBe(3600);
    const pod = job.spec.template.spec;
    expect(pod.serviceAccountName).toBe('test-creds-generate');
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534 });
    const container = pod.containers[0];
    expect(container.image).toBe(DEFAULT_KUBECTL_IMAGE);
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(container.resources).toEqual({ requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '128Mi' } });
    expect(container.command.slice(0, 2)).toEqual(['/bin/bash', '-c']);
  });

  test('no value appears in the manifest', () => {
    const c = chart();
    new Credentials(c, 'creds', { keys: ['password'] });
    const yaml = JSON.stringify(synthValid(c));
    expect(yaml).not.toMatch(/[0-9a-f]{32}/);
  });

  test('the generator script creates random values once and never changes them', () => {
    // GIVEN a store with no Secret
    const store = fs.mkdtempSync(path.join(os.tmpdir(), 'secrets-'));
    try {
      const script = renderSecretGeneratorScript('s', ['root-password', 'replication-password']);
      // WHEN it runs twice
      const first = runGenerator(script, store);
      const read = (k: string) => fs.readFileSync(path.join(store, 's', k), 'utf-8');
      const root = read('root-password');
      const second = runGenerator(script, store);
      // THEN
      expect(first).toMatchObject({ status: 0 });
      expect(second.status).toBe(0);
      expect(second.output).toContain('exists; leaving it unchanged');
      expect(root).toMatch(/^[0-9a-f]{64}$/);
      expect(read('replication-password')).toMatch(/^[0-9a-f]{64}$/);
      expect(read('replication-password')).not.toBe(root);
      expect(read('root-password')).toBe(root);
    } finally {
      fs.rmSync(store, { recursive: true, force: true });
    }
  });

  test('a key added later is generated into the existing Secret; the values already there never change', () => {
    // GIVEN a Secret generated with two keys
    const store = fs.mkdtempSync(path.join(os.tmpdir(), 'secrets-'));
    try {
      runGenerator(renderSecretGeneratorScript('s', ['root-password', 'replication-password']), store);
      const read = (k: string) => fs.readFileSync(path.join(store, 's', k), 'utf-8');
      const before = [read('root-password'), read('replication-password')];
      // WHEN a user is added, and the new generator runs twice
      const script = renderSecretGeneratorScript('s', ['root-password', 'replication-password', 'app-password']);
      const first = runGenerator(script, store);
      const second = runGenerator(script, store);
      // THEN only the new key was written, once; the old values are untouched
      expect(first).toMatchObject({ status: 0 });
      expect(first.output).toContain('secret s exists; added app-password');
      expect(second.output).toContain('secret s exists; leaving it unchanged');
      expect([read('root-password'), read('replication-password')]).toEqual(before);
      expect(read('app-password')).toMatch(/^[0-9a-f]{64}$/);
      const patches = fs.readFileSync(path.join(store, 'calls.log'), 'utf-8').split('\n').filter((l) => l.startsWith('patch'));
      expect(patches).toHaveLength(1);
      expect(patches[0]).not.toMatch(/root-password|replication-password/);
    } finally {
      fs.rmSync(store, { recursive: true, force: true });
    }
  });

  test('the generator script uses only kubectl get, create secret generic and a merge patch of its own Secret', () => {
    const script = renderSecretGeneratorScript('s', ['k']);
    expect(script.startsWith('#!/bin/bash\n')).toBe(true);
    expect(script).toContain('set -euo pipefail');
    expect(script).toContain('/dev/urandom');
    const kubectl = script.split('\n').filter((l) => l.includes('kubectl ')).map((l) => l.trim());
    for (const l of kubectl) expect(l).toMatch(/kubectl (get secret "\$secret"|create secret generic "\$secret"|patch secret "\$secret" --type=merge)/);
  });

  test('the generator Job is named after its keys: a new key is a new Job (a Job template is immutable), the RBAC objects keep their names', () => {
    const names = (keys: string[]) => {
      const c = chart();
      new Credentials(c, 'creds', { keys });
      const objects = synthValid(c);
      return { job: only(objects, 'Job').metadata.name, role: only(objects, 'Role').metadata.name, sa: only(objects, 'Job').spec.template.spec.serviceAccountName };
    };
    const two = names(['a', 'b']);
    const three = names(['a', 'b', 'c']);
    expect(two.job).toMatch(/^test-creds-gen-[0-9a-f]{4}$/);
    expect(three.job).toMatch(/^test-creds-gen-[0-9a-f]{4}$/);
    expect(three.job).not.toBe(two.job);
    expect(names(['a', 'b']).job).toBe(two.job);
    expect([two.role, two.sa, three.role]).toEqual(['test-creds-generate', 'test-creds-generate', 'test-creds-generate']);
  });

  test('an existing Secret is used as is: nothing is generated', () => {
    const c = chart();
    const creds = new Credentials(c, 'creds', { keys: ['password'], existingSecret: 'vault-synced' });
    expect(creds.generated).toBe(false);
    expect(creds.secretName).toBe('vault-synced');
    expect(creds.job).toBeUndefined();
    expect(Testing.synth(c)).toEqual([]);
  });

  test('envValue hands a kplus container the key through secretKeyRef and rejects unknown keys', () => {
    // GIVEN a generated Secret and a cdk8s-plus Deployment in the same chart
    const c = chart();
    const creds = new Credentials(c, 'creds', { keys: ['password'] });
    new kplus.Deployment(c, 'app', {
      containers: [{ image: 'example/app:1.0.0', envVariables: { REDIS_PASSWORD: creds.envValue('password') } }],
    });
    // WHEN synthesized THEN the container reads the key, and no value is in the manifest
    const deployment = only(Testing.synth(c), 'Deployment');
    expect(deployment.spec.template.spec.containers[0].env).toEqual([
      { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'test-creds', key: 'password' } } },
    ]);
    expect(creds.secret.name).toBe('test-creds');
    expect(() => creds.envValue('nope')).toThrow("Credentials 'test/creds': keys have no key 'nope'; keys: password");
  });

  test.each([
    [{ keys: [] }, "Credentials 'test/creds': keys must name at least one key"],
    [{ keys: ['a b'] }, "keys 'a b' is not a valid Secret key"],
    [{ keys: ['a', 'a'] }, 'keys contain duplicates'],
    [{ keys: ['a'], existingSecret: 'Not_A_Name' }, "existingSecret must be a Secret name (a DNS-1123 subdomain), got 'Not_A_Name'"],
    [{ keys: ['a'], randomBytes: 8 }, 'randomBytes must be an integer from 16 to 128, got 8'],
  ])('invalid props throw: %j', (props, message) => {
    expect(() => new Credentials(chart(), 'creds', props)).toThrow(message);
  });
});
