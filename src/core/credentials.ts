import { Duration, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { k8s } from './private/k8s';
import { defaultResourceName, MAX_DNS_LABEL, Problem } from './names';
import { Resources } from './resources';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from './security';

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
   * @default DEFAULT_KUBECTL_IMAGE
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
  /**
   * Kind named in error messages (the owning system construct).
   * @default 'Credentials'
   */
  readonly kind?: string;
}

/**
 * The generator script: creates Secret `secretName` with a strong random value
 * per key, only if the Secret is absent. Uses nothing but
 * `kubectl get secret NAME` and `kubectl create secret generic NAME
 * --from-literal=...`, so a second apply never changes a password.
 */
export function renderSecretGeneratorScript(secretName: string, keys: string[], randomBytes: number = 32): string {
  const literals = keys.map((k, i) => `  --from-literal="${k}=\${v${i}}"`);
  return [
    '#!/bin/bash',
    '# Creates the Secret with random values once; never overwrites an existing one.',
    'set -euo pipefail',
    `secret=${secretName}`,
    '',
    'random_value() {',
    `  od -An -tx1 -N${randomBytes} /dev/urandom | tr -d ' \\n'`,
    '}',
    '',
    'if kubectl get secret "$secret" >/dev/null 2>&1; then',
    '  echo "secret $secret exists; leaving it unchanged"',
    '  exit 0',
    'fi',
    ...keys.map((_k, i) => `v${i}="$(random_value)"`),
    'if ! kubectl create secret generic "$secret" \\',
    ...literals.map((l) => `${l} \\`),
    '  >/dev/null; then',
    '  # another run may have created it meanwhile',
    '  kubectl get secret "$secret" >/dev/null',
    'fi',
    'echo "secret $secret created"',
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

  public constructor(scope: Construct, id: string, props: CredentialsProps) {
    super(scope, id);
    const problem = new Problem(props.kind ?? 'Credentials', props.kind ? scope : this);
    this.problem = problem;
    if (props.keys.length === 0) throw problem.error('credentials keys', 'must name at least one key');
    for (const k of props.keys) {
      if (!SECRET_KEY.test(k) || k.length > 253) throw problem.error('credentials keys', `'${k}' is not a valid Secret key (letters, digits, '-', '_', '.')`);
    }
    if (new Set(props.keys).size !== props.keys.length) throw problem.error('credentials keys', `contain duplicates: ${props.keys.join(', ')}`);
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
    this.secretName = problem.dnsLabel('credentials secretName', props.secretName ?? defaultResourceName(this), MAX_DNS_LABEL - '-generate'.length);
    const randomBytes = problem.integer('credentials randomBytes', props.randomBytes ?? 32, 16, 128);
    const image = props.generatorImage ?? DEFAULT_KUBECTL_IMAGE;
    const name = `${this.secretName}-generate`;
    const labels = { 'app.kubernetes.io/managed-by': 'cdk8s-stateful', 'app.kubernetes.io/component': 'secret-generator', ...(props.labels ?? {}) };
    const metadata = { name, labels };

    this.serviceAccount = new k8s.KubeServiceAccount(this, 'ServiceAccount', { metadata, automountServiceAccountToken: false });
    this.role = new k8s.KubeRole(this, 'Role', {
      metadata,
      rules: [
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
        { apiGroups: [''], resources: ['secrets'], resourceNames: [this.secretName], verbs: ['get'] },
      ],
    });
    new k8s.KubeRoleBinding(this, 'RoleBinding', {
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name }],
    });
    const runAs = { uid: 65534, gid: 65534 };
    this.job = new k8s.KubeJob(this, 'Job', {
      metadata: {
        ...metadata,
        annotations: {
          [GENERATES_SECRET_ANNOTATION]: this.secretName,
          [GENERATES_KEYS_ANNOTATION]: this.keys.join(','),
        },
      },
      spec: {
        backoffLimit: 6,
        ttlSecondsAfterFinished: (props.generatorTtl ?? Duration.hours(1)).toSeconds(),
        activeDeadlineSeconds: 600,
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: name,
            // the only pod of this library that talks to the API server
            automountServiceAccountToken: true,
            enableServiceLinks: false,
            restartPolicy: 'OnFailure',
            securityContext: restrictedPodSecurityContext(runAs),
            containers: [{
              name: 'generate',
              image,
              imagePullPolicy: 'IfNotPresent',
              command: ['/bin/bash', '-c', renderSecretGeneratorScript(this.secretName, this.keys, randomBytes)],
              env: [{ name: 'HOME', value: '/tmp' }],
              resources: Resources.of({ cpuMillis: 50, memory: Size.mebibytes(128) })._render(),
              securityContext: restrictedContainerSecurityContext(true),
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
              terminationMessagePolicy: 'FallbackToLogsOnError',
            }],
            volumes: [{ name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('16Mi') } }],
          },
        },
      },
    });
  }

  /** True when the Secret holds `key`. */
  public hasKey(key: string): boolean {
    return this.keys.includes(key);
  }

  /** An environment variable `envName` set from `key` of the Secret. */
  public envVar(envName: string, key: string): k8s.EnvVar {
    return { name: envName, valueFrom: { secretKeyRef: { name: this.secretName, key: this.checkKey(key) } } };
  }

  /** The `secretKeyRef` of `key`. */
  public keyRef(key: string): k8s.SecretKeySelector {
    return { name: this.secretName, key: this.checkKey(key) };
  }

  private checkKey(key: string): string {
    if (!this.hasKey(key)) throw this.problem.error('credentials', `have no key '${key}'; keys: ${this.keys.join(', ')}`);
    return key;
  }
}
