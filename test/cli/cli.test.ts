import * as fs from 'fs';
import * as path from 'path';
import { EXIT } from '../../src/cli/errors';
import { defaultStages, parseDuration, parseStages, parseStorage } from '../../src/cli/units';
import { cli } from './run';

// The command line without a cluster: stage lists, sizes, durations,
// usage errors and --help. Everything that needs the API server is in
// rollout.test.ts and operations.test.ts.

describe('stage lists', () => {
  test('a stage is a pod count, a percentage of the replicas rounded up, or all', () => {
    for (const replicas of [3, 4, 5, 10]) {
      expect({ replicas, stages: parseStages('1,50%,100%', replicas) }).toEqual({ replicas, stages: [1, Math.ceil(replicas / 2), replicas] });
    }
    expect(parseStages('2,all', 7)).toEqual([2, 7]);
    expect(parseStages('10%,34%,all', 9)).toEqual([Math.ceil(0.9), Math.ceil(9 * 0.34), 9]);
  });

  test('stages must increase, end with every pod, and name pods that exist', () => {
    expect(() => parseStages('2,50%,100%', 3)).toThrow(/--stages must increase: '50%' updates 2 of 3 pods, no more than '2' before it \(2\)/);
    expect(() => parseStages('1,50%', 4)).toThrow(/--stages must end with every pod \(100% or all\): '50%' updates 2 of 4/);
    expect(() => parseStages('1,9,all', 5)).toThrow(/stage '9' updates more pods than the StatefulSet has \(5\)/);
    expect(() => parseStages('0,100%', 5)).toThrow(/a stage updates at least 1 pod, got '0'/);
    expect(() => parseStages('1,150%', 5)).toThrow(/a percentage must be above 0% and at most 100%, got '150%'/);
    expect(() => parseStages('one,all', 5)).toThrow(/each stage is a number of pods \(2\), a percentage \(50%\) or 'all', got 'one'/);
    expect(() => parseStages('', 5)).toThrow(/got ''/);
  });

  test('without --stages: 1, half, all, each once (one pod: one stage)', () => {
    expect(defaultStages(1)).toEqual([1]);
    expect(defaultStages(2)).toEqual([1, 2]);
    expect(defaultStages(3)).toEqual([1, 2, 3]);
    expect(defaultStages(6)).toEqual([1, 3, 6]);
  });
});

describe('sizes and durations', () => {
  test('storage quantities in Kubernetes notation compare by bytes', () => {
    expect(parseStorage('size', '1Gi')).toBe(1024 ** 3);
    expect(parseStorage('size', '1.5Ti')).toBe(1.5 * 1024 ** 4);
    expect(parseStorage('size', '500G')).toBe(500e9);
    expect(parseStorage('size', '2048')).toBe(2048);
    expect(parseStorage('size', '1000M')).toBeLessThan(parseStorage('size', '1Gi'));
    for (const bad of ['10GB', '-1Gi', 'Gi', '1 Gi', '0', '1e3']) expect(() => parseStorage('<size>', bad)).toThrow(/<size> must be/);
  });

  test('durations are hours, minutes and seconds', () => {
    expect(parseDuration('--timeout', '90s')).toBe(90_000);
    expect(parseDuration('--timeout', '10m')).toBe(600_000);
    expect(parseDuration('--timeout', '1h30m')).toBe(5_400_000);
    expect(parseDuration('--timeout', '0s')).toBe(0);
    for (const bad of ['10', '5 m', '1d', '', 'm']) expect(() => parseDuration('--timeout', bad)).toThrow(/--timeout must be a duration such as 90s, 10m or 1h30m/);
  });
});

