// Observability's pure parts: the real-cluster release values (every pitfall of the guide), the lab's
// Prometheus and Kiali made from Istio's real addon manifests (read from the pinned module at test time),
// the traffic matrix, the scrape-target list, and the spec's rules.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { KubeObject } from '../../src/k8s/object.ts';
import { istioAddonObjects, istioDashboards } from '../../src/sources/upstream-sources.ts';
import { buildTrafficReport, destinationCluster, gatewayTarget, sidecarHost, trafficQueries, type ClusterAnswers, type QueryName, type Sample } from '../../src/observability/traffic.ts';
import { helmReleases } from '../../src/render/helm-releases.ts';
import { kialiRemoteReaderObjects, kialiViewerRules, labKialiObjects } from '../../src/render/lab-kiali.ts';
import { releaseUpToDate } from '../../src/apply/helm.ts';
import { durationSeconds, labPrometheusConfig, labPrometheusObjects } from '../../src/render/lab-prometheus.ts';
import { ENVOY_CLUSTER_STATS, observabilityIstiodValues, prometheusAuthorization, prometheusFederationObjects, prometheusLocation, prometheusPeerAuthentication } from '../../src/render/observability.ts';
import { dashboardConfigMaps, kialiValues, kubePrometheusStackValues, observabilityNamespace, observabilityReleases, observabilityWarnings } from '../../src/render/observability-releases.ts';
import { decodeMeshSpec } from '../../src/spec/decode.ts';
import { InputError } from '../../src/core/errors.ts';
import type { MeshSpec } from '../../src/spec/schema.ts';
import { dueTargets, istioScrapeTargets, scrapeGraceMs } from '../../src/verify/observability-check.ts';

