// The resource manager (flux's ssa ResourceManager is the model): one change-set vocabulary for apply,
// diff and prune. A server-side apply dry run tells, per object, what apply would do; apply then writes
// only what drifted, stage by stage with a wait between stages; prune deletes owned objects no longer
// desired. Secret data never leaves here unmasked.
import { CONTENT_HASH_ANNOTATION, MANAGED_BY_LABEL } from '../core/vocabulary.ts';
import { createHash } from 'node:crypto';
import { mapLimit } from '../core/fan-out.ts';
import { comparable, fieldDifferences, type FieldDifference } from '../util/field-diff.ts';
import { pollUntil } from '../util/poll.ts';
import { isNotFound, type KubeClient } from './client.ts';
import { ClusterError } from './cluster-error.ts';
import { objectRef, type KubeObject } from './object.ts';

/** What apply did (or, in a dry run, would do) to one object; `skipped`: left as it is, with a note why. */
export type ChangeAction = 'created' | 'configured' | 'unchanged' | 'deleted' | 'skipped';

export interface ChangeSetEntry {
  ref: string;
  action: ChangeAction;
  /** For configured objects: what differs (Secret values masked). */
  fields?: FieldDifference[];
  /** Why an entry could not be checked exactly (e.g. its namespace is created by an earlier stage). */
  note?: string;
}

export interface PlannedObject extends ChangeSetEntry {
  object: KubeObject;
  /** The live object's app.kubernetes.io/managed-by label (whose it is), when it exists. */
  liveManagedBy?: string;
}

/** Requests in flight per cluster. */
export const CONCURRENCY = 16;

