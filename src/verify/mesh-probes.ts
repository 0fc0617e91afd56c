// Probes run inside the clusters: curl from the demo client pods, Envoy admin stats of a proxy.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
export { scaleDeployment, waitDeploymentReady } from '../k8s/deployments.ts';
import { podExec } from '../k8s/pod-exec.ts';
import { DEMO_NAMESPACE } from '../render/demo-workload.ts';
import { EASTWEST_GATEWAY_RELEASE, ISTIO_NAMESPACE } from '../render/helm-releases.ts';

export async function readyPod(config: KubeConfig, namespace: string, selector: string): Promise<string> {
  const pods = await config.makeApiClient(CoreV1Api).listNamespacedPod({ namespace, labelSelector: selector });
  const pod = pods.items.find((p) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && !p.metadata?.deletionTimestamp);
  if (!pod?.metadata?.name) throw new Error(`no ready pod ${selector} in ${namespace}`);
  return pod.metadata.name;
}

/** `count` sequential requests from a demo client; returns each response body (or "" on failure). */
export async function curlFromClient(config: KubeConfig, app: string, url: string, count = 1, timeoutSeconds = 5): Promise<{ bodies: string[]; exitCodes: number[]; latenciesMs: number[] }> {
  const pod = await readyPod(config, DEMO_NAMESPACE, `app=${app}`);
  // One exec for all requests: a shell loop in the client container, one line per request.
  const script = `i=0; while [ $i -lt ${count} ]; do out=$(curl -s -m ${timeoutSeconds} -w ' |%{http_code}|%{time_total}' ${url}); echo "$?|$out" | tr -d '\\n'; echo; i=$((i+1)); done`;
  const result = await podExec(config, DEMO_NAMESPACE, pod, 'client', ['sh', '-c', script], (count * timeoutSeconds + 30) * 1000);
  const bodies: string[] = [];
  const exitCodes: number[] = [];
  const latenciesMs: number[] = [];
  for (const line of result.stdout.split('\n').filter(Boolean)) {
    const [code, ...rest] = line.split('|');
    const joined = rest.join('|');
    const match = /^(.*) \|(\d{3})\|([\d.]+)$/.exec(joined);
    exitCodes.push(Number(code));
    bodies.push(match && Number(code) === 0 && match[2] === '200' ? match[1]!.trim() : '');
    latenciesMs.push(match ? Number(match[3]) * 1000 : NaN);
  }
  return { bodies, exitCodes, latenciesMs };
}

/** Per-host counters of one Envoy cluster, from the proxy's admin `clusters` endpoint. */
export async function envoyClusterCounters(config: KubeConfig, namespace: string, pod: string, envoyCluster: string): Promise<{ cxTotal: number; cxActive: number; rqTotal: number; hosts: string[] }> {
  const result = await podExec(config, namespace, pod, 'istio-proxy', ['pilot-agent', 'request', 'GET', 'clusters']);
  let cxTotal = 0;
  let cxActive = 0;
  let rqTotal = 0;
  const hosts = new Set<string>();
  for (const line of result.stdout.split('\n')) {
    const [cluster, host, stat, value] = line.split('::');
    if (cluster !== envoyCluster || value === undefined) continue;
    if (/^[\d.]+:\d+$|^\[.*\]:\d+$/.test(host!)) hosts.add(host!);
    if (stat === 'cx_total') cxTotal += Number(value);
    if (stat === 'cx_active') cxActive += Number(value);
    if (stat === 'rq_total') rqTotal += Number(value);
  }
  return { cxTotal, cxActive, rqTotal, hosts: [...hosts].sort() };
}

/** Endpoints of one Envoy cluster with their region and priority, from the admin `clusters` endpoint. */
export async function envoyClusterEndpoints(config: KubeConfig, namespace: string, pod: string, envoyCluster: string): Promise<{ address: string; region: string; priority: number }[]> {
  const result = await podExec(config, namespace, pod, 'istio-proxy', ['pilot-agent', 'request', 'GET', 'clusters']);
  const endpoints = new Map<string, { address: string; region: string; priority: number }>();
  for (const line of result.stdout.split('\n')) {
    const [cluster, host, stat, value] = line.split('::');
    if (cluster !== envoyCluster || value === undefined || !/:\d+$/.test(host!)) continue;
    const entry = endpoints.get(host!) ?? { address: host!, region: '', priority: 0 };
    if (stat === 'region') entry.region = value;
    if (stat === 'priority') entry.priority = Number(value);
    endpoints.set(host!, entry);
  }
  return [...endpoints.values()].sort((a, b) => a.priority - b.priority || a.address.localeCompare(b.address));
}

export async function eastWestGatewayPod(config: KubeConfig): Promise<string> {
  return readyPod(config, ISTIO_NAMESPACE, 'istio=eastwestgateway');
}

