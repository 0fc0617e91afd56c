// One policy set in every cluster: mesh-wide STRICT mTLS, authorization by SPIFFE identity as the spec's
// matrix says, and what passes through the gateways.
import type { Component } from './component.ts';
import { noEnsured, noWaits, NO_DERIVED, staged } from './component.ts';
import { authorizationPolicies, meshPeerAuthentication, passThroughSecurityObjects } from '../render/security-policy.ts';

export const policy: Component = {
  id: 'policy',
  description: 'STRICT mTLS mesh-wide and AuthorizationPolicies by SPIFFE identity, the same in every cluster',
  enabled: () => true,
  render: ({ spec }) => ({ postInstall: staged('istio-config', [meshPeerAuthentication(spec), ...authorizationPolicies(spec), ...passThroughSecurityObjects(spec)]) }),
  derived: NO_DERIVED,
  ensured: noEnsured,
  readers: {},
  pruneKinds: [
    { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication' },
    { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy' },
  ],
  waits: noWaits,
  checks: ['strict-mtls', 'authorization-policies'],
};
