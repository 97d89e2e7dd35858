// Pure renderers of the scripts that back up, verify and restore a Redis
// Cluster. A backup set is one directory named after its UTC start time
// (`20261201T023000Z`) with one RDB per master and a `manifest`:
//
//   format 1
//   created 20261201T023000Z
//   masters 3
//   shard 0 slots-0-5460-<id>.rdb <sha256> <master id> 0-5460
//   shard 1 ...
//
// A set is complete once its manifest is there: on a volume the set is
// written under `.partial-<stamp>` and renamed when every file is in; in a
// bucket the manifest is the last object uploaded.

import { awsFlags, awsPreamble as coreAwsPreamble, S3Location } from '../core/s3';
import { REDIS_CLIENT_PORT } from './config';

/** The number of hash slots of every Redis Cluster. */
export const REDIS_SLOTS = 16384;
/** Where the backup volume (or the scratch space of an S3 upload) is mounted in the backup and verify pods. */
export const REDIS_BACKUP_DIR = '/backup';
/** Where a restoring cluster mounts the claim that holds the backup sets. */
export const REDIS_RESTORE_DIR = '/restore';
/** A set's name: its UTC start time. */
export const BACKUP_SET_PATTERN = /^[0-9]{8}T[0-9]{6}Z$/;
const SET_GLOB = '[0-9]*T[0-9]*Z';

/** Settings of `renderRedisBackupScript`. */
export interface RedisBackupSettings {
  /** FQDN of every node, in ordinal order: any of them may answer for the cluster. */
  readonly nodeHosts: string[];
  /** Where the sets are written. */
  readonly dir: string;
  /** Complete sets kept in `dir` (the newest). */
  readonly keep: number;
}

/**
 * The backup Job's script: asks the first node that reports
 * cluster_state:ok for CLUSTER NODES, refuses a cluster whose masters do not
 * cover all 16384 slots or that is migrating a slot, and fetches one RDB per
 * master with `redis-cli --rdb` (the replication snapshot). It reads from a
 * replica whose link to the master is up, so the master is spared the fork
 * and the transfer, and from the master only when it has no such replica.
 * Each file is named after its slot ranges and master ID, written under a
 * temporary name and checksummed; the set is renamed into place once
 * complete, and only the newest `keep` sets remain.
 */
