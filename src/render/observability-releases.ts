// Real clusters (profile standard): the guide's observability releases, per cluster, with its pitfalls
// fixed (shared/notes/observability.md):
// - kube-prometheus-stack in spec.observability.namespace: series labelled cluster=<name> (a target label,
//   so local queries see it, and an external label); Istio scraped (a PodMonitor for every proxy's merged
//   metrics on 15020, a ServiceMonitor for istiod on 15014) and selectors that find monitors of any
//   release; Prometheus in the mesh for the other clusters (federation through the east-west gateways);
//   Grafana with Istio's dashboards (ConfigMaps for its sidecar) and an admin password apply generates
//   and keeps in a Secret; Service types from the spec (ClusterIP unless asked).
// - kiali-server (release `kiali`, as in the guide) in istio-system: deployment.service_type (the guide's
//   service.type does not exist), Prometheus and Grafana where kube-prometheus-stack serves them, the
//   cluster's name and trust domain, view-only, the other clusters from labelled Secrets made before it.
import { PROXY_CONFIG_ANNOTATION, UPSTREAM_ANNOTATION } from '../core/vocabulary.ts';
import { podInjectionLabels } from './revision.ts';
import type { KubeObject } from '../k8s/object.ts';
import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';
import { OBSERVABILITY_CHART_REPOS } from '../spec/schema.ts';
import { deepMerge } from '../util/deep-merge.ts';
import type { ChartRef, HelmRelease } from './helm-releases.ts';

import { KIALI_SECRETS_DIR, kialiRemoteSecretName } from './lab-kiali.ts';
import { federationJobs, KIALI_NAMESPACE, KIALI_RELEASE, KUBE_PROMETHEUS_STACK_RELEASE, peerNames, PROMETHEUS_PORT, prometheusInClusterUrl } from './observability.ts';

export const GRAFANA_ADMIN_SECRET = 'eastwest-grafana-admin';
export const GRAFANA_DASHBOARD_LABEL = 'grafana_dashboard';

function chartOf(name: 'kube-prometheus-stack' | 'kiali-server', source: { repo?: string | undefined; oci?: string | undefined; directory?: string | undefined; version: string }, defaultRepo: string): ChartRef {
  if (source.directory !== undefined) return { name, path: source.directory, version: source.version };
  if (source.oci !== undefined) return { name, oci: `${source.oci.replace(/\/$/, '')}/${name}`, version: source.version };
  return { name, repo: source.repo ?? defaultRepo, version: source.version };
}

/** Both Istio monitors, each series labelled with its cluster. */
function istioMonitors(spec: MeshSpec, cluster: ClusterSpec) {
  const clusterLabel = { targetLabel: 'cluster', replacement: cluster.name, action: 'replace' };
  return {
    additionalPodMonitors: [
      {
        name: 'istio-proxies',
        // Every pod with an Istio proxy (sidecars and gateways alike), in every namespace.
        namespaceSelector: { any: true },
        selector: { matchExpressions: [{ key: 'istio-prometheus-ignore', operator: 'DoesNotExist' }] },
        podMetricsEndpoints: [
          {
            path: '/stats/prometheus',
            interval: spec.observability.scrapeInterval,
            relabelings: [
              { action: 'keep', sourceLabels: ['__meta_kubernetes_pod_container_name'], regex: 'istio-proxy' },
              { action: 'keep', sourceLabels: ['__meta_kubernetes_pod_annotationpresent_prometheus_io_scrape'], regex: 'true' },
              { action: 'replace', sourceLabels: ['__meta_kubernetes_pod_ip'], regex: '(\\d+\\.\\d+\\.\\d+\\.\\d+)', replacement: '$1:15020', targetLabel: '__address__' },
              { action: 'replace', sourceLabels: ['__meta_kubernetes_pod_ip'], regex: '([0-9A-Fa-f:]*:[0-9A-Fa-f:]*)', replacement: '[$1]:15020', targetLabel: '__address__' },
              { action: 'labelmap', regex: '__meta_kubernetes_pod_label_(app|istio|security_istio_io_tlsMode|service_istio_io_canonical_name)' },
              { sourceLabels: ['__meta_kubernetes_namespace'], targetLabel: 'namespace', action: 'replace' },
              { sourceLabels: ['__meta_kubernetes_pod_name'], targetLabel: 'pod', action: 'replace' },
              clusterLabel,
            ],
          },
        ],
      },
    ],
    additionalServiceMonitors: [
      {
        name: 'istiod',
        namespaceSelector: { matchNames: ['istio-system'] },
        selector: { matchLabels: { app: 'istiod' } },
        endpoints: [{ port: 'http-monitoring', interval: spec.observability.scrapeInterval, relabelings: [clusterLabel] }],
      },
    ],
  };
}

