// The lab's Kiali: Istio's addon manifest (samples/addons/kiali.yaml of the pinned istio.io/istio module, a
// rendered kiali-server chart) run on the lab's Kiali image (the server and API built from
// github.com/kiali/kiali; no UI) and given every other cluster. Pure: the caller reads the upstream objects.
//
// What changes from upstream, and why:
// - the lab's image, never pulled; view-only, with a role cut down to reading (and port-forward, which
//   Kiali uses to ask istiod and the proxies);
// - it joins the mesh (the addon opts out): Prometheus is STRICT mTLS and allows Kiali's identity; an
//   allow-nothing policy keeps everyone else off Kiali's own port, so it is reached only through
//   `kubectl port-forward` (anonymous access, as the addon has it, but on no network path);
// - told its cluster's name, its Prometheus, and each other cluster: a kubeconfig Secret per peer
//   (labelled kiali.io/multiCluster=true, what Kiali's installers make) mounted where Kiali reads them,
//   for a `kiali-remote` service account in that peer bound to the same read-only role;
// - the config's hash in the pod template rolls the pod when the configuration changes.
import { KIALI_CONFIG_HASH_ANNOTATION } from '../core/vocabulary.ts';
import { istiodRelease, meshConfigMapName } from './revision.ts';
import { podInjectionLabels } from './revision.ts';
import { createHash } from 'node:crypto';
import { parse, stringify } from 'yaml';
import type { KubeObject } from '../k8s/object.ts';
import { IMAGES } from '../sources/lab-images.ts';
import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';
import { KIALI_NAMESPACE, peerNames, prometheusInClusterUrl } from './observability.ts';
import { addonError, addonObject, asList, asObj, markFromAddon, withoutChartLabels, type Addon, type Obj } from './upstream-addon.ts';

export const LAB_KIALI_DEPLOYMENT = 'kiali';
export const KIALI_PORT = 20001;
export const KIALI_REMOTE_ACCOUNT = 'kiali-remote';
export const KIALI_REMOTE_TOKEN = 'kiali-remote-token';
export const KIALI_MULTI_CLUSTER_LABEL = 'kiali.io/multiCluster';
export const KIALI_REMOTE_SECRET_PREFIX = 'kiali-remote-cluster-';
export const KIALI_SECRETS_DIR = '/kiali-remote-cluster-secrets';
const READ_VERBS = ['get', 'list', 'watch'];
const KIALI_ADDON: Addon = { name: 'kiali', renderer: 'src/render/lab-kiali.ts', chartLabels: ['helm.sh/chart', 'app.kubernetes.io/version', 'version'] };

export const kialiRemoteSecretName = (peer: string) => `${KIALI_REMOTE_SECRET_PREFIX}${peer}`;

