import { spawnSync } from 'child_process';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { LocalCluster } from './cluster';
import { canCreateNamespaces } from './sandbox';

/** What this machine lacks for the real-process tests, or undefined. */
function missingCapability(): string | undefined {
  if (!canCreateNamespaces()) return 'root and Linux namespaces';
  if (spawnSync('nft', ['--version'], { stdio: 'ignore' }).status !== 0) return 'nft to enforce NetworkPolicies (Debian package nftables)';
  return undefined;
}

/**
 * `describe` for real-process scenarios: they need root, Linux namespaces and
 * nft. Elsewhere (a user's laptop) they are skipped with a message; in CI a
 * missing capability is an error, never a silent skip.
 */
export function describeWithNamespaces(name: string, body: () => void): void {
  const missing = missingCapability();
  if (!missing) {
    describe(name, body);
    return;
  }
  if (process.env.CI) throw new Error(`the real-process tests need ${missing} in CI`);
  process.stderr.write(`\n*** SKIPPED: '${name}' needs ${missing} ***\n`);
  describe.skip(name, body);
}

/** Polls `f` every second until it returns a value (not undefined, no exception). */
export async function until<T>(what: string, timeoutMs: number, f: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Labels of the e2e's allowed client pods: a test chart admits them with `allowedClients(chart)`. */
export const ALLOWED_CLIENT_LABELS = { 'e2e.cdk8s-stateful.io/client': 'allowed' };

/** The allowed client pods as a cdk8s-plus peer, for a system's `allowClientsFrom`. */
export function allowedClients(scope: Construct): kplus.Pods {
  return kplus.Pods.select(scope, 'E2eAllowedClients', { labels: ALLOWED_CLIENT_LABELS });
}

/** `tcpConnect` results. */
export const CONNECTED = 0;
/** `timeout`'s exit code: the connection attempt was dropped (no answer at all). */
export const DROPPED = 124;

/**
 * Exit code of a TCP connection attempt from `pod` to host:port, given up
 * after `seconds`: CONNECTED, DROPPED (what the harness does to traffic a
 * NetworkPolicy denies), or another code (refused, or the name did not resolve).
 */
export async function tcpConnect(cluster: LocalCluster, pod: string, host: string, port: number, seconds = 3): Promise<number> {
  return (await cluster.exec(pod, ['timeout', String(seconds), 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`], { timeoutMs: (seconds + 5) * 1000 })).code;
}

/**
 * Starts `<prefix>-client` (ALLOWED_CLIENT_LABELS) and `<prefix>-stranger` (no
 * labels) in `namespace`; returns their names.
 */
export async function startClientAndStranger(cluster: LocalCluster, prefix: string, namespace: string,
  runAs?: { uid: number; gid: number }): Promise<{ client: string; stranger: string }> {
  const client = await cluster.startClientPod({ name: `${prefix}-client`, namespace, labels: ALLOWED_CLIENT_LABELS, runAs });
  const stranger = await cluster.startClientPod({ name: `${prefix}-stranger`, namespace, runAs });
  return { client, stranger };
}
