// The offline lab as a provider of clusters (registered by the CLI): its kubeconfig, Istio's charts from
// the pinned Go module (`lab://istio-charts/<chart>`), and the eastwest image `lab up` loaded into its
// nodes (what the in-cluster sync controller runs in the lab).
import type { ClusterProvider } from '../engine/provider.ts';
import { LAB_ISTIO_CHARTS } from '../spec/istio-version.ts';
import { LAB_KUBECONFIG, readLabEastwestImage } from '../sources/lab-state-files.ts';
import { EastwestError, EXIT } from '../core/errors.ts';
import { istioBuildVersion, readLabVersions } from '../sources/lab-versions.ts';
import { goModuleDir, istioChartsDir } from '../sources/upstream-sources.ts';
import { join } from 'node:path';

/** The charts of a lab Istio build: the pinned one (no build named, or its version), or the older snapshot. */
async function labChartsDir(build?: string): Promise<string> {
  const versions = readLabVersions();
  if (build === undefined || build === istioBuildVersion(versions.istio)) return istioChartsDir();
  if (build === istioBuildVersion(versions.istioPrevious)) return join(await goModuleDir(versions.istioPrevious.module, versions.istioPrevious.version), 'manifests', 'charts');
  throw new EastwestError('unknown-lab-istio-build', `the lab has no Istio build ${build}`, { exitCode: EXIT.badInput, hint: `the lab's builds: ${istioBuildVersion(versions.istio)} (${LAB_ISTIO_CHARTS}), ${istioBuildVersion(versions.istioPrevious)} (${LAB_ISTIO_CHARTS}@${istioBuildVersion(versions.istioPrevious)})` });
}

export const labProvider: ClusterProvider = {
  name: 'lab',
  kubeconfig: LAB_KUBECONFIG,
  charts: { prefix: LAB_ISTIO_CHARTS, directory: labChartsDir },
  syncImage: readLabEastwestImage,
};
