// The CA is team state: which root the mesh trusts and where each cluster's intermediate comes from,
// decided from the local CA directory (possibly absent, possibly someone else's) and what the clusters
// hold now. Pure: no files, no clusters, no key generation. The clusters are the truth for a running
// mesh; the local directory is needed only to issue intermediates (a new cluster, a rotation) or to start
// a mesh that has no root yet. A local root that differs from the one the clusters trust is refused.
import { X509Certificate } from 'node:crypto';
import type { Problem } from '../core/errors.ts';
import { isSignedBy, type CaMaterial, type IstioCacerts } from './ca.ts';

/** What the local CA directory holds (read, never created). */
export interface LocalCa {
  directory: string;
  rootCertPem?: string;
  rootKeyPem?: string;
  intermediates: ReadonlyMap<string, CaMaterial>;
}

/** A reachable cluster's live `cacerts` (undefined: the cluster has none). */
export type LiveCacerts = Partial<IstioCacerts> | undefined;

export interface CaPlanInput {
  /** Clusters written by this command. */
  selected: readonly string[];
  local: LocalCa | undefined;
  /** Every reachable cluster (selected and peers) → its live cacerts. Unreachable clusters are absent. */
  live: ReadonlyMap<string, LiveCacerts>;
  now?: Date;
}

export type IntermediateSource =
  /** The cluster's live cacerts are kept as they are. */
  | { cluster: string; source: 'live'; cacerts: IstioCacerts }
  /** The local intermediate is installed (the cluster has none, or an older one of the same root). */
  | { cluster: string; source: 'local'; intermediate: CaMaterial; replaces?: 'older-live' | 'invalid-live' }
  /** A new intermediate must be issued from the root key. */
  | { cluster: string; source: 'issue'; reason: string };

export interface CaPlan {
  /** The mesh's root: the live one, the local one (same), or a new one to create. */
  root: { source: 'live' | 'local'; certPem: string; fingerprint: string } | { source: 'create' };
  clusters: IntermediateSource[];
  /** Anything wrong enough that nothing may be applied (exit 2). */
  problems: Problem[];
  /** Worth saying, not blocking. */
  warnings: string[];
}

/** SHA-256 fingerprint of a certificate as `SHA256:AB:CD:…` (what `openssl x509 -fingerprint -sha256` shows). */
export function fingerprint(certPem: string): string {
  return `SHA256:${new X509Certificate(certPem).fingerprint256}`;
}

const sameCert = (a: string, b: string) => fingerprint(a) === fingerprint(b);
const notBefore = (pem: string) => new Date(new X509Certificate(pem).validFrom).getTime();

function complete(live: LiveCacerts): live is IstioCacerts {
  return Boolean(live && live['ca-cert.pem'] && live['ca-key.pem'] && live['root-cert.pem'] && live['cert-chain.pem']);
}

/** Decides the mesh's root and every selected cluster's intermediate. */
export function planCa(input: CaPlanInput): CaPlan {
  const now = input.now ?? new Date();
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const directory = input.local?.directory ?? 'the CA directory';
  const localRoot = input.local?.rootCertPem;
  const hasRootKey = Boolean(input.local?.rootKeyPem && localRoot);

  // The roots the reachable clusters trust now (from cacerts: what their istiod signs with).
  const liveRoots = new Map<string, string[]>(); // fingerprint → clusters
  const livePem = new Map<string, string>();
  for (const [cluster, live] of [...input.live].sort(([a], [b]) => a.localeCompare(b))) {
    const pem = live?.['root-cert.pem'];
    if (!pem) continue;
    const fp = fingerprint(pem);
    liveRoots.set(fp, [...(liveRoots.get(fp) ?? []), cluster]);
    livePem.set(fp, pem);
  }
  const liveList = () => [...liveRoots].map(([fp, clusters]) => `${clusters.join(', ')}: ${fp}`).join('; ');

  let root: CaPlan['root'];
  if (localRoot) {
    const localFp = fingerprint(localRoot);
    const others = [...liveRoots].filter(([fp]) => fp !== localFp);
    if (others.length) {
      problems.push({
        path: 'CA root',
        message: `the local root in ${directory} (${localFp}) is not the root the mesh trusts (${others.map(([fp, clusters]) => `${clusters.join(', ')}: ${fp}`).join('; ')})`,
        hint: `use the team's CA directory (copy it to ${directory}), or move ${directory} aside to work from the clusters' CA; changing a live mesh's root needs a phased rotation, which apply does not do in one step`,
      });
    }
    root = { source: liveRoots.has(localFp) ? 'live' : 'local', certPem: localRoot, fingerprint: localFp };
  } else if (liveRoots.size > 1) {
    problems.push({
      path: 'CA root',
      message: `the clusters trust different roots (${liveList()}), and there is no local CA in ${directory} to say which is the mesh's`,
      hint: 'a mesh needs one root: put the team\'s CA directory in place; a cluster on another root must be moved with a phased rotation',
    });
    return { root: { source: 'create' }, clusters: [], problems, warnings };
  } else if (liveRoots.size === 1) {
    const [fp] = [...liveRoots.keys()];
    root = { source: 'live', certPem: livePem.get(fp!)!, fingerprint: fp! };
  } else {
    root = { source: 'create' };
  }

  const clusters: IntermediateSource[] = [];
  for (const cluster of [...input.selected].sort()) {
    const live = input.live.get(cluster);
    const local = input.local?.intermediates.get(cluster);
    if (root.source === 'create') {
      clusters.push({ cluster, source: 'issue', reason: 'the mesh has no root yet' });
      continue;
    }
    const rootPem = root.certPem;
    const localValid = local !== undefined && isSignedBy(local.certPem, rootPem, now);
    if (local !== undefined && !localValid) warnings.push(`${cluster}: the local intermediate in ${directory} is not signed by the mesh's root, or has expired; it is not used`);
    const liveValid = complete(live) && sameCert(live['root-cert.pem'], rootPem) && isSignedBy(live['ca-cert.pem'], rootPem, now);
    if (liveValid && localValid && !sameCert(local.certPem, live['ca-cert.pem'])) {
      if (notBefore(local.certPem) > notBefore(live['ca-cert.pem'])) clusters.push({ cluster, source: 'local', intermediate: local, replaces: 'older-live' });
      else {
        warnings.push(`${cluster}: the local intermediate in ${directory} is older than the one the cluster holds (a stale copy of the CA directory?); the cluster's is kept`);
        clusters.push({ cluster, source: 'live', cacerts: live });
      }
    } else if (liveValid) clusters.push({ cluster, source: 'live', cacerts: live });
    else if (localValid) clusters.push({ cluster, source: 'local', intermediate: local, ...(live ? { replaces: 'invalid-live' as const } : {}) });
    else clusters.push({ cluster, source: 'issue', reason: live ? 'its cacerts are incomplete, expired or not of the mesh\'s root' : 'it has no cacerts yet' });
  }

  const toIssue = clusters.filter((c) => c.source === 'issue');
  if (toIssue.length && root.source !== 'create' && !hasRootKey) {
    for (const c of toIssue) {
      problems.push({
        path: `CA intermediate of ${c.cluster}`,
        message: `${c.cluster} needs a new intermediate (${(c as { reason: string }).reason}), and issuing one needs the root key, which is not in ${directory}`,
        hint: `put the team's CA directory (with root-key.pem) at ${directory}; the root key is needed only to issue intermediates (a new cluster, a rotation)`,
      });
    }
  }
  return { root, clusters, problems, warnings };
}
