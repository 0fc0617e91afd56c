// The offline lab as a provider of clusters (registered by the CLI): its kubeconfig, Istio's charts from
// the pinned Go module (`lab://istio-charts/<chart>`), and the eastwest image `lab up` loaded into its
// nodes (what the in-cluster sync controller runs in the lab).
import type { ClusterProvider } from '../engine/provider.ts';
import { LAB_ISTIO_CHARTS } from '../spec/istio-version.ts';
import { LAB_KUBECONFIG, readLabEastwestImage } from '../sources/lab-state-files.ts';
import { istioChartsDir } from '../sources/upstream-sources.ts';

export const labProvider: ClusterProvider = {
  name: 'lab',
  kubeconfig: LAB_KUBECONFIG,
  charts: { prefix: LAB_ISTIO_CHARTS, directory: istioChartsDir },
  syncImage: readLabEastwestImage,
};
