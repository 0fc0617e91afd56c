// What doctor reads from one cluster, with the read access level only (no Secrets): Istio's control
// plane and east-west gateway as installed, the root istiod publishes, and the routing and policy objects
// of every namespace. Read once per cluster; the checks (checks.ts) are pure functions of it and the spec.
import { parse } from 'yaml';
import { mapLimit } from '../core/fan-out.ts';
import type { KubeClient } from '../k8s/client.ts';
import type { KubeObject } from '../k8s/object.ts';
import { podHttpGet } from '../k8s/port-forward.ts';
import { ENVOY_ADMIN_PORT, proxyCertificateChain } from '../k8s/proxy-certificate.ts';
import { parseSyncz, type ProxySync } from './proxy-sync.ts';
import { outboundCluster, parseClusterHealth, type EndpointHealth } from './proxy-endpoints.ts';
import { clusterLocalHost } from '../render/federation-service-entry.ts';
import { MCS_VERSION } from '../mcs/imports.ts';
import { EASTWEST_GATEWAY_LABEL, EASTWEST_GATEWAY_RELEASE, ISTIO_NAMESPACE } from '../render/helm-releases.ts';
import { istiodName, meshConfigMapName } from '../render/revision.ts';
import { SYNC_CONTROLLER, SYNC_LEASE, SYNC_NAMESPACE } from '../render/sync-controller.ts';
import type { MeshSpec } from '../spec/schema.ts';
import { DNS_CAPTURE_KEY, REVISION_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, PROXY_CONFIG_ANNOTATION, SIDECAR_STATUS_ANNOTATION, SYNC_MANAGED_BY } from '../core/vocabulary.ts';
import { instantQuery, prometheusTarget, type PrometheusTarget } from '../observability/prometheus-query.ts';

export interface WorkloadShape {
  ready: number;
  desired: number;
  image?: string;
  env: Record<string, string>;
  podLabels: Record<string, string>;
}

export interface ClusterSnapshot {
  cluster: string;
  istiod?: WorkloadShape;
  /** The `istio` ConfigMap's mesh config: what istiod was installed with (dnsCapture: its defaultConfig's ISTIO_META_DNS_CAPTURE). */
  meshConfig?: { trustDomain?: string; meshId?: string; dnsCapture?: string };
  /**
   * What overrides the mesh's proxy DNS setting: running pods with a sidecar whose own proxy config
   * (annotation) sets ISTIO_META_DNS_CAPTURE, and ProxyConfig objects that set it. Absent: not read.
   */
  dnsOverrides?: { object: { kind: string; namespace: string; name: string }; owner?: string; dnsCapture: string }[];
  /**
   * The certificates of the Secret istio-system/cacerts (doctor --read-cacerts only): what istiod signs
   * with, and will sign with after its next restart. The key is never decoded or kept.
   */
  cacerts?: { present: boolean; rootCertPem?: string; caCertPem?: string; certChainPem?: string };
  /**
   * One client proxy per namespace of the spec's services (a running pod with a sidecar there): per Envoy
   * cluster of a name that leaves this cluster, what endpoints it holds and how many it would use.
   */
  clientProxies?: { namespace: string; pod: string; endpoints?: Record<string, EndpointHealth>; error?: string }[];
  /** The cluster's Prometheus (with observability on): its pod and the targets it scrapes that are down, or why it could not be asked. */
  prometheus?: { pod?: string; notReady?: boolean; targets?: number; down?: { job: string; instance: string; namespace?: string; pod?: string; cluster?: string }[]; error?: string };
  istioSystemLabels?: Record<string, string>;
  gateway?: WorkloadShape;
  /** The gateway Service's address as its load balancer (or the spec) gives it; undefined: none. */
  gatewayService?: { address?: string; type?: string };
  rootCertPem?: string;
  gateways: KubeObject[];
  serviceEntries: KubeObject[];
  workloadEntries: KubeObject[];
  destinationRules: KubeObject[];
  virtualServices: KubeObject[];
  peerAuthentications: KubeObject[];
  authorizationPolicies: KubeObject[];
  sidecars: KubeObject[];
  /** EnvoyFilters (what most often makes a proxy reject its configuration). */
  envoyFilters?: KubeObject[];
  /** Ready endpoints of each spec service this cluster runs (`<namespace>/<name>`); absent: no EndpointSlice. */
  serviceEndpoints: Record<string, number>;
  /** The in-cluster sync controller, when the spec runs it. */
  sync?: { deployment?: WorkloadShape; lease?: { holder?: string; renewTime?: string; durationSeconds?: number } };
  serviceExports: KubeObject[];
  /**
   * The certificate chain an east-west gateway proxy holds (its Envoy's `default` secret, read through
   * port-forward to its admin port: certificates only, Envoy redacts the key), or why it could not be read.
   */
  gatewayProxy?: { pod: string; chainPem?: string; error?: string };
  /**
   * Every istiod Deployment in istio-system (label app=istiod), by revision (`default` for the one without):
   * more than one is a canary upgrade under way, or one left behind.
   */
  controlPlanes?: { name: string; revision: string; ready: number; desired: number; image?: string }[];
  /** What istiod says of the proxies connected to it (its /debug/syncz through port-forward), or why it could not be read. */
  proxySync?: { pod: string; proxies?: ProxySync[]; error?: string; readAt: number };
}

