// A shared root of trust: one root CA and one intermediate CA per cluster, in Istio's plug-in CA layout.
import { webcrypto, randomBytes, X509Certificate } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export type KeyAlgorithm = 'RSA-4096' | 'ECDSA-P256';

export interface CaMaterial {
  certPem: string;
  keyPem: string;
}

/** The four files Istio's plug-in CA reads from the `cacerts` Secret. */
export interface IstioCacerts {
  'ca-cert.pem': string;
  'ca-key.pem': string;
  'root-cert.pem': string;
  'cert-chain.pem': string;
}

const DAY_MS = 86_400_000;

function algorithmFor(kind: KeyAlgorithm): { generate: webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams; sign: webcrypto.Algorithm | webcrypto.EcdsaParams } {
  if (kind === 'RSA-4096') {
    return {
      generate: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 4096 },
      sign: { name: 'RSASSA-PKCS1-v1_5' },
    };
  }
  return { generate: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } as webcrypto.EcdsaParams };
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f; // positive
  return bytes.toString('hex');
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importKeyPem(pem: string, kind: KeyAlgorithm): Promise<CryptoKey> {
  const der = x509.PemConverter.decode(pem)[0]!;
  const alg = algorithmFor(kind).generate;
  const importAlg = alg.name === 'ECDSA' ? alg : { name: alg.name, hash: 'SHA-256' };
  return (await webcrypto.subtle.importKey('pkcs8', der, importAlg, true, ['sign'])) as unknown as CryptoKey;
}

export interface RootOptions {
  keyAlgorithm: KeyAlgorithm;
  validityDays: number;
  organization: string;
  now?: Date;
}

export async function createRootCa(options: RootOptions): Promise<CaMaterial> {
  const alg = algorithmFor(options.keyAlgorithm);
  const keys = (await webcrypto.subtle.generateKey(alg.generate, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const now = options.now ?? new Date();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `O=${options.organization}, CN=Root CA`,
    notBefore: new Date(now.getTime() - 5 * 60_000),
    notAfter: new Date(now.getTime() + options.validityDays * DAY_MS),
    signingAlgorithm: alg.sign,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

export interface IntermediateOptions {
  keyAlgorithm: KeyAlgorithm;
  validityDays: number;
  organization: string;
  cluster: string;
  now?: Date;
}

/** An intermediate CA for one cluster's istiod: CA:true, pathlen:0, SAN istiod.istio-system.svc. */
export async function createIntermediateCa(root: CaMaterial, rootAlgorithm: KeyAlgorithm, options: IntermediateOptions): Promise<CaMaterial> {
  const alg = algorithmFor(options.keyAlgorithm);
  const keys = (await webcrypto.subtle.generateKey(alg.generate, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const rootCert = new x509.X509Certificate(root.certPem);
  const rootKey = await importKeyPem(root.keyPem, rootAlgorithm);
  const now = options.now ?? new Date();
  const notAfter = new Date(Math.min(now.getTime() + options.validityDays * DAY_MS, rootCert.notAfter.getTime()));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `O=${options.organization}, L=${options.cluster}, CN=Intermediate CA`,
    issuer: rootCert.subject,
    notBefore: new Date(now.getTime() - 5 * 60_000),
    notAfter,
    signingAlgorithm: algorithmFor(rootAlgorithm).sign,
    publicKey: keys.publicKey,
    signingKey: rootKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'istiod.istio-system.svc' }]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootCert),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

export function istioCacerts(intermediate: CaMaterial, rootCertPem: string): IstioCacerts {
  const pem = (s: string) => (s.endsWith('\n') ? s : `${s}\n`);
  return {
    'ca-cert.pem': pem(intermediate.certPem),
    'ca-key.pem': pem(intermediate.keyPem),
    'root-cert.pem': pem(rootCertPem),
    'cert-chain.pem': pem(intermediate.certPem) + pem(rootCertPem),
  };
}

/** True when `certPem` was signed by `issuerPem` and is valid now (node:crypto's own X.509 parser). */
export function isSignedBy(certPem: string, issuerPem: string, now = new Date()): boolean {
  const cert = new X509Certificate(certPem);
  const issuer = new X509Certificate(issuerPem);
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey) && new Date(cert.validTo) > now && new Date(cert.validFrom) <= now;
}
