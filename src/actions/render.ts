// `eastwest render`: spec → CA (created if missing) → per-cluster releases and manifests as files.
import { loadRenderAddons } from '../engine/render-addons.ts';
import type { Reporter } from '../core/reporter.ts';
import { renderedFiles, type OutputFile } from '../render/output-files.ts';
import type { PendingAddress } from '../render/federation-service-entry.ts';
import { renderMesh } from '../components/render-mesh.ts';
import { observabilityWarnings } from '../render/observability-releases.ts';
import { loadMeshSpec } from '../spec/load-file.ts';
import { localCaBundle } from './ensure-ca.ts';

export interface RenderResult {
  meshID: string;
  files: Map<string, OutputFile>;
  pending: (PendingAddress & { cluster: string })[];
  /** Clusters rendered without cacerts: no usable intermediate in the local CA directory. */
  cacertsMissing: string[];
}

export async function renderSpecFile(file: string, reporter: Reporter): Promise<RenderResult> {
  const decoded = await loadMeshSpec(file);
  const { spec } = decoded.document;
  // Read-only: render never creates or changes a CA (a teammate's clone renders without the keys).
  const { directory, bundle, missing } = await localCaBundle(decoded);
  if (missing.length) {
    reporter.report({ level: 'info', code: 'ca-absent', message: `cacerts not rendered for ${missing.join(', ')}: no intermediate of the local root in ${directory} (apply takes them from the clusters, or issues them; \`eastwest ca init\` makes a CA for a new mesh)` });
  }
  const clusters = renderMesh({ spec, pki: bundle, addons: await loadRenderAddons(spec) });
  for (const message of observabilityWarnings(spec)) reporter.report({ level: 'warn', code: 'observability-exposed', message });
  const pending = clusters.flatMap((c) => c.pending.map((p) => ({ cluster: c.cluster.name, ...p })));
  for (const p of pending) {
    reporter.report({ level: 'info', code: 'address-pending', message: `${p.cluster}: ${p.object} needs the east-west gateway address of ${p.gatewayOf}; apply discovers it (or set clusters[].eastWestGateway.address)` });
  }
  return { meshID: spec.meshID, files: renderedFiles(spec.meshID, clusters), pending, cacertsMissing: missing };
}
