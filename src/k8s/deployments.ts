// Deployments: scale through the scale subresource, wait until every replica is ready.
import { AppsV1Api, type KubeConfig } from '@kubernetes/client-node';

export async function scaleDeployment(config: KubeConfig, namespace: string, name: string, replicas: number): Promise<number> {
  const apps = config.makeApiClient(AppsV1Api);
  const current = await apps.readNamespacedDeployment({ name, namespace });
  const before = current.spec?.replicas ?? 1;
  await apps.patchNamespacedDeploymentScale({ name, namespace, body: [{ op: 'replace', path: '/spec/replicas', value: replicas }] });
  return before;
}

export async function waitDeploymentReady(config: KubeConfig, namespace: string, name: string, timeoutSeconds: number): Promise<void> {
  const apps = config.makeApiClient(AppsV1Api);
  const deadline = Date.now() + timeoutSeconds * 1000;
  while (Date.now() < deadline) {
    const d = await apps.readNamespacedDeployment({ name, namespace });
    if ((d.status?.readyReplicas ?? 0) >= (d.spec?.replicas ?? 1) && d.status?.observedGeneration === d.metadata?.generation) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`deployment ${namespace}/${name} not ready after ${timeoutSeconds} s`);
}
