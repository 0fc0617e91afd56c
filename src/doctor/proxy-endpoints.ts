// What a client proxy holds for each name that leaves its cluster: Envoy's admin `/clusters?format=json`
// (read through port-forward, as `istioctl proxy-config endpoints` shows it) reduced to, per Envoy cluster,
// how many endpoints it has and how many of them it would send a request to. Pure: parsing and judging.

export interface EndpointHealth {
  /** Endpoints the proxy holds for the Envoy cluster. */
  total: number;
  /** Endpoints it would send a request to (not ejected, not failing a health check, EDS healthy). */
  healthy: number;
  /** Why the others are not (Envoy's flags: failed_outlier_check, eds_health_status …), counted. */
  reasons: Record<string, number>;
}

interface HostStatus {
  health_status?: { eds_health_status?: string; failed_outlier_check?: boolean; failed_active_health_check?: boolean; failed_active_degraded_check?: boolean; pending_dynamic_removal?: boolean; excluded_via_immediate_hc_fail?: boolean };
}

interface ClustersJson {
  cluster_statuses?: { name?: string; host_statuses?: HostStatus[] }[];
}

/** Envoy's /clusters?format=json, reduced to the clusters `wanted` (all when undefined); undefined when it is not that document. */
export function parseClusterHealth(body: string, wanted?: ReadonlySet<string>): Map<string, EndpointHealth> | undefined {
  let parsed: ClustersJson;
  try {
    parsed = JSON.parse(body) as ClustersJson;
  } catch {
    return undefined;
  }
  if (!parsed || !Array.isArray(parsed.cluster_statuses)) return undefined;
  const out = new Map<string, EndpointHealth>();
  for (const status of parsed.cluster_statuses) {
    if (!status.name || (wanted && !wanted.has(status.name))) continue;
    const health: EndpointHealth = { total: 0, healthy: 0, reasons: {} };
    for (const host of status.host_statuses ?? []) {
      health.total++;
      const h = host.health_status ?? {};
      const eds = h.eds_health_status ?? 'HEALTHY';
      const reasons = [
        ...(h.failed_outlier_check ? ['ejected by outlier detection'] : []),
        ...(h.failed_active_health_check ? ['failing its active health check'] : []),
        ...(h.pending_dynamic_removal ? ['being removed'] : []),
        ...(eds !== 'HEALTHY' && eds !== 'UNKNOWN' ? [`${eds.toLowerCase()} in EDS`] : []),
      ];
      if (reasons.length === 0) health.healthy++;
      for (const r of reasons) health.reasons[r] = (health.reasons[r] ?? 0) + 1;
    }
    out.set(status.name, health);
  }
  return out;
}

/** The Envoy cluster a sidecar holds for a host and port (Istio's outbound naming). */
export const outboundCluster = (host: string, port: number) => `outbound|${port}||${host}`;
