// `eastwest traffic`: each cluster's Prometheus asked at once (one deadline each); the matrix built from
// the clusters that answered. A cluster that does not answer is an outcome; it hides nobody else's.
import { fanOut, mapLimit, type ClusterOutcome } from '../core/fan-out.ts';
import { classifier, connect, selectClusters, withContexts, type Connection } from '../engine/context.ts';
import { resolveKubeconfig } from '../engine/kubeconfig.ts';
import { checkContexts } from '../k8s/kubeconfig.ts';
import { DEFAULT_REQUEST_TIMEOUT_SECONDS } from '../k8s/client.ts';
import { loadMeshSpec } from '../spec/load-file.ts';
import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';
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
  const session = await openTraffic(options);
  return session.read();
}

export async function trafficOf(spec: MeshSpec, options: Omit<TrafficOptions, 'file'>): Promise<TrafficResult> {
  return trafficSession(spec, options).read();
}

/** Traffic read again and again (`--watch`): the spec decoded once, each cluster connected (and its access reviewed) once. */
export interface TrafficSession {
  read(): Promise<TrafficResult>;
}

export async function openTraffic(options: TrafficOptions): Promise<TrafficSession> {
  const decoded = await loadMeshSpec(options.file);
  return trafficSession(withContexts(decoded.document.spec, options.contexts), options);
}

function trafficSession(spec: MeshSpec, options: Omit<TrafficOptions, 'file'>): TrafficSession {
  const selected = selectClusters(spec, options.clusters);
  const timeout = options.requestTimeoutSeconds ?? DEFAULT_REQUEST_TIMEOUT_SECONDS;
  const kubeconfig = resolveKubeconfig(spec.clusters.map((c) => c.context), options.kubeconfig);
  checkContexts(selected, kubeconfig);
  // A cluster that could not be connected to is tried again at the next read.
  const connections = new Map<string, Promise<Connection>>();
  const connection = (cluster: ClusterSpec): Promise<Connection> => {
    let pending = connections.get(cluster.name);
    if (!pending) {
      pending = connect(cluster, kubeconfig, timeout, { access: 'read', command: 'traffic' });
      connections.set(cluster.name, pending);
      pending.catch(() => connections.delete(cluster.name));
    }
    return pending;
  };
  return { read: () => readTraffic(spec, selected, options, timeout, connection) };
}

async function readTraffic(spec: MeshSpec, selected: ClusterSpec[], options: Omit<TrafficOptions, 'file'>, timeout: number, connection: (c: ClusterSpec) => Promise<Connection>): Promise<TrafficResult> {
  const answers = new Map<string, ClusterAnswers>();
  const clusters = await fanOut(selected, 'traffic', async (cluster) => {
    const { client } = await connection(cluster);
    const target = await prometheusTarget(client.config, spec, timeout * 1000);
    const queries = Object.entries(trafficQueries(cluster.name, options.windowSeconds)) as [QueryName, string][];
    const results = await mapLimit(queries, 4, ([, promql]) => instantQuery(target, promql));
    answers.set(cluster.name, Object.fromEntries(queries.map(([name], i) => [name, results[i]!])) as ClusterAnswers);
    return { prometheus: `${target.namespace}/${target.pod}` };
  }, classifier(timeout));
  const report = buildTrafficReport(spec, answers, options.windowSeconds);
  return { ok: clusters.every((c) => c.ok), at: new Date().toISOString(), clusters, unreachable: clusters.filter((c) => !c.ok && c.unreachable).map((c) => c.cluster), ...report };
}
