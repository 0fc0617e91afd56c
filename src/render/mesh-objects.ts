// Per-cluster objects of the mesh itself: istio-system with its network, the plug-in CA Secret, the
// cross-network Gateway on 15443, and the namespaces of exported services.
import { NETWORK_LABEL } from '../core/vocabulary.ts';
import { namespaceInjectionLabels } from './revision.ts';
import type { KubeObject } from '../k8s/object.ts';
import type { IstioCacerts } from '../pki/ca.ts';
import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';
import { EASTWEST_GATEWAY_LABEL, ISTIO_NAMESPACE } from './helm-releases.ts';

export const CROSS_NETWORK_GATEWAY = 'cross-network-gateway';
export const CROSS_NETWORK_PORT = 15443;
/** A literal: helm-releases.ts comes back to this module (through observability and federation-service-entry), so ISTIO_NAMESPACE may not be set when this line runs. */
export const CACERTS_REF = 'Secret/istio-system/cacerts';

export function istioSystemNamespace(cluster: ClusterSpec): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ISTIO_NAMESPACE, labels: { [NETWORK_LABEL]: cluster.network } } };
}

/** Namespaces of exported services, with sidecar injection, in every cluster (callers live there too). */
export function serviceNamespaces(spec: MeshSpec): KubeObject[] {
  const names = [...new Set(spec.services.map((s) => s.namespace))].sort();
  return names.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: namespaceInjectionLabels(spec) } }));
}

export function cacertsSecret(cacerts: IstioCacerts): KubeObject {
  const data = Object.fromEntries(
    (Object.keys(cacerts) as (keyof IstioCacerts)[]).sort().map((k) => [k, Buffer.from(cacerts[k]).toString('base64')]),
  );
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cacerts', namespace: ISTIO_NAMESPACE }, type: 'Opaque', data };
}

export function crossNetworkGateway(): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Gateway',
    metadata: { name: CROSS_NETWORK_GATEWAY, namespace: ISTIO_NAMESPACE },
    spec: {
      selector: { ...EASTWEST_GATEWAY_LABEL },
      servers: [{ port: { number: CROSS_NETWORK_PORT, name: 'tls', protocol: 'TLS' }, tls: { mode: 'AUTO_PASSTHROUGH' }, hosts: ['*.local'] }],
    },
  };
}
