// The lab's pinned upstream versions (lab/versions.json) and the cache key derived from them.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface LabVersions {
  kubernetes: { module: string; version: string; stagingVersion: string };
  etcd: { module: string; version: string };
  coredns: { module: string; version: string };
  helm: { module: string; version: string };
  istio: { module: string; version: string; release: string };
  /** An older istio.io/istio snapshot: the other side of the upgrade proofs (built only when asked for). */
  istioPrevious: { module: string; version: string; release: string };
  prometheus: { module: string; version: string; release: string };
  kiali: { module: string; version: string };
  fortio: { module: string; version: string };
  envoy: { pypi: string; version: string };
  debian: { suite: string; hostPackages: string[]; imagePackages: string[] };
}

export const VERSIONS_FILE = new URL('../../lab/versions.json', import.meta.url);

export function readLabVersions(): LabVersions {
  return JSON.parse(readFileSync(VERSIONS_FILE, 'utf8')) as LabVersions;
}

/**
 * The version a lab build of Istio reports (istiod's and every proxy's): the module's release with the
 * snapshot's commit, as Istio names builds of its main branch (`1.31-alpha.<commit>`).
 */
export function istioBuildVersion(pins: { version: string; release: string }): string {
  const commit = /-([0-9a-f]{12})$/.exec(pins.version)?.[1];
  return commit ? `${pins.release}-alpha.${commit}` : pins.version.replace(/^v/, '');
}

/** Hash of one part's pins: a part is rebuilt only when its own pins change. */
export function pinHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 12);
}
