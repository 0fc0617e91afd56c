// The in-cluster sync controller (ServiceExport → routes in every other cluster): its namespace, reader
// account, RBAC and spec; its access Secret (every other cluster's eastwest-sync-reader token) and its
// Deployment (restarted when that access or the spec changes) are made from live tokens, and stay as
// they are while a peer's token or the image is unknown.
import { createHash } from 'node:crypto';
import type { Component, LiveInput } from './component.ts';
import { noEnsured, staged } from './component.ts';
import { owned } from '../k8s/ownership.ts';
import { objectRef, type KubeObject } from '../k8s/object.ts';
import { SYNC_ACCESS_SECRET, SYNC_CONTROLLER, SYNC_NAMESPACE, controllerSpecYaml, syncAccessSecret, syncControllerDeployment, syncControllerRbac, syncNamespace, syncReaderObjects, syncSpecConfigMap } from '../render/sync-controller.ts';
import type { ReaderTokenSource } from '../render/remote-secrets.ts';
import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';

export const SYNC_LIVE_REFS = [`Secret/${SYNC_NAMESPACE}/${SYNC_ACCESS_SECRET}`, `Deployment/${SYNC_NAMESPACE}/${SYNC_CONTROLLER}`];

/** The sync reader's token: its namespace and account first. */
export function syncReaderSource(spec: MeshSpec): ReaderTokenSource {
  const [account, token] = syncReaderObjects();
  return { secret: owned(spec.meshID, token!), prerequisites: [owned(spec.meshID, syncNamespace()), owned(spec.meshID, account!)] };
}

/** The access Secret and the Deployment, or none while a peer's access or the image is unknown. */
export function syncLiveObjects(spec: MeshSpec, cluster: ClusterSpec, live: LiveInput): KubeObject[] {
  const peers = live.readers.sync ?? new Map();
  if (!live.syncImage || spec.clusters.some((c) => c.name !== cluster.name && !peers.has(c.name))) return [];
  const access = syncAccessSecret(spec, cluster, peers);
  const accessHash = createHash('sha256').update(JSON.stringify(access.stringData)).digest('hex');
  const deployment = syncControllerDeployment(spec, cluster, { image: live.syncImage, specYaml: controllerSpecYaml(spec, undefined), accessHash });
  return [access, deployment].map((o) => owned(spec.meshID, o));
}

export const syncController: Component = {
  id: 'sync-controller',
  description: 'the in-cluster sync controller: ServiceExports become routes in every other cluster',
  enabled: (spec) => spec.sync.inCluster,
  render: ({ spec }) => (spec.sync.inCluster
    ? { postInstall: [...staged('namespaces', [syncNamespace()]), ...staged('secrets', [...syncReaderObjects(), ...syncControllerRbac(), syncSpecConfigMap(controllerSpecYaml(spec, undefined))])] }
    : {}),
  derived: [{
    what: 'the sync controller\'s access and Deployment',
    reader: 'sync',
    phase: 'post-install',
    diff: 'content',
    refs: (spec) => (spec.sync.inCluster ? SYNC_LIVE_REFS : []),
    objects: (spec, cluster, live) => (spec.sync.inCluster ? syncLiveObjects(spec, cluster, live).map((object) => ({ stage: object.kind === 'Secret' ? 'secrets' : 'istio-config', object })) : []),
  }],
  ensured: noEnsured,
  readers: { sync: syncReaderSource },
  pruneKinds: [
    { apiVersion: 'apps/v1', kind: 'Deployment' },
    { apiVersion: 'v1', kind: 'ServiceAccount' },
    { apiVersion: 'v1', kind: 'ConfigMap' },
    { apiVersion: 'v1', kind: 'Secret' },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole' },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding' },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
  ],
  // Up before apply returns (verify checks it right after).
  waits: (_spec, _cluster, desired) => (desired.some((o) => objectRef(o) === SYNC_LIVE_REFS[1]) ? [{ kind: 'Deployment', namespace: SYNC_NAMESPACE, name: SYNC_CONTROLLER }] : []),
  checks: ['sync-controller', 'service-exports'],
};
