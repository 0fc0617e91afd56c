// Where each cluster's east-west gateway is, as far as this command can know: fixed in the spec, read
// from the cluster's own Service, or — for a peer that cannot be reached — the last-known address kept
// in the objects that already route to it in the reachable clusters. A partition never makes a
// gateway "unknown" (which would rewrite the survivors' routes).
import { GATEWAY_OF_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, MESH_LABEL } from '../core/vocabulary.ts';
import { mapLimit } from '../core/fan-out.ts';
import type { KubeObject } from '../k8s/object.ts';
import { EASTWEST_GATEWAY_RELEASE, ISTIO_NAMESPACE } from '../render/helm-releases.ts';

import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';
import type { Connection } from './context.ts';

export type AddressSource = 'spec' | 'live' | 'last-known' | 'unknown';

export interface GatewayAddress {
  cluster: string;
  address?: string;
  source: AddressSource;
}

interface ServiceShape {
  spec?: { externalIPs?: string[] };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

/** The address istiod would use: LoadBalancer ingress IP or hostname, else spec.externalIPs. */
export function serviceAddress(service: ServiceShape | undefined): string | undefined {
  const ingress = service?.status?.loadBalancer?.ingress?.[0];
  return ingress?.ip ?? ingress?.hostname ?? service?.spec?.externalIPs?.[0];
}

/** The gateway address of `cluster` recorded in objects that route to it (owned ServiceEntries / WorkloadEntries). */
export function lastKnownAddress(cluster: string, routing: readonly KubeObject[]): string | undefined {
  const seen = new Map<string, number>();
  for (const object of routing) {
    if (object.metadata.labels?.[GATEWAY_OF_LABEL] !== cluster) continue;
    const spec = (object as { spec?: { address?: string; endpoints?: { address?: string }[] } }).spec;
    const address = object.kind === 'WorkloadEntry' ? spec?.address : spec?.endpoints?.[0]?.address;
    if (address && !address.endsWith('.invalid')) seen.set(address, (seen.get(address) ?? 0) + 1);
  }
  // Several reachable clusters may disagree after a half-done apply: the address most of them use.
  return [...seen].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

/** Picks one cluster's gateway address (pure): the spec's, else live, else last-known. */
export function pickGatewayAddress(cluster: ClusterSpec, live: string | undefined, lastKnown: string | undefined): GatewayAddress {
  if (cluster.eastWestGateway.address) return { cluster: cluster.name, address: cluster.eastWestGateway.address, source: 'spec' };
  if (live) return { cluster: cluster.name, address: live, source: 'live' };
  if (lastKnown) return { cluster: cluster.name, address: lastKnown, source: 'last-known' };
  return { cluster: cluster.name, source: 'unknown' };
}

export const routingSelector = (meshID: string) => `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},${MESH_LABEL}=${meshID},${GATEWAY_OF_LABEL}`;

/** Every cluster's gateway address from what the connected clusters say now (never waits). */
export async function knownGatewayAddresses(spec: MeshSpec, connected: ReadonlyMap<string, Connection>): Promise<GatewayAddress[]> {
  const live = new Map<string, string>();
  const routing: KubeObject[] = [];
  const answered = new Set<string>();
  await mapLimit([...connected.values()], 8, async ({ cluster, client }) => {
    try {
      const service = await client.read({ apiVersion: 'v1', kind: 'Service', metadata: { name: EASTWEST_GATEWAY_RELEASE, namespace: ISTIO_NAMESPACE } });
      const address = serviceAddress(service as ServiceShape | undefined);
      if (address) live.set(cluster.name, address);
      for (const kind of ['ServiceEntry', 'WorkloadEntry']) {
        for (const o of await client.list('networking.istio.io/v1', kind, undefined, routingSelector(spec.meshID))) routing.push({ ...o, kind });
      }
      answered.add(cluster.name);
    } catch {
      // A cluster that stopped answering since it connected: treated as unreachable here (its last-known
      // address stands); its own result reports the failure.
    }
  });
  return spec.clusters.map((c) => pickGatewayAddress(c, live.get(c.name), answered.has(c.name) ? undefined : lastKnownAddress(c.name, routing)));
}

export const addressMap = (addresses: readonly GatewayAddress[]) => new Map(addresses.flatMap((a) => (a.address ? [[a.cluster, a.address] as [string, string]] : [])));
