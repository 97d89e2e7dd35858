/** Exit codes of `cdk8s-stateful`, documented in every command's `--help`. */
export const EXIT = {
  /** Done. */
  OK: 0,
  /** A health gate failed, or kubectl failed. */
  FAILED: 1,
  /** Bad arguments: unknown option, bad stage list, bad size or duration. */
  USAGE: 2,
  /** Refused before changing anything: unknown StatefulSet, wrong update strategy, a shrink, a scale-down that would lose data. */
  REFUSED: 3,
  /** Waited longer than --timeout. */
  TIMEOUT: 4,
};

/** An error the CLI reports as its message (no stack) and exits with `exitCode`. */
export class CliError extends Error {
  public readonly exitCode: number;

  public constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, EXIT.USAGE);
}

export function refusal(message: string): CliError {
  return new CliError(message, EXIT.REFUSED);
}

export function failure(message: string): CliError {
  return new CliError(message, EXIT.FAILED);
}

export function timeout(message: string): CliError {
  return new CliError(message, EXIT.TIMEOUT);
}
