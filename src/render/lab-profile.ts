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
    // Images are loaded into each node's containerd; nothing may be pulled.
    imagePullPolicy: 'IfNotPresent',
    proxy: { resources: { requests: { cpu: '10m', memory: '40Mi' } } },
  },
};

export const LAB_GATEWAY_VALUES: Record<string, unknown> = {
  imagePullPolicy: 'IfNotPresent',
  autoscaling: { enabled: false },
  resources: { requests: { cpu: '10m', memory: '64Mi' } },
};
