import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { renderS3UploadScript, S3UploadSettings } from '../../src/mongodb/config';

// The uploader runs for real under bash with a stand-in `aws` that keeps the
// bucket as a directory and records every call. It follows the AWS CLI v2
// command reference: `aws s3 cp SRC s3://BUCKET/KEY`, `aws s3 ls s3://BUCKET/PREFIX/`
// (lines "DATE TIME SIZE KEY"), `aws s3 rm s3://BUCKET/KEY`, and the global
// options `--endpoint-url` and `--no-verify-ssl`
// (https://awscli.amazonaws.com/v2/documentation/api/latest/reference/s3/index.html).
function run(settings: Partial<S3UploadSettings>, archives: string[], inBucket: string[]) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mongo-upload-'));
  try {
    const [bin, work, bucket, tmp] = ['bin', 'work', 'bucket', 'tmp'].map((d) => path.join(root, d));
    for (const d of [bin, work, bucket, tmp]) fs.mkdirSync(d);
    for (const a of archives) fs.writeFileSync(path.join(work, a), `dump ${a}`);
    for (const b of inBucket) fs.writeFileSync(path.join(bucket, b), 'old');
    fs.writeFileSync(path.join(bin, 'aws'), `#!/bin/bash
set -eu
echo "aws $*" >> "${root}/calls.log"
args=(); for a in "$@"; do case "$a" in --endpoint-url|--no-verify-ssl) last=$a ;; *) if [ "\${last:-}" = --endpoint-url ]; then last=; else args+=("$a"); fi ;; esac; done
[ "\${args[0]}" = s3 ] || exit 2
key() { local u=\${1#s3://db-backups/test-mongo}; echo "\${u#/}"; }
case "\${args[1]}" in
  cp) cp "\${args[2]}" "${bucket}/$(key "\${args[3]}")" ;;
  ls) for f in "${bucket}"/*; do [ -e "$f" ] && echo "2026-12-01 02:30:00 3 $(basename "$f")"; done; true ;;
  rm) rm "${bucket}/$(key "\${args[2]}")" ;;
  *) exit 2 ;;
esac
`, { mode: 0o755 });
    const script = renderS3UploadScript({
      dir: work, target: 's3://db-backups/test-mongo', endpointUrl: 'https://minio.backup.svc:9000', region: 'eu-west-1',
      pathStyle: true, verifyTls: true, keep: 2, tmpDir: tmp, ...settings,
    });
    const r = spawnSync('bash', ['-c', script], {
      encoding: 'utf-8',
      env: { PATH: `${bin}:/usr/bin:/bin`, AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret' },
    });
    const calls = fs.existsSync(path.join(root, 'calls.log')) ? fs.readFileSync(path.join(root, 'calls.log'), 'utf-8').trim().split('\n') : [];
    return { status: r.status, output: r.stdout + r.stderr, calls, bucket: fs.readdirSync(bucket).sort(), config: fs.existsSync(path.join(tmp, 'aws-config')) ? fs.readFileSync(path.join(tmp, 'aws-config'), 'utf-8') : '' };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

describe('the S3 uploader of MongoDB backups', () => {
  test('uploads the new archive and keeps the newest archives in the bucket', () => {
    // GIVEN a fresh dump and three older archives in the bucket
    const r = run({}, ['mongodump-20261203T023000Z.archive.gz'], [
      'mongodump-20261130T023000Z.archive.gz', 'mongodump-20261201T023000Z.archive.gz', 'mongodump-20261202T023000Z.archive.gz', 'unrelated.txt',
    ]);
    // THEN the new one is there, and only the newest 2 archives remain (other objects untouched)
    expect(r.status).toBe(0);
    expect(r.bucket).toEqual(['mongodump-20261202T023000Z.archive.gz', 'mongodump-20261203T023000Z.archive.gz', 'unrelated.txt']);
    expect(r.calls[0]).toMatch(/^aws --endpoint-url https:\/\/minio\.backup\.svc:9000 s3 cp \S+\/work\/mongodump-20261203T023000Z\.archive\.gz s3:\/\/db-backups\/test-mongo\/mongodump-20261203T023000Z\.archive\.gz$/);
    expect(r.calls.filter((c) => c.includes(' s3 rm ')).map((c) => c.split('/').pop())).toEqual(['mongodump-20261201T023000Z.archive.gz', 'mongodump-20261130T023000Z.archive.gz']);
    expect(r.calls.every((c) => !c.includes('--no-verify-ssl'))).toBe(true);
    expect(r.config).toContain('addressing_style = path');
  });

  test('TLS verification is off only when asked, and host-style addressing writes no override', () => {
    const r = run({ verifyTls: false, pathStyle: false }, ['mongodump-20261203T023000Z.archive.gz'], []);
    expect(r.status).toBe(0);
    expect(r.calls.every((c) => c.startsWith('aws --endpoint-url https://minio.backup.svc:9000 --no-verify-ssl s3 '))).toBe(true);
    expect(r.config).toBe('');
  });

  test('fails without uploading when the dump left no archive, or more than one', () => {
    for (const archives of [[], ['mongodump-1.archive.gz', 'mongodump-2.archive.gz']]) {
      const r = run({}, archives, []);
      expect(r.status).not.toBe(0);
      expect(r.output).toContain(`expected one archive in`);
      expect(r.calls).toEqual([]);
    }
  });

  test('refuses to run without credentials in the environment', () => {
    const script = renderS3UploadScript({ dir: '/nonexistent', target: 's3://b/p', endpointUrl: 'https://e', region: 'r', pathStyle: false, verifyTls: true, keep: 1, tmpDir: '/tmp' });
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf-8', env: { PATH: '/usr/bin:/bin' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('AWS_ACCESS_KEY_ID must be set from the backup target Secret');
  });
});