/** `sha256:<12 hex> (<n> bytes)`: shows that a secret value changed without showing it. */
export function maskValue(value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (typeof value === 'object' && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, maskValue(v)]));
  }
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 12)} (${Buffer.byteLength(text)} bytes)`;
}

const SECRET_VALUE_PATH = /^(data|stringData)(\.|$)/;

/** Field differences safe to show: a Secret's data and stringData values are masked (key names kept). */
export function maskedDifferences(object: { kind: string }, fields: readonly FieldDifference[]): FieldDifference[] {
  if (object.kind !== 'Secret') return [...fields];
  return fields.map((f) => (SECRET_VALUE_PATH.test(f.path) ? { path: f.path, want: maskValue(f.want), live: maskValue(f.live) } : f));
}

/** Pure: the change one object needs, from its server-side-apply dry-run result and the live object. */
export function classifyChange(object: KubeObject, dryRun: KubeObject | undefined, live: KubeObject | undefined): PlannedObject {
  const ref = objectRef(object);
  if (!live) return { ref, object, action: 'created' };
  if (!dryRun) return { ref, object, action: 'configured', note: 'its kind is not served yet (a CRD an earlier step installs)' };
  const fields = fieldDifferences(comparable(dryRun), comparable(live));
  if (fields.length === 0) return { ref, object, action: 'unchanged' };
  return { ref, object, action: 'configured', fields: maskedDifferences(object, fields) };
}

/**
 * Leaves eastwest sets (everything in `desired` but bookkeeping) whose live value differs (pure).
 * A cheap local test: differences in form only (a defaulted quantity, stringData vs data) make an object
 * a suspect, which the server-side dry run then settles.
 */
export function subsetDifferences(desired: unknown, live: unknown, path = ''): FieldDifference[] {
  if (desired !== null && typeof desired === 'object' && !Array.isArray(desired)) {
    if (live === null || typeof live !== 'object' || Array.isArray(live)) return [{ path, want: desired, live }];
    return Object.entries(desired as Record<string, unknown>).flatMap(([k, v]) => subsetDifferences(v, (live as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
  }
  return fieldDifferences(desired, live, path);
}

const hashOf = (o: KubeObject | undefined) => o?.metadata.annotations?.[CONTENT_HASH_ANNOTATION];

/** How the live objects are found: a LIST per kind of the owned ones (default) or of all, or a GET each (`get`, for a few). */
export interface LookupOptions {
  listAll?: boolean;
  get?: boolean;
  /**
   * No dry run for a suspect: it is planned `configured` (applied) without the fields that differ. For a
   * caller that reports no field differences (the sync controller): one request per changed object, not two.
   */
  noDryRun?: boolean;
}

/**
 * Live versions of `desired`: one LIST per kind (owned objects, or with `listAll` every object of the
 * kind, which also finds same-named objects of others without a GET each), then a GET for the few
 * not found that way.
 */
export async function liveObjects(client: KubeClient, desired: readonly KubeObject[], ownedSelector: string, options: LookupOptions = {}): Promise<Map<string, KubeObject>> {
  const live = new Map<string, KubeObject>();
  if (options.get) {
    // A few objects: one GET each, all at once (one round trip instead of a LIST and then GETs).
    await mapLimit(desired, CONCURRENCY, async (o) => {
      const found = await client.read(o);
      if (found) live.set(objectRef(o), found);
    });
    return live;
  }
  const kinds = [...new Map(desired.map((o) => [`${o.apiVersion}|${o.kind}`, { apiVersion: o.apiVersion, kind: o.kind }])).values()];
  const listed = new Set<string>();
  await mapLimit(kinds, CONCURRENCY, async ({ apiVersion, kind }) => {
    if (options.listAll) listed.add(`${apiVersion}|${kind}`);
    for (const item of await client.list(apiVersion, kind, undefined, options.listAll ? undefined : ownedSelector)) {
      const object = { ...item, apiVersion, kind };
      live.set(objectRef(object), object);
    }
  });
  const missing = desired.filter((o) => !live.has(objectRef(o)) && !listed.has(`${o.apiVersion}|${o.kind}`));
  await mapLimit(missing, CONCURRENCY, async (o) => {
    const found = await client.read(o);
    if (found) live.set(objectRef(o), found);
  });
  return live;
}

/**
 * What apply would do to every desired object. Live objects come from one LIST per kind; an object whose
 * content hash (what eastwest applied last) and every field eastwest sets match its live version is
 * unchanged without any further request; the others get a server-side apply dry run, which says exactly
 * what apply would change (fields eastwest no longer sets, values another manager changed).
 */
export async function planObjects(client: KubeClient, desired: readonly KubeObject[], ownedSelector: string, options: LookupOptions = {}): Promise<PlannedObject[]> {
  const live = await liveObjects(client, desired, ownedSelector, options);
  return mapLimit(desired, CONCURRENCY, async (object) => {
    const current = live.get(objectRef(object));
    if (!current) return classifyChange(object, undefined, undefined);
    const liveManagedBy = current.metadata.labels?.[MANAGED_BY_LABEL];
    const whose = liveManagedBy === undefined ? {} : { liveManagedBy };
    const { metadata: _m, ...content } = object;
    const suspect = hashOf(current) !== hashOf(object) || subsetDifferences(content, current).length > 0 || subsetDifferences({ labels: object.metadata.labels ?? {}, annotations: object.metadata.annotations ?? {} }, current.metadata).length > 0;
    if (!suspect) return { ref: objectRef(object), object, action: 'unchanged', ...whose };
    if (options.noDryRun) return { ref: objectRef(object), object, action: 'configured', ...whose };
    const dryRun = await client.patch(object, { dryRun: true }).catch((error: unknown) => {
      // The kind is not served yet (a CRD that an earlier step of the same apply installs).
      if (error instanceof ClusterError && isNotFound(error.cause)) return undefined;
      throw error;
    });
    return { ...classifyChange(object, dryRun, current), ...whose };
  });
}

/** Owned objects of prunable kinds that are not desired (pure). */
export function undesired(owned: readonly KubeObject[], desired: readonly KubeObject[]): KubeObject[] {
  const wanted = new Set(desired.map(objectRef));
  return owned.filter((o) => !wanted.has(objectRef(o)));
}

export type Stage = 'namespaces' | 'secrets' | 'istio-config' | 'workloads';
export const STAGE_ORDER: readonly Stage[] = ['namespaces', 'secrets', 'istio-config', 'workloads'];

export function stageOf(object: KubeObject): Stage {
  if (object.kind === 'Namespace') return 'namespaces';
  if (object.kind === 'Secret' || object.kind === 'ServiceAccount' || object.kind === 'ConfigMap') return 'secrets';
  if (object.apiVersion.includes('istio.io')) return 'istio-config';
  return 'workloads';
}

/**
 * Applies what drifted, stage by stage (namespaces first, and waits until they are Active), then
 * deletes `prune`. Unchanged objects are not written; the others get one server-side apply each (the plan
 * already read them: its action stands). Returns the change set, in stage order. `stages` maps objects to
 * stages (a caller whose objects do not depend on each other puts them in one).
 */
export async function applyChangeSet(client: KubeClient, planned: readonly PlannedObject[], prune: readonly KubeObject[], options: { waitSeconds?: number; stages?: (object: KubeObject) => Stage } = {}): Promise<ChangeSetEntry[]> {
  const entries: ChangeSetEntry[] = [];
  const stageFor = options.stages ?? stageOf;
  for (const stage of STAGE_ORDER) {
    const inStage = planned.filter((p) => stageFor(p.object) === stage);
    const results = await mapLimit(inStage, CONCURRENCY, async (p): Promise<ChangeSetEntry> => {
      if (p.action !== 'unchanged') await client.patch(p.object);
      return strip(p);
    });
    entries.push(...results);
    if (stage === 'namespaces' && inStage.some((p) => p.action !== 'unchanged')) {
      await waitNamespacesActive(client, inStage.map((p) => p.object.metadata.name), options.waitSeconds ?? 60);
    }
  }
  const deleted = await mapLimit(prune, CONCURRENCY, async (object): Promise<ChangeSetEntry> => {
    await client.delete(object);
    return { ref: objectRef(object), action: 'deleted' };
  });
  return [...entries, ...deleted];
}

function strip(p: PlannedObject): ChangeSetEntry {
  const { object: _object, liveManagedBy: _whose, ...entry } = p;
  return entry;
}

async function waitNamespacesActive(client: KubeClient, names: string[], seconds: number): Promise<void> {
  const ready = await pollUntil(seconds, 250, async () => {
    const phases = await Promise.all(names.map(async (name) => ((await client.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })) as { status?: { phase?: string } } | undefined)?.status?.phase));
    return phases.every((p) => p === 'Active') ? true : undefined;
  });
  if (!ready) throw new ClusterError(client.cluster, 'api', `namespaces ${names.join(', ')} not Active after ${seconds} s`, 'is a namespace stuck Terminating? `kubectl get ns` tells');
}
