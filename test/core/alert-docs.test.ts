import * as fs from 'fs';
import * as path from 'path';
import { Chart, Duration, Size, Testing } from 'cdk8s';
import {
  AlertRule, KafkaCluster, KafkaControllerMode, MetricsMonitor, MongoReplicaSet, MySqlReplicaSet, PortRole, PostgresReplicaSet, Probe, RedisCluster, StatefulWorkload, Storage, ZooKeeperEnsemble,
} from '../../src';
import { alertsOf } from '../support/promtool';

// The alerts' documentation follows the code: every alert any system renders
// has a runbook section (meaning, first checks, fixes) at the anchor its
// runbook_url names, no section is left for an alert that no longer exists,
// and the README's rule tables are the rules as rendered with default props.

const ROOT = path.join(__dirname, '../..');
const RUNBOOKS = fs.readFileSync(path.join(ROOT, 'docs/runbooks.md'), 'utf-8');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf-8');
const PG_IMAGE = 'registry.example.com/postgres-pgbackrest:18.3';

/** GitHub's anchor of a Markdown heading. */
function anchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

function chart(): Chart {
  return new Chart(Testing.app(), 'c', { namespace: 'ops' });
}

function generic(c: Chart): StatefulWorkload {
  return new StatefulWorkload(c, 'db', {
    appName: 'db',
    volumes: [{ name: 'data', storage: Storage.persistent({ size: Size.gibibytes(10) }) }],
    containers: [{
      name: 'db', image: 'example/db:1.0.0',
      ports: [{ name: 'client', port: 5000 }, { name: 'metrics', port: 9100, role: PortRole.METRICS }],
      mounts: [{ volume: 'data', path: '/data' }],
      readinessProbe: Probe.tcp('client'),
    }],
    monitoring: {},
    backupAlert: { cronJobs: ['db-backup'], maxAge: Duration.hours(48) },
  });
}

/** Every configuration whose alerts must be documented, rendered. */
function everyConfiguration(): any[][] {
  const configs: ((c: Chart) => void)[] = [
    (c) => new ZooKeeperEnsemble(c, 'zk', { monitoring: {} }),
    (c) => new ZooKeeperEnsemble(c, 'zk', { replicas: 1, monitoring: {} }),
    (c) => new KafkaCluster(c, 'kafka', { monitoring: {} }),
    (c) => new KafkaCluster(c, 'kafka', { controllerMode: KafkaControllerMode.DEDICATED, monitoring: {} }),
    (c) => new KafkaCluster(c, 'kafka', { zookeeper: new ZooKeeperEnsemble(c, 'zk'), monitoring: {} }),
    (c) => new PostgresReplicaSet(c, 'pg', { image: PG_IMAGE, monitoring: {}, backup: {} }),
    (c) => new MongoReplicaSet(c, 'mongo', { monitoring: {}, backup: {} }),
    (c) => new MongoReplicaSet(c, 'mongo', { replicas: 2, arbiter: true, monitoring: {} }),
    (c) => new MySqlReplicaSet(c, 'mysql', { monitoring: {}, backup: {} }),
    (c) => new MySqlReplicaSet(c, 'mysql', { replicas: 1, monitoring: {} }),
    (c) => new RedisCluster(c, 'redis', { monitoring: {}, backup: {} }),
    (c) => new RedisCluster(c, 'redis', { replicasPerMaster: 0, monitoring: {} }),
    (c) => generic(c),
  ];
  return configs.map((make) => {
    const c = chart();
    make(c);
    return Testing.synth(c);
  });
}

