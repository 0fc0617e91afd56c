// Istio's control-plane revision as the spec names it (spec.istio.revision). Without one, istiod is the
// default revision (release `istiod`, namespaces labelled istio-injection=enabled), as installs before
// revisions were. With one, istiod is `istiod-<revision>`, the namespaces eastwest makes are labelled
// istio.io/rev=<revision>, the east-west gateway's pods carry it, and istio-base's default validator
// points at it. A changed revision is installed beside the current one (a canary: workloads move as they restart).
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
