// The certificate chain a pod's TLS port presents, read through the API server's port-forward (what
// `openssl s_client` through `kubectl port-forward` shows): istiod's XDS port presents a certificate
// its CA signed, so its issuer tells which intermediate istiod signs with now.
import { connect as tlsConnect, type PeerCertificate, type DetailedPeerCertificate } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { EastwestError, EXIT } from '../core/errors.ts';
import { withPortForward } from './port-forward.ts';

const pemOf = (raw: Buffer) => new X509Certificate(raw).toString();

/** The chain (leaf first, PEM) that `namespace/pod:port` presents in its TLS handshake; nothing is verified. */
export async function podTlsChain(config: KubeConfig, namespace: string, pod: string, port: number, serverName: string, timeoutMs: number): Promise<string[]> {
  try {
    return await withPortForward(config, namespace, pod, port, (local) => new Promise<string[]>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: local, servername: serverName, rejectUnauthorized: false, ALPNProtocols: ['h2'] });
      const timer = setTimeout(() => socket.destroy(Object.assign(new Error('timeout'), { name: 'TimeoutError' })), timeoutMs);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        const chain: string[] = [];
        let cert: PeerCertificate | DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
        const seen = new Set<string>();
        while (cert?.raw && !seen.has(cert.fingerprint256)) {
          seen.add(cert.fingerprint256);
          chain.push(pemOf(cert.raw));
          cert = (cert as DetailedPeerCertificate).issuerCertificate;
        }
        socket.end();
        resolve(chain);
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    }));
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError';
    throw new EastwestError(timedOut ? 'port-forward-timeout' : 'port-forward-failed', timedOut
      ? `${namespace}/${pod}:${port} did not finish a TLS handshake within ${Math.round(timeoutMs / 1000)} s (port-forward)`
      : `TLS through port-forward to ${namespace}/${pod}:${port} failed: ${(error as Error).message}`, { exitCode: EXIT.clusterError, hint: 'is the pod running and its API server answering? `kubectl port-forward` to it tells more' });
  }
}
