/**
 * Prometheus's own checks of rendered alerts: the synthesized PrometheusRule
 * objects become a rule file that `promtool check rules` must accept, and
 * `promtool test rules` evaluates each alert on input series written as
 * kube-state-metrics, the kubelet and the exporters write them.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';

type Json = any;

const PROMTOOL = process.env.PROMTOOL ?? 'promtool';

/** True when promtool runs; in CI its absence is an error, elsewhere a visible skip. */
export function havePromtool(): boolean {
  if (spawnSync(PROMTOOL, ['--version']).status === 0) return true;
  if (process.env.CI) throw new Error(`${PROMTOOL} (Debian's prometheus package) is required in CI`);
  return false;
}

/** `describe` for promtool checks: skipped with a message where promtool is missing. */
export function describeWithPromtool(name: string, body: () => void): void {
  if (havePromtool()) {
    describe(name, body);
    return;
  }
  process.stderr.write(`\n*** SKIPPED: '${name}' needs promtool (apt-get install prometheus) ***\n`);
  describe.skip(name, body);
}

/** The rule groups of every PrometheusRule in `objects`, as Prometheus reads them. */
export function ruleGroups(objects: Json[]): Json[] {
  return objects.filter((o) => o.kind === 'PrometheusRule').flatMap((o) => o.spec.groups);
}

/** Every alerting rule of `objects`, by alert name. */
export function alertsOf(objects: Json[]): Map<string, Json> {
  return new Map(ruleGroups(objects).flatMap((g) => g.rules).map((r: Json) => [r.alert, r]));
}

export interface PromtoolResult {
  readonly ok: boolean;
  readonly output: string;
  /** Wall time of the promtool run. */
  readonly ms: number;
}

