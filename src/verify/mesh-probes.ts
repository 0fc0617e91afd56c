// Probes run inside the clusters: curl from a client pod (the demo's or verify's own), Envoy admin stats of a proxy.
import type { KubeConfig } from '@kubernetes/client-node';
export { scaleDeployment, waitDeploymentReady } from '../k8s/deployments.ts';
import { podExec } from '../k8s/pod-exec.ts';
import { readyPod } from '../k8s/pods.ts';
export { readyPod };
import { DEMO_NAMESPACE } from '../render/demo-workload.ts';
import { ISTIO_NAMESPACE } from '../render/helm-releases.ts';

/** `count` sequential requests from a client (the demo's, or verify's probe client in `namespace`); returns each response body (or "" on failure). */
export async function curlFromClient(config: KubeConfig, app: string, url: string, count = 1, timeoutSeconds = 5, namespace = DEMO_NAMESPACE): Promise<{ bodies: string[]; exitCodes: number[]; latenciesMs: number[] }> {
  const pod = await readyPod(config, namespace, `app=${app}`);
  // One exec for all requests: a shell loop in the client container, one line per request.
  const script = `i=0; while [ $i -lt ${count} ]; do out=$(curl -s -m ${timeoutSeconds} -w ' |%{http_code}|%{time_total}' ${url}); echo "$?|$out" | tr -d '\\n'; echo; i=$((i+1)); done`;
  const result = await podExec(config, namespace, pod, 'client', ['sh', '-c', script], (count * timeoutSeconds + 30) * 1000);
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

/** Per-host stats of one Envoy cluster (host → stat → value), from the proxy's admin `clusters` endpoint. */
async function envoyClusterHosts(config: KubeConfig, namespace: string, pod: string, envoyCluster: string): Promise<Map<string, Map<string, string>>> {
  const result = await podExec(config, namespace, pod, 'istio-proxy', ['pilot-agent', 'request', 'GET', 'clusters']);
  const hosts = new Map<string, Map<string, string>>();
  for (const line of result.stdout.split('\n')) {
    const [cluster, host, stat, value] = line.split('::');
    // Host lines are address:port; the cluster's own lines (priorities, circuit breakers) are not.
    if (cluster !== envoyCluster || value === undefined || !/^[\d.]+:\d+$|^\[.*\]:\d+$/.test(host!)) continue;
    if (!hosts.has(host!)) hosts.set(host!, new Map());
    hosts.get(host!)!.set(stat!, value);
  }
  return hosts;
}

/** Connection and request counters of one Envoy cluster, summed over its hosts. */
export async function envoyClusterCounters(config: KubeConfig, namespace: string, pod: string, envoyCluster: string): Promise<{ cxTotal: number; cxActive: number; rqTotal: number; hosts: string[] }> {
  const hosts = await envoyClusterHosts(config, namespace, pod, envoyCluster);
  const sum = (stat: string) => [...hosts.values()].reduce((n, stats) => n + Number(stats.get(stat) ?? 0), 0);
  return { cxTotal: sum('cx_total'), cxActive: sum('cx_active'), rqTotal: sum('rq_total'), hosts: [...hosts.keys()].sort() };
}

/** Endpoints of one Envoy cluster with their region and priority. */
export async function envoyClusterEndpoints(config: KubeConfig, namespace: string, pod: string, envoyCluster: string): Promise<{ address: string; region: string; priority: number }[]> {
  const hosts = await envoyClusterHosts(config, namespace, pod, envoyCluster);
  return [...hosts].map(([address, stats]) => ({ address, region: stats.get('region') ?? '', priority: Number(stats.get('priority') ?? 0) }))
    .sort((a, b) => a.priority - b.priority || a.address.localeCompare(b.address));
}

export async function eastWestGatewayPod(config: KubeConfig): Promise<string> {
  return readyPod(config, ISTIO_NAMESPACE, 'istio=eastwestgateway');
}


/** Connections a proxy opened to any host on `port` (e.g. another east-west gateway's 15443), over all its clusters. */
export async function envoyConnectionsToPort(config: KubeConfig, namespace: string, pod: string, port: number): Promise<number> {
  const result = await podExec(config, namespace, pod, 'istio-proxy', ['pilot-agent', 'request', 'GET', 'clusters']);
  let total = 0;
  for (const line of result.stdout.split('\n')) {
    const [, host, stat, value] = line.split('::');
    if (stat === 'cx_total' && host?.endsWith(`:${port}`)) total += Number(value);
  }
  return total;
}
