// Failover, taken apart: with the US echo scaled to zero at t=0, when (a) the EndpointSlice has no ready
// US endpoint, (b) the US client's Envoy has no local host left for echo, (c) the first answer comes
// from another region. What bounds (c) is the old pods' graceful drain: pooled connections to a
// terminating pod keep being answered until its sidecar has drained (terminationDrainDuration, 5 s).
import { DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from '../src/k8s/client.ts';
import { LAB_KUBECONFIG } from '../src/lab/lab-state.ts';
import { curlFromClient, envoyClusterEndpoints, readyPod, scaleDeployment, waitDeploymentReady } from '../src/verify/mesh-probes.ts';

const ECHO_CLUSTER = 'outbound|80||echo.echo.svc.cluster.local';

async function firstTime(started: number, deadlineMs: number, check: () => Promise<boolean>): Promise<number | undefined> {
  while (Date.now() - started < deadlineMs) {
    if (await check().catch(() => false)) return (Date.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

async function trial(config: KubeConfig, clientPod: string): Promise<{ endpointSlice?: number; envoyLocalGone?: number; answeredElsewhere?: number }> {
  const discovery = config.makeApiClient(DiscoveryV1Api);
  const before = await scaleDeployment(config, 'echo', 'echo', 0);
  const started = Date.now();
  try {
    const [endpointSlice, envoyLocalGone, answeredElsewhere] = await Promise.all([
      firstTime(started, 60_000, async () => {
        const slices = await discovery.listNamespacedEndpointSlice({ namespace: 'echo', labelSelector: 'kubernetes.io/service-name=echo' });
        return slices.items.every((s) => (s.endpoints ?? []).every((e) => e.conditions?.ready === false));
      }),
      firstTime(started, 60_000, async () => (await envoyClusterEndpoints(config, 'echo', clientPod, ECHO_CLUSTER)).every((e) => e.region !== 'us')),
      firstTime(started, 60_000, async () => {
        const { bodies } = await curlFromClient(config, 'client', 'http://echo.echo.svc.cluster.local/', 1, 3);
        return /^region=(?!us\b)\S+/.test(bodies[0] ?? '');
      }),
    ]);
    return { endpointSlice, envoyLocalGone, answeredElsewhere };
  } finally {
    await scaleDeployment(config, 'echo', 'echo', before);
    await waitDeploymentReady(config, 'echo', 'echo', 180);
    await new Promise((r) => setTimeout(r, 3000)); // the proxies see the local pods again
  }
}

export async function failoverBenchmark(trials = 5): Promise<Record<string, number | string>> {
  const config = loadKubeConfig('lab-us', LAB_KUBECONFIG);
  const clientPod = await readyPod(config, 'echo', 'app=client');
  const results = [];
  for (let i = 0; i < trials; i++) results.push(await trial(config, clientPod));
  const median = (values: (number | undefined)[]) => {
    const v = values.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
    return v.length ? Math.round(v[Math.floor(v.length / 2)]! * 10) / 10 : 'never';
  };
  return {
    trials,
    endpointSliceNotReadyS: median(results.map((r) => r.endpointSlice)),
    clientEnvoyLocalGoneS: median(results.map((r) => r.envoyLocalGone)),
    answeredByEuS: median(results.map((r) => r.answeredElsewhere)),
    answeredByEuAllS: results.map((r) => r.answeredElsewhere ?? 'never').join(' '),
  };
}
