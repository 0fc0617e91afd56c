// Instant PromQL queries against one cluster's own Prometheus, reached through the API server's
// port-forward (no public endpoint; inside the pod, so its sidecar's mTLS is not in the way).
import type { KubeConfig } from '@kubernetes/client-node';
import { EastwestError, EXIT } from '../core/errors.ts';
import { podHttpGet } from '../k8s/port-forward.ts';
import { PROMETHEUS_PORT, prometheusLocation } from '../render/observability.ts';
import type { MeshSpec } from '../spec/schema.ts';
import { readyPod } from '../k8s/pods.ts';
import type { Sample } from './traffic.ts';

export interface PrometheusTarget {
  config: KubeConfig;
  namespace: string;
  pod: string;
  timeoutMs: number;
}

/** The cluster's ready Prometheus pod (where the spec's profile puts it). */
export async function prometheusTarget(config: KubeConfig, spec: MeshSpec, timeoutMs: number): Promise<PrometheusTarget> {
  const location = prometheusLocation(spec);
  const selector = Object.entries(location.selector).map(([k, v]) => `${k}=${v}`).join(',');
  try {
    return { config, namespace: location.namespace, pod: await readyPod(config, location.namespace, selector), timeoutMs };
  } catch (error) {
    if (error instanceof EastwestError && error.code === 'no-ready-pod') {
      throw new EastwestError('no-prometheus', `no ready Prometheus (${selector}) in ${location.namespace}`, { exitCode: EXIT.failed, hint: spec.observability.prometheus ? 'run `eastwest apply`; `kubectl -n ' + location.namespace + ' get pods -l ' + selector + '` tells why it is not ready' : 'set observability.prometheus: true in the spec and run `eastwest apply`' });
    }
    throw error;
  }
}

interface PrometheusAnswer {
  status: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

export async function instantQuery(target: PrometheusTarget, promql: string): Promise<Sample[]> {
  const path = `/api/v1/query?query=${encodeURIComponent(promql)}`;
  const response = await podHttpGet(target.config, target.namespace, target.pod, PROMETHEUS_PORT, path, target.timeoutMs);
  let answer: PrometheusAnswer;
  try {
    answer = JSON.parse(response.body) as PrometheusAnswer;
  } catch {
    throw new EastwestError('prometheus-answer', `Prometheus answered ${response.status} with no JSON`, { exitCode: EXIT.clusterError, hint: `is ${target.namespace}/${target.pod} a Prometheus server?` });
  }
  if (answer.status !== 'success' || answer.data?.resultType !== 'vector') {
    throw new EastwestError('prometheus-query', `Prometheus refused a query: ${answer.error ?? response.status}`, { exitCode: EXIT.clusterError, hint: 'this is a bug in eastwest\'s query; please report it with the query above' });
  }
  return answer.data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
}