export function kubePrometheusStackValues(spec: MeshSpec, cluster: ClusterSpec): Record<string, unknown> {
  const o = spec.observability;
  const service = { type: o.serviceType };
  return {
    // Stable names for the operator's objects: <fullname>-prometheus (Grafana's Service is <release>-grafana).
    fullnameOverride: KUBE_PROMETHEUS_STACK_RELEASE,
    prometheus: {
      service,
      ...istioMonitors(spec, cluster),
      prometheusSpec: {
        externalLabels: { cluster: cluster.name },
        scrapeInterval: o.scrapeInterval,
        retention: o.retention,
        // Monitors of any release are selected (the chart's default picks only its own release's).
        podMonitorSelectorNilUsesHelmValues: false,
        serviceMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        probeSelectorNilUsesHelmValues: false,
        // Prometheus alone joins the mesh (the namespace is not injected): the other clusters reach it
        // through their east-west gateways with mTLS, and it reaches theirs.
        podMetadata: {
          labels: podInjectionLabels(spec),
          annotations: { 'traffic.sidecar.istio.io/includeInboundPorts': String(PROMETHEUS_PORT), [PROXY_CONFIG_ANNOTATION]: '{ "holdApplicationUntilProxyStarts": true }' },
        },
        additionalScrapeConfigs: federationJobs(spec, cluster),
      },
    },
    alertmanager: { service },
    grafana: o.grafana
      ? {
          enabled: true,
          service,
          // The chart's well-known default password is never used: apply generates one, kept in this Secret.
          admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: 'admin-user', passwordKey: 'admin-password' },
          sidecar: { dashboards: { enabled: true, label: GRAFANA_DASHBOARD_LABEL, labelValue: '1', searchNamespace: 'ALL', folderAnnotation: 'grafana_folder', provider: { foldersFromFilesStructure: true } } },
        }
      : { enabled: false },
  };
}

export function kialiValues(spec: MeshSpec, cluster: ClusterSpec): Record<string, unknown> {
  const o = spec.observability;
  return {
    auth: { strategy: o.kialiAuth },
    deployment: {
      // The guide's --set service.type is not a value of this chart (Helm ignores it without a word).
      service_type: o.serviceType,
      view_only_mode: true,
      cluster_wide_access: true,
      // Each peer's Secret (made by apply) mounted where Kiali reads them, optional: a peer that could not
      // be read yet leaves the pod starting, and the values change with the set of peers, so the
      // release is upgraded when a cluster joins or leaves.
      custom_secrets: peerNames(spec, cluster).map((peer) => ({ name: kialiRemoteSecretName(peer), mount: `${KIALI_SECRETS_DIR}/${kialiRemoteSecretName(peer)}`, optional: true })),
    },
    kubernetes_config: { cluster_name: cluster.name },
    external_services: {
      prometheus: { url: prometheusInClusterUrl(spec) },
      grafana: o.grafana
        ? { enabled: true, internal_url: `http://${KUBE_PROMETHEUS_STACK_RELEASE}-grafana.${o.namespace}:80` }
        : { enabled: false },
      istio: { root_namespace: KIALI_NAMESPACE, istio_identity_domain: `svc.${spec.trustDomain}` },
      tracing: { enabled: false },
    },
    // The chart's own discovery (a lookup at install time, mounted as required volumes) would miss a peer
    // added later and break the pod when one is removed: the peers are listed above instead.
    clustering: { autodetect_secrets: { enabled: false } },
  };
}

export function observabilityReleases(spec: MeshSpec, cluster: ClusterSpec): HelmRelease[] {
  const o = spec.observability;
  if (spec.profile === 'lab' || !o.prometheus) return [];
  const releases: HelmRelease[] = [{
    release: KUBE_PROMETHEUS_STACK_RELEASE,
    namespace: o.namespace,
    chart: chartOf('kube-prometheus-stack', o.charts.kubePrometheusStack, OBSERVABILITY_CHART_REPOS.kubePrometheusStack),
    values: deepMerge(kubePrometheusStackValues(spec, cluster), spec.helmValues.kubePrometheusStack),
  }];
  if (o.kiali) {
    releases.push({
      release: KIALI_RELEASE,
      namespace: KIALI_NAMESPACE,
      chart: chartOf('kiali-server', o.charts.kiali, OBSERVABILITY_CHART_REPOS.kiali),
      values: deepMerge(kialiValues(spec, cluster), spec.helmValues.kiali),
    });
  }
  return releases;
}

/** Istio's dashboards as ConfigMaps Grafana's sidecar loads (label grafana_dashboard=1). */
export function dashboardConfigMaps(spec: MeshSpec, dashboards: ReadonlyMap<string, string>): KubeObject[] {
  if (spec.profile === 'lab' || !spec.observability.grafana) return [];
  return [...dashboards.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([file, json]) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: `istio-dashboard-${file.replace(/(\.gen)?\.json$/, '').replace(/[^a-z0-9-]/g, '-')}`,
      namespace: spec.observability.namespace,
      labels: { [GRAFANA_DASHBOARD_LABEL]: '1' },
      annotations: { grafana_folder: 'Istio', [UPSTREAM_ANNOTATION]: `istio.io/istio manifests/addons/dashboards/${file}` },
    },
    data: { [file.replace(/\.gen\.json$/, '.json')]: json },
  }));
}

/** The namespace kube-prometheus-stack lives in: no injection label (only Prometheus opts in, by pod label). */
export function observabilityNamespace(spec: MeshSpec): KubeObject[] {
  if (spec.profile === 'lab' || !spec.observability.prometheus) return [];
  return [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: spec.observability.namespace } }];
}

/** What apply and render say about an observability setup that exposes the mesh. */
export function observabilityWarnings(spec: MeshSpec): string[] {
  const o = spec.observability;
  if (!o.prometheus || o.serviceType === 'ClusterIP') return [];
  const warnings = [`observability.serviceType ${o.serviceType}: Prometheus${o.grafana ? ', Grafana' : ''} and Alertmanager${o.kiali ? ' and Kiali' : ''} get ${o.serviceType} Services; Prometheus and Alertmanager have no login of their own`];
  if (o.kiali && o.kialiAuth === 'anonymous') warnings.push(`Kiali is anonymous on a ${o.serviceType} Service: whoever reaches it sees the whole mesh (set observability.kialiAuth: token or openid)`);
  return warnings;
}
