import { S3Location } from '../../src/core/s3';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  renderRedisBackupScript, renderRedisRestoreBootstrapScript, renderRedisRestoreScript, renderRedisS3DownloadScript, renderRedisS3UploadScript,
  renderRedisVerifyScript,
} from '../../src/redis/backup-config';
import { shellcheck } from '../support/shellcheck';

// The backup, restore and verify scripts run against real redis-servers in
// test/e2e/redis-ops.test.ts. Here: each is shellcheck-clean, and the S3
// scripts run for real under bash with a stand-in `aws` that keeps the
// bucket as a directory and records every call, following the AWS CLI v2
// reference for `s3 cp [--recursive]`, `s3 ls [--recursive]` (lines
// "PRE <dir>/" and "DATE TIME SIZE KEY", KEY from the bucket's root with
// --recursive) and `s3 rm --recursive`.

const HOSTS = ['c-0.c-headless.ns.svc.cluster.local', 'c-1.c-headless.ns.svc.cluster.local', 'c-2.c-headless.ns.svc.cluster.local'];
const S3: S3Location = { target: 's3://redis-backups/c', endpointUrl: 'https://minio.backup.svc:9000', region: 'eu-west-1', pathStyle: true, verifyTls: true, tmpDir: '/tmp' };

describe('the backup, restore and verify scripts', () => {
  test.each([
    ['backup', renderRedisBackupScript({ nodeHosts: HOSTS, dir: '/backup', keep: 7 })],
    ['S3 upload', renderRedisS3UploadScript({ ...S3, dir: '/backup', keep: 7 })],
    ['S3 upload without TLS verification, host-style', renderRedisS3UploadScript({ ...S3, verifyTls: false, pathStyle: false, dir: '/backup', keep: 7 })],
    ['S3 download', renderRedisS3DownloadScript({ ...S3, dir: '/backup' })],
    ['restore', renderRedisRestoreScript({ masters: 3, setName: '', sourceDir: '/restore', dataDir: '/data', runDir: '/run/redis' })],
    ['restore bootstrap', renderRedisRestoreBootstrapScript({ nodeHosts: HOSTS, masters: 3, setName: '20261201T030000Z', sourceDir: '/restore', waitSeconds: 300 })],
    ['verify', renderRedisVerifyScript({ sourceDir: '/backup', scratchDir: '/tmp' })],
  ])('the %s script is small, strict and shellcheck-clean', (what, text) => {
    expect(text).toMatch(/^#!\/bin\/bash\n#[^\n]+\nset -euo pipefail\n/);
    expect(text.split('\n').length).toBeLessThan(130);
    expect(shellcheck({ where: what, shell: 'bash', text })).toEqual([]);
  });

  test('the backup script refuses a partial cluster, reads replicas first and renames the set only when complete', () => {
    const text = renderRedisBackupScript({ nodeHosts: HOSTS, dir: '/backup', keep: 2 });
    expect(text).toContain('seeds=(\n  c-0.c-headless.ns.svc.cluster.local\n  c-1.c-headless.ns.svc.cluster.local\n  c-2.c-headless.ns.svc.cluster.local\n)');
    expect(text).toContain('((covered == 16384)) || fail');
    expect(text).toContain('grep -x \'master_link_status:up\'');
    expect(text.indexOf('mv "$work" "$dir/$stamp"')).toBeGreaterThan(text.indexOf('} >"$work/manifest"'));
    expect(text).toContain('tail -n +$((keep + 1))');
  });
});

/** Runs an S3 script with the stand-in `aws`; `bucket` holds the objects under the target prefix, as paths. */
function runS3(script: string, bucketFiles: { [key: string]: string }, local: { [file: string]: string }) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-s3-'));
  try {
    const [bin, work, bucket, tmp] = ['bin', 'work', 'bucket', 'tmp'].map((d) => path.join(root, d));
    for (const d of [bin, work, bucket, tmp]) fs.mkdirSync(d);
    const put = (dir: string, files: { [f: string]: string }) => {
      for (const [f, content] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        fs.writeFileSync(path.join(dir, f), content);
      }
    };
    put(path.join(bucket, 'c'), bucketFiles);
    put(work, local);
    fs.writeFileSync(path.join(bin, 'aws'), `#!/bin/bash
set -eu
echo "aws $*" >> "${root}/calls.log"
args=(); for a in "$@"; do case "$a" in --endpoint-url|--no-verify-ssl) last=$a ;; *) if [ "\${last:-}" = --endpoint-url ]; then last=; else args+=("$a"); fi ;; esac; done
[ "\${args[0]}" = s3 ] || exit 2
path_of() { case "$1" in s3://redis-backups/*) echo "${bucket}/\${1#s3://redis-backups/}" ;; *) echo "$1" ;; esac; }
case "\${args[1]}" in
  cp)
    if [ "\${args[2]}" = --recursive ]; then mkdir -p "$(path_of "\${args[4]}")"; cp -r "$(path_of "\${args[3]}")"/. "$(path_of "\${args[4]}")"
    else mkdir -p "$(dirname "$(path_of "\${args[3]}")")"; cp "$(path_of "\${args[2]}")" "$(path_of "\${args[3]}")"; fi ;;
  ls)
    if [ "\${args[2]}" = --recursive ]; then (cd "${bucket}" && find c -type f | sort | sed 's#^#2026-12-01 03:00:00 1 #')
    else for d in "$(path_of "\${args[2]}")"*/; do [ -d "$d" ] && echo "                           PRE $(basename "$d")/"; done; true; fi ;;
  rm) [ "\${args[2]}" = --recursive ] || exit 2; rm -r "$(path_of "\${args[3]}")" ;;
  *) exit 2 ;;
esac
`, { mode: 0o755 });
    const r = spawnSync('bash', ['-c', script.replace(/=\/tmp\b/g, `=${tmp}`).replace(/\/backup\b/g, work)], {
      encoding: 'utf-8',
      env: { PATH: `${bin}:/usr/bin:/bin`, AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret' },
    });
    const list = (dir: string) => (fs.existsSync(dir) ? spawnSync('find', ['.', '-type', 'f'], { cwd: dir, encoding: 'utf-8' }).stdout.trim().split('\n').filter(Boolean).map((f) => f.slice(2)).sort() : []);
    const calls = fs.existsSync(path.join(root, 'calls.log')) ? fs.readFileSync(path.join(root, 'calls.log'), 'utf-8').trim().split('\n') : [];
    return { status: r.status, output: r.stdout + r.stderr, calls, bucket: list(path.join(bucket, 'c')), work: list(work) };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

const SET = (name: string) => ({ [`${name}/manifest`]: 'masters 1', [`${name}/slots-0-16383-abc.rdb`]: 'REDIS' });

describe('the S3 scripts, run with a stand-in aws', () => {
  test('the uploader ships the set with its manifest last, keeps the newest complete sets and drops older incomplete ones', () => {
    // GIVEN a new set, two complete sets and an incomplete one (no manifest) in the bucket, keep 2
    const r = runS3(renderRedisS3UploadScript({ ...S3, dir: '/backup', keep: 2 }), {
      ...SET('20261128T030000Z'), ...SET('20261129T030000Z'), '20261130T030000Z/slots-0-16383-abc.rdb': 'REDIS',
    }, SET('20261201T030000Z'));
    // THEN
    expect(r.status).toBe(0);
    const copies = r.calls.filter((c) => c.includes(' s3 cp '));
    expect(copies.map((c) => c.split('/').pop())).toEqual(['slots-0-16383-abc.rdb', 'manifest']);
    expect(copies[0]).toMatch(/^aws --endpoint-url https:\/\/minio\.backup\.svc:9000 s3 cp \S+\/work\/20261201T030000Z\/slots-0-16383-abc\.rdb s3:\/\/redis-backups\/c\/20261201T030000Z\/slots-0-16383-abc\.rdb$/);
    expect(r.bucket).toEqual(['20261129T030000Z/manifest', '20261129T030000Z/slots-0-16383-abc.rdb', '20261201T030000Z/manifest', '20261201T030000Z/slots-0-16383-abc.rdb']);
    expect(r.output).toContain('removed s3://redis-backups/c/20261128T030000Z');
    expect(r.output).toContain('removed s3://redis-backups/c/20261130T030000Z');
    expect(r.calls.every((c) => !c.includes('--no-verify-ssl'))).toBe(true);
  });

  test('the uploader refuses a scratch directory without exactly one set', () => {
    const r = runS3(renderRedisS3UploadScript({ ...S3, dir: '/backup', keep: 2 }), {}, { ...SET('20261201T030000Z'), ...SET('20261202T030000Z') });
    expect(r.status).toBe(1);
    expect(r.output).toContain('expected one backup set in');
    expect(r.calls.filter((c) => c.includes(' cp '))).toEqual([]);
  });

  test('without TLS verification every call says --no-verify-ssl', () => {
    const r = runS3(renderRedisS3UploadScript({ ...S3, verifyTls: false, dir: '/backup', keep: 2 }), {}, SET('20261201T030000Z'));
    expect(r.status).toBe(0);
    expect(r.calls.length).toBeGreaterThan(0);
    expect(r.calls.every((c) => c.includes('--no-verify-ssl'))).toBe(true);
  });

  test('the downloader copies the newest complete set, not a newer incomplete one', () => {
    const r = runS3(renderRedisS3DownloadScript({ ...S3, dir: '/backup' }), {
      ...SET('20261130T030000Z'), ...SET('20261201T030000Z'), '20261202T030000Z/slots-0-16383-abc.rdb': 'REDIS',
    }, {});
    expect(r.status).toBe(0);
    expect(r.work).toEqual(['20261201T030000Z/manifest', '20261201T030000Z/slots-0-16383-abc.rdb']);
  });

  test('the downloader fails when the bucket has no complete set', () => {
    const r = runS3(renderRedisS3DownloadScript({ ...S3, dir: '/backup' }), { '20261202T030000Z/slots-0-16383-abc.rdb': 'REDIS' }, {});
    expect(r.status).toBe(1);
    expect(r.output).toContain('no complete backup set under s3://redis-backups/c');
  });
});
