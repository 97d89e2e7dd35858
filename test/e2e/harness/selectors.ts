/**
 * Kubernetes label selectors (metav1.LabelSelector) as the API server
 * evaluates them: every `matchLabels` pair and every `matchExpressions`
 * requirement must hold; an empty selector matches everything. Anything the
 * harness does not implement is an error, never a silent match.
 */

type Json = any;

export type Labels = { [key: string]: string };

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** True when `labels` satisfy `selector`; `where` names the selector in errors. */
export function selects(selector: Json, labels: Labels, where: string): boolean {
  checkSelector(selector, where);
  const s = selector ?? {};
  for (const [k, v] of Object.entries<string>(s.matchLabels ?? {})) {
    if (labels[k] !== v) return false;
  }
  for (const r of s.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    const ok = r.operator === 'In' ? has && r.values.includes(labels[r.key])
      : r.operator === 'NotIn' ? !has || !r.values.includes(labels[r.key])
        : r.operator === 'Exists' ? has
          : !has;
    if (!ok) return false;
  }
  return true;
}

/** Throws on a selector field or operator the harness does not implement, or one the API server would reject. */
export function checkSelector(selector: Json, where: string): void {
  if (selector === undefined || selector === null) return;
  const unknown = Object.keys(selector).filter((k) => k !== 'matchLabels' && k !== 'matchExpressions');
  if (unknown.length > 0) {
    throw new Error(`${where}: unsupported selector field '${unknown[0]}' (the harness implements matchLabels and matchExpressions)`);
  }
  for (const r of selector.matchExpressions ?? []) {
    if (!OPERATORS.includes(r.operator)) {
      throw new Error(`${where}: unsupported matchExpressions operator '${r.operator}' on key '${r.key}' (the harness implements ${OPERATORS.join(', ')})`);
    }
    const values: unknown[] | undefined = r.values;
    const needsValues = r.operator === 'In' || r.operator === 'NotIn';
    if (needsValues && !(Array.isArray(values) && values.length > 0)) {
      throw new Error(`${where}: matchExpressions operator ${r.operator} on key '${r.key}' needs a non-empty values list`);
    }
    if (!needsValues && values !== undefined && values.length > 0) {
      throw new Error(`${where}: matchExpressions operator ${r.operator} on key '${r.key}' must not have values`);
    }
  }
}
