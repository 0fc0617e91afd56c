// What each cluster's observability needs (pure): its Prometheus and Kiali, the way to the other
// clusters' Prometheus, and the account other clusters' Kiali reads this one with.
import type { KubeObject } from '../k8s/object.ts';
import type { ClusterSpec } from '../spec/schema.ts';
import { EastwestError } from '../core/errors.ts';
import type { PendingAddress } from './federation-service-entry.ts';
import { kialiRemoteReaderObjects, labKialiObjects } from './lab-kiali.ts';
import { labPrometheusObjects } from './lab-prometheus.ts';
import { prometheusAuthorization, prometheusFederationObjects, prometheusPeerAuthentication } from './observability.ts';
import { dashboardConfigMaps, observabilityNamespace } from './observability-releases.ts';
import type { RenderInput } from './render-mesh.ts';

/**
 * Per cluster: each cluster's Prometheus and Kiali (the lab's own; real clusters get Helm releases, plus
 * their namespace and Istio's dashboards for Grafana), the way to the other clusters' Prometheus, and
 * the account other clusters' Kiali reads this one with (before any release: Kiali's chart looks for
 * the peers' Secrets at install time).
 */
export function observabilityObjects(input: RenderInput, cluster: ClusterSpec, addresses: ReadonlyMap<string, string>): { pre: KubeObject[]; early: KubeObject[]; late: KubeObject[]; pending: PendingAddress[] } {
  const { spec } = input;
  const o = spec.observability;
  if (!o.prometheus) return { pre: [], early: [], late: [], pending: [] };
  const federation = prometheusFederationObjects(spec, cluster, addresses);
  const late = [prometheusAuthorization(spec), ...prometheusPeerAuthentication(spec), ...federation.objects];
  const pre = o.kiali ? kialiRemoteReaderObjects() : [];
  const missing = (name: string) => new EastwestError('addons-missing', `${name} is rendered from the pinned istio.io/istio module, which was not read`, { hint: 'render callers load it with loadRenderAddons(spec)' });
  if (spec.profile !== 'lab') {
    if (o.grafana && !input.addons?.dashboards) throw missing('Istio\'s Grafana dashboards');
    return { pre: [...observabilityNamespace(spec), ...pre], early: dashboardConfigMaps(spec, input.addons?.dashboards ?? new Map()), late, pending: federation.pending };
  }
  if (!input.addons?.prometheus) throw missing('the lab\'s Prometheus');
  const lab = labPrometheusObjects(spec, cluster, input.addons.prometheus);
  if (o.kiali) {
    if (!input.addons.kiali) throw missing('the lab\'s Kiali');
    lab.push(...labKialiObjects(spec, cluster, input.addons.kiali));
  }
  const isLate = (x: KubeObject) => x.kind === 'Deployment' || x.kind === 'AuthorizationPolicy';
  return { pre, early: lab.filter((x) => !isLate(x)), late: [...lab.filter(isLate), ...late], pending: federation.pending };
}