interface DeploymentShape {
  spec?: { replicas?: number; template?: { metadata?: { labels?: Record<string, string> }; spec?: { containers?: { image?: string; env?: { name: string; value?: string }[] }[] } } };
  status?: { readyReplicas?: number };
}

function workload(object: KubeObject | undefined): WorkloadShape | undefined {
  if (!object) return undefined;
  const d = object as unknown as DeploymentShape;
  const container = d.spec?.template?.spec?.containers?.[0];
  return {
    ready: d.status?.readyReplicas ?? 0,
    desired: d.spec?.replicas ?? 1,
    ...(container?.image ? { image: container.image } : {}),
    env: Object.fromEntries((container?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!])),
    podLabels: d.spec?.template?.metadata?.labels ?? {},
  };
}

/** The pods of `selector` in istio-system that run. */
async function runningPods(client: KubeClient, selector: string): Promise<KubeObject[]> {
  return (await client.list('v1', 'Pod', ISTIO_NAMESPACE, selector)).filter((p) => (p as { status?: { phase?: string } }).status?.phase === 'Running');
}

/** The certificate chain a gateway pod's proxy holds, read through port-forward (certificates only). */
async function gatewayChain(client: KubeClient, timeoutMs: number): Promise<ClusterSnapshot['gatewayProxy']> {
  const selector = Object.entries(EASTWEST_GATEWAY_LABEL).map(([k, v]) => `${k}=${v}`).join(',');
  const [pod] = await runningPods(client, selector);
  if (!pod) return undefined;
  try {
    const chainPem = await proxyCertificateChain(client.config, ISTIO_NAMESPACE, pod.metadata.name, timeoutMs);
    return chainPem ? { pod: pod.metadata.name, chainPem } : { pod: pod.metadata.name, error: 'it holds no workload certificate yet' };
  } catch (error) {
    return { pod: pod.metadata.name, error: (error as Error).message };
  }
}

/** istiod's debug port: /debug/syncz (a port-forward reaches it as localhost, which istiod serves). */
const ISTIOD_DEBUG_PORT = 15014;

/**
 * Every proxy's sync state, from every running istiod pod (each knows the proxies connected to it). The
 * time it is judged at is istiod's own (its Date header), so a skewed local clock raises no alarm.
 */
