import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { renderRedisStartScript, RedisStartSettings } from '../../src/redis/config';
import { REDIS_RESOLVE_WAIT_SECONDS } from '../../src/redis/settings';
import { shellcheck } from '../support/shellcheck';

// start.sh executed with bash on a fixture nodes.conf, with stand-ins for
// getent (a test-controlled name table) and redis-server (prints its argv).

const HEADLESS = 'c-headless';
const NAMESPACE = 'cache';
const fqdn = (pod: string) => `${pod}.${HEADLESS}.${NAMESPACE}.svc.cluster.local`;

/** What a node line of nodes.conf holds, as far as the address rewrite is concerned. */
interface NodeLine {
  readonly pod: string;
  readonly ip: string;
  /** The hostname the node announced; none for a node that never announced one. */
  readonly hostname?: string;
  readonly flags: string;
  readonly master: string;
  readonly slots: string;
}

const idOf = (pod: string) => createHash('sha1').update(pod).digest('hex');

/**
 * A node line as Redis writes it. 7.0: `ip:port@cport[,hostname]`; 7.2 (the
 * default image) always writes the comma after the cluster port and appends
 * `key=value` fields such as the shard ID.
 */
function nodeLine(n: NodeLine, version: '7.0' | '7.2', epoch: number): string {
  const address = version === '7.0'
    ? `${n.ip}:6379@16379${n.hostname ? `,${n.hostname}` : ''}`
    : `${n.ip}:6379@16379,${n.hostname ?? ''},shard-id=${idOf(`shard-${n.master === '-' ? n.pod : n.master}`)}`;
  const master = n.master === '-' ? '-' : idOf(n.master);
  return `${idOf(n.pod)} ${address} ${n.flags} ${master} 0 1712000000000 ${epoch} connected${n.slots ? ` ${n.slots}` : ''}`;
}

/** A 3 masters x 1 replica cluster as seen by pod c-0, every node at its old address. */
const CLUSTER: NodeLine[] = [
  { pod: 'c-0', ip: '10.1.0.10', hostname: fqdn('c-0'), flags: 'myself,master', master: '-', slots: '0-5460' },
  { pod: 'c-1', ip: '10.1.0.11', hostname: fqdn('c-1'), flags: 'master', master: '-', slots: '5461-10922' },
  { pod: 'c-2', ip: '10.1.0.12', hostname: fqdn('c-2'), flags: 'master', master: '-', slots: '10923-16383' },
  { pod: 'c-3', ip: '10.1.0.13', hostname: fqdn('c-3'), flags: 'slave', master: 'c-0', slots: '' },
  { pod: 'c-4', ip: '10.1.0.14', hostname: fqdn('c-4'), flags: 'slave', master: 'c-1', slots: '' },
  { pod: 'c-5', ip: '10.1.0.15', hostname: fqdn('c-5'), flags: 'slave', master: 'c-2', slots: '' },
];
const VARS = 'vars currentEpoch 6 lastVoteEpoch 0';

function nodesConf(nodes: NodeLine[], version: '7.0' | '7.2'): string {
  return [...nodes.map((n, i) => nodeLine(n, version, i + 1)), VARS, ''].join('\n');
}

/** Every node moved: each gets the next /24 (the address the stand-in resolver hands out). */
const moved = (ip: string) => ip.replace(/^10\.1\./, '10.2.');

interface Dns {
  /** name -> address */
  readonly [name: string]: { ip: string; fromLookup?: number };
}

interface Run {
  readonly status: number | null;
  readonly out: string;
  readonly seconds: number;
  readonly nodesConf: string | undefined;
  readonly runtimeConf: string;
  readonly lookups: { [name: string]: number };
}

/**
 * Runs start.sh as pod c-0 at POD_IP `podIp`, with nodes.conf `nodes` (none
 * when undefined) and a resolver that answers each name of `dns` from its
 * `fromLookup`-th lookup on (the first by default) and no other name.
 */
