// The in-cluster sync controller's objects that need live input (apply and diff): its access Secret (the
// other clusters' reader tokens) and its Deployment (restarted when that access or the spec changes). A
// peer whose token cannot be read now leaves both as they are. The lab builds the controller's image.
import { createHash } from 'node:crypto';
import { objectRef, type KubeObject } from '../k8s/object.ts';
import { readLabEastwestImage } from '../sources/lab-state-files.ts';
import { owned } from '../k8s/ownership.ts';
import { SYNC_ACCESS_SECRET, SYNC_CONTROLLER, SYNC_NAMESPACE, controllerSpecYaml, syncAccessSecret, syncControllerDeployment, syncNamespace, syncReaderObjects, type PeerReadAccess } from '../render/sync-controller.ts';
import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';
import type { ReaderTokenSource } from './remote-secrets.ts';

/** Refs apply leaves as they are when a peer's access is unknown now. */
export const SYNC_LIVE_REFS = [`Secret/${SYNC_NAMESPACE}/${SYNC_ACCESS_SECRET}`, `Deployment/${SYNC_NAMESPACE}/${SYNC_CONTROLLER}`];

/** The sync reader's token: its namespace and account first. */
export function syncReaderSource(meshID: string): ReaderTokenSource {
  const [account, token] = syncReaderObjects();
  return { secret: owned(meshID, token!), prerequisites: [owned(meshID, syncNamespace()), owned(meshID, account!)] };
}

/** The controller's image: the spec's, or in the lab the one `lab up` loaded (lab state, not this install's files). */
export function syncImage(spec: MeshSpec): string | undefined {
  return spec.sync.image ?? (spec.profile === 'lab' ? readLabEastwestImage() : undefined);
}

export interface SyncLiveInput {
  image: string;
  peers: ReadonlyMap<string, PeerReadAccess>;
}

/** True when `desired` lacks the access Secret and Deployment (a peer's token unknown): apply and diff leave them be. */
export function syncLiveObjectsKept(spec: MeshSpec, desired: readonly KubeObject[]): boolean {
  return spec.sync.inCluster && !desired.some((o) => SYNC_LIVE_REFS.includes(objectRef(o)));
}

/** The access Secret and the Deployment, or undefined when a peer's access is not known now. */
export function syncLiveObjects(spec: MeshSpec, cluster: ClusterSpec, input: SyncLiveInput): KubeObject[] | undefined {
  if (spec.clusters.some((c) => c.name !== cluster.name && !input.peers.has(c.name))) return undefined;
  const access = syncAccessSecret(spec, cluster, input.peers);
  const accessHash = createHash('sha256').update(JSON.stringify(access.stringData)).digest('hex');
  const deployment = syncControllerDeployment(spec, cluster, { image: input.image, specYaml: controllerSpecYaml(spec, undefined), accessHash });
  return [access, deployment].map((o) => owned(spec.meshID, o));
}
