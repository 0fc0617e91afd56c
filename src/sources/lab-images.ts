// Image names the lab loads into every node's containerd: exactly the names charts and manifests use.
export const LAB_REGISTRY = 'lab.eastwest.dev';
export const LAB_ISTIO_HUB = `${LAB_REGISTRY}/istio`;
export const LAB_ISTIO_TAG = '1.31-lab';

export const IMAGES = {
  /** kubelet 1.35's default sandbox image; containerd's sandbox_image points at it too. */
  pause: 'registry.k8s.io/pause:3.10.1',
  coredns: `${LAB_REGISTRY}/coredns:1`,
  pilot: `${LAB_ISTIO_HUB}/pilot:${LAB_ISTIO_TAG}`,
  proxyv2: `${LAB_ISTIO_HUB}/proxyv2:${LAB_ISTIO_TAG}`,
  echo: `${LAB_REGISTRY}/echo:1`,
  client: `${LAB_REGISTRY}/client:1`,
  prometheus: `${LAB_REGISTRY}/prometheus:3.16`,
  kiali: `${LAB_REGISTRY}/kiali:1.89`,
  /** The load generator of the day-2 proofs: fortio, from its Go module. */
  fortio: `${LAB_REGISTRY}/fortio:1.68`,
} as const;
