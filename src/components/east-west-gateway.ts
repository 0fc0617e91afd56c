// The east-west gateway of every cluster: Istio's gateway chart (networkGateway) and the 15443
// AUTO_PASSTHROUGH Gateway that lets peers reach this cluster's services by SNI.
import type { Component } from './component.ts';
import { noEnsured, noWaits, NO_DERIVED, staged } from './component.ts';
import { eastWestGatewayRelease } from '../render/helm-releases.ts';
import { crossNetworkGateway } from '../render/mesh-objects.ts';

export const eastWestGateway: Component = {
  id: 'east-west-gateway',
  description: 'the east-west gateway (Istio\'s gateway chart, networkGateway) and the 15443 AUTO_PASSTHROUGH Gateway',
  enabled: () => true,
  render: ({ spec }, cluster) => ({ releases: [eastWestGatewayRelease(spec, cluster)], postInstall: staged('istio-config', [crossNetworkGateway()]) }),
  derived: NO_DERIVED,
  ensured: noEnsured,
  readers: {},
  pruneKinds: [{ apiVersion: 'networking.istio.io/v1', kind: 'Gateway' }],
  waits: noWaits,
  checks: ['gateway-ready', 'cross-network-gateway', 'peers-route-to-gateway', 'cross-cluster-via-gateway'],
};
