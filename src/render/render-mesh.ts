// What render produces for a cluster (the components compose it: src/components/render-mesh.ts), and the
// order objects are written in. Render is pure and deterministic: no I/O, no clock, no randomness;
// objects sorted; the same input gives the same output.
import type { KubeObject, Stage } from '../k8s/object.ts';
import type { PkiBundle } from '../pki/store.ts';
import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';
import type { PendingAddress } from './federation-service-entry.ts';
import type { HelmRelease } from './helm-releases.ts';

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
  /** Refs a component would render but cannot now (cacerts without CA material): never pruned. */
  unrendered: string[];
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
  /** The MCS API's CRDs, or why they could not be read (created where absent, not rendered). */
  mcsCrds?: readonly KubeObject[] | Error;
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
