// Kiali sees every other cluster through a kubeconfig Secret per peer, made at apply time from that
// peer's `kiali-remote` token (read-only role), before Kiali starts (the kiali-server chart looks for them
// when it is installed). A peer whose token cannot be read now keeps its Secret as it is.
import type { KubeObject } from '../k8s/object.ts';
import { KIALI_MULTI_CLUSTER_LABEL, KIALI_REMOTE_SECRET_PREFIX, kialiRemoteReaderObjects, kialiRemoteSecretName } from '../render/lab-kiali.ts';
import { KIALI_NAMESPACE } from '../render/observability.ts';
import { owned } from '../k8s/ownership.ts';
import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';
import { keptPeerSecret, type PeerAccess } from './mesh-objects.ts';
import { tokenKubeconfig, type ReaderTokenSource } from './remote-secrets.ts';

export const kialiOn = (spec: MeshSpec) => spec.observability.prometheus && spec.observability.kiali;

export const KIALI_SECRET_REF_PREFIX = `Secret/${KIALI_NAMESPACE}/${KIALI_REMOTE_SECRET_PREFIX}`;

/** The token other clusters' Kiali reads this cluster with: its account and role binding first. */
export function kialiReaderSource(spec: MeshSpec): ReaderTokenSource {
  const [role, account, binding, token] = kialiRemoteReaderObjects();
  return { secret: owned(spec.meshID, token!), prerequisites: [role!, account!, binding!].map((o) => owned(spec.meshID, o)) };
}

/** One Secret per peer whose access is known: key <peer> = a kubeconfig with its kiali-remote token. */
export function kialiRemoteSecrets(spec: MeshSpec, cluster: ClusterSpec, peers: ReadonlyMap<string, PeerAccess>): KubeObject[] {
  if (!kialiOn(spec)) return [];
  return spec.clusters
    .filter((c) => c.name !== cluster.name && peers.has(c.name))
    .map((c) => {
      const access = peers.get(c.name)!;
      return owned(spec.meshID, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: kialiRemoteSecretName(c.name), namespace: KIALI_NAMESPACE, labels: { [KIALI_MULTI_CLUSTER_LABEL]: 'true' }, annotations: { 'kiali.io/cluster': c.name } },
        type: 'Opaque',
        stringData: { [c.name]: tokenKubeconfig(c.name, access.server, access.caData, access.token) },
      });
    });
}

/** A peer's Kiali Secret that stays as it is: the peer is in the spec but its token is unknown now. */
export function keptKialiSecret(spec: MeshSpec, peers: ReadonlyMap<string, PeerAccess>, ref: string): boolean {
  return kialiOn(spec) && keptPeerSecret(spec, KIALI_SECRET_REF_PREFIX, peers, ref);
}
