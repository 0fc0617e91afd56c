// Certificates of one lab cluster's control plane (what kubeadm would make), ECDSA P-256 for speed.
import 'reflect-metadata';
import { webcrypto, randomBytes } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { LabNodePlan } from './plan.ts';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const YEAR_MS = 365 * 86_400_000;

export interface KeyAndCert {
  certPem: string;
  keyPem: string;
}

export interface ClusterPki {
  ca: KeyAndCert;
  apiserver: KeyAndCert;
  apiserverKubeletClient: KeyAndCert;
  admin: KeyAndCert;
  controllerManager: KeyAndCert;
  scheduler: KeyAndCert;
  kubelet: KeyAndCert;
  kubeProxy: KeyAndCert;
  serviceAccountKeyPem: string;
  serviceAccountPubPem: string;
}

async function keyPair() {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
}
type CryptoKeyPair = webcrypto.CryptoKeyPair;

async function pemKey(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

const serial = () => {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
};

async function issue(ca: { cert: x509.X509Certificate; keys: CryptoKeyPair }, subject: string, usage: 'client' | 'server', sans: { type: 'dns' | 'ip'; value: string }[] = []): Promise<KeyAndCert> {
  const keys = await keyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: ca.cert.subject,
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + YEAR_MS),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([usage === 'client' ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth]),
      ...(sans.length ? [new x509.SubjectAlternativeNameExtension(sans)] : []),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await pemKey(keys.privateKey) };
}

export async function createClusterPki(node: LabNodePlan): Promise<ClusterPki> {
  const caKeys = await keyPair();
  const now = Date.now();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=eastwest-lab-${node.cluster}-ca`,
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + 10 * YEAR_MS),
    signingAlgorithm: ALG,
    keys: caKeys,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true)],
  });
  const ca = { cert: caCert, keys: caKeys };
  const sa = await keyPair();
  return {
    ca: { certPem: caCert.toString('pem'), keyPem: await pemKey(caKeys.privateKey) },
    apiserver: await issue(ca, 'CN=kube-apiserver', 'server', [
      ...['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'localhost', node.nodeName].map((value) => ({ type: 'dns' as const, value })),
      ...[node.nodeIp, node.kubernetesServiceIp, '127.0.0.1'].map((value) => ({ type: 'ip' as const, value })),
    ]),
    apiserverKubeletClient: await issue(ca, 'O=system:masters, CN=kube-apiserver-kubelet-client', 'client'),
    admin: await issue(ca, 'O=system:masters, CN=eastwest-lab-admin', 'client'),
    controllerManager: await issue(ca, 'CN=system:kube-controller-manager', 'client'),
    scheduler: await issue(ca, 'CN=system:kube-scheduler', 'client'),
    kubelet: await issue(ca, `O=system:nodes, CN=system:node:${node.nodeName}`, 'client'),
    kubeProxy: await issue(ca, 'CN=system:kube-proxy', 'client'),
    serviceAccountKeyPem: await pemKey(sa.privateKey),
    serviceAccountPubPem: x509.PemConverter.encode(await webcrypto.subtle.exportKey('spki', sa.publicKey), 'PUBLIC KEY'),
  };
}
