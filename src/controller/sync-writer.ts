// The sync controller's writes to one cluster, through the engine's client: its own field manager and
// ownership label; an object of the same name that is not the controller's (a user's, another MCS
// implementation's) is never changed.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { listOwned } from '../apply/prune.ts';
import { mapLimit } from '../core/fan-out.ts';
import type { KubeClient } from '../k8s/client.ts';
import { ClusterError, httpStatusOf } from '../k8s/cluster-error.ts';
import { objectRef, type KubeObject } from '../k8s/object.ts';
import { applyChangeSet, CONCURRENCY, planObjects, undesired, type Stage } from '../k8s/resource-manager.ts';
import { MESH_LABEL } from '../k8s/ownership.ts';
import { MCS_GROUP, SYNC_MANAGED_BY } from '../mcs/imports.ts';
import type { LiveCondition, SyncWriter } from './sync-reconciler.ts';

export const SYNC_KINDS = [
  { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry' },
  { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry' },
  { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule' },
  { apiVersion: `${MCS_GROUP}/v1alpha1`, kind: 'ServiceImport' },
];

export const syncSelector = (meshID: string) => `app.kubernetes.io/managed-by=${SYNC_MANAGED_BY},${MESH_LABEL}=${meshID}`;

/** The imports do not depend on each other (their namespaces are made before): written all at once. */
const oneStage = (o: KubeObject): Stage => (o.kind === 'Namespace' ? 'namespaces' : 'workloads');

/** The HTTP status behind a failed request (the client wraps API errors in a ClusterError). */
const statusOf = (error: unknown) => (error instanceof ClusterError ? httpStatusOf(error.cause) : httpStatusOf(error));

const ours = (o: KubeObject | undefined) => o?.metadata.labels?.['app.kubernetes.io/managed-by'] === SYNC_MANAGED_BY;

export class KubeSyncWriter implements SyncWriter {
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
      const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'app.kubernetes.io/managed-by': SYNC_MANAGED_BY, [MESH_LABEL]: this.meshID } } };
      if (await this.client.read(ns)) return;
      this.mayWrite();
      // 409: made meanwhile (by a user, or the previous acting replica).
      await this.client.call(`create Namespace/${name}`, () => this.client.objects.create(ns as never).catch((error: unknown) => {
        if (httpStatusOf(error) === 409) return undefined;
        throw error;
      }));
    });
  }

  async converge(desired: readonly KubeObject[], prune: boolean): Promise<{ ours: KubeObject[]; foreign: string[]; changes: number }> {
    const wanted = desired.filter((o) => o.kind !== 'Namespace');
    // Every object of these kinds is listed (one request per kind): thousands of imports need no GET each.
    const [, owned, plan] = await Promise.all([
      this.ensureNamespaces(desired.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)),
      prune ? listOwned(this.client, SYNC_KINDS, syncSelector(this.meshID)) : Promise.resolve([]),
      planObjects(this.client, wanted, syncSelector(this.meshID), { listAll: true, noDryRun: true }),
    ]);
    const foreign = plan.filter((p) => p.action !== 'created' && p.liveManagedBy !== SYNC_MANAGED_BY);
    const planned = plan.filter((p) => !foreign.includes(p));
    this.mayWrite();
    const changes = await applyChangeSet(this.client, planned, prune ? undesired(owned, wanted) : [], { stages: oneStage });
    return { ours: planned.map((p) => p.object), foreign: foreign.map((p) => p.ref), changes: changes.filter((c) => c.action !== 'unchanged').length };
  }

  async write(known: readonly KubeObject[], fresh: readonly KubeObject[], foreignKnown: ReadonlySet<string> = new Set()): Promise<{ foreign: string[] }> {
    this.mayWrite();
    const foreign: string[] = [];
    const refOf = (o: KubeObject) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
    await mapLimit([...known.map((o) => [o, false] as const), ...fresh.map((o) => [o, true] as const)], CONCURRENCY, async ([object, isFresh]) => {
      if (!isFresh) {
        await this.client.patch(object);
        return;
      }
      // A new name may already be someone else's object (a user's, another MCS implementation's). Those
      // the last full pass listed are known; one made since is found by applying without taking fields
      // from another manager: its values conflict (409), and it is left alone unless it carries the
      // controller's label. One request for a new name, not a read and a write.
      if (foreignKnown.has(objectRef(object))) {
        foreign.push(refOf(object));
        return;
      }
      try {
        await this.client.patch(object, { force: false });
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
        if (!ours(await this.client.read(object))) {
          foreign.push(refOf(object));
          return;
        }
        await this.client.patch(object);
      }
    });
    return { foreign };
  }

  async deleteOwned(objects: readonly KubeObject[]): Promise<void> {
    this.mayWrite();
    await mapLimit(objects, CONCURRENCY, async (o) => {
      // Deleted only if it is still ours (a user may have replaced it meanwhile).
      if (ours(await this.client.read(o))) await this.client.delete(o);
    });
  }

  async patchExportStatus(namespace: string, name: string, conditions: LiveCondition[]): Promise<void> {
    this.mayWrite();
    const custom = this.client.config.makeApiClient(CustomObjectsApi);
    await this.client.call(`status of ServiceExport/${namespace}/${name}`, () => custom.patchNamespacedCustomObjectStatus(
      { group: MCS_GROUP, version: 'v1alpha1', namespace, plural: 'serviceexports', name, body: { status: { conditions } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    ), () => undefined);
  }
}
