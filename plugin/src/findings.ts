/** A rule of the validation report: what it asks for and how to comply. */
export interface Rule {
  /** The rule's name in the report, `<check>/<rule>` (e.g. `pod-security/privileged`). */
  readonly id: string;
  readonly recommendation: string;
  readonly fix: string;
}

/** One problem in one object. */
export interface Finding {
  /** The `Rule.id` it breaks. */
  readonly rule: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  /** Where in the object, when not the object as a whole (e.g. `container 'nginx'`). */
  readonly location?: string;
  readonly message: string;
}

/** `Kind/name[ location]: message`, the line the tests and the report print. */
export function formatFinding(f: Finding): string {
  return `${f.kind}/${f.name}${f.location ? ` ${f.location}` : ''}: ${f.message}`;
}
