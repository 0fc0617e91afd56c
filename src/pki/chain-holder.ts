// Which CA a proxy's workload certificate comes from, and when the proxy will replace it: what an
// intermediate rotation reports per proxy. Pure: PEM in, facts out (node:crypto's X.509 parser).
import { X509Certificate } from 'node:crypto';
import { certificatesIn, fingerprint } from './trust-plan.ts';

/** Istio's agents renew a workload certificate at half its life (SECRET_GRACE_PERIOD_RATIO 0.5). */
export const RENEW_AT_LIFE_FRACTION = 0.5;
/** The longest life Istio gives a workload certificate by default (SECRET_TTL 24 h). */
export const WORKLOAD_CERT_TTL_MS = 24 * 3600_000;

export interface HeldChain {
  /**
   * Whose intermediate signed the workload certificate: the new one, the one replaced, an earlier one of
   * the same root (a rotation before), or one that does not lead to the mesh's root.
   */
  holds: 'new' | 'old' | 'earlier' | 'foreign';
  /** When the agent will ask for a new certificate (half its life). */
  renewsAt: string;
  expiresAt: string;
  /** The intermediate's fingerprint (its certificate, when the chain carries it; else the leaf's issuer name). */
  issuer: string;
}

const signs = (issuerPem: string, leaf: X509Certificate): boolean => {
  const issuer = new X509Certificate(issuerPem);
  return leaf.checkIssued(issuer) && leaf.verify(issuer.publicKey);
};

/** The moment a certificate valid from `from` to `to` is renewed by Istio's agent. */
export function renewalTime(validFrom: Date, validTo: Date): Date {
  return new Date(validFrom.getTime() + (validTo.getTime() - validFrom.getTime()) * RENEW_AT_LIFE_FRACTION);
}

/** Whether the chain's certificates after the leaf lead, each signed by the next, to `rootPem`. */
function leadsTo(certs: string[], rootPem: string): boolean {
  let current = new X509Certificate(certs[0]!);
  for (const next of [...certs.slice(1), rootPem]) {
    if (signs(rootPem, current)) return true;
    if (!signs(next, current)) return false;
    current = new X509Certificate(next);
  }
  return false;
}

/**
 * What a proxy's chain (leaf first, as Envoy holds it) says: signed by the new intermediate, the old one,
 * an earlier one of the mesh's root, or none of the mesh's; undefined when it holds no certificate.
 */
export function classifyChain(chainPem: string, oldIntermediatePem: string, newIntermediatePem: string, rootPem: string): HeldChain | undefined {
  const certs = certificatesIn(chainPem);
  if (!certs?.length) return undefined;
  const leaf = new X509Certificate(certs[0]!);
  const holds = signs(newIntermediatePem, leaf) ? 'new' : signs(oldIntermediatePem, leaf) ? 'old' : leadsTo(certs, rootPem) ? 'earlier' : 'foreign';
  const validFrom = new Date(leaf.validFrom);
  const validTo = new Date(leaf.validTo);
  return {
    holds,
    renewsAt: renewalTime(validFrom, validTo).toISOString(),
    expiresAt: validTo.toISOString(),
    issuer: certs[1] ? fingerprint(certs[1]) : leaf.issuer.replace(/\n/g, ', '),
  };
}

/**
 * Whether the old intermediate outlives every certificate it may still have signed: those are issued up
 * to the moment istiod takes the new one and live up to 24 h. Less than that means proxies that keep
 * their certificate until renewal would present a chain that expires first: they must be moved now.
 */
export function oldIntermediateOutlivesCertificates(oldIntermediatePem: string, now: Date): { ok: boolean; expiresAt: string; hoursLeft: number } {
  const validTo = new Date(new X509Certificate(oldIntermediatePem).validTo);
  const hoursLeft = Math.floor((validTo.getTime() - now.getTime()) / 3600_000);
  return { ok: validTo.getTime() - now.getTime() >= WORKLOAD_CERT_TTL_MS, expiresAt: validTo.toISOString(), hoursLeft };
}