/** The upstream config.yaml with the lab's cluster name, Prometheus, auth and view-only mode. */
export function labKialiConfig(spec: MeshSpec, cluster: ClusterSpec, upstreamYaml: string): string {
  const config = asObj(parse(upstreamYaml));
  config.auth = { ...asObj(config.auth), strategy: spec.observability.kialiAuth };
  // The peers' secrets are mounted by name (below); nothing is discovered at install time.
  config.clustering = { ...asObj(config.clustering), autodetect_secrets: { enabled: false }, clusters: [] };
  config.deployment = { ...asObj(config.deployment), view_only_mode: true, cluster_wide_access: true };
  const external = asObj(config.external_services);
  config.external_services = {
    ...external,
    prometheus: { ...asObj(external.prometheus), enabled: true, url: prometheusInClusterUrl(spec) },
    grafana: { enabled: false },
    tracing: { enabled: false },
    // Kiali checks AuthorizationPolicy principals against <domain>/ns/<ns>/sa/<sa>, cluster.local unless told.
    istio: {
      ...asObj(external.istio), root_namespace: KIALI_NAMESPACE, istio_identity_domain: `svc.${spec.trustDomain}`,
      // The spec's revision's istiod and its ConfigMaps (Kiali's defaults name the default revision's).
      ...(spec.istio.revision ? { istiod_deployment_name: istiodRelease(spec), config_map_name: meshConfigMapName(spec.istio.revision), istio_sidecar_injector_config_map_name: `istio-sidecar-injector-${spec.istio.revision}` } : {}),
    },
  };
  config.istio_namespace = KIALI_NAMESPACE;
  config.kubernetes_config = { ...asObj(config.kubernetes_config), cluster_name: cluster.name };
  return stringify(config, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** Upstream's ClusterRole cut down to reading (plus port-forward and the reviews Kiali's auth makes). */
export function kialiViewerRules(upstream: KubeObject): Obj[] {
  const keep = (rule: Obj): Obj | undefined => {
    const resources = asList(rule.resources as unknown).map(String);
    const verbs = asList(rule.verbs as unknown).map(String);
    const creates = resources.some((r) => r === 'pods/portforward' || r === 'tokenreviews' || r === 'subjectaccessreviews' || r === 'selfsubjectaccessreviews');
    const allowed = verbs.filter((v) => READ_VERBS.includes(v) || (creates && v === 'create'));
    return allowed.length ? { ...rule, verbs: allowed } : undefined;
  };
  return asList(upstream.rules as unknown).map(keep).filter((r): r is Obj => r !== undefined);
}

export function labKialiObjects(spec: MeshSpec, cluster: ClusterSpec, upstream: KubeObject[]): KubeObject[] {
  const object = (kind: string) => addonObject(KIALI_ADDON, upstream, kind);
  const configMap = object('ConfigMap');
  const data = asObj(configMap.data);
  if (typeof data['config.yaml'] !== 'string') throw addonError(KIALI_ADDON, 'Istio\'s addon ConfigMap kiali has no config.yaml');
  const config = labKialiConfig(spec, cluster, data['config.yaml']);
  configMap.data = { 'config.yaml': config };

  const role = object('ClusterRole');
  role.rules = kialiViewerRules(role);

  const deployment = object('Deployment');
  const template = asObj(asObj(deployment.spec).template);
  const metadata = asObj(template.metadata);
  const podSpec = asObj(template.spec);
  const container = asList(podSpec.containers).find((c) => c.name === 'kiali');
  if (!container) throw addonError(KIALI_ADDON, 'Istio\'s addon Deployment has no kiali container');
  container.image = IMAGES.kiali;
  container.imagePullPolicy = 'Never';
  // Upstream waits 30 s before the first probe; the lab's Kiali is up in a few.
  container.startupProbe = { ...asObj(container.startupProbe), initialDelaySeconds: 2, periodSeconds: 2, failureThreshold: 90 };
  container.readinessProbe = { ...asObj(container.readinessProbe), initialDelaySeconds: 2, periodSeconds: 5 };
  container.resources = { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '1Gi' } };
  const peers = peerNames(spec, cluster);
  container.volumeMounts = [
    ...asList(container.volumeMounts).filter((m) => !String(m.mountPath).startsWith(KIALI_SECRETS_DIR)),
    ...peers.map((p) => ({ name: kialiRemoteSecretName(p), mountPath: `${KIALI_SECRETS_DIR}/${kialiRemoteSecretName(p)}`, readOnly: true })),
  ];
  podSpec.volumes = [
    // Upstream's one optional multi-cluster Secret is replaced by the peers' own (its mount went above).
    ...asList(podSpec.volumes).filter((v) => asObj(v.secret).secretName !== 'kiali-multi-cluster-secret'),
    ...peers.map((p) => ({ name: kialiRemoteSecretName(p), secret: { secretName: kialiRemoteSecretName(p), optional: true } })),
  ];
  metadata.labels = { ...withoutChartLabels(KIALI_ADDON, metadata.labels), ...podInjectionLabels(spec) };
  const annotations = { ...asObj(metadata.annotations) } as Record<string, string>;
  delete annotations['checksum/config'];
  annotations[KIALI_CONFIG_HASH_ANNOTATION] = createHash('sha256').update(config).digest('hex').slice(0, 16);
  metadata.annotations = annotations;
  template.metadata = metadata;

  return [...markFromAddon(KIALI_ADDON, [object('ServiceAccount'), configMap, role, object('ClusterRoleBinding'), object('Service'), deployment], KIALI_NAMESPACE), allowNothing()];
}

/** Nobody reaches Kiali's port through the mesh: it is used through `kubectl port-forward` only. */
function allowNothing(): KubeObject {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'eastwest-kiali', namespace: KIALI_NAMESPACE },
    spec: { selector: { matchLabels: { 'app.kubernetes.io/name': 'kiali' } }, action: 'ALLOW' },
  };
}

export const KIALI_REMOTE_ROLE = 'eastwest-kiali-remote-reader';

/**
 * What another cluster's view-only Kiali reads here: workloads and their pods (logs, and port-forward,
 * which Kiali uses to ask proxies and istiod), services, namespaces, Istio's and the Gateway API's
 * configuration. eastwest's own role, so the binding never depends on a chart's role names (and holds
 * before any Kiali release exists). No secrets, no writes.
 */
export function kialiRemoteReaderRole(): KubeObject {
  const read = ['get', 'list', 'watch'];
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: KIALI_REMOTE_ROLE },
    rules: [
      { apiGroups: [''], resources: ['configmaps', 'endpoints', 'namespaces', 'nodes', 'pods', 'pods/log', 'replicationcontrollers', 'services'], verbs: read },
      { apiGroups: [''], resources: ['pods/portforward'], verbs: ['create', 'post'] },
      { apiGroups: ['apps'], resources: ['daemonsets', 'deployments', 'replicasets', 'statefulsets'], verbs: read },
      { apiGroups: ['batch'], resources: ['cronjobs', 'jobs'], verbs: read },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: read },
      { apiGroups: ['networking.istio.io', 'security.istio.io', 'extensions.istio.io', 'telemetry.istio.io', 'gateway.networking.k8s.io'], resources: ['*'], verbs: read },
      { apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations'], verbs: read },
    ],
  };
}

/**
 * In every cluster: the account other clusters' Kiali reads it as, bound to eastwest's read-only role,
 * and its token.
 */
export function kialiRemoteReaderObjects(): KubeObject[] {
  return [
    kialiRemoteReaderRole(),
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: KIALI_REMOTE_ACCOUNT, namespace: KIALI_NAMESPACE } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: KIALI_REMOTE_ACCOUNT },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: KIALI_REMOTE_ROLE },
      subjects: [{ kind: 'ServiceAccount', name: KIALI_REMOTE_ACCOUNT, namespace: KIALI_NAMESPACE }],
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: KIALI_REMOTE_TOKEN, namespace: KIALI_NAMESPACE, annotations: { 'kubernetes.io/service-account.name': KIALI_REMOTE_ACCOUNT } },
      type: 'kubernetes.io/service-account-token',
    },
  ];
}