/** The runbook sections: `## <Alert>` headings and their text. */
function sections(): Map<string, string> {
  const out = new Map<string, string>();
  const parts = RUNBOOKS.split(/^## /m).slice(1);
  for (const p of parts) {
    const [heading, ...body] = p.split('\n');
    out.set(heading.trim(), body.join('\n'));
  }
  return out;
}

describe('runbooks (docs/runbooks.md)', () => {
  const rendered = everyConfiguration().flatMap((objects) => [...alertsOf(objects).values()]);

  test('every rendered alert links to a runbook section with meaning, first checks and fixes', () => {
    const byAnchor = new Map([...sections()].map(([h, body]) => [anchor(h), { heading: h, body }]));
    const problems: string[] = [];
    for (const r of rendered) {
      const url: string = r.annotations.runbook_url;
      const [base, fragment] = url.split('#');
      if (base !== MetricsMonitor.DEFAULT_RUNBOOK_BASE_URL) problems.push(`${r.alert}: runbook_url ${url} is not in the runbooks`);
      const section = byAnchor.get(fragment);
      if (!section) {
        problems.push(`${r.alert}: no section for #${fragment}`);
        continue;
      }
      if (section.heading !== r.alert) problems.push(`${r.alert}: #${fragment} is the section '${section.heading}'`);
      for (const part of ['**Meaning.**', '**First checks.**', '**Fixes.**']) {
        if (!section.body.includes(part)) problems.push(`${r.alert}: its section has no ${part}`);
      }
    }
    expect(problems).toEqual([]);
  });

  test('every section is about an alert that is rendered, and every link between sections resolves', () => {
    const names = new Set(rendered.map((r) => r.alert));
    expect([...sections().keys()].filter((h) => !names.has(h))).toEqual([]);
    const anchors = new Set([...sections().keys()].map(anchor));
    const links = [...RUNBOOKS.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    expect(links.filter((l) => !anchors.has(l))).toEqual([]);
  });
});

/** The rule tables of the README's "Metrics and alerts" section, by subsection heading. */
function readmeTables(): Map<string, string[][]> {
  const start = README.indexOf('### Metrics and alerts');
  expect(start).toBeGreaterThan(0);
  // up to the next section ('### Backup and restore'), whose option tables are no rule tables
  const section = README.slice(start, README.indexOf('\n### ', start + 1));
  const out = new Map<string, string[][]>();
  for (const part of section.split(/^#### /m).slice(1)) {
    const [heading, ...body] = part.split('\n');
    const rows = body.filter((l) => l.startsWith('| `')).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
    out.set(heading.trim(), rows);
  }
  return out;
}

/** The systems table at the top of "Metrics and alerts": system names and what they export (or 'not yet'). */
function systemsTable(): { system: string; monitors: boolean }[] {
  const start = README.indexOf('### Metrics and alerts');
  const intro = README.slice(start, README.indexOf('\n#### ', start));
  const rows = intro.split('\n').filter((l) => l.startsWith('| `')).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
  return rows.flatMap(([systems, metrics]) => systems.split(',').map((x) => ({ system: x.trim().replace(/`/g, ''), monitors: !metrics.startsWith('not yet') })));
}

function forText(d: Duration | undefined): string {
  const s = (d ?? Duration.minutes(5)).toSeconds();
  return s % 3600 === 0 ? `${s / 3600}h` : s % 60 === 0 ? `${s / 60}m` : `${s}s`;
}

/** A README row's first four cells for a rule: name, severity, for, threshold. */
function row(r: AlertRule): string[] {
  return [`\`${r.name}\``, r.severity ?? 'warning', forText(r.pendingFor), r.threshold ? `${r.threshold.value} ${r.threshold.unit}` : '–'];
}

describe('README rule tables ("Operations → Metrics and alerts")', () => {
  const tables = readmeTables();
  /** The rules of a system's own group, and those of every workload. */
  const rulesOf = (w: StatefulWorkload) => {
    const groups = w.metrics!.prometheusRule!.toJson().spec.groups;
    const shared = new Set<string>(groups.find((g: any) => g.name.endsWith('.kubernetes.rules')).rules.map((r: any) => r.alert));
    const rules = w.metrics!._rules;
    return { own: rules.filter((r) => !shared.has(r.name)), shared: rules.filter((r) => shared.has(r.name)) };
  };

  test('the alerts of every monitored workload', () => {
    expect(tables.get('Every monitored workload')!.map((r) => r.slice(0, 4))).toEqual(rulesOf(generic(chart())).shared.map(row));
  });

  test('the systems table says which systems take monitoring and which throw, and they do', () => {
    const make: { [system: string]: (c: Chart) => unknown } = {
      ZooKeeperEnsemble: (c) => new ZooKeeperEnsemble(c, 'zk', { monitoring: {} }),
      KafkaCluster: (c) => new KafkaCluster(c, 'kafka', { monitoring: {} }),
      MySqlReplicaSet: (c) => new MySqlReplicaSet(c, 'mysql', { monitoring: {} }),
      RedisCluster: (c) => new RedisCluster(c, 'redis', { monitoring: {} }),
      PostgresReplicaSet: (c) => new PostgresReplicaSet(c, 'pg', { monitoring: {} }),
      MongoReplicaSet: (c) => new MongoReplicaSet(c, 'mongo', { monitoring: {} }),
      StatefulWorkload: (c) => generic(c),
    };
    const claims = systemsTable();
    expect(claims.map((x) => x.system).sort()).toEqual(Object.keys(make).sort());
    const actual = claims.map(({ system }) => {
      const c = chart();
      try {
        make[system](c);
      } catch (e) {
        return { system, monitors: !/monitoring/.test(String(e)) };
      }
      return { system, monitors: Testing.synth(c).some((o) => o.kind === 'ServiceMonitor') };
    });
    expect(actual).toEqual(claims);
  });

  test.each([
    ['ZooKeeperEnsemble', (c: Chart) => new ZooKeeperEnsemble(c, 'zk', { monitoring: {} }).workload],
    ['KafkaCluster', (c: Chart) => new KafkaCluster(c, 'kafka', { monitoring: {} }).workload],
    ['PostgresReplicaSet', (c: Chart) => new PostgresReplicaSet(c, 'pg', { monitoring: {} }).workload],
    ['MongoReplicaSet', (c: Chart) => new MongoReplicaSet(c, 'mongo', { monitoring: {} }).workload],
    ['MySqlReplicaSet', (c: Chart) => new MySqlReplicaSet(c, 'mysql', { monitoring: {} }).workload],
    ['RedisCluster', (c: Chart) => new RedisCluster(c, 'redis', { monitoring: {} }).workload],
  ])('the alerts of %s', (system, make) => {
    expect(tables.get(system)!.map((r) => r.slice(0, 4))).toEqual(rulesOf(make(chart())).own.map(row));
  });
});
