// Proxies read their settings (meshConfig.defaultConfig.proxyMetadata among them) when they start: after
// apply changed them, the proxies already running keep the old ones until restarted. This finds them.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { PROXY_CONTAINER, XDS_AGENT_KEY } from '../core/vocabulary.ts';

/** The proxy container of a pod: a sidecar (a container, or a native sidecar among init containers) or a gateway's. */
export function proxyContainer(pod: V1Pod): V1Container | undefined {
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === PROXY_CONTAINER);
}

/**
 * Running pods whose proxy lacks `key=value` in its environment (injection writes every proxyMetadata
 * entry as an environment variable), as `namespace/pod`, sorted.
 */
export function proxiesWithout(pods: readonly V1Pod[], key: string, value: string): string[] {
  const out: string[] = [];
  for (const pod of pods) {
    if (pod.status?.phase !== 'Running' || pod.metadata?.deletionTimestamp) continue;
    const proxy = proxyContainer(pod);
    if (!proxy) continue;
    if (proxy.env?.some((e) => e.name === key && e.value === value)) continue;
    out.push(`${pod.metadata?.namespace}/${pod.metadata?.name}`);
  }
  return out.sort();
}

/** Running proxies that still lack the multi-root setting a root rotation needs (one restart takes it). */
export const proxiesWithoutMultiRoot = (pods: readonly V1Pod[]) => proxiesWithout(pods, XDS_AGENT_KEY, 'true');
