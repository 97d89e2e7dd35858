import { usageError } from './errors';

/** An option a command accepts. */
export interface OptionSpec {
  /** Long name, without dashes. */
  readonly name: string;
  /** One-letter alias, without the dash. */
  readonly short?: string;
  /** Takes a value (`--name value` or `--name=value`); otherwise a switch. */
  readonly value: boolean;
}

/** Positional arguments and options of one command line. */
export interface ParsedArgs {
  readonly positionals: string[];
  readonly options: { [name: string]: string | true };
}

/**
 * Splits `argv` into positionals and the options of `specs`, wherever they
 * appear; `--` ends the options. An unknown option, a missing value or a
 * value given to a switch is an error that names `command`.
 */
export function parseArgs(command: string, argv: string[], specs: OptionSpec[]): ParsedArgs {
  const positionals: string[] = [];
  const options: { [name: string]: string | true } = {};
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const known = specs.map((s) => `--${s.name}`).join(', ');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(0, eq) : a;
    const spec = key.startsWith('--') ? byName.get(key.slice(2)) : byShort.get(key.slice(1));
    if (!spec) throw usageError(`${command}: unknown option '${key}' (options: ${known})`);
    if (!spec.value) {
      if (eq > 0) throw usageError(`${command}: --${spec.name} takes no value`);
      options[spec.name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq > 0) value = a.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined || value === '') throw usageError(`${command}: --${spec.name} needs a value`);
    options[spec.name] = value;
  }
  return { positionals, options };
}

/** The value of option `name`, or `fallback`. */
export function stringOption(args: ParsedArgs, name: string, fallback: string): string;
export function stringOption(args: ParsedArgs, name: string): string | undefined;
export function stringOption(args: ParsedArgs, name: string, fallback?: string): string | undefined {
  const v = args.options[name];
  return typeof v === 'string' ? v : fallback;
}

/** One of `allowed` for option `name`. */
export function choiceOption(command: string, args: ParsedArgs, name: string, allowed: string[], fallback: string): string {
  const v = stringOption(args, name, fallback);
  if (!allowed.includes(v)) throw usageError(`${command}: --${name} must be one of ${allowed.join(', ')}, got '${v}'`);
  return v;
}

/** Exactly `names.length` positionals, named in the error. */
export function positionals(command: string, args: ParsedArgs, names: string[]): string[] {
  if (args.positionals.length !== names.length) {
    const got = args.positionals.length === 0 ? 'none' : args.positionals.map((p) => `'${p}'`).join(' ');
    throw usageError(`${command} takes ${names.map((n) => `<${n}>`).join(' ')}, got ${got} (see cdk8s-stateful ${command} --help)`);
  }
  return args.positionals;
}
