// The lab's LoadBalancer controller (what MetalLB's controller or cloud-provider-kind does): gives each
// Service of type LoadBalancer an address from its cluster's range on the lab segment and writes it to
// status.loadBalancer.ingress. The host and the other nodes route that range to this node, where
// kube-proxy answers it. Runs inside the node supervisor, against the node's own API server.
import { CoreV1Api, KubeConfig, Watch, type V1Service } from '@kubernetes/client-node';

export interface AllocatorOptions {
  kubeconfigPath: string;
  addresses: string[];
  log: (message: string) => void;
}

export function pickAddress(services: readonly V1Service[], pool: readonly string[], service: V1Service): string | undefined {
  const current = service.status?.loadBalancer?.ingress?.[0]?.ip;
  if (current && pool.includes(current)) return current;
  const requested = service.spec?.loadBalancerIP;
  const used = new Set(services.filter((s) => s !== service).flatMap((s) => (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip)));
  if (requested && pool.includes(requested) && !used.has(requested)) return requested;
  return pool.find((a) => !used.has(a));
}

export function startLoadBalancerAllocator(options: AllocatorOptions): { stop: () => void } {
  const kc = new KubeConfig();
  kc.loadFromFile(options.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  let stopped = false;
  let abort: { abort: () => void } | undefined;
  let backoff = 1000;

  const reconcile = async () => {
    const services = (await core.listServiceForAllNamespaces()).items;
    for (const service of services) {
      if (service.spec?.type !== 'LoadBalancer') continue;
      const address = pickAddress(services, options.addresses, service);
      if (!address) {
        options.log(`no free LoadBalancer address for ${service.metadata?.namespace}/${service.metadata?.name}`);
        continue;
      }
      if (service.status?.loadBalancer?.ingress?.[0]?.ip === address) continue;
      // JSON patch (client-node's default for patch calls): set the whole loadBalancer status.
      await core.patchNamespacedServiceStatus({
        name: service.metadata!.name!,
        namespace: service.metadata!.namespace!,
        body: [{ op: 'add', path: '/status/loadBalancer', value: { ingress: [{ ip: address, ipMode: 'VIP' }] } }],
      });
      service.status = { loadBalancer: { ingress: [{ ip: address }] } };
      options.log(`LoadBalancer ${service.metadata?.namespace}/${service.metadata?.name} → ${address}`);
    }
  };

  const loop = async () => {
    while (!stopped) {
      try {
        await reconcile();
        backoff = 1000;
        await new Promise<void>((resolve) => {
          void new Watch(kc)
            .watch('/api/v1/services', {}, () => void reconcile().catch((e) => options.log(`reconcile: ${(e as Error).message}`)), () => resolve())
            .then((req) => (abort = req))
            .catch(() => resolve());
        });
      } catch (error) {
        options.log(`allocator: ${(error as Error).message}; retrying in ${backoff / 1000} s`);
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  };
  void loop();
  return { stop: () => ((stopped = true), abort?.abort()) };
}
