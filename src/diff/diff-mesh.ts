// `eastwest diff`: for every cluster, desired vs live for everything eastwest owns — missing, changed
// (field by field, only fields eastwest sets: a server-side apply dry run tells what apply would do;
// Secret values masked), extra (owned, no longer desired) — plus Helm values; and a cross-cluster view
// of mesh-scoped security objects that differ between clusters, whoever made them. An unreachable
// cluster is reported as such; its gateway's last-known address keeps the others' desired state stable.
import { createHash } from 'node:crypto';
import { readReaders, syncImageFor } from '../apply/live-input.ts';
import { deployedRelease, releaseDifferences } from '../apply/helm.ts';
import { listOwned, ownedSelector } from '../apply/prune.ts';
import type { LiveInput } from '../components/component.ts';
import { planCluster, pruneSet, readersNeeded } from '../components/plan.ts';
import { pruneKinds } from '../components/registry.ts';
import { fanOut, mapLimit, type ClusterOutcome } from '../core/fan-out.ts';
import type { Reporter } from '../core/reporter.ts';
import { classifier, openEngine, type EngineContext, type EngineOptions } from '../engine/context.ts';
import { addressMap, knownGatewayAddresses, type GatewayAddress } from '../engine/gateway-addresses.ts';
import { meshCa } from '../engine/mesh-ca.ts';
import { loadRenderAddons } from '../engine/render-addons.ts';
import { objectRef, type KubeObject } from '../k8s/object.ts';
import { planObjects } from '../k8s/resource-manager.ts';
import { ISTIO_NAMESPACE } from '../render/helm-releases.ts';
import { CACERTS_REF } from '../render/mesh-objects.ts';
import { canonicalJson } from '../util/canonical-json.ts';
import type { FieldDifference } from '../util/field-diff.ts';

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
  clusters: ClusterOutcome<{ drift: ObjectDrift[]; objects: number }>[];
  gateways: GatewayAddress[];
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

export interface DiffOptions extends EngineOptions {
  helm: string;
}

export async function diffMesh(options: DiffOptions, reporter: Reporter): Promise<DiffResult> {
  return diffWith(await openEngine({ ...options, connectPeers: true }), options, reporter);
}

