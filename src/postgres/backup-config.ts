// Pure renderers of pgBackRest's files: the configuration of the database
// pods, of the repository host and of a restore, and the scripts that give
// each pgBackRest server its TLS certificate. Internal: tests import them here.
import { CA_SEED_KEY_REF as CA_SEED_KEY, PG_DATA_DIR, PG_PASSFILE, PG_RUN_DIR, POSTGRES_PORT } from './config';

/** pgBackRest's stanza (one PostgreSQL cluster per repository). */
export const STANZA = 'main';
/** Port of every pgBackRest TLS server (repository host and database pods). */
export const PGBACKREST_PORT = 8432;
/** Secret key of the seed of the private CA every pgBackRest certificate is signed with. */
export { CA_SEED_KEY_REF as CA_SEED_KEY } from './config';
/** Common name of every pgBackRest certificate; the servers admit it for the stanza. */
export const CLIENT_CN = 'pgbackrest';
/** Directory of the pgBackRest configuration in the database pods (the ConfigMap mount). */
export const PG_BACKREST_CONF = '/opt/cdk8s/postgres/pgbackrest.conf';
/** The configuration a restored set's pod 0 restores with (the source's repository). */
export const PG_RESTORE_CONF = '/opt/cdk8s/postgres/pgbackrest-restore.conf';
/** TLS files of a database pod (in its run emptyDir, shared by postgres and the pgBackRest server). */
export const PG_TLS_DIR = `${PG_RUN_DIR}/tls`;
/** Mount path of the repository claim in the repository host. */
export const REPO_DIR = '/var/lib/pgbackrest';
/** Run directory (emptyDir) of the repository host: TLS files and locks. */
export const REPO_RUN_DIR = '/var/run/pgbackrest';
/** Config directory of the repository host (its ConfigMap mount). */
export const REPO_CONFIG_DIR = '/opt/cdk8s/pgbackrest';
/** Mount path of the credentials Secret in the repository host. */
export const REPO_SECRET_DIR = '/var/run/secrets/pgbackrest';

/** Where the repository keeps its files. */
export interface RepositorySettings {
  /** S3 bucket, or undefined for the repository host's claim. */
  readonly s3?: {
    readonly endpoint: string;
    readonly bucket: string;
    readonly region: string;
    readonly prefix: string;
    readonly uriStyle: string;
    readonly verifyTls: boolean;
  };
  /** Full backups kept; older ones and the WAL they need expire. */
  readonly retainFull: number;
}

/** TLS options of a pgBackRest client and server whose files live in `tlsDir`. */
function tlsLines(tlsDir: string): string[] {
  return [
    `tls-server-address=*`,
    `tls-server-port=${PGBACKREST_PORT}`,
    `tls-server-ca-file=${tlsDir}/current/ca.crt`,
    `tls-server-cert-file=${tlsDir}/current/tls.crt`,
    `tls-server-key-file=${tlsDir}/current/tls.key`,
    `tls-server-auth=${CLIENT_CN}=${STANZA}`,
  ];
}

/** Client side of a TLS connection to the host `prefix` (`repo1` or `pgN`). */
function hostLines(prefix: string, host: string, tlsDir: string): string[] {
  return [
    `${prefix}-host=${host}`,
    `${prefix}-host-type=tls`,
    `${prefix}-host-port=${PGBACKREST_PORT}`,
    `${prefix}-host-ca-file=${tlsDir}/current/ca.crt`,
    `${prefix}-host-cert-file=${tlsDir}/current/tls.crt`,
    `${prefix}-host-key-file=${tlsDir}/current/tls.key`,
  ];
}

/**
 * pgbackrest.conf of a database pod: archive-push and archive-get reach
 * the repository host `repoHost` over TLS; the pod's own pgBackRest server
 * lets the repository host read the data directory for backups.
 */
export function renderDbPgbackrestConf(repoHost: string): string {
  return [
    '# Rendered by cdk8s-stateful: pgBackRest in a PostgreSQL pod.',
    '[global]',
    ...hostLines('repo1', repoHost, PG_TLS_DIR),
    ...tlsLines(PG_TLS_DIR),
    `lock-path=${PG_RUN_DIR}/pgbackrest-lock`,
    'log-level-console=info',
    'log-level-stderr=warn',
    'log-level-file=off',
    'archive-timeout=120',
    'compress-type=lz4',
    '',
    `[${STANZA}]`,
    `pg1-path=${PG_DATA_DIR}`,
    `pg1-socket-path=${PG_RUN_DIR}`,
    `pg1-port=${POSTGRES_PORT}`,
    'pg1-user=postgres',
    '',
  ].join('\n');
}

