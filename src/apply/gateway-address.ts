// The east-west gateway's address, as istiod would see it: LoadBalancer ingress IP or hostname, else
// spec.externalIPs.
import type { KubeClient } from '../k8s/client.ts';
import { pollUntil } from '../util/poll.ts';
import { EASTWEST_GATEWAY_RELEASE, ISTIO_NAMESPACE } from '../render/helm-releases.ts';

interface ServiceShape {
  spec?: { externalIPs?: string[] };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

export function serviceAddress(service: ServiceShape | undefined): string | undefined {
  const ingress = service?.status?.loadBalancer?.ingress?.[0];
  return ingress?.ip ?? ingress?.hostname ?? service?.spec?.externalIPs?.[0];
}

export async function waitForGatewayAddress(client: KubeClient, timeoutSeconds: number): Promise<string> {
  const address = await pollUntil(timeoutSeconds, 1000, async () => {
    const service = await client.read({ apiVersion: 'v1', kind: 'Service', metadata: { name: EASTWEST_GATEWAY_RELEASE, namespace: ISTIO_NAMESPACE } });
    return serviceAddress(service as ServiceShape | undefined);
  });
  if (address) return address;
  throw new Error(`the east-west gateway Service ${ISTIO_NAMESPACE}/${EASTWEST_GATEWAY_RELEASE} got no address in ${timeoutSeconds} s`);
}
