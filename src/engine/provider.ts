// Providers of clusters: what a spec may name that only its provider knows how to find — a kubeconfig
// read last (when it alone has the spec's contexts), charts under its own URL scheme, and the sync
// controller's image for a spec of its profile. The CLI registers the offline lab's (src/lab/provider.ts);
// nothing below the CLI imports the lab.
import { EastwestError } from '../core/errors.ts';

export interface ClusterProvider {
  /** Its name, and the spec profile it serves (`profile: lab`). */
  name: string;
  /** A kubeconfig file read last, when it alone has the spec's contexts. */
  kubeconfig?: string;
  /**
   * Chart locations it resolves: a URL prefix (`lab://istio-charts`, or `lab://istio-charts@<build>` for one
   * of several builds it has) and the directory it stands for.
   */
  charts?: { prefix: string; directory: (build?: string) => Promise<string> };
  /** The in-cluster sync controller's image for a spec of its profile (what it loaded into its nodes). */
  syncImage?: () => string | undefined;
}

const registered = new Map<string, ClusterProvider>();

/** Registers (or replaces, by name) a provider. */
export function registerProvider(provider: ClusterProvider): void {
  registered.set(provider.name, provider);
}

export const providers = (): ClusterProvider[] => [...registered.values()];

/** The kubeconfig the providers add after kubectl's own (the first that has one). */
export const providerKubeconfig = (): string | undefined => providers().find((p) => p.kubeconfig)?.kubeconfig;

/** The provider of a spec profile, if one is registered. */
export const providerOf = (profile: string): ClusterProvider | undefined => registered.get(profile);

/** A chart directory: a provider's URL resolved, or undefined when no provider claims it. */
export async function providerChartDirectory(path: string): Promise<string | undefined> {
  for (const provider of providers()) {
    const charts = provider.charts;
    if (!charts || !path.startsWith(charts.prefix)) continue;
    const m = /^(?:@([^/]+))?(\/.*)?$/.exec(path.slice(charts.prefix.length));
    if (m) return `${await charts.directory(m[1])}${m[2] ?? ''}`;
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//.exec(path)?.[1];
  if (scheme) throw new EastwestError('unknown-chart-scheme', `no provider resolves ${path}`, { hint: scheme === 'lab' ? 'lab:// charts are the offline lab\'s: run eastwest from its CLI (npx eastwest), which registers the lab' : 'a chart directory is a path relative to the spec file, or a chart repository / OCI reference' });
  return undefined;
}
