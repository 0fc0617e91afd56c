// verify's own probes in the clusters: deployed before the checks (a leftover of a killed run removed
// first), removed after them — the namespace deleted and waited for until it is gone, within a deadline.
// Everything is created (never patched) with verify's field manager, under the rights of
// VERIFY_PROBES_GRANT, asked of each cluster first. A namespace of that name that is not this mesh's
// verify's is never touched; one of a run that may still be going on (younger than MAX_RUN_SECONDS) neither.
import { MANAGED_BY_LABEL, MESH_LABEL, VERIFY_FIELD_MANAGER, VERIFY_MANAGED_BY, VERIFY_STARTED_ANNOTATION } from '../core/vocabulary.ts';
import { mapLimit } from '../core/fan-out.ts';
import { grantHint, missingGrantRights, rightText, VERIFY_PROBES_GRANT } from '../engine/access.ts';
import { KubeClient } from '../k8s/client.ts';
import type { KubeObject } from '../k8s/object.ts';
import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';
import { pollUntil } from '../util/poll.ts';
import { PROBE_NAMESPACE, probeObjects } from './probe-workload.ts';

/** Longer than any verify run (checks, waits, failover and restore on many clusters): an older namespace is a leftover. */
export const MAX_RUN_SECONDS = 3600;

export interface ProbeSetup {
  cluster: string;
  ok: boolean;
  seconds: number;
  /** What failed (rights missing, a leftover that would not go, a refused write, pods not ready). */
  error?: string;
  /** How to fix it, when known. */
  hint?: string;
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

class ProbeError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.hint = hint;
  }
}

const namespaceRef = (): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: PROBE_NAMESPACE } });
const round = (ms: number) => Math.round(ms / 100) / 10;

type LiveNamespace = KubeObject & { metadata: { deletionTimestamp?: string; annotations?: Record<string, string> } };

/** Whose the live namespace is: this mesh's verify's (of a run that may still go on, or a leftover), or someone else's. */
export function namespaceOwner(live: LiveNamespace, meshID: string, now: number): 'leftover' | 'running' | 'foreign' {
  const labels = live.metadata.labels ?? {};
  if (labels[MANAGED_BY_LABEL] !== VERIFY_MANAGED_BY || labels[MESH_LABEL] !== meshID) return 'foreign';
  if (live.metadata.deletionTimestamp) return 'leftover';
  const started = Date.parse(live.metadata.annotations?.[VERIFY_STARTED_ANNOTATION] ?? '');
  return Number.isNaN(started) || now - started > MAX_RUN_SECONDS * 1000 ? 'leftover' : 'running';
}

/** Deletes the namespace and waits until it is gone (or the deadline, or an interrupt). */
async function deleteNamespace(client: KubeClient, live: LiveNamespace | undefined, deadlineSeconds: number): Promise<boolean> {
  if (!live) return true;
  if (!live.metadata.deletionTimestamp) await client.delete(namespaceRef());
  return (await pollUntil(deadlineSeconds, 500, async () => ((await client.read(namespaceRef())) ? undefined : true))) === true;
}

/**
 * Deploys the probes in each cluster of `clients` (verified clusters that answered): the rights asked
 * first, any leftover removed, the namespace (stamped with this run's start), every object, then every
 * Deployment ready. Failures are per cluster; an interrupt stops what has not started.
 */