/** diff over an engine already connected (every cluster of the spec, selected first). */
export async function diffWith(ctx: EngineContext, options: { helm: string }, reporter: Reporter): Promise<DiffResult> {
  const started = Date.now();
  const { spec } = ctx;
  // Read-only: the CA as the clusters hold it (and the local directory, when there is one); nothing is created.
  const { bundle, unresolved } = await meshCa(ctx, 'diff', reporter);
  const gateways = await knownGatewayAddresses(spec, ctx.connected);
  for (const g of gateways.filter((g) => g.source === 'last-known')) {
    reporter.report({ level: 'info', code: 'last-known-address', message: `${g.cluster} is unreachable: its east-west gateway's last-known address ${g.address} is used` });
  }
  const addons = await loadRenderAddons(spec, { ensured: true });
  // Objects derived from live tokens are compared by presence, except those whose content matters (the
  // sync controller's Deployment restarts when its access changes): their readers' tokens are read, never made.
  const live: LiveInput = {
    readers: await readReaders(ctx, readersNeeded(spec, { diff: 'content' }), false, reporter),
    ...(spec.sync.inCluster ? { syncImage: syncImageFor(spec, reporter) } : {}),
  };
  const helmTimeoutMs = (ctx.requestTimeoutSeconds * 3 + 5) * 1000;
  const selector = ownedSelector(spec.meshID);

  const clusters = await fanOut(ctx.selected, 'diff', async (cluster) => {
    const connection = ctx.connected.get(cluster.name);
    if (!connection) {
      const failed = ctx.connections.find((c) => c.cluster === cluster.name && !c.ok) as { error: string } | undefined;
      throw Object.assign(new Error(failed?.error ?? 'not connected'), { skipped: true });
    }
    const { client } = connection;
    // apply's plan, not written: the same objects, the same kept ones, the same prune set.
    const plan = planCluster({ spec, pki: bundle, gatewayAddresses: addressMap(gateways), addons }, cluster, live);
    const desired = [...plan.preInstall, ...plan.postInstall];
    const [planned, owned, releases, ensured] = await Promise.all([
      planObjects(client, desired, selector),
      listOwned(client, pruneKinds(), selector),
      mapLimit(plan.releases, 3, async (release) => ({ release, deployed: await deployedRelease({ binary: options.helm, kubeconfig: ctx.kubeconfig, context: ctx.contextOf(cluster.name), timeoutMs: helmTimeoutMs, cluster: cluster.name }, release.release, release.namespace) })),
      mapLimit(plan.ensured, 4, async (e) => ({ e, present: Boolean(await client.read(e.target)) })),
    ]);
    const drift: ObjectDrift[] = [];
    // cacerts apply could not make without the root key: missing, or not what the mesh needs.
    const why = unresolved.get(cluster.name);
    if (why) drift.push(owned.some((o) => objectRef(o) === CACERTS_REF) ? { ref: CACERTS_REF, state: 'changed', fields: [{ path: 'data', want: 'an intermediate of the mesh\'s root', live: why }] } : { ref: CACERTS_REF, state: 'missing' });
    for (const p of planned) {
      if (p.action === 'created') drift.push({ ref: p.ref, state: 'missing' });
      else if (p.action === 'configured') drift.push({ ref: p.ref, state: 'changed', ...(p.fields ? { fields: p.fields } : {}) });
    }
    // What apply would prune: owned, neither desired nor kept (a removed peer's remote secret is extra here).
    for (const extra of pruneSet(plan, owned)) drift.push({ ref: objectRef(extra), state: 'extra' });
    // Objects derived from a token (a peer's remote secret, Kiali's view of it) are compared by presence.
    for (const ref of plan.presence) if (!owned.some((o) => objectRef(o) === ref)) drift.push({ ref, state: 'missing' });
    // What apply creates where absent, when it can have it (or must).
    for (const { e, present } of ensured) if (!present && (e.make || e.unavailable?.fatal)) drift.push({ ref: e.ref, state: 'missing' });
    for (const { release, deployed } of releases) {
      const ref = `HelmRelease/${release.namespace}/${release.release}`;
      if (!deployed) drift.push({ ref, state: 'missing' });
      else {
        const fields = releaseDifferences(deployed, release);
        if (fields.length) drift.push({ ref, state: 'changed', fields });
      }
    }
    return { drift, objects: desired.length + plan.releases.length };
  }, classifier(ctx.requestTimeoutSeconds));
  // A cluster that could not be connected keeps the connect step's classification (unreachable or not).
  const outcomes = clusters.map((c) => (c.ok ? c : ctx.connections.find((x) => x.cluster === c.cluster && !x.ok) ?? c)) as DiffResult['clusters'];

  // Cross-cluster: mesh-scoped security objects (in the root namespace istio-system), whoever made them.
  const inventories = new Map<string, Map<string, string>>();
  await Promise.all([...ctx.connected].map(async ([cluster, { client }]) => {
    try {
      const objects: KubeObject[] = [];
      for (const k of MESH_SECURITY_KINDS) objects.push(...(await client.list(k.apiVersion, k.kind, ISTIO_NAMESPACE)).map((o) => ({ ...o, apiVersion: k.apiVersion, kind: k.kind })));
      inventories.set(cluster, new Map(objects.map((o) => [objectRef(o), canonicalJson((o as { spec?: unknown }).spec ?? null)])));
    } catch {
      // The cluster's own outcome already says what went wrong.
    }
  }));
  const refs = [...new Set([...inventories.values()].flatMap((m) => [...m.keys()]))].sort();
  const crossCluster: CrossClusterDifference[] = [];
  for (const ref of refs) {
    const byCluster = Object.fromEntries([...inventories].sort(([a], [b]) => a.localeCompare(b)).map(([cluster, m]) => [cluster, m.has(ref) ? hash(m.get(ref)!) : 'absent']));
    if (new Set(Object.values(byCluster)).size > 1) crossCluster.push({ ref, byCluster });
  }

  const unreachable = outcomes.filter((c) => !c.ok).map((c) => c.cluster).sort();
  const differs = crossCluster.length > 0 || outcomes.some((c) => c.ok && c.value.drift.length > 0);
  return { clusters: outcomes, gateways, crossCluster, differs, unreachable, seconds: Math.round((Date.now() - started) / 100) / 10 };
}

const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);
