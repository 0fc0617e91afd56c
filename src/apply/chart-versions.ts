// The Istio chart versions a Helm repository or OCI registry has, asked with a deadline before apply
// changes anything: a version the source does not have is bad input (exit 2) at the spec's line, not a
// Helm failure half-way through the clusters. A source that cannot be asked now is not a reason to refuse.
import { readFile } from 'node:fs/promises';
import { LineCounter, parse, parseDocument } from 'yaml';
import { InputError } from '../core/errors.ts';
import type { Reporter } from '../core/reporter.ts';
import { istioVersionProblems, LAB_ISTIO_CHARTS } from '../spec/istio-version.ts';
import type { MeshSpec } from '../spec/schema.ts';
import { placeOf } from '../spec/yaml-positions.ts';
import { exec, ExecError } from '../util/exec.ts';

/** The chart whose versions stand for the release (istiod: every spec installs it). */
const CHART = 'istiod';

/** Versions of istiod in a Helm repository's index.yaml (pure). */
export function repoIndexVersions(indexYaml: string, chart = CHART): string[] {
  const index = parse(indexYaml) as { entries?: Record<string, { version?: unknown }[]> } | null;
  return (index?.entries?.[chart] ?? []).flatMap((e) => (typeof e.version === 'string' ? [e.version] : []));
}

/**
 * What the spec's chart source has: a list, or undefined when that is not known now (a local directory,
 * the lab's charts — checked when decoding — or a source that did not answer in time).
 */
export async function istiodChartVersions(spec: MeshSpec, options: { helm: string; timeoutMs: number }, reporter: Reporter): Promise<string[] | undefined> {
  const { repo, oci, directory } = spec.istio.charts;
  if (directory || !(repo || oci)) return undefined;
  try {
    if (repo) {
      const response = await fetch(`${repo.replace(/\/+$/, '')}/index.yaml`, { signal: AbortSignal.timeout(options.timeoutMs) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return repoIndexVersions(await response.text());
    }
    // An OCI registry has no index: ask for the one version wanted.
    try {
      await exec(options.helm, ['show', 'chart', `${oci!.replace(/\/+$/, '')}/${CHART}`, '--version', spec.istio.version], { timeoutMs: options.timeoutMs });
      return [spec.istio.version];
    } catch (error) {
      const stderr = error instanceof ExecError ? error.result?.stderr ?? '' : '';
      // Only the registry saying the chart version is not there means absent ("no such host" is not).
      if (/: not found|manifest unknown/i.test(stderr)) return [];
      throw error;
    }
  } catch (error) {
    reporter.report({ level: 'warn', code: 'chart-versions', message: `cannot list the Istio charts of ${repo ?? oci} now (${(error as Error).message.split('\n')[0]}); the version is checked by helm when it installs` });
    return undefined;
  }
}

/** Exit 2 at the spec's istio.version when the chart source lacks it. */
export async function checkIstioVersion(spec: MeshSpec, file: string, versions: readonly string[] | undefined): Promise<void> {
  if (versions === undefined || spec.istio.charts.directory?.startsWith(LAB_ISTIO_CHARTS)) return;
  const problems = istioVersionProblems(spec, versions);
  if (!problems.length) return;
  let place: { line: number; col: number } | undefined;
  try {
    const counter = new LineCounter();
    const text = await readFile(file, 'utf8');
    place = placeOf(parseDocument(text, { lineCounter: counter }), counter, ['spec', 'istio', 'version']);
  } catch {
    // the message still names the path
  }
  throw new InputError(`Istio ${spec.istio.version} is not available from the chart source: nothing was changed`, problems.map((p) => ({ ...p, file, ...(place ? { line: place.line, col: place.col } : {}) })));
}
