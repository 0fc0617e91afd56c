// `eastwest sync status`: what the sync controllers last said about every cluster (live, stale since
// when, connecting), read from the reachable clusters. In-cluster, each cluster's controller reports in
// its own cluster; a foreground controller reports in every cluster it writes. Newest report first.
import { fanOut } from '../core/fan-out.ts';
import { classifier, openEngine, type EngineOptions } from '../engine/context.ts';
import { ISTIO_NAMESPACE } from '../render/helm-releases.ts';
import { SYNC_STATUS_CONFIGMAP } from '../render/sync-controller.ts';
import type { PublishedSyncStatus } from './sync.ts';

export type SyncReport = PublishedSyncStatus & { readFrom: string; ageSeconds: number };

export interface SyncStatusResult {
  /** The newest report found, and where. */
  report?: SyncReport;
  /** Every report found, newest first (one per cluster it was read from). */
  reports: SyncReport[];
  /** Clusters that could not be read now. */
  unreadable: { cluster: string; error: string }[];
}

export async function readSyncStatus(options: EngineOptions): Promise<SyncStatusResult> {
  const ctx = await openEngine({ ...options, access: 'read', command: 'sync status' });
  const reads = await fanOut([...ctx.connected.values()].map((c) => ({ name: c.cluster.name, client: c.client })), 'read status', async ({ client }) => {
    const cm = (await client.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: SYNC_STATUS_CONFIGMAP, namespace: ISTIO_NAMESPACE } })) as { data?: { status?: string } } | undefined;
    return cm?.data?.status ? (JSON.parse(cm.data.status) as PublishedSyncStatus) : undefined;
  }, classifier(ctx.requestTimeoutSeconds));
  const unreadable = [...ctx.connections, ...reads].filter((r) => !r.ok).map((r) => ({ cluster: r.cluster, error: (r as { error: string }).error }));
  const reports = reads
    .flatMap((r) => (r.ok && r.value ? [{ ...r.value, readFrom: r.cluster, ageSeconds: Math.round((Date.now() - Date.parse(r.value.updatedAt)) / 1000) }] : []))
    .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  return { ...(reports[0] ? { report: reports[0] } : {}), reports, unreadable };
}
