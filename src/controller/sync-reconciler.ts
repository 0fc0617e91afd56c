// The sync controller's reconcile, per key of its work queue:
// - a name key (`<namespace>/<name>`, one exported name of the clusterset): what every cluster exports
//   under it → its import (pure: src/mcs/imports.ts) → in each cluster this controller writes, the
//   name's objects written, those no longer desired deleted, the export's status (Valid / Conflict /
//   Ready) patched. Only what changed since the last write is written (a fingerprint per object).
// - a cluster key (`cluster:<name>`): a full pass of one cluster — what it holds listed (one request per
//   kind) and compared with what is desired, no write — at the start, when a cluster comes back, after a
//   failed write there and every few minutes (it finds what others changed meanwhile). Name keys leave a
//   cluster alone until its full pass has run; afterwards every name is queued, and they write what differs
//   (progress is kept per name: a pass cut short never starts over from nothing).
// Reads come from the clusters' caches (SyncView), writes go through SyncWriter; both, the gateway probe
// and the clock are injected: the unit tests run it against fakes.
import { MCS_SERVICE_LABEL } from '../core/vocabulary.ts';
import { createHash } from 'node:crypto';
import type { KubeObject } from '../k8s/object.ts';
import { objectRef } from '../k8s/object.ts';
import { clustersetHost, clustersetIp, clustersetIps, importObjects, resolveExports, type ClusterExport, type Condition, type ExportStatus, type ImportedService } from '../mcs/imports.ts';
import { needsProbe, readyCondition, type ProbeAnswer } from '../mcs/export-readiness.ts';
import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';
import type { Clock } from './work-queue.ts';

export const CLUSTER_KEY_PREFIX = 'cluster:';
export const clusterKey = (cluster: string) => `${CLUSTER_KEY_PREFIX}${cluster}`;
export const nameKey = (namespace: string, name: string) => `${namespace}/${name}`;
export const isClusterKey = (key: string) => key.startsWith(CLUSTER_KEY_PREFIX);

/** The name key an object of the sync kinds belongs to (its namespace and exported name). */
export function keyOfObject(o: KubeObject): string {
  return nameKey(o.metadata.namespace ?? '', o.metadata.labels?.[MCS_SERVICE_LABEL] ?? o.metadata.name);
}

export interface LiveCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** One cluster as read (its watches' caches; a stale cluster's last-known state). */
export interface SyncView {
  readonly cluster: ClusterSpec;
  /** This controller may write it now (it writes this cluster, which answers). */
  writable(): boolean;
  /** Every cache was filled by a list (before that its exports are unknown: nothing is pruned). */
  synced(): boolean;
  exportOf(namespace: string, name: string): ClusterExport | undefined;
  /** Name keys of its exports. */
  exportKeys(): string[];
  /** The export's conditions as last seen; undefined: no such export. */
  exportConditions(namespace: string, name: string): LiveCondition[] | undefined;
  gatewayAddress(): string | undefined;
}

/** Writes to one cluster. */
export interface SyncWriter {
  /** Creates the namespaces that do not exist (an existing one is never changed). */
  ensureNamespaces(names: readonly string[]): Promise<void>;
  /**
   * What the cluster holds of `desired` (one list per kind, no write): `matching`, this controller's
   * objects that are as desired; `foreign`, refs of same-named objects of others; `stale`, this
   * controller's objects that are not desired.
   */
  inventory(desired: readonly KubeObject[]): Promise<{ matching: KubeObject[]; foreign: string[]; stale: KubeObject[] }>;
  /**
   * Writes objects known to be ours; `fresh` ones may exist already and not be ours: those are left and
   * returned (`foreignKnown`: refs the last full pass found someone else's).
   */
  write(known: readonly KubeObject[], fresh: readonly KubeObject[], foreignKnown?: ReadonlySet<string>): Promise<{ foreign: string[] }>;
  /** Deletes each of `objects` that is still ours. */
  deleteOwned(objects: readonly KubeObject[]): Promise<void>;
  patchExportStatus(namespace: string, name: string, conditions: LiveCondition[]): Promise<void>;
}

