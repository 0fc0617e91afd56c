// A root rotation's phases, as Istio's multi-root support runs them (istio#47063, #47424), pure:
//   0  cacerts: old intermediate, root-cert.pem = old           (before)
//   1  cacerts: old intermediate, root-cert.pem = old + new     (every proxy comes to trust both roots)
//   2  cacerts: new intermediate, root-cert.pem = new + old     (every workload certificate is re-signed under the new root)
//   3  cacerts: new intermediate, root-cert.pem = new           (the old root is dropped)
// A cluster's phase is read from its cacerts alone, so a stopped rotation resumes from what the clusters
// hold. Each phase is finished in every cluster before the next starts anywhere: a proxy learns roots
// only from its own istiod, and its peers in other clusters must trust what it presents.
import { X509Certificate } from 'node:crypto';
import type { CaMaterial, IstioCacerts } from './ca.ts';
import { certificatesIn, fingerprint } from './trust-plan.ts';

export type RootPhase = 0 | 1 | 2 | 3;
export const ROOT_PHASES: readonly RootPhase[] = [0, 1, 2, 3];

/** What each phase waits for, before the next may start. */
export const PHASE_GOAL: Record<Exclude<RootPhase, 0>, string> = {
  1: 'every istiod publishes both roots and every proxy trusts both',
  2: 'every istiod signs with its new intermediate and every proxy holds a certificate of the new root',
  3: 'every istiod publishes the new root alone and every proxy trusts the new root',
};

const pem = (s: string) => (s.endsWith('\n') ? s : `${s}\n`);

/**
 * The phase a cluster's cacerts are in, given the old and new roots; a string saying why when they fit
 * no phase (another root, a broken file).
 */
export function cacertsPhase(cacerts: Partial<IstioCacerts> | undefined, oldRootPem: string, newRootPem: string): RootPhase | string {
  const roots = (certificatesIn(cacerts?.['root-cert.pem'] ?? '') ?? []).map(fingerprint);
  const signer = certificatesIn(cacerts?.['ca-cert.pem'] ?? '')?.[0];
  if (!signer || roots.length === 0 || !cacerts?.['ca-key.pem'] || !cacerts['cert-chain.pem']) return 'cacerts is missing, incomplete or not certificates';
  const oldFp = fingerprint(oldRootPem);
  const newFp = fingerprint(newRootPem);
  const intermediate = new X509Certificate(signer);
  const by = (rootPem: string) => intermediate.checkIssued(new X509Certificate(rootPem)) && intermediate.verify(new X509Certificate(rootPem).publicKey);
  // The old root first: with no rotation under way (old and new the same) a cluster is in phase 0.
  const signedBy = by(oldRootPem) ? 'old' : by(newRootPem) ? 'new' : 'other';
  const set = roots.join(',');
  if (signedBy === 'old' && set === oldFp) return 0;
  if (signedBy === 'old' && roots.length === 2 && roots.includes(oldFp) && roots.includes(newFp)) return 1;
  if (signedBy === 'new' && set === `${newFp},${oldFp}`) return 2;
  if (signedBy === 'new' && set === newFp) return 3;
  return `its intermediate is signed by ${signedBy === 'other' ? 'neither root' : `the ${signedBy} root`} and it trusts ${roots.length} root(s) (${roots.map((r) => (r === oldFp ? 'old' : r === newFp ? 'new' : 'another')).join(', ')}): no phase of this rotation`;
}

/**
 * The cacerts of `phase` for one cluster: its old intermediate (from the cluster, as it is) until phase 2,
 * its new one from then on. The root file's bytes change at every phase (istiod reloads on a change and
 * accepts a new root file only when one bundle holds the other).
 */
export function phaseCacerts(phase: Exclude<RootPhase, 0>, old: IstioCacerts, newIntermediate: CaMaterial, oldRootPem: string, newRootPem: string): IstioCacerts {
  if (phase === 1) return { ...old, 'root-cert.pem': pem(oldRootPem) + pem(newRootPem) };
  const signing = { 'ca-cert.pem': pem(newIntermediate.certPem), 'ca-key.pem': pem(newIntermediate.keyPem), 'cert-chain.pem': pem(newIntermediate.certPem) + pem(newRootPem) };
  if (phase === 2) return { ...signing, 'root-cert.pem': pem(newRootPem) + pem(oldRootPem) };
  return { ...signing, 'root-cert.pem': pem(newRootPem) };
}

/** Where a rotation stands: the lowest phase any cluster is in, and the next to run (undefined: done). */
export function rotationProgress(phases: readonly RootPhase[]): { current: RootPhase; next?: Exclude<RootPhase, 0> } {
  // Clusters ahead of the others (a run stopped while writing a phase) are already where the next phase goes.
  const current = Math.min(...phases) as RootPhase;
  return current === 3 ? { current } : { current, next: (current + 1) as Exclude<RootPhase, 0> };
}

/** Whether a proxy's trusted roots (its ROOTCA bundle) fit the phase's goal. */
export function trustFits(phase: Exclude<RootPhase, 0>, trustedPem: string, oldRootPem: string, newRootPem: string): boolean {
  const trusted = new Set((certificatesIn(trustedPem) ?? []).map(fingerprint));
  if (phase === 1 || phase === 2) return trusted.has(fingerprint(oldRootPem)) && trusted.has(fingerprint(newRootPem));
  return trusted.has(fingerprint(newRootPem));
}

/** Whether an istiod-published root bundle (istio-ca-root-cert) is the phase's. */
export function publishedFits(phase: Exclude<RootPhase, 0>, publishedPem: string, oldRootPem: string, newRootPem: string): boolean {
  const roots = (certificatesIn(publishedPem) ?? []).map(fingerprint);
  const oldFp = fingerprint(oldRootPem);
  const newFp = fingerprint(newRootPem);
  if (phase === 3) return roots.length === 1 && roots[0] === newFp;
  return roots.length === 2 && roots.includes(oldFp) && roots.includes(newFp);
}

/**
 * What a run does next, given each cluster's written phase and the phase this run has seen reached
 * everywhere: a cluster ahead of another proves the lower phase was reached (a phase is written only after
 * the one before was reached), while every cluster at the same phase proves only that it was written, so
 * a resumed run first waits for it; then the next phase is written; after phase 3, the CA directory.
 */
export function nextStep(written: readonly RootPhase[], confirmed: RootPhase): { step: 'wait'; phase: Exclude<RootPhase, 0> } | { step: 'write'; phase: Exclude<RootPhase, 0> } | { step: 'promote' } {
  const { current, next } = rotationProgress(written);
  if (current >= 1 && confirmed < current && written.every((p) => p === current)) return { step: 'wait', phase: current as Exclude<RootPhase, 0> };
  return next ? { step: 'write', phase: next } : { step: 'promote' };
}
