// Observability shared by both profiles: where each cluster's Prometheus is, how the other clusters
// reach it through the mesh (a ServiceEntry <prometheus>.<cluster>.<suffix> to that cluster's east-west
// gateway, as for any exported service), who may call it, and the Istio settings that make Envoy's own
// per-cluster statistics visible (Istio's bootstrap drops them by default).
import type { KubeObject } from '../k8s/object.ts';
import type { ClusterSpec, MeshSpec, ServiceSpec } from '../spec/schema.ts';
import { serviceEntryFederation, type PendingAddress } from './federation-service-entry.ts';
import { ISTIO_NAMESPACE } from './helm-releases.ts';

export const PROMETHEUS_PORT = 9090;
/** kube-prometheus-stack's release name: its Prometheus Service is <release>-prometheus. */
export const KUBE_PROMETHEUS_STACK_RELEASE = 'kube-prometheus-stack';
/** The guide's release name for the kiali-server chart. */
export const KIALI_RELEASE = 'kiali';
/** Kiali lives with Istio (istio-system), as its chart expects. */
export const KIALI_NAMESPACE = 'istio-system';

/** Where a cluster's Prometheus runs: the lab's in istio-system as `prometheus` (Istio's addon, Kiali's default URL). */
export interface PrometheusLocation {
  namespace: string;
  service: string;
  serviceAccount: string;
  /** Pod labels that select it. */
  selector: Record<string, string>;
}

export function prometheusLocation(spec: MeshSpec): PrometheusLocation {
  if (spec.profile === 'lab') return { namespace: ISTIO_NAMESPACE, service: 'prometheus', serviceAccount: 'prometheus', selector: { 'app.kubernetes.io/name': 'prometheus', 'app.kubernetes.io/component': 'server' } };
  const release = KUBE_PROMETHEUS_STACK_RELEASE;
  return {
    namespace: spec.observability.namespace,
    service: `${release}-prometheus`,
    // The chart's Prometheus service account and pod labels (prometheus-operator sets app.kubernetes.io/name).
    serviceAccount: `${release}-prometheus`,
    selector: { 'app.kubernetes.io/name': 'prometheus', prometheus: `${release}-prometheus` },
  };
}

/** The other clusters' names, sorted. */
export const peerNames = (spec: MeshSpec, cluster: ClusterSpec) => spec.clusters.filter((c) => c.name !== cluster.name).map((c) => c.name).sort();

/**
 * One scrape job per other cluster: its Prometheus's /federate, reached through the mesh, for that
 * cluster's own Envoy, istiod and Istio series and the health of its targets (of job `upJob` only, when
 * given): never what it federated itself, so nothing echoes. `extra` settings go before the target.
 */
export function federationJobs(spec: MeshSpec, cluster: ClusterSpec, options: { upJob?: string; extra?: Record<string, unknown> } = {}): Record<string, unknown>[] {
  return peerNames(spec, cluster).map((peer) => ({
    job_name: `federate-${peer}`,
    honor_labels: true, // keep each series' own cluster label
    metrics_path: '/federate',
    params: { 'match[]': [`{__name__=~"envoy_.+|istio_.+|istiod_.+|pilot_.+",cluster="${peer}"}`, `up{${options.upJob ? `job="${options.upJob}",` : ''}cluster="${peer}"}`] },
    ...options.extra,
    static_configs: [{ targets: [`${remotePrometheusHost(spec, peer)}:${PROMETHEUS_PORT}`] }],
  }));
}

export const prometheusInClusterUrl = (spec: MeshSpec) => {
  const p = prometheusLocation(spec);
  return `http://${p.service}.${p.namespace}:${PROMETHEUS_PORT}`;
};

/** The name another cluster's Prometheus has from here: <service>.<cluster>.<hostSuffix>, through its gateway. */
export const remotePrometheusHost = (spec: MeshSpec, cluster: string) => `${prometheusLocation(spec).service}.${cluster}.${spec.federation.hostSuffix}`;

function prometheusAsService(spec: MeshSpec): ServiceSpec {
  const p = prometheusLocation(spec);
  return { name: p.service, namespace: p.namespace, serviceAccount: p.serviceAccount, ports: [{ number: PROMETHEUS_PORT, name: 'http', protocol: 'HTTP' }], clusters: spec.clusters.map((c) => c.name) };
}

