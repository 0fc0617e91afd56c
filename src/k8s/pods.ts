// Pods by label: the one to exec in or port-forward to.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { EastwestError, EXIT } from '../core/errors.ts';

/** A running, ready pod of `selector` in `namespace` (not one being deleted); a clear error when none is. */
export async function readyPod(config: KubeConfig, namespace: string, selector: string): Promise<string> {
  const pods = await config.makeApiClient(CoreV1Api).listNamespacedPod({ namespace, labelSelector: selector });
  const pod = pods.items.find((p) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && !p.metadata?.deletionTimestamp);
  if (!pod?.metadata?.name) throw new EastwestError('no-ready-pod', `no ready pod ${selector} in ${namespace}`, { exitCode: EXIT.clusterError, hint: `kubectl -n ${namespace} get pods -l ${selector} tells why` });
  return pod.metadata.name;
}
