// `eastwest status`: one screen, per cluster — reachable, Kubernetes and Istio versions, istiod ready, the
// east-west gateway's address, whether its root is the mesh's, the in-cluster sync controller, and how
// many objects drifted (diff's count). Read-only: changes nothing and asks for no cluster-admin access
// review; roots from the `istio-ca-root-cert` ConfigMap istiod publishes. The drift count reads what diff
// reads (eastwest's objects, Secrets included, whose values are never shown).
import type { Reporter } from '../core/reporter.ts';
import { fanOut, type ClusterOutcome } from '../core/fan-out.ts';
import { diffWith } from '../diff/diff-mesh.ts';
import { mayI } from '../engine/access.ts';
import { classifier, openEngine, type EngineContext, type EngineOptions } from '../engine/context.ts';
import { knownGatewayAddresses } from '../engine/gateway-addresses.ts';
import { pkiDirectory } from '../engine/mesh-ca.ts';
import type { KubeObject } from '../k8s/object.ts';
import { readPki } from '../pki/store.ts';
import { rootFingerprint } from '../pki/trust-plan.ts';
import { ISTIO_NAMESPACE } from '../render/helm-releases.ts';
import { istiodRelease } from '../render/revision.ts';
import { SYNC_CONTROLLER, SYNC_LEASE, SYNC_NAMESPACE } from '../render/sync-controller.ts';

export const ROOT_CONFIGMAP = 'istio-ca-root-cert';

export interface ClusterStatus {
  kubernetesVersion: string;
  istio: { version?: string; ready: number; desired: number } | undefined;
  gateway: { address?: string; source: string };
  /** Fingerprint of the root istiod publishes; undefined when it publishes none yet. */
  root?: string;
  rootMatches: boolean | undefined;
  sync: { ready: number; desired: number; leader?: string; renewedSecondsAgo?: number } | undefined;
  /** Objects and releases that differ from the spec; undefined when diff could not read this cluster. */
  drift: number | undefined;
  driftError?: string;
  /** The drift was not counted: the user may not read Secrets (the read access level). Not a failure. */
  driftNotCounted?: boolean;
}

const NOT_COUNTED = Symbol('drift not counted');

export interface StatusResult {
  meshID: string;
  /** The root most clusters (and the local CA, when present) agree on. */
  meshRoot?: { fingerprint: string; source: 'local CA' | 'clusters' };
  clusters: ClusterOutcome<ClusterStatus>[];
  ok: boolean;
  unreachable: string[];
  seconds: number;
}

export interface StatusOptions extends EngineOptions {
  helm: string;
}

const labels = (o: KubeObject | undefined) => (o?.metadata as { labels?: Record<string, string> } | undefined)?.labels ?? {};
interface DeploymentShape { spec?: { replicas?: number; template?: { spec?: { containers?: { image?: string }[] } } }; status?: { readyReplicas?: number } }

function istioOf(deployment: KubeObject | undefined): ClusterStatus['istio'] {
  if (!deployment) return undefined;
  const d = deployment as unknown as DeploymentShape;
  // What runs: the discovery container's image tag (a chart built from source says 1.0.0 in its labels);
  // the chart's version label when the image is pinned by digest only.
  const image = d.spec?.template?.spec?.containers?.find((c) => (c as { name?: string }).name === 'discovery')?.image ?? d.spec?.template?.spec?.containers?.[0]?.image;
  const tag = image && !image.includes('@') && /:([^/:]+)$/.exec(image)?.[1];
  const version = tag || labels(deployment)['app.kubernetes.io/version'];
  return { ...(version ? { version } : {}), ready: d.status?.readyReplicas ?? 0, desired: d.spec?.replicas ?? 1 };
}

export async function statusMesh(options: StatusOptions, reporter: Reporter): Promise<StatusResult> {
  const started = Date.now();
  const ctx = await openEngine({ ...options, connectPeers: true, access: 'read', command: 'status' });
  return statusWith(ctx, options, reporter, started);
}

