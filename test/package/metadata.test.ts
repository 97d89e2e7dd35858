/**
 * What the registry and Construct Hub show of the package, and what the
 * README promises about installing it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { DEFAULT_RUNBOOK_BASE_URL } from '../../src/core/alerts';
import { KafkaCluster, MongoReplicaSet, MySqlFlavor, MySqlReplicaSet, PostgresReplicaSet, RedisCluster, ZooKeeperEnsemble } from '../../src';
import { codeBlocks, readme, REPO, section } from './app';

const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf-8'));

describe('package.json', () => {
  test('the repository, its home page, its issues and the runbook links of the alerts are one GitHub repository', () => {
    const repo = pkg.repository.url.replace(/\.git$/, '');
    expect(repo).toMatch(/^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/);
    expect(pkg.repository.type).toBe('git');
    expect(pkg.homepage).toBe(`${repo}#readme`);
    expect(pkg.bugs.url).toBe(`${repo}/issues`);
    expect(DEFAULT_RUNBOOK_BASE_URL).toBe(`${repo}/blob/main/docs/runbooks.md`);
    expect(fs.existsSync(path.join(REPO, 'docs', 'runbooks.md'))).toBe(true);
  });

  test('the keywords Construct Hub lists cdk8s libraries by, and every system the package runs', () => {
    // GIVEN the app.kubernetes.io/name of every system's StatefulSets, with default props
    const app = Testing.app();
    const chart = new Chart(app, 'systems');
    new ZooKeeperEnsemble(chart, 'zk');
    new KafkaCluster(chart, 'kafka');
    new MySqlReplicaSet(chart, 'mysql', { flavor: MySqlFlavor.mysql() });
    new MySqlReplicaSet(chart, 'mariadb', { flavor: MySqlFlavor.mariadb() });
    new RedisCluster(chart, 'redis');
    new PostgresReplicaSet(chart, 'postgres');
    new MongoReplicaSet(chart, 'mongo');
    const systems = new Set(Testing.synth(chart).filter((o) => o.kind === 'StatefulSet').map((o) => o.metadata.labels['app.kubernetes.io/name']));
    expect(systems.size).toBe(7);
    // THEN each is a keyword, beside the ones that say what the package is
    expect(pkg.keywords).toEqual(expect.arrayContaining(['cdk8s', 'kubernetes', 'statefulset', ...systems]));
  });

  test('LICENSE is the Apache License 2.0 that package.json names', () => {
    expect(pkg.license).toBe('Apache-2.0');
    const license = fs.readFileSync(path.join(REPO, 'LICENSE'), 'utf-8');
    expect(license.split('\n').slice(0, 3).map((l) => l.trim())).toEqual(['', 'Apache License', 'Version 2.0, January 2004']);
    expect(license).toContain('END OF TERMS AND CONDITIONS');
  });

  test('the README\'s install command names every peer with its range, each range starting at the version the project builds with', () => {
    // GIVEN the install commands of the README
    const installs = codeBlocks(section(readme(), 'Install')).filter((b) => b.lang === 'sh')
      .flatMap((b) => b.code.split('\n')).filter((l) => l.startsWith('npm install cdk8s-stateful '));
    expect(installs.length).toBeGreaterThan(0);
    for (const line of installs) {
      // THEN the specs are the peerDependencies
      const specs = line.split(/\s+/).slice(3);
      expect(Object.fromEntries(specs.map((s) => [s.slice(0, s.lastIndexOf('@')), s.slice(s.lastIndexOf('@') + 1)]))).toEqual(pkg.peerDependencies);
    }
    // and each range starts at the pinned version the library is compiled and tested against
    for (const [peer, range] of Object.entries(pkg.peerDependencies)) expect(range).toBe(`^${pkg.devDependencies[peer]}`);
  });
});
