// Render: spec + CA material (+ known gateway addresses) → what each cluster needs, composed from every
// component's pure render. Deterministic: no I/O, no clock, no randomness; objects sorted by stage and
// kind; the same input gives the same output.
import { objectRef, STAGES } from '../k8s/object.ts';
import { owned } from '../k8s/ownership.ts';
import { compareObjects, type RenderedCluster, type RenderInput, type StagedObject } from '../render/render-mesh.ts';
import type { ClusterSpec } from '../spec/schema.ts';
import type { Component } from './component.ts';
import { CACERTS_REF } from '../render/mesh-objects.ts';
import { COMPONENTS } from './registry.ts';

const sortStaged = (list: StagedObject[]) => list.sort((a, b) => STAGES.indexOf(a.stage) - STAGES.indexOf(b.stage) || compareObjects(a.object, b.object));

export function renderCluster(input: RenderInput, cluster: ClusterSpec, components: readonly Component[] = COMPONENTS): RenderedCluster {
  const { spec } = input;
  const parts = components.filter((c) => c.enabled(spec)).map((c) => c.render(input, cluster));
  // One object per ref, the first component's (in registry order), whichever phase it is in.
  const seen = new Set<string>();
  const once = (list: StagedObject[]) => list.filter((s) => !seen.has(objectRef(s.object)) && Boolean(seen.add(objectRef(s.object))));
  const ownedStaged = (list: StagedObject[]) => list.map((s) => ({ stage: s.stage, object: owned(spec.meshID, s.object) }));
  const preInstall = once(ownedStaged(parts.flatMap((p) => p.preInstall ?? [])));
  const postInstall = once(ownedStaged(parts.flatMap((p) => p.postInstall ?? [])));
  return {
    cluster,
    releases: parts.flatMap((p) => p.releases ?? []),
    preInstall: sortStaged(preInstall),
    postInstall: sortStaged(postInstall),
    pending: parts.flatMap((p) => p.pending ?? []),
    cacertsMissing: parts.some((p) => (p.unrendered ?? []).includes(CACERTS_REF)),
    unrendered: parts.flatMap((p) => p.unrendered ?? []),
  };
}

export function renderMesh(input: RenderInput, components: readonly Component[] = COMPONENTS): RenderedCluster[] {
  return [...input.spec.clusters].sort((a, b) => a.name.localeCompare(b.name)).map((c) => renderCluster(input, c, components));
}
