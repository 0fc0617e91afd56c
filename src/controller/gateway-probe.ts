// Does an east-west gateway pass a name through yet? Asked the way a peer's sidecar asks: a TLS
// ClientHello to the gateway's cross-network port with the name's passthrough SNI and Istio's mTLS ALPN.
// An AUTO_PASSTHROUGH gateway that does not serve the SNI (its istiod has not pushed the name, or no
// endpoint is ready) closes the connection before any TLS answer; one that serves it hands the hello
// to a workload's sidecar, which answers with its certificate (and then refuses us for want of a client
// certificate, which is expected: no identity is presented and no request is made).
import net from 'node:net';
import tls from 'node:tls';

/** Istio's cross-network (AUTO_PASSTHROUGH) port on an east-west gateway. */
export const PASSTHROUGH_PORT = 15443;

/** The SNI a sidecar sends for `host`:`port` through a remote network's gateway (Istio's outbound cluster name). */
export const passthroughSni = (host: string, port: number) => `outbound_.${port}_._.${host}`;

export type GatewayAnswer =
  /** A workload's sidecar behind the gateway answered the TLS hello with its SPIFFE identity: the gateway routes the name. */
  | { answer: 'passes'; identity: string; ms: number }
  /** The gateway took the connection and closed it without a TLS answer: it does not route the name (yet). */
  | { answer: 'refuses'; detail: string; ms: number }
  /** No TCP connection to the gateway (or no answer in time): nothing can be said from here. */
  | { answer: 'unreachable'; detail: string; ms: number };

export interface ProbeOptions {
  address: string;
  port?: number;
  sni: string;
  /** For the TCP connection and then for the TLS answer, each. */
  timeoutMs?: number;
}

/** Istio sidecars' ALPN on mTLS to a peer (with and without metadata exchange). */
const ISTIO_ALPN = ['istio-peer-exchange', 'istio'];

export function probeGateway(options: ProbeOptions): Promise<GatewayAnswer> {
  const timeoutMs = options.timeoutMs ?? 1500;
  const started = Date.now();
  const ms = () => Date.now() - started;
  return new Promise<GatewayAnswer>((resolve) => {
    let settled = false;
    let socket: net.Socket | tls.TLSSocket = net.connect({ host: options.address, port: options.port ?? PASSTHROUGH_PORT });
    const finish = (answer: GatewayAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    let timer = setTimeout(() => finish({ answer: 'unreachable', detail: `no TCP connection within ${timeoutMs} ms`, ms: ms() }), timeoutMs);
    socket.once('error', (error: NodeJS.ErrnoException) => finish({ answer: 'unreachable', detail: error.code ?? error.message, ms: ms() }));
    socket.once('connect', () => {
      clearTimeout(timer);
      const raw = socket;
      raw.removeAllListeners('error');
      raw.on('error', () => undefined);
      const secure = tls.connect({ socket: raw as net.Socket, servername: options.sni, ALPNProtocols: ISTIO_ALPN, rejectUnauthorized: false });
      socket = secure;
      // A gateway that holds the connection open without answering has passed it on to something that
      // does not speak first: not a sidecar, so not a route a peer can use either.
      timer = setTimeout(() => finish({ answer: 'refuses', detail: `no TLS answer within ${timeoutMs} ms`, ms: ms() }), timeoutMs);
      // Only a workload's sidecar answers with a SPIFFE identity: a gateway that ended TLS itself (or
      // anything else that answered) does not route the name to a peer's sidecar.
      const identity = () => {
        try {
          const san = secure.getPeerCertificate()?.subjectaltname;
          return san?.split(/,\s*/).find((s) => s.startsWith('URI:spiffe://'))?.slice(4);
        } catch {
          return undefined;
        }
      };
      const answered = (how: string) => {
        const id = identity();
        finish(id ? { answer: 'passes', identity: id, ms: ms() } : { answer: 'refuses', detail: `${how} without a workload's SPIFFE identity`, ms: ms() });
      };
      secure.once('secureConnect', () => answered('a TLS answer'));
      secure.on('error', (error: NodeJS.ErrnoException) => {
        // A TLS alert after the server's certificate (a sidecar refusing us for want of a client certificate).
        if (typeof error.code === 'string' && error.code.startsWith('ERR_SSL_')) return answered(`a TLS alert (${error.code})`);
        finish({ answer: 'refuses', detail: `closed without a TLS answer (${error.code ?? error.message})`, ms: ms() });
      });
      secure.once('close', () => finish({ answer: 'refuses', detail: 'closed without a TLS answer', ms: ms() }));
    });
  });
}
