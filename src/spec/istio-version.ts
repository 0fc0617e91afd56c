// Is the spec's Istio version one its chart source has? Pure: the caller says what the source has —
// the lab's pinned release offline (lab/versions.json), a Helm repository's or registry's chart versions
// as helm reports them.
import type { Problem } from '../core/errors.ts';
import type { MeshSpec } from './schema.ts';

/** The lab's charts: the Istio source tree inside its pinned istio.io/istio Go module. */
export const LAB_ISTIO_CHARTS = 'lab://istio-charts';

const plain = (version: string) => version.trim().replace(/^v/, '');
const releaseOf = (version: string) => plain(version).split('.').slice(0, 2).join('.');
const isRelease = (version: string) => /^\d+\.\d+$/.test(plain(version));

/** Newest first, by numeric parts (1.31.10 after 1.31.9). */
function newestFirst(versions: readonly string[]): string[] {
  const parts = (v: string) => plain(v).split(/[.+-]/).map((p) => (/^\d+$/.test(p) ? Number(p) : -1));
  return [...versions].sort((a, b) => {
    const [x, y] = [parts(a), parts(b)];
    for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? -1) !== (y[i] ?? -1)) return (y[i] ?? -1) - (x[i] ?? -1);
    return 0;
  });
}

/** Where the spec's Istio charts come from, in words. */
export function chartSourceOf(spec: Pick<MeshSpec, 'istio'>): string {
  const { charts } = spec.istio;
  if (charts.directory?.startsWith(LAB_ISTIO_CHARTS)) return "the lab's charts";
  return charts.directory ?? charts.oci ?? charts.repo ?? 'the chart source';
}

/**
 * Problems (none, or one at spec.istio.version) when `availableVersions` — what the chart source has —
 * lacks `spec.istio.version`. An entry of two parts (`1.31`) stands for its whole release (the lab builds
 * one release from source); a spec version of two parts matches any patch of its release. Versions
 * compare without a leading `v`.
 */
export function istioVersionProblems(spec: Pick<MeshSpec, 'istio'>, availableVersions: readonly string[]): Problem[] {
  const wanted = plain(spec.istio.version);
  const matches = (available: string) => {
    const have = plain(available);
    if (have === wanted) return true;
    if (isRelease(have) && releaseOf(wanted) === have) return true;
    return isRelease(wanted) && releaseOf(have) === wanted;
  };
  if (availableVersions.some(matches)) return [];
  const source = chartSourceOf(spec);
  const sorted = newestFirst(availableVersions);
  const sameRelease = sorted.find((v) => releaseOf(v) === releaseOf(wanted));
  const suggestion = sameRelease ?? sorted[0];
  const example = suggestion === undefined ? undefined : isRelease(suggestion) ? `${plain(suggestion)}.0` : plain(suggestion);
  const listed = sorted.slice(0, 8).map((v) => (isRelease(v) ? `${plain(v)}.x` : plain(v)));
  const hint = suggestion === undefined
    ? `${source} lists no Istio chart versions; check the chart source (istio.charts)`
    : `available from ${source}: ${listed.join(', ')}${sorted.length > listed.length ? `, … (${sorted.length} in all)` : ''}; e.g. version: "${example}"`;
  return [{ path: 'spec.istio.version', message: `Istio ${spec.istio.version} is not available from ${source}`, hint }];
}