async function statusWith(ctx: EngineContext, options: { helm: string }, reporter: Reporter, started: number): Promise<StatusResult> {
  const { spec } = ctx;
  // The drift count reads what diff reads, Secrets included: a user with the read access level (no
  // Secrets) gets the rest of the status and no count, not a failure.
  // Not counted only when every cluster says no; a review that fails (a timeout) leaves it to diff,
  // whose per-cluster failure then shows as the drift being unknown, never as healthy.
  const reviews = await Promise.all([...ctx.connected.values()].map((c) => mayI(c.client, { group: '', resource: 'secrets', verb: 'list' }).catch(() => undefined)));
  const secretsReadable = !(reviews.length > 0 && reviews.every((allowed) => allowed === false));
  const [gateways, diff, local] = await Promise.all([
    knownGatewayAddresses(spec, ctx.connected),
    secretsReadable ? diffWith(ctx, options, reporter).catch((error: unknown) => error as Error) : Promise.resolve(NOT_COUNTED),
    readPki(pkiDirectory(ctx.decoded), []),
  ]);
  const reads = await fanOut(ctx.selected.filter((c) => ctx.connected.has(c.name)), 'status', async (cluster) => {
    const { client, kubernetesVersion } = ctx.connected.get(cluster.name)!;
    const [istiod, rootCm, syncDeployment, lease] = await Promise.all([
      client.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: istiodRelease(spec), namespace: ISTIO_NAMESPACE } }),
      client.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ROOT_CONFIGMAP, namespace: ISTIO_NAMESPACE } }),
      spec.sync.inCluster ? client.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: SYNC_CONTROLLER, namespace: SYNC_NAMESPACE } }) : undefined,
      spec.sync.inCluster ? client.read({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: SYNC_LEASE, namespace: SYNC_NAMESPACE } }) : undefined,
    ]);
    const rootPem = (rootCm as { data?: Record<string, string> } | undefined)?.data?.['root-cert.pem'];
    const root = rootPem === undefined ? undefined : rootFingerprint(rootPem);
    const sd = syncDeployment as unknown as DeploymentShape | undefined;
    const l = (lease as { spec?: { holderIdentity?: string; renewTime?: string } } | undefined)?.spec;
    return {
      kubernetesVersion,
      istiod: istioOf(istiod),
      ...(root ? { root } : {}),
      sync: spec.sync.inCluster
        ? { ready: sd?.status?.readyReplicas ?? 0, desired: sd ? sd.spec?.replicas ?? 1 : 0, ...(l?.holderIdentity ? { leader: l.holderIdentity } : {}), ...(l?.renewTime ? { renewedSecondsAgo: Math.max(0, Math.round((Date.now() - Date.parse(l.renewTime)) / 1000)) } : {}) }
        : undefined,
    };
  }, classifier(ctx.requestTimeoutSeconds));

  // The mesh's root: the local CA's when there is one, else the one most clusters publish.
  const roots = reads.flatMap((r) => (r.ok && r.value.root ? [r.value.root] : []));
  const counts = new Map<string, number>();
  for (const fp of roots) counts.set(fp, (counts.get(fp) ?? 0) + 1);
  const majority = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
  const localRoot = local?.rootCertPem === undefined ? undefined : rootFingerprint(local.rootCertPem);
  const meshRoot = localRoot ? { fingerprint: localRoot, source: 'local CA' as const } : majority ? { fingerprint: majority, source: 'clusters' as const } : undefined;

  const driftOf = (cluster: string): Pick<ClusterStatus, 'drift' | 'driftError' | 'driftNotCounted'> => {
    if (diff === NOT_COUNTED) return { drift: undefined, driftNotCounted: true, driftError: 'not counted: this user may not read Secrets (the read access level); `eastwest diff` with apply\'s access shows it' };
    if (diff instanceof Error) return { drift: undefined, driftError: diff.message };
    const outcome = diff.clusters.find((c) => c.cluster === cluster);
    if (!outcome) return { drift: undefined, driftError: 'not compared' };
    if (!outcome.ok) return { drift: undefined, driftError: outcome.error };
    const cross = diff.crossCluster.filter((x) => x.byCluster[cluster] !== undefined).length;
    return { drift: outcome.value.drift.length + cross };
  };

  const clusters: ClusterOutcome<ClusterStatus>[] = ctx.selected.map((cluster) => {
    const connection = ctx.connections.find((c) => c.cluster === cluster.name)!;
    if (!connection.ok) return connection;
    const read = reads.find((r) => r.cluster === cluster.name)!;
    if (!read.ok) return read;
    const gateway = gateways.find((g) => g.cluster === cluster.name);
    const { istiod, root, sync, kubernetesVersion } = read.value;
    return {
      cluster: cluster.name,
      ok: true,
      value: {
        kubernetesVersion,
        istio: istiod,
        gateway: { ...(gateway?.address ? { address: gateway.address } : {}), source: gateway?.source ?? 'unknown' },
        ...(root ? { root } : {}),
        rootMatches: root && meshRoot ? root === meshRoot.fingerprint : undefined,
        sync,
        ...driftOf(cluster.name),
      },
    };
  });
  const healthy = (s: ClusterStatus) =>
    s.istio !== undefined && s.istio.ready >= 1 && s.gateway.address !== undefined && s.rootMatches === true && (s.drift === 0 || s.driftNotCounted === true) &&
    (s.sync === undefined || (s.sync.ready >= 1 && s.sync.leader !== undefined));
  const unreachable = clusters.filter((c) => !c.ok).map((c) => c.cluster);
  return {
    meshID: spec.meshID,
    ...(meshRoot ? { meshRoot } : {}),
    clusters,
    ok: clusters.every((c) => c.ok && healthy(c.value)),
    unreachable,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
}
