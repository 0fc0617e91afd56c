// verify's `observability` check: in every cluster, Prometheus scrapes every istiod, sidecar and east-west
// gateway (up == 1 for each such pod); the cross-cluster path shows in the numbers (the remote gateway's
// intake of the demo service, after the cross-cluster checks sent requests through it); and each
// Prometheus answers one query with every cluster's series (the mesh-wide view, through the mesh).
import { SIDECAR_STATUS_ANNOTATION } from '../core/vocabulary.ts';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { instantQuery, prometheusTarget, type PrometheusTarget } from '../observability/prometheus-query.ts';
import { istioSni } from '../render/federation-service-entry.ts';
import { EASTWEST_GATEWAY_LABEL, ISTIO_NAMESPACE } from '../render/helm-releases.ts';
import type { MeshSpec, ServiceSpec } from '../spec/schema.ts';
import { durationSeconds } from '../render/lab-prometheus.ts';
import { pollUntil } from '../util/poll.ts';

export interface ScrapeTarget { namespace: string; pod: string; kind: 'istiod' | 'sidecar' | 'gateway'; startedAt?: number }

/** Pods Prometheus must scrape: istiod, every pod with an injected sidecar, every east-west gateway. */
export function istioScrapeTargets(pods: V1Pod[]): ScrapeTarget[] {
  const targets: ScrapeTarget[] = [];
  for (const p of pods) {
    if (p.status?.phase !== 'Running' || p.metadata?.deletionTimestamp || !p.metadata?.name || !p.metadata.namespace) continue;
    const labels = p.metadata.labels ?? {};
    const kind = labels.app === 'istiod' && p.metadata.namespace === ISTIO_NAMESPACE ? 'istiod'
      : labels.istio === EASTWEST_GATEWAY_LABEL.istio ? 'gateway'
      : p.metadata.annotations?.[SIDECAR_STATUS_ANNOTATION] ? 'sidecar' : undefined;
    const started = p.status.startTime ? new Date(p.status.startTime).getTime() : NaN;
    if (kind) targets.push({ namespace: p.metadata.namespace, pod: p.metadata.name, kind, ...(Number.isFinite(started) ? { startedAt: started } : {}) });
  }
  return targets.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.pod.localeCompare(b.pod));
}

/**
 * How long a new pod may go unscraped without being a fault: Prometheus's discovery hands new targets to the
 * scrape loops at most every 5 s, and a target's first scrape lands within one interval of that; two intervals
 * leave room for a slow first answer. A pod younger than this (one failover just restored, say) is not waited for.
 */
export function scrapeGraceMs(scrapeInterval: string): number {
  const seconds = durationSeconds(scrapeInterval);
  return (5 + 2 * (Number.isFinite(seconds) ? seconds : 15)) * 1000;
}

/** Splits targets into those that must be scraped by now and those too young to tell (started within the grace). */
export function dueTargets(targets: ScrapeTarget[], now: number, graceMs: number): { due: ScrapeTarget[]; young: ScrapeTarget[] } {
  const due: ScrapeTarget[] = [];
  const young: ScrapeTarget[] = [];
  for (const t of targets) (t.startedAt !== undefined && now - t.startedAt < graceMs ? young : due).push(t);
  return { due, young };
}

const key = (namespace: string, pod: string) => `${namespace}/${pod}`;

async function scrapedUp(target: PrometheusTarget, cluster: string): Promise<Set<string>> {
  // Any job (the lab's pods job, kube-prometheus-stack's monitors): every target of a pod carries its pod label.
  const samples = await instantQuery(target, `up{cluster="${cluster}",pod!=""} == 1`);
  return new Set(samples.map((s) => key(s.labels.namespace ?? '', s.labels.pod ?? '')));
}

