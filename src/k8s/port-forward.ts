// One HTTP GET to a pod's port through the API server's port-forward (what `kubectl port-forward` does):
// the connection ends inside the pod on localhost, so a sidecar's inbound mTLS does not stand in the
// way, and nothing needs a public endpoint. The whole exchange has one deadline.
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { PortForward, type KubeConfig } from '@kubernetes/client-node';
import { EastwestError, EXIT } from '../core/errors.ts';

export interface PodHttpResponse {
  status: number;
  body: string;
  /** The server's Date header (its clock), when it sent one. */
  date?: string;
}

/** Calls `use` with a local port that reaches `namespace/pod:port`; every socket and forward is closed after. */
export async function withPortForward<T>(config: KubeConfig, namespace: string, pod: string, port: number, use: (localPort: number) => Promise<T>): Promise<T> {
  const forward = new PortForward(config);
  const sockets = new Set<Socket>();
  const closers: (() => void)[] = [];
  let finished = false;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    forward
      .portForward(namespace, pod, [port], socket, null, socket)
      .then((ws) => {
        const close = () => {
          const w = typeof ws === 'function' ? ws() : ws;
          w?.close();
        };
        // A forward that opens after the caller gave up (its deadline) is closed at once, never left open.
        if (finished) return close();
        closers.push(close);
        socket.on('close', close);
      })
      .catch((error: unknown) => socket.destroy(error as Error));
  });
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject));
  try {
    return await use((server.address() as AddressInfo).port);
  } finally {
    finished = true;
    for (const close of closers) close();
    for (const socket of sockets) socket.destroy();
    server.close();
  }
}

export async function podHttpGet(config: KubeConfig, namespace: string, pod: string, port: number, path: string, timeoutMs: number): Promise<PodHttpResponse> {
  try {
    return await withPortForward(config, namespace, pod, port, async (local) => {
      const response = await fetch(`http://127.0.0.1:${local}${path}`, { signal: AbortSignal.timeout(timeoutMs), headers: { connection: 'close' } });
      const date = response.headers.get('date');
      return { status: response.status, body: await response.text(), ...(date ? { date } : {}) };
    });
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError';
    throw new EastwestError(timedOut ? 'port-forward-timeout' : 'port-forward-failed', timedOut
      ? `${namespace}/${pod}:${port} did not answer within ${Math.round(timeoutMs / 1000)} s (port-forward)`
      : `port-forward to ${namespace}/${pod}:${port} failed: ${(error as Error).message}`, { exitCode: EXIT.clusterError, hint: 'is the pod running and its API server answering? `kubectl port-forward` to it tells more' });
  }
}
