// The engine's context for apply, diff and verify (and what comes after them): the spec decoded once,
// the clusters a command acts on, and one connection per cluster, made once, with a deadline on every
// request. A cluster that cannot be reached is an outcome, never a reason to stop looking at the others.
import { VersionApi } from '@kubernetes/client-node';
import { reviewAccess, type AccessGrant, type AccessLevel } from './access.ts';
import { EastwestError, InputError } from '../core/errors.ts';
import { fanOut, type ClusterOutcome } from '../core/fan-out.ts';
import { clusterError, ClusterError } from '../k8s/cluster-error.ts';
import { DEFAULT_REQUEST_TIMEOUT_SECONDS, KubeClient, loadKubeConfig } from '../k8s/client.ts';
import { resolveKubeconfig } from './kubeconfig.ts';
import { checkContexts, type KubeconfigSource } from '../k8s/kubeconfig.ts';
import type { DecodedSpec } from '../spec/decode.ts';
import { loadMeshSpec } from '../spec/load-file.ts';
import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';
import { closest } from '../util/closest.ts';

export const SUPPORTED_KUBERNETES = { minMinor: 30, maxMinor: 36 } as const;

export interface EngineOptions {
  file: string;
  kubeconfig?: string | undefined;
  /** Per-cluster context overrides for this run (`--context us=prod-us-east-1`). */
  contexts?: Readonly<Record<string, string>> | undefined;
  requestTimeoutSeconds?: number | undefined;
  /** Act on these clusters only (the others are peers: read when reachable, never written). */
  clusters?: readonly string[] | undefined;
  /** Also connect to the peers (not selected) to read their gateway addresses. */
  connectPeers?: boolean;
  /** What the command may do (src/engine/access.ts), reviewed on connecting; default `write` (apply's). */
  access?: AccessLevel;
  /** The command, for the hint that grants a missing right (`eastwest <command> --print-rbac`). */
  command?: string;
  /** Rights beyond the level that a flag of the command needs (reviewed with it). */
  grants?: readonly AccessGrant[];
  /**
   * Return once every connection settled, or this many milliseconds after the first selected cluster
   * connected, whichever comes first: a cluster that does not answer then is left to `allConnections`
   * (its deadline runs on while the command works with the others). Undefined: wait for all.
   */
  lateAfterMs?: number;
}

export interface Connection {
  cluster: ClusterSpec;
  client: KubeClient;
  kubernetesVersion: string;
}

export interface EngineContext {
  decoded: DecodedSpec;
  spec: MeshSpec;
  /** The kubeconfig files read (kubectl's rules). */
  kubeconfig: KubeconfigSource;
  /** The kubeconfig context that reaches a cluster in this run (the spec's, or its --context override). */
  contextOf: (cluster: string) => string;
  requestTimeoutSeconds: number;
  /** The clusters this command acts on (all, unless limited). */
  selected: ClusterSpec[];
  /** One outcome per cluster connected to (selected first, then peers when asked). */
  connections: ClusterOutcome<Connection>[];
  connected: Map<string, Connection>;
  /** Every connection's outcome once all settled (with `lateAfterMs`, also those not in `connections`). */
  allConnections: Promise<ClusterOutcome<Connection>[]>;
}

/** The clusters named by --clusters, checked against the spec (exit 2 with the known names). */
export function selectClusters(spec: MeshSpec, names: readonly string[] | undefined): ClusterSpec[] {
  if (!names || names.length === 0) return [...spec.clusters];
  const known = spec.clusters.map((c) => c.name);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length) {
    throw new InputError(`--clusters names ${unknown.length === 1 ? 'a cluster' : 'clusters'} not in the spec`, unknown.map((n) => {
      const suggestion = closest(n, known);
      return { path: '--clusters', message: `"${n}" is not a cluster of mesh ${spec.meshID}`, hint: suggestion ? `did you mean "${suggestion}"? (clusters: ${known.join(', ')})` : `clusters: ${known.join(', ')}` };
    }));
  }
  return spec.clusters.filter((c) => names.includes(c.name));
}

/**
 * The spec with this run's context overrides (`--context us=prod-us-east-1`): every cluster named must
 * be in the spec (exit 2 otherwise). The spec file is not changed.
 */
export function withContexts(spec: MeshSpec, overrides: Readonly<Record<string, string>> | undefined): MeshSpec {
  if (!overrides || Object.keys(overrides).length === 0) return spec;
  const known = spec.clusters.map((c) => c.name);
  const unknown = Object.keys(overrides).filter((n) => !known.includes(n));
  if (unknown.length) {
    throw new InputError('--context names a cluster not in the spec', unknown.map((n) => {
      const suggestion = closest(n, known);
      return { path: '--context', message: `"${n}" is not a cluster of mesh ${spec.meshID}`, hint: `${suggestion ? `did you mean "${suggestion}"? ` : ''}the form is <cluster>=<context>; clusters: ${known.join(', ')}` };
    }));
  }
  return { ...spec, clusters: spec.clusters.map((c) => (overrides[c.name] ? { ...c, context: overrides[c.name]! } : c)) };
}

