import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { contentHash, OneShotJob } from './job';
import { WorkloadIdentity } from './identity';
import { defaultResourceName, describe, MAX_DNS_LABEL, Problem } from './names';
import { k8s } from './private/k8s';
import { Resources } from './resources';
import { Storage } from './storage';

/** Annotation a generator Job carries: the name of the Secret it creates in the cluster. */
export const GENERATES_SECRET_ANNOTATION = 'cdk8s-stateful.io/generates-secret';
/** Annotation a generator Job carries: the keys of that Secret, comma-separated. */
export const GENERATES_KEYS_ANNOTATION = 'cdk8s-stateful.io/generates-keys';

/** The kubectl image of the generator Job: it must provide `bash` and `kubectl`. */
export const DEFAULT_KUBECTL_IMAGE = 'docker.io/alpine/k8s:1.31.4';

const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Props of `Credentials`. */
export interface CredentialsProps {
  /** The keys the Secret must hold (e.g. `root-password`). */
  readonly keys: string[];
  /**
   * Name of a Secret the user manages (GitOps, External Secrets, Sealed
   * Secrets) that already holds every key in `keys`. Nothing is generated then.
   * @default - a Secret with random values is generated in the cluster
   */
  readonly existingSecret?: string;
  /**
   * Name of the generated Secret (ignored with `existingSecret`).
   * @default - the construct path from the chart, joined with '-'
   */
  readonly secretName?: string;
  /**
   * Bytes of randomness per generated value (rendered as 2 hex characters each).
   * @default 32
   */
  readonly randomBytes?: number;
  /**
   * Image of the generator Job; must contain `bash`, `od`, `tr` and `kubectl`.
   * @default 'docker.io/alpine/k8s:1.31.4'
   */
  readonly generatorImage?: string;
  /**
   * Seconds a finished generator Job is kept before Kubernetes deletes it.
   * @default Duration.hours(1)
   */
  readonly generatorTtl?: Duration;
  /**
   * Labels on the generator's objects.
   * @default - `app.kubernetes.io/managed-by: cdk8s-stateful`
   */
  readonly labels?: { [key: string]: string };
}

/**
 * The generator script: creates Secret `secretName` with a strong random value
 * per key when it is absent, and adds the keys it lacks (a user added later)
 * when it exists. A value, once written, is never changed: a second apply, a
 * retried Job or two racing Jobs leave every existing password as it is. It
 * uses only `kubectl get`, `kubectl create secret generic` and a merge
 * `kubectl patch` that names missing keys only.
 */
export function renderSecretGeneratorScript(secretName: string, keys: string[], randomBytes: number = 32): string {
  return [
    '#!/bin/bash',
    '# Creates the Secret with random values, or adds the keys it lacks; never changes a value.',
    'set -euo pipefail',
    `secret=${secretName}`,
    `keys=(${keys.join(' ')})`,
    '',
    'random_value() {',
    `  od -An -tx1 -N${randomBytes} /dev/urandom | tr -d ' \\n'`,
    '}',
    '',
    'if ! kubectl get secret "$secret" >/dev/null 2>&1; then',
    '  literals=()',
    '  for k in "${keys[@]}"; do literals+=("--from-literal=${k}=$(random_value)"); done',
    '  if kubectl create secret generic "$secret" "${literals[@]}" >/dev/null 2>&1; then',
    '    echo "secret $secret created with ${#keys[@]} keys"',
    '    exit 0',
    '  fi',
    '  # another run created it meanwhile: fall through and add what it lacks',
    'fi',
    '# shellcheck disable=SC2016 # a Go template for kubectl, not shell',
    `present="$(kubectl get secret "$secret" -o go-template='{{range $k, $v := .data}}{{$k}}{{"\\n"}}{{end}}')"`,
    'patch=""',
    'added=()',
    'for k in "${keys[@]}"; do',
    '  if ! grep -qxF -- "$k" <<<"$present"; then',
    `    patch="\${patch:+\${patch},}\\"\${k}\\":\\"$(random_value | base64 | tr -d '\\n')\\""`,
    '    added+=("$k")',
    '  fi',
    'done',
    'if [ "${#added[@]}" -eq 0 ]; then',
    '  echo "secret $secret exists; leaving it unchanged"',
    '  exit 0',
    'fi',
    'kubectl patch secret "$secret" --type=merge -p "{\\"data\\":{${patch}}}" >/dev/null',
    'echo "secret $secret exists; added ${added[*]}"',
    '',
  ].join('\n');
}

/**
 * A Secret of named keys, either user-managed (`existingSecret`) or generated
 * in the cluster by a small Job that creates it with random values only when
 * it is absent. The values never appear in the synthesized YAML (which is
 * usually committed to git) and a second synth + apply never changes them;
 * the price is that the Secret lives only in the cluster: back it up with the
 * cluster, and deleting it rotates every value on the next apply.
 */
export class Credentials extends Construct {
  /** Name of the Secret the workloads read. */
  public readonly secretName: string;
  /** The keys of the Secret. */
  public readonly keys: string[];
  /** True when the Secret is generated in the cluster (no `existingSecret`). */
  public readonly generated: boolean;
  /** The generator Job, when generated. */
  public readonly job: k8s.KubeJob | undefined;
  /** The generator's ServiceAccount, when generated. */
  public readonly serviceAccount: k8s.KubeServiceAccount | undefined;
  /** The generator's Role, when generated. */
  public readonly role: k8s.KubeRole | undefined;

  private readonly problem: Problem;
  private secretRef: kplus.ISecret | undefined;

