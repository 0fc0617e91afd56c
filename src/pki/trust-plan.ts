// The CA is team state: which root the mesh trusts and where each cluster's intermediate comes from,
// decided from the local CA directory (possibly absent, possibly someone else's) and what the clusters
// hold now. Pure: no files, no clusters, no key generation. The clusters are the truth for a running
// mesh; the local directory is needed only to issue intermediates (a new cluster, a rotation) or to start
// a mesh that has no root yet. A local root that differs from the one the clusters trust is refused.
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
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
  /** Clusters of the spec whose cacerts could not be read now (unreachable, refused): their roots are unknown. */
  unread?: readonly string[];
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
  /** Anything wrong enough that nothing may be applied (exit 2); `cluster` when it is one cluster's alone. */
  problems: (Problem & { cluster?: string })[];
  /** The mesh's root cannot be told now (clusters that might hold it did not answer): nothing may be applied (exit 3). */
  undecided?: string;
  /** A CA rotation is under way (a cluster trusts several roots): cacerts are left to it. */
  rotation?: string;
  /** Worth saying, not blocking. */
  warnings: string[];
}

/** SHA-256 fingerprint of a certificate as `SHA256:AB:CD:…` (what `openssl x509 -fingerprint -sha256` shows). */
export function fingerprint(certPem: string): string {
  return `SHA256:${new X509Certificate(certPem).fingerprint256}`;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Every certificate of a PEM bundle (a root-cert.pem holds several during a rotation); undefined when one is not a certificate. */
export function certificatesIn(pem: string): string[] | undefined {
  const blocks = pem.match(PEM_BLOCK) ?? [];
  try {
    for (const block of blocks) new X509Certificate(block);
  } catch {
    return undefined;
  }
  return blocks.length ? blocks.map((b) => `${b}\n`) : undefined;
}

/** The fingerprint of a bundle's first certificate (the root a published root-cert.pem leads with); undefined when it is not one. */
export function rootFingerprint(pem: string): string | undefined {
  const first = certificatesIn(pem)?.[0];
  return first === undefined ? undefined : fingerprint(first);
}

const safeFingerprint = (pem: string): string | undefined => {
  try {
    return fingerprint(pem);
  } catch {
    return undefined;
  }
};
const sameCert = (a: string, b: string) => safeFingerprint(a) !== undefined && safeFingerprint(a) === safeFingerprint(b);
const notBefore = (pem: string) => new Date(new X509Certificate(pem).validFrom).getTime();
/** isSignedBy that calls a certificate it cannot parse not signed. */
const signedBy = (cert: string, issuer: string, now: Date) => {
  try {
    return isSignedBy(cert, issuer, now);
  } catch {
    return false;
  }
};

/** True when the private key is the certificate's (a cacerts whose key was edited or mixed up is broken). */
export function keyMatches(certPem: string, keyPem: string): boolean {
  try {
    const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
    return spki(createPublicKey(createPrivateKey(keyPem))).equals(spki(new X509Certificate(certPem).publicKey));
  } catch {
    return false;
  }
}

function complete(live: LiveCacerts): live is IstioCacerts {
  return Boolean(live && live['ca-cert.pem'] && live['ca-key.pem'] && live['root-cert.pem'] && live['cert-chain.pem']);
}

/** Decides the mesh's root and every selected cluster's intermediate. */
export function planCa(input: CaPlanInput): CaPlan {
  const now = input.now ?? new Date();
  const problems: CaPlan['problems'] = [];
  const warnings: string[] = [];
  const directory = input.local?.directory ?? 'the CA directory';
  const localRoot = input.local?.rootCertPem;
  const hasRootKey = Boolean(input.local?.rootKeyPem && localRoot);

  // The roots the reachable clusters trust now (their cacerts' root-cert.pem: one root, or several while
  // a rotation is under way). A cluster is grouped by the first root of its bundle.
  const liveRoots = new Map<string, string[]>(); // fingerprint → clusters
  const livePem = new Map<string, string>();
  const trusted = new Map<string, Set<string>>(); // cluster → every root it trusts
  let rotation: string | undefined;
  for (const [cluster, live] of [...input.live].sort(([a], [b]) => a.localeCompare(b))) {
    const pem = live?.['root-cert.pem'];
    if (!pem) continue;
    const certs = certificatesIn(pem);
    if (!certs) {
      warnings.push(`${cluster}: its cacerts' root-cert.pem is not a certificate; it is treated as having no root`);
      continue;
    }
    const fps = certs.map(fingerprint);
    trusted.set(cluster, new Set(fps));
    if (certs.length > 1) rotation ??= `${cluster} trusts ${certs.length} roots (${fps.join(', ')})`;
    liveRoots.set(fps[0]!, [...(liveRoots.get(fps[0]!) ?? []), cluster]);
    livePem.set(fps[0]!, certs[0]!);
  }
  const liveList = () => [...liveRoots].map(([fp, clusters]) => `${clusters.join(', ')}: ${fp}`).join('; ');
  const unread = [...(input.unread ?? [])].sort();

  let root: CaPlan['root'];
  if (localRoot) {
    const localFp = safeFingerprint(localRoot);
    if (!localFp) {
      problems.push({ path: 'CA root', message: `${directory}/root-cert.pem is not a certificate`, hint: 'restore the team\'s CA directory from its backup' });
      return { root: { source: 'create' }, clusters: [], problems, warnings };
    }
    // A cluster whose bundle holds the local root (a rotation under way) trusts it too.
    const others = [...trusted].filter(([, fps]) => !fps.has(localFp));
    if (others.length) {
      const byRoot = new Map<string, string[]>();
      for (const [cluster, fps] of others) byRoot.set([...fps][0]!, [...(byRoot.get([...fps][0]!) ?? []), cluster]);
      problems.push({
        path: 'CA root',
        message: `the local root in ${directory} (${localFp}) is not the root the mesh trusts (${[...byRoot].map(([fp, clusters]) => `${clusters.join(', ')}: ${fp}`).join('; ')})`,
        hint: `use the team's CA directory (copy it to ${directory}), or move ${directory} aside to work from the clusters' CA; changing a live mesh's root needs a phased rotation, which apply does not do in one step`,
      });
    }
    const known = [...trusted.values()].some((fps) => fps.has(localFp));
    if (!known && unread.length && !problems.length) {
      return { root: { source: 'create' }, clusters: [], problems, warnings, undecided: `no cluster that answered holds the local root, and ${unread.join(', ')} could not be read: it cannot be told whether the local root is the mesh's` };
    }
    root = { source: known ? 'live' : 'local', certPem: localRoot, fingerprint: localFp };
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
  } else if (unread.length) {
    return { root: { source: 'create' }, clusters: [], problems, warnings, undecided: `no cluster that answered has a root, and ${unread.join(', ')} could not be read: a new root would split the mesh if they have one` };
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
    const localValid = local !== undefined && signedBy(local.certPem, rootPem, now) && keyMatches(local.certPem, local.keyPem);
    if (local !== undefined && !localValid) warnings.push(`${cluster}: the local intermediate in ${directory} is not signed by the mesh's root, or has expired; it is not used`);
    // Valid: complete, trusting the mesh's root, and signed by one root of its own bundle (during a rotation, the new one).
    const liveValid = complete(live) && (trusted.get(cluster)?.has(root.fingerprint) ?? false) && (certificatesIn(live['root-cert.pem']) ?? []).some((r) => signedBy(live['ca-cert.pem'], r, now)) && keyMatches(live['ca-cert.pem'], live['ca-key.pem']);
    if (rotation) {
      // A rotation under way owns every cluster's cacerts: kept as they are, never replaced or issued here.
      if (liveValid) clusters.push({ cluster, source: 'live', cacerts: live });
      else problems.push({ cluster, path: `CA intermediate of ${cluster}`, message: `a CA rotation is under way (${rotation}), and ${cluster}'s cacerts are missing or not of the mesh's root`, hint: 'finish the rotation first; apply leaves cacerts to it' });
      continue;
    }
    if (liveValid && localValid && !sameCert(local.certPem, live['ca-cert.pem'])) {
      if (notBefore(local.certPem) > notBefore(live['ca-cert.pem'])) clusters.push({ cluster, source: 'local', intermediate: local, replaces: 'older-live' });
      else {
        warnings.push(`${cluster}: the local intermediate in ${directory} is older than the one the cluster holds (a stale copy of the CA directory?); the cluster's is kept`);
        clusters.push({ cluster, source: 'live', cacerts: live });
      }
    } else if (liveValid) clusters.push({ cluster, source: 'live', cacerts: live });
    else if (localValid) clusters.push({ cluster, source: 'local', intermediate: local, ...(live ? { replaces: 'invalid-live' as const } : {}) });
    else clusters.push({ cluster, source: 'issue', reason: live ? 'its cacerts are incomplete, expired, not of the mesh\'s root, or hold a key that is not its certificate\'s' : 'it has no cacerts yet' });
  }

  const toIssue = clusters.filter((c) => c.source === 'issue');
  if (toIssue.length && root.source !== 'create' && !hasRootKey) {
    for (const c of toIssue) {
      problems.push({
        cluster: c.cluster,
        path: `CA intermediate of ${c.cluster}`,
        message: `${c.cluster} needs a new intermediate (${(c as { reason: string }).reason}), and issuing one needs the root key, which is not in ${directory}`,
        hint: `put the team's CA directory (with root-key.pem) at ${directory}; the root key is needed only to issue intermediates (a new cluster, a rotation)`,
      });
    }
  }
  return { root, clusters, problems, warnings, ...(rotation ? { rotation } : {}) };
}