export function renderRedisBackupScript(s: RedisBackupSettings): string {
  return [
    '#!/bin/bash',
    '# Takes an RDB of every master of the Redis Cluster into one backup set.',
    'set -euo pipefail',
    `port=${REDIS_CLIENT_PORT}`,
    `dir=${s.dir}`,
    `keep=${s.keep}`,
    'seeds=(',
    ...s.nodeHosts.map((h) => `  ${h}`),
    ')',
    '',
    'fail() {',
    '  echo "backup: $*" >&2',
    '  exit 1',
    '}',
    '# redis-cli against "<ip>:<port>", the address a node line names.',
    'cli() {',
    '  redis-cli -h "${1%:*}" -p "${1##*:}" "${@:2}" </dev/null | tr -d \'\\r\'',
    '}',
    '',
    'nodes=""',
    'for seed in "${seeds[@]}"; do',
    '  if cli "$seed:$port" cluster info 2>/dev/null | grep -x \'cluster_state:ok\' >/dev/null; then',
    '    nodes="$(cli "$seed:$port" cluster nodes)"',
    '    break',
    '  fi',
    'done',
    '[[ -n "$nodes" ]] || fail "no node reports cluster_state:ok; a set taken now could miss slots"',
    '',
    'stamp="$(date -u +%Y%m%dT%H%M%SZ)"',
    '[[ ! -e "$dir/$stamp" ]] || fail "set $dir/$stamp exists already"',
    'rm -rf "$dir"/.partial-*',
    'work="$dir/.partial-$stamp"',
    'mkdir "$work"',
    'shard=0',
    'covered=0',
    'mapfile -t masters < <(awk \'$3 ~ /master/ && $3 !~ /fail/ && NF > 8\' <<<"$nodes")',
    'for line in "${masters[@]}"; do',
    '  read -r -a f <<<"$line"',
    '  id="${f[0]}" addr="${f[1]%%@*}"',
    '  ranges=()',
    '  for r in "${f[@]:8}"; do',
    '    [[ "$r" != \\[* ]] || fail "slot $r of master $id is migrating; back up after the resharding"',
    '    [[ "$r" == *-* ]] || r="$r-$r"',
    '    ranges+=("$r")',
    '    covered=$((covered + ${r#*-} - ${r%-*} + 1))',
    '  done',
    '  csv="$(IFS=,; echo "${ranges[*]}")"',
    '  # a replica with a live link has the same data; reading it spares the master the fork',
    '  from="$addr" from_id="$id"',
    '  while read -r rid raddr rflags rmaster _ _ _ rlink _; do',
    '    [[ "$rmaster" == "$id" && "$rflags" == *slave* && "$rflags" != *fail* && "$rlink" == connected ]] || continue',
    '    if cli "${raddr%%@*}" info replication | grep -x \'master_link_status:up\' >/dev/null; then',
    '      from="${raddr%%@*}" from_id="$rid"',
    '      break',
    '    fi',
    '  done <<<"$nodes"',
    '  label="${csv//,/_}"',
    '  ((${#label} <= 100)) || label="${ranges[0]}_and_more"',
    '  file="slots-$label-$id.rdb"',
    '  cli "$from" --rdb "$work/$file.partial" >/dev/null',
    '  [[ "$(head -c 5 "$work/$file.partial")" == REDIS ]] || fail "the snapshot of $id from $from is not an RDB file"',
    '  mv "$work/$file.partial" "$work/$file"',
    '  sum="$(sha256sum "$work/$file" | cut -d\' \' -f1)"',
    '  echo "shard $shard $file $sum $id $csv" >>"$work/shards"',
    '  echo "shard $shard: master $id (slots $csv) read from node $from_id at $from: $file sha256 $sum"',
    '  shard=$((shard + 1))',
    'done',
    `((covered == ${REDIS_SLOTS})) || fail "the masters cover $covered of ${REDIS_SLOTS} slots"`,
    '{',
    '  echo "format 1"',
    '  echo "created $stamp"',
    '  echo "masters $shard"',
    '  cat "$work/shards"',
    '} >"$work/manifest"',
    'rm "$work/shards"',
    'mv "$work" "$dir/$stamp"',
    'echo "backup set $dir/$stamp complete: $shard masters"',
    '',
    `mapfile -t old < <(find "$dir" -mindepth 1 -maxdepth 1 -type d -name '${SET_GLOB}' | sort -r | tail -n +$((keep + 1)))`,
    'for d in "${old[@]}"; do',
    '  rm -rf -- "$d"',
    '  echo "removed $d"',
    'done',
    '',
  ].join('\n');
}

/** Settings of `renderRedisS3UploadScript`. */
export interface RedisS3UploadSettings extends S3Location {
  /** Where the backup script left its one set. */
  readonly dir: string;
  /** Complete sets kept in the bucket (the newest). */
  readonly keep: number;
}

/** core's aws-cli preamble, an `s3` function with the global flags, and the listing of complete sets. */
function awsPreamble(s: S3Location): string[] {
  return [
    ...coreAwsPreamble(s),
    `s3() {`,
    `  aws ${awsFlags(s)} s3 "$@"`,
    '}',
    '# The complete sets in the bucket (those whose manifest is there), newest first.',
    'complete_sets() {',
    '  s3 ls --recursive "$target/" | awk \'{ print $4 }\' | sed -nE \'s#^(.*/)?([0-9]{8}T[0-9]{6}Z)/manifest$#\\2#p\' | sort -r',
    '}',
  ];
}

