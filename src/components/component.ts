// A component is one feature of the mesh, declared as data: its Helm releases and desired objects (pure
// render), the objects it derives from live peers (reader tokens read at apply time), the objects it
// only creates where absent, the kinds it may prune, what apply waits for, and the checks that diagnose
// it. One planner (plan.ts) turns every enabled component into the change set that apply writes and
// diff compares, so the two cannot disagree.
import type { KubeObject, Stage } from '../k8s/object.ts';
import type { HelmRelease } from '../render/helm-releases.ts';
import type { PendingAddress } from '../render/federation-service-entry.ts';
import type { ReaderTokenSource } from '../render/remote-secrets.ts';
import type { RenderInput, StagedObject } from '../render/render-mesh.ts';
import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';

export interface Kind {
  apiVersion: string;
  kind: string;
}

/** A peer's API server as the other clusters reach it, with a reader's token (read live). */
export interface PeerAccess {
  server: string;
  caData: string;
  token: string;
}

/** Whose token a derived object is made from: Istio's reader, Kiali's, the sync controller's. */
export type ReaderId = 'istio' | 'kiali' | 'sync';

/** What apply reads live before it makes derived objects. A peer absent from a map is not known now. */
export interface LiveInput {
  readers: Partial<Record<ReaderId, ReadonlyMap<string, PeerAccess>>>;
  /** The sync controller's image (the spec's, or the one the lab loaded). */
  syncImage?: string;
}

/** When derived objects are written: before the Helm releases (a chart reads them at install) or after. */
export type Phase = 'pre-install' | 'post-install';

export interface Derived {
  /** What the objects are (messages). */
  what: string;
  reader: ReaderId;
  phase: Phase;
  /** How diff compares them: by presence (a token changes on every read) or by content. */
  diff: 'presence' | 'content';
  /** Every ref this component derives in `cluster` when its input is known. */
  refs(spec: MeshSpec, cluster: ClusterSpec): string[];
  /** The objects whose input is known now (each must be one of refs()). */
  objects(spec: MeshSpec, cluster: ClusterSpec, live: LiveInput): StagedObject[];
}

/** An object created where absent and never changed or pruned (its content is made once: a password, a CRD). */
export interface Ensured {
  ref: string;
  /** What to read to tell whether it is there (apiVersion, kind, name, namespace). */
  target: KubeObject;
  /** Makes it (called only when it is absent). */
  make?: () => KubeObject;
  /** Why it cannot be had here, and whether that stops apply (`fatal`) or is only said. */
  unavailable?: { error: Error; fatal: boolean };
}

export interface Wait {
  kind: 'Deployment' | 'StatefulSet';
  namespace: string;
  name: string;
}

export interface ComponentRender {
  releases: HelmRelease[];
  /** Applied before the Helm releases (istiod and charts read them at start). */
  preInstall: StagedObject[];
  /** Applied after the Helm releases (they need Istio's CRDs). */
  postInstall: StagedObject[];
  /** Objects left to apply until a remote gateway's address is known. */
  pending: PendingAddress[];
  /** Objects of this component not rendered for want of CA material (never pruned). */
  unrendered: string[];
}

export interface Component {
  id: string;
  /** One line: what it is (README, `eastwest components`). */
  description: string;
  enabled(spec: MeshSpec): boolean;
  /** Pure and deterministic. */
  render(input: RenderInput, cluster: ClusterSpec): Partial<ComponentRender>;
  derived: readonly Derived[];
  ensured(spec: MeshSpec, cluster: ClusterSpec, input: RenderInput): Ensured[];
  /** Readers whose tokens its derived objects need, with the objects that make each token. */
  readers: Partial<Record<ReaderId, (spec: MeshSpec) => ReaderTokenSource>>;
  /** Kinds of owned objects it may delete when no longer desired. */
  pruneKinds: readonly Kind[];
  /** What apply waits for once its objects are written. */
  waits(spec: MeshSpec, cluster: ClusterSpec, desired: readonly KubeObject[]): Wait[];
  /** Ids of the doctor/verify checks that diagnose it. */
  checks: readonly string[];
}

export const staged = (stage: Stage, objects: readonly KubeObject[]): StagedObject[] => objects.map((object) => ({ stage, object }));

export const NO_DERIVED: readonly Derived[] = [];
export const noEnsured = (): Ensured[] => [];
export const noWaits = (): Wait[] => [];
