// The guide's federation: per remote exported service, a ServiceEntry <svc>.<cluster>.<suffix> whose
// endpoint is the remote east-west gateway on 15443, and a DestinationRule that originates Istio mTLS
// with the SNI the remote gateway routes on (outbound_.<port>_._.<svc>.<ns>.svc.cluster.local).
import { GATEWAY_OF_LABEL, PENDING_ADDRESS_ANNOTATION } from '../core/vocabulary.ts';
import { isIP } from 'node:net';
import type { KubeObject } from '../k8s/object.ts';
import type { ClusterSpec, MeshSpec, ServiceSpec } from '../spec/schema.ts';
import { CROSS_NETWORK_PORT } from './mesh-objects.ts';

/** Placeholder host for a gateway address not yet known; `.invalid` never resolves (RFC 2606). */
export const pendingAddress = (cluster: string) => `pending-gateway-address.${cluster}.invalid`;
export interface PendingAddress {
  /** The cluster whose gateway address is needed. */
  gatewayOf: string;
  object: string;
  /** Why, when it is not simply unknown. */
  reason?: string;
}

export const remoteHost = (spec: MeshSpec, service: ServiceSpec, cluster: string) => `${service.name}.${cluster}.${spec.federation.hostSuffix}`;
export const spiffeId = (spec: MeshSpec, namespace: string, serviceAccount: string) => `spiffe://${spec.trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
export const clusterLocalHost = (service: ServiceSpec) => `${service.name}.${service.namespace}.svc.cluster.local`;
export const istioSni = (service: ServiceSpec, port: number) => `outbound_.${port}_._.${clusterLocalHost(service)}`;
export const locality = (cluster: ClusterSpec) => (cluster.zone ? `${cluster.region}/${cluster.zone}` : cluster.region);

/** Every (exported service, other cluster serving it) pair as seen from `local`, with the gateway address if known. */
function* remoteServings(spec: MeshSpec, local: ClusterSpec, gatewayAddresses: ReadonlyMap<string, string>) {
  const clusters = new Map(spec.clusters.map((c) => [c.name, c]));
  for (const service of spec.services) {
    for (const remoteName of service.clusters) {
      if (remoteName === local.name) continue;
      const remote = clusters.get(remoteName)!;
      yield { service, remote, known: gatewayAddresses.get(remote.name) ?? remote.eastWestGateway.address };
    }
  }
}

export function serviceEntryFederation(
  spec: MeshSpec,
  local: ClusterSpec,
  gatewayAddresses: ReadonlyMap<string, string>,
): { objects: KubeObject[]; pending: PendingAddress[] } {
  const objects: KubeObject[] = [];
  const pending: PendingAddress[] = [];
  for (const { service, remote, known } of remoteServings(spec, local, gatewayAddresses)) {
    const name = `${service.name}-${remote.name}`;
    const host = remoteHost(spec, service, remote.name);
    const address = known ?? pendingAddress(remote.name);
    if (known === undefined) pending.push({ gatewayOf: remote.name, object: `ServiceEntry/${service.namespace}/${name}` });
    objects.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: {
        name,
        namespace: service.namespace,
        labels: { [GATEWAY_OF_LABEL]: remote.name },
        ...(known === undefined ? { annotations: { [PENDING_ADDRESS_ANNOTATION]: remote.name } } : {}),
      },
      spec: {
        hosts: [host],
        location: 'MESH_INTERNAL',
        resolution: isIP(address) ? 'STATIC' : 'DNS',
        ports: service.ports.map((p) => ({ number: p.number, name: p.name, protocol: p.protocol })),
        endpoints: [
          {
            address,
            ports: Object.fromEntries(service.ports.map((p) => [p.name, CROSS_NETWORK_PORT])),
            locality: locality(remote),
            // No `network` here: were istiod ever to learn the remote network's gateway (meshNetworks,
            // a remote secret), it would drop this endpoint (it carries no tlsMode) instead of using it.
          },
        ],
      },
    });
    const tlsFor = (port: number) => ({
      mode: 'ISTIO_MUTUAL',
      sni: istioSni(service, port),
      subjectAltNames: [spiffeId(spec, service.namespace, service.serviceAccount ?? service.name)],
    });
    const [first, ...others] = service.ports;
    objects.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name, namespace: service.namespace },
      spec: {
        host,
        trafficPolicy: {
          tls: tlsFor(first!.number),
          ...(others.length > 0 ? { portLevelSettings: service.ports.map((p) => ({ port: { number: p.number }, tls: tlsFor(p.number) })) } : {}),
        },
      },
    });
  }
  return { objects, pending };
}

/**
 * Failover in service-entry mode: in each cluster serving a service, a WorkloadEntry per other serving
 * cluster, selected by the local Service (label app=<svc>), whose address is that cluster's east-west
 * gateway on 15443 with its locality. Callers use <svc>.<ns>.svc.cluster.local as usual: local pods
 * first, the other region's gateway when no local endpoint is healthy (with the locality DestinationRule).
 * The sidecar originates Istio mTLS with the service's own SNI, which the remote gateway routes on.
 * Gateways never see these entries (they are in the remote network): no gateway-to-gateway loops.
 */
export function failoverWorkloadEntries(
  spec: MeshSpec,
  local: ClusterSpec,
  gatewayAddresses: ReadonlyMap<string, string>,
): { objects: KubeObject[]; pending: PendingAddress[] } {
  const objects: KubeObject[] = [];
  const pending: PendingAddress[] = [];
  for (const { service, remote, known: address } of remoteServings(spec, local, gatewayAddresses)) {
    if (!service.clusters.includes(local.name)) continue;
    const name = `${service.name}-via-${remote.name}`;
    if (address === undefined || isIP(address) === 0) {
      pending.push({
        gatewayOf: remote.name,
        object: `WorkloadEntry/${service.namespace}/${name}`,
        ...(address !== undefined ? { reason: `the east-west gateway of ${remote.name} has a host name (${address}); failover WorkloadEntries need an IP address (set clusters[].eastWestGateway.address)` } : {}),
      });
      continue;
    }
    objects.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'WorkloadEntry',
      metadata: { name, namespace: service.namespace, labels: { [GATEWAY_OF_LABEL]: remote.name } },
      spec: {
        address,
        // The remote network: every east-west gateway's network view (ISTIO_META_REQUESTED_NETWORK_VIEW,
        // set by the gateway chart from networkGateway) hides it, so traffic that already crossed a
        // network is never sent across again. Sidecars, which know no gateway for that network in this
        // mode, use the address as it is: the remote gateway on 15443.
        network: remote.network,
        labels: { app: service.name, 'security.istio.io/tlsMode': 'istio', 'topology.istio.io/cluster': remote.name },
        locality: locality(remote),
        ports: Object.fromEntries(service.ports.map((p) => [p.name, CROSS_NETWORK_PORT])),
        serviceAccount: service.serviceAccount ?? service.name,
      },
    });
  }
  return { objects, pending };
}
