// Backups of a ZooKeeperEnsemble: the snapshot CronJob, the restore-verify
// CronJob, and the restore init containers of an ensemble created from a
// backup; with the pure renderers of their scripts (tests run them).
//
// Why the AdminServer's `snapshot` command (ZooKeeper 3.9+, the default
// image runs 3.9.4): it is the only way a Job can get ZooKeeper's own
// snapshot of the whole tree over the network. The member serializes its
// in-memory tree to a snapshot file and streams it, in the format a server
// loads at start: every znode with its data, ACL, stat and child counter
// (sequential znodes continue their numbering after a restore). The
// alternatives lose: copying snapshot.N and the transaction logs needs the
// member's volume, which a Job cannot mount (ReadWriteOnce, in use); a
// logical dump through zkCli mangles binary data and loses ACLs, stats and
// sequence counters. Debian's ZooKeeper 3.8 lacks the command, so the
// real-process test runs ZooKeeper 3.9.4 from Maven Central.
//
// Consistency: a ZooKeeper snapshot is "fuzzy" when transactions are applied
// while it is written. A 3.9 snapshot ends with the last zxid applied when
// serialization ended; the backup compares it with the zxid the snapshot
// started at and says in its log whether the backup is exact at one
// zxid (no write during the seconds it took) or fuzzy (each znode is then in
// a state from within that window, as ZooKeeper's own restore command has).
import { Cron, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { BackupTarget, CheckedBackupBasics, checkedBackupBasics, checkedRestoreSource, s3Location } from '../core/backup';
import { checksumAndRename, keepNewest, VERIFY_CHECKSUM_FUNCTION } from '../core/backup-scripts';
import { WorkloadIdentity } from '../core/identity';
import { ScheduledJob } from '../core/job';
import { describe, Problem } from '../core/names';
import { WorkloadContainer, WorkloadMount, WorkloadVolume } from '../core/pod-spec';
import { k8s } from '../core/private/k8s';
import { Resources } from '../core/resources';
import { renderS3DownloadScript, renderS3UploadScript } from '../core/s3';
import { StatefulWorkload } from '../core/stateful-workload';
import { Storage } from '../core/storage';
import { RunAs } from '../core/security';
import { ImagePullPolicy } from '../core/system';
import type { ZooKeeperEnsembleProps } from './zookeeper-ensemble';

/** Scheduled snapshots of a ZooKeeperEnsemble. */
export interface ZooKeeperBackupOptions {
  /**
   * Where snapshots go: a claim (the CronJob mounts it), or an S3-compatible
   * bucket (the snapshot goes to scratch space, then `uploaderImage` ships it).
   * @default BackupTarget.volume()
   */
  readonly target?: BackupTarget;
  /**
   * When the snapshot is taken (the controller manager's time zone).
   * @default - every day at 02:15
   */
  readonly schedule?: Cron;
  /**
   * Snapshots kept: after each run only the newest `keep` remain.
   * @default 7
   */
  readonly keep?: number;
  /**
   * Longest a backup run may take (the Job's activeDeadlineSeconds).
   * @default Duration.hours(1)
   */
  readonly timeout?: Duration;
  /**
   * With `monitoring`: alert when no backup succeeded for this long
   * (kube-state-metrics' `kube_cronjob_status_last_successful_time`).
   * @default Duration.hours(48)
   */
  readonly maxAge?: Duration;
  /**
   * Image of the uploader (and downloader) of an S3 target: bash and the AWS CLI v2 (`aws`).
   * @default 'docker.io/amazon/aws-cli:2.27.0'
   */
  readonly uploaderImage?: string;
  /**
   * When the restore-verify Job loads the newest snapshot into a scratch
   * standalone ZooKeeper of its own and checks it.
   * @default - Sundays at 04:15
   */
  readonly verifySchedule?: Cron;
  /**
   * A znode that must exist in a good backup, checked by the restore-verify
   * Job (e.g. '/brokers/ids' for Kafka): a path of letters, digits and
   * `._:@+=,-` segments.
   * @default - the backup must hold at least one znode besides /zookeeper
   */
  readonly verifyPath?: string;
}

/**
 * Where a new ZooKeeperEnsemble gets its data from: every member loads the
 * same snapshot on its first start (an empty data directory), after its
 * sha256 is verified.
 */
export interface ZooKeeperRestoreOptions {
  /**
   * Where the snapshots are: the backed-up ensemble's bucket (with its
   * `prefix`), or a claim in this namespace that holds them
   * (`existingClaim`); every member mounts that claim read-only, so it must
   * allow that (ReadOnlyMany or ReadWriteMany, or all members on one node).
   */
  readonly source: BackupTarget;
  /**
   * The snapshot to load, e.g. 'snapshot-20260101T021500Z-300000a2c.zk.gz'.
   * @default - the newest
   */
  readonly backup?: string;
  /**
   * Image of the downloader of an S3 source: bash and the AWS CLI v2 (`aws`).
   * @default 'docker.io/amazon/aws-cli:2.27.0'
   */
  readonly downloaderImage?: string;
}

/**
 * `backup`, resolved.
 * @internal
 */
export interface ZooKeeperBackupSettings extends CheckedBackupBasics {
  readonly verifyPath: string | undefined;
}

/**
 * `restore`, resolved.
 * @internal
 */
export interface ZooKeeperRestoreSettings {
  readonly source: BackupTarget;
  /** A snapshot's name, or undefined for the newest. */
  readonly backup: string | undefined;
  readonly downloaderImage: string;
}

/** The uploader and downloader of S3 targets (bash, aws), as the other systems' backups use it. */
export const ZK_DEFAULT_AWS_CLI_IMAGE = 'docker.io/amazon/aws-cli:2.27.0';
/** Backup files: `snapshot-<UTC time>-<zxid in hex>.zk.gz`, each with its `.sha256` beside it. */
export const ZK_SNAPSHOT_NAMES = { prefix: 'snapshot-', suffix: '.zk.gz', companions: ['.sha256'] };
const SNAPSHOT_NAME = /^snapshot-\d{8}T\d{6}Z-[0-9a-f]{1,16}\.zk\.gz$/;
const SNAPSHOT_GLOB = `${ZK_SNAPSHOT_NAMES.prefix}*${ZK_SNAPSHOT_NAMES.suffix}`;
const ZNODE_PATH = /^(\/[A-Za-z0-9._:@+=,-]+)+$/;
/**
 * zoo.cfg keys that would break the snapshot command (AdminServer off or
 * elsewhere, snapshots without their last zxid, which the command requires,
 * a compressed stream the restore does not expect).
 */
export const KEYS_BACKUP_NEEDS = [
  'admin.enableServer', 'admin.serverAddress', 'admin.serverPort', 'admin.snapshot.enabled', 'serializeLastProcessedZxid.enabled',
  'snapshot.compression.method',
];

/** Resolves and checks `backup`; undefined without it. @internal */
export function zooKeeperBackupSettings(problem: Problem, props: ZooKeeperEnsembleProps): ZooKeeperBackupSettings | undefined {
  const b = props.backup;
  if (b === undefined) return undefined;
  const basics = checkedBackupBasics(problem, b, {
    schedule: Cron.schedule({ minute: '15', hour: '2' }), verifySchedule: Cron.schedule({ minute: '15', hour: '4', weekDay: '0' }), timeout: Duration.hours(1), uploaderImage: ZK_DEFAULT_AWS_CLI_IMAGE,
  });
  const path = b.verifyPath;
  if (path !== undefined && (typeof path !== 'string' || !ZNODE_PATH.test(path) || path.split('/').some((x) => x === '.' || x === '..') || path.startsWith('/zookeeper'))) {
    throw problem.error('backup.verifyPath', `must be an absolute znode path outside /zookeeper of letters, digits and '._:@+=,-' segments (no '.' or '..'), e.g. '/brokers/ids', got ${describe(path)}`);
  }
  return {
    ...basics,
    verifyPath: path,
  };
}

/** Resolves and checks `restore`; undefined without it. @internal */
export function zooKeeperRestoreSettings(problem: Problem, props: ZooKeeperEnsembleProps): ZooKeeperRestoreSettings | undefined {
  const r = props.restore;
  if (r === undefined) return undefined;
  if (typeof r !== 'object' || r === null) throw problem.error('restore', `must be { source, backup }, got ${describe(r)}`);
  const source = checkedRestoreSource(problem, r.source, 'snapshots', 'ensemble');
  if (r.backup !== undefined && (typeof r.backup !== 'string' || !SNAPSHOT_NAME.test(r.backup))) {
    throw problem.error('restore.backup', `must be a snapshot's name such as 'snapshot-20260101T021500Z-300000a2c.zk.gz', got ${describe(r.backup)}`);
  }
  if (r.downloaderImage !== undefined && !source.isS3) throw problem.error('restore.downloaderImage', 'applies to BackupTarget.s3(...) only: a claim is mounted, not downloaded');
  return { source, backup: r.backup, downloaderImage: problem.pinnedImage('restore.downloaderImage', r.downloaderImage) ?? ZK_DEFAULT_AWS_CLI_IMAGE };
}

// ---------------------------------------------------------------------------
// Pure renderers

/** Settings of `renderZkBackupScript`. */
export interface ZkBackupScriptSettings {
  /** Members' hosts, in the order they are asked. */
  readonly members: string[];
  readonly adminPort: number;
  /** Where the snapshot is written. */
  readonly dir: string;
  /**
   * Snapshots kept in `dir` (the newest); none are removed when undefined
   * (an uploader keeps the bucket's).
   */
  readonly keep?: number;
  /** Scratch directory for the response headers. */
  readonly tmpDir: string;
}

/**
 * The backup CronJob's script: asks each member in turn for a snapshot
 * through the AdminServer (`/commands/snapshot?streaming=true`, ZooKeeper
 * 3.9+), gzips the stream under a hidden temporary name, checks that it ends
 * with ZooKeeper's seal (a complete snapshot) and whether it is exact (the
 * zxid it ends with is the one it started at),
 * writes its sha256 beside it as `<name>.sha256`, then renames it to
 * `snapshot-<UTC time>-<zxid>.zk.gz` (a restore names the file after that
 * zxid). Then only the newest `keep` snapshots are kept.
 *
 * The command wants an authenticated identity with ALL on `/`: the script
 * sends a digest identity of its own, random per run, which passes while `/`
 * keeps ZooKeeper's default open ACL.
 */
export function renderZkBackupScript(s: ZkBackupScriptSettings): string {
  return [
    '#!/bin/bash',
    '# Streams a snapshot from a member\'s AdminServer, gzipped, with a sha256, under a temporary name until complete.',
    'set -euo pipefail',
    `dir=${s.dir}`,
    `headers=${s.tmpDir}/snapshot.headers`,
    `members=(${s.members.join(' ')})`,
    'auth="digest cdk8s-backup:$(od -An -N16 -tx1 /dev/urandom | tr -d \' \\n\')"',
    '# a temporary file an interrupted run left behind (runs never overlap)',
    'rm -f "$dir"/.snapshot-*.partial',
    'stamp="$(date -u +%Y%m%dT%H%M%SZ)"',
    'partial="$dir/.snapshot-$stamp.partial"',
    'source_host=',
    'for h in "${members[@]}"; do',
    `  if curl -fsS --connect-timeout 10 -D "$headers" -H "Authorization: $auth" "http://$h:${s.adminPort}/commands/snapshot?streaming=true" | gzip >"$partial"; then`,
    '    source_host=$h',
    '    break',
    '  fi',
    '  echo "$h did not serve a snapshot" >&2',
    'done',
    'if [[ -z "$source_host" ]]; then',
    '  rm -f "$partial"',
    '  echo "no member served a snapshot (${members[*]})" >&2',
    '  exit 1',
    'fi',
    'zxid="$(tr -d \'\\r\' <"$headers" | sed -n \'s/^last_zxid: *0x\\([0-9a-fA-F]\\{1,16\\}\\)$/\\1/Ip\' | tr \'A-F\' \'a-f\')"',
    'if [[ -z "$zxid" ]]; then',
    '  echo "$source_host sent no last_zxid header" >&2',
    '  exit 1',
    'fi',
    '# ZooKeeper 3.9 ends a snapshot with the last zxid applied when it was done, sealed: "<CRC>/" after each part',
    'trailer="$(gunzip -c "$partial" | tail -c 26 | od -An -v -tx1 | tr -d \' \\n\')"',
    'if [[ "${trailer: -10}" != 000000012f ]]; then',
    '  echo "the snapshot from $source_host is incomplete: it does not end with ZooKeeper\'s seal" >&2',
    '  exit 1',
    'fi',
    'if [[ "${trailer:0:10}" != 000000012f ]]; then',
    '  state="taken from zxid 0x$zxid (no last-zxid trailer: whether it is exact is unknown)"',
    'elif ((16#${trailer:10:16} == 16#$zxid)); then',
    '  state="exact at zxid 0x$zxid"',
    'else',
    '  state="fuzzy: transactions after zxid 0x$zxid up to 0x${trailer:10:16} were applied while it was written"',
    'fi',
    `name="${ZK_SNAPSHOT_NAMES.prefix}$stamp-$zxid${ZK_SNAPSHOT_NAMES.suffix}"`,
    ...checksumAndRename(),
    'echo "wrote $dir/$name from $source_host ($(stat -c %s "$dir/$name") bytes, sha256 $sum), $state"',
    ...(s.keep === undefined ? [] : keepNewest(SNAPSHOT_GLOB, s.keep)),
    '',
  ].join('\n');
}

/** Where a member keeps its snapshots and transaction logs. */
export interface ZkDataDirs {
  readonly dataDir: string;
  /** The separate transaction-log directory, if any. */
  readonly dataLogDir?: string;
}

/**
 * Lines that end a restore init container's script (`exit 0`) when the
 * member has data already (a snapshot or a transaction log): only a fresh
 * member loads a backup. Otherwise they leave an empty `<dataDir>/restore`.
 */
export function zkRestoreGuard(d: ZkDataDirs): string[] {
  const dirs = [d.dataDir, ...(d.dataLogDir ? [d.dataLogDir] : [])];
  return [
    `data_dirs=(${dirs.map((x) => `${x}/version-2`).join(' ')})`,
    'for d in "${data_dirs[@]}"; do',
    '  if compgen -G "$d/snapshot.*" >/dev/null || compgen -G "$d/log.*" >/dev/null; then',
    '    echo "this member has data in $d; nothing to restore"',
    `    rm -rf ${d.dataDir}/restore`,
    '    exit 0',
    '  fi',
    'done',
  ];
}

/** Settings of `renderZkRestoreScript`. */
export interface ZkRestoreScriptSettings extends ZkDataDirs {
  /** Where the backups are: the mounted source claim, or the downloader's `<dataDir>/restore`. */
  readonly source: string;
  /**
   * The snapshot to restore.
   * @default - the newest in `source`
   */
  readonly backup?: string;
}

/**
 * restore.sh (init container of every member, in the ZooKeeper image): on a
 * fresh member only, verifies the snapshot's sha256 (refusing a corrupted
 * file, naming both sums) and installs it as `<dataDir>/version-2/snapshot.<zxid>`,
 * which ZooKeeper loads when it starts. Every member loads the same snapshot,
 * so whichever member the election makes leader holds the data, and no
 * majority of empty members can form a quorum and serve an empty tree.
 */
export function renderZkRestoreScript(s: ZkRestoreScriptSettings): string {
  const snapDir = `${s.dataDir}/version-2`;
  return [
    '#!/bin/bash',
    `# Installs ${s.backup ? `backup ${s.backup}` : 'the newest backup'} as the snapshot of a fresh member, once its sha256 is verified.`,
    'set -euo pipefail',
    ...zkRestoreGuard(s),
    ...VERIFY_CHECKSUM_FUNCTION,
    `source=${s.source}`,
    ...(s.backup
      ? [`file="$source/${s.backup}"`]
      : [`file="$(find "$source" -maxdepth 1 -name '${SNAPSHOT_GLOB}' | sort -r | head -n 1)"`]),
    'if [[ -z "$file" || ! -f "$file" ]]; then',
    `  echo "no backup ${s.backup ? `${s.backup} ` : ''}in $source to restore" >&2`,
    '  exit 1',
    'fi',
    'verify_checksum "$file"',
    ...zxidOf('file'),
    `mkdir -p ${snapDir}`,
    `gunzip -c "$file" >${snapDir}/.snapshot.partial`,
    `mv ${snapDir}/.snapshot.partial "${snapDir}/snapshot.$zxid"`,
    `rm -rf ${s.dataDir}/restore`,
    `echo "restored $name as ${snapDir}/snapshot.$zxid"`,
    '',
  ].join('\n');
}

/** Lines that set `name` and `zxid` from the backup file in `$<variable>`. */
function zxidOf(variable: string): string[] {
  return [
    `name="$(basename "$${variable}")"`,
    `zxid="\${name%${ZK_SNAPSHOT_NAMES.suffix}}"`,
    'zxid="${zxid##*-}"',
    'if ! [[ "$zxid" =~ ^[0-9a-f]{1,16}$ ]]; then',
    '  echo "$name does not end in -<zxid>' + ZK_SNAPSHOT_NAMES.suffix + '" >&2',
    '  exit 1',
    'fi',
  ];
}

/** Settings of `renderZkRestoreVerifyScript`. */
export interface ZkRestoreVerifySettings {
  /** Where the backups are (the claim, or the downloader's scratch directory). */
  readonly dir: string;
  /** An empty directory for the scratch server. */
  readonly scratchDir: string;
  /** The scratch server's client port, on 127.0.0.1. */
  readonly port: number;
  /**
   * A znode that must exist.
   * @default - only the count of znodes is checked
   */
  readonly path?: string;
}

/**
 * The restore-verify Job: verifies the newest snapshot's sha256, starts a
 * standalone ZooKeeper on 127.0.0.1 in `scratchDir` with it as its only
 * snapshot, checks that the server loaded it (its zxid is the snapshot's),
 * that it holds znodes besides /zookeeper and (with `path`) that the path
 * exists.
 */
export function renderZkRestoreVerifyScript(s: ZkRestoreVerifySettings): string {
  return [
    '#!/bin/bash',
    '# Loads the newest backup into a scratch standalone ZooKeeper on 127.0.0.1 and checks it.',
    'set -euo pipefail',
    `dir=${s.dir}`,
    `scratch=${s.scratchDir}`,
    `port=${s.port}`,
    ...VERIFY_CHECKSUM_FUNCTION,
    `file="$(find "$dir" -maxdepth 1 -name '${SNAPSHOT_GLOB}' | sort -r | head -n 1)"`,
    'if [[ -z "$file" ]]; then',
    '  echo "no backup in $dir to verify" >&2',
    '  exit 1',
    'fi',
    'verify_checksum "$file"',
    ...zxidOf('file'),
    'rm -rf "$scratch"',
    'mkdir -p "$scratch/data/version-2" "$scratch/conf" "$scratch/logs"',
    'gunzip -c "$file" >"$scratch/data/version-2/snapshot.$zxid"',
    'printf \'%s\\n\' tickTime=2000 "dataDir=$scratch/data" "clientPort=$port" clientPortAddress=127.0.0.1 \\',
    '  admin.enableServer=false 4lw.commands.whitelist=ruok,srvr >"$scratch/conf/zoo.cfg"',
    'printf \'%s\\n\' \'<configuration><appender name="E" class="ch.qos.logback.core.ConsoleAppender"><target>System.err</target>\' \\',
    '  \'<encoder><pattern>%d %-5p %m%n</pattern></encoder></appender><root level="WARN"><appender-ref ref="E"/></root></configuration>\' >"$scratch/conf/logback.xml"',
    'export ZOOCFGDIR="$scratch/conf" ZOO_LOG_DIR="$scratch/logs" CLIENT_JVMFLAGS=-Xmx64m',
    'zkServer.sh start-foreground >"$scratch/server.log" 2>&1 &',
    'server=$!',
    'stop_server() {',
    '  kill "$server" 2>/dev/null || true',
    '  wait "$server" 2>/dev/null || true',
    '}',
    'trap stop_server EXIT',
    'four_letter() {',
    '  exec 3<>"/dev/tcp/127.0.0.1/$port"',
    '  printf \'%s\' "$1" >&3',
    '  cat <&3',
    '  exec 3<&-',
    '}',
    'fail() {',
    '  echo "$name: $*" >&2',
    '  tail -n 20 "$scratch/server.log" >&2',
    '  exit 1',
    '}',
    'for ((i = 0; i < 120; i++)); do',
    '  if [[ "$(four_letter ruok 2>/dev/null)" == imok ]]; then break; fi',
    '  kill -0 "$server" 2>/dev/null || fail "the scratch server exited"',
    '  sleep 1',
    'done',
    'loaded="$(four_letter srvr 2>/dev/null | sed -n \'s/^Zxid: 0x\\([0-9a-f]*\\)$/\\1/p\' || true)"',
    '[[ -n "$loaded" ]] || fail "the scratch server did not start in 120 s"',
    '((16#$loaded >= 16#$zxid)) || fail "the scratch server is at zxid 0x$loaded, not at the snapshot\'s 0x$zxid: it did not load it"',
    'count() {',
    '  zkCli.sh -server "127.0.0.1:$port" getAllChildrenNumber "$1" 2>/dev/null | grep -E \'^[0-9]+$\' | tail -n 1 || true',
    '}',
    'all="$(count /)"',
    'system="$(count /zookeeper)"',
    '[[ "$all" =~ ^[0-9]+$ && "$system" =~ ^[0-9]+$ ]] || fail "could not count the znodes"',
    '# every znode below / but /zookeeper and what is below it',
    'znodes=$((all - system - 1))',
    '((znodes > 0)) || fail "the snapshot holds no znode besides /zookeeper"',
    ...(s.path === undefined ? ['checked="$znodes znodes"'] : [
      `zkCli.sh -server "127.0.0.1:$port" stat '${s.path}' 2>/dev/null | grep '^cZxid = ' >/dev/null || fail "znode ${s.path} does not exist"`,
      `checked="$znodes znodes, ${s.path} exists"`,
    ]),
    'echo "restore of $name verified: zxid 0x$loaded, $checked"',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------
// Kubernetes objects

/** Where the backup Jobs mount a claim target, or keep a download. */
const BACKUP_DIR = '/backup';
/** Where a member mounts a restore source claim. */
const RESTORE_SOURCE_DIR = '/restore-source';
const SCRATCH_PORT = 2181;
const TMP: WorkloadVolume = { name: 'tmp', storage: Storage.ephemeral({ sizeLimit: Size.mebibytes(64) }) };
const HOME_TMP = { HOME: kplus.EnvValue.fromValue('/tmp') };
const AWS_RESOURCES = Resources.of({ cpuMillis: 100, memory: Size.mebibytes(256) });

/**
 * What the restore adds to the members' pods.
 * @internal
 */
export interface ZkRestoreParts {
  readonly volumes: WorkloadVolume[];
  readonly initContainers: WorkloadContainer[];
}

/**
 * The restore init containers of every member: for a bucket, a downloader
 * that puts the snapshot and its `.sha256` in `<dataDir>/restore` of a fresh
 * member; then restore.sh (ZooKeeper's image), which verifies and installs it.
 * @internal
 */
export function zkRestoreParts(scope: Construct, r: ZooKeeperRestoreSettings, dirs: ZkDataDirs, dataLogVolume: string | undefined): ZkRestoreParts {
  const mounts: WorkloadMount[] = [
    { volume: 'data', path: dirs.dataDir },
    ...(dataLogVolume && dirs.dataLogDir ? [{ volume: dataLogVolume, path: dirs.dataLogDir }] : []),
  ];
  const restoreDir = `${dirs.dataDir}/restore`;
  const resources = Resources.of({ cpuMillis: 100, memory: Size.mebibytes(128) });
  if (r.source._s3) {
    const download = renderS3DownloadScript({
      ...s3Location(r.source, '', '/tmp'), dir: restoreDir, names: ZK_SNAPSHOT_NAMES, backup: r.backup,
      guard: [...zkRestoreGuard(dirs), `rm -rf ${restoreDir}`, `mkdir -p ${restoreDir}`],
    });
    return {
      // the members' own /tmp volume holds the CLI's config
      volumes: [],
      initContainers: [
        {
          name: 'restore-download', image: r.downloaderImage, command: ['bash', '-c', download],
          // a scope of its own: the ensemble's backup target may name a Secret too
          env: { ...HOME_TMP, ...r.source._credentialsEnv(new Construct(scope, 'RestoreSource')) },
          mounts: [...mounts, { volume: 'tmp', path: '/tmp' }],
          resources: AWS_RESOURCES,
        },
        { name: 'restore', command: ['bash', '-c', renderZkRestoreScript({ ...dirs, source: restoreDir, backup: r.backup })], mounts, resources },
      ],
    };
  }
  return {
    volumes: [{ name: 'restore-source', storage: Storage.existingClaim(r.source._volume!.existingClaim!) }],
    initContainers: [{
      name: 'restore',
      command: ['bash', '-c', renderZkRestoreScript({ ...dirs, source: RESTORE_SOURCE_DIR, backup: r.backup })],
      mounts: [...mounts, { volume: 'restore-source', path: RESTORE_SOURCE_DIR, readOnly: true }],
      resources,
    }],
  };
}

/**
 * What the backup Jobs need from the ensemble.
 * @internal
 */
export interface ZkBackupJobsProps {
  readonly problem: Problem;
  readonly backup: ZooKeeperBackupSettings;
  readonly identity: WorkloadIdentity;
  readonly workload: StatefulWorkload;
  readonly replicas: number;
  readonly image: string;
  readonly runAs: RunAs;
  readonly imagePullPolicy?: ImagePullPolicy;
  readonly adminPort: number;
  /** The members' resources and heap: the scratch server holds the same tree. */
  readonly resources: Resources;
  readonly heapMebibytes: number;
}

/**
 * The snapshot CronJob `<name>-backup` and the restore-verify CronJob
 * `<name>-restore-verify`; the snapshot's pods are admitted to the
 * AdminServer port.
 * @internal
 */
export function addZkBackupJobs(scope: Construct, p: ZkBackupJobsProps): { backup: k8s.KubeCronJob; verify: k8s.KubeCronJob } {
  const b = p.backup;
  const labels = (component: string) => ({ ...p.workload.labels, 'app.kubernetes.io/component': component });
  const claim = b.target._s3 ? undefined : b.target._claimName(scope, p.identity.name, labels('backup'));
  // a claim takes the snapshots directly; for a bucket, the snapshot goes to scratch space and an uploader ships it
  const store: WorkloadVolume = { name: 'backup', storage: claim ? Storage.existingClaim(claim) : Storage.ephemeral() };
  const location = claim ? undefined : s3Location(b.target, p.identity.name, '/tmp');
  const s3Env = location ? b.target._credentialsEnv(scope) : {};
  const aws = (name: string, script: string, readOnly: boolean): WorkloadContainer => ({
    name, image: b.uploaderImage, command: ['bash', '-c', script], env: { ...HOME_TMP, ...s3Env }, resources: AWS_RESOURCES,
    mounts: [{ volume: 'backup', path: BACKUP_DIR, readOnly }, { volume: 'tmp', path: '/tmp' }],
  });
  const common = { problem: p.problem, runAs: p.runAs, imagePullPolicy: p.imagePullPolicy, activeDeadline: b.timeout, startingDeadline: Duration.hours(1) };

  const snapshot: WorkloadContainer = {
    name: 'snapshot',
    image: p.image,
    command: ['bash', '-c', renderZkBackupScript({
      members: Array.from({ length: p.replicas }, (_, i) => p.identity.podFqdn(i)),
      adminPort: p.adminPort, dir: BACKUP_DIR, keep: location ? undefined : b.keep, tmpDir: '/tmp',
    })],
    resources: Resources.of({ cpuMillis: 100, memory: Size.mebibytes(128) }),
    mounts: [{ volume: 'backup', path: BACKUP_DIR }, { volume: 'tmp', path: '/tmp' }],
  };
  const backup = new ScheduledJob(scope, 'Backup', {
    ...common,
    name: `${p.identity.name}-backup`,
    labels: labels('backup'),
    schedule: b.schedule,
    backoffLimit: 2,
    ...(location
      ? { initContainers: [snapshot], container: aws('upload', renderS3UploadScript({ ...location, dir: BACKUP_DIR, names: ZK_SNAPSHOT_NAMES, keep: b.keep }), true) }
      : { container: snapshot }),
    volumes: [store, TMP],
  });
  if (p.workload.networkPolicy) p.workload.allowClients(backup.peer(), ['admin']);

  const verifyContainer: WorkloadContainer = {
    name: 'verify',
    image: p.image,
    command: ['bash', '-c', renderZkRestoreVerifyScript({ dir: BACKUP_DIR, scratchDir: '/tmp/zk-verify', port: SCRATCH_PORT, path: b.verifyPath })],
    env: { ...HOME_TMP, ZK_SERVER_HEAP: kplus.EnvValue.fromValue(String(p.heapMebibytes)) },
    resources: p.resources,
    mounts: [{ volume: 'backup', path: BACKUP_DIR, readOnly: true }, { volume: 'scratch', path: '/tmp' }],
  };
  const verify = new ScheduledJob(scope, 'RestoreVerify', {
    ...common,
    name: `${p.identity.name}-restore-verify`,
    labels: labels('restore-verify'),
    schedule: b.verifySchedule,
    backoffLimit: 1,
    ...(location
      ? { initContainers: [aws('download', renderS3DownloadScript({ ...location, dir: BACKUP_DIR, names: ZK_SNAPSHOT_NAMES }), false)] }
      : {}),
    container: verifyContainer,
    // the claim is only read; for a bucket, the download lands in scratch space
    // the scratch server's data is the whole tree, uncompressed: no size limit but the node's
    volumes: [claim ? store : { name: 'backup', storage: Storage.ephemeral() }, { name: 'scratch', storage: Storage.ephemeral() }, ...(location ? [TMP] : [])],
  });
  return { backup: backup.cronJob, verify: verify.cronJob };
}

