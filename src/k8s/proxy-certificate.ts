// The workload certificate chain an Istio proxy holds (Envoy's `default` secret), read from its admin
// endpoint through port-forward: certificates only (Envoy redacts the private key in config dumps).
import type { KubeConfig } from '@kubernetes/client-node';
import { podHttpGet } from './port-forward.ts';

/** Envoy's admin port in every Istio proxy. */
export const ENVOY_ADMIN_PORT = 15000;

interface SecretDump {
  configs?: { name?: string; secret?: { tls_certificate?: { certificate_chain?: { inline_bytes?: string } } } }[];
}

/** The chain (PEM, leaf first) the proxy of `namespace/pod` holds; undefined when it holds none yet. Throws when its admin endpoint cannot be read. */
export async function proxyCertificateChain(config: KubeConfig, namespace: string, pod: string, timeoutMs: number): Promise<string | undefined> {
  const r = await podHttpGet(config, namespace, pod, ENVOY_ADMIN_PORT, '/config_dump?resource=dynamic_active_secrets', timeoutMs);
  if (r.status !== 200) throw new Error(`its admin endpoint answered ${r.status}`);
  const bytes = (JSON.parse(r.body) as SecretDump).configs?.find((c) => c.name === 'default')?.secret?.tls_certificate?.certificate_chain?.inline_bytes;
  return bytes ? Buffer.from(bytes, 'base64').toString('utf8') : undefined;
}
