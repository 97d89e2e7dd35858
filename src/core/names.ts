import { Chart } from 'cdk8s';
import { IConstruct } from 'constructs';

/** Longest StatefulSet name whose pods still get created (the `controller-revision-hash` label is `<name>-<10 chars>` and must fit 63). */
export const MAX_STATEFUL_SET_NAME = 52;
/** Longest DNS-1123 label: Service names, pod names (hostnames), label values. */
export const MAX_DNS_LABEL = 63;
/** Longest port name (IANA service name). */
export const MAX_PORT_NAME = 15;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Builds construction-time error messages that name the construct and the
 * property, e.g. `ZooKeeperEnsemble 'streaming/zk': replicas must be ...`.
 * @internal
 */
export class Problem {
  public constructor(private readonly kind: string, private readonly scope: IConstruct) {}

  /** The prefix every message carries: kind and construct path. */
  public get subject(): string {
    return `${this.kind} '${this.scope.node.path}'`;
  }

  /** An Error whose message names the construct, the property and what is allowed. */
  public error(prop: string, message: string): Error {
    return new Error(`${this.subject}: ${prop} ${message}`);
  }

  /**
   * Throws unless `value` (when given) was made by `type`: catches plain
   * objects and strings from JavaScript callers (`storage: { size: '10Gi' }`)
   * before they die later as a TypeError without context.
   */
  public instanceOf<T>(prop: string, value: T | undefined, type: Function, expected: string): T | undefined {
    if (value !== undefined && !(value instanceof type)) {
      throw this.error(prop, `must be ${expected}, got ${describe(value)}`);
    }
    return value;
  }

  /** Throws unless `value` is an integer in [min, max]. */
  public integer(prop: string, value: number, min: number, max: number = Number.MAX_SAFE_INTEGER): number {
    if (!Number.isInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
      throw this.error(prop, `must be ${range}, got ${value}`);
    }
    return value;
  }

  /** Throws unless `value` (when given) is an image reference with a pinned tag (not 'latest') or digest. */
  public pinnedImage(prop: string, value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    const pinned = typeof value === 'string' && /^\S+$/.test(value)
      && (/@sha256:[0-9a-f]{64}$/.test(value) || /:[\w][\w.-]{0,127}$/.test(value.split('/').pop()!)) && !/:latest$/.test(value);
    if (!pinned) throw this.error(prop, `must be an image reference with a pinned tag or digest, e.g. 'registry.example.com/tools:1.2.3', got ${describe(value)}`);
    return value;
  }

  /** Throws unless `value` is a valid DNS-1123 label of at most `max` characters. */
  public dnsLabel(prop: string, value: string, max: number = MAX_DNS_LABEL): string {
    if (!DNS_LABEL.test(value)) {
      throw this.error(prop, `must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit), got '${value}'`);
    }
    if (value.length > max) {
      throw this.error(prop, `'${value}' is ${value.length} characters; at most ${max} are allowed`);
    }
    return value;
  }

  /** Throws unless `value` is a valid label value (at most 63 characters, alphanumeric at both ends). */
  public labelValue(prop: string, value: string): string {
    if (typeof value !== 'string' || value.length > 63 || !/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/.test(value)) {
      throw this.error(prop, `must be a label value (at most 63 letters, digits, '-', '_' and '.', alphanumeric at both ends), got ${describe(value)}`);
    }
    return value;
  }

  /** Throws unless `key` is a valid label key (`[prefix/]name`). */
  public labelKey(prop: string, key: string): string {
    const [prefix, name] = key.includes('/') ? key.split(/\/(.*)/s, 2) : [undefined, key];
    const okName = name !== undefined && name.length <= 63 && /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(name);
    const okPrefix = prefix === undefined || (prefix.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(prefix));
    if (!okName || !okPrefix) throw this.error(prop, `key '${key}' is not a valid label key ([DNS-subdomain prefix/]name of at most 63 characters)`);
    return key;
  }

  /** Throws unless `value` is a valid Kubernetes port name (IANA_SVC_NAME). */
  public portName(prop: string, value: string): string {
    if (!PORT_NAME.test(value) || value.length > MAX_PORT_NAME || !/[a-z]/.test(value) || value.includes('--')) {
      throw this.error(prop, `port name '${value}' is invalid: use at most ${MAX_PORT_NAME} lower-case letters, digits and single '-', with at least one letter`);
    }
    return value;
  }
}

/**
 * The default Kubernetes name of a construct: its path from the chart
 * (inclusive) joined with '-', lower-cased. Unlike `Names.toDnsLabel` there is
 * no hash: pod DNS names stay readable and stable, and an over-long name is an
 * error that tells the user which id to shorten instead of being truncated.
 */
export function defaultResourceName(scope: IConstruct): string {
  const chart = Chart.of(scope);
  const parts: string[] = [];
  for (const c of scope.node.scopes) {
    if (parts.length === 0 && c !== chart) {
      continue;
    }
    parts.push(c.node.id);
  }
  return parts
    .map((p) => p.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, ''))
    .filter((p) => p.length > 0)
    .join('-');
}

/** The ids on the path that make up `defaultResourceName`, for error messages. */
export function pathIds(scope: IConstruct): string[] {
  const chart = Chart.of(scope);
  const ids: string[] = [];
  let seen = false;
  for (const c of scope.node.scopes) {
    seen = seen || c === chart;
    if (seen) ids.push(`'${c.node.id}'`);
  }
  return ids;
}

/** A short, readable rendering of a bad value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return `the string '${value}'`;
  if (value === null || typeof value !== 'object') return String(value);
  const name = (value as object).constructor?.name;
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    json = '[object]';
  }
  if (json.length > 80) json = `${json.slice(0, 77)}...`;
  return name && name !== 'Object' ? `a ${name} ${json}` : `a plain object ${json}`;
}
