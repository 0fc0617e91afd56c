// The Istio settings the offline lab's upstream Envoy needs, in one place (see
// shared/notes/istio-on-upstream-envoy.md): no Istio-only Envoy extensions are configured.
// Applied only when the spec's profile is `lab`; real clusters get stock Istio.
export const LAB_ISTIOD_VALUES: Record<string, unknown> = {
  env: {
    PILOT_ENABLE_METADATA_EXCHANGE: 'false',
    PILOT_ENABLE_ALPN_FILTER: 'false',
  },
  telemetry: { enabled: false },
  meshConfig: {
    defaultConfig: {
      proxyMetadata: { PEER_METADATA_DISCOVERY: 'false' },
    },
  },
  pilot: {
    autoscaleEnabled: false,
    resources: { requests: { cpu: '50m', memory: '256Mi' } },
  },
  global: {
    proxy: { resources: { requests: { cpu: '10m', memory: '40Mi' } } },
  },
};
