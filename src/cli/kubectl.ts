import { spawnSync } from 'child_process';
import { CliError, EXIT, failure } from './errors';

export type Json = any;

/** How to reach the cluster: the kubectl flags every call carries. */
export interface KubectlOptions {
  /** The kubectl executable. */
  readonly kubectl: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly namespace?: string;
}

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The one way the CLI talks to the cluster: kubectl, with JSON output. */
export class Kubectl {
  private resolvedNamespace: string | undefined;

  public constructor(private readonly options: KubectlOptions) {}

  /** Runs kubectl with the global flags; never throws for a non-zero exit. */
  public run(args: string[], opts: { input?: string; timeoutMs?: number } = {}): KubectlResult {
    const o = this.options;
    const flags = [
      ...(o.kubeconfig ? ['--kubeconfig', o.kubeconfig] : []),
      ...(o.context ? ['--context', o.context] : []),
      ...(o.namespace ? ['--namespace', o.namespace] : []),
    ];
    const r = spawnSync(o.kubectl, [...flags, ...args], {
      input: opts.input, encoding: 'utf-8', timeout: opts.timeoutMs ?? 120_000, maxBuffer: 256 * 1024 * 1024, env: process.env,
    });
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CliError(`kubectl not found: '${o.kubectl}' (install kubectl or pass --kubectl PATH)`, EXIT.FAILED);
    }
    const timedOut = r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
    return {
      code: r.status ?? 1,
      stdout: r.stdout ?? '',
      stderr: (r.stderr ?? '') + (timedOut ? `\n(kubectl ${args[0]} did not finish within ${Math.round((opts.timeoutMs ?? 120_000) / 1000)} s and was stopped)` : ''),
    };
  }

  /** kubectl that must succeed: its stdout. */
  public must(args: string[], opts: { input?: string; timeoutMs?: number } = {}): string {
    const r = this.run(args, opts);
    if (r.code !== 0) throw failure(`kubectl ${args.slice(0, 3).join(' ')} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
    return r.stdout;
  }

  /** `kubectl get ... -o json`, or undefined when the object does not exist. */
  public get(args: string[]): Json | undefined {
    const r = this.run(['get', ...args, '-o', 'json']);
    if (r.code !== 0) {
      if (/\(NotFound\)|not found/.test(r.stderr)) return undefined;
      throw failure(`kubectl get ${args.join(' ')} failed: ${r.stderr.trim()}`);
    }
    return JSON.parse(r.stdout);
  }

  /** The items of `kubectl get <list> -o json`. */
  public list(args: string[]): Json[] {
    return JSON.parse(this.must(['get', ...args, '-o', 'json'])).items ?? [];
  }

  /** A merge patch of one object, owned by the CLI's field manager. */
  public patch(ref: string, patch: Json, subresource?: string): Json {
    return JSON.parse(this.must(['patch', ref, '--type=merge', '--field-manager=cdk8s-stateful', '-p', JSON.stringify(patch),
      ...(subresource ? [`--subresource=${subresource}`] : []), '-o', 'json']));
  }

  /**
   * Runs `script` with bash in `container` of `pod`: `bash -c script pod args...`
   * (so `$0` is the pod's name and `$1...` are `args`).
   */
  public exec(pod: string, container: string, script: string, args: string[] = [], timeoutMs = 60_000): KubectlResult {
    return this.run(['exec', pod, '-c', container, '--', 'bash', '-c', script, pod, ...args], { timeoutMs });
  }

  /** The namespace the calls address: --namespace, else the context's, else `default`. */
  public get namespace(): string {
    if (this.resolvedNamespace === undefined) {
      this.resolvedNamespace = this.options.namespace
        ?? (this.run(['config', 'view', '--minify', '-o', 'jsonpath={.contexts[0].context.namespace}']).stdout.trim() || 'default');
    }
    return this.resolvedNamespace;
  }
}