/**
 * The uploader (aws-cli): ships the set the backup script left in `dir`
 * (the RDB files first, the manifest last, so a set counts only once it is
 * whole), then keeps the newest `keep` complete sets in the bucket and
 * removes what an interrupted upload left of older ones.
 */
export function renderRedisS3UploadScript(s: RedisS3UploadSettings): string {
  return [
    '#!/bin/bash',
    '# Uploads the backup set, manifest last, then keeps the newest sets in the bucket.',
    'set -euo pipefail',
    ...awsPreamble(s),
    `dir=${s.dir}`,
    `keep=${s.keep}`,
    `mapfile -t sets < <(find "$dir" -mindepth 1 -maxdepth 1 -type d -name '${SET_GLOB}')`,
    '[[ "${#sets[@]}" -eq 1 ]] || { echo "expected one backup set in $dir, found ${#sets[@]}" >&2; exit 1; }',
    'name="$(basename "${sets[0]}")"',
    'for f in "${sets[0]}"/*.rdb; do',
    '  s3 cp "$f" "$target/$name/$(basename "$f")"',
    'done',
    's3 cp "${sets[0]}/manifest" "$target/$name/manifest"',
    'echo "uploaded $target/$name"',
    'mapfile -t complete < <(complete_sets)',
    'mapfile -t all < <(s3 ls "$target/" | awk \'$1 == "PRE" { print $2 }\' | sed \'s#/$##\' | grep -E \'^[0-9]{8}T[0-9]{6}Z$\' | sort -r || true)',
    'for set in "${all[@]}"; do',
    '  rank=0',
    '  for c in "${complete[@]}"; do',
    '    [[ "$c" > "$set" ]] && rank=$((rank + 1))',
    '  done',
    '  # older than the newest `keep` complete sets, or an incomplete set older than this one',
    '  if ((rank >= keep)) || { [[ "$set" < "$name" ]] && ! printf \'%s\\n\' "${complete[@]}" | grep -x "$set" >/dev/null; }; then',
    '    s3 rm --recursive "$target/$set/"',
    '    echo "removed $target/$set"',
    '  fi',
    'done',
    '',
  ].join('\n');
}

/** Settings of `renderRedisS3DownloadScript`. */
export interface RedisS3DownloadSettings extends S3Location {
  /** Where the set is copied to. */
  readonly dir: string;
}

/** The verify Job's downloader for an S3 target: copies the newest complete set from the bucket into `dir`. */
export function renderRedisS3DownloadScript(s: RedisS3DownloadSettings): string {
  return [
    '#!/bin/bash',
    '# Copies the newest complete backup set from the bucket.',
    'set -euo pipefail',
    ...awsPreamble(s),
    `dir=${s.dir}`,
    'name="$(complete_sets | head -n 1)"',
    '[[ -n "$name" ]] || { echo "no complete backup set under $target" >&2; exit 1; }',
    's3 cp --recursive "$target/$name/" "$dir/$name/"',
    'echo "downloaded $target/$name"',
    '',
  ].join('\n');
}

/**
 * Bash that picks the set (`set_name`, or the newest with a manifest) in
 * `$source`, sets `set_dir` and `manifest`, and refuses a set whose master
 * count is not `$masters`. Shared by the restore and verify scripts.
 */
function pickSet(what: string): string[] {
  return [
    'if [[ -n "$set_name" ]]; then',
    '  set_dir="$source/$set_name"',
    'else',
    `  set_dir="$(find "$source" -mindepth 2 -maxdepth 2 -name manifest -path "$source/${SET_GLOB}/manifest" -printf '%h\\n' | sort -r | head -n 1)"`,
    'fi',
    `[[ -n "$set_dir" && -f "$set_dir/manifest" ]] || fail "no complete backup set \${set_name:+named $set_name }in $source"`,
    'manifest="$set_dir/manifest"',
    'in_set="$(awk \'$1 == "masters" { print $2 }\' "$manifest")"',
    'shards="$(grep -c \'^shard \' "$manifest" || true)"',
    '[[ "$in_set" == "$shards" ]] || fail "$manifest lists $shards shards but says masters $in_set: the manifest is damaged"',
    ...(what === 'restore'
      ? ['[[ "$in_set" == "$masters" ]] || fail "backup set $set_dir has $in_set masters and this cluster has $masters: restore it into a cluster with masters: $in_set"']
      : []),
  ];
}