async function proxySync(client: KubeClient, timeoutMs: number): Promise<ClusterSnapshot['proxySync']> {
  const pods = await runningPods(client, 'app=istiod');
  if (!pods.length) return undefined;
  const reads = await mapLimit(pods, 4, async (pod) => {
    try {
      const r = await podHttpGet(client.config, ISTIO_NAMESPACE, pod.metadata.name, ISTIOD_DEBUG_PORT, '/debug/syncz', timeoutMs);
      const at = r.date ? Date.parse(r.date) : Number.NaN;
      const readAt = Number.isNaN(at) ? Date.now() : at;
      if (r.status !== 200) return { pod: pod.metadata.name, error: `its debug endpoint answered ${r.status}`, readAt };
      const revision = pod.metadata.labels?.[REVISION_LABEL] ?? 'default';
      const proxies = parseSyncz(r.body)?.map((p) => ({ ...p, istiodRevision: revision }));
      return proxies ? { pod: pod.metadata.name, proxies, readAt } : { pod: pod.metadata.name, error: 'its debug endpoint did not answer with a list of proxies', readAt };
    } catch (error) {
      return { pod: pod.metadata.name, error: (error as Error).message, readAt: Date.now() };
    }
  });
  const failed = reads.find((r) => !r.proxies);
  if (failed) return failed;
  return { pod: reads.map((r) => r.pod).join(', '), proxies: reads.flatMap((r) => r.proxies ?? []), readAt: Math.max(...reads.map((r) => r.readAt)) };
}