const root = join(import.meta.dirname, '../..');
const exampleText = (name: string) => readFileSync(join(root, 'examples', name), 'utf8');
const specOf = (name: string): MeshSpec => decodeMeshSpec(exampleText(name), name).document.spec;
const withObservability = (text: string, block: string) => text.replace(/ {2}observability:\n(?: {4}.*\n)+/, `  observability:\n${block}`);
const decodeProblems = (text: string): string[] => {
  try {
    decodeMeshSpec(text, 'mesh.yaml');
    return [];
  } catch (error) {
    if (error instanceof InputError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
};

let upstreamPrometheus: KubeObject[];
let upstreamKiali: KubeObject[];
beforeAll(async () => {
  upstreamPrometheus = await istioAddonObjects('prometheus');
  upstreamKiali = await istioAddonObjects('kiali');
});

describe('real clusters: the guide\'s observability pitfalls, fixed in the release values', () => {
  const spec = specOf('training-mesh.yaml');
  const us = spec.clusters.find((c) => c.name === 'us')!;
  const kps = kubePrometheusStackValues(spec, us) as any;
  const kiali = kialiValues(spec, us) as any;

  it('kiali-server gets deployment.service_type (the guide\'s service.type does not exist), ClusterIP by default', () => {
    expect(kiali.deployment.service_type).toBe('ClusterIP');
    expect(kiali.service).toBeUndefined();
  });

  it('Kiali is pointed at kube-prometheus-stack\'s Prometheus and Grafana, not http://prometheus.istio-system:9090', () => {
    expect(kiali.external_services.prometheus.url).toBe('http://kube-prometheus-stack-prometheus.observability:9090');
    expect(kiali.external_services.grafana).toEqual({ enabled: true, internal_url: 'http://kube-prometheus-stack-grafana.observability:80' });
  });

  it('Kiali knows its cluster, the trust domain (principals corp.local/…), is view-only, and mounts every peer\'s Secret (optional), listed so the release follows the set of peers', () => {
    expect(kiali.kubernetes_config.cluster_name).toBe('us');
    expect(kiali.external_services.istio.istio_identity_domain).toBe('svc.corp.local');
    expect(kiali.deployment.view_only_mode).toBe(true);
    expect(kiali.clustering.autodetect_secrets).toEqual({ enabled: false });
    expect(kiali.deployment.custom_secrets).toEqual([{ name: 'kiali-remote-cluster-eu', mount: '/kiali-remote-cluster-secrets/kiali-remote-cluster-eu', optional: true }]);
    const three = { ...spec, clusters: [...spec.clusters, { ...us, name: 'ap', context: 'ap', network: 'ap-net', region: 'ap' }] };
    expect((kialiValues(three, us) as any).deployment.custom_secrets.map((s: { name: string }) => s.name)).toEqual(['kiali-remote-cluster-ap', 'kiali-remote-cluster-eu']);
  });

  it('other clusters\' Kiali reads this one through eastwest\'s own read-only role: no secrets, no writes (port-forward aside)', () => {
    const [role, account, binding, token] = kialiRemoteReaderObjects();
    expect(role!.metadata.name).toBe('eastwest-kiali-remote-reader');
    for (const rule of role!.rules as { resources: string[]; verbs: string[] }[]) {
      expect(rule.resources).not.toContain('secrets');
      if (rule.verbs.includes('create')) expect(rule.resources).toEqual(['pods/portforward']);
      else expect(rule.verbs).toEqual(['get', 'list', 'watch']);
    }
    expect((binding as any).roleRef.name).toBe('eastwest-kiali-remote-reader');
    expect((binding as any).subjects).toEqual([{ kind: 'ServiceAccount', name: account!.metadata.name, namespace: 'istio-system' }]);
    expect(token!.type).toBe('kubernetes.io/service-account-token');
  });

  it('a release is up to date only with the same values and, from a repository or registry, the pinned chart version', () => {
    const [kpsRelease] = observabilityReleases(spec, us);
    const values = JSON.parse(JSON.stringify(kpsRelease!.values));
    expect(releaseUpToDate({ status: 'deployed', values, chartVersion: '79.5.0' }, kpsRelease!)).toBe(true);
    expect(releaseUpToDate({ status: 'deployed', values, chartVersion: '79.4.1' }, kpsRelease!)).toBe(false);
    expect(releaseUpToDate({ status: 'failed', values, chartVersion: '79.5.0' }, kpsRelease!)).toBe(false);
    const local = { ...kpsRelease!, chart: { name: 'kube-prometheus-stack' as const, path: 'charts/kps', version: '79.5.0' } };
    expect(releaseUpToDate({ status: 'deployed', values, chartVersion: '1.0.0' }, local)).toBe(true);
  });

  it('Prometheus scrapes Istio: a PodMonitor for every proxy\'s merged metrics (15020) and a ServiceMonitor for istiod (15014), each series labelled cluster', () => {
    const pod = kps.prometheus.additionalPodMonitors[0];
    expect(pod.namespaceSelector).toEqual({ any: true });
    const relabel = pod.podMetricsEndpoints[0].relabelings;
    expect(relabel).toContainEqual({ action: 'keep', sourceLabels: ['__meta_kubernetes_pod_container_name'], regex: 'istio-proxy' });
    expect(relabel).toContainEqual(expect.objectContaining({ replacement: '$1:15020', targetLabel: '__address__' }));
    expect(relabel.at(-1)).toEqual({ targetLabel: 'cluster', replacement: 'us', action: 'replace' });
    const istiod = kps.prometheus.additionalServiceMonitors[0];
    expect(istiod).toMatchObject({ namespaceSelector: { matchNames: ['istio-system'] }, selector: { matchLabels: { app: 'istiod' } }, endpoints: [{ port: 'http-monitoring' }] });
  });

  it('monitors of any release are selected (*SelectorNilUsesHelmValues=false), so Istio\'s own `release: istio` monitors work too', () => {
    for (const key of ['podMonitorSelectorNilUsesHelmValues', 'serviceMonitorSelectorNilUsesHelmValues', 'ruleSelectorNilUsesHelmValues', 'probeSelectorNilUsesHelmValues']) {
      expect(kps.prometheus.prometheusSpec[key], key).toBe(false);
    }
  });

  it('the cluster external label; Prometheus alone joins the mesh and federates every other cluster through it', () => {
    expect(kps.prometheus.prometheusSpec.externalLabels).toEqual({ cluster: 'us' });
    expect(kps.prometheus.prometheusSpec.podMetadata.labels).toEqual({ 'sidecar.istio.io/inject': 'true' });
    expect(kps.prometheus.prometheusSpec.additionalScrapeConfigs).toEqual([expect.objectContaining({
      job_name: 'federate-eu', honor_labels: true, metrics_path: '/federate',
      static_configs: [{ targets: ['kube-prometheus-stack-prometheus.eu.mesh.local:9090'] }],
    })]);
    // The federation asks for the other cluster's own series only (no echo of what it federated itself).
    expect(kps.prometheus.prometheusSpec.additionalScrapeConfigs[0].params['match[]'].every((m: string) => m.includes('cluster="eu"'))).toBe(true);
  });

  it('Grafana never keeps its well-known default password: the admin comes from a Secret apply generates; dashboards by sidecar', () => {
    expect(kps.grafana.admin).toEqual({ existingSecret: 'eastwest-grafana-admin', userKey: 'admin-user', passwordKey: 'admin-password' });
    expect(kps.grafana.adminPassword).toBeUndefined();
    expect(kps.grafana.sidecar.dashboards).toMatchObject({ enabled: true, label: 'grafana_dashboard', labelValue: '1', searchNamespace: 'ALL' });
  });

  it('no public endpoints by default: every Service ClusterIP', () => {
    for (const part of ['prometheus', 'alertmanager', 'grafana']) expect(kps[part].service, part).toEqual({ type: 'ClusterIP' });
    expect(observabilityWarnings(spec)).toEqual([]);
  });

  it('a LoadBalancer when asked, with a warning; an anonymous Kiali on it gets its own', () => {
    const exposed = decodeMeshSpec(withObservability(exampleText('training-mesh.yaml'), '    prometheus: true\n    grafana: true\n    kiali: true\n    kialiAuth: anonymous\n    serviceType: LoadBalancer\n'), 'x.yaml').document.spec;
    expect((kubePrometheusStackValues(exposed, us) as any).grafana.service).toEqual({ type: 'LoadBalancer' });
    expect((kialiValues(exposed, us) as any).deployment.service_type).toBe('LoadBalancer');
    const warnings = observabilityWarnings(exposed);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toMatch(/Kiali is anonymous on a LoadBalancer Service/);
  });

  it('no sidecar injection in the observability namespace: eastwest makes it without the injection label', () => {
    const [ns] = observabilityNamespace(spec);
    expect(ns!.metadata).toEqual({ name: 'observability' });
  });

  it('releases: kube-prometheus-stack in observability and the guide\'s `kiali` release in istio-system, pinned, from the chart repositories by default', () => {
    const releases = observabilityReleases(spec, us);
    expect(releases.map((r) => [r.release, r.namespace, r.chart])).toEqual([
      ['kube-prometheus-stack', 'observability', { name: 'kube-prometheus-stack', repo: 'https://prometheus-community.github.io/helm-charts', version: '79.5.0' }],
      ['kiali', 'istio-system', { name: 'kiali-server', repo: 'https://kiali.org/helm-charts', version: '2.27.0' }],
    ]);
    expect(helmReleases(spec, us).map((r) => r.release)).toEqual(['istio-base', 'istiod', 'istio-eastwestgateway', 'kube-prometheus-stack', 'kiali']);
  });

  it('chart sources: OCI and an air-gapped local directory', () => {
    const oci = decodeMeshSpec(withObservability(exampleText('training-mesh.yaml'), '    prometheus: true\n    kiali: true\n    kialiAuth: openid\n    charts:\n      kubePrometheusStack: { oci: "oci://ghcr.io/prometheus-community/charts", version: 80.0.0 }\n      kiali: { directory: charts/kiali-server }\n'), 'x.yaml').document.spec;
    const [kpsRelease, kialiRelease] = observabilityReleases(oci, us);
    expect(kpsRelease!.chart).toEqual({ name: 'kube-prometheus-stack', oci: 'oci://ghcr.io/prometheus-community/charts/kube-prometheus-stack', version: '80.0.0' });
    expect(kialiRelease!.chart).toEqual({ name: 'kiali-server', path: 'charts/kiali-server', version: '2.27.0' });
  });

  it('Istio\'s dashboards (from the pinned module) become ConfigMaps labelled for Grafana\'s sidecar', async () => {
    const maps = dashboardConfigMaps(spec, await istioDashboards());
    expect(maps.map((m) => m.metadata.name)).toEqual(expect.arrayContaining(['istio-dashboard-istio-mesh-dashboard', 'istio-dashboard-istio-workload-dashboard', 'istio-dashboard-pilot-dashboard']));
    for (const m of maps) {
      expect(m.metadata.labels).toEqual({ grafana_dashboard: '1' });
      expect(JSON.stringify(m).length).toBeLessThan(1_000_000); // a ConfigMap holds at most 1 MiB
      expect(() => JSON.parse(Object.values(m.data as Record<string, string>)[0]!)).not.toThrow();
    }
  });

  it('Istio values: Envoy\'s per-cluster statistics on, and each cluster\'s Prometheus cluster-local', () => {
    expect(observabilityIstiodValues(spec)).toEqual({
      meshConfig: {
        defaultConfig: { proxyStatsMatcher: { inclusionRegexps: [ENVOY_CLUSTER_STATS] } },
        serviceSettings: [{ settings: { clusterLocal: true }, hosts: ['kube-prometheus-stack-prometheus.observability.svc.cluster.local'] }],
      },
    });
    const off = { ...spec, observability: { ...spec.observability, prometheus: false } };
    expect(observabilityIstiodValues(off)).toEqual({});
    expect(observabilityReleases(off, us)).toEqual([]);
  });

  it('the statistics kept: what the traffic matrix reads, for sidecars\' and gateways\' clusters, and not the other ~140 per cluster', () => {
    const kept = (name: string) => new RegExp(`^(?:${ENVOY_CLUSTER_STATS})$`).test(name);
    for (const stat of ['upstream_rq_total', 'upstream_rq_5xx', 'upstream_rq_200', 'upstream_rq_time', 'upstream_cx_total', 'upstream_cx_tx_bytes_total', 'upstream_cx_rx_bytes_total', 'membership_healthy']) {
      expect(kept(`cluster.outbound|80||echo.eu.mesh.local.${stat}`), stat).toBe(true);
    }
    expect(kept('cluster.outbound_.80_._.echo.echo.svc.cluster.local.upstream_cx_total')).toBe(true);
    expect(kept('cluster.inbound|8080||.upstream_rq_total')).toBe(true);
    for (const stat of ['upstream_cx_connect_ms', 'lb_zone_routing_sampled', 'upstream_rq_retry', 'circuit_breakers.default.rq_open', 'upstream_rq_timeout']) {
      expect(kept(`cluster.outbound|80||echo.eu.mesh.local.${stat}`), stat).toBe(false);
    }
    expect(kept('cluster.xds-grpc.upstream_rq_total')).toBe(false);
  });

  it('Prometheus\'s port: PERMISSIVE for the in-cluster tools without sidecars, and only Prometheus, Kiali or plain-text callers allowed', () => {
    expect(prometheusPeerAuthentication(spec)[0]!.spec).toEqual({ selector: { matchLabels: prometheusLocation(spec).selector }, mtls: { mode: 'STRICT' }, portLevelMtls: { 9090: { mode: 'PERMISSIVE' } } });
    const rules = (prometheusAuthorization(spec).spec as any).rules;
    expect(rules[0].from[0].source.principals).toEqual(['corp.local/ns/observability/sa/kube-prometheus-stack-prometheus', 'corp.local/ns/istio-system/sa/kiali']);
    expect(rules[1].from[0].source).toEqual({ notPrincipals: ['*'] });
  });
});

describe('spec rules for observability', () => {
  const base = exampleText('training-mesh.yaml');
  it('Grafana or Kiali without Prometheus is an error', () => {
    expect(decodeProblems(withObservability(base, '    grafana: true\n'))).toEqual(expect.arrayContaining([expect.stringMatching(/observability\.grafana: grafana needs observability\.prometheus/)]));
    expect(decodeProblems(withObservability(base, '    kiali: true\n'))).toEqual(expect.arrayContaining([expect.stringMatching(/observability\.kiali: kiali needs observability\.prometheus/)]));
  });
  it('the lab has no Grafana, and its Kiali runs anonymous only', () => {
    const lab = exampleText('lab.yaml');
    expect(decodeProblems(lab.replace('    kiali: true', '    kiali: true\n    grafana: true'))).toEqual(expect.arrayContaining([expect.stringMatching(/Grafana cannot be had offline/)]));
    expect(decodeProblems(lab.replace('kialiAuth: anonymous', 'kialiAuth: token'))).toEqual(expect.arrayContaining([expect.stringMatching(/the lab's Kiali has no login/)]));
  });
  it('the guide\'s --set service.type for kiali-server, and Service types or a Grafana password in Helm values, are errors with the setting to use', () => {
    const withValues = base.replace(/ {2}helmValues:\n(?: {4,}.*\n)+/, '') + '  helmValues:\n    kiali: { service: { type: LoadBalancer } }\n    kubePrometheusStack: { grafana: { adminPassword: hunter2, service: { type: LoadBalancer } } }\n';
    const problems = decodeProblems(withValues);
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/helmValues\.kiali\.service\.type: kiali-server has no service\.type/),
      expect.stringMatching(/helmValues\.kubePrometheusStack\.grafana\.adminPassword: a Grafana password in the spec/),
      expect.stringMatching(/helmValues\.kubePrometheusStack\.grafana\.service\.type: grafana's Service type comes from observability\.serviceType/),
    ]));
  });
  it('a token or header Kiali over several clusters is an error (Kiali supports anonymous and openid there)', () => {
    expect(decodeProblems(withObservability(base, '    prometheus: true\n    kiali: true\n'))).toEqual(expect.arrayContaining([expect.stringMatching(/observability\.kialiAuth: Kiali's view of several clusters supports the anonymous and openid strategies only, not token/)]));
    expect(decodeProblems(withObservability(base, '    prometheus: true\n    kiali: true\n    kialiAuth: openid\n'))).toEqual([]);
  });
  it('renaming kube-prometheus-stack\'s objects through Helm values is an error (eastwest finds Prometheus by those names)', () => {
    const withValues = base.replace(/ {2}helmValues:\n(?: {4,}.*\n)+/, '') + '  helmValues:\n    kubePrometheusStack: { fullnameOverride: prom, prometheus: { serviceAccount: { name: p } } }\n';
    expect(decodeProblems(withValues)).toEqual(expect.arrayContaining([
      expect.stringMatching(/helmValues\.kubePrometheusStack\.fullnameOverride: fullnameOverride renames/),
      expect.stringMatching(/helmValues\.kubePrometheusStack\.prometheus\.serviceAccount\.name: /),
    ]));
  });
  it('two sources for one chart is an error; durations are checked', () => {
    expect(decodeProblems(withObservability(base, '    prometheus: true\n    charts:\n      kiali: { repo: "https://kiali.org/helm-charts", directory: charts/kiali }\n'))).toEqual(expect.arrayContaining([expect.stringMatching(/observability\.charts\.kiali: one chart source is needed, found 2/)]));
    expect(decodeProblems(withObservability(base, '    prometheus: true\n    scrapeInterval: fast\n'))).toEqual(expect.arrayContaining([expect.stringMatching(/scrapeInterval/)]));
  });
});

describe('the lab\'s Prometheus from Istio\'s samples/addons/prometheus.yaml', () => {
  const spec = specOf('lab.yaml');
  const us = spec.clusters.find((c) => c.name === 'us')!;

  it('keeps the pods and self jobs, labels every series with the cluster, federates the other cluster through the mesh', () => {
    const yaml = (upstreamPrometheus.find((o) => o.kind === 'ConfigMap')!.data as Record<string, string>)['prometheus.yml']!;
    const config = parse(labPrometheusConfig(spec, us, yaml));
    expect(config.scrape_configs.map((j: any) => j.job_name)).toEqual(['kubernetes-pods', 'prometheus', 'federate-eu']);
    for (const job of config.scrape_configs.slice(0, 2)) expect(job.relabel_configs.at(-1)).toEqual({ target_label: 'cluster', replacement: 'us' });
    expect(config.global).toMatchObject({ scrape_interval: '5s', evaluation_interval: '5s', scrape_timeout: '5s', external_labels: { cluster: 'us' } });
    expect(config.scrape_configs[2]).toMatchObject({ honor_labels: true, metrics_path: '/federate', static_configs: [{ targets: ['prometheus.eu.mesh.local:9090'] }] });
    expect(config.scrape_configs[2].params['match[]']).toEqual(['{__name__=~"envoy_.+|istio_.+|istiod_.+|pilot_.+",cluster="eu"}', 'up{job="kubernetes-pods",cluster="eu"}']);
  });

  it('a scrape never outlasts the interval; durations parse', () => {
    expect(durationSeconds('500ms')).toBe(0.5);
    expect(durationSeconds('2m')).toBe(120);
    expect(durationSeconds('soon')).toBeNaN();
    const slow = { ...spec, observability: { ...spec.observability, scrapeInterval: '30s' } };
    const yaml = (upstreamPrometheus.find((o) => o.kind === 'ConfigMap')!.data as Record<string, string>)['prometheus.yml']!;
    expect(parse(labPrometheusConfig(slow, us, yaml)).global.scrape_timeout).toBe('10s');
  });

  it('runs the lab image, never pulled, in the mesh, without the config-reloader or Prometheus 2\'s console flags; a config change rolls the pod', () => {
    const objects = labPrometheusObjects(spec, us, upstreamPrometheus);
    expect(objects.map((o) => o.kind)).toEqual(['ServiceAccount', 'ConfigMap', 'ClusterRole', 'ClusterRoleBinding', 'Service', 'Deployment']);
    const template = (objects.at(-1)!.spec as any).template;
    expect(template.spec.containers).toHaveLength(1);
    expect(template.spec.containers[0]).toMatchObject({ image: 'lab.eastwest.dev/prometheus:3.16', imagePullPolicy: 'Never' });
    expect(template.spec.containers[0].args.some((a: string) => a.startsWith('--web.console'))).toBe(false);
    expect(template.spec.containers[0].args).toContain('--storage.tsdb.retention.time=6h');
    expect(template.metadata.labels['sidecar.istio.io/inject']).toBe('true');
    const other = labPrometheusObjects({ ...spec, observability: { ...spec.observability, scrapeInterval: '10s' } }, us, upstreamPrometheus);
    expect((other.at(-1)!.spec as any).template.metadata.annotations['eastwest.dev/prometheus-config-hash']).not.toBe(template.metadata.annotations['eastwest.dev/prometheus-config-hash']);
    for (const o of objects) expect(o.metadata.annotations?.['eastwest.dev/upstream']).toBe('istio.io/istio samples/addons/prometheus.yaml');
  });

  it('federation objects: a ServiceEntry + DestinationRule (ISTIO_MUTUAL, the gateway\'s SNI) per other cluster, seen only in Prometheus\'s namespace', () => {
    const { objects, pending } = prometheusFederationObjects(spec, us, new Map([['eu', '198.18.2.17']]));
    expect(pending).toEqual([]);
    const [se, dr] = objects as any[];
    expect(se.spec).toMatchObject({ hosts: ['prometheus.eu.mesh.local'], exportTo: ['.'], endpoints: [{ address: '198.18.2.17', ports: { http: 15443 } }] });
    expect(dr.spec).toMatchObject({ exportTo: ['.'], trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL', sni: 'outbound_.9090_._.prometheus.istio-system.svc.cluster.local', subjectAltNames: ['spiffe://corp.local/ns/istio-system/sa/prometheus'] } } });
    // The lab's callers are all in the mesh: STRICT stays, no plain-text rule.
    expect(prometheusPeerAuthentication(spec)).toEqual([]);
    expect((prometheusAuthorization(spec).spec as any).rules).toHaveLength(1);
  });
});

describe('the lab\'s Kiali from Istio\'s samples/addons/kiali.yaml', () => {
  const spec = specOf('lab.yaml');
  const us = spec.clusters.find((c) => c.name === 'us')!;

  it('reads only (plus port-forward and auth reviews): no patch, create or delete on any resource', () => {
    const rules = kialiViewerRules(upstreamKiali.find((o) => o.kind === 'ClusterRole')!);
    expect(rules.length).toBeGreaterThan(3);
    for (const rule of rules) {
      const verbs = rule.verbs as string[];
      const resources = rule.resources as string[];
      for (const verb of verbs) {
        if (verb === 'create') expect(resources.every((r) => ['pods/portforward', 'tokenreviews', 'subjectaccessreviews', 'selfsubjectaccessreviews'].includes(r)), resources.join()).toBe(true);
        else expect(['get', 'list', 'watch']).toContain(verb);
      }
    }
  });

  it('told its cluster, Prometheus, trust domain; mounts each peer\'s Secret where Kiali reads them; in the mesh, off every mesh path', () => {
    const objects = labKialiObjects(spec, us, upstreamKiali);
    const config = parse(((objects.find((o) => o.kind === 'ConfigMap')!.data) as Record<string, string>)['config.yaml']!);
    expect(config.kubernetes_config.cluster_name).toBe('us');
    expect(config.external_services.prometheus.url).toBe('http://prometheus.istio-system:9090');
    expect(config.external_services.istio.istio_identity_domain).toBe('svc.corp.local');
    expect(config.auth.strategy).toBe('anonymous');
    expect(config.deployment.view_only_mode).toBe(true);
    const pod = (objects.find((o) => o.kind === 'Deployment')!.spec as any).template;
    expect(pod.metadata.labels['sidecar.istio.io/inject']).toBe('true');
    expect(pod.spec.containers[0].volumeMounts).toContainEqual({ name: 'kiali-remote-cluster-eu', mountPath: '/kiali-remote-cluster-secrets/kiali-remote-cluster-eu', readOnly: true });
    expect(pod.spec.volumes).toContainEqual({ name: 'kiali-remote-cluster-eu', secret: { secretName: 'kiali-remote-cluster-eu', optional: true } });
    const policy = objects.find((o) => o.kind === 'AuthorizationPolicy')!;
    expect(policy.spec).toEqual({ selector: { matchLabels: { 'app.kubernetes.io/name': 'kiali' } }, action: 'ALLOW' });
  });
});

describe('the traffic matrix from Envoy\'s own statistics', () => {
  const spec = specOf('lab.yaml');
  const sample = (cluster_name: string, value: number): Sample => ({ labels: { cluster_name }, value });
  const empty = (): ClusterAnswers => Object.fromEntries((Object.keys(trafficQueries('us', 60)) as QueryName[]).map((k) => [k, [] as Sample[]])) as ClusterAnswers;

  it('names: sidecar and gateway clusters, and which cluster a name belongs to', () => {
    expect(sidecarHost('outbound|80||echo.eu.mesh.local')).toBe('echo.eu.mesh.local');
    expect(sidecarHost('outbound|80|v1|echo.eu.mesh.local')).toBe('echo.eu.mesh.local');
    expect(sidecarHost('inbound|8080||')).toBeUndefined();
    expect(gatewayTarget('outbound_.80_._.echo.echo.svc.cluster.local')).toEqual({ port: 80, host: 'echo.echo.svc.cluster.local' });
    expect(gatewayTarget('xds-grpc')).toBeUndefined();
    expect(destinationCluster(spec, 'echo.eu.mesh.local')).toBe('eu');
    expect(destinationCluster(spec, 'echo.ap.mesh.local')).toBeUndefined(); // not a cluster of the spec
    expect(destinationCluster(spec, 'hello.shop.svc.clusterset.local')).toBeUndefined(); // spans clusters
    expect(destinationCluster(spec, 'a.b.eu.mesh.local')).toBeUndefined();
  });

  it('queries read one cluster\'s own series, sidecars apart from gateways, over the window', () => {
    const q = trafficQueries('us', 120);
    expect(q.requests).toContain('cluster="us"');
    expect(q.requests).toContain('istio!="eastwestgateway"');
    expect(q.gatewayConnections).toContain('istio="eastwestgateway"');
    expect(q.requestRate).toContain('[120s]');
    expect(q.p99).toMatch(/^histogram_quantile\(0\.99, /);
  });

  it('us→eu from the echo.eu.mesh.local clusters, eu→us zero, federation apart, the gateway intake without Prometheus\'s own', () => {
    const us = empty();
    us.requests = [sample('outbound|80||echo.eu.mesh.local', 100), sample('outbound|80||echo.echo.svc.cluster.local', 7), sample('outbound|9090||prometheus.eu.mesh.local', 40)];
    us.requestRate = [sample('outbound|80||echo.eu.mesh.local', 2), sample('outbound|9090||prometheus.eu.mesh.local', 0.2)];
    us.errorRate = [sample('outbound|80||echo.eu.mesh.local', 0.5)];
    us.p50 = [sample('outbound|80||echo.eu.mesh.local', 3)];
    us.p99 = [sample('outbound|80||echo.eu.mesh.local', 12)];
    us.connections = [sample('outbound|80||echo.eu.mesh.local', 2)];
    const eu = empty();
    eu.gatewayConnections = [sample('outbound_.80_._.echo.echo.svc.cluster.local', 5), sample('outbound_.9090_._.prometheus.istio-system.svc.cluster.local', 1)];
    eu.gatewayBytesIn = [sample('outbound_.80_._.echo.echo.svc.cluster.local', 1000), sample('outbound_.9090_._.prometheus.istio-system.svc.cluster.local', 99999)];
    const report = buildTrafficReport(spec, new Map([['us', us], ['eu', eu]]), 60);
    expect(report.flows.map((f) => [f.from, f.to, f.requests])).toEqual([['eu', 'us', 0], ['us', 'eu', 100]]);
    const usEu = report.flows.find((f) => f.from === 'us')!;
    expect(usEu).toMatchObject({ requestsPerSecond: 2, errorShare: 0.25, p50Ms: 3, p99Ms: 12, connections: 2, hosts: ['echo.eu.mesh.local'] });
    expect(report.flows.find((f) => f.from === 'eu')).toMatchObject({ errorShare: null, p50Ms: null, hosts: [] });
    expect(report.federation.find((f) => f.from === 'us')).toMatchObject({ requests: 40, hosts: ['prometheus.eu.mesh.local'] });
    expect(report.gateways.find((g) => g.cluster === 'eu')).toEqual({ cluster: 'eu', connections: 5, connectionsPerSecond: 0, bytesIn: 1000, bytesOut: 0, services: [{ service: 'echo.echo.svc.cluster.local', port: 80, connections: 5 }] });
  });

  it('a cluster that did not answer has no rows of its own; the others\' stay', () => {
    const us = empty();
    us.requests = [sample('outbound|80||echo.eu.mesh.local', 3)];
    const report = buildTrafficReport(spec, new Map([['us', us]]), 60);
    expect(report.flows.map((f) => `${f.from}→${f.to}`)).toEqual(['us→eu']);
    expect(report.gateways.map((g) => g.cluster)).toEqual(['us']);
  });
});

describe('the pods Prometheus must scrape', () => {
  const pod = (namespace: string, name: string, labels: Record<string, string>, annotations: Record<string, string> = {}, phase = 'Running'): V1Pod => ({ metadata: { namespace, name, labels, annotations }, status: { phase } });
  it('istiod, every sidecar-injected pod and every east-west gateway; not pods without a proxy, nor ones not running', () => {
    const targets = istioScrapeTargets([
      pod('istio-system', 'istiod-1', { app: 'istiod' }),
      pod('istio-system', 'gw-1', { istio: 'eastwestgateway' }),
      pod('echo', 'echo-1', { app: 'echo' }, { 'sidecar.istio.io/status': '{}' }),
      pod('echo', 'plain-1', { app: 'client-plaintext' }),
      pod('echo', 'echo-2', { app: 'echo' }, { 'sidecar.istio.io/status': '{}' }, 'Pending'),
      pod('kube-system', 'istiod-lookalike', { app: 'istiod' }),
    ]);
    expect(targets).toEqual([
      { namespace: 'echo', pod: 'echo-1', kind: 'sidecar' },
      { namespace: 'istio-system', pod: 'gw-1', kind: 'gateway' },
      { namespace: 'istio-system', pod: 'istiod-1', kind: 'istiod' },
    ]);
  });

  it('a pod\'s start time comes along, so a pod that just started is not waited for', () => {
    const started = pod('echo', 'echo-1', { app: 'echo' }, { 'sidecar.istio.io/status': '{}' });
    started.status!.startTime = new Date('2026-11-28T06:00:00Z');
    expect(istioScrapeTargets([started])[0]!.startedAt).toBe(Date.parse('2026-11-28T06:00:00Z'));
  });

  it('the grace is one discovery update and two scrape intervals', () => {
    expect(scrapeGraceMs('15s')).toBe(35_000);
    expect(scrapeGraceMs('1m')).toBe(125_000);
    expect(scrapeGraceMs('500ms')).toBe(6_000);
  });

  it('targets younger than the grace are set apart; older ones and those without a start time are due', () => {
    const now = Date.parse('2026-11-28T06:01:00Z');
    const t = (podName: string, secondsAgo?: number) => ({ namespace: 'echo', pod: podName, kind: 'sidecar' as const, ...(secondsAgo === undefined ? {} : { startedAt: now - secondsAgo * 1000 }) });
    const { due, young } = dueTargets([t('old', 60), t('edge', 35), t('new', 34), t('fresh', 0), t('unknown')], now, 35_000);
    expect(due.map((x) => x.pod)).toEqual(['old', 'edge', 'unknown']);
    expect(young.map((x) => x.pod)).toEqual(['new', 'fresh']);
  });
});
