import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  renderZkLiveScript, renderZkLogback, renderZkReadyScript, renderZkStartScript, renderZooCfg, ZooKeeperConfig,
} from '../../src/zookeeper/config';

const BASE: ZooKeeperConfig = {
  members: ['zk-0.zk-headless.ns.svc.cluster.local', 'zk-1.zk-headless.ns.svc.cluster.local', 'zk-2.zk-headless.ns.svc.cluster.local'],
  clientPort: 2181,
  quorumPort: 2888,
  electionPort: 3888,
  dataDir: '/data',
  tickTimeMillis: 2000,
  initLimitTicks: 10,
  syncLimitTicks: 5,
  maxClientConnections: 60,
  snapRetainCount: 3,
  purgeIntervalHours: 24,
  fourLetterWords: [],
  extra: {},
};

function settings(cfg: string): { [key: string]: string } {
  return Object.fromEntries(cfg.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** Runs the start script with a fake zkServer.sh on PATH; returns exit code, output and the myid written. */
function runStart(hostname: string, existingMyid?: string): { status: number | null; out: string; myid?: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-start-'));
  try {
    const data = path.join(dir, 'data');
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'zkServer.sh'), '#!/bin/bash\necho "zkServer.sh $* ZOOCFGDIR=$ZOOCFGDIR"\n', { mode: 0o755 });
    if (existingMyid !== undefined) {
      fs.mkdirSync(data);
      fs.writeFileSync(path.join(data, 'myid'), existingMyid);
    }
    const script = path.join(dir, 'start.sh');
    fs.writeFileSync(script, renderZkStartScript({ dataDir: data, configDir: '/conf', replicas: 3 }));
    const r = spawnSync('bash', [script], { encoding: 'utf-8', env: { PATH: `${bin}:${process.env.PATH}`, HOSTNAME: hostname } });
    const myidFile = path.join(data, 'myid');
    return { status: r.status, out: r.stdout + r.stderr, myid: fs.existsSync(myidFile) ? fs.readFileSync(myidFile, 'utf-8').trim() : undefined };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('zoo.cfg', () => {
  test('lists every member as server.<ordinal+1>=<fqdn>:2888:3888', () => {
    // GIVEN three members WHEN rendered
    const cfg = renderZooCfg(BASE);
    // THEN
    expect(cfg.split('\n').filter((l) => l.startsWith('server.'))).toEqual([
      'server.1=zk-0.zk-headless.ns.svc.cluster.local:2888:3888',
      'server.2=zk-1.zk-headless.ns.svc.cluster.local:2888:3888',
      'server.3=zk-2.zk-headless.ns.svc.cluster.local:2888:3888',
    ]);
  });

  test('sets the typed tunables, the data dir and listening on all interfaces', () => {
    const s = settings(renderZooCfg(BASE));
    expect(s).toMatchObject({
      'tickTime': '2000', 'initLimit': '10', 'syncLimit': '5', 'dataDir': '/data', 'clientPort': '2181', 'maxClientCnxns': '60',
      'autopurge.snapRetainCount': '3', 'autopurge.purgeInterval': '24', 'quorumListenOnAllIPs': 'true',
      'standaloneEnabled': 'false', 'reconfigEnabled': 'false', 'admin.enableServer': 'false',
    });
    expect(s.dataLogDir).toBeUndefined();
    expect(s['metricsProvider.className']).toBeUndefined();
  });

  test('whitelists the four-letter words the probes and monitoring use, plus extras once', () => {
    expect(settings(renderZooCfg(BASE))['4lw.commands.whitelist']).toBe('ruok,srvr,mntr');
    expect(settings(renderZooCfg({ ...BASE, fourLetterWords: ['conf', 'ruok', 'stat'] }))['4lw.commands.whitelist']).toBe('ruok,srvr,mntr,conf,stat');
  });

  test('a separate transaction log, the AdminServer, Prometheus metrics and extra lines are rendered when asked', () => {
    const s = settings(renderZooCfg({ ...BASE, dataLogDir: '/datalog', adminServerPort: 8080, metricsPort: 7000, extra: { 'globalOutstandingLimit': '2000' } }));
    expect(s).toMatchObject({
      'dataLogDir': '/datalog',
      'admin.enableServer': 'true',
      'admin.serverPort': '8080',
      'metricsProvider.className': 'org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider',
      'metricsProvider.httpPort': '7000',
      'globalOutstandingLimit': '2000',
    });
  });

  test('a single member runs standalone', () => {
    const cfg = renderZooCfg({ ...BASE, members: [BASE.members[0]] });
    expect(settings(cfg).standaloneEnabled).toBe('true');
    expect(cfg).toContain('server.1=zk-0.zk-headless.ns.svc.cluster.local:2888:3888\n');
    expect(cfg).not.toContain('server.2=');
  });

  test('is exactly this file for the default ensemble', () => {
    expect(renderZooCfg(BASE)).toMatchSnapshot();
  });
});

describe('start script', () => {
  test('writes myid = ordinal + 1 from the hostname and execs zkServer.sh in the foreground', () => {
    // GIVEN pod streaming-zk-2 WHEN the script runs
    const r = runStart('streaming-zk-2');
    // THEN
    expect(r.status).toBe(0);
    expect(r.myid).toBe('3');
    expect(r.out).toContain('zkServer.sh start-foreground ZOOCFGDIR=/conf');
  });

  test('is idempotent on restart: a matching myid is kept', () => {
    const r = runStart('zk-0', '1\n');
    expect(r.status).toBe(0);
    expect(r.myid).toBe('1');
  });

  test('refuses a volume whose myid belongs to another member', () => {
    const r = runStart('zk-1', '3\n');
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('holds 3 but this pod is member 2');
  });

  test('refuses a hostname without an ordinal, or an ordinal outside the ensemble', () => {
    expect(runStart('zookeeper').status).not.toBe(0);
    const r = runStart('zk-3');
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('outside the ensemble of 3');
  });

  test('is a small bash script that calls zkServer.sh by name', () => {
    const s = renderZkStartScript({ dataDir: '/data', configDir: '/conf', replicas: 3 });
    expect(s.startsWith('#!/bin/bash\n')).toBe(true);
    expect(s).toContain('set -euo pipefail');
    expect(s).toContain('ordinal="${host##*-}"');
    expect(s).toContain('exec zkServer.sh start-foreground\n');
  });
});

describe('probe scripts', () => {
  test('readiness asks ruok and expects imok; liveness only connects: they differ', () => {
    const ready = renderZkReadyScript(2181);
    const live = renderZkLiveScript(2181);
    expect(ready).toContain('exec 3<>/dev/tcp/127.0.0.1/2181');
    expect(ready).toContain("printf 'ruok' >&3");
    expect(ready).toContain('[[ "${reply}" == "imok" ]]');
    expect(live).toContain('exec 3<>/dev/tcp/127.0.0.1/2181');
    expect(live).not.toContain('ruok');
  });

  test('readiness fails when nothing listens', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-probe-'));
    try {
      fs.writeFileSync(path.join(dir, 'ready.sh'), renderZkReadyScript(1));
      fs.writeFileSync(path.join(dir, 'live.sh'), renderZkLiveScript(1));
      expect(spawnSync('bash', [path.join(dir, 'ready.sh')]).status).not.toBe(0);
      expect(spawnSync('bash', [path.join(dir, 'live.sh')]).status).not.toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('logback logs to the console at INFO', () => {
    expect(renderZkLogback()).toContain('<root level="INFO">');
    expect(renderZkLogback()).toContain('ch.qos.logback.core.ConsoleAppender');
  });
});
