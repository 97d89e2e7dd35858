// Shell lines every file backup shares (MySQL dumps, ZooKeeper snapshots):
// the checksum written beside a finished file before it gets its final
// name, the retention of the newest files, and the checksum check of a
// restore. Pure renderers; each system's script tests run them.

/**
 * Lines that write `$dir/$name.sha256` for the finished temporary file
 * `$partial`, then rename it to `$dir/$name`: a backup's final name appears
 * only when it and its checksum are complete. Leaves the sum in `$sum`.
 */
export function checksumAndRename(): string[] {
  return [
    'sum="$(sha256sum "$partial" | cut -d \' \' -f 1)"',
    'printf \'%s  %s\\n\' "$sum" "$name" >"$dir/$name.sha256"',
    'mv "$partial" "$dir/$name"',
  ];
}

/** Lines that keep the newest `keep` files of `$dir` named like `glob` (with their `.sha256`), newest by name. */
export function keepNewest(glob: string, keep: number): string[] {
  return [
    `mapfile -t old < <(find "$dir" -maxdepth 1 -name '${glob}' | sort -r | tail -n +${keep + 1})`,
    'for f in "${old[@]}"; do',
    '  rm -f -- "$f" "$f.sha256"',
    '  echo "removed $f"',
    'done',
  ];
}

/**
 * Lines of a bash function `verify_checksum FILE`: fails, naming the file and
 * both sums, unless FILE's sha256 is the one recorded in FILE.sha256.
 */
export const VERIFY_CHECKSUM_FUNCTION = [
  '# Refuse a backup whose sha256 differs from the one recorded beside it.',
  'verify_checksum() {',
  '  local file=$1 name expected actual',
  '  name="$(basename "$file")"',
  '  if [[ ! -f "$file.sha256" ]]; then',
  '    echo "refusing to restore $name: there is no $name.sha256 beside it" >&2',
  '    return 1',
  '  fi',
  '  expected="$(cut -d \' \' -f 1 "$file.sha256")"',
  '  actual="$(sha256sum "$file" | cut -d \' \' -f 1)"',
  '  if [[ "$expected" != "$actual" ]]; then',
  '    echo "refusing to restore $name: its sha256 is $actual but $name.sha256 records $expected; the backup is corrupt" >&2',
  '    return 1',
  '  fi',
  '  echo "sha256 of $name verified: $actual"',
  '}',
];