export interface ReconcilerOptions {
  spec: MeshSpec;
  views: readonly SyncView[];
  /** The writer of a cluster this controller writes (undefined: not written by this controller). */
  writer: (cluster: string) => SyncWriter | undefined;
  probe: (address: string, host: string, port: number) => Promise<ProbeAnswer>;
  clock: Clock;
  /** Queue a key again: now, or after `ms`. */
  requeue: (key: string, ms?: number) => void;
  /** A cluster's write failed: its full pass is queued with back-off (name keys leave it meanwhile). */
  clusterFailed: (cluster: string, error: unknown) => void;
  /** Whether an error means the cluster failed (no answer, credentials refused) rather than one name's objects (default: every error). */
  isClusterFailure?: (error: unknown) => boolean;
  say: (message: string, level?: 'info' | 'warn') => void;
  /** How long a name no longer served keeps its own cluster's ServiceEntry (in-flight requests drain). */
  drainMs?: number;
}

interface Remembered {
  fingerprint: string;
  object: KubeObject;
}

interface ClusterMemory {
  byKey: Map<string, Map<string, Remembered>>;
  namespaces: Set<string>;
  /** Objects the full pass found of the same name as a desired one and not this controller's. */
  foreign: Set<string>;
  fullAt: number;
}

/** A stable fingerprint of a desired object (its rendering is deterministic). */
const fingerprint = (o: KubeObject) => createHash('sha256').update(JSON.stringify(o)).digest('base64url');

const sameConditions = (live: readonly LiveCondition[] | undefined, want: readonly Condition[]) =>
  JSON.stringify((live ?? []).map((c) => [c.type, c.status, c.reason ?? '', c.message ?? ''])) === JSON.stringify(want.map((c) => [c.type, c.status, c.reason, c.message]));

export const DRAIN_MS = 5000;
/** Learning gateways are asked again every 100 ms for the first 3 s (an istiod push takes a few hundred ms), then every 1 s. */
const FAST_PROBES = 30;

export class SyncReconciler {
  private readonly o: ReconcilerOptions;
  private readonly memory = new Map<string, ClusterMemory>();
  /** The last import of each name (what its serving clusters were). */
  private readonly lastImport = new Map<string, ImportedService>();
  private readonly ipMemo = new Map<string, string>();
  /** The clusterset IP each name was last given (undefined: none, Istio allocates). */
  private readonly ipGiven = new Map<string, string | undefined>();
  /** Per cluster: names it no longer serves that keep its own ServiceEntry until `until`. */
  private readonly draining = new Map<string, Map<string, { service: ImportedService; until: number }>>();
  /** Per cluster/name: since when its gateway has not passed the name. */
  private readonly refusing = new Map<string, number>();
  /** Per cluster/name: probes in a row that found the gateway still learning it. */
  private readonly learning = new Map<string, number>();

  constructor(options: ReconcilerOptions) {
    this.o = options;
  }

  /** A cluster's full pass is done and not older than `maxAgeMs`. */
  fresh(cluster: string, maxAgeMs: number): boolean {
    const m = this.memory.get(cluster);
    return m !== undefined && this.o.clock.now() - m.fullAt <= maxAgeMs;
  }

  /** How long ago the cluster's full pass ran; undefined: none since the last failure there. */
  age(cluster: string): number | undefined {
    const m = this.memory.get(cluster);
    return m === undefined ? undefined : this.o.clock.now() - m.fullAt;
  }

  /** Forget a cluster's writes (a failure there): name keys leave it until its next full pass. */
  forgetCluster(cluster: string): void {
    this.memory.delete(cluster);
  }

  /** Every name known: exported somewhere, or written by this controller, or draining. */
  knownKeys(): string[] {
    const keys = new Set<string>();
    for (const v of this.o.views) for (const k of v.exportKeys()) keys.add(k);
    for (const m of this.memory.values()) for (const k of m.byKey.keys()) keys.add(k);
    for (const k of this.lastImport.keys()) keys.add(k);
    for (const d of this.draining.values()) for (const k of d.keys()) keys.add(k);
    return [...keys].sort();
  }

  async reconcile(key: string): Promise<void> {
    if (isClusterKey(key)) await this.fullPass(key.slice(CLUSTER_KEY_PREFIX.length));
    else await this.reconcileName(key);
  }

  /** A name's hashed address (remembered: it never changes). */
  private readonly hashIp = (key: string): string => {
    let ip = this.ipMemo.get(key);
    if (ip === undefined) this.ipMemo.set(key, (ip = clustersetIp(key)));
    return ip;
  };

