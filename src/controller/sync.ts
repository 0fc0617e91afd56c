// `eastwest sync`: the controller. Watch-driven (informers per cluster), one keyed, rate-limited work
// queue (src/controller/work-queue.ts) whose keys are exported names and clusters' full passes, the
// desired state computed by the same pure functions (src/mcs/imports.ts) and written per key
// (src/controller/sync-reconciler.ts) with its own field manager and ownership label, pruning what is no
// longer exported. ServiceExport conditions say Valid / Conflict / Ready and why.
import { EXPORT_TO_ANNOTATION, MANAGED_BY_LABEL, MESH_LABEL, SYNC_MANAGED_BY } from '../core/vocabulary.ts';
import type { Reporter } from '../core/reporter.ts';
import { ClusterError, clusterError, httpStatusOf } from '../k8s/cluster-error.ts';
import type { KubeObject } from '../k8s/object.ts';
import { istioProtocol, parseExportTo, type ClusterExport } from '../mcs/imports.ts';

import { ISTIO_NAMESPACE } from '../render/helm-releases.ts';
import { resolveKubeconfig } from '../engine/kubeconfig.ts';
import type { MeshSpec } from '../spec/schema.ts';
import { SYNC_STATUS_CONFIGMAP } from '../render/sync-controller.ts';
import type { ClusterWatch, ServiceExportObject, WatchChange } from './cluster-watch.ts';
import { ClusterWatches } from './cluster-watches.ts';
import { passthroughSni, probeGateway } from './gateway-probe.ts';
import { CLUSTER_KEY_PREFIX, clusterKey, isClusterKey, nameKey, SyncReconciler, type SyncView, type SyncWriter } from './sync-reconciler.ts';
import { KubeSyncWriter } from './sync-writer.ts';
import { type Clock, ExponentialBackoff, type RateLimiter, realClock, runWorkers, WorkQueue } from './work-queue.ts';

export { SYNC_KINDS, syncSelector } from './sync-writer.ts';

/** Keys reconciled at once. */
const WORKERS = 16;
/** A cluster's full pass runs again after this long (it finds what others changed or deleted). */
const FULL_PASS_MS = 5 * 60_000;

export interface SyncOptions {
  file: string;
  kubeconfig?: string | undefined;
  requestTimeoutSeconds: number;
  /** Clusters this controller writes (imports, export status, its status report); all when absent. Every cluster is read. */
  writeClusters?: readonly string[];
  /** False when this replica must not write now (it no longer holds the lease). */
  active?: () => boolean;
}

export interface SyncClusterStatus {
  cluster: string;
  state: string;
  since: string;
  error?: string;
}

export interface SyncController {
  /** Resolves when stopped. */
  done: Promise<void>;
  status(): SyncClusterStatus[];
  stop(): Promise<void>;
}

export interface PublishedSyncStatus {
  updatedAt: string;
  /** The clusters the reporting controller writes (its own, in-cluster). */
  writes?: string[];
  clusters: SyncClusterStatus[];
}

export function syncStatusConfigMap(spec: MeshSpec, status: PublishedSyncStatus): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: SYNC_STATUS_CONFIGMAP, namespace: ISTIO_NAMESPACE, labels: { [MANAGED_BY_LABEL]: SYNC_MANAGED_BY, [MESH_LABEL]: spec.meshID } },
    data: { status: JSON.stringify(status) },
  };
}

/** One ServiceExport as its cluster's caches say (its Service's ports, ready endpoints, scope, acceptance). */
export function exportFrom(watch: Pick<ClusterWatch, 'cluster' | 'service' | 'endpoints'>, e: ServiceExportObject): ClusterExport | undefined {
  const namespace = e.metadata?.namespace;
  const name = e.metadata?.name;
  if (!namespace || !name) return undefined;
  const svc = watch.service(namespace, name);
  const endpoints = watch.endpoints(namespace, name);
  const ports = (svc?.spec?.ports ?? []).map((p) => {
    // A named targetPort is the pods' port of that name: its number comes from the EndpointSlices.
    const targetPort = typeof p.targetPort === 'number' ? p.targetPort : endpoints.ports[p.name ?? ''];
    return {
      name: p.name ?? `tcp-${p.port}`,
      port: p.port,
      protocol: istioProtocol({ ...(p.name ? { name: p.name } : {}), ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}), ...(p.protocol ? { protocol: p.protocol } : {}) }),
      ...(targetPort !== undefined ? { targetPort } : {}),
    };
  });
  return {
    cluster: watch.cluster.name,
    namespace,
    name,
    createdAt: new Date((e.metadata?.creationTimestamp as unknown as string | Date | undefined) ?? 0).toISOString(),
    ...(svc ? { service: { ports, selector: svc.spec?.selector ?? {} } } : {}),
    ...(e.metadata?.annotations?.[EXPORT_TO_ANNOTATION] !== undefined ? { exportTo: parseExportTo(e.metadata.annotations[EXPORT_TO_ANNOTATION]) } : {}),
    ...(endpoints.ready !== undefined ? { readyEndpoints: endpoints.ready } : {}),
    accepted: accepted(e.status?.conditions ?? []),
  };
}

