/**
 * Benchmark: how long synthesis takes, so regressions show up as numbers
 * rather than as a flaky timed test. Run with `npm run bench`.
 *
 * - in-process: build every example chart and synthesize it to YAML, N times
 *   (median and p90 of the whole set, after warm-up);
 * - end-to-end: `cdk8s synth` as a user runs it (CLI start, ts-node
 *   transpile, synthesis, writing dist/), a few times.
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
    const app: App = Testing.app();
    addExamples(app);
    const yaml = app.synthYaml();
    if (yaml.length === 0) throw new Error('empty synthesis');
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (i >= 3) times.push(ms);
  }
  return times.sort((a, b) => a - b);
}

function endToEnd(runs: number): number[] {
  const root = path.resolve(__dirname, '..', '..');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-dist-'));
  const times: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const start = process.hrtime.bigint();
      execFileSync(path.join(root, 'node_modules', '.bin', 'cdk8s'), ['synth', '--check-upgrade=false', '--output', out], { cwd: root, stdio: 'ignore' });
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
  return times.sort((a, b) => a - b);
}

const runs = Number(process.env.BENCH_RUNS ?? 20);
const a = inProcess(runs);
const objects = (() => { const app = Testing.app(); addExamples(app); return app.charts.reduce((n, c) => n + c.toJson().length, 0); })();
console.log(`in-process synth of all examples (${objects} objects), ${runs} runs: median ${percentile(a, 0.5).toFixed(1)} ms, p90 ${percentile(a, 0.9).toFixed(1)} ms`);
const e = endToEnd(Number(process.env.BENCH_CLI_RUNS ?? 3));
console.log(`cdk8s synth (CLI, ts-node --transpile-only), ${e.length} runs: median ${percentile(e, 0.5).toFixed(0)} ms, min ${e[0].toFixed(0)} ms`);