describe('the command line', () => {
  test('--help lists the commands, the global options and the exit codes', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const r = await cli(argv);
      expect(r.code).toBe(EXIT.OK);
      for (const c of ['rollout', 'scale', 'expand-storage', 'status']) expect(r.out).toMatch(new RegExp(`^  ${c} `, 'm'));
      expect(r.out).toContain('--kubeconfig FILE');
      expect(r.out).toContain('-n, --namespace NS');
      expect(r.out).toMatch(/Exit codes: 0 done; 1 .*; 2 bad arguments;\s+3 refused .*; 4 timed out/);
    }
  });

  test('each command has its own --help with its usage and options, wherever --help stands', async () => {
    const options: { [command: string]: string[] } = {
      'rollout': ['--stages LIST', '--timeout DUR', '--undo', '--gate auto|none', '--gate-timeout DUR'],
      'scale': ['--timeout DUR', '--gate auto|none'],
      'expand-storage': ['--claim NAME', '--timeout DUR', '--online-wait DUR'],
      'status': ['-o, --output FORMAT', '--gate auto|none'],
    };
    for (const [command, opts] of Object.entries(options)) {
      for (const argv of [[command, '--help'], ['--help', command], ['help', command], ['-n', 'x', command, 'web', '-h']]) {
        const r = await cli(argv);
        expect({ argv, code: r.code }).toEqual({ argv, code: EXIT.OK });
        expect(r.out).toMatch(new RegExp(`^Usage: cdk8s-stateful ${command} <statefulset>`));
        for (const o of opts) expect({ command, option: o, found: r.out.includes(o) }).toEqual({ command, option: o, found: true });
        expect(r.out).toContain('Global options');
      }
    }
  });

  test('usage errors name the command and what is allowed, and exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [[], /no command given/],
      [['frobnicate', 'web'], /unknown command 'frobnicate' \(commands: rollout, scale, expand-storage, status/],
      [['rollout'], /rollout takes <statefulset>, got none/],
      [['rollout', 'a', 'b'], /rollout takes <statefulset>, got 'a' 'b'/],
      [['rollout', 'web', '--stage', '1'], /rollout: unknown option '--stage' \(options: .*--stages/],
      [['rollout', 'web', '--stages'], /rollout: --stages needs a value/],
      [['rollout', 'web', '--undo=yes'], /rollout: --undo takes no value/],
      [['rollout', 'web', '--gate', 'strict'], /rollout: --gate must be one of auto, none, got 'strict'/],
      [['rollout', 'web', '--timeout', '10'], /--timeout must be a duration/],
      [['scale', 'web'], /scale takes <statefulset> <replicas>, got 'web'/],
      [['scale', 'web', 'three'], /scale: <replicas> must be a whole number of pods \(0 or more\), got 'three'/],
      [['scale', 'web', '-1'], /scale: unknown option '-1'/],
      [['expand-storage', 'web', '20GB'], /<size> must be a storage quantity such as 20Gi/],
      [['status', 'web', '-o', 'yaml'], /status: --output must be one of table, json, got 'yaml'/],
    ];
    for (const [argv, message] of cases) {
      const r = await cli(argv);
      expect({ argv, code: r.code }).toEqual({ argv, code: EXIT.USAGE });
      expect(r.err).toMatch(message);
      expect(r.err).toMatch(/^cdk8s-stateful: /);
    }
  });

  test('a kubectl that does not exist is named, with the option that sets it', async () => {
    const r = await cli(['status', 'web', '--kubectl', '/nonexistent/kubectl']);
    expect(r.code).toBe(EXIT.FAILED);
    expect(r.err).toContain("kubectl not found: '/nonexistent/kubectl' (install kubectl or pass --kubectl PATH)");
  });

  test('package.json ships the command from the compiled library', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf-8'));
    const tsconfig = JSON.parse(fs.readFileSync(path.join(__dirname, '../..', pkg.jsii.tsconfig), 'utf-8'));
    // jsii compiles src/ with its tsconfig into outDir, mirroring the tree
    expect(pkg.bin['cdk8s-stateful']).toBe(`${tsconfig.compilerOptions.outDir}/src/cli/main.js`);
    expect(pkg.files).toContain(`${tsconfig.compilerOptions.outDir}/src/**/*.js`);
    expect(fs.readFileSync(path.join(__dirname, '../../src/cli/main.ts'), 'utf-8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });
});
