import { usageError } from './errors';

/** `90s`, `10m`, `1h30m`, `2h` (at least one part): milliseconds. */
export function parseDuration(option: string, text: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (!m || text === '') {
    throw usageError(`${option} must be a duration such as 90s, 10m or 1h30m, got '${text}'`);
  }
  const [h, min, s] = [m[1], m[2], m[3]].map((x) => Number(x ?? 0));
  return ((h * 60 + min) * 60 + s) * 1000;
}

/** A duration as the user would write it: `1h30m`, `10m`, `45s`. */
export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const [h, m, s] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  const text = `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
  return text || '0s';
}

const SUFFIXES: { [suffix: string]: number } = {
  '': 1,
  'k': 1e3, 'M': 1e6, 'G': 1e9, 'T': 1e12, 'P': 1e15, 'E': 1e18,
  'Ki': 2 ** 10, 'Mi': 2 ** 20, 'Gi': 2 ** 30, 'Ti': 2 ** 40, 'Pi': 2 ** 50, 'Ei': 2 ** 60,
};

/**
 * A storage quantity as Kubernetes writes it (`20Gi`, `500G`, `1.5Ti`,
 * `1073741824`): bytes. `what` names the value in the error.
 */
export function parseStorage(what: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.exec(text);
  if (!m) {
    throw usageError(`${what} must be a storage quantity such as 20Gi, 500G or 1Ti (binary suffixes Ki Mi Gi Ti Pi Ei, decimal k M G T P E), got '${text}'`);
  }
  const bytes = Number(m[1]) * SUFFIXES[m[2] ?? ''];
  if (!(bytes > 0)) throw usageError(`${what} must be more than zero, got '${text}'`);
  return bytes;
}

/**
 * The stage list of a rollout (`1,50%,100%`): for each stage, how many pods
 * (the highest ordinals) run the update revision once it is done. A stage is
 * a number of pods, a percentage of `replicas` (rounded up), or `all`; the
 * counts must increase and the last must be every pod.
 */
export function parseStages(text: string, replicas: number): number[] {
  const tokens = text.split(',').map((t) => t.trim());
  const counts = tokens.map((t) => {
    let n: number;
    if (t === 'all') n = replicas;
    else if (/^\d+(\.\d+)?%$/.test(t)) {
      const pct = Number(t.slice(0, -1));
      if (pct <= 0 || pct > 100) throw usageError(`--stages: a percentage must be above 0% and at most 100%, got '${t}'`);
      n = Math.ceil((pct * replicas) / 100);
    } else if (/^\d+$/.test(t)) {
      n = Number(t);
      if (n < 1) throw usageError(`--stages: a stage updates at least 1 pod, got '${t}'`);
      if (n > replicas) throw usageError(`--stages: stage '${t}' updates more pods than the StatefulSet has (${replicas})`);
    } else {
      throw usageError(`--stages: each stage is a number of pods (2), a percentage (50%) or 'all', got '${t}' in '${text}'`);
    }
    return n;
  });
  for (let i = 1; i < counts.length; i++) {
    if (counts[i] <= counts[i - 1]) {
      throw usageError(`--stages must increase: '${tokens[i]}' updates ${counts[i]} of ${replicas} pods, no more than '${tokens[i - 1]}' before it (${counts[i - 1]})`);
    }
  }
  const last = counts[counts.length - 1];
  if (last !== replicas) {
    throw usageError(`--stages must end with every pod (100% or all): '${tokens[tokens.length - 1]}' updates ${last} of ${replicas}`);
  }
  return counts;
}

/** The stages without --stages: one pod, then half (rounded up), then all; each count once. */
export function defaultStages(replicas: number): number[] {
  return [...new Set([1, Math.ceil(replicas / 2), replicas])].filter((n) => n >= 1 && n <= replicas);
}
