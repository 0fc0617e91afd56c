// The three Helm releases per cluster (istio/base, istio/istiod, istio/gateway as east-west gateway).
import { DNS_CAPTURE_KEY, MULTIROOT_ENV, NETWORK_LABEL, XDS_AGENT_KEY } from '../core/vocabulary.ts';
import { isIP } from 'node:net';
import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';
import { deepMerge } from '../util/deep-merge.ts';
import { LAB_GATEWAY_VALUES, LAB_ISTIOD_VALUES } from './lab-profile.ts';
import { observabilityIstiodValues } from './observability.ts';
import { istiodRelease } from './revision.ts';
import { observabilityReleases } from './observability-releases.ts';

export const ISTIO_NAMESPACE = 'istio-system';
export const EASTWEST_GATEWAY_RELEASE = 'istio-eastwestgateway';
export const EASTWEST_GATEWAY_LABEL = { istio: 'eastwestgateway' } as const;

export type IstioChartName = 'base' | 'istiod' | 'gateway';
export type ChartName = IstioChartName | 'kube-prometheus-stack' | 'kiali-server';

/** Where a chart comes from: a Helm repository, an OCI registry, or a local directory. */
export type ChartRef =
  | { name: ChartName; repo: string; version: string }
  | { name: ChartName; oci: string; version: string }
  | { name: ChartName; path: string; version: string };

export interface HelmRelease {
  release: string;
  namespace: string;
  chart: ChartRef;
  values: Record<string, unknown>;
}

/** Chart directories inside Istio's source tree (and the istio.io/istio Go module). */
export const CHART_DIRECTORIES: Record<IstioChartName, string> = {
  base: 'base',
  istiod: 'istio-control/istio-discovery',
  gateway: 'gateway',
};

export function chartRef(spec: MeshSpec, name: IstioChartName): ChartRef {
  const { charts, version } = spec.istio;
  if (charts.directory !== undefined) return { name, path: `${charts.directory.replace(/\/$/, '')}/${CHART_DIRECTORIES[name]}`, version };
  if (charts.oci !== undefined) return { name, oci: `${charts.oci.replace(/\/$/, '')}/${name}`, version };
  return { name, repo: charts.repo!, version };
}

function imageValues(spec: MeshSpec): Record<string, unknown> {
  return {
    ...(spec.istio.hub ? { hub: spec.istio.hub } : {}),
    ...(spec.istio.tag ? { tag: spec.istio.tag } : {}),
  };
}

/** istio-base and istiod (the istio-core component's releases). */
export function istioReleases(spec: MeshSpec, cluster: ClusterSpec): HelmRelease[] {
  const base: HelmRelease = {
    release: 'istio-base',
    namespace: ISTIO_NAMESPACE,
    chart: chartRef(spec, 'base'),
    // With a revision, the default validator (istiod-default-validator) checks through that revision's istiod.
    values: deepMerge({ global: { istioNamespace: ISTIO_NAMESPACE }, ...(spec.istio.revision ? { defaultRevision: spec.istio.revision } : {}) }, spec.helmValues.base),
  };

  let istiodValues: Record<string, unknown> = {
    ...(spec.istio.revision ? { revision: spec.istio.revision } : {}),
    global: {
      ...imageValues(spec),
      meshID: spec.meshID,
      multiCluster: { clusterName: cluster.name },
      network: cluster.network,
    },
    // A root rotation with every proxy trusting old and new roots at once, without restarts (istio#47063,
    // #47424): istiod accepts several roots; agents take their trust bundle from istiod over xDS.
    env: { [MULTIROOT_ENV]: 'true' },
    meshConfig: {
      trustDomain: spec.trustDomain,
      defaultConfig: {
        proxyMetadata: {
          // Pods resolve <svc>.<cluster>.mesh.local through the sidecar's DNS proxy.
          [DNS_CAPTURE_KEY]: 'true',
          [XDS_AGENT_KEY]: 'true',
        },
      },
    },
  };
  istiodValues = deepMerge(istiodValues, observabilityIstiodValues(spec));
  if (spec.profile === 'lab') istiodValues = deepMerge(istiodValues, LAB_ISTIOD_VALUES);
  const istiod: HelmRelease = {
    release: istiodRelease(spec),
    namespace: ISTIO_NAMESPACE,
    chart: chartRef(spec, 'istiod'),
    values: deepMerge(istiodValues, spec.helmValues.istiod),
  };
  return [base, istiod];
}

/** The east-west gateway: Istio's gateway chart with networkGateway. */
export function eastWestGatewayRelease(spec: MeshSpec, cluster: ClusterSpec): HelmRelease {

  const gatewayValues: Record<string, unknown> = {
    name: EASTWEST_GATEWAY_RELEASE,
    // Its pods are injected by the spec's revision; an upgrade changes this in place (same Service, same address).
    ...(spec.istio.revision ? { revision: spec.istio.revision } : {}),
    networkGateway: cluster.network,
    labels: { ...EASTWEST_GATEWAY_LABEL, [NETWORK_LABEL]: cluster.network },
    service: {
      type: spec.eastWestGateway.serviceType,
      ...(cluster.eastWestGateway.address && isIP(cluster.eastWestGateway.address) !== 0
        ? { loadBalancerIP: cluster.eastWestGateway.address }
        : {}),
    },
  };
  return {
    release: EASTWEST_GATEWAY_RELEASE,
    namespace: ISTIO_NAMESPACE,
    chart: chartRef(spec, 'gateway'),
    values: deepMerge(spec.profile === 'lab' ? deepMerge(gatewayValues, LAB_GATEWAY_VALUES) : gatewayValues, spec.helmValues.gateway),
  };
}

/** Every release of a cluster, in install order. */
export function helmReleases(spec: MeshSpec, cluster: ClusterSpec): HelmRelease[] {
  return [...istioReleases(spec, cluster), eastWestGatewayRelease(spec, cluster), ...observabilityReleases(spec, cluster)];
}
