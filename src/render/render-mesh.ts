// Render: spec + CA material (+ known gateway addresses) → what each cluster needs. Pure and
// deterministic: no I/O, no clock, no randomness; objects sorted; the same input gives the same output.
import { STAGES, type KubeObject, type Stage } from '../k8s/object.ts';
import type { PkiBundle } from '../pki/store.ts';
import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';
import { failoverWorkloadEntries, serviceEntryFederation, type PendingAddress } from './federation-service-entry.ts';
import { helmReleases, type HelmRelease } from './helm-releases.ts';
import { localityDestinationRules } from './locality.ts';
import { cacertsSecret, crossNetworkGateway, istioSystemNamespace, serviceNamespaces } from './mesh-objects.ts';
import { owned } from '../k8s/ownership.ts';
import { authorizationPolicies, meshPeerAuthentication, passThroughSecurityObjects } from './security-policy.ts';
import { EastwestError } from '../core/errors.ts';
import { kialiRemoteReaderObjects, labKialiObjects } from './lab-kiali.ts';
import { labPrometheusObjects } from './lab-prometheus.ts';
import { prometheusAuthorization, prometheusFederationObjects, prometheusPeerAuthentication } from './observability.ts';
import { dashboardConfigMaps, observabilityNamespace } from './observability-releases.ts';
import { controllerSpecYaml, syncControllerRbac, syncNamespace, syncReaderObjects, syncSpecConfigMap } from './sync-controller.ts';

export interface StagedObject {
  stage: Stage;
  object: KubeObject;
}

export interface RenderedCluster {
  cluster: ClusterSpec;
  releases: HelmRelease[];
  /** Objects applied before the Helm releases (namespace, cacerts: istiod must find them at start). */
  preInstall: StagedObject[];
  /** Objects applied after the Helm releases (they need Istio's CRDs). */
  postInstall: StagedObject[];
  /** Objects whose remote gateway address is left to apply. */
  pending: PendingAddress[];
  /** True when no CA material was given for this cluster: its `cacerts` is not rendered (apply takes it from the cluster or issues it). */
  cacertsMissing: boolean;
}

export interface RenderInput {
  spec: MeshSpec;
  pki: PkiBundle;
  /** Discovered east-west gateway addresses by cluster; fixed addresses in the spec are used otherwise. */
  gatewayAddresses?: ReadonlyMap<string, string>;
  /** Upstream manifests read by the caller (the lab's Prometheus: Istio's samples/addons). */
  addons?: RenderAddons;
}

export interface RenderAddons {
  prometheus?: KubeObject[];
  kiali?: KubeObject[];
  /** Istio's Grafana dashboards: file name → JSON. */
  dashboards?: ReadonlyMap<string, string>;
}

const KIND_ORDER = ['Namespace', 'Secret', 'PeerAuthentication', 'AuthorizationPolicy', 'Gateway', 'ServiceEntry', 'WorkloadEntry', 'DestinationRule'];

export function compareObjects(a: KubeObject, b: KubeObject): number {
  const ka = KIND_ORDER.indexOf(a.kind);
  const kb = KIND_ORDER.indexOf(b.kind);
  return (
    (ka === -1 ? 99 : ka) - (kb === -1 ? 99 : kb) ||
    a.kind.localeCompare(b.kind) ||
    (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') ||
    a.metadata.name.localeCompare(b.metadata.name)
  );
}

function staged(meshID: string, stage: Stage, objects: KubeObject[]): StagedObject[] {
  return objects.map((object) => ({ stage, object: owned(meshID, object) }));
}

export function renderCluster(input: RenderInput, cluster: ClusterSpec): RenderedCluster {
  const { spec, pki } = input;
  // Without CA material (no local CA: a teammate's clone, a CI runner) cacerts is left out, never made up.
  const cacerts = pki.cacerts.get(cluster.name);
  const addresses = input.gatewayAddresses ?? new Map<string, string>();
  const federation = { objects: [] as KubeObject[], pending: [] as PendingAddress[] };
  if (spec.federation.mode === 'service-entry') {
    for (const part of [serviceEntryFederation(spec, cluster, addresses), failoverWorkloadEntries(spec, cluster, addresses)]) {
      federation.objects.push(...part.objects);
      federation.pending.push(...part.pending);
    }
  }
  // The in-cluster sync controller: what needs no live input (its access Secret and Deployment come with apply).
  const sync = spec.sync.inCluster
    ? {
        namespaces: [syncNamespace()],
        objects: [
          ...syncReaderObjects(),
          ...syncControllerRbac(),
          syncSpecConfigMap(controllerSpecYaml(spec, undefined)),
        ],
      }
    : { namespaces: [], objects: [] };
  const observability = observabilityObjects(input, cluster, addresses);
  federation.pending.push(...observability.pending);
  const sortStaged = (list: StagedObject[]) =>
    list.sort((a, b) => STAGES.indexOf(a.stage) - STAGES.indexOf(b.stage) || compareObjects(a.object, b.object));
  return {
    cluster,
    releases: helmReleases(spec, cluster),
    preInstall: sortStaged([
      ...staged(spec.meshID, 'namespaces', [istioSystemNamespace(cluster), ...observability.pre.filter((o) => o.kind === 'Namespace')]),
      ...staged(spec.meshID, 'secrets', [...(cacerts ? [cacertsSecret(cacerts)] : []), ...observability.pre.filter((o) => o.kind !== 'Namespace')]),
    ]),
    postInstall: sortStaged([
      ...staged(spec.meshID, 'namespaces', [...serviceNamespaces(spec), ...sync.namespaces]),
      ...staged(spec.meshID, 'secrets', [...sync.objects, ...observability.early]),
      ...staged(spec.meshID, 'istio-config', [
        ...observability.late,
        crossNetworkGateway(),
        meshPeerAuthentication(spec),
        ...authorizationPolicies(spec),
        ...passThroughSecurityObjects(spec),
        ...federation.objects,
        ...localityDestinationRules(spec),
      ]),
    ]),
    pending: federation.pending,
    cacertsMissing: !cacerts,
  };
}

/**
 * Per cluster: each cluster's Prometheus and Kiali (the lab's own; real clusters get Helm releases, plus
 * their namespace and Istio's dashboards for Grafana), the way to the other clusters' Prometheus, and
 * the account other clusters' Kiali reads this one with (before any release: Kiali's chart looks for
 * the peers' Secrets at install time).
 */
function observabilityObjects(input: RenderInput, cluster: ClusterSpec, addresses: ReadonlyMap<string, string>): { pre: KubeObject[]; early: KubeObject[]; late: KubeObject[]; pending: PendingAddress[] } {
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

export function renderMesh(input: RenderInput): RenderedCluster[] {
  return [...input.spec.clusters].sort((a, b) => a.name.localeCompare(b.name)).map((c) => renderCluster(input, c));
}
