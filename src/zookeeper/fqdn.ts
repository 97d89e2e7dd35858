import { Chart } from 'cdk8s';
import { IConstruct } from 'constructs';
import { defaultResourceName } from '../core/names';

/**
 * The pod FQDNs a `StatefulWorkload` owned by `owner` (created with `kind`)
 * will have, known before it is created: rendered config files name every
 * member, and the unit takes its files at construction. Systems compare the
 * result with the unit's `podFqdn` afterwards, so the two cannot drift.
 * Not part of the public API (not exported from the package index).
 */
export function plannedPodFqdn(owner: IConstruct, name: string | undefined, clusterDomain: string): (ordinal: number) => string {
  const n = name ?? defaultResourceName(owner);
  const ns = Chart.of(owner).namespace ?? 'default';
  return (ordinal) => `${n}-${ordinal}.${n}-headless.${ns}.svc.${clusterDomain}`;
}

/** The version in an image tag (`zookeeper:3.9.4` -> `3.9.4`), if it has one. */
export function imageVersion(image: string): string | undefined {
  const last = image.split('@')[0].split('/').pop() ?? '';
  const tag = last.includes(':') ? last.split(':')[1] : undefined;
  return tag && /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(tag) ? tag : undefined;
}
