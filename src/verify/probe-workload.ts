// verify's own probes (pure render): when the demo workload is off, verify proves the mesh with a
// short-lived workload of its own — namespace eastwest-verify in every verified cluster, a tiny server
// (`probe`, answering region=<region>) and the clients — routed exactly as a spec service would be: the
// same federation (ServiceEntry + DestinationRule through the east-west gateways and failover
// WorkloadEntries, or endpoint discovery), the same locality DestinationRule and an allow-policy by
// SPIFFE identity. Every object carries managed-by=eastwest-verify, which apply, diff, sync and doctor
// leave alone; verify removes the namespace when done.
import { MANAGED_BY_LABEL, MESH_LABEL, VERIFY_MANAGED_BY } from '../core/vocabulary.ts';
import type { KubeObject } from '../k8s/object.ts';
import { workloadObjects } from '../render/demo-workload.ts';
import { failoverWorkloadEntries, serviceEntryFederation, type PendingAddress } from '../render/federation-service-entry.ts';
import { localityDestinationRules } from '../render/locality.ts';
import { authorizationPolicies } from '../render/security-policy.ts';
import type { ClusterSpec, MeshSpec, ServiceSpec } from '../spec/schema.ts';

export const PROBE_NAMESPACE = 'eastwest-verify';
export const PROBE_SERVER = 'probe';

/** The probe as a spec service: port 80, served in every verified cluster, identity sa probe. */
export function probeService(clusters: readonly string[]): ServiceSpec {
  return { name: PROBE_SERVER, namespace: PROBE_NAMESPACE, serviceAccount: PROBE_SERVER, ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], clusters: [...clusters] };
}

/**
 * The mesh as if the probe were its only service: same clusters, networks, federation and mTLS; the
 * probe's client (sa client of the probe namespace) the only caller allowed. The spec's own policy
 * objects are not the probe's (they are the mesh's, applied by apply).
 */
export function probeMesh(spec: MeshSpec, clusters: readonly string[]): MeshSpec {
  return {
    ...spec,
    services: [probeService(clusters)],
    policy: { ...spec.policy, authorization: [{ service: PROBE_SERVER, namespace: PROBE_NAMESPACE, allow: [{ serviceAccounts: [`${PROBE_NAMESPACE}/client`] }] }], objects: [] },
  };
}

/** Labels of every probe object: verify's, of this mesh. */
export const probeLabels = (spec: MeshSpec) => ({ [MANAGED_BY_LABEL]: VERIFY_MANAGED_BY, [MESH_LABEL]: spec.meshID });
export const probeSelector = (spec: MeshSpec) => `${MANAGED_BY_LABEL}=${VERIFY_MANAGED_BY},${MESH_LABEL}=${spec.meshID}`;

const labelled = (spec: MeshSpec, object: KubeObject): KubeObject => ({ ...object, metadata: { ...object.metadata, labels: { ...object.metadata.labels, ...probeLabels(spec) } } });

/**
 * The probe objects of one cluster (`verified`: the clusters verify runs between). The namespace comes
 * first; routes to a gateway whose address is not known yet are pending, as apply's are.
 */
export function probeObjects(spec: MeshSpec, cluster: ClusterSpec, verified: readonly string[], gatewayAddresses: ReadonlyMap<string, string>): { objects: KubeObject[]; pending: PendingAddress[] } {
  const mesh = probeMesh(spec, verified);
  const serves = verified.includes(cluster.name);
  const workload = workloadObjects(spec, cluster, { namespace: PROBE_NAMESPACE, otherClient: false, labels: probeLabels(spec), ...(serves ? { server: { name: PROBE_SERVER, replicas: 1 } } : {}) });
  const routes = spec.federation.mode === 'service-entry' ? [serviceEntryFederation(mesh, cluster, gatewayAddresses), failoverWorkloadEntries(mesh, cluster, gatewayAddresses)] : [];
  const config = [...routes.flatMap((r) => r.objects), ...localityDestinationRules(mesh), ...authorizationPolicies(mesh)].map((o) => labelled(spec, o));
  return { objects: [...workload, ...config], pending: routes.flatMap((r) => r.pending) };
}
