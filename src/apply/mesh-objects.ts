// Everything apply puts into a cluster after Istio is installed, in stage order: the rendered mesh
// objects, remote secrets (endpoint-discovery mode) and the demo workload. Shared by apply and diff.
import { objectRef, STAGES, type KubeObject } from '../k8s/object.ts';
import { demoObjects } from '../render/demo-workload.ts';
import { owned } from '../k8s/ownership.ts';
import type { RenderedCluster } from '../render/render-mesh.ts';
import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';
import { remoteSecret } from './remote-secrets.ts';
import { syncLiveObjects, type SyncLiveInput } from './sync-objects.ts';

/** What a remote secret for a peer is made of (read live from that peer at apply time). */
export interface PeerAccess {
  server: string;
  caData: string;
  token: string;
}

export const REMOTE_SECRET_PREFIX = 'Secret/istio-system/istio-remote-secret-';

/**
 * A Secret apply makes from a peer's live token (ref `<prefix><peer>`: Istio's remote secrets, Kiali's)
 * that stays as it is: the peer is in the spec, but its token is not known now.
 */
export function keptPeerSecret(spec: MeshSpec, prefix: string, known: ReadonlyMap<string, unknown>, ref: string): boolean {
  if (!ref.startsWith(prefix)) return false;
  const peer = ref.slice(prefix.length);
  return spec.clusters.some((c) => c.name === peer) && !known.has(peer);
}

/** Remote secrets only for the peers in `peers` (a peer that cannot be reached keeps its secret as it is). */
export function meshObjects(spec: MeshSpec, cluster: ClusterSpec, rendered: RenderedCluster, peers: ReadonlyMap<string, PeerAccess>, sync?: SyncLiveInput): KubeObject[] {
  const staged = [...rendered.postInstall];
  if (spec.sync.inCluster && sync) {
    for (const object of syncLiveObjects(spec, cluster, sync) ?? []) staged.push({ stage: object.kind === 'Secret' ? 'secrets' : 'istio-config', object });
  }
  if (spec.federation.mode === 'endpoint-discovery') {
    for (const other of spec.clusters) {
      const access = peers.get(other.name);
      if (other.name === cluster.name || access === undefined) continue;
      staged.push({ stage: 'secrets', object: owned(spec.meshID, remoteSecret(other.name, access.server, access.caData, access.token)) });
    }
  }
  // The demo's namespace is also an exported service's namespace: each object once.
  const refs = new Set(staged.map((s) => objectRef(s.object)));
  if (spec.demo.enabled) {
    for (const object of demoObjects(spec, cluster).map((o) => owned(spec.meshID, o))) {
      if (refs.has(objectRef(object))) continue;
      refs.add(objectRef(object));
      staged.push({ stage: object.kind === 'Namespace' ? 'namespaces' : 'istio-config', object });
    }
  }
  return staged.sort((a, b) => STAGES.indexOf(a.stage) - STAGES.indexOf(b.stage)).map((s) => s.object);
}
