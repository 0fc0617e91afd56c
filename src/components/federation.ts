// Routes between clusters: the namespaces of exported services; in service-entry mode a ServiceEntry and
// DestinationRule per remote name through that cluster's gateway (and WorkloadEntries for failover);
// locality-aware DestinationRules; in endpoint-discovery mode Istio's remote secrets, made from every
// peer's istio-reader token (what `istioctl create-remote-secret` makes, without istioctl).
import type { Component } from './component.ts';
import { noEnsured, noWaits, staged } from './component.ts';
import { owned } from '../k8s/ownership.ts';
import { failoverWorkloadEntries, serviceEntryFederation } from '../render/federation-service-entry.ts';
import { localityDestinationRules } from '../render/locality.ts';
import { serviceNamespaces } from '../render/mesh-objects.ts';
import { ISTIO_READER, remoteSecret } from '../render/remote-secrets.ts';
import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';

export const REMOTE_SECRET_PREFIX = 'Secret/istio-system/istio-remote-secret-';

const discoveryPeers = (spec: MeshSpec, cluster: ClusterSpec) =>
  spec.federation.mode === 'endpoint-discovery' ? spec.clusters.filter((c) => c.name !== cluster.name) : [];

export const federation: Component = {
  id: 'federation',
  description: 'routes to the other clusters: ServiceEntry + DestinationRule per remote name (service-entry mode) or remote secrets (endpoint-discovery), locality failover',
  enabled: () => true,
  render({ spec, gatewayAddresses }, cluster) {
    const addresses = gatewayAddresses ?? new Map<string, string>();
    const parts = spec.federation.mode === 'service-entry' ? [serviceEntryFederation(spec, cluster, addresses), failoverWorkloadEntries(spec, cluster, addresses)] : [];
    return {
      postInstall: [
        ...staged('namespaces', serviceNamespaces(spec)),
        ...staged('istio-config', [...parts.flatMap((p) => p.objects), ...localityDestinationRules(spec)]),
      ],
      pending: parts.flatMap((p) => p.pending),
    };
  },
  derived: [{
    what: 'Istio\'s remote secrets',
    reader: 'istio',
    phase: 'post-install',
    diff: 'presence',
    refs: (spec, cluster) => discoveryPeers(spec, cluster).map((peer) => `${REMOTE_SECRET_PREFIX}${peer.name}`),
    objects(spec, cluster, live) {
      const known = live.readers.istio ?? new Map();
      const secrets = discoveryPeers(spec, cluster).filter((peer) => known.has(peer.name)).map((peer) => {
        const access = known.get(peer.name)!;
        return owned(spec.meshID, remoteSecret(peer.name, access.server, access.caData, access.token));
      });
      return staged('secrets', secrets);
    },
  }],
  ensured: noEnsured,
  readers: { istio: () => ISTIO_READER },
  pruneKinds: [
    { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry' },
    { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry' },
    { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule' },
    { apiVersion: 'v1', kind: 'Secret' },
  ],
  waits: noWaits,
  checks: ['remote-routes-mtls', 'foreign-overrides', 'failover-outlier-detection', 'service-endpoints', 'sidecar-scope', 'remote-name-dns', 'remote-endpoints', 'endpoint-discovery', 'local-preference', 'failover'],
};

