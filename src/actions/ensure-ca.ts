// `ca init` (the one command that makes keys on request) and the local, read-only CA that render uses.
import type { Reporter } from '../core/reporter.ts';
import { pkiDirectory } from '../engine/mesh-ca.ts';
import { istioCacerts, type IstioCacerts } from '../pki/ca.ts';
import { planCa } from '../pki/trust-plan.ts';
import { ensurePki, readPki, type PkiBundle, type PkiChange, type Rotation } from '../pki/store.ts';
import type { DecodedSpec } from '../spec/decode.ts';

export async function ensureCa(decoded: DecodedSpec, reporter: Reporter, rotate: Rotation = 'none'): Promise<{ directory: string; changes: PkiChange[] }> {
  const { spec } = decoded.document;
  const directory = pkiDirectory(decoded);
  const { changes } = await ensurePki({
    directory,
    clusters: spec.clusters.map((c) => c.name),
    keyAlgorithm: spec.pki.keyAlgorithm,
    rootValidityDays: spec.pki.rootValidityDays,
    intermediateValidityDays: spec.pki.intermediateValidityDays,
    organization: spec.meshID,
    rotate,
  });
  for (const change of changes) {
    if (change.action !== 'kept') reporter.report({ level: 'info', code: 'ca-changed', message: `CA ${change.what}: ${change.action}${change.reason ? ` (${change.reason})` : ''} in ${directory}` });
  }
  return { directory, changes };
}

/**
 * The local CA as it is, for render: never created or changed. A cluster without a usable local
 * intermediate (none, or not of the local root) gets no cacerts in the output; `missing` names them.
 */
export async function localCaBundle(decoded: DecodedSpec): Promise<{ directory: string; bundle: PkiBundle; missing: string[] }> {
  const directory = pkiDirectory(decoded);
  const names = decoded.document.spec.clusters.map((c) => c.name).sort();
  const local = await readPki(directory, names);
  const cacerts = new Map<string, IstioCacerts>();
  const root = local?.rootCertPem;
  // The same judgement apply makes of a local intermediate (of the local root, valid now), with no live cluster.
  if (local && root) {
    for (const c of planCa({ selected: names, local, live: new Map() }).clusters) if (c.source === 'local') cacerts.set(c.cluster, istioCacerts(c.intermediate, root));
  }
  return { directory, bundle: { ...(root ? { rootCertPem: root } : {}), cacerts }, missing: names.filter((n) => !cacerts.has(n)) };
}