function runStart(opts: { nodes?: string; dns?: Dns; podIp?: string; waitSeconds?: number; password?: string; auth?: boolean }): Run {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-start-'));
  try {
    const paths = { configDir: path.join(dir, 'config'), dataDir: path.join(dir, 'data'), runDir: path.join(dir, 'run') };
    const bin = path.join(dir, 'bin');
    const counts = path.join(dir, 'lookups');
    for (const d of [...Object.values(paths), bin, counts]) fs.mkdirSync(d);
    const table = Object.entries(opts.dns ?? {}).map(([name, r]) => `${name} ${r.ip} ${r.fromLookup ?? 1}`).join('\n');
    fs.writeFileSync(path.join(dir, 'dns'), `${table}\n`);
    fs.writeFileSync(path.join(bin, 'getent'), [
      '#!/bin/bash',
      '[[ "$1" == hosts ]] || exit 1',
      `count="${counts}/$2"`,
      'n=$(( $(cat "$count" 2>/dev/null || echo 0) + 1 ))',
      'echo "$n" >"$count"',
      `awk -v name="$2" -v n="$n" '$1 == name && n >= $3 { print $2 "  " name; found = 1 } END { exit found ? 0 : 2 }' ${dir}/dns`,
      '',
    ].join('\n'), { mode: 0o755 });
    fs.writeFileSync(path.join(bin, 'redis-server'), '#!/bin/bash\necho "redis-server $*"\n', { mode: 0o755 });
    if (opts.nodes !== undefined) fs.writeFileSync(path.join(paths.dataDir, 'nodes.conf'), opts.nodes);
    const settings: RedisStartSettings = {
      headlessServiceName: HEADLESS, clusterDomain: 'cluster.local', auth: opts.auth ?? true,
      resolveWaitSeconds: opts.waitSeconds ?? REDIS_RESOLVE_WAIT_SECONDS, paths,
    };
    fs.writeFileSync(path.join(dir, 'start.sh'), renderRedisStartScript(settings));
    const started = Date.now();
    const r = spawnSync('bash', [path.join(dir, 'start.sh')], {
      encoding: 'utf-8',
      timeout: 60000, // a script that waits forever fails here instead of hanging the suite
      env: {
        PATH: `${bin}:${process.env.PATH}`, HOSTNAME: 'c-0', POD_NAMESPACE: NAMESPACE, POD_IP: opts.podIp ?? moved('10.1.0.10'),
        ...(opts.auth === false ? {} : { REDISCLI_AUTH: opts.password ?? 'secret' }),
      },
    });
    const seconds = (Date.now() - started) / 1000;
    const conf = path.join(paths.dataDir, 'nodes.conf');
    const runtime = path.join(paths.runDir, 'redis.conf');
    return {
      status: r.status,
      out: r.stdout + r.stderr,
      seconds,
      nodesConf: fs.existsSync(conf) ? fs.readFileSync(conf, 'utf-8') : undefined,
      runtimeConf: fs.existsSync(runtime) ? fs.readFileSync(runtime, 'utf-8') : '',
      lookups: Object.fromEntries(fs.readdirSync(counts).map((f) => [f, Number(fs.readFileSync(path.join(counts, f), 'utf-8'))])),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Every peer's name resolving to its moved address (from lookup `fromLookup` on). */
function dnsOf(nodes: NodeLine[], fromLookup = 1): Dns {
  return Object.fromEntries(nodes.filter((n) => n.hostname && !n.flags.includes('myself')).map((n) => [n.hostname!, { ip: moved(n.ip), fromLookup }]));
}

const movedAll = (nodes: NodeLine[]) => nodes.map((n) => ({ ...n, ip: moved(n.ip) }));

describe('start.sh rewrites nodes.conf before redis-server starts', () => {
  test.each(['7.0', '7.2'] as const)('after a full restart every line points at the new IPs: its own from POD_IP, each peer\'s from its hostname (Redis %s nodes.conf)', (version) => {
    // GIVEN a nodes.conf with only old addresses, and every peer's name resolving to its new one
    // WHEN
    const r = runStart({ nodes: nodesConf(CLUSTER, version), dns: dnsOf(CLUSTER) });
    // THEN every line is as before but for the address; the vars line is untouched
    expect(r.status).toBe(0);
    expect(r.nodesConf).toBe(nodesConf(movedAll(CLUSTER), version));
    expect(r.out).toMatch(/^redis-server \/.*\/run\/redis\.conf$/m);
  });

  test('a peer whose name resolves only on the third lookup (it is starting in parallel) still gets its new address', () => {
    // GIVEN c-4 appears in DNS only on the third lookup
    const dns = { ...dnsOf(CLUSTER), [fqdn('c-4')]: { ip: moved('10.1.0.14'), fromLookup: 3 } };
    // WHEN
    const r = runStart({ nodes: nodesConf(CLUSTER, '7.2'), dns });
    // THEN
    expect(r.status).toBe(0);
    expect(r.lookups[fqdn('c-4')]).toBe(3);
    expect(r.nodesConf).toBe(nodesConf(movedAll(CLUSTER), '7.2'));
  });

  test('a peer whose name never resolves keeps its old address, and the node starts once the bounded wait is over', () => {
    // GIVEN c-2 is not in DNS at all, and a 2 s wait
    const dns = dnsOf(CLUSTER);
    delete (dns as { [name: string]: unknown })[fqdn('c-2')];
    // WHEN
    const r = runStart({ nodes: nodesConf(CLUSTER, '7.2'), dns, waitSeconds: 2 });
    // THEN it retried for about 2 s (bash counts whole seconds), not forever, said so, and kept only c-2's old address
    expect(r.status).toBe(0);
    expect(r.lookups[fqdn('c-2')]).toBeGreaterThanOrEqual(2);
    expect(r.seconds).toBeGreaterThanOrEqual(1);
    expect(r.seconds).toBeLessThan(2 + 4);
    expect(r.out).toContain(`start.sh: ${fqdn('c-2')} does not resolve; keeping its old address`);
    expect(r.nodesConf).toBe(nodesConf(CLUSTER.map((n) => (n.pod === 'c-2' ? n : { ...n, ip: moved(n.ip) })), '7.2'));
    expect(r.out).toMatch(/^redis-server \/.*\/run\/redis\.conf$/m);
  });

  test('a pod restarting alone (its peers kept their IPs) resolves each peer once and starts without waiting', () => {
    // GIVEN only c-0 moved; every peer resolves to the address nodes.conf already has
    const dns = Object.fromEntries(CLUSTER.slice(1).map((n) => [n.hostname!, { ip: n.ip }]));
    // WHEN
    const r = runStart({ nodes: nodesConf(CLUSTER, '7.2'), dns, waitSeconds: 30 });
    // THEN
    expect(r.status).toBe(0);
    expect(r.seconds).toBeLessThan(5);
    expect(Object.values(r.lookups)).toEqual(CLUSTER.slice(1).map(() => 1));
    expect(r.nodesConf).toBe(nodesConf(CLUSTER.map((n) => (n.pod === 'c-0' ? { ...n, ip: moved(n.ip) } : n)), '7.2'));
  });

  test.each(['7.0', '7.2'] as const)('a peer that never announced a hostname is left as it is, without a lookup (Redis %s)', (version) => {
    // GIVEN c-5's line has no hostname
    const nodes = CLUSTER.map((n) => (n.pod === 'c-5' ? { ...n, hostname: undefined } : n));
    // WHEN
    const r = runStart({ nodes: nodesConf(nodes, version), dns: dnsOf(CLUSTER), waitSeconds: 2 });
    // THEN
    expect(r.status).toBe(0);
    expect(Object.keys(r.lookups).sort()).toEqual(CLUSTER.slice(1, 5).map((n) => n.hostname).sort());
    expect(r.nodesConf).toBe(nodesConf(nodes.map((n) => (n.pod === 'c-5' ? n : { ...n, ip: moved(n.ip) })), version));
  });

  test('on the first start (no nodes.conf) nothing is looked up or written, and the runtime config announces the pod and carries the quoted password', () => {
    // GIVEN no nodes.conf and a password with a quote and a backslash
    const password = 'pa"ss\\word';
    // WHEN
    const r = runStart({ password, podIp: '10.9.0.1' });
    // THEN
    expect(r.status).toBe(0);
    expect(r.nodesConf).toBeUndefined();
    expect(r.lookups).toEqual({});
    const lines = r.runtimeConf.trim().split('\n');
    expect(lines[0]).toMatch(/^include \/.*\/config\/redis\.conf$/);
    expect(lines.slice(1)).toEqual([
      'cluster-announce-ip 10.9.0.1',
      `cluster-announce-hostname ${fqdn('c-0')}`,
      'requirepass "pa\\"ss\\\\word"',
      'masterauth "pa\\"ss\\\\word"',
    ]);
    expect(r.out.trim()).toMatch(/^redis-server \/.*\/run\/redis\.conf$/);
  });

  test('without auth the runtime config has no password and REDISCLI_AUTH is not needed', () => {
    const r = runStart({ auth: false, podIp: '10.9.0.1' });
    expect(r.status).toBe(0);
    expect(r.runtimeConf).not.toMatch(/requirepass|masterauth/);
  });

  test.each([true, false])('the rendered script is shellcheck-clean (auth: %s)', (auth) => {
    const text = renderRedisStartScript({ headlessServiceName: HEADLESS, clusterDomain: 'cluster.local', auth, resolveWaitSeconds: REDIS_RESOLVE_WAIT_SECONDS });
    expect(shellcheck({ where: 'start.sh', shell: 'bash', text })).toEqual([]);
  });
});
