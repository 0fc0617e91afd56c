// What istiod says about the proxies connected to it (its /debug/syncz, read through port-forward to its
// debug port, as `istioctl proxy-status` shows it): per proxy and per xDS type, the last config sent,
// the last acknowledged, and the last rejection. Pure: parsing and judging; snapshot.ts reads it.

/** One xDS type of one proxy. */
export interface XdsTypeSync {
  /** The short type name: clusters, listeners, routes, endpoints, secrets, … */
  type: string;
  sent?: string;
  acked?: string;
  /** When istiod last sent this type (ISO time). */
  sentAt?: string;
  /** Envoy's rejection of the last config of this type (a NACK), when there is one. */
  error?: string;
}

export interface ProxySync {
  /** The pod's name and namespace (istiod's proxy id is `<pod>.<namespace>`). */
  pod: string;
  namespace: string;
  kind: string;
  version?: string;
  types: XdsTypeSync[];
  /** The revision of the istiod it is connected to (`default` for the one without), when known. */
  istiodRevision?: string;
}

interface SyncStatusJson {
  proxy?: string;
  proxy_type?: string;
  istio_version?: string;
  resources?: Record<string, { sent?: string; acked?: string; sentTime?: string; lastError?: string }>;
}

const SHORT: Record<string, string> = {
  'envoy.config.cluster.v3.Cluster': 'clusters',
  'envoy.config.listener.v3.Listener': 'listeners',
  'envoy.config.route.v3.RouteConfiguration': 'routes',
  'envoy.config.endpoint.v3.ClusterLoadAssignment': 'endpoints',
  'envoy.extensions.transport_sockets.tls.v3.Secret': 'secrets',
  'envoy.config.core.v3.TypedExtensionConfig': 'extension configs',
  'istio.networking.nds.v1.NameTable': 'DNS names',
};
const shortType = (url: string) => SHORT[url.replace(/^type\.googleapis\.com\//, '')] ?? url.replace(/^.*\//, '');

/** istiod's /debug/syncz answer as proxies; undefined when it is not that. */
export function parseSyncz(body: string): ProxySync[] | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!Array.isArray(json)) return undefined;
  return (json as SyncStatusJson[]).filter((s) => typeof s.proxy === 'string').map((s) => {
    const dot = s.proxy!.lastIndexOf('.');
    return {
      pod: dot > 0 ? s.proxy!.slice(0, dot) : s.proxy!,
      namespace: dot > 0 ? s.proxy!.slice(dot + 1) : '',
      kind: s.proxy_type ?? 'sidecar',
      ...(s.istio_version ? { version: s.istio_version } : {}),
      types: Object.entries(s.resources ?? {}).map(([url, r]) => ({
        type: shortType(url),
        ...(r.sent ? { sent: r.sent } : {}),
        ...(r.acked ? { acked: r.acked } : {}),
        ...(r.sentTime && !r.sentTime.startsWith('0001-') ? { sentAt: r.sentTime } : {}),
        ...(r.lastError ? { error: r.lastError.replace(/\s+/g, ' ').trim() } : {}),
      })).sort((a, b) => a.type.localeCompare(b.type)),
    };
  });
}

/** How long a config may stay unacknowledged before it counts as stuck (a push in flight is normal). */
export const STALE_AFTER_SECONDS = 30;

export interface SyncProblem {
  pod: string;
  namespace: string;
  type: string;
  kind: 'rejected' | 'stale';
  detail: string;
}

/** Rejected configs (the proxy runs on the previous one) and configs left unacknowledged too long. */
export function syncProblems(proxies: readonly ProxySync[], now: number): SyncProblem[] {
  const problems: SyncProblem[] = [];
  for (const p of proxies) {
    for (const t of p.types) {
      if (t.error) problems.push({ pod: p.pod, namespace: p.namespace, type: t.type, kind: 'rejected', detail: t.error });
      else if (t.sent && t.sent !== t.acked && t.sentAt) {
        const seconds = Math.round((now - Date.parse(t.sentAt)) / 1000);
        if (seconds >= STALE_AFTER_SECONDS) problems.push({ pod: p.pod, namespace: p.namespace, type: t.type, kind: 'stale', detail: `sent ${seconds} s ago, not acknowledged` });
      }
    }
  }
  return problems;
}
