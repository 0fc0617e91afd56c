// `eastwest traffic`: each cluster's Prometheus asked at once (one deadline each); the matrix built from
// the clusters that answered. A cluster that does not answer is an outcome; it hides nobody else's.
import { fanOut, mapLimit, type ClusterOutcome } from '../core/fan-out.ts';
import { classifier, connect, selectClusters, withContexts } from '../engine/context.ts';
import { resolveKubeconfig } from '../engine/kubeconfig.ts';
import { checkContexts } from '../k8s/kubeconfig.ts';
import { DEFAULT_REQUEST_TIMEOUT_SECONDS } from '../k8s/client.ts';
import { loadMeshSpec } from '../spec/load-file.ts';
import type { MeshSpec } from '../spec/schema.ts';
import { instantQuery, prometheusTarget } from './prometheus-query.ts';
import { buildTrafficReport, trafficQueries, type ClusterAnswers, type QueryName, type TrafficReport } from './traffic.ts';

export interface TrafficOptions {
  file: string;
  kubeconfig?: string | undefined;
  /** Per-cluster context overrides for this run. */
  contexts?: Readonly<Record<string, string>> | undefined;
  clusters?: readonly string[] | undefined;
  requestTimeoutSeconds?: number | undefined;
  /** Seconds over which rates, error shares and latencies are taken. */
  windowSeconds: number;
}

export interface TrafficResult extends TrafficReport {
  ok: boolean;
  /** When the numbers were read (ISO 8601). */
  at: string;
  clusters: ClusterOutcome<{ prometheus: string }>[];
  unreachable: string[];
}

export async function trafficMesh(options: TrafficOptions): Promise<TrafficResult> {
  const decoded = await loadMeshSpec(options.file);
  return trafficOf(withContexts(decoded.document.spec, options.contexts), options);
}

export async function trafficOf(spec: MeshSpec, options: Omit<TrafficOptions, 'file'>): Promise<TrafficResult> {
  const selected = selectClusters(spec, options.clusters);
  const timeout = options.requestTimeoutSeconds ?? DEFAULT_REQUEST_TIMEOUT_SECONDS;
  const kubeconfig = resolveKubeconfig(spec.clusters.map((c) => c.context), options.kubeconfig);
  checkContexts(selected, kubeconfig);
  const answers = new Map<string, ClusterAnswers>();
  const clusters = await fanOut(selected, 'traffic', async (cluster) => {
    const { client } = await connect(cluster, kubeconfig, timeout, { access: 'read', command: 'traffic' });
    const target = await prometheusTarget(client.config, spec, timeout * 1000);
    const queries = Object.entries(trafficQueries(cluster.name, options.windowSeconds)) as [QueryName, string][];
    const results = await mapLimit(queries, 4, ([, promql]) => instantQuery(target, promql));
    answers.set(cluster.name, Object.fromEntries(queries.map(([name], i) => [name, results[i]!])) as ClusterAnswers);
    return { prometheus: `${target.namespace}/${target.pod}` };
  }, classifier(timeout));
  const report = buildTrafficReport(spec, answers, options.windowSeconds);
  return { ok: clusters.every((c) => c.ok), at: new Date().toISOString(), clusters, unreachable: clusters.filter((c) => !c.ok && c.unreachable).map((c) => c.cluster), ...report };
}
