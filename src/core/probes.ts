import { Duration } from 'cdk8s';
import { k8s } from './private/k8s';

/** Timing of a probe. */
export interface ProbeTiming {
  /**
   * Wait before the first check.
   * @default Duration.seconds(0)
   */
  readonly initialDelay?: Duration;
  /**
   * Time between checks.
   * @default Duration.seconds(10)
   */
  readonly period?: Duration;
  /**
   * Time a single check may take.
   * @default Duration.seconds(5)
   */
  readonly timeout?: Duration;
  /**
   * Consecutive failures before the probe fails.
   * @default 3
   */
  readonly failureThreshold?: number;
}

/**
 * A container probe: a command, a TCP connect or an HTTP GET against a named
 * port. Ports are referenced by name so a renamed port cannot silently leave
 * a probe checking nothing.
 */
export class Probe {
  /** Run `command` in the container; exit code 0 is success. */
  public static exec(command: string[], timing: ProbeTiming = {}): Probe {
    return new Probe({ exec: { command } }, timing, undefined);
  }

  /** Open a TCP connection to the named port. */
  public static tcp(portName: string, timing: ProbeTiming = {}): Probe {
    return new Probe({ tcpSocket: { port: k8s.IntOrString.fromString(portName) } }, timing, portName);
  }

  /** HTTP GET `path` on the named port; 200-399 is success. */
  public static http(path: string, portName: string, timing: ProbeTiming = {}): Probe {
    return new Probe({ httpGet: { path, port: k8s.IntOrString.fromString(portName) } }, timing, portName);
  }

  private constructor(
    private readonly action: Pick<k8s.Probe, 'exec' | 'tcpSocket' | 'httpGet'>,
    private readonly timing: ProbeTiming,
    /** The port this probe targets, if any. */
    public readonly portName: string | undefined,
  ) {}

  /** @internal */
  public _render(): k8s.Probe {
    const t = this.timing;
    return {
      ...this.action,
      initialDelaySeconds: t.initialDelay?.toSeconds() ?? 0,
      periodSeconds: t.period?.toSeconds() ?? 10,
      timeoutSeconds: t.timeout?.toSeconds() ?? 5,
      failureThreshold: t.failureThreshold ?? 3,
      successThreshold: 1,
    };
  }
}
