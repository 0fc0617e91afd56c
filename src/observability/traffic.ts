// The cross-cluster traffic matrix, from Envoy's own per-cluster statistics in each cluster's
// Prometheus (so it works with istio-proxy and upstream Envoy alike; Istio's istio_requests_total is
// not needed). Pure: the queries to run, and the report built from their answers.
//
// - From a cluster's workloads to another cluster: the sidecars' outbound clusters of the names that
//   belong to that cluster (<svc>.<cluster>.<hostSuffix>): requests, 5xx share, p50/p99, connections, bytes.
//   Names that span clusters (<svc>.<ns>.svc.clusterset.local, endpoint discovery) cannot be split by
//   destination from these statistics; what arrives through a gateway is counted there.
// - At each east-west gateway: what came in from other clusters (SNI passthrough is TCP: connections
//   and bytes per service).
// - The observability stack's own cross-cluster traffic (Prometheus federation) is reported apart.
import type { MeshSpec } from '../spec/schema.ts';
import { prometheusLocation } from '../render/observability.ts';

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** The instant queries run against one cluster's Prometheus, on that cluster's own series. */
export function trafficQueries(cluster: string, windowSeconds: number): Record<QueryName, string> {
  const w = `${windowSeconds}s`;
  const sidecar = `cluster="${cluster}",istio!="eastwestgateway",cluster_name=~"outbound\\\\|.+"`;
  const gateway = `cluster="${cluster}",istio="eastwestgateway",cluster_name=~"outbound_\\\\..+"`;
  return {
    requests: `sum by (cluster_name) (envoy_cluster_upstream_rq_total{${sidecar}})`,
    requestRate: `sum by (cluster_name) (rate(envoy_cluster_upstream_rq_total{${sidecar}}[${w}]))`,
    errorRate: `sum by (cluster_name) (rate(envoy_cluster_upstream_rq{${sidecar},response_code_class="5xx"}[${w}]))`,
    p50: `histogram_quantile(0.5, sum by (cluster_name, le) (rate(envoy_cluster_upstream_rq_time_bucket{${sidecar}}[${w}])))`,
    p99: `histogram_quantile(0.99, sum by (cluster_name, le) (rate(envoy_cluster_upstream_rq_time_bucket{${sidecar}}[${w}])))`,
    connections: `sum by (cluster_name) (envoy_cluster_upstream_cx_total{${sidecar}})`,
    bytesSent: `sum by (cluster_name) (envoy_cluster_upstream_cx_tx_bytes_total{${sidecar}})`,
    bytesReceived: `sum by (cluster_name) (envoy_cluster_upstream_cx_rx_bytes_total{${sidecar}})`,
    gatewayConnections: `sum by (cluster_name) (envoy_cluster_upstream_cx_total{${gateway}})`,
    gatewayConnectionRate: `sum by (cluster_name) (rate(envoy_cluster_upstream_cx_total{${gateway}}[${w}]))`,
    gatewayBytesIn: `sum by (cluster_name) (envoy_cluster_upstream_cx_tx_bytes_total{${gateway}})`,
    gatewayBytesOut: `sum by (cluster_name) (envoy_cluster_upstream_cx_rx_bytes_total{${gateway}})`,
  };
}

export type QueryName = 'requests' | 'requestRate' | 'errorRate' | 'p50' | 'p99' | 'connections' | 'bytesSent' | 'bytesReceived' | 'gatewayConnections' | 'gatewayConnectionRate' | 'gatewayBytesIn' | 'gatewayBytesOut';
export type ClusterAnswers = Record<QueryName, Sample[]>;

export interface Flow {
  from: string;
  to: string;
  /** Requests since the proxies started (sum of their counters). */
  requests: number;
  requestsPerSecond: number;
  /** Share of 5xx answers over the window; null without requests. */
  errorShare: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  connections: number;
  bytesSent: number;
  bytesReceived: number;
  /** The names that carried it. */
  hosts: string[];
}

export interface GatewayIntake {
  cluster: string;
  /** Connections the gateway opened to local services for other clusters (since it started). */
  connections: number;
  connectionsPerSecond: number;
  bytesIn: number;
  bytesOut: number;
  services: { service: string; port: number; connections: number }[];
}

export interface TrafficReport {
  windowSeconds: number;
  /** Every ordered pair of distinct clusters whose Prometheus answered (zeros when nothing flows). */
  flows: Flow[];
  gateways: GatewayIntake[];
  /** Prometheus federation through the gateways: the observability stack's own cross-cluster traffic. */
  federation: Flow[];
}

