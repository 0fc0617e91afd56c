// What eastwest owns in a cluster (by label), of the kinds it may prune; the resource manager deletes
// the ones no longer desired. Objects without the ownership label are never touched.
import type { KubeClient } from '../k8s/client.ts';
import type { KubeObject } from '../k8s/object.ts';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, MESH_LABEL } from '../k8s/ownership.ts';

/** Kinds eastwest renders and may therefore prune (namespaces and CRDs are left alone). */
export const PRUNABLE_KINDS: readonly { apiVersion: string; kind: string }[] = [
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
  { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry' },
  { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry' },
  { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule' },
  { apiVersion: 'networking.istio.io/v1', kind: 'Gateway' },
  { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication' },
  { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy' },
  { apiVersion: 'v1', kind: 'Secret' },
];

export const ownedSelector = (meshID: string) => `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},${MESH_LABEL}=${meshID}`;

/** Objects of `kinds` matching `selector`, each with its apiVersion and kind set (lists leave them out). */
export async function listOwned(client: KubeClient, kinds: readonly { apiVersion: string; kind: string }[], selector: string): Promise<KubeObject[]> {
  const lists = await Promise.all(kinds.map((k) => client.list(k.apiVersion, k.kind, undefined, selector).then((items) => items.map((o) => ({ ...o, apiVersion: k.apiVersion, kind: k.kind })))));
  return lists.flat();
}

export async function ownedObjects(client: KubeClient, meshID: string): Promise<KubeObject[]> {
  return listOwned(client, PRUNABLE_KINDS, ownedSelector(meshID));
}