/**
 * pgbackrest.conf of the repository host: the repository (its claim or a
 * bucket), retention, and every database pod as `pgN-host`, so that a
 * backup copies files from a standby (`backup-standby`) when there is one.
 */
export function renderRepoPgbackrestConf(podHosts: string[], repo: RepositorySettings): string {
  const tlsDir = `${REPO_RUN_DIR}/tls`;
  const s3 = repo.s3;
  return [
    '# Rendered by cdk8s-stateful: the pgBackRest repository host.',
    '[global]',
    ...(s3
      ? [
        'repo1-type=s3',
        `repo1-path=/${s3.prefix}`,
        `repo1-s3-endpoint=${s3.endpoint}`,
        `repo1-s3-bucket=${s3.bucket}`,
        `repo1-s3-region=${s3.region}`,
        `repo1-s3-uri-style=${s3.uriStyle}`,
        `repo1-storage-verify-tls=${s3.verifyTls ? 'y' : 'n'}`,
        '# repo1-s3-key and repo1-s3-key-secret come from the environment (the credentials Secret)',
      ]
      : ['repo1-type=posix', `repo1-path=${REPO_DIR}`]),
    `repo1-retention-full=${repo.retainFull}`,
    ...tlsLines(tlsDir),
    `lock-path=${REPO_RUN_DIR}/lock`,
    'log-level-console=info',
    'log-level-stderr=warn',
    'log-level-file=off',
    'start-fast=y',
    'archive-timeout=120',
    'compress-type=lz4',
    'archive-check=y',
    ...(podHosts.length > 1 ? ['# copy files from a standby; only start/stop run on the primary', 'backup-standby=y'] : []),
    '',
    `[${STANZA}]`,
    ...podHosts.flatMap((host, i) => [
      ...hostLines(`pg${i + 1}`, host, tlsDir),
      `pg${i + 1}-path=${PG_DATA_DIR}`,
      `pg${i + 1}-socket-path=${PG_RUN_DIR}`,
      `pg${i + 1}-port=${POSTGRES_PORT}`,
    ]),
    '',
  ].join('\n');
}

/** The configuration pod 0 of a restored set uses to read the source's repository. */
export function renderRestorePgbackrestConf(sourceRepoHost: string): string {
  return [
    '# Rendered by cdk8s-stateful: restore from the source set\'s repository.',
    '[global]',
    ...hostLines('repo1', sourceRepoHost, PG_TLS_DIR),
    `lock-path=${PG_RUN_DIR}/pgbackrest-lock`,
    'log-level-console=info',
    'log-level-stderr=warn',
    'log-level-file=off',
    '',
    `[${STANZA}]`,
    `pg1-path=${PG_DATA_DIR}`,
    `pg1-socket-path=${PG_RUN_DIR}`,
    `pg1-port=${POSTGRES_PORT}`,
    '',
  ].join('\n');
}

/**
 * tls.sh SEED_FILE DIR FQDN: makes this pod's certificate for pgBackRest.
 * Every pod derives the same private CA key from the Secret's seed (a P-256
 * scalar), so all of them trust each other without a certificate Job; each
 * gets a fresh key with its own FQDN, for server and client use. The CA key
 * is deleted once the certificate is signed.
 */
