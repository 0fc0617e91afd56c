// The in-cluster sync controller (spec.sync.inCluster), pure: per cluster a Deployment of `eastwest sync`
// in eastwest-system that writes only its own cluster and reads the others; two replicas, one acting (a
// Lease). Least privilege: the controller may write the kinds the imports are made of, the ServiceExport
// status, its status ConfigMap and its Lease; the other clusters' controllers read this one with a
// reader account that may only list and watch ServiceExports and Services.
import { CONFIG_HASH_ANNOTATION, SIDECAR_INJECT_KEY, SPEC_API_VERSION } from '../core/vocabulary.ts';
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { KubeObject } from '../k8s/object.ts';
import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';
import { ISTIO_NAMESPACE } from './helm-releases.ts';

export const SYNC_NAMESPACE = 'eastwest-system';
export const SYNC_CONTROLLER = 'eastwest-sync';
export const SYNC_READER = 'eastwest-sync-reader';
export const SYNC_READER_TOKEN = 'eastwest-sync-reader-token';
export const SYNC_LEASE = 'eastwest-sync';
export const SYNC_ACCESS_SECRET = 'eastwest-sync-access';
export const SYNC_SPEC_CONFIGMAP = 'eastwest-sync-spec';
export const SYNC_STATUS_CONFIGMAP = 'eastwest-sync-status';
const SPEC_FILE = 'mesh.yaml';
const ACCESS_FILE = 'kubeconfig';
const SPEC_DIR = '/etc/eastwest/spec';
const ACCESS_DIR = '/etc/eastwest/access';
const IN_CLUSTER_SA = '/var/run/secrets/kubernetes.io/serviceaccount';
const RUN_AS = 65532;

const labels = { 'app.kubernetes.io/name': SYNC_CONTROLLER, 'app.kubernetes.io/component': 'sync-controller' };
const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** The spec as the controller reads it (decoded, defaults filled in; it holds no key material). */
export function controllerSpecYaml(spec: MeshSpec, name: string | undefined): string {
  return stringify({ apiVersion: SPEC_API_VERSION, kind: 'Mesh', ...(name ? { metadata: { name } } : {}), spec }, { sortMapEntries: true });
}

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
type Subject = { kind: 'ServiceAccount'; name: string; namespace: string };
const account = (name: string): Subject => ({ kind: 'ServiceAccount', name, namespace: SYNC_NAMESPACE });

/** A role (a ClusterRole without `namespace`) named `name`, and its binding to `subjects`. */
function roleAndBinding(name: string, namespace: string | undefined, rules: Rule[], subjects: Subject[]): KubeObject[] {
  const [role, binding] = namespace === undefined ? ['ClusterRole', 'ClusterRoleBinding'] : ['Role', 'RoleBinding'];
  const metadata = { name, ...(namespace === undefined ? {} : { namespace }), labels };
  return [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: role!, metadata, rules },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: binding!, metadata, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: role!, name }, subjects },
  ];
}

/** Objects every cluster needs so that the other clusters' controllers can read it. */
export function syncReaderObjects(): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: SYNC_READER, namespace: SYNC_NAMESPACE, labels } },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: SYNC_READER_TOKEN, namespace: SYNC_NAMESPACE, labels, annotations: { 'kubernetes.io/service-account.name': SYNC_READER } },
      type: 'kubernetes.io/service-account-token',
    },
    ...roleAndBinding(SYNC_READER, undefined, [
      { apiGroups: ['multicluster.x-k8s.io'], resources: ['serviceexports'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
    ], [
      account(SYNC_READER),
      // The controller reads its own cluster as the others do.
      account(SYNC_CONTROLLER),
    ]),
  ];
}

const WRITE = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

/** The controller's own account and what it may write in its cluster. */
export function syncControllerRbac(): KubeObject[] {
  const controller = [account(SYNC_CONTROLLER)];
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: SYNC_CONTROLLER, namespace: SYNC_NAMESPACE, labels } },
    ...roleAndBinding(SYNC_CONTROLLER, undefined, [
      { apiGroups: ['networking.istio.io'], resources: ['serviceentries', 'workloadentries', 'destinationrules'], verbs: WRITE },
      { apiGroups: ['multicluster.x-k8s.io'], resources: ['serviceimports'], verbs: WRITE },
      { apiGroups: ['multicluster.x-k8s.io'], resources: ['serviceexports/status'], verbs: ['get', 'patch', 'update'] },
      // An imported service's namespace is made where it does not exist; a user's is never changed.
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'create'] },
    ], controller),
    ...roleAndBinding(SYNC_CONTROLLER, SYNC_NAMESPACE, [
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [SYNC_LEASE], verbs: ['get', 'update'] },
    ], controller),
    ...roleAndBinding(SYNC_CONTROLLER, ISTIO_NAMESPACE, [
      { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
      { apiGroups: [''], resources: ['configmaps'], resourceNames: [SYNC_STATUS_CONFIGMAP], verbs: ['get', 'update', 'patch'] },
    ], controller),
  ];
}

