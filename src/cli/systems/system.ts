import { Json, Kubectl } from '../kubectl';
import { Output } from '../workload';

/** A script the CLI runs with bash inside a pod's container (`kubectl exec ... -- bash -c script pod args...`). */
export interface Check {
  /** What it checks, as reports name it, e.g. 'quorum (srvr)'. */
  readonly name: string;
  /** The script: small, `set -euo pipefail`; `key=value` lines on stdout, a reason on stderr and a non-zero exit when unhealthy. */
  readonly script: string;
  readonly args?: string[];
}

/** What one run of a check in one pod returned. */
export interface CheckResult {
  readonly pod: string;
  readonly ordinal: number;
  readonly check: string;
  /** Exit 0. */
  readonly ok: boolean;
  /** Its stdout. */
  readonly stdout: string;
  /** The `key=value` lines of its stdout (the last of a key). */
  readonly values: { [key: string]: string };
  /** Everything it printed (stdout, then stderr), trimmed. */
  readonly output: string;
}

/** A reason the system is not healthy. */
export interface Finding {
  /** The pod it concerns, if one. */
  readonly pod?: string;
  readonly check: string;
  readonly detail: string;
}

/** What a system's scale steps work with. */
export interface ScaleContext {
  readonly k: Kubectl;
  readonly o: Output;
  readonly sts: Json;
  readonly system: System;
  /** `kubectl -n <namespace>`, for commands the CLI prints for the user. */
  readonly kubectl: string;
  /** Replicas now and wanted. */
  readonly from: number;
  readonly to: number;
  /** Runs `check` in `pod` (the system's container); the result. */
  run(pod: string, check: Check): CheckResult;
  /** The rendered files of the StatefulSet's ConfigMap (key = file name), or {} when it has none. */
  configFiles(): { [file: string]: string };
}

/** What the CLI knows about one system's health and operations. */
export interface System {
  /** The system's name in messages: 'ZooKeeper', 'Redis Cluster'. */
  readonly title: string;
  /** The container the checks run in. */
  readonly container: string;
  /** Run in every pod: the member's own health, role and lag. */
  readonly member?: Check;
  /** Run once, in the first Ready pod: health only the cluster as a whole knows. */
  readonly cluster?: Check;
  /** Rules over every member's result (all ran without error), e.g. "exactly one leader". */
  judge?(members: CheckResult[]): Finding[];
  /** The role column of `status`. */
  role?(member: CheckResult): string;
  /** The lag column of `status`. */
  lag?(member: CheckResult): string;
  /** Before replicas change: refuse (throw) or prepare (e.g. remove members); returns lines to print afterwards. */
  beforeScale?(ctx: ScaleContext): Promise<string[]> | string[];
  /** After a scale-up, once the new pods run: make them members (they become Ready only as members); lines to print. */
  join?(ctx: ScaleContext): string[];
  /** After the StatefulSet has `to` Ready replicas: clean up what the removed members left. */
  afterScale?(ctx: ScaleContext): Promise<string[]> | string[];
}

/** Ordinals from `from` up to (not including) `to`: the pods a scale removes (from to, to from) or adds (from from, to to). */
export function ordinalsBetween(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

/** The `key=value` lines of a script's output. */
export function keyValues(stdout: string): { [key: string]: string } {
  const values: { [key: string]: string } = {};
  for (const line of stdout.split('\n')) {
    const m = /^([a-z_]+)=(.*)$/.exec(line.trim());
    if (m) values[m[1]] = m[2];
  }
  return values;
}

/** A script's lines, indented, for a report. */
export function indent(text: string, prefix = '    | '): string {
  const lines = text.trim().split('\n');
  return lines.map((l) => `${prefix}${l}`).join('\n');
}
