// The sync controller's writes to one cluster, through the engine's client: its own field manager and
// ownership label; an object of the same name that is not the controller's (a user's, another MCS
// implementation's) is never changed.
import { MANAGED_BY_LABEL, MESH_LABEL, SYNC_MANAGED_BY } from '../core/vocabulary.ts';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { listOwned } from '../apply/prune.ts';
import { mapLimit } from '../core/fan-out.ts';
import type { KubeClient } from '../k8s/client.ts';
import { ClusterError, httpStatusOf } from '../k8s/cluster-error.ts';
import { objectRef, type KubeObject } from '../k8s/object.ts';
import { CONCURRENCY, planObjects, undesired } from '../k8s/resource-manager.ts';

import { MCS_GROUP } from '../mcs/imports.ts';
import type { LiveCondition, SyncWriter } from './sync-reconciler.ts';

export const SYNC_KINDS = [
  { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry' },
  { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry' },
  { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule' },
  { apiVersion: `${MCS_GROUP}/v1alpha1`, kind: 'ServiceImport' },
];

export const syncSelector = (meshID: string) => `${MANAGED_BY_LABEL}=${SYNC_MANAGED_BY},${MESH_LABEL}=${meshID}`;

/** The HTTP status behind a failed request (the client wraps API errors in a ClusterError). */
const statusOf = (error: unknown) => (error instanceof ClusterError ? httpStatusOf(error.cause) : httpStatusOf(error));

const ours = (o: KubeObject | undefined) => o?.metadata.labels?.[MANAGED_BY_LABEL] === SYNC_MANAGED_BY;

/** At most `n` at once; the others wait their turn here rather than in an overloaded API server (where they would pass their deadline). */
export function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    // A slot freed is handed to the next waiter directly (never taken by a newcomer in between).
    if (running >= n) await new Promise<void>((r) => waiting.push(r));
    else running++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

/** Requests in flight to one cluster from one controller, across its workers. */
export const WRITES_IN_FLIGHT = 12;

export class KubeSyncWriter implements SyncWriter {
  private readonly limit = limiter(WRITES_IN_FLIGHT);
  private readonly client: KubeClient;
  private readonly meshID: string;
  private readonly mayWrite: () => void;
  constructor(client: KubeClient, meshID: string, mayWrite: () => void = () => undefined) {
    this.client = client;
    this.meshID = meshID;
    this.mayWrite = mayWrite;
  }

  async ensureNamespaces(names: readonly string[]): Promise<void> {
    // Created only where they do not exist: the controller's role may create namespaces, not change them.
    await mapLimit(names, 8, async (name) => {
      const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [MANAGED_BY_LABEL]: SYNC_MANAGED_BY, [MESH_LABEL]: this.meshID } } };
      if (await this.limit(() => this.client.read(ns))) return;
      this.mayWrite();
      // 409: made meanwhile (by a user, or the previous acting replica).
      await this.limit(() => this.client.call(`create Namespace/${name}`, () => this.client.objects.create(ns as never).catch((error: unknown) => {
        if (httpStatusOf(error) === 409) return undefined;
        throw error;
      })));
    });
  }

  async inventory(desired: readonly KubeObject[]): Promise<{ matching: KubeObject[]; foreign: string[]; stale: KubeObject[] }> {
    // Every object of these kinds is listed (one request per kind): thousands of imports need no GET each.
    const [owned, plan] = await Promise.all([
      this.limit(() => listOwned(this.client, SYNC_KINDS, syncSelector(this.meshID))),
      this.limit(() => planObjects(this.client, desired, syncSelector(this.meshID), { listAll: true, noDryRun: true })),
    ]);
    const foreign = plan.filter((p) => p.action !== 'created' && p.liveManagedBy !== SYNC_MANAGED_BY);
    const matching = plan.filter((p) => p.action === 'unchanged' && p.liveManagedBy === SYNC_MANAGED_BY).map((p) => p.object);
    return { matching, foreign: foreign.map((p) => p.ref), stale: undesired(owned, desired) };
  }

  async write(known: readonly KubeObject[], fresh: readonly KubeObject[], foreignKnown: ReadonlySet<string> = new Set()): Promise<{ foreign: string[] }> {
    this.mayWrite();
    const foreign: string[] = [];
    const refOf = (o: KubeObject) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
    await mapLimit([...known.map((o) => [o, false] as const), ...fresh.map((o) => [o, true] as const)], CONCURRENCY, async ([object, isFresh]) => {
      // Any object may be someone else's by now: a new name's may exist already (a user's, another MCS
      // implementation's), and one written before may have been deleted and made again by a user. Those
      // the last full pass listed are known; any other is found by applying without taking fields from
      // another manager: its values conflict (409), and it is left alone unless it carries the
      // controller's label. One request per object, not a read and a write.
      if (isFresh && foreignKnown.has(objectRef(object))) {
        foreign.push(refOf(object));
        return;
      }
      try {
        await this.limit(() => this.client.patch(object, { force: false }));
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
        if (!ours(await this.limit(() => this.client.read(object)))) {
          foreign.push(refOf(object));
          return;
        }
        await this.limit(() => this.client.patch(object));
      }
    });
    return { foreign };
  }

  async deleteOwned(objects: readonly KubeObject[]): Promise<void> {
    this.mayWrite();
    await mapLimit(objects, CONCURRENCY, async (o) => {
      // Deleted only if it is still ours (a user may have replaced it meanwhile): the object read is the
      // one deleted (its uid a precondition), so one made again in between is never.
      const live = await this.limit(() => this.client.read(o));
      const uid = (live?.metadata as { uid?: string } | undefined)?.uid;
      if (!ours(live) || !uid) return;
      await this.limit(() => this.client.call(`delete ${o.kind}/${o.metadata.name}`, async () => {
        await this.client.objects.delete(o as never, undefined, undefined, undefined, undefined, undefined, { preconditions: { uid } });
      }, () => undefined)).catch((error: unknown) => {
        if (statusOf(error) === 409) return; // replaced meanwhile: not ours to delete
        throw error;
      });
    });
  }

  async patchExportStatus(namespace: string, name: string, conditions: LiveCondition[]): Promise<void> {
    this.mayWrite();
    const custom = this.client.config.makeApiClient(CustomObjectsApi);
    await this.limit(() => this.client.call(`status of ServiceExport/${namespace}/${name}`, () => custom.patchNamespacedCustomObjectStatus(
      { group: MCS_GROUP, version: 'v1alpha1', namespace, plural: 'serviceexports', name, body: { status: { conditions } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    ), () => undefined));
  }
}
