// Every cluster of the mesh as the sync controller sees it, watched once for the life of the process.
// A replica that waits for the lease watches too (as controller-runtime's caches start before leader
// election): when it takes over, its caches are full and it reconciles at once instead of first listing
// every cluster.
import type { Reporter } from '../core/reporter.ts';
import type { KubeconfigSource } from '../k8s/kubeconfig.ts';
import type { MeshSpec } from '../spec/schema.ts';
import { ClusterWatch, type WatchChange } from './cluster-watch.ts';

export class ClusterWatches {
  readonly watches: ClusterWatch[];
  private readonly listeners = new Set<(change: WatchChange) => void>();

  constructor(spec: MeshSpec, options: { kubeconfig: KubeconfigSource | undefined; requestTimeoutSeconds: number; reporter: Reporter }) {
    const onChange = (change: WatchChange) => {
      for (const listener of this.listeners) listener(change);
    };
    this.watches = spec.clusters.map((c) => new ClusterWatch(c, { ...options, onChange }));
  }

  start(): void {
    for (const w of this.watches) void w.start();
  }

  /** Calls `listener` on every change in any cluster (and state change of a watch); returns its removal. */
  subscribe(listener: (change: WatchChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.listeners.clear();
    await Promise.all(this.watches.map((w) => w.stop()));
  }
}