/** Bash that sets `allowed[slot]=1` for every slot of the comma-separated ranges in `$1`. */
const ALLOWED_SLOTS = [
  'allow_ranges() {',
  '  local r s list',
  '  allowed=()',
  '  IFS=, read -r -a list <<<"$1"',
  '  for r in "${list[@]}"; do',
  '    for ((s = ${r%-*}; s <= ${r#*-}; s++)); do allowed[s]=1; done',
  '  done',
  '}',
  '# The slots in the ranges of the "myself" line of CLUSTER NODES output on stdin, one a line.',
  'own_slots() {',
  '  local r s',
  '  awk \'/myself/ { for (i = 9; i <= NF; i++) print $i }\' | while read -r r; do',
  '    [[ "$r" == *-* ]] || r="$r-$r"',
  '    for ((s = ${r%-*}; s <= ${r#*-}; s++)); do echo "$s"; done',
  '  done',
  '}',
];

/** Bash that checks a file's sha256 against the manifest's (`$1` file, `$2` expected, `$3` the name the error gives). */
const CHECK_SUM = [
  'check_sum() {',
  '  local actual',
  '  actual="$(sha256sum "$1" | cut -d\' \' -f1)"',
  '  [[ "$actual" == "$2" ]] || fail "$3 is corrupted: its sha256 is $actual, the manifest says $2"',
  '}',
];

/** Settings of `renderRedisRestoreScript`. */
export interface RedisRestoreSettings {
  /** Masters of the cluster: ordinal `n` below it loads shard `n`. */
  readonly masters: number;
  /** The set to restore, or '' for the newest complete one. */
  readonly setName: string;
  /** The claim with the sets. */
  readonly sourceDir: string;
  /** The node's data directory. */
  readonly dataDir: string;
  /** A writable directory for the temporary server's socket. */
  readonly runDir: string;
}

/**
 * The restore init container: on an empty data volume of a master ordinal
 * `n`, copies shard `n` of the set, checks its sha256 against the manifest
 * (a mismatch, or a set with another master count, fails the pod with the
 * reason), and turns it into the node's AOF with a temporary redis-server
 * on a unix socket only (redis.conf has appendonly yes, and Redis then
 * ignores a dump.rdb). The AOF is moved into place only when complete, so
 * an interrupted restore is redone. When redis-server then starts in cluster
 * mode, it takes the slots its keys hash to; the restore bootstrap assigns
 * the rest of the shard's ranges.
 */