/** outbound|<port>|<subset>|<host> → host; outbound_.<port>_._.<host> → port and host. */
export const sidecarHost = (clusterName: string) => /^outbound\|\d+\|[^|]*\|(.+)$/.exec(clusterName)?.[1];
export function gatewayTarget(clusterName: string): { port: number; host: string } | undefined {
  const m = /^outbound_\.(\d+)_\.[^.]*_\.(.+)$/.exec(clusterName);
  return m ? { port: Number(m[1]), host: m[2]! } : undefined;
}

/** The cluster a name belongs to: <svc>.<cluster>.<hostSuffix> for a cluster of the spec. */
export function destinationCluster(spec: MeshSpec, host: string): string | undefined {
  const suffix = `.${spec.federation.hostSuffix}`;
  if (!host.endsWith(suffix)) return undefined;
  const parts = host.slice(0, -suffix.length).split('.');
  if (parts.length !== 2) return undefined;
  return spec.clusters.some((c) => c.name === parts[1]) ? parts[1] : undefined;
}

const byName = (samples: Sample[] | undefined) => {
  const map = new Map<string, number>();
  for (const s of samples ?? []) if (s.labels.cluster_name !== undefined && Number.isFinite(s.value)) map.set(s.labels.cluster_name, s.value);
  return map;
};

export function buildTrafficReport(spec: MeshSpec, answers: ReadonlyMap<string, ClusterAnswers>, windowSeconds: number): TrafficReport {
  const location = prometheusLocation(spec);
  const prometheus = location.service;
  const ownHostPrefix = `${location.service}.${location.namespace}.`;
  const flows: Flow[] = [];
  const federation: Flow[] = [];
  const gateways: GatewayIntake[] = [];
  const names = spec.clusters.map((c) => c.name).sort();
  for (const from of names) {
    const a = answers.get(from);
    if (!a) continue;
    const m = Object.fromEntries(Object.entries(a).map(([k, v]) => [k, byName(v)])) as Record<QueryName, Map<string, number>>;
    for (const to of names.filter((n) => n !== from)) {
      for (const own of [false, true]) {
        const clusterNames = [...m.requests.keys(), ...m.connections.keys()].filter((n, i, all) => all.indexOf(n) === i).filter((n) => {
          const host = sidecarHost(n);
          return host !== undefined && destinationCluster(spec, host) === to && host.startsWith(`${prometheus}.`) === own;
        }).sort();
        const sum = (q: QueryName) => clusterNames.reduce((t, n) => t + (m[q].get(n) ?? 0), 0);
        const rate = sum('requestRate');
        // A quantile over several names: the slowest name's (an upper bound, never an average of quantiles).
        const worst = (q: 'p50' | 'p99') => {
          const values = clusterNames.map((n) => m[q].get(n)).filter((v): v is number => v !== undefined && Number.isFinite(v));
          return values.length ? Math.max(...values) : null;
        };
        const flow: Flow = {
          from, to,
          requests: sum('requests'),
          requestsPerSecond: rate,
          errorShare: rate > 0 ? sum('errorRate') / rate : null,
          p50Ms: rate > 0 ? worst('p50') : null,
          p99Ms: rate > 0 ? worst('p99') : null,
          connections: sum('connections'),
          bytesSent: sum('bytesSent'),
          bytesReceived: sum('bytesReceived'),
          hosts: clusterNames.map((n) => sidecarHost(n)!).filter((h, i, all) => all.indexOf(h) === i),
        };
        (own ? federation : flows).push(flow);
      }
    }
    // What came in for local services; Prometheus's own federation traffic is left out.
    const intake = [...m.gatewayConnections.keys()].flatMap((name) => {
      const target = gatewayTarget(name);
      return target && !target.host.startsWith(ownHostPrefix) ? [{ name, ...target }] : [];
    });
    const sum = (q: QueryName) => intake.reduce((t, i) => t + (m[q].get(i.name) ?? 0), 0);
    gateways.push({
      cluster: from,
      connections: sum('gatewayConnections'),
      connectionsPerSecond: sum('gatewayConnectionRate'),
      bytesIn: sum('gatewayBytesIn'),
      bytesOut: sum('gatewayBytesOut'),
      services: intake.map((i) => ({ service: i.host, port: i.port, connections: m.gatewayConnections.get(i.name)! })).sort((x, y) => x.service.localeCompare(y.service) || x.port - y.port),
    });
  }
  return { windowSeconds, flows, gateways, federation };
}
