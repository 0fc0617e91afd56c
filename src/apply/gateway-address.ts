// Waiting for a freshly installed east-west gateway's address (LoadBalancer ingress or externalIPs).
import { ClusterError } from '../k8s/cluster-error.ts';
import type { KubeClient } from '../k8s/client.ts';
import { pollUntil } from '../util/poll.ts';
import { serviceAddress } from '../engine/gateway-addresses.ts';
import { EASTWEST_GATEWAY_RELEASE, ISTIO_NAMESPACE } from '../render/helm-releases.ts';

export async function waitForGatewayAddress(client: KubeClient, timeoutSeconds: number): Promise<string> {
  const address = await pollUntil(timeoutSeconds, 1000, async () => {
    const service = await client.read({ apiVersion: 'v1', kind: 'Service', metadata: { name: EASTWEST_GATEWAY_RELEASE, namespace: ISTIO_NAMESPACE } });
    return serviceAddress(service as Parameters<typeof serviceAddress>[0]);
  });
  if (address) return address;
  throw new ClusterError(client.cluster, 'api', `the east-west gateway Service ${ISTIO_NAMESPACE}/${EASTWEST_GATEWAY_RELEASE} got no address in ${timeoutSeconds} s`,
    'does the cluster have a LoadBalancer implementation? Set clusters[].eastWestGateway.address, or eastWestGateway.serviceType NodePort with a fixed address');
}