/**
 * One connection with the request deadline: the version is checked and, unless `access` is `none` (the
 * sync controller reads and writes only what its own roles allow), that the user has every right of the
 * access level (SelfSubjectAccessReviews; a missing right is a "forbidden" ClusterError naming it).
 */
export async function connect(cluster: ClusterSpec, kubeconfig: string | KubeconfigSource | undefined, requestTimeoutSeconds: number, options: { access: AccessLevel | 'none'; command?: string; context?: string; grants?: readonly AccessGrant[] }): Promise<Connection> {
  const config = loadKubeConfig(options.context ?? cluster.context, kubeconfig, requestTimeoutSeconds);
  const client = new KubeClient(config, { cluster: cluster.name });
  const version = await client.call('version', () => config.makeApiClient(VersionApi).getCode());
  const minor = Number(version.minor.replace(/\D/g, ''));
  if (version.major !== '1' || minor < SUPPORTED_KUBERNETES.minMinor || minor > SUPPORTED_KUBERNETES.maxMinor) {
    throw new ClusterError(cluster.name, 'api', `Kubernetes ${version.gitVersion} is not supported (1.${SUPPORTED_KUBERNETES.minMinor}–1.${SUPPORTED_KUBERNETES.maxMinor})`, 'use a cluster within the supported range');
  }
  if (options.access !== 'none') await reviewAccess(client, cluster.name, options.access, options.command ?? 'apply', options.grants ?? []);
  return { cluster, client, kubernetesVersion: version.gitVersion };
}

/** Classifies anything thrown while working on `cluster` (for fanOut). */
export const classifier = (requestTimeoutSeconds: number) => (cluster: string, error: unknown): EastwestError => clusterError(cluster, error, requestTimeoutSeconds);

export async function openEngine(options: EngineOptions): Promise<EngineContext> {
  const decoded = await loadMeshSpec(options.file);
  const spec = decoded.document.spec;
  // --context changes how a cluster is reached in this run, never what is desired there (the spec's
  // contexts are rendered into the sync controller's own kubeconfig).
  const reach = withContexts(spec, options.contexts);
  const contextOf = (name: string) => reach.clusters.find((c) => c.name === name)!.context;
  const selected = selectClusters(spec, options.clusters);
  const requestTimeoutSeconds = options.requestTimeoutSeconds ?? DEFAULT_REQUEST_TIMEOUT_SECONDS;
  const kubeconfig = resolveKubeconfig(reach.clusters.map((c) => c.context), options.kubeconfig);
  // A context that no kubeconfig file defines is bad input, found before any cluster is contacted.
  const targets = options.connectPeers ? [...selected, ...spec.clusters.filter((c) => !selected.includes(c))] : selected;
  checkContexts(targets.map((c) => ({ name: c.name, context: contextOf(c.name) })), kubeconfig);
  const outcomes = targets.map(async (c) => (await fanOut([c], 'connect', (t) => connect(t, kubeconfig, requestTimeoutSeconds, { access: options.access ?? 'write', ...(options.command ? { command: options.command } : {}), ...(options.grants ? { grants: options.grants } : {}), context: contextOf(t.name) }), classifier(requestTimeoutSeconds)))[0]!);
  const settled = new Map<string, ClusterOutcome<Connection>>();
  for (const outcome of outcomes) void outcome.then((o) => settled.set(o.cluster, o));
  const allConnections = Promise.all(outcomes);
  if (options.lateAfterMs === undefined) await allConnections;
  else {
    const lateAfterMs = options.lateAfterMs;
    const firstSelected = Promise.any(outcomes.filter((_, i) => selected.includes(targets[i]!)).map((p) => p.then((o) => (o.ok ? o : Promise.reject(new Error(o.cluster))))));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([allConnections, firstSelected.then(() => new Promise<void>((r) => (timer = setTimeout(r, lateAfterMs))), () => allConnections)]);
    clearTimeout(timer);
  }
  const connections = targets.flatMap((t) => (settled.has(t.name) ? [settled.get(t.name)!] : []));
  const connected = new Map(connections.flatMap((c) => (c.ok ? [[c.cluster, c.value] as [string, Connection]] : [])));
  return { decoded, spec, kubeconfig, contextOf, requestTimeoutSeconds, selected, connections, connected, allConnections };
}

/** A connection outcome without the client (what results show). */
export function connectionView(outcome: ClusterOutcome<Connection>): ClusterOutcome<{ kubernetesVersion: string }> {
  return outcome.ok ? { cluster: outcome.cluster, ok: true, value: { kubernetesVersion: outcome.value.kubernetesVersion } } : outcome;
}