export async function deployProbes(spec: MeshSpec, clients: ReadonlyMap<string, KubeClient>, verified: readonly ClusterSpec[], gatewayAddresses: ReadonlyMap<string, string>, options: { readySeconds?: number; signal?: AbortSignal; started?: Date } = {}): Promise<ProbeSetup[]> {
  const names = verified.map((c) => c.name);
  const started = options.started ?? new Date();
  const interrupted = () => {
    if (options.signal?.aborted) throw new ProbeError('interrupted before the probes were ready');
  };
  return mapLimit(verified.filter((c) => clients.has(c.name)), 8, async (cluster) => {
    const t0 = Date.now();
    const client = new KubeClient(clients.get(cluster.name)!.config, { fieldManager: VERIFY_FIELD_MANAGER, cluster: cluster.name });
    const { objects, pending } = probeObjects(spec, cluster, names, gatewayAddresses);
    const pendingGateways = [...new Set(pending.map((p) => p.gatewayOf))].sort();
    let leftoverRemoved = false;
    try {
      const missing = await missingGrantRights(client, VERIFY_PROBES_GRANT);
      if (missing.length) throw new ProbeError(`the context's user may not ${missing.slice(0, 3).map(rightText).join(', ')}${missing.length > 3 ? ', …' : ''}: verify's own probes need the role ${VERIFY_PROBES_GRANT.role}`, `${grantHint(VERIFY_PROBES_GRANT, 'verify')}; or prove the mesh with the demo workload (--probes demo), which the probe level alone allows`);
      interrupted();
      const live = (await client.read(namespaceRef())) as LiveNamespace | undefined;
      if (live) {
        const owner = namespaceOwner(live, spec.meshID, started.getTime());
        if (owner === 'foreign') throw new ProbeError(`namespace ${PROBE_NAMESPACE} exists and is not this mesh's verify's (no ${MANAGED_BY_LABEL}=${VERIFY_MANAGED_BY}, ${MESH_LABEL}=${spec.meshID}): verify will not touch it`, 'remove or rename it, or prove the mesh with the demo workload (--probes demo)');
        if (owner === 'running') throw new ProbeError(`another verify of this mesh has its probes here (started ${live.metadata.annotations?.[VERIFY_STARTED_ANNOTATION]}): verify will not remove them under it`, `wait for it to end; if it was killed, kubectl delete namespace ${PROBE_NAMESPACE}`);
        if (!(await deleteNamespace(client, live, 120))) throw new ProbeError(`a namespace ${PROBE_NAMESPACE} left by an earlier run is still terminating after 120 s`, `kubectl get namespace ${PROBE_NAMESPACE} -o yaml shows what holds it (finalizers)`);
        leftoverRemoved = true;
      }
      interrupted();
      const [namespace, ...rest] = objects;
      await client.create({ ...namespace!, metadata: { ...namespace!.metadata, annotations: { [VERIFY_STARTED_ANNOTATION]: started.toISOString() } } });
      await mapLimit(rest, 8, (object) => client.create(object));
      const deployments = rest.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name);
      const ready = await pollUntil(options.readySeconds ?? 180, 500, async () => {
        interrupted();
        const live = await client.list('apps/v1', 'Deployment', PROBE_NAMESPACE);
        type D = { spec?: { replicas?: number }; status?: { readyReplicas?: number } };
        const done = deployments.every((name) => {
          const d = live.find((o) => o.metadata.name === name) as D | undefined;
          return d !== undefined && (d.status?.readyReplicas ?? 0) >= (d.spec?.replicas ?? 1);
        });
        return done ? true : undefined;
      });
      if (!ready) throw new ProbeError(`the probes' pods were not ready after ${options.readySeconds ?? 180} s`, `kubectl -n ${PROBE_NAMESPACE} get pods,events tells why (image, sidecar injection, scheduling)`);
      return { cluster: cluster.name, ok: true, seconds: round(Date.now() - t0), pendingGateways, leftoverRemoved };
    } catch (error) {
      const hint = error instanceof ProbeError ? error.hint : (error as { hint?: string }).hint;
      return { cluster: cluster.name, ok: false, seconds: round(Date.now() - t0), error: (error as Error).message, ...(hint ? { hint } : {}), pendingGateways, leftoverRemoved };
    }
  });
}

/**
 * Removes this run's probes from every cluster given (each within `deadlineSeconds`); says where one is
 * left. A namespace that is not this mesh's verify's, or that another run made since, is left alone.
 */
export async function removeProbes(spec: MeshSpec, clients: ReadonlyMap<string, KubeClient>, started: Date, deadlineSeconds = 120): Promise<ProbeRemoval[]> {
  return mapLimit([...clients], 8, async ([cluster, base]) => {
    const t0 = Date.now();
    const client = new KubeClient(base.config, { fieldManager: VERIFY_FIELD_MANAGER, cluster });
    try {
      const live = (await client.read(namespaceRef())) as LiveNamespace | undefined;
      if (live && namespaceOwner(live, spec.meshID, Date.now()) === 'foreign') return { cluster, gone: true, seconds: round(Date.now() - t0) };
      const stamp = live?.metadata.annotations?.[VERIFY_STARTED_ANNOTATION];
      if (live && stamp && stamp !== started.toISOString() && !live.metadata.deletionTimestamp) return { cluster, gone: true, seconds: round(Date.now() - t0) };
      const gone = await deleteNamespace(client, live, deadlineSeconds);
      return { cluster, gone, seconds: round(Date.now() - t0), ...(gone ? {} : { error: `namespace ${PROBE_NAMESPACE} still terminating after ${deadlineSeconds} s` }) };
    } catch (error) {
      return { cluster, gone: false, seconds: round(Date.now() - t0), error: (error as Error).message };
    }
  });
}
