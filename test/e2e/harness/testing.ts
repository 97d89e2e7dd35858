import { spawnSync } from 'child_process';
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
