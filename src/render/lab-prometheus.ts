// The lab's Prometheus: Istio's own addon manifest (samples/addons/prometheus.yaml of the pinned
// istio.io/istio module, a rendered community chart) made to run on the lab's Prometheus image and to
// serve the multi-cluster view. Pure: the caller reads the upstream objects (see sources/upstream-sources).
//
// What changes from upstream, and why:
// - the server runs the lab's image (built from github.com/prometheus/prometheus), never pulled; the
//   config-reloader container goes (its image cannot be had offline): a change of the configuration
//   rolls the pod instead (a hash in the pod template);
// - Prometheus 3 dropped the console flags the manifest still passes;
// - the pod joins the mesh (the addon opts out): the other clusters scrape it through their east-west
//   gateways with mTLS, and it scrapes theirs the same way;
// - scrape jobs: the pods job (istiod, sidecars and gateways, by their prometheus.io annotations) and
//   Prometheus itself; node, cAdvisor, API-server and service-probe jobs are left out (2 lab cores);
// - every series carries cluster=<name> (a target label, so local queries see it too, and an external
//   label for federation); one federation job per other cluster pulls its Istio and Envoy series.
import { PROMETHEUS_CONFIG_HASH_ANNOTATION } from '../core/vocabulary.ts';
import { podInjectionLabels } from './revision.ts';
import { createHash } from 'node:crypto';
import { parse, stringify } from 'yaml';
import type { KubeObject } from '../k8s/object.ts';
import { IMAGES } from '../sources/lab-images.ts';
import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';
import { federationJobs, PROMETHEUS_PORT, prometheusLocation } from './observability.ts';
import { addonError, addonObject, asList, asObj, markFromAddon, withoutChartLabels, type Addon } from './upstream-addon.ts';

const PROMETHEUS_ADDON: Addon = { name: 'prometheus', renderer: 'src/render/lab-prometheus.ts', chartLabels: ['helm.sh/chart', 'app.kubernetes.io/version'] };

const KEPT_JOBS = ['kubernetes-pods', 'prometheus'];
export const LAB_PROMETHEUS_DEPLOYMENT = 'prometheus';

/** Seconds of a Prometheus duration such as 500ms, 15s, 1m (NaN when it is none). */
export function durationSeconds(duration: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(duration);
  if (!m) return NaN;
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

/** The upstream prometheus.yml with the lab's jobs, interval, cluster label and federation. */
export function labPrometheusConfig(spec: MeshSpec, cluster: ClusterSpec, upstreamYaml: string): string {
  const config = asObj(parse(upstreamYaml));
  const interval = spec.observability.scrapeInterval;
  // A scrape may not outlast the interval (Prometheus refuses such a configuration).
  const timeout = durationSeconds(interval) < durationSeconds(String(asObj(config.global).scrape_timeout ?? '10s')) ? interval : asObj(config.global).scrape_timeout;
  config.global = { ...asObj(config.global), scrape_interval: interval, scrape_timeout: timeout, evaluation_interval: interval, external_labels: { cluster: cluster.name } };
  const clusterLabel = { target_label: 'cluster', replacement: cluster.name };
  const jobs = asList(config.scrape_configs).filter((j) => KEPT_JOBS.includes(String(j.job_name)));
  for (const name of KEPT_JOBS) {
    if (!jobs.some((j) => j.job_name === name)) throw addonError(PROMETHEUS_ADDON, `Istio's addon Prometheus config has no ${name} job`);
  }
  for (const job of jobs) job.relabel_configs = [...asList(job.relabel_configs), { ...clusterLabel }];
  config.scrape_configs = [...jobs, ...federationJobs(spec, cluster, { upJob: 'kubernetes-pods', extra: { scrape_timeout: interval } })];
  return stringify(config, { lineWidth: 0, aliasDuplicateObjects: false });
}

export function labPrometheusObjects(spec: MeshSpec, cluster: ClusterSpec, upstream: KubeObject[]): KubeObject[] {
  const location = prometheusLocation(spec);
  const configMap = addonObject(PROMETHEUS_ADDON, upstream, 'ConfigMap');
  const data = asObj(configMap.data);
  if (typeof data['prometheus.yml'] !== 'string') throw addonError(PROMETHEUS_ADDON, 'Istio\'s addon ConfigMap prometheus has no prometheus.yml');
  const config = labPrometheusConfig(spec, cluster, data['prometheus.yml']);
  configMap.data = { ...data, 'prometheus.yml': config };

  const deployment = addonObject(PROMETHEUS_ADDON, upstream, 'Deployment');
  const template = asObj(asObj(deployment.spec).template);
  const metadata = asObj(template.metadata);
  const podSpec = asObj(template.spec);
  const containers = asList(podSpec.containers);
  const server = containers.find((c) => asList(c.ports).some((p) => p.containerPort === PROMETHEUS_PORT));
  if (!server) throw addonError(PROMETHEUS_ADDON, 'Istio\'s addon Deployment has no container serving 9090');
  server.image = IMAGES.prometheus;
  server.imagePullPolicy = 'Never';
  server.args = asList(server.args as unknown)
    .map(String)
    .filter((a) => !a.startsWith('--web.console.'))
    .map((a) => (a.startsWith('--storage.tsdb.retention.time=') ? `--storage.tsdb.retention.time=${spec.observability.retention}` : a));
  server.resources = { requests: { cpu: '50m', memory: '128Mi' } };
  podSpec.containers = [server];
  podSpec.terminationGracePeriodSeconds = 30;
  podSpec.securityContext = { runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true, fsGroup: 65534 };
  metadata.labels = { ...withoutChartLabels(PROMETHEUS_ADDON, metadata.labels), ...podInjectionLabels(spec) };
  metadata.annotations = {
    ...asObj(metadata.annotations),
    [PROMETHEUS_CONFIG_HASH_ANNOTATION]: createHash('sha256').update(config).digest('hex').slice(0, 16),
    // Only the server's port goes through the sidecar inbound; the scrapes go out through it.
    'traffic.sidecar.istio.io/includeInboundPorts': String(PROMETHEUS_PORT),
  };
  template.metadata = metadata;

  const object = (kind: string) => addonObject(PROMETHEUS_ADDON, upstream, kind);
  return markFromAddon(PROMETHEUS_ADDON, [object('ServiceAccount'), configMap, object('ClusterRole'), object('ClusterRoleBinding'), object('Service'), deployment], location.namespace);
}
