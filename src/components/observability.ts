// Observability in every cluster: Prometheus (the lab's own, or kube-prometheus-stack), Grafana with
// Istio's dashboards, Kiali seeing every other cluster (a kubeconfig Secret per peer, made from that
// peer's kiali-remote token before Kiali's chart is installed: it looks for them at install time), and
// the way to the other clusters' Prometheus. Grafana's admin password is made once, where absent.
import { randomBytes } from 'node:crypto';
import type { Component, Wait } from './component.ts';
import { staged } from './component.ts';
import { owned } from '../k8s/ownership.ts';
import type { KubeObject } from '../k8s/object.ts';
import { KIALI_MULTI_CLUSTER_LABEL, KIALI_REMOTE_SECRET_PREFIX, LAB_KIALI_DEPLOYMENT, kialiRemoteReaderObjects, kialiRemoteSecretName } from '../render/lab-kiali.ts';
import { LAB_PROMETHEUS_DEPLOYMENT } from '../render/lab-prometheus.ts';
import { KIALI_NAMESPACE, prometheusLocation } from '../render/observability.ts';
import { observabilityObjects } from '../render/observability-objects.ts';
import { GRAFANA_ADMIN_SECRET, observabilityReleases } from '../render/observability-releases.ts';
import { tokenKubeconfig, type ReaderTokenSource } from '../render/remote-secrets.ts';
import type { MeshSpec } from '../spec/schema.ts';

export const kialiOn = (spec: MeshSpec) => spec.observability.prometheus && spec.observability.kiali;
export const grafanaOn = (spec: MeshSpec) => spec.profile !== 'lab' && spec.observability.prometheus && spec.observability.grafana;
export const grafanaAdminRef = (spec: MeshSpec) => `Secret/${spec.observability.namespace}/${GRAFANA_ADMIN_SECRET}`;
export const KIALI_SECRET_REF_PREFIX = `Secret/${KIALI_NAMESPACE}/${KIALI_REMOTE_SECRET_PREFIX}`;

/** The token other clusters' Kiali reads this cluster with: its account and role binding first. */
export function kialiReaderSource(spec: MeshSpec): ReaderTokenSource {
  const [role, account, binding, token] = kialiRemoteReaderObjects();
  return { secret: owned(spec.meshID, token!), prerequisites: [role!, account!, binding!].map((o) => owned(spec.meshID, o)) };
}

/** Grafana's admin Secret (real clusters): a generated password, never printed, never replaced. */
function grafanaAdminSecret(spec: MeshSpec): KubeObject {
  return owned(spec.meshID, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: GRAFANA_ADMIN_SECRET, namespace: spec.observability.namespace },
    type: 'Opaque',
    stringData: { 'admin-user': 'admin', 'admin-password': randomBytes(24).toString('base64url') },
  });
}

const kialiPeers = (spec: MeshSpec, cluster: { name: string }) => (kialiOn(spec) ? spec.clusters.filter((c) => c.name !== cluster.name) : []);

export const observability: Component = {
  id: 'observability',
  description: 'Prometheus, Grafana and Kiali per cluster, each seeing the traffic between clusters',
  enabled: (spec) => spec.observability.prometheus,
  render(input, cluster) {
    const { spec } = input;
    if (!spec.observability.prometheus) return {};
    const o = observabilityObjects(input, cluster, input.gatewayAddresses ?? new Map());
    return {
      releases: observabilityReleases(spec, cluster),
      preInstall: [...staged('namespaces', o.pre.filter((x) => x.kind === 'Namespace')), ...staged('secrets', o.pre.filter((x) => x.kind !== 'Namespace'))],
      postInstall: [...staged('secrets', o.early), ...staged('istio-config', o.late)],
      pending: o.pending,
    };
  },
  derived: [{
    what: 'Kiali\'s view of the other clusters',
    reader: 'kiali',
    phase: 'pre-install',
    diff: 'presence',
    refs: (spec, cluster) => kialiPeers(spec, cluster).map((peer) => `${KIALI_SECRET_REF_PREFIX}${peer.name}`),
    objects(spec, cluster, live) {
      const known = live.readers.kiali ?? new Map();
      return staged('secrets', kialiPeers(spec, cluster).filter((peer) => known.has(peer.name)).map((peer) => {
        const access = known.get(peer.name)!;
        return owned(spec.meshID, {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: kialiRemoteSecretName(peer.name), namespace: KIALI_NAMESPACE, labels: { [KIALI_MULTI_CLUSTER_LABEL]: 'true' }, annotations: { 'kiali.io/cluster': peer.name } },
          type: 'Opaque',
          stringData: { [peer.name]: tokenKubeconfig(peer.name, access.server, access.caData, access.token) },
        });
      }));
    },
  }],
  ensured: (spec) => (grafanaOn(spec)
    ? [{ ref: grafanaAdminRef(spec), target: { apiVersion: 'v1', kind: 'Secret', metadata: { name: GRAFANA_ADMIN_SECRET, namespace: spec.observability.namespace } }, make: () => grafanaAdminSecret(spec) }]
    : []),
  readers: { kiali: kialiReaderSource },
  pruneKinds: [
    { apiVersion: 'apps/v1', kind: 'Deployment' },
    { apiVersion: 'v1', kind: 'ServiceAccount' },
    { apiVersion: 'v1', kind: 'ConfigMap' },
    { apiVersion: 'v1', kind: 'Service' },
    { apiVersion: 'v1', kind: 'Secret' },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole' },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding' },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
    { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry' },
    { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule' },
    { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication' },
    { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy' },
  ],
  waits(spec) {
    if (!spec.observability.prometheus) return [];
    const { namespace, service } = prometheusLocation(spec);
    // The lab's Deployments, or the StatefulSet kube-prometheus-stack's operator makes after Helm returned.
    const waits: Wait[] = [spec.profile === 'lab' ? { kind: 'Deployment', namespace, name: LAB_PROMETHEUS_DEPLOYMENT } : { kind: 'StatefulSet', namespace, name: `prometheus-${service}` }];
    if (kialiOn(spec) && spec.profile === 'lab') waits.push({ kind: 'Deployment', namespace: KIALI_NAMESPACE, name: LAB_KIALI_DEPLOYMENT });
    return waits;
  },
  checks: ['observability', 'prometheus-targets'],
};
