/**
 * Benchmark: how long synthesis takes, so regressions show up as numbers
 * rather than as a flaky timed test. Run with `npm run bench`.
 *
 * - in-process: build every example chart and synthesize it to YAML, N times
 *   (median and p90 of the whole set, after warm-up);
 * - commands, in one run and interleaved so that they share the machine's
 *   load: `cdk8s --version` (the CLI's own start), `cdk8s synth` on the
 *   repository's cdk8s.yaml, the examples bundle run by plain node, the same
 *   through scripts/cdk8s-app.js (its freshness check), and the former ts-node
 *   app; medians, ratios to the CLI start, and whether synth stays within the
 *   CLI start + 0.4 s.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Testing } from 'cdk8s';
import { addExamples } from '../../examples';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function inProcess(runs: number): number[] {
  const times: number[] = [];
  for (let i = 0; i < runs + 3; i++) {
    const start = process.hrtime.bigint();
    const app: App = Testing.app({ outdir: OUT });
    addExamples(app);
    const yaml = app.synthYaml();
    if (yaml.length === 0) throw new Error('empty synthesis');
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (i >= 3) times.push(ms);
  }
  return times.sort((a, b) => a - b);
}

const ROOT = path.resolve(__dirname, '..', '..');
const ENTRY = path.join(ROOT, 'examples', 'main.ts');
const LAUNCHER = path.join(ROOT, 'scripts', 'cdk8s-app.js');
const CDK8S = path.join(ROOT, 'node_modules', '.bin', 'cdk8s');
/** What `cdk8s synth` may cost on top of the CLI's own start (issue 15). */
const BUDGET_MS = 400;

interface Command { readonly label: string; readonly file: string; readonly args: string[] }

/** Where every command writes its manifests (CDK8S_OUTDIR, --output); removed on exit. */
const OUT = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-dist-'));
process.on('exit', () => fs.rmSync(OUT, { recursive: true, force: true }));

function run(c: Command): number {
  const start = process.hrtime.bigint();
  execFileSync(c.file, c.args, { cwd: ROOT, stdio: 'ignore', env: { ...process.env, CDK8S_OUTDIR: OUT } });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Runs every command `runs` times, interleaved; sorted times per label. */
function timeCommands(commands: Command[], runs: number): Map<string, number[]> {
  const times = new Map(commands.map((c) => [c.label, [] as number[]]));
  for (let i = 0; i < runs; i++) for (const c of commands) times.get(c.label)!.push(run(c));
  for (const t of times.values()) t.sort((a, b) => a - b);
  return times;
}

const runs = Number(process.env.BENCH_RUNS ?? 20);
const a = inProcess(runs);
const objects = (() => { const app = Testing.app({ outdir: OUT }); addExamples(app); return app.charts.reduce((n, c) => n + c.toJson().length, 0); })();
console.log(`in-process synth of all examples (${objects} objects), ${runs} runs: median ${percentile(a, 0.5).toFixed(1)} ms, p90 ${percentile(a, 0.9).toFixed(1)} ms`);

// build (or confirm) the bundle once, so that every timed run below uses it
run({ label: 'warm-up', file: process.execPath, args: [LAUNCHER, ENTRY] });
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { bundle } = require(LAUNCHER).cachePaths(ENTRY) as { bundle: string };
const commands: Command[] = [
  { label: 'cdk8s --version', file: CDK8S, args: ['--version'] },
  { label: 'cdk8s synth', file: CDK8S, args: ['synth', '--check-upgrade=false', '--output', OUT] },
  { label: 'node <bundle> (precompiled app)', file: process.execPath, args: [bundle] },
  { label: 'node scripts/cdk8s-app.js (app)', file: process.execPath, args: [LAUNCHER, ENTRY] },
  { label: 'ts-node transpile-only (former app)', file: process.execPath, args: ['-r', 'ts-node/register/transpile-only', ENTRY] },
];
const cliRuns = Number(process.env.BENCH_CLI_RUNS ?? 7);
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
const loadBefore = load();
const t = timeCommands(commands, cliRuns);
const median = (label: string) => percentile(t.get(label)!, 0.5);
const cli = median('cdk8s --version');
console.log(`commands, ${cliRuns} interleaved runs each, ${os.cpus().length} CPUs, load average ${loadBefore} before, ${load()} after:`);
for (const c of commands) {
  const m = median(c.label);
  console.log(`  ${c.label.padEnd(38)} median ${m.toFixed(0).padStart(5)} ms  min ${t.get(c.label)![0].toFixed(0).padStart(5)} ms  ${(m / cli).toFixed(2)} x CLI start`);
}
const synth = median('cdk8s synth');
const app = median('node <bundle> (precompiled app)');
console.log(`cdk8s synth / cdk8s --version = ${(synth / cli).toFixed(2)}; cdk8s synth / precompiled app = ${(synth / app).toFixed(2)}`);
console.log(`cdk8s synth - cdk8s --version = ${(synth - cli).toFixed(0)} ms (medians): ${synth - cli <= BUDGET_MS ? 'within' : 'OVER'} the budget of CLI start + ${BUDGET_MS} ms`);
// the fastest runs are the least disturbed by other processes on a shared machine
const best = t.get('cdk8s synth')![0] - t.get('cdk8s --version')![0];
console.log(`cdk8s synth - cdk8s --version = ${best.toFixed(0)} ms (fastest runs): ${best <= BUDGET_MS ? 'within' : 'OVER'} the budget`);