  /** A name's clusterset IP among the `known` names: none when a name sorting first hashes to the same address (as clustersetIps decides). */
  private ipFor(key: string, known: readonly string[]): string | undefined {
    if (!known.includes(key)) return undefined; // no longer imported anywhere
    const mine = this.hashIp(key);
    return known.some((other) => other < key && this.hashIp(other) === mine) ? undefined : mine;
  }

  /**
   * When a name's clusterset IP changes (it got one, or lost it to a name sorting first that hashes to the
   * same address), the other names of that address are reconciled again: the one sorting first keeps it.
   */
  private settleIp(key: string, ip: string | undefined, known: readonly string[]): void {
    if (this.ipGiven.has(key) && this.ipGiven.get(key) === ip) return;
    this.ipGiven.set(key, ip);
    this.requeueRivals(key, known);
  }

  /** Queues the other known names whose hash gives the same address as `key`'s. */
  private requeueRivals(key: string, known: readonly string[], ms?: number): void {
    const mine = this.hashIp(key);
    for (const other of known) if (other !== key && this.hashIp(other) === mine) this.o.requeue(other, ms);
  }

  private gateways(): Map<string, string> {
    return new Map(this.o.views.flatMap((v) => {
      const a = v.gatewayAddress();
      return a ? [[v.cluster.name, a] as [string, string]] : [];
    }));
  }

  private mayPrune(): boolean {
    return this.o.views.every((v) => v.synced());
  }

  /** The import of one name, with the clusters that stopped serving it put on their drain. */
  private resolveName(namespace: string, name: string): { imports: ImportedService[]; statuses: ExportStatus[] } {
    const exports = this.o.views.flatMap((v) => {
      const e = v.exportOf(namespace, name);
      return e ? [e] : [];
    });
    const resolved = resolveExports(exports, this.o.spec.sync.exportTo);
    const key = nameKey(namespace, name);
    const now = resolved.imports[0];
    const before = this.lastImport.get(key);
    const drainMs = this.o.drainMs ?? DRAIN_MS;
    const at = this.o.clock.now();
    for (const cluster of before?.clusters ?? []) {
      if (now?.clusters.includes(cluster) || !this.o.writer(cluster)) continue;
      const mine = this.drainingOf(cluster);
      if ((mine.get(key)?.until ?? 0) > at) continue;
      mine.set(key, { service: { ...before!, clusters: [cluster] }, until: at + drainMs });
      this.o.requeue(key, drainMs + 50);
    }
    if (now) this.lastImport.set(key, now);
    else this.lastImport.delete(key);
    return resolved;
  }

  private drainingOf(cluster: string) {
    let mine = this.draining.get(cluster);
    if (!mine) this.draining.set(cluster, (mine = new Map()));
    return mine;
  }

  /** The imports `cluster` gets: what is served now, and what it still drains (its own ServiceEntry only). */
  private withDraining(cluster: string, imports: readonly ImportedService[], only?: string): ImportedService[] {
    const mine = this.draining.get(cluster);
    if (!mine) return [...imports];
    const now = this.o.clock.now();
    const current = new Map(imports.map((s) => [nameKey(s.namespace, s.name), s]));
    const out = [...imports];
    for (const [k, d] of mine) {
      if (d.until <= now || current.get(k)?.clusters.includes(cluster)) {
        mine.delete(k);
        continue;
      }
      if (only !== undefined && k !== only) continue;
      // Nobody routes here while it drains: only this cluster's own objects for it.
      if (!current.has(k)) out.push(d.service);
    }
    return out;
  }

