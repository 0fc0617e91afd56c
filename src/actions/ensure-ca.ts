// `ca init` and the CA step of render/apply: the CA directory beside the spec, created or kept.
import { dirname, resolve } from 'node:path';
import type { Reporter } from '../core/reporter.ts';
import { ensurePki, type PkiBundle, type PkiChange, type Rotation } from '../pki/store.ts';
import type { DecodedSpec } from '../spec/decode.ts';

export function pkiDirectory(decoded: DecodedSpec): string {
  return resolve(dirname(decoded.file), decoded.document.spec.pki.directory);
}

export async function ensureCa(decoded: DecodedSpec, reporter: Reporter, rotate: Rotation = 'none'): Promise<{ directory: string; bundle: PkiBundle; changes: PkiChange[] }> {
  const { spec } = decoded.document;
  const directory = pkiDirectory(decoded);
  const { bundle, changes } = await ensurePki({
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
  return { directory, bundle, changes };
}