export function renderRedisRestoreScript(s: RedisRestoreSettings): string {
  return [
    '#!/bin/bash',
    '# Loads this node\'s shard of a backup set into an empty data volume.',
    'set -euo pipefail',
    `masters=${s.masters}`,
    `set_name='${s.setName}'`,
    `source=${s.sourceDir}`,
    `data=${s.dataDir}`,
    `sock=${s.runDir}/restore.sock`,
    'fail() {',
    '  echo "restore: $*" >&2',
    '  exit 1',
    '}',
    ...CHECK_SUM,
    'host="${HOSTNAME:-$(hostname)}"',
    'ordinal="${host##*-}"',
    'if [[ -e "$data/nodes.conf" || -e "$data/appendonlydir" ]]; then',
    '  echo "restore: $data holds a node already; nothing to restore"',
    '  exit 0',
    'fi',
    ...pickSet('restore'),
    'if ((ordinal >= masters)); then',
    '  echo "restore: $host is a replica; it copies its master once the cluster forms"',
    '  exit 0',
    'fi',
    'read -r _ _ file sum id ranges < <(awk -v n="$ordinal" \'$1 == "shard" && $2 == n\' "$manifest") || fail "$manifest has no shard $ordinal"',
    'tmp="$data/.restore"',
    'rm -rf "$tmp"',
    'mkdir "$tmp"',
    'cp "$set_dir/$file" "$tmp/dump.rdb"',
    'check_sum "$tmp/dump.rdb" "$sum" "$set_dir/$file"',
    '',
    '# Redis with appendonly yes reads only the AOF: load the RDB, then have it write the AOF.',
    'redis-server --port 0 --unixsocket "$sock" --dir "$tmp" --dbfilename dump.rdb --appendonly no --save "" </dev/null &',
    'pid=$!',
    'local_cli() {',
    '  env -u REDISCLI_AUTH redis-cli -s "$sock" "$@" </dev/null | tr -d \'\\r\'',
    '}',
    'until [[ "$(local_cli ping 2>/dev/null)" == PONG ]]; do',
    '  kill -0 "$pid" 2>/dev/null || fail "redis-server could not load $file"',
    '  sleep 1',
    'done',
    'keys="$(local_cli dbsize)"',
    'local_cli config set appendonly yes >/dev/null',
    'until local_cli info persistence | grep -x \'aof_rewrite_in_progress:0\' >/dev/null \\',
    '  && local_cli info persistence | grep -x \'aof_rewrite_scheduled:0\' >/dev/null \\',
    '  && [[ -f "$tmp/appendonlydir/appendonly.aof.manifest" ]]; do',
    '  sleep 1',
    'done',
    'local_cli info persistence | grep -x \'aof_last_bgrewrite_status:ok\' >/dev/null || fail "writing the AOF of $file failed"',
    'local_cli shutdown >/dev/null || true',
    'wait "$pid" || true',
    'mv "$tmp/appendonlydir" "$data/appendonlydir"',
    'rm -rf "$tmp"',
    'echo "$set_dir $file $sum" >"$data/restored-from"',
    'echo "restore: $host loaded shard $ordinal of $set_dir (master $id, slots $ranges): $keys keys from $file, sha256 verified"',
    '',
  ].join('\n');
}

/** Settings of `renderRedisRestoreBootstrapScript`. */
export interface RedisRestoreBootstrapSettings {
  /** FQDN of every node, in ordinal order. */
  readonly nodeHosts: string[];
  readonly masters: number;
  /** The set to restore, or '' for the newest complete one. */
  readonly setName: string;
  /** The claim with the sets. */
  readonly sourceDir: string;
  /** Seconds to wait for each node to answer, and for the cluster to be ok. */
  readonly waitSeconds: number;
}

/**
 * The bootstrap Job of a restored cluster: forms the cluster with the set's
 * slot assignment instead of `redis-cli --cluster create`'s. Ordinal `n`
 * below `masters` holds shard `n` (loaded by its restore init container):
 * it must own no slot outside the shard's ranges, and is assigned the rest
 * of them; then every node meets the others, the replicas (ordinal
 * `masters + k`) replicate master `k mod masters`, and the Job waits for
 * cluster_state:ok everywhere. It does nothing when the cluster is ok, and
 * each step is safe to repeat, so a retried Job completes the formation.
 */