/**
 * Whether other clusters may route to an export: Valid=True, and Ready=True once its controller writes
 * Ready (a controller of an earlier version writes none: Valid=True is its acceptance).
 */
function accepted(conditions: readonly { type: string; status: string }[]): boolean {
  const ready = conditions.find((c) => c.type === 'Ready');
  return conditions.some((c) => c.type === 'Valid' && c.status === 'True') && (ready === undefined || ready.status === 'True');
}

/** The clusters of `spec`, watched (started) for a controller; pass them to startSync. */
/** Whether an API error (or one it wraps) says the namespace is being deleted (a 403 that is not about the controller's rights). */
export function namespaceTerminating(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const body = (e as { body?: unknown }).body;
    if ((typeof body === 'string' && /is being terminated/.test(body)) || /is being terminated/.test(String((e as Error).message ?? ''))) return true;
  }
  return false;
}

export function watchMesh(spec: MeshSpec, options: Pick<SyncOptions, 'kubeconfig' | 'requestTimeoutSeconds'>, reporter: Reporter): ClusterWatches {
  const kubeconfig = resolveKubeconfig(spec.clusters.map((c) => c.context), options.kubeconfig);
  const set = new ClusterWatches(spec, { kubeconfig, requestTimeoutSeconds: options.requestTimeoutSeconds, reporter });
  set.start();
  return set;
}

/**
 * Reconciles while running. With `clusters` (already watched, e.g. while this replica waited for the
 * lease) it uses those and leaves them running when stopped; without, it watches the mesh itself.
 *
 * Watch events become keys (the exported name they concern; a cluster's state: its full pass) on one
 * rate-limited work queue; workers reconcile one key at a time each (never one key in two workers). A
 * key that fails is tried again with back-off (a name from 100 ms, a cluster's full pass from 1 s, both
 * up to 30 s); a cluster that fails is left by name keys until its full pass runs again.
 */