interface PodShape {
  metadata: { name: string; namespace?: string; deletionTimestamp?: string; annotations?: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

/** A YAML value's ISTIO_META_DNS_CAPTURE under `path` (proxyMetadata or environmentVariables), as a string. */
function dnsCaptureIn(yaml: string | undefined, key: 'proxyMetadata'): string | undefined {
  if (!yaml) return undefined;
  try {
    const value = (parse(yaml) as Record<string, Record<string, unknown> | undefined> | null)?.[key]?.[DNS_CAPTURE_KEY];
    return value === undefined ? undefined : String(value);
  } catch {
    return undefined;
  }
}

/**
 * In the mesh's namespaces (the spec's services' and istio-system), running pods with a sidecar whose own
 * proxy config sets DNS capture; and every ProxyConfig that sets it. Best effort: a failed read is "not read".
 */
async function dnsOverrides(client: KubeClient, spec: MeshSpec | undefined): Promise<ClusterSnapshot['dnsOverrides']> {
  const namespaces = [...new Set([...(spec?.services ?? []).map((s) => s.namespace), ISTIO_NAMESPACE])].sort();
  try {
    const [pods, proxyConfigs] = await Promise.all([
      mapLimit(namespaces, 4, (namespace) => client.list('v1', 'Pod', namespace)).then((lists) => lists.flat()),
      client.list('networking.istio.io/v1beta1', 'ProxyConfig'),
    ]);
    const out: NonNullable<ClusterSnapshot['dnsOverrides']> = [];
    for (const pod of pods as unknown as PodShape[]) {
      const annotations = pod.metadata.annotations ?? {};
      if (pod.status?.phase !== 'Running' || pod.metadata.deletionTimestamp || !annotations[SIDECAR_STATUS_ANNOTATION]) continue;
      const dnsCapture = dnsCaptureIn(annotations[PROXY_CONFIG_ANNOTATION], 'proxyMetadata');
      const owner = pod.metadata.ownerReferences?.[0];
      if (dnsCapture !== undefined) out.push({ object: { kind: 'Pod', namespace: pod.metadata.namespace ?? '', name: pod.metadata.name }, ...(owner ? { owner: `${owner.kind}/${owner.name}` } : {}), dnsCapture });
    }
    for (const pc of proxyConfigs) {
      const value = (pc as unknown as { spec?: { environmentVariables?: Record<string, string> } }).spec?.environmentVariables?.[DNS_CAPTURE_KEY];
      if (value !== undefined) out.push({ object: { kind: 'ProxyConfig', namespace: pc.metadata.namespace ?? '', name: pc.metadata.name }, dnsCapture: String(value) });
    }
    return out;
  } catch {
    return undefined;
  }
}

/** The cluster's Prometheus: every target it scrapes that is down (`up == 0`), through port-forward. */
async function prometheusHealth(client: KubeClient, spec: MeshSpec, timeoutMs: number): Promise<NonNullable<ClusterSnapshot['prometheus']>> {
  let target: PrometheusTarget;
  try {
    target = await prometheusTarget(client.config, spec, timeoutMs);
  } catch (error) {
    return { error: (error as Error).message, ...((error as { code?: string }).code === 'no-prometheus' ? { notReady: true } : {}) };
  }
  try {
    // Down for a whole minute (every scrape in it failed) and still a target now: a pod starting is not a
    // finding, nor one gone since (its series ended: \`up\` no longer returns it, its last minute still does).
    const [all, down] = await Promise.all([instantQuery(target, 'count(up)'), instantQuery(target, '(max_over_time(up[1m]) == 0) and (up == 0)')]);
    return {
      pod: target.pod,
      targets: all[0]?.value ?? 0,
      down: down.map((s) => ({ job: s.labels.job ?? '', instance: s.labels.instance ?? '', ...(s.labels.namespace ? { namespace: s.labels.namespace } : {}), ...(s.labels.pod ? { pod: s.labels.pod } : {}), ...(s.labels.cluster ? { cluster: s.labels.cluster } : {}) })),
    };
  } catch (error) {
    return { pod: target.pod, error: (error as Error).message };
  }
}

/** The certificate files of cacerts, decoded; `ca-key.pem` is left as it came (never decoded, never kept). */
export async function cacertsCertificates(client: Pick<KubeClient, 'read'>): Promise<NonNullable<ClusterSnapshot['cacerts']>> {
  const secret = await client.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cacerts', namespace: ISTIO_NAMESPACE } });
  if (!secret) return { present: false };
  const data = (secret as { data?: Record<string, string> }).data ?? {};
  // Only the certificate blocks of each file are kept (a key pasted into a certificate file is not).
  const file = (name: string) => {
    if (!data[name]) return undefined;
    const blocks = Buffer.from(data[name], 'base64').toString('utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
    return blocks ? `${blocks.join('\n')}\n` : undefined;
  };
  const [root, ca, chain] = [file('root-cert.pem'), file('ca-cert.pem'), file('cert-chain.pem')];
  return { present: true, ...(root ? { rootCertPem: root } : {}), ...(ca ? { caCertPem: ca } : {}), ...(chain ? { certChainPem: chain } : {}) };
}

/** The Envoy clusters of the names that leave this cluster: eastwest's ServiceEntries' hosts and ports, and (endpoint discovery) the spec's multi-cluster services. */
function remoteClusters(spec: MeshSpec | undefined, cluster: string, serviceEntries: KubeObject[]): string[] {
  const names = new Set<string>();
  for (const se of serviceEntries) {
    const labels = se.metadata.labels ?? {};
    if (![MANAGED_BY_VALUE, SYNC_MANAGED_BY].includes(labels[MANAGED_BY_LABEL] ?? '')) continue;
    const s = (se as { spec?: { hosts?: string[]; ports?: { number: number }[] } }).spec;
    for (const host of s?.hosts ?? []) for (const port of s?.ports ?? []) names.add(outboundCluster(host, port.number));
  }
  if (spec?.federation.mode === 'endpoint-discovery') {
    for (const svc of spec.services.filter((x) => x.clusters.some((c) => c !== cluster))) for (const port of svc.ports) names.add(outboundCluster(clusterLocalHost(svc), port.number));
  }
  return [...names].sort();
}

/** One running pod with a sidecar per namespace of the spec's services, and what its proxy holds for `wanted`. */
async function clientProxies(client: KubeClient, spec: MeshSpec | undefined, wanted: string[], timeoutMs: number): Promise<NonNullable<ClusterSnapshot['clientProxies']>> {
  if (!spec || wanted.length === 0) return [];
  const namespaces = [...new Set(spec.services.map((s) => s.namespace))].sort();
  const want = new Set(wanted);
  const found = await mapLimit(namespaces, 4, async (namespace) => {
    const pods = (await client.list('v1', 'Pod', namespace)) as unknown as PodShape[];
    // A ready pod: a proxy that just started holds no endpoints yet.
    const ready = (p: PodShape) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
    const pod = pods.filter((p) => p.status?.phase === 'Running' && ready(p) && !p.metadata.deletionTimestamp && p.metadata.annotations?.[SIDECAR_STATUS_ANNOTATION]).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))[0];
    if (!pod) return undefined;
    try {
      const r = await podHttpGet(client.config, namespace, pod.metadata.name, ENVOY_ADMIN_PORT, '/clusters?format=json', timeoutMs);
      const health = r.status === 200 ? parseClusterHealth(r.body, want) : undefined;
      if (!health) return { namespace, pod: pod.metadata.name, error: r.status === 200 ? 'its admin endpoint did not answer with Envoy\'s clusters' : `its admin endpoint answered ${r.status}` };
      return { namespace, pod: pod.metadata.name, endpoints: Object.fromEntries(health) };
    } catch (error) {
      return { namespace, pod: pod.metadata.name, error: (error as Error).message };
    }
  });
  return found.filter((x): x is NonNullable<typeof x> => x !== undefined);
}

/**
 * Deadline of one read through port-forward (a proxy's admin, istiod's debug, Prometheus): a stream opened
 * and a request answered inside a pod, slower than one API request on a busy node; never under 5 s.
 */
const proxyReadMs = (client: KubeClient) => Math.max(5000, client.requestTimeoutSeconds * 1000);

export interface SnapshotOptions {
  /** Read the certificates of istio-system/cacerts (a right beyond the read level: doctor --read-cacerts). */
  cacerts?: boolean;
}

export async function readSnapshot(client: KubeClient, cluster: string, spec?: MeshSpec, options: SnapshotOptions = {}): Promise<ClusterSnapshot> {
  const at = (kind: string, name: string, apiVersion = 'v1') => client.read({ apiVersion, kind, metadata: { name, namespace: ISTIO_NAMESPACE } });
  const istio = (kind: string) => client.list('networking.istio.io/v1', kind);
  const services = (spec?.services ?? []).filter((svc) => svc.clusters.includes(cluster));
  const inCluster = spec?.sync.inCluster === true;
  // Everything at once: the port-forwards (the gateway's proxy, istiod) are the slowest reads.
  const more = Promise.all([
    mapLimit(services, 8, async (svc) => {
      const slices = await client.list('discovery.k8s.io/v1', 'EndpointSlice', svc.namespace, `kubernetes.io/service-name=${svc.name}`);
      type Slice = { endpoints?: { conditions?: { ready?: boolean } }[] };
      return [`${svc.namespace}/${svc.name}`, slices.length ? slices.reduce((n, sl) => n + ((sl as Slice).endpoints ?? []).filter((e) => e.conditions?.ready !== false).length, 0) : undefined] as const;
    }),
    inCluster ? client.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: SYNC_CONTROLLER, namespace: SYNC_NAMESPACE } }) : Promise.resolve(undefined),
    inCluster ? client.read({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: SYNC_LEASE, namespace: SYNC_NAMESPACE } }) : Promise.resolve(undefined),
    client.list(MCS_VERSION, 'ServiceExport'),
    client.list('security.istio.io/v1', 'AuthorizationPolicy'),
    client.list('networking.istio.io/v1', 'Sidecar'),
    client.list('networking.istio.io/v1alpha3', 'EnvoyFilter'),
    gatewayChain(client, proxyReadMs(client)),
    proxySync(client, proxyReadMs(client)),
    dnsOverrides(client, spec),
    client.list('apps/v1', 'Deployment', ISTIO_NAMESPACE, 'app=istiod').then((ds) => ds.map((d) => {
      const w = workload(d)!;
      return { name: d.metadata.name, revision: d.metadata.labels?.[REVISION_LABEL] ?? 'default', ready: w.ready, desired: w.desired, ...(w.image ? { image: w.image } : {}) };
    })),
    spec?.observability.prometheus ? prometheusHealth(client, spec, proxyReadMs(client)) : Promise.resolve(undefined),
    options.cacerts ? cacertsCertificates(client) : Promise.resolve(undefined),
  ]);
  // Its failure is the cluster's (awaited below), never an unhandled rejection meanwhile.
  more.catch(() => undefined);
  const [istiod, meshCm, namespace, gateway, gatewayService, rootCm, gateways, serviceEntries, workloadEntries, destinationRules, virtualServices, peerAuthentications] = await Promise.all([
    at('Deployment', istiodName(spec?.istio.revision), 'apps/v1'),
    at('ConfigMap', meshConfigMapName(spec?.istio.revision)),
    client.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ISTIO_NAMESPACE } }),
    at('Deployment', EASTWEST_GATEWAY_RELEASE, 'apps/v1'),
    at('Service', EASTWEST_GATEWAY_RELEASE),
    at('ConfigMap', 'istio-ca-root-cert'),
    istio('Gateway'),
    istio('ServiceEntry'),
    istio('WorkloadEntry'),
    istio('DestinationRule'),
    istio('VirtualService'),
    client.list('security.istio.io/v1', 'PeerAuthentication'),
  ]);
  // The client proxies are asked about the names eastwest routes out of this cluster (its ServiceEntries).
  const proxies = clientProxies(client, spec, remoteClusters(spec, cluster, serviceEntries), proxyReadMs(client));
  proxies.catch(() => undefined);
  const [endpoints, syncDeployment, lease, serviceExports, authorizationPolicies, sidecars, envoyFilters, gatewayProxy, sync, overrides, controlPlanes, prometheus, cacerts] = await more;
  const clients = await proxies;
  const leaseSpec = (lease as { spec?: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number } } | undefined)?.spec;
  const mesh = (meshCm as { data?: { mesh?: string } } | undefined)?.data?.mesh;
  const meshConfig = mesh ? (parse(mesh) as { trustDomain?: string; defaultConfig?: { meshId?: string; proxyMetadata?: Record<string, unknown> } } | null) : undefined;
  const dnsCapture = meshConfig?.defaultConfig?.proxyMetadata?.[DNS_CAPTURE_KEY];
  const svc = gatewayService as { spec?: { type?: string; loadBalancerIP?: string }; status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } } } | undefined;
  const ingress = svc?.status?.loadBalancer?.ingress?.[0];
  const rootPem = (rootCm as { data?: Record<string, string> } | undefined)?.data?.['root-cert.pem'];
  return {
    cluster,
    ...(istiod ? { istiod: workload(istiod)! } : {}),
    controlPlanes,
    ...(meshConfig ? { meshConfig: { ...(meshConfig.trustDomain ? { trustDomain: meshConfig.trustDomain } : {}), ...(meshConfig.defaultConfig?.meshId ? { meshId: meshConfig.defaultConfig.meshId } : {}), ...(dnsCapture !== undefined ? { dnsCapture: String(dnsCapture) } : {}) } } : {}),
    ...(namespace ? { istioSystemLabels: namespace.metadata.labels ?? {} } : {}),
    ...(gateway ? { gateway: workload(gateway)! } : {}),
    ...(svc ? { gatewayService: { ...((ingress?.ip ?? ingress?.hostname) ? { address: (ingress?.ip ?? ingress?.hostname)! } : {}), ...(svc.spec?.type ? { type: svc.spec.type } : {}) } } : {}),
    ...(rootPem ? { rootCertPem: rootPem } : {}),
    gateways,
    serviceEntries,
    workloadEntries,
    destinationRules,
    virtualServices,
    peerAuthentications,
    authorizationPolicies,
    sidecars,
    envoyFilters,
    serviceEndpoints: Object.fromEntries(endpoints.filter(([, n]) => n !== undefined)) as Record<string, number>,
    ...(inCluster ? { sync: { ...(syncDeployment ? { deployment: workload(syncDeployment)! } : {}), ...(leaseSpec ? { lease: { ...(leaseSpec.holderIdentity ? { holder: leaseSpec.holderIdentity } : {}), ...(leaseSpec.renewTime ? { renewTime: leaseSpec.renewTime } : {}), ...(leaseSpec.leaseDurationSeconds ? { durationSeconds: leaseSpec.leaseDurationSeconds } : {}) } } : {}) } } : {}),
    serviceExports,
    ...(gatewayProxy ? { gatewayProxy } : {}),
    ...(sync ? { proxySync: sync } : {}),
    ...(overrides ? { dnsOverrides: overrides } : {}),
    ...(prometheus ? { prometheus } : {}),
    ...(cacerts ? { cacerts } : {}),
    clientProxies: clients,
  };
}
