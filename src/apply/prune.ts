// What eastwest owns in a cluster (by label), of the kinds its components may prune; the resource
// manager deletes the ones no longer desired. Objects without the ownership label are never touched.
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, MESH_LABEL } from '../core/vocabulary.ts';
import { pruneKinds } from '../components/registry.ts';
import type { KubeClient } from '../k8s/client.ts';
import type { KubeObject } from '../k8s/object.ts';

export const ownedSelector = (meshID: string) => `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},${MESH_LABEL}=${meshID}`;

/** Objects of `kinds` matching `selector`, each with its apiVersion and kind set (lists leave them out). */
export async function listOwned(client: KubeClient, kinds: readonly { apiVersion: string; kind: string }[], selector: string): Promise<KubeObject[]> {
  const lists = await Promise.all(kinds.map((k) => client.list(k.apiVersion, k.kind, undefined, selector).then((items) => items.map((o) => ({ ...o, apiVersion: k.apiVersion, kind: k.kind })))));
  return lists.flat();
}

/** What this mesh owns in a cluster, of every kind a component may prune. */
export async function ownedObjects(client: KubeClient, meshID: string): Promise<KubeObject[]> {
  return listOwned(client, pruneKinds(), ownedSelector(meshID));
}
