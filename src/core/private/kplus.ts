// Bridges from cdk8s-plus-27 values to the L1 shapes our objects are built
// from. cdk8s-plus keeps the conversions (`LabelSelector._toKube`) internal;
// this is the one place that calls them, so a newer cdk8s-plus touches only
// this file.
import * as kplus from 'cdk8s-plus-27';
import { k8s } from './k8s';

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

interface KubeLabelSelector {
  readonly matchLabels?: { [key: string]: string };
  readonly matchExpressions?: k8s.LabelSelectorRequirement[];
}

function selectorToKube(selector: kplus.LabelSelector | undefined): KubeLabelSelector | undefined {
  if (!selector) return undefined;
  const kube = (selector as unknown as { _toKube(): KubeLabelSelector })._toKube();
  return {
    ...(kube.matchLabels && Object.keys(kube.matchLabels).length > 0 ? { matchLabels: kube.matchLabels } : {}),
    ...(kube.matchExpressions && kube.matchExpressions.length > 0 ? { matchExpressions: kube.matchExpressions } : {}),
  };
}

/**
 * The NetworkPolicy peers of a cdk8s-plus peer, as cdk8s-plus's own
 * NetworkPolicy renders them: pods in the policy's namespace, pods in named
 * namespaces (one peer per namespace, by the `kubernetes.io/metadata.name`
 * label), pods in labelled namespaces, or an IP block.
 */
export function networkPolicyPeers(peer: kplus.INetworkPolicyPeer): k8s.NetworkPolicyPeer[] {
  const config = peer.toNetworkPolicyPeerConfig();
  if (config.ipBlock) {
    const ip = config.ipBlock;
    return [{ ipBlock: { cidr: ip.cidr, ...(ip.except ? { except: ip.except } : {}) } }];
  }
  if (!config.podSelector) throw new Error(`peer '${peer.node.path}' has neither a pod selector nor an IP block`);
  const podSelector = selectorToKube(config.podSelector.labelSelector) ?? {};
  const namespaces = config.podSelector.namespaces;
  if (!namespaces?.names) {
    const nsSelector = selectorToKube(namespaces?.labelSelector);
    return [{ podSelector, ...(nsSelector ? { namespaceSelector: nsSelector } : {}) }];
  }
  const nsSelector = selectorToKube(namespaces.labelSelector) ?? {};
  return namespaces.names.map((name) => ({
    podSelector,
    namespaceSelector: {
      ...(nsSelector.matchExpressions ? { matchExpressions: nsSelector.matchExpressions } : {}),
      matchLabels: { ...(nsSelector.matchLabels ?? {}), [NAMESPACE_NAME_LABEL]: name },
    },
  }));
}

/** A container env var from a cdk8s-plus `EnvValue` (literal, Secret or ConfigMap key, field or resource ref). */
export function envVar(name: string, value: kplus.EnvValue): k8s.EnvVar {
  return {
    name,
    ...(value.value !== undefined ? { value: String(value.value) } : {}),
    ...(value.valueFrom !== undefined ? { valueFrom: value.valueFrom } : {}),
  };
}