  public constructor(scope: Construct, id: string, props: CredentialsProps) {
    super(scope, id);
    const problem = new Problem('Credentials', this);
    this.problem = problem;
    if (!Array.isArray(props.keys) || props.keys.length === 0) throw problem.error('keys', 'must name at least one key');
    for (const k of props.keys) {
      if (!SECRET_KEY.test(k) || k.length > 253) throw problem.error('keys', `'${k}' is not a valid Secret key (letters, digits, '-', '_', '.')`);
    }
    if (new Set(props.keys).size !== props.keys.length) throw problem.error('keys', `contain duplicates: ${props.keys.join(', ')}`);
    this.keys = [...props.keys];

    if (props.existingSecret !== undefined) {
      if (!DNS_SUBDOMAIN.test(props.existingSecret) || props.existingSecret.length > 253) {
        throw problem.error('existingSecret', `must be a Secret name (a DNS-1123 subdomain), got '${props.existingSecret}'`);
      }
      this.secretName = props.existingSecret;
      this.generated = false;
      return;
    }

    this.generated = true;
    this.secretName = problem.dnsLabel('secretName', props.secretName ?? defaultResourceName(this), MAX_DNS_LABEL - '-generate'.length);
    const randomBytes = problem.integer('randomBytes', props.randomBytes ?? 32, 16, 128);
    const script = renderSecretGeneratorScript(this.secretName, this.keys, randomBytes);
    const generator = new OneShotJob(this, 'Generator', {
      problem,
      name: `${this.secretName}-generate`,
      // a Job's template is immutable: new keys (a user added) make a new Job that adds them
      jobName: `${this.secretName}-gen-${contentHash(script)}`,
      labels: { 'app.kubernetes.io/managed-by': 'cdk8s-stateful', 'app.kubernetes.io/component': 'secret-generator', ...(props.labels ?? {}) },
      annotations: {
        [GENERATES_SECRET_ANNOTATION]: this.secretName,
        [GENERATES_KEYS_ANNOTATION]: this.keys.join(','),
      },
      runAs: { uid: 65534, gid: 65534 },
      ttl: props.generatorTtl ?? Duration.hours(1),
      activeDeadline: Duration.minutes(10),
      backoffLimit: 6,
      rules: [
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
        { apiGroups: [''], resources: ['secrets'], resourceNames: [this.secretName], verbs: ['get', 'patch'] },
      ],
      container: {
        name: 'generate',
        image: props.generatorImage ?? DEFAULT_KUBECTL_IMAGE,
        command: ['/bin/bash', '-c', script],
        env: { HOME: kplus.EnvValue.fromValue('/tmp') },
        resources: Resources.of({ cpuMillis: 50, memory: Size.mebibytes(128) }),
        mounts: [{ volume: 'tmp', path: '/tmp' }],
      },
      volumes: [{ name: 'tmp', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(16) }) }],
    });
    this.job = generator.job;
    this.serviceAccount = generator.serviceAccount;
    this.role = generator.role;
  }

  /** True when the Secret holds `key`. */
  public hasKey(key: string): boolean {
    return this.keys.includes(key);
  }

  /** The Secret, for cdk8s-plus (`kplus.EnvValue.fromSecretValue`, volumes). */
  public get secret(): kplus.ISecret {
    if (!this.secretRef) this.secretRef = kplus.Secret.fromSecretName(this, 'Ref', this.secretName);
    return this.secretRef;
  }

  /**
   * The value of `key` as a cdk8s-plus env value that reads the Secret, e.g.
   * `envVariables: { DB_PASSWORD: db.credentials.envValue('app-password') }`
   * on a kplus container. The value itself never appears in the manifest.
   */
  public envValue(key: string): kplus.EnvValue {
    return kplus.EnvValue.fromSecretValue({ secret: this.secret, key: this.checkKey(key) });
  }

  /** The `secretKeyRef` of `key`. */
  public keyRef(key: string): k8s.SecretKeySelector {
    return { name: this.secretName, key: this.checkKey(key) };
  }

  private checkKey(key: string): string {
    if (!this.hasKey(key)) throw this.problem.error('keys', `have no key '${key}'; keys: ${this.keys.join(', ')}`);
    return key;
  }
}

/** Options of `systemCredentials`. */
export interface SystemCredentialsOptions {
  /** The keys the system reads. */
  readonly keys: string[];
  /** The user's Secret, if they bring one. */
  readonly existingSecret?: string;
}

/**
 * The Secret of a system: `<name>-credentials`, generated in the cluster,
 * or the user's `existingSecret`. A generated one must leave room for its
 * Job's name (`<name>-credentials-generate`, a DNS label); that limit is an
 * error about `name`, which the user sets, not about an internal Secret name.
 * @internal
 */
export function systemCredentials(owner: Construct, problem: Problem, identity: WorkloadIdentity, options: SystemCredentialsOptions): Credentials {
  const existing = options.existingSecret;
  if (existing !== undefined && typeof existing !== 'string') throw problem.error('existingSecret', `must be a Secret name, got ${describe(existing)}`);
  const secretName = `${identity.name}-credentials`;
  const maxSecret = MAX_DNS_LABEL - '-generate'.length;
  if (existing === undefined && secretName.length > maxSecret) {
    const room = maxSecret - '-credentials'.length;
    throw problem.error('name', `'${identity.name}' is ${identity.name.length} characters; with a generated Secret at most ${room} are allowed (its generator's ServiceAccount and Role '${secretName}-generate' must fit ${MAX_DNS_LABEL}): ${identity._nameHint}, or bring existingSecret`);
  }
  return new Credentials(owner, 'Credentials', { keys: options.keys, existingSecret: existing, secretName });
}
