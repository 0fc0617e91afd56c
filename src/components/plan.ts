// The one planner under apply and diff: every enabled component's render, its derived objects whose live
// input is known, what is only created where absent, and which owned objects stay although not desired
// now. apply writes this plan; diff compares it without writing. Pure.
import { objectRef, STAGES, type KubeObject } from '../k8s/object.ts';
import { undesired } from '../k8s/resource-manager.ts';
import type { PendingAddress } from '../render/federation-service-entry.ts';
import type { HelmRelease } from '../render/helm-releases.ts';
import { compareObjects, type RenderInput, type StagedObject } from '../render/render-mesh.ts';
import type { ReaderTokenSource } from '../render/remote-secrets.ts';
import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';
import type { Component, Derived, Ensured, LiveInput, Phase, ReaderId, Wait } from './component.ts';
import { COMPONENTS } from './registry.ts';
import { renderCluster } from './render-mesh.ts';

export interface ClusterPlan {
  cluster: ClusterSpec;
  releases: HelmRelease[];
  /** Written before the releases: rendered, then derived (pre-install phase) whose input is known. */
  preInstall: KubeObject[];
  /** Written after the releases, with prune. */
  postInstall: KubeObject[];
  /** Objects left as they are until a remote gateway's address is known (not written, not pruned). */
  pending: PendingAddress[];
  /** Created where absent, never changed or pruned. */
  ensured: Ensured[];
  /** Derived refs diff compares by presence only (their content carries a token). */
  presence: string[];
  /** Owned objects that are not desired now but stay: input unknown now, address pending, ensured, not rendered. */
  kept: (ref: string) => boolean;
  /** What apply waits for once everything is written. */
  waits: Wait[];
  /** What a component derives that stays as it is now (a peer's token, or the image, unknown). */
  leftAsIs: string[];
  /** True when the CA material for cacerts is not known now. */
  cacertsMissing: boolean;
}

const byStage = (list: StagedObject[]) =>
  list.sort((a, b) => STAGES.indexOf(a.stage) - STAGES.indexOf(b.stage) || compareObjects(a.object, b.object)).map((s) => s.object);

const enabledComponents = (spec: MeshSpec, components: readonly Component[] = COMPONENTS) => components.filter((c) => c.enabled(spec));

/** The readers whose tokens `phase`'s derived objects need (all phases when absent), filtered by how diff compares them. */
export function readersNeeded(spec: MeshSpec, options: { phase?: Phase; diff?: Derived['diff'] } = {}, components: readonly Component[] = COMPONENTS): Map<ReaderId, ReaderTokenSource> {
  const needed = new Map<ReaderId, ReaderTokenSource>();
  for (const component of enabledComponents(spec, components)) {
    for (const d of component.derived) {
      if (options.phase && d.phase !== options.phase) continue;
      if (options.diff && d.diff !== options.diff) continue;
      // A derivation that makes nothing in this spec (Istio's remote secrets in service-entry mode) reads no token.
      if (!spec.clusters.some((c) => d.refs(spec, c).length > 0)) continue;
      const source = component.readers[d.reader];
      if (source) needed.set(d.reader, source(spec));
    }
  }
  return needed;
}

export function planCluster(input: RenderInput, cluster: ClusterSpec, live: LiveInput, components: readonly Component[] = COMPONENTS): ClusterPlan {
  const { spec } = input;
  const enabled = enabledComponents(spec, components);
  const rendered = renderCluster(input, cluster, components);
  const pendingRefs = new Set(rendered.pending.map((p) => p.object));
  const seen = new Set([...rendered.preInstall, ...rendered.postInstall].map((s) => objectRef(s.object)));
  const derived = { 'pre-install': [] as StagedObject[], 'post-install': [] as StagedObject[] };
  const derivedRefs = new Set<string>();
  const presence: string[] = [];
  const leftAsIs: string[] = [];
  for (const d of enabled.flatMap((c) => c.derived)) {
    const refs = d.refs(spec, cluster);
    let made = 0;
    for (const ref of refs) derivedRefs.add(ref);
    if (d.diff === 'presence') presence.push(...refs);
    for (const s of d.objects(spec, cluster, live)) {
      const ref = objectRef(s.object);
      if (!refs.includes(ref)) throw new Error(`component derives ${ref}, which it does not declare`);
      if (seen.has(ref)) continue;
      seen.add(ref);
      derived[d.phase].push(s);
      made += 1;
    }
    if (made < refs.length) leftAsIs.push(d.what);
  }
  const ensured = enabled.flatMap((c) => c.ensured(spec, cluster, input));
  const ensuredRefs = new Set(ensured.map((e) => e.ref));
  const unrendered = new Set(rendered.unrendered);
  const notPending = (o: KubeObject) => !pendingRefs.has(objectRef(o));
  const preInstall = byStage([...rendered.preInstall, ...derived['pre-install']]).filter(notPending);
  const postInstall = byStage([...rendered.postInstall, ...derived['post-install']]).filter(notPending);
  return {
    cluster,
    releases: rendered.releases,
    preInstall,
    postInstall,
    pending: rendered.pending,
    ensured,
    presence,
    // A derived ref whose input is unknown now keeps what is there; one no longer declared (a peer removed
    // from the spec, another federation mode) is not kept, and goes.
    kept: (ref) => pendingRefs.has(ref) || unrendered.has(ref) || ensuredRefs.has(ref) || (derivedRefs.has(ref) && !seen.has(ref)),
    leftAsIs,
    waits: enabled.flatMap((c) => c.waits(spec, cluster, [...preInstall, ...postInstall])),
    cacertsMissing: rendered.cacertsMissing,
  };
}

/** Owned objects (listed by the components' prune kinds) to delete: neither desired nor kept. */
export function pruneSet(plan: ClusterPlan, owned: readonly KubeObject[]): KubeObject[] {
  return undesired(owned, [...plan.preInstall, ...plan.postInstall]).filter((o) => !plan.kept(objectRef(o)));
}
