// `eastwest sync`: the controller. Watch-driven (informers per cluster), one keyed work queue with a
// short debounce, the desired state computed by the same pure functions (src/mcs/imports.ts) and
// applied with the engine's resource manager (its own field manager and ownership label, prune of what
// is no longer exported). ServiceExport conditions say Valid / Conflict and why.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Reporter } from '../core/reporter.ts';
import { mapLimit } from '../core/fan-out.ts';
import { clusterError, httpStatusOf } from '../k8s/cluster-error.ts';
import type { KubeObject } from '../k8s/object.ts';
import { applyChangeSet, CONCURRENCY, planObjects, undesired, type ChangeSetEntry, type PlannedObject, type Stage } from '../k8s/resource-manager.ts';
import { objectRef } from '../k8s/object.ts';
import type { KubeClient } from '../k8s/client.ts';
import { createHash } from 'node:crypto';
import { clustersetHost, EXPORT_TO_ANNOTATION, importObjects, istioProtocol, parseExportTo, type ImportedService, MCS_GROUP, resolveExports, SYNC_MANAGED_BY, type ClusterExport, type Condition, type ExportStatus } from '../mcs/imports.ts';
import { MESH_LABEL } from '../k8s/ownership.ts';
import { ISTIO_NAMESPACE } from '../render/helm-releases.ts';
import { resolveKubeconfig } from '../engine/kubeconfig.ts';
import { listOwned } from '../apply/prune.ts';
import type { MeshSpec } from '../spec/schema.ts';
import { SYNC_STATUS_CONFIGMAP } from '../render/sync-controller.ts';
import type { ClusterWatch, ServiceExportObject } from './cluster-watch.ts';
import { ClusterWatches } from './cluster-watches.ts';
import { passthroughSni, probeGateway } from './gateway-probe.ts';
import { needsProbe, readyCondition } from '../mcs/export-readiness.ts';