/** How a controller reaches a peer: its API server, CA and the peer's reader token. */
export interface PeerReadAccess {
  server: string;
  caData: string;
  token: string;
}

/**
 * The kubeconfig the controller in `cluster` uses: a context per cluster named as in the spec, its own
 * cluster through the in-cluster service account, every peer through that peer's reader token.
 */
export function syncAccessSecret(spec: MeshSpec, cluster: ClusterSpec, peers: ReadonlyMap<string, PeerReadAccess>): KubeObject {
  const entries = spec.clusters.map((c) => {
    if (c.name === cluster.name) {
      return {
        cluster: { name: c.name, cluster: { server: 'https://kubernetes.default.svc', 'certificate-authority': `${IN_CLUSTER_SA}/ca.crt` } },
        // Read again every minute (client-node's tokenFile provider): the kubelet rotates this token.
        user: { name: c.name, user: { 'auth-provider': { name: 'tokenFile', config: { tokenFile: `${IN_CLUSTER_SA}/token` } } } },
        context: { name: c.context, context: { cluster: c.name, user: c.name } },
      };
    }
    const access = peers.get(c.name);
    if (!access) throw new Error(`no read access to ${c.name}`);
    return {
      cluster: { name: c.name, cluster: { server: access.server, 'certificate-authority-data': access.caData } },
      user: { name: c.name, user: { token: access.token } },
      context: { name: c.context, context: { cluster: c.name, user: c.name } },
    };
  });
  const kubeconfig = stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: entries.map((e) => e.cluster),
    users: entries.map((e) => e.user),
    contexts: entries.map((e) => e.context),
    'current-context': cluster.context,
  });
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: SYNC_ACCESS_SECRET, namespace: SYNC_NAMESPACE, labels },
    type: 'Opaque',
    stringData: { [ACCESS_FILE]: kubeconfig },
  };
}

/** The spec the controller reads, as a ConfigMap. */
export function syncSpecConfigMap(specYaml: string): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: SYNC_SPEC_CONFIGMAP, namespace: SYNC_NAMESPACE, labels }, data: { [SPEC_FILE]: specYaml } };
}

/**
 * The controller's Deployment. `accessHash` (a hash of the access Secret) restarts the pods when a token
 * or an address changes; so does a changed spec.
 */
export function syncControllerDeployment(spec: MeshSpec, cluster: ClusterSpec, input: { image: string; specYaml: string; accessHash: string }): KubeObject {
  const podLabels = { ...labels, 'app.kubernetes.io/instance': cluster.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: SYNC_CONTROLLER, namespace: SYNC_NAMESPACE, labels },
    spec: {
      replicas: spec.sync.replicas,
      selector: { matchLabels: podLabels },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      template: {
        metadata: {
          labels: podLabels,
          annotations: { [SIDECAR_INJECT_KEY]: 'false', [CONFIG_HASH_ANNOTATION]: hash(`${input.specYaml}\n${input.accessHash}`) },
        },
        spec: {
          serviceAccountName: SYNC_CONTROLLER,
          securityContext: { runAsNonRoot: true, runAsUser: RUN_AS, runAsGroup: RUN_AS, fsGroup: RUN_AS, seccompProfile: { type: 'RuntimeDefault' } },
          affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: podLabels } } }] } },
          terminationGracePeriodSeconds: 10,
          containers: [
            {
              name: 'sync',
              image: input.image,
              imagePullPolicy: 'IfNotPresent',
              args: [
                'sync', 'run',
                '-f', `${SPEC_DIR}/${SPEC_FILE}`,
                '--kubeconfig', `${ACCESS_DIR}/${ACCESS_FILE}`,
                '--clusters', cluster.name,
                '--leader-election',
                // Short enough that a frozen peer shows as stale within seconds; ample for an idle API server.
                '--request-timeout', '5s',
              ],
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
              ],
              resources: { requests: { cpu: '20m', memory: '96Mi' }, limits: { memory: '1Gi' } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              volumeMounts: [
                { name: 'spec', mountPath: SPEC_DIR, readOnly: true },
                { name: 'access', mountPath: ACCESS_DIR, readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: 'spec', configMap: { name: SYNC_SPEC_CONFIGMAP } },
            { name: 'access', secret: { secretName: SYNC_ACCESS_SECRET, defaultMode: 0o440 } },
          ],
        },
      },
    },
  };
}

export const syncNamespace = (): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: SYNC_NAMESPACE, labels } });
