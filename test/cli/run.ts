/** Runs the CLI in this process (the TS entry) and collects what it printed. */
import { run } from '../../src/cli/main';

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
  /** stdout and stderr in the order they were written. */
  readonly all: string;
}

export async function cli(argv: string[], onLine?: (line: string) => void): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const all: string[] = [];
  const code = await run(argv, {
    out: (l) => { out.push(l); all.push(l); onLine?.(l); },
    err: (l) => { err.push(l); all.push(l); onLine?.(l); },
  });
  return { code, out: out.join('\n'), err: err.join('\n'), all: all.join('\n') };
}