export interface SyncOptions {
  file: string;
  kubeconfig?: string | undefined;
  requestTimeoutSeconds: number;
  /** Milliseconds to gather events before a reconcile. */
  debounceMs?: number;
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

const SYNC_KINDS = [
  { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry' },
  { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry' },
  { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule' },
  { apiVersion: `${MCS_GROUP}/v1alpha1`, kind: 'ServiceImport' },
];

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
    metadata: { name: SYNC_STATUS_CONFIGMAP, namespace: ISTIO_NAMESPACE, labels: { 'app.kubernetes.io/managed-by': SYNC_MANAGED_BY, [MESH_LABEL]: spec.meshID } },
    data: { status: JSON.stringify(status) },
  };
}

/** The imports do not depend on each other (their namespaces are made before): written all at once. */
const oneStage = (o: KubeObject): Stage => (o.kind === 'Namespace' ? 'namespaces' : 'workloads');

export const syncSelector = (meshID: string) => `app.kubernetes.io/managed-by=${SYNC_MANAGED_BY},${MESH_LABEL}=${meshID}`;

/** What every cluster exports now, from the watches' caches (a stale cluster's last-known exports count). */
export function collectExports(watches: readonly ClusterWatch[]): ClusterExport[] {
  const out: ClusterExport[] = [];
  for (const watch of watches) {
    for (const e of watch.serviceExports()) {
      const namespace = e.metadata?.namespace;
      const name = e.metadata?.name;
      if (!namespace || !name) continue;
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
      out.push({
        cluster: watch.cluster.name,
        namespace,
        name,
        createdAt: new Date((e.metadata?.creationTimestamp as unknown as string | Date | undefined) ?? 0).toISOString(),
        ...(svc ? { service: { ports, selector: svc.spec?.selector ?? {} } } : {}),
        ...(e.metadata?.annotations?.[EXPORT_TO_ANNOTATION] !== undefined ? { exportTo: parseExportTo(e.metadata.annotations[EXPORT_TO_ANNOTATION]) } : {}),
        ...(endpoints.ready !== undefined ? { readyEndpoints: endpoints.ready } : {}),
        accepted: accepted(e.status?.conditions ?? []),
      });
    }
  }
  return out;
}

/**
 * Whether other clusters may route to an export: Valid=True, and Ready=True once its controller writes
 * Ready (a controller of an earlier version writes none: Valid=True is its acceptance).
 */
function accepted(conditions: readonly { type: string; status: string }[]): boolean {
  const ready = conditions.find((c) => c.type === 'Ready');
  return conditions.some((c) => c.type === 'Valid' && c.status === 'True') && (ready === undefined || ready.status === 'True');
}

/** A stable fingerprint of a desired object (its rendering is deterministic). */
const fingerprint = (o: KubeObject) => createHash('sha256').update(JSON.stringify(o)).digest('base64url');

const sameConditions = (live: ServiceExportObject['status'], want: Condition[]) =>
  JSON.stringify((live?.conditions ?? []).map((c) => [c.type, c.status, c.reason, c.message])) === JSON.stringify(want.map((c) => [c.type, c.status, c.reason, c.message]));

/** The clusters of `spec`, watched (started) for a controller; pass them to startSync. */
export function watchMesh(spec: MeshSpec, options: Pick<SyncOptions, 'kubeconfig' | 'requestTimeoutSeconds'>, reporter: Reporter): ClusterWatches {
  const kubeconfig = resolveKubeconfig(spec.clusters.map((c) => c.context), options.kubeconfig);
  const set = new ClusterWatches(spec, { kubeconfig, requestTimeoutSeconds: options.requestTimeoutSeconds, reporter });
  set.start();
  return set;
}

/**
 * Reconciles while running. With `clusters` (already watched, e.g. while this replica waited for the
 * lease) it uses those and leaves them running when stopped; without, it watches the mesh itself.
 */
export function startSync(options: SyncOptions, spec: MeshSpec, reporter: Reporter, clusters?: ClusterWatches): SyncController {
  let dirty = true;
  let wake: (() => void) | undefined;
  let stopped = false;
  const onChange = () => {
    dirty = true;
    wake?.();
  };
  const set = clusters ?? watchMesh(spec, options, reporter);
  const unsubscribe = set.subscribe(onChange);
  const watches = set.watches;
  const writes = (w: ClusterWatch) => options.writeClusters === undefined || options.writeClusters.includes(w.cluster.name);
  const say = (message: string, level: 'info' | 'warn' = 'info') => reporter.report({ level, code: 'sync', message });

  /**
   * What this controller last applied (or found unchanged) per cluster: ref → fingerprint of the desired
   * object. A reconcile then writes only what changed since and deletes what is no longer desired; a full
   * pass (every object listed and compared with the cluster) runs first, after any failure, when the
   * cluster's watch came back, and every FULL_PASS_MS, and catches what others changed meanwhile.
   */
  const memory = new Map<string, { applied: Map<string, { fingerprint: string; object: KubeObject }>; fullAt: number }>();
  const FULL_PASS_MS = 5 * 60_000;

  async function createNamespaces(client: KubeClient, namespaces: KubeObject[]): Promise<void> {
    // Namespaces are created only where they do not exist (a user's namespace is never relabelled or
    // patched: the controller's role may create namespaces, not change them).
    await mapLimit(namespaces, 8, async (ns) => {
      if (await client.read(ns)) return;
      // 409: made meanwhile (by a user, or the previous acting replica).
      await client.call(`create Namespace/${ns.metadata.name}`, () => client.objects.create(ns as never).catch((error: unknown) => {
        if (httpStatusOf(error) === 409) return undefined;
        throw error;
      }));
    });
  }

  /** Per export (cluster/namespace/name): since when its gateway refuses it while its endpoints are ready. */
  const refusing = new Map<string, number>();
  /** Per cluster: passes in a row with a gateway still learning names (the retry cadence). */
  const learningPasses = new Map<string, number>();

  /**
   * The Ready condition of each export this cluster serves, added to its status: its gateway is asked
   * (after this pass wrote the name's ServiceEntry here) whether it routes the name yet. True for
   * what already was (no probe). Those it does not route yet are asked again soon.
   */
  async function withReadiness(watch: ClusterWatch, statuses: ExportStatus[], imports: readonly ImportedService[], gateway: string | undefined): Promise<{ statuses: ExportStatus[]; learning: number }> {
    const cluster = watch.cluster.name;
    const served = new Map(imports.filter((s) => s.clusters.includes(cluster)).map((s) => [`${s.namespace}/${s.name}`, s]));
    const exportsHere = new Map(watch.serviceExports().map((e) => [`${e.metadata?.namespace}/${e.metadata?.name}`, e]));
    let learning = 0;
    const seen = new Set<string>();
    const out = await mapLimit(statuses, 32, async (status): Promise<ExportStatus> => {
      const key = `${status.namespace}/${status.name}`;
      const service = served.get(key);
      if (status.cluster !== cluster) return status;
      if (!service) {
        // Valid but not served (its ports conflict with the oldest export's): Ready=False, so that a
        // missing Ready only ever means a controller of an earlier version.
        const valid = status.conditions.some((c) => c.type === 'Valid' && c.status === 'True');
        return valid ? { ...status, conditions: [...status.conditions, { type: 'Ready', status: 'False', reason: 'NotServed', message: 'not routed: see its Conflict condition' }] } : status;
      }
      const memo = `${cluster}/${key}`;
      seen.add(memo);
      const liveReady = exportsHere.get(key)?.status?.conditions?.find((c) => c.type === 'Ready');
      const live = liveReady ? { type: 'Ready' as const, status: liveReady.status as 'True' | 'False', reason: liveReady.reason ?? '', message: liveReady.message ?? '' } : undefined;
      const host = clustersetHost(service);
      const base = { host, cluster, gateway, readyEndpoints: service.readyEndpoints?.[cluster], live, now: Date.now() };
      let condition;
      if (needsProbe(base)) {
        const port = service.ports[0]!.port;
        const probe = await probeGateway({ address: gateway!, sni: passthroughSni(host, port), timeoutMs: Math.min(1500, options.requestTimeoutSeconds * 1000) });
        if (probe.answer !== 'passes' && !refusing.has(memo)) refusing.set(memo, base.now);
        if (probe.answer === 'passes') refusing.delete(memo);
        condition = readyCondition({ ...base, probe, ...(refusing.has(memo) ? { refusingSince: refusing.get(memo)! } : {}) });
      } else {
        refusing.delete(memo);
        condition = readyCondition(base);
      }
      if (condition.status === 'False' && (condition.reason === 'GatewayLearning' || condition.reason === 'GatewayUnreachable')) learning += 1;
      return { ...status, conditions: [...status.conditions, condition] };
    });
    for (const memo of refusing.keys()) if (memo.startsWith(`${cluster}/`) && !seen.has(memo)) refusing.delete(memo);
    return { statuses: out, learning };
  }

  async function reconcileCluster(watch: ClusterWatch, desired: KubeObject[], exportStatuses: ExportStatus[], imports: readonly ImportedService[], gateway: string | undefined): Promise<number> {
    const client = watch.client!;
    const name = watch.cluster.name;
    const wanted = desired.filter((o) => o.kind !== 'Namespace');
    const fingerprints = new Map(wanted.map((o) => [objectRef(o), fingerprint(o)]));
    const remembered = memory.get(name);
    const full = !remembered || Date.now() - remembered.fullAt > FULL_PASS_MS || watch.since.getTime() > remembered.fullAt;
    // Until every cluster has been listed once, what an unlisted cluster exports is unknown: no pruning.
    const mayPrune = watches.every((w) => w.synced);
    const foreign = (p: PlannedObject) => {
      if (p.action === 'created' || p.liveManagedBy === SYNC_MANAGED_BY) return false;
      say(`${name}: ${p.ref} exists and is not managed by eastwest sync; left as it is`, 'warn');
      return true;
    };
    let changes: ChangeSetEntry[];
    memory.delete(name); // kept only if this pass succeeds
    const mayWrite = () => {
      if (options.active && !options.active()) throw new Error('no longer the acting replica');
    };
    if (full) {
      // An object of the same name that is not ours (a user's, another MCS implementation's) is left alone.
      // Every object of these kinds is listed (one request per kind): thousands of imports need no GET each.
      // The namespaces, what is owned and what is there are read at once.
      const [, owned, plan] = await Promise.all([
        createNamespaces(client, desired.filter((o) => o.kind === 'Namespace')),
        listOwned(client, SYNC_KINDS, syncSelector(spec.meshID)),
        planObjects(client, wanted, syncSelector(spec.meshID), { listAll: true }),
      ]);
      const planned = plan.filter((p) => !foreign(p));
      const prune = mayPrune ? undesired(owned, wanted) : [];
      mayWrite();
      changes = await applyChangeSet(client, planned, prune, { stages: oneStage });
      // Remembered only once it could prune too (every cluster listed): until then every pass is a full one.
      if (mayPrune) memory.set(name, { applied: new Map(planned.map((p) => [p.ref, { fingerprint: fingerprints.get(p.ref)!, object: p.object }])), fullAt: Date.now() });
    } else {
      const applied = remembered.applied;
      const namespaces = new Set([...applied.values()].map((a) => a.object.metadata.namespace));
      const changed = wanted.filter((o) => applied.get(objectRef(o))?.fingerprint !== fingerprints.get(objectRef(o)));
      // New names may collide with someone else's object: those are checked against the cluster first.
      const fresh = changed.filter((o) => !applied.has(objectRef(o)));
      const known: PlannedObject[] = changed.filter((o) => applied.has(objectRef(o))).map((o) => ({ ref: objectRef(o), action: 'configured', object: o }));
      // Deleted only if it is still ours (a user may have replaced it meanwhile).
      const gone = mayPrune ? [...applied.entries()].filter(([ref]) => !fingerprints.has(ref)).map(([, a]) => a.object) : [];
      // New namespaces, the new names and what is to go are looked at in one round of requests.
      const [, plan, stillOurs] = await Promise.all([
        createNamespaces(client, desired.filter((o) => o.kind === 'Namespace' && !namespaces.has(o.metadata.name))),
        fresh.length ? planObjects(client, fresh, syncSelector(spec.meshID), fresh.length > 100 ? { listAll: true } : { get: true }) : Promise.resolve([]),
        mapLimit(gone, CONCURRENCY, async (o) => ((await client.read(o))?.metadata.labels?.['app.kubernetes.io/managed-by'] === SYNC_MANAGED_BY ? [o] : [])),
      ]);
      const checked = plan.filter((p) => !foreign(p));
      const prune = stillOurs.flat();
      mayWrite();
      changes = await applyChangeSet(client, [...known, ...checked], prune, { stages: oneStage });
      for (const o of gone) applied.delete(objectRef(o));
      for (const p of [...known, ...checked]) applied.set(p.ref, { fingerprint: fingerprints.get(p.ref)!, object: p.object });
      memory.set(name, { applied, fullAt: remembered.fullAt });
    }
    mayWrite();
    const { statuses, learning } = await withReadiness(watch, exportStatuses, imports, gateway);
    if (learning > 0) {
      // Asked again every 100 ms for the first 3 s (an istiod push takes a few hundred ms), then every 1 s.
      const passes = (learningPasses.get(watch.cluster.name) ?? 0) + 1;
      learningPasses.set(watch.cluster.name, passes);
      setTimeout(onChange, passes <= 30 ? 100 : 1000).unref();
    } else {
      learningPasses.delete(watch.cluster.name);
    }
    mayWrite();
    const custom = client.config.makeApiClient(CustomObjectsApi);
    const exportsHere = new Map(watch.serviceExports().map((e) => [`${e.metadata?.namespace}/${e.metadata?.name}`, e]));
    await mapLimit(statuses.filter((s) => s.cluster === watch.cluster.name), 16, async (status) => {
      const live = exportsHere.get(`${status.namespace}/${status.name}`);
      if (!live || sameConditions(live.status, status.conditions)) return;
      const now = new Date().toISOString();
      const conditions = status.conditions.map((c) => ({ ...c, lastTransitionTime: live.status?.conditions?.find((x) => x.type === c.type && x.status === c.status)?.lastTransitionTime ?? now }));
      await client.call(`status of ServiceExport/${status.namespace}/${status.name}`, () => custom.patchNamespacedCustomObjectStatus(
        { group: MCS_GROUP, version: 'v1alpha1', namespace: status.namespace, plural: 'serviceexports', name: status.name, body: { status: { conditions } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ), () => undefined);
    });
    return changes.filter((c) => c.action !== 'unchanged').length;
  }

  /**
   * A name this cluster served and no longer exports keeps its local ServiceEntry (its gateway keeps
   * routing it) for DRAIN_MS, while the other clusters stop sending: requests in flight are not reset, and
   * no client's outlier detection ejects this gateway (which would delay a re-export by its ejection time).
   */
  const DRAIN_MS = 5000;
  let lastImports: ImportedService[] = [];
  const draining = new Map<string, Map<string, { service: ImportedService; until: number }>>();
  function withDraining(cluster: string, previous: readonly ImportedService[], current: readonly ImportedService[]): ImportedService[] {
    const key = (s: { namespace: string; name: string }) => `${s.namespace}/${s.name}`;
    const servedNow = new Set(current.filter((s) => s.clusters.includes(cluster)).map(key));
    const mine = draining.get(cluster) ?? new Map<string, { service: ImportedService; until: number }>();
    draining.set(cluster, mine);
    const now = Date.now();
    for (const s of previous) {
      if (!s.clusters.includes(cluster) || servedNow.has(key(s)) || mine.has(key(s))) continue;
      mine.set(key(s), { service: { ...s, clusters: [cluster] }, until: now + DRAIN_MS });
      setTimeout(onChange, DRAIN_MS + 50).unref();
    }
    for (const [k, d] of mine) if (d.until <= now || servedNow.has(k)) mine.delete(k);
    const currentKeys = new Set(current.map(key));
    // While draining, only this cluster's own ServiceEntry (and DestinationRule) for it: nobody routes here.
    const drained = [...mine.entries()].filter(([k]) => !currentKeys.has(k)).map(([, d]) => d.service);
    return [...current, ...drained];
  }

  const backoff = new Map<string, number>();
  const retryAt = new Map<string, number>();

  async function reconcile(): Promise<void> {
    const started = Date.now();
    const { imports, statuses } = resolveExports(collectExports(watches), spec.sync.exportTo);
    const previous = lastImports;
    lastImports = imports;
    const gateways = new Map(watches.flatMap((w) => {
      const a = w.gatewayAddress();
      return a ? [[w.cluster.name, a] as [string, string]] : [];
    }));
    const now = Date.now();
    const live = watches.filter((w) => writes(w) && w.state === 'live' && w.client && (retryAt.get(w.cluster.name) ?? 0) <= now);
    const results = await mapLimit(live, 8, async (watch) => {
      try {
        const changes = await reconcileCluster(watch, importObjects(spec, watch.cluster, withDraining(watch.cluster.name, previous, imports), gateways), statuses, imports, gateways.get(watch.cluster.name));
        backoff.delete(watch.cluster.name);
        retryAt.delete(watch.cluster.name);
        return { cluster: watch.cluster.name, changes };
      } catch (error) {
        // Only this cluster is tried again, after a growing pause (1 s … 30 s).
        const failure = clusterError(watch.cluster.name, error, options.requestTimeoutSeconds);
        const wait = Math.min((backoff.get(watch.cluster.name) ?? 500) * 2, 30_000);
        backoff.set(watch.cluster.name, wait);
        retryAt.set(watch.cluster.name, Date.now() + wait);
        say(`${watch.cluster.name}: reconcile failed: ${failure.message}; again in ${wait / 1000} s`, 'warn');
        setTimeout(onChange, wait).unref();
        return { cluster: watch.cluster.name, changes: -1 };
      }
    });
    const changed = results.filter((r) => r.changes > 0);
    if (changed.length) say(`reconciled ${imports.length} imported service(s) in ${Date.now() - started} ms: ${changed.map((r) => `${r.cluster} ${r.changes} change(s)`).join(', ')}`);
  }

  const status = (): SyncClusterStatus[] => watches.map((w) => ({ cluster: w.cluster.name, state: w.state, since: w.since.toISOString(), ...(w.lastError ? { error: w.lastError } : {}) }));
  let published = '';
  let publishedAt = 0;
  /** The controller's view of every cluster, kept in each live cluster (read by `eastwest sync status`). */
  async function publishStatus(): Promise<void> {
    if (options.active && !options.active()) return;
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

  const done = (async () => {
    const tick = setInterval(() => {
      // The periodic full pass needs no event: objects others changed or deleted are found by it.
      if ([...memory.values()].some((m) => Date.now() - m.fullAt > FULL_PASS_MS)) dirty = true;
      wake?.();
    }, 5000);
    try {
      while (!stopped) {
        if (!dirty) await new Promise<void>((r) => (wake = r));
        wake = undefined;
        if (stopped) break;
        try {
          if (dirty) {
            await new Promise((r) => setTimeout(r, options.debounceMs ?? 50));
            dirty = false;
            await reconcile();
          }
          await publishStatus();
        } catch (error) {
          say(`sync: ${(error as Error).message}`, 'warn'); // never ends the loop
        }
        if (dirty) await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      clearInterval(tick);
    }
  })();

  return {
    done,
    status,
    async stop() {
      stopped = true;
      unsubscribe();
      wake?.();
      if (!clusters) await set.stop();
      await done;
    },
  };
}
