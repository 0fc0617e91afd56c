// `eastwest diff`: for every cluster, desired vs live for everything eastwest owns — missing, changed
// (field by field, only fields eastwest sets: a server-side apply dry run tells what apply would do),
// extra (owned, no longer desired) — plus Helm values; and a cross-cluster view of mesh-scoped
// security objects that differ between clusters, whoever made them.
import { createHash } from 'node:crypto';
import type { Reporter } from '../core/reporter.ts';
import { ensureCa } from '../actions/ensure-ca.ts';
import { fanOut, preflight, preflightHint, type ClusterOutcome, type PreflightInfo } from '../apply/preflight.ts';
import { meshObjects } from '../apply/mesh-objects.ts';
import { serviceAddress } from '../apply/gateway-address.ts';
import { deployedRelease } from '../apply/helm.ts';
import { ownedObjects, undesired } from '../apply/prune.ts';
import { isNotFound } from '../k8s/client.ts';
import { objectRef, type KubeObject } from '../k8s/object.ts';
import { EASTWEST_GATEWAY_RELEASE, ISTIO_NAMESPACE } from '../render/helm-releases.ts';
import { renderMesh } from '../render/render-mesh.ts';
import { loadMeshSpec } from '../spec/load-file.ts';
import { canonicalJson } from '../util/canonical-json.ts';
import { comparable, fieldDifferences, type FieldDifference } from './field-diff.ts';

export interface ObjectDrift {
  ref: string;
  state: 'missing' | 'changed' | 'extra';
  fields?: FieldDifference[];
}

export interface CrossClusterDifference {
  ref: string;
  /** Content hash per cluster; "absent" where a cluster lacks it. */
  byCluster: Record<string, string>;
}

export interface DiffResult {
  clusters: ClusterOutcome<{ drift: ObjectDrift[] }>[];
  crossCluster: CrossClusterDifference[];
  differs: boolean;
  unreachable: string[];
  seconds: number;
}

const MESH_SECURITY_KINDS = [
  { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication' },
  { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy' },
  { apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication' },
];

const REMOTE_SECRET_PREFIX = 'Secret/istio-system/istio-remote-secret-';

export async function diffMesh(options: { file: string; kubeconfig: string | undefined; helm: string }, reporter: Reporter): Promise<DiffResult> {
  const started = Date.now();
  const decoded = await loadMeshSpec(options.file);
  const { spec } = decoded.document;
  const reach = await fanOut(spec.clusters, 'connect', (c) => preflight(c, options.kubeconfig), preflightHint);
  const info = new Map(reach.flatMap((r) => (r.ok ? [[r.cluster, r.value] as [string, PreflightInfo]] : [])));
  const { bundle } = await ensureCa(decoded, reporter);

  // Gateway addresses as the clusters report them now (diff never waits).
  const addresses = new Map<string, string>();
  for (const [cluster, { client }] of info) {
    const service = await client.read({ apiVersion: 'v1', kind: 'Service', metadata: { name: EASTWEST_GATEWAY_RELEASE, namespace: ISTIO_NAMESPACE } });
    const address = serviceAddress(service as Parameters<typeof serviceAddress>[0]);
    if (address) addresses.set(cluster, address);
  }
  const rendered = new Map(renderMesh({ spec, pki: bundle, gatewayAddresses: addresses }).map((r) => [r.cluster.name, r]));

  const clusters = await fanOut(spec.clusters, 'diff', async (cluster) => {
    const client = info.get(cluster.name)?.client;
    if (!client) throw new Error((reach.find((r) => r.cluster === cluster.name) as { error: string }).error);
    const r = rendered.get(cluster.name)!;
    const desired = [...r.preInstall.map((s) => s.object), ...meshObjects(spec, cluster, r, info, new Map())];
    const drift: ObjectDrift[] = [];
    for (const object of desired) {
      let outcome;
      try {
        outcome = await client.apply(object, { dryRun: true });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      const live = outcome?.before;
      if (!outcome || !live) {
        drift.push({ ref: objectRef(object), state: 'missing' });
        continue;
      }
      const after = outcome.object;
      const fields = fieldDifferences(comparable(after), comparable(live));
      if (fields.length) drift.push({ ref: objectRef(object), state: 'changed', fields });
    }
    // Remote secrets are made from live tokens at apply time: desired when the mode wants them.
    const owned = await ownedObjects(client, spec.meshID);
    const keep = spec.federation.mode === 'endpoint-discovery' ? owned.filter((o) => objectRef(o).startsWith(REMOTE_SECRET_PREFIX)) : [];
    for (const extra of undesired(owned, [...desired, ...keep])) drift.push({ ref: objectRef(extra), state: 'extra' });
    if (spec.federation.mode === 'endpoint-discovery') {
      for (const other of spec.clusters.filter((c) => c.name !== cluster.name)) {
        const ref = `${REMOTE_SECRET_PREFIX}${other.name}`;
        if (!owned.some((o) => objectRef(o) === ref)) drift.push({ ref, state: 'missing' });
      }
    }
    for (const release of r.releases) {
      const deployed = await deployedRelease({ binary: options.helm, kubeconfig: options.kubeconfig, context: cluster.context }, release.release, release.namespace);
      const ref = `HelmRelease/${release.namespace}/${release.release}`;
      if (!deployed) drift.push({ ref, state: 'missing' });
      else {
        const fields = fieldDifferences(JSON.parse(canonicalJson(release.values)), deployed.values, 'values');
        if (fields.length || deployed.status !== 'deployed') drift.push({ ref, state: 'changed', fields: deployed.status !== 'deployed' ? [{ path: 'status', want: 'deployed', live: deployed.status }, ...fields] : fields });
      }
    }
    return { drift };
  }, preflightHint);

  // Cross-cluster: mesh-scoped security objects (in the root namespace istio-system), whoever made them.
  const inventories = new Map<string, Map<string, string>>();
  for (const [cluster, { client }] of info) {
    const objects: KubeObject[] = [];
    for (const k of MESH_SECURITY_KINDS) objects.push(...(await client.list(k.apiVersion, k.kind, ISTIO_NAMESPACE)).map((o) => ({ ...o, apiVersion: k.apiVersion, kind: k.kind })));
    inventories.set(cluster, new Map(objects.map((o) => [objectRef(o), canonicalJson((o as { spec?: unknown }).spec ?? null)])));
  }
  const refs = [...new Set([...inventories.values()].flatMap((m) => [...m.keys()]))].sort();
  const crossCluster: CrossClusterDifference[] = [];
  for (const ref of refs) {
    const byCluster = Object.fromEntries([...inventories].map(([cluster, m]) => [cluster, m.has(ref) ? hash(m.get(ref)!) : 'absent']));
    if (new Set(Object.values(byCluster)).size > 1) crossCluster.push({ ref, byCluster });
  }

  const unreachable = clusters.filter((c) => !c.ok).map((c) => c.cluster);
  const differs = crossCluster.length > 0 || clusters.some((c) => c.ok && c.value.drift.length > 0);
  return { clusters, crossCluster, differs, unreachable, seconds: Math.round((Date.now() - started) / 100) / 10 };
}

const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);
