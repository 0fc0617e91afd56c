// Which intermediate a proxy's certificate chains to and when it renews: real certificates made here.
import { webcrypto, X509Certificate } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { createIntermediateCa, createRootCa, type CaMaterial } from '../../src/pki/ca.ts';
import { classifyChain, oldIntermediateOutlivesCertificates, renewalTime } from '../../src/pki/chain-holder.ts';
import { fingerprint } from '../../src/pki/trust-plan.ts';

const ECDSA = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A workload certificate as istiod issues it: signed by `intermediate`, valid `hours` from `from`. */
async function workloadCert(intermediate: CaMaterial, from: Date, hours: number): Promise<string> {
  const keys = await webcrypto.subtle.generateKey(ECDSA, true, ['sign', 'verify']);
  const der = Buffer.from(intermediate.keyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const signingKey = await webcrypto.subtle.importKey('pkcs8', der, ECDSA, false, ['sign']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '01', subject: '', issuer: new x509.X509Certificate(intermediate.certPem).subject,
    notBefore: from, notAfter: new Date(from.getTime() + hours * 3600_000), signingAlgorithm: ECDSA,
    publicKey: keys.publicKey as never, signingKey: signingKey as never,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'spiffe://corp.local/ns/echo/sa/client' }])],
  });
  return cert.toString('pem');
}

let root: CaMaterial;
let older: CaMaterial;
let newer: CaMaterial;
let foreign: CaMaterial;
let earlier: CaMaterial;
beforeAll(async () => {
  root = await createRootCa({ keyAlgorithm: 'ECDSA-P256', validityDays: 3650, organization: 'training-mesh' });
  const options = { keyAlgorithm: 'ECDSA-P256' as const, validityDays: 365, organization: 'training-mesh', cluster: 'us' };
  older = await createIntermediateCa(root, 'ECDSA-P256', options);
  newer = await createIntermediateCa(root, 'ECDSA-P256', options);
  earlier = await createIntermediateCa(root, 'ECDSA-P256', options);
  foreign = await createIntermediateCa(await createRootCa({ keyAlgorithm: 'ECDSA-P256', validityDays: 3650, organization: 'other' }), 'ECDSA-P256', options);
});

describe('the chain a proxy holds during an intermediate rotation', () => {
  it('a certificate of the new intermediate holds "new"; of the old, "old"; of an earlier one of the root, "earlier"; of another root, "foreign"', async () => {
    const from = new Date('2026-11-28T06:00:00Z');
    for (const [signer, expected] of [[newer, 'new'], [older, 'old'], [earlier, 'earlier'], [foreign, 'foreign']] as const) {
      const leaf = await workloadCert(signer, from, 24);
      expect(classifyChain(leaf + signer.certPem + root.certPem, older.certPem, newer.certPem, root.certPem)?.holds).toBe(expected);
      expect(classifyChain(leaf + signer.certPem, older.certPem, newer.certPem, root.certPem)?.holds).toBe(expected);
    }
  });

  it('an earlier intermediate without its certificate in the chain cannot be told from a foreign one', async () => {
    const leaf = await workloadCert(earlier, new Date(), 24);
    expect(classifyChain(leaf, older.certPem, newer.certPem, root.certPem)?.holds).toBe('foreign');
  });

  it('renewal is at half the life: a 24 h certificate issued at 06:00 renews at 18:00', async () => {
    const leaf = await workloadCert(newer, new Date('2026-11-28T06:00:00Z'), 24);
    const held = classifyChain(leaf + newer.certPem, older.certPem, newer.certPem, root.certPem)!;
    expect(held.renewsAt).toBe('2026-11-28T18:00:00.000Z');
    expect(held.expiresAt).toBe('2026-11-29T06:00:00.000Z');
    expect(held.issuer).toBe(fingerprint(newer.certPem));
  });

  it('the leaf alone (no intermediate in the chain) is still classified; the issuer is then its name', async () => {
    const leaf = await workloadCert(older, new Date(), 1);
    const held = classifyChain(leaf, older.certPem, newer.certPem, root.certPem)!;
    expect(held.holds).toBe('old');
    expect(held.issuer).toContain('Intermediate CA');
  });

  it('no certificate in what the proxy holds: undefined', () => {
    expect(classifyChain('', older.certPem, newer.certPem, root.certPem)).toBeUndefined();
    expect(classifyChain('not a pem', older.certPem, newer.certPem, root.certPem)).toBeUndefined();
  });

  it('renewalTime is the midpoint for any life', () => {
    expect(renewalTime(new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T01:00:00Z')).toISOString()).toBe('2026-01-01T00:30:00.000Z');
  });
});

describe('whether the old intermediate outlives what it signed', () => {
  it('a year left: fine; 23 hours left: not (a 24 h certificate it signed would outlive it)', () => {
    const validTo = new Date(new X509Certificate(older.certPem).validTo);
    expect(oldIntermediateOutlivesCertificates(older.certPem, new Date(validTo.getTime() - 365 * 24 * 3600_000)).ok).toBe(true);
    const late = oldIntermediateOutlivesCertificates(older.certPem, new Date(validTo.getTime() - 23 * 3600_000));
    expect(late.ok).toBe(false);
    expect(late.hoursLeft).toBe(23);
    expect(oldIntermediateOutlivesCertificates(older.certPem, new Date(validTo.getTime() - 24 * 3600_000)).ok).toBe(true);
  });
});
