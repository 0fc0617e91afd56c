// A failure while talking to a cluster, classified where it happens — by the error's type and code,
// never by its message text — into an EastwestError with exit code 3 and its own hint.
import { EastwestError, EXIT } from '../core/errors.ts';

export type ClusterFailureKind = 'timeout' | 'unreachable' | 'unauthorized' | 'forbidden' | 'api';

export class ClusterError extends EastwestError {
  readonly kind: ClusterFailureKind;
  readonly cluster: string;
  constructor(cluster: string, kind: ClusterFailureKind, message: string, hint: string, cause?: unknown) {
    super(`cluster-${kind}`, message, { exitCode: EXIT.clusterError, hint, cause });
    this.name = 'ClusterError';
    this.kind = kind;
    this.cluster = cluster;
  }
  /** Timeouts and refused connections mean the cluster could not be reached at all. */
  get unreachable(): boolean {
    return this.kind === 'timeout' || this.kind === 'unreachable';
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EPIPE', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'EPROTO', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);

function errnoOf(error: unknown): string | undefined {
  for (let e: unknown = error, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: unknown; errno?: unknown }).code ?? (e as { errno?: unknown }).errno;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function isAbort(error: unknown): boolean {
  for (let e: unknown = error, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    const name = (e as { name?: unknown }).name;
    const type = (e as { type?: unknown }).type;
    if (name === 'AbortError' || name === 'TimeoutError' || type === 'aborted') return true;
  }
  return false;
}

/** The HTTP status of an API error (client-node's ApiException carries it as a number `code`). */
export function httpStatusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown; statusCode?: unknown }).code ?? (error as { statusCode?: unknown }).statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** Turns whatever a request to `cluster` threw into a ClusterError (EastwestErrors pass through). */
export function clusterError(cluster: string, error: unknown, requestTimeoutSeconds: number, doing = 'request'): EastwestError {
  if (EastwestError.is(error)) return error;
  if (isAbort(error)) {
    return new ClusterError(cluster, 'timeout', `unreachable (timeout after ${requestTimeoutSeconds} s) during ${doing}`, 'is the API server up and answering? raise --request-timeout for a slow link, or leave the cluster out with --clusters', error);
  }
  const errno = errnoOf(error);
  if (errno && NETWORK_CODES.has(errno)) {
    return new ClusterError(cluster, 'unreachable', `unreachable (${errno}) during ${doing}`, 'is the cluster up and its API server reachable from here? (check the kubeconfig\'s server address)', error);
  }
  const status = httpStatusOf(error);
  if (status === 401) return new ClusterError(cluster, 'unauthorized', `the API server refused the credentials (401) during ${doing}`, 'the kubeconfig\'s token or certificate is expired or wrong: refresh the credentials of this context', error);
  if (status === 403) return new ClusterError(cluster, 'forbidden', `forbidden (403) during ${doing}`, 'use a context bound to cluster-admin', error);
  const body = (error as { body?: unknown }).body;
  const detail = typeof body === 'string' ? safeStatusMessage(body) : undefined;
  return new ClusterError(cluster, 'api', `${doing} failed${status ? ` (HTTP ${status})` : ''}: ${detail ?? (error as Error)?.message?.split('\n')[0] ?? String(error)}`, 'the API server\'s message is above', error);
}

/** The `message` of a Kubernetes Status body; never the whole body (it may echo the object sent). */
function safeStatusMessage(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message.slice(0, 500) : undefined;
  } catch {
    return undefined;
  }
}
