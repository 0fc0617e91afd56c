// Deployments: scale through the scale subresource, wait until every replica is ready and rolled out.
import { AppsV1Api, type KubeConfig } from '@kubernetes/client-node';
import { pollUntil } from '../util/poll.ts';
import { isNotFound } from './client.ts';
import { EastwestError, EXIT } from '../core/errors.ts';

export async function scaleDeployment(config: KubeConfig, namespace: string, name: string, replicas: number): Promise<number> {
  const apps = config.makeApiClient(AppsV1Api);
  const current = await apps.readNamespacedDeployment({ name, namespace });
  const before = current.spec?.replicas ?? 1;
  await apps.patchNamespacedDeploymentScale({ name, namespace, body: [{ op: 'replace', path: '/spec/replicas', value: replicas }] });
  return before;
}

export async function waitDeploymentReady(config: KubeConfig, namespace: string, name: string, timeoutSeconds: number): Promise<void> {
  const apps = config.makeApiClient(AppsV1Api);
  const ready = await pollUntil(timeoutSeconds, 250, async () => {
    const d = await apps.readNamespacedDeployment({ name, namespace });
    const want = d.spec?.replicas ?? 1;
    const s = d.status ?? {};
    // Rolled out, not only ready: every replica of the current template, none of an older one left running.
    return s.observedGeneration === d.metadata?.generation && (s.readyReplicas ?? 0) >= want && (s.updatedReplicas ?? 0) >= want && (s.replicas ?? 0) <= want ? true : undefined;
  });
  if (ready) return;
  throw new EastwestError('deployment-not-ready', `deployment ${namespace}/${name} not ready after ${timeoutSeconds} s`, { exitCode: EXIT.clusterError, hint: `kubectl -n ${namespace} describe deployment ${name} tells why (image, scheduling, sidecar injection)` });
}

/** Waits until a StatefulSet exists (an operator may create it after its owner) and all its replicas are ready. */
export async function waitStatefulSetReady(config: KubeConfig, namespace: string, name: string, timeoutSeconds: number): Promise<void> {
  const apps = config.makeApiClient(AppsV1Api);
  const ready = await pollUntil(timeoutSeconds, 2000, async () => {
    const s = await apps.readNamespacedStatefulSet({ name, namespace }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
    if (!s) return undefined;
    return (s.status?.readyReplicas ?? 0) >= (s.spec?.replicas ?? 1) && s.status?.observedGeneration === s.metadata?.generation ? true : undefined;
  });
  if (ready) return;
  throw new EastwestError('statefulset-not-ready', `statefulset ${namespace}/${name} not ready after ${timeoutSeconds} s`, { exitCode: EXIT.clusterError, hint: `kubectl -n ${namespace} get prometheus,statefulset,pods tells why (the operator's logs too)` });
}
