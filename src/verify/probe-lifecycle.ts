// verify's own probes in the clusters: deployed before the checks (a leftover of a killed run removed
// first), removed after them — the namespace deleted and waited for until it is gone, within a deadline.
// Everything is written with verify's field manager; a namespace of that name that is not verify's is
// never touched.
import { VERIFY_FIELD_MANAGER, VERIFY_MANAGED_BY, MANAGED_BY_LABEL } from '../core/vocabulary.ts';
import { mapLimit } from '../core/fan-out.ts';
import { KubeClient } from '../k8s/client.ts';
import { waitDeploymentReady } from '../k8s/deployments.ts';
import type { KubeObject } from '../k8s/object.ts';
import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';
import { pollUntil } from '../util/poll.ts';
import { PROBE_NAMESPACE, probeObjects } from './probe-workload.ts';

export interface ProbeSetup {
  cluster: string;
  ok: boolean;
  seconds: number;
  /** What failed (a leftover that would not go, a refused write, pods not ready). */
  error?: string;
  /** Routes left pending: the gateway address of these clusters was not known. */
  pendingGateways: string[];
  /** A namespace left by an earlier (killed) run was removed first. */
  leftoverRemoved: boolean;
}

export interface ProbeRemoval {
  cluster: string;
  /** The namespace is gone. */
  gone: boolean;
  seconds: number;
  error?: string;
}

const namespaceRef = (): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: PROBE_NAMESPACE } });
const round = (ms: number) => Math.round(ms / 100) / 10;

/** Deletes verify's namespace (never one that is not verify's) and waits until it is gone; `existed`: there was one. */
async function removeNamespace(client: KubeClient, deadlineSeconds: number): Promise<{ gone: boolean; existed: boolean }> {
  const live = await client.read(namespaceRef());
  if (!live) return { gone: true, existed: false };
  if (live.metadata.labels?.[MANAGED_BY_LABEL] !== VERIFY_MANAGED_BY) {
    throw new Error(`namespace ${PROBE_NAMESPACE} exists and is not verify's (no ${MANAGED_BY_LABEL}=${VERIFY_MANAGED_BY}): verify will not touch it; remove or rename it, or run verify with the demo workload`);
  }
  if (!(live.metadata as { deletionTimestamp?: string }).deletionTimestamp) await client.delete(namespaceRef());
  const gone = (await pollUntil(deadlineSeconds, 500, async () => ((await client.read(namespaceRef())) ? undefined : true))) === true;
  return { gone, existed: true };
}

/**
 * Deploys the probes in each cluster of `clients` (verified clusters that answered): any leftover first
 * removed, the namespace, then every object, then every Deployment ready. Failures are per cluster.
 */
export async function deployProbes(spec: MeshSpec, clients: ReadonlyMap<string, KubeClient>, verified: readonly ClusterSpec[], gatewayAddresses: ReadonlyMap<string, string>, readySeconds = 180): Promise<ProbeSetup[]> {
  const names = verified.map((c) => c.name);
  return mapLimit(verified.filter((c) => clients.has(c.name)), 8, async (cluster) => {
    const started = Date.now();
    const client = new KubeClient(clients.get(cluster.name)!.config, { fieldManager: VERIFY_FIELD_MANAGER, cluster: cluster.name });
    const { objects, pending } = probeObjects(spec, cluster, names, gatewayAddresses);
    const pendingGateways = [...new Set(pending.map((p) => p.gatewayOf))].sort();
    let leftoverRemoved = false;
    try {
      const leftover = await removeNamespace(client, 120);
      if (!leftover.gone) throw new Error(`a namespace ${PROBE_NAMESPACE} left by an earlier run is still terminating after 120 s`);
      leftoverRemoved = leftover.existed;
      const [namespace, ...rest] = objects;
      await client.patch(namespace!);
      await mapLimit(rest, 8, (object) => client.patch(object));
      const deployments = rest.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name);
      await Promise.all(deployments.map((name) => waitDeploymentReady(client.config, PROBE_NAMESPACE, name, readySeconds)));
      return { cluster: cluster.name, ok: true, seconds: round(Date.now() - started), pendingGateways, leftoverRemoved };
    } catch (error) {
      return { cluster: cluster.name, ok: false, seconds: round(Date.now() - started), error: (error as Error).message, pendingGateways, leftoverRemoved };
    }
  });
}

/** Removes the probes from every cluster given (each within `deadlineSeconds`); says where one is left. */
export async function removeProbes(clients: ReadonlyMap<string, KubeClient>, deadlineSeconds = 120): Promise<ProbeRemoval[]> {
  return mapLimit([...clients], 8, async ([cluster, base]) => {
    const started = Date.now();
    const client = new KubeClient(base.config, { fieldManager: VERIFY_FIELD_MANAGER, cluster });
    try {
      const { gone } = await removeNamespace(client, deadlineSeconds);
      return { cluster, gone, seconds: round(Date.now() - started), ...(gone ? {} : { error: `namespace ${PROBE_NAMESPACE} still terminating after ${deadlineSeconds} s` }) };
    } catch (error) {
      return { cluster, gone: false, seconds: round(Date.now() - started), error: (error as Error).message };
    }
  });
}
