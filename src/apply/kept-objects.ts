// Owned objects that are neither desired nor to be pruned now: made from live input that cannot be had
// at this moment, or not rendered because what they need is unknown. One rule for apply (not pruned) and
// diff (not "extra"), so the two cannot disagree.
import { CACERTS_REF } from '../engine/mesh-ca.ts';
import type { MeshSpec } from '../spec/schema.ts';
import { grafanaAdminRef, grafanaOn } from './grafana-admin.ts';
import { keptKialiSecret } from './kiali-objects.ts';
import { keptPeerSecret, REMOTE_SECRET_PREFIX, type PeerAccess } from './mesh-objects.ts';
import { SYNC_LIVE_REFS } from './sync-objects.ts';

export interface KeptInput {
  /** Peers whose reader token was read now, for Istio's remote secrets (diff reads none: every peer of the spec keeps its own). */
  remotePeers: ReadonlyMap<string, PeerAccess>;
  /** The same for Kiali's view of its peers. */
  kialiPeers: ReadonlyMap<string, PeerAccess>;
  /** The sync controller's access and Deployment cannot be made now (a peer's reader token is unknown). */
  syncKept: boolean;
  /** cacerts was not rendered (its CA material is not known now). */
  cacertsMissing: boolean;
  /** Objects routing to a gateway whose address nobody knows. */
  pending: ReadonlySet<string>;
}

export function keptOwned(spec: MeshSpec, input: KeptInput): (ref: string) => boolean {
  return (ref) =>
    input.pending.has(ref) ||
    (input.cacertsMissing && ref === CACERTS_REF) ||
    // A remote secret of a peer in the spec whose token is not known now stays; in another mode, or for a
    // cluster no longer in the spec, it goes.
    (spec.federation.mode === 'endpoint-discovery' && keptPeerSecret(spec, REMOTE_SECRET_PREFIX, input.remotePeers, ref)) ||
    keptKialiSecret(spec, input.kialiPeers, ref) ||
    (grafanaOn(spec) && ref === grafanaAdminRef(spec)) ||
    (input.syncKept && SYNC_LIVE_REFS.includes(ref));
}
