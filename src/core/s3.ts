// The aws-cli scripts that move backup files between a pod's scratch volume
// and an S3-compatible bucket: the uploader of a backup run and the
// downloader of a restore. Shared by every system whose backups are files
// (MongoDB archives, MySQL dumps). Pure renderers; tests run them under bash
// against a recording stand-in `aws`. No runtime import: the day-2 CLI loads
// this module (through the systems' config modules) without cdk8s.

/**
 * The pinned default image of every uploader and downloader: bash and the
 * AWS CLI v2 (`aws`).
 */
export const DEFAULT_AWS_CLI_IMAGE = 'docker.io/amazon/aws-cli:2.27.0';

/** How the scripts reach the bucket. */
export interface S3Location {
  /** `s3://<bucket>/<prefix>`. */
  readonly target: string;
  /** `https://<endpoint>`. */
  readonly endpointUrl: string;
  readonly region: string;
  readonly pathStyle: boolean;
  readonly verifyTls: boolean;
  /** A writable directory for the CLI's config. */
  readonly tmpDir: string;
}

/**
 * Names of one kind of backup file, `<prefix><anything><suffix>`, and the
 * companion files (`<name><companion>`, e.g. a `.sha256`) that travel with it.
 */
export interface BackupFileNames {
  readonly prefix: string;
  readonly suffix: string;
  /**
   * Suffixes of files beside each backup: uploaded before it (so the backup's
   * name appears last, when everything is there) and removed with it.
   * @default - none
   */
  readonly companions?: string[];
}

/** The lines that check the credentials and configure the CLI; `flags` then holds the global options. */
export function awsPreamble(s: S3Location): string[] {
  return [
    ': "${AWS_ACCESS_KEY_ID:?AWS_ACCESS_KEY_ID must be set from the backup target Secret}"',
    ': "${AWS_SECRET_ACCESS_KEY:?AWS_SECRET_ACCESS_KEY must be set from the backup target Secret}"',
    `target=${s.target}`,
    `export AWS_DEFAULT_REGION=${s.region}`,
    `export AWS_CONFIG_FILE=${s.tmpDir}/aws-config`,
    ...(s.pathStyle
      ? ['printf \'[default]\\ns3 =\\n  addressing_style = path\\n\' >"$AWS_CONFIG_FILE"']
      : [': >"$AWS_CONFIG_FILE"']),
  ];
}

/** The global options of every `aws` call: the endpoint and, when asked, no TLS verification. */
export function awsFlags(s: S3Location): string {
  return `--endpoint-url ${s.endpointUrl}${s.verifyTls ? '' : ' --no-verify-ssl'}`;
}

/** An extended regular expression for grep that matches exactly the backup names. */
function nameRegex(n: BackupFileNames): string {
  const esc = (x: string) => x.replace(/[.[\]()*+?^$|\\{}]/g, '\\$&');
  return `^${esc(n.prefix)}.*${esc(n.suffix)}$`;
}

/** Settings of `renderS3UploadScript`. */
export interface S3UploadSettings extends S3Location {
  /** Where the backup run left its one file (and its companions). */
  readonly dir: string;
  readonly names: BackupFileNames;
  /** Backups kept in the bucket (the newest). */
  readonly keep: number;
}

/**
 * The uploader (aws-cli): ships the one backup the run left in `dir` to the
 * bucket, its companions first (an S3 object appears only once its upload is
 * complete, so a backup whose name is listed has everything beside it), then
 * keeps the newest `keep` backups there. Credentials come from the env
 * (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, from the target's Secret).
 */
export function renderS3UploadScript(s: S3UploadSettings): string {
  const flags = awsFlags(s);
  const companions = s.names.companions ?? [];
  const pattern = `${s.names.prefix}*${s.names.suffix}`;
  return [
    '#!/bin/bash',
    '# Uploads the backup the run wrote, then keeps the newest backups in the bucket.',
    'set -euo pipefail',
    ...awsPreamble(s),
    `dir=${s.dir}`,
    `keep=${s.keep}`,
    `mapfile -t archives < <(find "$dir" -maxdepth 1 -name '${pattern}')`,
    'if [ "${#archives[@]}" -ne 1 ]; then',
    `  echo "expected one archive in $dir (${pattern}), found \${#archives[@]}" >&2`,
    '  exit 1',
    'fi',
    'name="$(basename "${archives[0]}")"',
    ...companions.map((c) => `aws ${flags} s3 cp "\${archives[0]}${c}" "$target/$name${c}"`),
    `aws ${flags} s3 cp "\${archives[0]}" "$target/$name"`,
    'echo "uploaded $target/$name"',
    `mapfile -t old < <(aws ${flags} s3 ls "$target/" | awk '{print $4}' | grep -E '${nameRegex(s.names)}' | sort -r | tail -n +$((keep + 1)))`,
    'for f in "${old[@]}"; do',
    `  aws ${flags} s3 rm "$target/$f"`,
    ...companions.map((c) => `  aws ${flags} s3 rm "$target/$f${c}" || echo "no $target/$f${c} to remove"`),
    '  echo "removed $target/$f"',
    'done',
    '',
  ].join('\n');
}

/** Settings of `renderS3DownloadScript`. */
export interface S3DownloadSettings extends S3Location {
  /** Where the backup and its companions are written. */
  readonly dir: string;
  readonly names: BackupFileNames;
  /**
   * The backup to fetch (a name in the bucket).
   * @default - the newest
   */
  readonly backup?: string;
  /**
   * Lines run before anything else, e.g. a check that ends the script with
   * `exit 0` when there is nothing to fetch.
   * @default - none
   */
  readonly guard?: string[];
}

/**
 * The downloader (aws-cli): fetches one backup (the newest unless named)
 * and its companions from the bucket into `dir`. It fails, naming what is
 * missing, when the bucket has no such backup.
 */
export function renderS3DownloadScript(s: S3DownloadSettings): string {
  const flags = awsFlags(s);
  return [
    '#!/bin/bash',
    `# Downloads ${s.backup ? `backup ${s.backup}` : 'the newest backup'} and the files beside it from the bucket.`,
    'set -euo pipefail',
    ...(s.guard ?? []),
    ...awsPreamble(s),
    `dir=${s.dir}`,
    ...(s.backup
      ? [`name=${s.backup}`]
      : [
        `name="$(aws ${flags} s3 ls "$target/" | awk '{print $4}' | grep -E '${nameRegex(s.names)}' | sort -r | head -n 1 || true)"`,
        'if [ -z "$name" ]; then',
        '  echo "no backup in $target/" >&2',
        '  exit 1',
        'fi',
      ]),
    ...[...(s.names.companions ?? []), ''].map((c) => `aws ${flags} s3 cp "$target/$name${c}" "$dir/$name${c}"`),
    'echo "downloaded $target/$name"',
    '',
  ].join('\n');
}