export function renderRedisRestoreBootstrapScript(s: RedisRestoreBootstrapSettings): string {
  const n = s.nodeHosts.length;
  return [
    '#!/bin/bash',
    '# Forms a restored Redis Cluster with the backup set\'s slot assignment.',
    'set -euo pipefail',
    `port=${REDIS_CLIENT_PORT}`,
    `masters=${s.masters}`,
    `set_name='${s.setName}'`,
    `source=${s.sourceDir}`,
    'nodes=(',
    ...s.nodeHosts.map((h) => `  ${h}`),
    ')',
    'fail() {',
    '  echo "restore bootstrap: $*" >&2',
    '  exit 1',
    '}',
    'cli() {',
    '  redis-cli -h "$1" -p "$port" "${@:2}" </dev/null | tr -d \'\\r\'',
    '}',
    'field() {',
    '  cli "$1" cluster info | sed -n "s/^$2://p"',
    '}',
    ...ALLOWED_SLOTS,
    `tries=${Math.ceil(s.waitSeconds / 2)}`,
    '# Waits until "$@" succeeds, at most $tries times 2 s.',
    'wait_until() {',
    '  local i',
    '  for ((i = 0; i < tries; i++)); do',
    '    if "$@"; then return 0; fi',
    '    sleep 2',
    '  done',
    '  return 1',
    '}',
    'pongs() {',
    '  [[ "$(cli "$1" ping 2>/dev/null)" == PONG ]]',
    '}',
    'all_ok() {',
    '  local node',
    '  for node in "${nodes[@]}"; do',
    `    [[ "$(field "$node" cluster_state)" == ok && "$(field "$node" cluster_known_nodes)" == ${n} ]] || return 1`,
    '  done',
    '}',
    '',
    'ids=() addresses=()',
    'for node in "${nodes[@]}"; do',
    '  wait_until pongs "$node" || fail "node $node did not answer PING"',
    '  ids+=("$(cli "$node" cluster myid)")',
    '  self="$(cli "$node" cluster nodes | awk \'/myself/ { print $2; exit }\')"',
    '  address="${self%%@*}"',
    '  if [[ -z "${address%:*}" ]]; then',
    '    address="$(getent hosts "$node" | awk \'NR == 1 { print $1 }\'):$port"',
    '  fi',
    '  addresses+=("$address")',
    'done',
    'if all_ok; then',
    '  echo "the cluster is formed and ok: nothing to do"',
    '  exit 0',
    'fi',
    ...pickSet('restore'),
    '',
    '# each master owns exactly the ranges of its shard',
    'for ((m = 0; m < masters; m++)); do',
    '  node="${nodes[m]}"',
    '  read -r _ _ file _ id ranges < <(awk -v n="$m" \'$1 == "shard" && $2 == n\' "$manifest") || fail "$manifest has no shard $m"',
    '  allow_ranges "$ranges"',
    '  missing=()',
    '  owned=()',
    '  while read -r slot; do',
    '    [[ -n "${allowed[slot]:-}" ]] || fail "$node holds keys of slot $slot, outside shard $m ($ranges): it did not load $file"',
    '    owned[slot]=1',
    '  done < <(cli "$node" cluster nodes | own_slots)',
    '  for slot in "${!allowed[@]}"; do',
    '    [[ -n "${owned[slot]:-}" ]] || missing+=("$slot")',
    '  done',
    '  if ((${#missing[@]} > 0)); then',
    '    printf \'%s\\n\' "${missing[@]}" | xargs -n 1000 redis-cli -h "$node" -p "$port" cluster addslots >/dev/null',
    '  fi',
    '  cli "$node" cluster set-config-epoch $((m + 1)) >/dev/null 2>&1 || true',
    '  echo "$node: shard $m of $set_dir (was master $id), slots $ranges, $(cli "$node" dbsize) keys"',
    'done',
    '',
    'for ((i = 1; i < ${#nodes[@]}; i++)); do',
    '  cli "${nodes[i]}" cluster meet "${addresses[0]%:*}" "${addresses[0]##*:}" >/dev/null',
    'done',
    'knows_all() {',
    '  local node',
    '  for node in "${nodes[@]}"; do',
    `    [[ "$(field "$node" cluster_known_nodes)" == ${n} ]] || return 1`,
    '  done',
    '}',
    'wait_until knows_all || fail "the nodes did not all meet"',
    'replicates() {',
    '  [[ "$(cli "$1" cluster replicate "$2")" == OK ]]',
    '}',
    'for ((r = masters; r < ${#nodes[@]}; r++)); do',
    '  m=$(((r - masters) % masters))',
    '  wait_until replicates "${nodes[r]}" "${ids[m]}" || fail "${nodes[r]} could not replicate ${nodes[m]}"',
    '  echo "${nodes[r]}: replica of ${nodes[m]}"',
    'done',
    'wait_until all_ok || fail "the cluster did not reach cluster_state:ok"',
    'echo "restored cluster formed: cluster_state:ok on all ${#nodes[@]} nodes"',
    '',
  ].join('\n');
}

