// Istio's control-plane revision as the spec names it (spec.istio.revision). Without one, istiod is the
// default revision (release `istiod`, namespaces labelled istio-injection=enabled), as installs before
// revisions were. With one, istiod is `istiod-<revision>`, the namespaces eastwest makes are labelled
// istio.io/rev=<revision>, the east-west gateway's pods carry it, and istio-base's default validator
// points at it. A canary upgrade installs the next revision beside the current one (`eastwest upgrade`).
import { INJECTION_LABEL, REVISION_LABEL, SIDECAR_INJECT_KEY } from '../core/vocabulary.ts';
import type { MeshSpec } from '../spec/schema.ts';

type WithRevision = { istio: Pick<MeshSpec['istio'], 'revision'> };

/** The Helm release (and Deployment, Service) name of a revision's istiod. */
export const istiodName = (revision: string | undefined): string => (revision ? `istiod-${revision}` : 'istiod');
export const istiodRelease = (spec: WithRevision): string => istiodName(spec.istio.revision);

/** The mesh config a revision's istiod reads (ConfigMap istio-system/istio[-<revision>]). */
export const meshConfigMapName = (revision: string | undefined): string => (revision ? `istio-${revision}` : 'istio');

/** What selects a revision's injector for a namespace. */
export function revisionNamespaceLabels(revision: string | undefined): Record<string, string> {
  return revision ? { [REVISION_LABEL]: revision } : { [INJECTION_LABEL]: 'enabled' };
}
export const namespaceInjectionLabels = (spec: WithRevision): Record<string, string> => revisionNamespaceLabels(spec.istio.revision);

/** What a pod in a namespace without injection labels carries to get the revision's sidecar. */
export function podInjectionLabels(spec: WithRevision): Record<string, string> {
  return { [SIDECAR_INJECT_KEY]: 'true', ...(spec.istio.revision ? { [REVISION_LABEL]: spec.istio.revision } : {}) };
}

/** The revision a live istiod release stands for (`istiod` → the default revision, undefined). */
export function revisionOfRelease(release: string): string | undefined {
  return release === 'istiod' ? undefined : /^istiod-(.+)$/.exec(release)?.[1];
}

/** A revision name for a version, as Istio's docs name them (1.31.2 → 1-31-2; 1.31-alpha.eed52e… → 1-31-alpha-eed52e…). */
export function suggestedRevision(version: string): string {
  return version.toLowerCase().replace(/^v/, '').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '');
}
