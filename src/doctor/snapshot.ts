// What doctor reads from one cluster, with the read access level only (no Secrets): Istio's control
// plane and east-west gateway as installed, the root istiod publishes, and the routing and policy objects
// of every namespace. Read once per cluster; the checks (checks.ts) are pure functions of it and the spec.
import { parse } from 'yaml';
import type { KubeClient } from '../k8s/client.ts';
import type { KubeObject } from '../k8s/object.ts';
import { EASTWEST_GATEWAY_RELEASE, ISTIO_NAMESPACE } from '../render/helm-releases.ts';

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
  /** The `istio` ConfigMap's mesh config: what istiod was installed with. */
  meshConfig?: { trustDomain?: string; meshId?: string };
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

export async function readSnapshot(client: KubeClient, cluster: string): Promise<ClusterSnapshot> {
  const at = (kind: string, name: string, apiVersion = 'v1') => client.read({ apiVersion, kind, metadata: { name, namespace: ISTIO_NAMESPACE } });
  const istio = (kind: string) => client.list('networking.istio.io/v1', kind);
  const [istiod, meshCm, namespace, gateway, gatewayService, rootCm, gateways, serviceEntries, workloadEntries, destinationRules, virtualServices, peerAuthentications] = await Promise.all([
    at('Deployment', 'istiod', 'apps/v1'),
    at('ConfigMap', 'istio'),
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
  const mesh = (meshCm as { data?: { mesh?: string } } | undefined)?.data?.mesh;
  const meshConfig = mesh ? (parse(mesh) as { trustDomain?: string; defaultConfig?: { meshId?: string } } | null) : undefined;
  const svc = gatewayService as { spec?: { type?: string; loadBalancerIP?: string }; status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } } } | undefined;
  const ingress = svc?.status?.loadBalancer?.ingress?.[0];
  const rootPem = (rootCm as { data?: Record<string, string> } | undefined)?.data?.['root-cert.pem'];
  return {
    cluster,
    ...(istiod ? { istiod: workload(istiod)! } : {}),
    ...(meshConfig ? { meshConfig: { ...(meshConfig.trustDomain ? { trustDomain: meshConfig.trustDomain } : {}), ...(meshConfig.defaultConfig?.meshId ? { meshId: meshConfig.defaultConfig.meshId } : {}) } } : {}),
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
  };
}