/**
 * In every cluster, a ServiceEntry + DestinationRule per other cluster's Prometheus (the guide's
 * federation, in either federation mode), visible only in Prometheus's own namespace.
 */
export function prometheusFederationObjects(spec: MeshSpec, local: ClusterSpec, gatewayAddresses: ReadonlyMap<string, string>): { objects: KubeObject[]; pending: PendingAddress[] } {
  if (!spec.observability.prometheus) return { objects: [], pending: [] };
  const { objects, pending } = serviceEntryFederation({ ...spec, services: [prometheusAsService(spec)] }, local, gatewayAddresses);
  for (const object of objects) (object.spec as Record<string, unknown>).exportTo = ['.'];
  return { objects, pending };
}

/**
 * Who may call Prometheus on 9090 through its sidecar: the other clusters' Prometheus (federation) and
 * Kiali. Plain-text callers without a sidecar (Grafana, Kiali, kubectl port-forward) reach it only where
 * the profile opens the port (real clusters, see prometheusPeerAuthentication).
 */
export function prometheusAuthorization(spec: MeshSpec): KubeObject {
  const p = prometheusLocation(spec);
  const principal = (ns: string, sa: string) => `${spec.trustDomain}/ns/${ns}/sa/${sa}`;
  const principals = [principal(p.namespace, p.serviceAccount), ...(spec.observability.kiali ? [principal(KIALI_NAMESPACE, 'kiali')] : [])];
  const rules: Record<string, unknown>[] = [{ from: [{ source: { principals } }], to: [{ operation: { ports: [String(PROMETHEUS_PORT)] } }] }];
  if (spec.profile !== 'lab') rules.push({ from: [{ source: { notPrincipals: ['*'] } }], to: [{ operation: { ports: [String(PROMETHEUS_PORT)] } }] });
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'eastwest-prometheus', namespace: p.namespace },
    spec: { selector: { matchLabels: p.selector }, action: 'ALLOW', rules },
  };
}

/**
 * Real clusters: Grafana and Kiali have no sidecar and call Prometheus in plain text, so its port 9090
 * accepts both (the mesh's default stays as the spec says); the other clusters always come with mTLS
 * (an east-west gateway passes only mTLS through). The lab's callers are in the mesh: none needed.
 */
export function prometheusPeerAuthentication(spec: MeshSpec): KubeObject[] {
  if (spec.profile === 'lab' || spec.policy.mtls !== 'STRICT') return [];
  const p = prometheusLocation(spec);
  return [{
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: { name: 'eastwest-prometheus', namespace: p.namespace },
    spec: { selector: { matchLabels: p.selector }, mtls: { mode: 'STRICT' }, portLevelMtls: { [String(PROMETHEUS_PORT)]: { mode: 'PERMISSIVE' } } },
  }];
}

/**
 * The per-cluster statistics eastwest reads (requests, their codes and time, connections, bytes, healthy
 * endpoints) of outbound and inbound clusters, sidecars' (outbound|80||…) and gateways' (outbound_.80_._.…):
 * a prefix match on `cluster.outbound` alone brings ~150 statistics per cluster per proxy, which made the
 * lab's Prometheus hold 82,000 series for 18 pods.
 */
export const ENVOY_CLUSTER_STATS = 'cluster\\.(outbound|inbound)[|_].*\\.(upstream_rq_total|upstream_rq_[0-9]xx|upstream_rq_[0-9]{3}|upstream_rq_time|upstream_cx_total|upstream_cx_active|upstream_cx_(tx|rx)_bytes_total|membership_healthy)';

/**
 * istiod values for observability: Envoy's per-cluster statistics (outbound and inbound clusters, which
 * Istio's bootstrap drops by default) so requests, errors, latency, connections and bytes per
 * destination reach Prometheus with istio-proxy and upstream Envoy alike; and each cluster's Prometheus
 * kept cluster-local (in endpoint-discovery mode istiod would otherwise merge every cluster's into one).
 */
export function observabilityIstiodValues(spec: MeshSpec): Record<string, unknown> {
  if (!spec.observability.prometheus) return {};
  const p = prometheusLocation(spec);
  return {
    meshConfig: {
      defaultConfig: { proxyStatsMatcher: { inclusionRegexps: [ENVOY_CLUSTER_STATS] } },
      serviceSettings: [{ settings: { clusterLocal: true }, hosts: [`${p.service}.${p.namespace}.svc.cluster.local`] }],
    },
  };
}
