// The mesh's vocabulary, in one place: every label, annotation, field manager and API group eastwest
// writes or reads to tell its objects apart, and Istio's and Kubernetes' well-known keys it sets.
// test/unit/vocabulary.test.ts fails when one of these keys is spelled out anywhere else in src/.

/** The spec's apiVersion. */
export const SPEC_API_VERSION = 'eastwest.dev/v1alpha1';

// Ownership: whose an object is, and of which mesh.
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
/** apply's objects. */
export const MANAGED_BY_VALUE = 'eastwest';
/** The sync controller's objects (made from ServiceExports). */
export const SYNC_MANAGED_BY = 'eastwest-sync';
/** verify's short-lived probes (their own namespace; apply, diff, sync and doctor leave them alone). */
export const VERIFY_MANAGED_BY = 'eastwest-verify';
export const MESH_LABEL = 'eastwest.dev/mesh';

// Server-side apply field managers.
export const FIELD_MANAGER = 'eastwest';
export const SYNC_FIELD_MANAGER = 'eastwest-sync';
export const VERIFY_FIELD_MANAGER = 'eastwest-verify';
export const ROTATE_FIELD_MANAGER = 'eastwest-rotate';
/** On verify's probe namespace: when the run that made it started (another run's namespace is left alone while it may still run). */
export const VERIFY_STARTED_ANNOTATION = 'eastwest.dev/verify-started';

// Annotations on what eastwest writes.
/** Hash of the desired content: an unchanged object costs no request. */
export const CONTENT_HASH_ANNOTATION = 'eastwest.dev/content-hash';
/** On a pod template: its configuration changed, so the pods roll. */
export const CONFIG_HASH_ANNOTATION = 'eastwest.dev/config-hash';
export const PROMETHEUS_CONFIG_HASH_ANNOTATION = 'eastwest.dev/prometheus-config-hash';
export const KIALI_CONFIG_HASH_ANNOTATION = 'eastwest.dev/kiali-config-hash';
/** An object made from an upstream file: which one. */
export const UPSTREAM_ANNOTATION = 'eastwest.dev/upstream';
/** A route waiting for the address of that cluster's east-west gateway. */
export const PENDING_ADDRESS_ANNOTATION = 'eastwest.dev/pending-gateway-address';
/** Which cluster's east-west gateway a route goes through. */
export const GATEWAY_OF_LABEL = 'eastwest.dev/gateway-of';
/** The exported name a sync-made object belongs to. */
export const MCS_SERVICE_LABEL = 'eastwest.dev/mcs-service';
/** On a ServiceExport: the namespaces its importers may use it from (replaces sync.exportTo for that name). */
export const EXPORT_TO_ANNOTATION = 'eastwest.dev/export-to';
/** On the ClusterRoles `--print-rbac` prints: which access level. */
export const ACCESS_LEVEL_LABEL = 'eastwest.dev/access-level';

// Istio's and Kubernetes' keys eastwest sets.
export const NETWORK_LABEL = 'topology.istio.io/network';
export const INJECTION_LABEL = 'istio-injection';
/** On a namespace or pod: the istiod revision whose injector serves it; on istiod's objects: their revision. */
export const REVISION_LABEL = 'istio.io/rev';
export const SIDECAR_INJECT_KEY = 'sidecar.istio.io/inject';
/** On a pod: the sidecar injected into it (set by Istio's injector). */
export const SIDECAR_STATUS_ANNOTATION = 'sidecar.istio.io/status';
/** On a pod template: when `kubectl rollout restart` (or `ca rotate --restart`) asked for new pods. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
/** On a pod: its proxy's own ProxyConfig (YAML), over the mesh's defaultConfig. */
export const PROXY_CONFIG_ANNOTATION = 'proxy.istio.io/config';
/** Proxy metadata that turns on the sidecar's DNS proxy (what resolves names only Istio knows). */
export const DNS_CAPTURE_KEY = 'ISTIO_META_DNS_CAPTURE';
/** istiod: accept a root-cert.pem with several roots and push them to proxies (root rotation, Istio ≥ 1.20). */
export const MULTIROOT_ENV = 'ISTIO_MULTIROOT_MESH';
/** Proxy metadata: the agent takes its trust bundle from istiod over xDS (needed by a root rotation without restarts). */
export const XDS_AGENT_KEY = 'PROXY_CONFIG_XDS_AGENT';
/** The name of Istio's proxy container in a pod. */
export const PROXY_CONTAINER = 'istio-proxy';
export const MULTI_CLUSTER_SECRET_LABEL = 'istio/multiCluster';
export const CLUSTER_ANNOTATION = 'networking.istio.io/cluster';