export function startSync(options: SyncOptions, spec: MeshSpec, reporter: Reporter, clusters?: ClusterWatches, deps: { clock?: Clock; workers?: number } = {}): SyncController {
  const clock = deps.clock ?? realClock;
  const set = clusters ?? watchMesh(spec, options, reporter);
  const watches = set.watches;
  const writes = (w: ClusterWatch) => options.writeClusters === undefined || options.writeClusters.includes(w.cluster.name);
  const say = (message: string, level: 'info' | 'warn' = 'info') => reporter.report({ level, code: 'sync', message });
  const active = () => !options.active || options.active();
  const mayWrite = () => {
    if (!active()) throw new Error('no longer the acting replica');
  };

  const nameBackoff = new ExponentialBackoff<string>(100, 30_000);
  const clusterBackoff = new ExponentialBackoff<string>(1000, 30_000);
  const limiter: RateLimiter<string> = {
    when: (k) => (isClusterKey(k) ? clusterBackoff : nameBackoff).when(k),
    forget: (k) => (isClusterKey(k) ? clusterBackoff : nameBackoff).forget(k),
    failures: (k) => (isClusterKey(k) ? clusterBackoff : nameBackoff).failures(k),
  };
  const queue = new WorkQueue<string>({ clock, limiter });

  const writers = new Map<string, KubeSyncWriter>();
  const writerOf = (cluster: string): SyncWriter | undefined => {
    const w = watches.find((x) => x.cluster.name === cluster);
    if (!w || !writes(w) || !w.client) return undefined;
    let writer = writers.get(cluster);
    if (!writer) writers.set(cluster, (writer = new KubeSyncWriter(w.client, spec.meshID, mayWrite)));
    return writer;
  };
  const views: SyncView[] = watches.map((w) => ({
    cluster: w.cluster,
    writable: () => writes(w) && w.state === 'live' && w.client !== undefined,
    synced: () => w.synced,
    exportOf: (namespace, name) => {
      const e = w.serviceExport(namespace, name);
      return e ? exportFrom(w, e) : undefined;
    },
    exportKeys: () => w.serviceExports().flatMap((e) => (e.metadata?.namespace && e.metadata.name ? [nameKey(e.metadata.namespace, e.metadata.name)] : [])),
    exportConditions: (namespace, name) => {
      const e = w.serviceExport(namespace, name);
      return e ? (e.status?.conditions ?? []) : undefined;
    },
    gatewayAddress: () => w.gatewayAddress(),
  }));
  const reconciler = new SyncReconciler({
    spec,
    views,
    writer: writerOf,
    probe: async (address, host, port) => probeGateway({ address, sni: passthroughSni(host, port), timeoutMs: Math.min(1500, options.requestTimeoutSeconds * 1000) }),
    clock,
    requeue: (key, ms) => (ms ? queue.addAfter(key, ms) : queue.add(key)),
    // No answer, or the controller's credentials refused: the cluster failed. Any other refusal is one
    // name's (a webhook, a terminating namespace): that name alone is tried again.
    isClusterFailure: (error) => {
      const failure = clusterError('', error, options.requestTimeoutSeconds);
      // A namespace being deleted answers 403 too: that refuses one name's objects, not the controller.
      if (namespaceTerminating(error)) return false;
      return failure instanceof ClusterError && (failure.unreachable || failure.kind === 'unauthorized' || failure.kind === 'forbidden' || (httpStatusOf(failure.cause) ?? 0) >= 500);
    },
    clusterFailed: (cluster, error) => {
      const wait = clusterBackoff.when(clusterKey(cluster));
      say(`${cluster}: write failed: ${clusterError(cluster, error, options.requestTimeoutSeconds).message}; its full pass again in ${wait / 1000} s`, 'warn');
      queue.addAfter(clusterKey(cluster), wait);
    },
    say,
  });

  /** Clusters this controller writes whose full pass has not run (or must run again). */
  const needFullPass = () => watches.filter((w) => writes(w) && !reconciler.fresh(w.cluster.name, FULL_PASS_MS));
  const onChange = (change: WatchChange) => {
    if (change.type === 'name') queue.add(nameKey(change.namespace, change.name));
    else if (change.type === 'gateway') for (const k of reconciler.knownKeys()) queue.add(k);
    else {
      // A cluster came back (its caches start over from a list) or went stale: its own full pass, and
      // that of every cluster still waiting for one (pruning waits until every cluster was listed).
      const w = watches.find((x) => x.cluster.name === change.cluster);
      if (w && writes(w) && w.state === 'live') {
        reconciler.forgetCluster(w.cluster.name);
        queue.add(clusterKey(w.cluster.name));
      }
      for (const x of needFullPass()) queue.add(clusterKey(x.cluster.name));
      // A peer back (its caches listed again; pruning may be allowed now): every name again.
      if (w?.state === 'live') for (const k of reconciler.knownKeys()) queue.add(k);
    }
  };
  const unsubscribe = set.subscribe(onChange);
  for (const w of watches) if (writes(w)) queue.add(clusterKey(w.cluster.name));

  const status = (): SyncClusterStatus[] => watches.map((w) => ({ cluster: w.cluster.name, state: w.state, since: w.since.toISOString(), ...(w.lastError ? { error: w.lastError } : {}) }));
  let published = '';
  let publishedAt = 0;
  /** The controller's view of every cluster, kept in each live cluster (read by `eastwest sync status`). */
  async function publishStatus(): Promise<void> {
    if (!active()) return;
    const view = JSON.stringify(status());
    if (view === published && Date.now() - publishedAt < 10_000) return;
    const body: PublishedSyncStatus = { updatedAt: new Date().toISOString(), ...(options.writeClusters ? { writes: [...options.writeClusters] } : {}), clusters: status() };
    const results = await Promise.all(watches.filter((w) => writes(w) && w.state === 'live' && w.client).map((w) =>
      w.client!.apply(syncStatusConfigMap(spec, body)).then(() => true, () => false)));
    if (results.some(Boolean)) {
      published = view;
      publishedAt = Date.now();
    }
  }
  let publishing: Promise<void> = Promise.resolve();
  const publish = () => {
    publishing = publishing.then(publishStatus).catch((error: unknown) => say(`sync: status: ${(error as Error).message}`, 'warn'));
  };
  const tick = setInterval(() => {
    // The periodic full pass needs no event: objects others changed or deleted are found by it. A
    // cluster without one (it failed) is queued by its back-off, not here.
    for (const w of watches) {
      const age = reconciler.age(w.cluster.name);
      if (writes(w) && w.state === 'live' && age !== undefined && age > FULL_PASS_MS) queue.add(clusterKey(w.cluster.name));
    }
    publish();
  }, 5000);
  tick.unref();
  const unsubscribeState = set.subscribe((change) => {
    if (change.type === 'state') publish();
  });

  const workers = runWorkers(queue, deps.workers ?? WORKERS, async (key) => {
    if (!active()) return;
    await reconciler.reconcile(key);
  }, (key, error) => {
    if (isClusterKey(key)) reconciler.forgetCluster(key.slice(CLUSTER_KEY_PREFIX.length));
    const cluster = isClusterKey(key) ? key.slice(CLUSTER_KEY_PREFIX.length) : undefined;
    const message = cluster ? clusterError(cluster, error, options.requestTimeoutSeconds).message : error instanceof Error ? error.message : String(error);
    say(`${cluster ? `${cluster}: full pass` : key} failed: ${message}; tried again with back-off (failure ${limiter.failures(key) + 1})`, 'warn');
  });
  const done = (async () => {
    await workers;
    await publishing;
  })();

  return {
    done,
    status,
    async stop() {
      clearInterval(tick);
      unsubscribe();
      unsubscribeState();
      queue.shutDown();
      if (!clusters) await set.stop();
      await done;
    },
  };
}
