/**
 * How the official `postgres` and postgres_exporter images differ from
 * Debian's packages, for the PostgreSQL real-process tests. Each entry is a
 * substitution the harness lists in its table.
 */
import { LocalClusterOptions } from './cluster';

/** Debian 12's PostgreSQL: the tag the e2e renders the construct for. */
export const PG_DEBIAN_VERSION = '15.18';
const PG_BIN = '/usr/lib/postgresql/15/bin';
/** A PostgreSQL 15 image with pgBackRest and openssl, as the README's Dockerfile builds it. */
export const PGBACKREST_IMAGE = `registry.example.com/postgres-pgbackrest:${PG_DEBIAN_VERSION}`;
const PATH = `/e2e-bin:${PG_BIN}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

/** Harness options for a manifest of `PostgresReplicaSet` rendered for `postgres:15.18`. */
export function postgresHarnessOptions(objects: any[], readyTimeoutMs: number): LocalClusterOptions {
  const names: string[] = [...new Set<string>(objects.filter((o) => o.kind === 'StatefulSet')
    .flatMap((sts) => sts.spec.template.spec.containers.filter((c: any) => !c.image.includes('postgres-exporter')).map((c: any) => c.name)))];
  return {
    readyTimeoutMs,
    imageEnv: Object.fromEntries(names.map((n) => [n, { PATH }])),
    binaries: [{
      name: 'postgres_exporter',
      manifest: 'postgres_exporter (quay.io/prometheuscommunity/postgres-exporter, on PATH)',
      local: 'Debian\'s prometheus-postgres-exporter 0.11 with the same arguments and DATA_SOURCE_* env',
      why: 'no container images here; Debian names the binary differently',
      script: 'exec /usr/bin/prometheus-postgres-exporter "$@"',
    }],
    notes: [
      {
        manifest: `image ${PGBACKREST_IMAGE} (the README's recipe: the official image plus pgBackRest and openssl)`,
        local: 'Debian\'s PostgreSQL 15, pgBackRest 2.45 and openssl 3',
        why: 'no container images here; the scripts call pgbackrest and openssl by name as in the image',
      },
      {
        manifest: `image docker.io/library/postgres:${PG_DEBIAN_VERSION}`,
        local: `Debian's PostgreSQL ${PG_DEBIAN_VERSION} (${PG_BIN}: postgres, initdb, pg_ctl, pg_basebackup, psql, pg_isready)`,
        why: 'no container images here; the construct is rendered for the version that runs',
      },
      {
        manifest: 'runAs uid/gid 999 (the official image\'s postgres user)',
        local: 'runAs 101/104 set in the test props: Debian\'s postgres user',
        why: 'initdb refuses a uid without a passwd entry, and the host has none for 999; the image has one',
      },
    ],
  };
}
