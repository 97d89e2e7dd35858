import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

type Json = any;

/** A shell program found in a manifest: a ConfigMap script or an inline `sh -c`. */
export interface Script {
  readonly where: string;
  readonly shell: string;
  readonly text: string;
}

const SHELLS = /(^|\/)(ba|da)?sh$/;

/** Every shell script the objects carry. */
export function scriptsIn(objects: Json[]): Script[] {
  const out: Script[] = [];
  for (const o of objects) {
    if (o.kind === 'ConfigMap') {
      for (const [key, text] of Object.entries<string>(o.data ?? {})) {
        const shebang = /^#!\s*(\S+)(\s+(\S+))?/.exec(text);
        if (key.endsWith('.sh') || (shebang && (SHELLS.test(shebang[1]) || SHELLS.test(shebang[3] ?? '')))) {
          const shell = shebang ? (SHELLS.test(shebang[1]) ? shebang[1] : shebang[3]) : 'sh';
          out.push({ where: `ConfigMap/${o.metadata.name} ${key}`, shell: path.basename(shell), text });
        }
      }
    }
    const template = o.kind === 'CronJob' ? o.spec?.jobTemplate?.spec?.template : o.spec?.template;
    for (const c of [...(template?.spec?.initContainers ?? []), ...(template?.spec?.containers ?? [])]) {
      const argv = [...(c.command ?? []), ...(c.args ?? [])];
      const i = argv.findIndex((a: string) => a === '-c' || a === '-ec' || a === '-euc');
      if (i > 0 && SHELLS.test(argv[i - 1])) {
        out.push({ where: `${o.kind}/${o.metadata.name} container '${c.name}'`, shell: path.basename(argv[i - 1]), text: argv[i + 1] });
      }
    }
  }
  return out;
}

/** True when Debian's shellcheck is installed. */
export function haveShellcheck(): boolean {
  return spawnSync('shellcheck', ['--version']).status === 0;
}

/** shellcheck's findings for `script` (empty when clean). */
export function shellcheck(script: Script): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shellcheck-'));
  try {
    const file = path.join(dir, 'script');
    fs.writeFileSync(file, script.text);
    const shell = script.shell === 'bash' ? 'bash' : script.shell === 'dash' ? 'dash' : 'sh';
    const r = spawnSync('shellcheck', ['--shell', shell, '--severity', 'style', '--format', 'gcc', file], { encoding: 'utf-8' });
    if (r.status === 0) return [];
    return (r.stdout || r.stderr).trim().split('\n').map((l) => `${script.where}: ${l.replace(file, 'line')}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
