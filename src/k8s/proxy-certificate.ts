// The workload certificate chain an Istio proxy holds (Envoy's `default` secret), read from its admin
// endpoint through port-forward: certificates only (Envoy redacts the private key in config dumps).
import type { KubeConfig } from '@kubernetes/client-node';
import { podHttpGet } from './port-forward.ts';

/** Envoy's admin port in every Istio proxy. */
export const ENVOY_ADMIN_PORT = 15000;

interface SecretDump {
  configs?: { name?: string; secret?: { tls_certificate?: { certificate_chain?: { inline_bytes?: string } }; validation_context?: { trusted_ca?: { inline_bytes?: string } } } }[];
}

const text = (bytes: string | undefined) => (bytes ? Buffer.from(bytes, 'base64').toString('utf8') : undefined);

/** What the proxy of `namespace/pod` holds: its workload chain (leaf first) and the roots it trusts (ROOTCA), each absent until it has them. Throws when its admin endpoint cannot be read. */
export async function proxySecrets(config: KubeConfig, namespace: string, pod: string, timeoutMs: number): Promise<{ chainPem?: string; trustedPem?: string }> {
  const r = await podHttpGet(config, namespace, pod, ENVOY_ADMIN_PORT, '/config_dump?resource=dynamic_active_secrets', timeoutMs);
  if (r.status !== 200) throw new Error(`its admin endpoint answered ${r.status}`);
  const configs = (JSON.parse(r.body) as SecretDump).configs ?? [];
  const chainPem = text(configs.find((c) => c.name === 'default')?.secret?.tls_certificate?.certificate_chain?.inline_bytes);
  const trustedPem = text(configs.find((c) => c.name === 'ROOTCA')?.secret?.validation_context?.trusted_ca?.inline_bytes);
  return { ...(chainPem ? { chainPem } : {}), ...(trustedPem ? { trustedPem } : {}) };
}

/** The chain (PEM, leaf first) the proxy of `namespace/pod` holds; undefined when it holds none yet. Throws when its admin endpoint cannot be read. */
export async function proxyCertificateChain(config: KubeConfig, namespace: string, pod: string, timeoutMs: number): Promise<string | undefined> {
  return (await proxySecrets(config, namespace, pod, timeoutMs)).chainPem;
}
