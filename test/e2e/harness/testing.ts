import { canCreateNamespaces } from './sandbox';

/**
 * `describe` for real-process scenarios: they need root and Linux namespaces.
 * Elsewhere (a user's laptop) they are skipped with a message; in CI a
 * missing capability is an error, never a silent skip.
 */
export function describeWithNamespaces(name: string, body: () => void): void {
  if (canCreateNamespaces()) {
    describe(name, body);
    return;
  }
  if (process.env.CI) throw new Error('the real-process tests need root and Linux namespaces in CI');
  process.stderr.write(`\n*** SKIPPED: '${name}' needs root and Linux namespaces ***\n`);
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