  private async reconcileName(key: string): Promise<void> {
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const { imports, statuses } = this.resolveName(namespace, name);
    const gateways = this.gateways();
    const known = this.knownKeys();
    const ip = this.ipFor(key, known);
    const ips = new Map(ip ? [[key, ip]] : []);
    this.settleIp(key, ip, known);
    // A name no longer exported anywhere gives its address up once it has drained: the names that share
    // its address are reconciled again then (one of them takes it).
    if (imports.length === 0) this.requeueRivals(key, known, (this.o.drainMs ?? DRAIN_MS) + 100);
    const mayPrune = this.mayPrune();
    const refused: unknown[] = [];
    await Promise.all(this.o.views.map(async (view) => {
      const cluster = view.cluster.name;
      const writer = this.o.writer(cluster);
      const memory = this.memory.get(cluster);
      // Not written by this controller, not answering, or its full pass has not run yet (it will write this name).
      if (!writer || !view.writable() || !memory) return;
      try {
        const desired = importObjects(this.o.spec, view.cluster, this.withDraining(cluster, imports, key), gateways, ips)
          .filter((o) => o.kind === 'Namespace' || keyOfObject(o) === key);
        await this.writeName(writer, memory, key, desired, mayPrune);
        await this.writeStatus(view, writer, namespace, name, statuses, imports);
      } catch (error) {
        if (this.o.isClusterFailure?.(error) ?? true) {
          // The cluster does not answer (or refuses the controller): its full pass runs again with back-off.
          this.memory.delete(cluster);
          this.o.clusterFailed(cluster, error);
        } else {
          // This name's objects were refused (a webhook, a namespace terminating or deleted): only this name
          // is tried again, with its own back-off; the cluster's other names go on. Its namespace is made
          // again if it is gone (deleted since this controller made it).
          memory.byKey.delete(key);
          memory.namespaces.delete(namespace);
          refused.push(error);
        }
      }
    }));
    if (refused.length) throw refused[0];
  }

