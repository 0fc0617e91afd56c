// The values the istiod chart (istio/istiod, manifests/charts/istio-control/istio-discovery) of Istio 1.31
// reads: the keys of its values.yaml and those its templates read without a default there. What lies
// below these keys (meshConfig.*, env.*, global.proxy.*, …) is passed on as written.

/** Top-level values of the istiod chart. */
export const ISTIOD_VALUES: readonly string[] = [
  'affinity', 'autoscaleBehavior', 'autoscaleEnabled', 'autoscaleMax', 'autoscaleMin', 'base', 'cni', 'compatibilityVersion',
  'configMap', 'cpu', 'crlConfigMapName', 'deploymentAnnotations', 'deploymentLabels', 'env', 'envVarFrom', 'experimental',
  'extraContainerArgs', 'gatewayClasses', 'gateways', 'global', 'hub', 'image', 'initContainers', 'ipFamilies', 'ipFamilyPolicy',
  'istiodRemote', 'jwksResolverExtraRootCA', 'keepaliveMaxServerConnectionAge', 'memory', 'meshConfig', 'nodeSelector', 'ownerName',
  'pdb', 'platform', 'podAnnotations', 'podLabels', 'profile', 'replicaCount', 'resources', 'revision', 'revisionTags',
  'rollingMaxSurge', 'rollingMaxUnavailable', 'seccompProfile', 'serviceAccountAnnotations', 'serviceAnnotations',
  'sidecarInjectorWebhook', 'sidecarInjectorWebhookAnnotations', 'tag', 'taint', 'telemetry', 'terminationMessagePolicy',
  'tolerations', 'topologySpreadConstraints', 'traceSampling', 'trafficDistribution', 'trustedZtunnelName',
  'trustedZtunnelNamespace', 'variant', 'volumeMounts', 'volumes',
];

/** Values under `global` that the istiod chart reads. */
export const ISTIOD_GLOBAL_VALUES: readonly string[] = [
  'agentgateway', 'caAddress', 'caName', 'certSigners', 'configCluster', 'configValidation', 'defaultPodDisruptionBudget',
  'defaultResources', 'externalIstiod', 'hub', 'imagePullPolicy', 'imagePullSecrets', 'ipFamilies', 'ipFamilyPolicy',
  'istioNamespace', 'istiod', 'logAsJson', 'logging', 'meshID', 'meshNetworks', 'mountMtlsCerts', 'multiCluster',
  'nativeNftables', 'network', 'networkPolicy', 'omitSidecarInjectorConfigMap', 'operatorManageWebhooks', 'pilotCertProvider',
  'platform', 'priorityClassName', 'proxy', 'proxy_init', 'remotePilotAddress', 'resourceScope', 'sds', 'sts', 'tag', 'tracer',
  'trustBundleName', 'trustDomain', 'variant', 'waypoint',
];

/** Top-level keys the chart refuses or reserves, and why. */
export const ISTIOD_RESERVED_VALUES: Readonly<Record<string, string>> = {
  defaults: 'the istiod chart refuses a defaults section (it fails the install)',
  _internal_defaults_do_not_set: "this is the chart's own defaults section, not a setting",
};