/** Runs promtool in a temporary directory holding `files`, and removes it. */
function promtool(args: string[], files: { [name: string]: string }): PromtoolResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promtool-'));
  try {
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
    const t = Date.now();
    const r = spawnSync(PROMTOOL, args, { cwd: dir, encoding: 'utf-8', timeout: 60000 });
    return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`, ms: Date.now() - t };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The rule file of `objects`; with `only`, just those alerts (their groups as rendered otherwise). */
export function ruleFile(objects: Json[], only?: string[]): string {
  const groups = ruleGroups(objects)
    .map((g) => ({ ...g, rules: g.rules.filter((r: Json) => !only || only.includes(r.alert)) }))
    .filter((g) => g.rules.length > 0);
  return YAML.stringify({ groups });
}

/** `promtool check rules` on the rule file of `objects`. */
export function checkRules(objects: Json[]): PromtoolResult {
  return promtool(['check', 'rules', 'rules.yaml'], { 'rules.yaml': ruleFile(objects) });
}

/** Labels of an expected alert, besides `alertname`. */
export type Labels = { [label: string]: string };

/** One scenario for one alert: input series, an evaluation time, and the alerts expected then. */
export interface AlertCase {
  /** What the scenario shows, for the report. */
  readonly name: string;
  /** The alert evaluated. */
  readonly alert: string;
  /** Input series (`metric{label="value", ...}`) and their values in promtool's notation (`'1+0x60'`). */
  readonly series: { [series: string]: string };
  /** When the alert is evaluated (from the first sample). */
  readonly at: string;
  /** The label sets of the firing alerts (besides alertname); empty: it stays silent. */
  readonly fires: Labels[];
  /**
   * Sample interval of the series.
   * @default '1m'
   */
  readonly interval?: string;
  /**
   * How often the rules are evaluated (scenarios over days take a coarser step).
   * @default '1m'
   */
  readonly evaluationInterval?: string;
}

/**
 * The annotations Prometheus renders for an alert with `labels`: the rule's
 * `{{ $labels.x }}` templates filled in (they are the only templates the
 * rules use; anything else is a test error). A template naming a label the
 * alert does not carry is an error: Prometheus would render it empty.
 */
export function expectedAnnotations(rule: Json, labels: Labels): Labels {
  const out: Labels = {};
  for (const [k, v] of Object.entries<string>(rule.annotations ?? {})) {
    const filled = v.replace(/\{\{\s*\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_, l) => {
      if (labels[l] === undefined) throw new Error(`annotation ${k} of ${rule.alert} uses $labels.${l}, which the alert does not carry (its labels: ${Object.keys(labels).join(', ')})`);
      return labels[l];
    });
    if (filled.includes('{{')) throw new Error(`annotation ${k} of ${rule.alert} uses a template this helper does not expand: ${v}`);
    out[k] = filled;
  }
  return out;
}

/** The promtool test file for `cases` against the rules of `objects`. */
export function unitTestFile(objects: Json[], cases: AlertCase[]): string {
  const alerts = alertsOf(objects);
  const steps = [...new Set(cases.map((c) => c.evaluationInterval ?? '1m'))];
  if (steps.length > 1) throw new Error(`cases of one promtool run need one evaluation interval, got ${steps.join(', ')}`);
  return YAML.stringify({
    rule_files: ['rules.yaml'],
    evaluation_interval: steps[0] ?? '1m',
    tests: cases.map((c) => {
      const rule = alerts.get(c.alert);
      if (!rule) throw new Error(`case '${c.name}': no rendered alert '${c.alert}' (rendered: ${[...alerts.keys()].join(', ')})`);
      return {
        name: c.name,
        interval: c.interval ?? '1m',
        input_series: Object.entries(c.series).map(([series, values]) => ({ series, values })),
        alert_rule_test: [{
          eval_time: c.at,
          alertname: c.alert,
          exp_alerts: c.fires.map((labels) => ({ exp_labels: labels, exp_annotations: expectedAnnotations(rule, labels) })),
        }],
      };
    }),
  }, { lineWidth: 0 });
}

/**
 * `promtool test rules` of `cases` against the rules of `objects` they
 * evaluate (alerting rules are independent of each other; leaving the rest
 * out keeps scenarios that span days fast). `promtool check rules` reads the
 * whole file.
 */
export function testRules(objects: Json[], cases: AlertCase[]): PromtoolResult {
  const alerts = [...new Set(cases.map((c) => c.alert))];
  return promtool(['test', 'rules', 'tests.yaml'], { 'rules.yaml': ruleFile(objects, alerts), 'tests.yaml': unitTestFile(objects, cases) });
}

/** Collects promtool run times, for the suite's summary line. */
export class Timings {
  private readonly runs: number[] = [];

  public add(r: PromtoolResult): PromtoolResult {
    this.runs.push(r.ms);
    return r;
  }

  public summary(what: string): string {
    const total = this.runs.reduce((a, b) => a + b, 0);
    return `${what}: ${this.runs.length} promtool runs, ${total} ms in total, ${this.runs.length ? Math.max(...this.runs) : 0} ms the longest`;
  }
}

/** Names of the alerts `cases` make fire (fires = true) or keep silent (fires = false). */
function covered(cases: AlertCase[], fires: boolean): string[] {
  return [...new Set(cases.filter((c) => (c.fires.length > 0) === fires).map((c) => c.alert))].sort();
}

/**
 * The promtool proof for the rules of `objects`: `check rules` accepts them,
 * every rendered alert has a scenario where it fires and one where it stays
 * silent, and `test rules` passes each alert's scenarios (one jest test per alert).
 */
export function describeAlertCases(name: string, objects: () => Json[], cases: AlertCase[]): void {
  describeWithPromtool(name, () => {
    const timings = new Timings();
    let rendered: Json[];
    beforeAll(() => {
      rendered = objects();
    });
    afterAll(() => process.stdout.write(`${timings.summary(name)}\n`));

    test('promtool check rules accepts every rendered rule', () => {
      const r = timings.add(checkRules(rendered));
      expect({ ok: r.ok, output: r.output.trim() }).toEqual({ ok: true, output: expect.stringContaining(`SUCCESS: ${alertsOf(rendered).size} rules found`) });
    });

    test('every rendered alert has a scenario where it fires and one where it stays silent', () => {
      const names = [...alertsOf(rendered).keys()].sort();
      expect({ fires: covered(cases, true), silent: covered(cases, false) }).toEqual({ fires: names, silent: names });
    });

    for (const alert of [...new Set(cases.map((c) => c.alert))]) {
      const mine = cases.filter((c) => c.alert === alert);
      test(`${alert}: ${mine.map((c) => c.name).join('; ')}`, () => {
        const r = timings.add(testRules(rendered, mine));
        expect({ ok: r.ok, output: r.ok ? '' : r.output }).toEqual({ ok: true, output: '' });
      });
    }
  });
}

/**
 * Input series for promtool from a real `/metrics` page: every sample of the
 * metrics in `names`, with the labels Prometheus adds to the target's series
 * (`target`: namespace, job, pod, ...), held at its scraped value for
 * `points` samples.
 */
export function seriesFromScrape(exposition: string, names: string[], target: Labels, points = 30): { [series: string]: string } {
  const out: { [series: string]: string } = {};
  for (const line of exposition.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || !names.includes(m[1])) continue;
    const own = (m[2] ?? '').replace(/,\s*$/, '');
    const labels = [...Object.entries(target).map(([k, v]) => `${k}="${v}"`), ...(own ? [own] : [])].join(', ');
    out[`${m[1]}{${labels}}`] = `${Number(m[3])}x${points}`;
  }
  return out;
}
