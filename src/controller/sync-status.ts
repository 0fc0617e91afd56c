// `eastwest sync status`: what the running controller last said about every cluster (live, stale since
// when, connecting), read from the reachable clusters — the newest report wins.
import { fanOut } from '../core/fan-out.ts';
import { classifier, openEngine, type EngineOptions } from '../engine/context.ts';
import { ISTIO_NAMESPACE } from '../render/helm-releases.ts';
import { SYNC_STATUS_CONFIGMAP, type PublishedSyncStatus } from './sync.ts';

export interface SyncStatusResult {
  /** The newest report found, and where. */
  report?: PublishedSyncStatus & { readFrom: string; ageSeconds: number };
  /** Clusters that could not be read now. */
  unreadable: { cluster: string; error: string }[];
}

export async function readSyncStatus(options: EngineOptions): Promise<SyncStatusResult> {
  const ctx = await openEngine(options);
  const reads = await fanOut([...ctx.connected.values()].map((c) => ({ name: c.cluster.name, client: c.client })), 'read status', async ({ client }) => {
    const cm = (await client.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: SYNC_STATUS_CONFIGMAP, namespace: ISTIO_NAMESPACE } })) as { data?: { status?: string } } | undefined;
    return cm?.data?.status ? (JSON.parse(cm.data.status) as PublishedSyncStatus) : undefined;
  }, classifier(ctx.requestTimeoutSeconds));
  const unreadable = [...ctx.connections, ...reads].filter((r) => !r.ok).map((r) => ({ cluster: r.cluster, error: (r as { error: string }).error }));
  const found = reads.flatMap((r) => (r.ok && r.value ? [{ ...r.value, readFrom: r.cluster }] : [])).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  const newest = found[0];
  return { ...(newest ? { report: { ...newest, ageSeconds: Math.round((Date.now() - Date.parse(newest.updatedAt)) / 1000) } } : {}), unreadable };
}