/** Settings of `renderRedisVerifyScript`. */
export interface RedisVerifySettings {
  /** Where the sets are. */
  readonly sourceDir: string;
  /** Scratch space of the temporary servers. */
  readonly scratchDir: string;
}

/**
 * The restore-verify Job's script: for every RDB of the newest complete set,
 * checks its sha256 against the manifest, runs `redis-check-rdb`, loads it
 * into a scratch cluster-mode redis-server (a unix socket; its bus on
 * loopback) and checks that it holds keys (DBSIZE > 0) and that every slot
 * its keys hash to is in the file's ranges (a cluster-mode server loading
 * keys of unassigned slots takes those slots: all of them are checked).
 */
export function renderRedisVerifyScript(s: RedisVerifySettings): string {
  return [
    '#!/bin/bash',
    '# Loads every RDB of the newest backup set into a scratch redis-server and checks it.',
    'set -euo pipefail',
    'set_name=""',
    `source=${s.sourceDir}`,
    `scratch=${s.scratchDir}`,
    'fail() {',
    '  echo "verify: $*" >&2',
    '  exit 1',
    '}',
    ...CHECK_SUM,
    ...ALLOWED_SLOTS,
    ...pickSet('verify'),
    'echo "verifying $set_dir: $in_set masters"',
    'while read -r _ n file sum id ranges <&3; do',
    '  check_sum "$set_dir/$file" "$sum" "$set_dir/$file"',
    '  redis-check-rdb "$set_dir/$file" >/dev/null || fail "redis-check-rdb rejects $set_dir/$file"',
    '  work="$scratch/shard-$n"',
    '  rm -rf "$work"',
    '  mkdir -p "$work"',
    '  ln -s "$set_dir/$file" "$work/dump.rdb"',
    '  redis-server --port 0 --bind 127.0.0.1 --unixsocket "$work/redis.sock" --dir "$work" --dbfilename dump.rdb \\',
    '    --appendonly no --save "" --cluster-enabled yes --cluster-config-file "$work/nodes.conf" </dev/null >"$work/redis.log" 2>&1 &',
    '  pid=$!',
    '  local_cli() {',
    '    env -u REDISCLI_AUTH redis-cli -s "$work/redis.sock" "$@" </dev/null | tr -d \'\\r\'',
    '  }',
    '  until [[ "$(local_cli ping 2>/dev/null)" == PONG ]]; do',
    '    kill -0 "$pid" 2>/dev/null || fail "redis-server could not load $file: $(tail -n 5 "$work/redis.log")"',
    '    sleep 1',
    '  done',
    '  keys="$(local_cli dbsize)"',
    '  ((keys > 0)) || fail "$file holds no keys"',
    '  allow_ranges "$ranges"',
    '  slots=0',
    '  while read -r slot; do',
    '    [[ -n "${allowed[slot]:-}" ]] || fail "$file holds keys of slot $slot, outside its ranges $ranges"',
    '    slots=$((slots + 1))',
    '  done < <(local_cli cluster nodes | own_slots)',
    '  local_cli shutdown nosave >/dev/null || true',
    '  wait "$pid" || true',
    '  rm -rf "$work"',
    '  echo "shard $n ($file, master $id): sha256 ok, redis-check-rdb ok, $keys keys in $slots slots, all within $ranges"',
    'done 3< <(grep \'^shard \' "$manifest")',
    'echo "backup set $set_dir verified"',
    '',
  ].join('\n');
}