export async function observabilityCheck(spec: MeshSpec, configs: ReadonlyMap<string, KubeConfig>, service: ServiceSpec, from: string, timeoutMs: number): Promise<{ ok: boolean; figures: Record<string, number | string>; detail: string }> {
  const figures: Record<string, number | string> = {};
  const problems: string[] = [];
  const prometheus = new Map<string, PrometheusTarget>();
  for (const cluster of spec.clusters) {
    const config = configs.get(cluster.name);
    if (!config) {
      figures[`${cluster.name}.targetsUp`] = 'skipped (cluster unreachable)';
      problems.push(`${cluster.name} unreachable`);
      continue;
    }
    const target = await prometheusTarget(config, spec, timeoutMs);
    prometheus.set(cluster.name, target);
    const all = istioScrapeTargets((await config.makeApiClient(CoreV1Api).listPodForAllNamespaces()).items);
    // A pod that just started is scraped after the next discovery update and scrape: not waited for (figure only).
    const { due: expected, young } = dueTargets(all, Date.now(), scrapeGraceMs(spec.observability.scrapeInterval));
    if (young.length) figures[`${cluster.name}.tooYoungToTell`] = young.length;
    let missing = expected;
    await pollUntil(30, 2000, async () => {
      const up = await scrapedUp(target, cluster.name);
      missing = expected.filter((t) => !up.has(key(t.namespace, t.pod)));
      return missing.length === 0 ? true : undefined;
    });
    for (const kind of ['istiod', 'sidecar', 'gateway'] as const) {
      const count = expected.filter((t) => t.kind === kind).length;
      figures[`${cluster.name}.${kind}Up`] = `${count - missing.filter((t) => t.kind === kind).length}/${count}`;
    }
    if (all.filter((t) => t.kind !== 'sidecar').length === 0) problems.push(`${cluster.name}: no istiod or gateway pod found`);
    if (missing.length) problems.push(`${cluster.name}: not scraped (up != 1): ${missing.slice(0, 5).map((t) => key(t.namespace, t.pod)).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
  }
  // The cross-cluster path in the numbers: each remote gateway's intake of the demo service.
  const sni = istioSni(service, service.ports[0]!.number);
  for (const remote of spec.clusters.filter((c) => c.name !== from && service.clusters.includes(c.name))) {
    const target = prometheus.get(remote.name);
    if (!target) continue;
    const intake = await pollUntil(20, 2000, async () => {
      const samples = await instantQuery(target, `sum(envoy_cluster_upstream_cx_total{cluster="${remote.name}",istio="${EASTWEST_GATEWAY_LABEL.istio}",cluster_name="${sni}"})`);
      const total = samples[0]?.value ?? 0;
      return total > 0 ? total : undefined;
    });
    figures[`${remote.name}.gatewayConnections`] = intake ?? 0;
    if (!intake) problems.push(`${remote.name}'s Prometheus shows no connection through its east-west gateway to ${sni} (are its proxies' per-cluster statistics on? pods started before observability was turned on need a restart)`);
  }
  // The mesh-wide view: every Prometheus holds every cluster's series, each with its cluster label.
  const everyone = spec.clusters.filter((c) => prometheus.has(c.name)).map((c) => c.name).sort();
  for (const [cluster, target] of prometheus) {
    const seen = await pollUntil(20, 2000, async () => {
      const samples = await instantQuery(target, 'count by (cluster) (up{pod!=""})');
      const clusters = samples.map((s) => s.labels.cluster ?? '').filter(Boolean).sort();
      return everyone.every((c) => clusters.includes(c)) ? clusters : undefined;
    });
    figures[`${cluster}.meshWide`] = seen ? seen.join(',') : 'incomplete';
    if (!seen) problems.push(`${cluster}'s Prometheus lacks another cluster's series (federation through the east-west gateways: is the other Prometheus reachable as ${'<prometheus>.<cluster>.' + spec.federation.hostSuffix}?)`);
  }
  return { ok: problems.length === 0, figures, detail: problems.length ? problems.join('; ') : 'every istiod, sidecar and gateway scraped; the cross-cluster path visible; every cluster in every Prometheus' };
}
