// Istio's control plane in every cluster: istio-system with its network, the plug-in CA (`cacerts`,
// before istiod starts), istio-base and istiod.
import type { Component } from './component.ts';
import { noEnsured, noWaits, NO_DERIVED, staged } from './component.ts';
import { istioReleases } from '../render/helm-releases.ts';
import { CACERTS_REF, cacertsSecret, istioSystemNamespace } from '../render/mesh-objects.ts';

export const istioCore: Component = {
  id: 'istio-core',
  description: 'istio-system with its network label, cacerts (an intermediate of the mesh root), istio-base and istiod',
  enabled: () => true,
  render({ spec, pki }, cluster) {
    // Without CA material (a teammate's clone, a CI runner) cacerts is left out, never made up.
    const cacerts = pki.cacerts.get(cluster.name);
    return {
      releases: istioReleases(spec, cluster),
      preInstall: [...staged('namespaces', [istioSystemNamespace(cluster)]), ...staged('secrets', cacerts ? [cacertsSecret(cacerts)] : [])],
      unrendered: cacerts ? [] : [CACERTS_REF],
    };
  },
  derived: NO_DERIVED,
  ensured: noEnsured,
  readers: {},
  pruneKinds: [{ apiVersion: 'v1', kind: 'Secret' }],
  waits: noWaits,
  checks: ['istiod-ready', 'mesh-identity', 'istio-version-skew', 'control-plane-revisions', 'same-root', 'cacerts', 'proxy-certificates', 'proxy-xds-sync'],
};