  private async writeName(writer: SyncWriter, memory: ClusterMemory, key: string, desired: readonly KubeObject[], mayPrune: boolean): Promise<void> {
    const namespaces = desired.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name).filter((n) => !memory.namespaces.has(n));
    if (namespaces.length) {
      await writer.ensureNamespaces(namespaces);
      for (const n of namespaces) memory.namespaces.add(n);
    }
    const wanted = desired.filter((o) => o.kind !== 'Namespace');
    const applied = memory.byKey.get(key) ?? new Map<string, Remembered>();
    const prints = new Map(wanted.map((o) => [objectRef(o), fingerprint(o)]));
    const changed = wanted.filter((o) => applied.get(objectRef(o))?.fingerprint !== prints.get(objectRef(o)));
    const known = changed.filter((o) => applied.has(objectRef(o)));
    const fresh = changed.filter((o) => !applied.has(objectRef(o)));
    const gone = mayPrune ? [...applied.entries()].filter(([ref]) => !prints.has(ref)).map(([, a]) => a.object) : [];
    if (changed.length === 0 && gone.length === 0) return;
    const [{ foreign }] = await Promise.all([
      changed.length ? writer.write(known, fresh, memory.foreign) : Promise.resolve({ foreign: [] as string[] }),
      gone.length ? writer.deleteOwned(gone) : Promise.resolve(),
    ]);
    for (const ref of foreign) this.o.say(`${key}: ${ref} exists and is not managed by eastwest sync; left as it is`, 'warn');
    const skipped = new Set(foreign);
    for (const o of gone) applied.delete(objectRef(o));
    for (const o of changed) if (!skipped.has(objectRef(o))) applied.set(objectRef(o), { fingerprint: prints.get(objectRef(o))!, object: o });
    if (applied.size) memory.byKey.set(key, applied);
    else memory.byKey.delete(key);
  }

  /** The status of this name's export in `view`'s cluster: Valid/Conflict from the import, Ready from its gateway. */
  private async writeStatus(view: SyncView, writer: SyncWriter, namespace: string, name: string, statuses: readonly ExportStatus[], imports: readonly ImportedService[]): Promise<void> {
    const cluster = view.cluster.name;
    const status = statuses.find((s) => s.cluster === cluster);
    const memo = `${cluster}/${nameKey(namespace, name)}`;
    const live = view.exportConditions(namespace, name);
    if (!status || live === undefined) {
      this.refusing.delete(memo);
      this.learning.delete(memo);
      return;
    }
    const service = imports.find((s) => s.clusters.includes(cluster));
    let ready: Condition | undefined;
    if (!service) {
      // Valid but not served (its ports conflict with the oldest export's): Ready=False, so that a missing
      // Ready only ever means a controller of an earlier version.
      this.refusing.delete(memo);
      const valid = status.conditions.some((c) => c.type === 'Valid' && c.status === 'True');
      if (valid) ready = { type: 'Ready', status: 'False', reason: 'NotServed', message: 'not routed: see its Conflict condition' };
    } else {
      ready = await this.readiness(view, service, live, memo);
    }
    const conditions = [...status.conditions, ...(ready ? [ready] : [])];
    if (sameConditions(live, conditions)) return;
    const now = new Date(this.o.clock.now()).toISOString();
    await writer.patchExportStatus(namespace, name, conditions.map((c) => ({ ...c, lastTransitionTime: live.find((x) => x.type === c.type && x.status === c.status)?.lastTransitionTime ?? now })));
  }

  private async readiness(view: SyncView, service: ImportedService, liveConditions: readonly LiveCondition[], memo: string): Promise<Condition> {
    const cluster = view.cluster.name;
    const liveReady = liveConditions.find((c) => c.type === 'Ready');
    const live = liveReady ? { type: 'Ready' as const, status: liveReady.status as 'True' | 'False', reason: liveReady.reason ?? '', message: liveReady.message ?? '' } : undefined;
    const host = clustersetHost(service);
    const base = { host, cluster, gateway: view.gatewayAddress(), readyEndpoints: service.readyEndpoints?.[cluster], live, now: this.o.clock.now() };
    let condition: Condition;
    if (needsProbe(base)) {
      const probe = await this.o.probe(base.gateway!, host, service.ports[0]!.port);
      if (probe.answer === 'passes') this.refusing.delete(memo);
      else if (!this.refusing.has(memo)) this.refusing.set(memo, base.now);
      const since = this.refusing.get(memo);
      condition = readyCondition({ ...base, probe, ...(since !== undefined ? { refusingSince: since } : {}) });
    } else {
      this.refusing.delete(memo);
      condition = readyCondition(base);
    }
    if (condition.status === 'False' && (condition.reason === 'GatewayLearning' || condition.reason === 'GatewayUnreachable')) {
      const passes = (this.learning.get(memo) ?? 0) + 1;
      this.learning.set(memo, passes);
      this.o.requeue(nameKey(service.namespace, service.name), passes <= FAST_PROBES ? 100 : 1000);
    } else {
      this.learning.delete(memo);
    }
    return condition;
  }

  /**
   * One cluster's full pass: what it holds is listed (one request per kind) and compared with what is
   * desired; the objects already as desired are remembered, every name is queued, and the name keys
   * write the rest — small writes whose progress is kept, so a pass cut short (a lost lease, a slow API
   * server) is never started over from nothing.
   */
  private async fullPass(cluster: string): Promise<void> {
    const view = this.o.views.find((v) => v.cluster.name === cluster);
    const writer = this.o.writer(cluster);
    if (!view || !writer || !view.writable()) return; // queued again when it answers
    const started = this.o.clock.now();
    const all = this.knownKeys().filter((k) => !isClusterKey(k));
    const imports = all.flatMap((k) => {
      const slash = k.indexOf('/');
      return this.resolveName(k.slice(0, slash), k.slice(slash + 1)).imports;
    });
    const desired = importObjects(this.o.spec, view.cluster, this.withDraining(cluster, imports), this.gateways(), clustersetIps(this.knownKeys(), this.hashIp)).filter((o) => o.kind !== 'Namespace');
    // A failure throws: the queue tries this cluster's full pass again with back-off.
    const { matching, foreign, stale } = await writer.inventory(desired);
    for (const ref of foreign) this.o.say(`${cluster}: ${ref} exists and is not managed by eastwest sync; left as it is`, 'warn');
    const byKey = new Map<string, Map<string, Remembered>>();
    const remember = (o: KubeObject, print: string) => {
      const k = keyOfObject(o);
      let m = byKey.get(k);
      if (!m) byKey.set(k, (m = new Map()));
      m.set(objectRef(o), { fingerprint: print, object: o });
    };
    for (const o of matching) remember(o, fingerprint(o));
    // What is owned and not desired is remembered as written (it is, by this controller): its name key
    // deletes it, once every cluster has been listed.
    for (const o of stale) remember(o, 'stale');
    this.memory.set(cluster, { byKey, namespaces: new Set(), foreign: new Set(foreign), fullAt: started });
    for (const k of new Set([...all, ...byKey.keys()])) this.o.requeue(k);
    if (stale.length || desired.length > matching.length + foreign.length) this.o.say(`${cluster}: full pass over ${imports.length} imported service(s): ${desired.length - matching.length - foreign.length} to write, ${stale.length} to delete`);
  }
}
