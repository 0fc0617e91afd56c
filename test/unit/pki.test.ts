import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSignedBy } from '../../src/pki/ca.ts';
import { ensurePki, type PkiOptions } from '../../src/pki/store.ts';

const options = (directory: string, keyAlgorithm: PkiOptions['keyAlgorithm']): PkiOptions => ({
  directory, clusters: ['us', 'eu'], keyAlgorithm, rootValidityDays: 3650, intermediateValidityDays: 1825, organization: 'training-mesh',
});

function opensslVerify(dir: string, cacerts: Record<string, string>): string {
  for (const [name, content] of Object.entries(cacerts)) writeFileSync(join(dir, name), content);
  // The chain istiod serves: the intermediate, verified up to the root with the chain file as untrusted.
  return execFileSync('openssl', ['verify', '-CAfile', join(dir, 'root-cert.pem'), '-untrusted', join(dir, 'cert-chain.pem'), join(dir, 'ca-cert.pem')], { encoding: 'utf8' });
}

describe.each([['ECDSA-P256'], ['RSA-4096']] as const)('shared root of trust (%s)', (algorithm) => {
  const dir = mkdtempSync(join(tmpdir(), 'eastwest-pki-'));
  const ready = ensurePki(options(dir, algorithm));

  it('gives each cluster an intermediate (CA:true, pathlen:0, SAN istiod.istio-system.svc) under one root', async () => {
    const { bundle } = await ready;
    const root = new X509Certificate(bundle.rootCertPem);
    expect(root.ca).toBe(true);
    const years = (Date.parse(root.validTo) - Date.parse(root.validFrom)) / (365.25 * 86_400_000);
    expect(years).toBeGreaterThan(9.9);
    for (const cluster of ['us', 'eu']) {
      const cacerts = bundle.cacerts.get(cluster)!;
      expect(Object.keys(cacerts).sort()).toEqual(['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem']);
      expect(cacerts['cert-chain.pem']).toBe(cacerts['ca-cert.pem'] + cacerts['root-cert.pem']);
      const intermediate = new X509Certificate(cacerts['ca-cert.pem']);
      expect(intermediate.ca).toBe(true);
      expect(intermediate.subjectAltName).toBe('DNS:istiod.istio-system.svc');
      expect(intermediate.checkIssued(root)).toBe(true);
      expect(intermediate.verify(root.publicKey)).toBe(true);
      expect(isSignedBy(cacerts['ca-cert.pem'], bundle.rootCertPem)).toBe(true);
      const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: cacerts['ca-cert.pem'], encoding: 'utf8' });
      expect(text).toMatch(/CA:TRUE, pathlen:0/);
      const verifyDir = mkdtempSync(join(tmpdir(), `eastwest-verify-${cluster}-`));
      expect(opensslVerify(verifyDir, { ...cacerts })).toMatch(/ca-cert\.pem: OK/);
    }
    // The intermediates differ: one per cluster.
    expect(bundle.cacerts.get('us')!['ca-cert.pem']).not.toBe(bundle.cacerts.get('eu')!['ca-cert.pem']);
  });

  it('writes keys 0600 and keeps the root key out of what clusters get', async () => {
    const { bundle } = await ready;
    expect(statSync(join(dir, 'root-key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'clusters', 'us', 'ca-key.pem')).mode & 0o777).toBe(0o600);
    const rootKey = readFileSync(join(dir, 'root-key.pem'), 'utf8');
    for (const cacerts of bundle.cacerts.values()) expect(Object.values(cacerts).join('')).not.toContain(rootKey.split('\n')[1]);
  });

  it('keeps existing material on re-run, replaces intermediates on rotation', async () => {
    const { bundle: first } = await ready;
    const again = await ensurePki(options(dir, algorithm));
    expect(again.changes.every((c) => c.action === 'kept')).toBe(true);
    expect(again.bundle.cacerts.get('us')).toEqual(first.cacerts.get('us'));
    const rotated = await ensurePki({ ...options(dir, algorithm), rotate: 'intermediates' });
    expect(rotated.changes.find((c) => c.what === 'root')!.action).toBe('kept');
    expect(rotated.changes.filter((c) => c.action === 'rotated').map((c) => c.what).sort()).toEqual(['intermediate/eu', 'intermediate/us']);
    expect(rotated.bundle.cacerts.get('us')!['ca-cert.pem']).not.toBe(first.cacerts.get('us')!['ca-cert.pem']);
    expect(rotated.bundle.rootCertPem).toBe(first.rootCertPem);
  });
});

describe('foreign material', () => {
  it('re-issues an intermediate not signed by the current root', async () => {
    const a = mkdtempSync(join(tmpdir(), 'eastwest-pki-a-'));
    const b = mkdtempSync(join(tmpdir(), 'eastwest-pki-b-'));
    await ensurePki(options(a, 'ECDSA-P256'));
    const other = await ensurePki(options(b, 'ECDSA-P256'));
    writeFileSync(join(a, 'clusters', 'us', 'ca-cert.pem'), other.bundle.cacerts.get('us')!['ca-cert.pem']);
    const fixed = await ensurePki(options(a, 'ECDSA-P256'));
    expect(fixed.changes.find((c) => c.what === 'intermediate/us')).toMatchObject({ action: 'rotated', reason: 'not signed by the current root, or expired' });
    expect(isSignedBy(fixed.bundle.cacerts.get('us')!['ca-cert.pem'], fixed.bundle.rootCertPem)).toBe(true);
  });
});