export function renderTlsScript(): string {
  return [
    '#!/bin/bash',
    '# Makes this pod\'s pgBackRest certificate, signed by the CA derived from the seed.',
    'set -euo pipefail',
    'seed_file=$1 dir=$2 fqdn=$3',
    'umask 077',
    'mkdir -p "$dir"',
    'tmp="$(mktemp -d "$dir/.new.XXXXXX")"',
    'hex="$(tr -dc \'0-9a-f\' <"$seed_file")"',
    'if [[ ${#hex} -ne 64 ]]; then',
    `  echo "the Secret key ${CA_SEED_KEY} must hold 64 hexadecimal characters" >&2`,
    '  exit 1',
    'fi',
    '# ECPrivateKey (RFC 5915) on P-256 with the seed as the private scalar',
    'der="30310201010420${hex}a00a06082a8648ce3d030107"',
    'bin=""',
    'for ((i = 0; i < ${#der}; i += 2)); do bin+="\\x${der:i:2}"; done',
    'printf \'%b\' "$bin" >"$tmp/ca.der"',
    'openssl ec -inform DER -in "$tmp/ca.der" -out "$tmp/ca.key" 2>/dev/null',
    'openssl req -x509 -new -key "$tmp/ca.key" -subj "/CN=pgbackrest-ca" -set_serial 1 -days 36500 -out "$tmp/ca.crt"',
    'openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$tmp/tls.key" \\',
    `  -subj "/CN=${CLIENT_CN}" -out "$tmp/tls.csr" 2>/dev/null`,
    'printf \'subjectAltName=DNS:%s\\nextendedKeyUsage=serverAuth,clientAuth\\n\' "$fqdn" >"$tmp/ext.cnf"',
    'serial="0x$(od -An -tx1 -N16 /dev/urandom | tr -d \' \\n\')"',
    'openssl x509 -req -in "$tmp/tls.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -set_serial "$serial" -days 36500 \\',
    '  -extfile "$tmp/ext.cnf" -out "$tmp/tls.crt" 2>/dev/null',
    'rm -f "$tmp/ca.der" "$tmp/ca.key" "$tmp/tls.csr" "$tmp/ext.cnf"',
    'rm -rf "$dir/current"',
    'mv "$tmp" "$dir/current"',
    '',
  ].join('\n');
}

/** Settings of the repository host's start script. */
export interface RepoStartSettings {
  /** FQDN of the repository host's pod. */
  readonly fqdn: string;
}

/**
 * repo.sh: the repository host makes its certificate, creates the stanza
 * once the primary answers (in the background, retrying), then serves
 * pgBackRest over TLS.
 */
export function renderRepoStartScript(s: RepoStartSettings): string {
  const conf = `${REPO_CONFIG_DIR}/pgbackrest.conf`;
  return [
    '#!/bin/bash',
    '# The pgBackRest repository host.',
    'set -euo pipefail',
    `export PGBACKREST_CONFIG=${conf}`,
    `bash ${REPO_CONFIG_DIR}/tls.sh ${REPO_SECRET_DIR}/${CA_SEED_KEY} ${REPO_RUN_DIR}/tls ${s.fqdn}`,
    `mkdir -p ${REPO_RUN_DIR}/lock`,
    '(',
    '  for ((i = 0; i < 360; i++)); do',
    `    if pgbackrest --stanza=${STANZA} stanza-create >/dev/null 2>&1; then echo "stanza ${STANZA} ready"; exit 0; fi`,
    '    sleep 10',
    '  done',
    `  echo "could not create stanza ${STANZA}" >&2`,
    ') &',
    'exec pgbackrest server',
    '',
  ].join('\n');
}

/**
 * pgbackrest-server.sh (sidecar of a database pod): waits for the
 * certificate start.sh makes, then serves pgBackRest over TLS so the
 * repository host can back up this pod.
 */
export function renderDbServerScript(): string {
  return [
    '#!/bin/bash',
    '# The pgBackRest server of a PostgreSQL pod.',
    'set -euo pipefail',
    `export PGBACKREST_CONFIG=${PG_BACKREST_CONF} PGPASSFILE=${PG_PASSFILE}`,
    'for ((i = 0; i < 600; i++)); do',
    `  if [[ -s ${PG_TLS_DIR}/current/tls.crt ]]; then break; fi`,
    '  sleep 1',
    'done',
    `mkdir -p ${PG_RUN_DIR}/pgbackrest-lock`,
    'exec pgbackrest server',
    '',
  ].join('\n');
}

/** The command a backup CronJob runs in the repository host's container. */
export function backupCommand(type: 'full' | 'diff'): string[] {
  return ['pgbackrest', `--config=${REPO_CONFIG_DIR}/pgbackrest.conf`, `--stanza=${STANZA}`, `--type=${type}`, 'backup'];
}
