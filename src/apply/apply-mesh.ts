// `eastwest apply`: connect to every cluster first (one connection each, deadlines on every request),
// then per selected cluster: istio-system + cacerts, the three Helm releases, the east-west gateway's
// address, and the mesh objects through the resource manager (dry run → apply only what drifted,
// staged, prune owned leftovers). Peers not selected (or not reachable) are only read, never written:
// their gateways' last-known addresses keep the routes to them as they are.
import { loadRenderAddons } from '../engine/render-addons.ts';
import { dirname, resolve } from 'node:path';
import type { Reporter } from '../core/reporter.ts';
import { parse, stringify } from 'yaml';
import { canonicalJson } from '../util/canonical-json.ts';
import { fanOut, mapLimit, type ClusterOutcome } from '../core/fan-out.ts';
import { meshCa, type MeshCaView } from '../engine/mesh-ca.ts';
import { classifier, connectionView, openEngine, type EngineContext, type EngineOptions } from '../engine/context.ts';
import { addressMap, knownGatewayAddresses, type GatewayAddress } from '../engine/gateway-addresses.ts';
import { waitDeploymentReady, waitStatefulSetReady } from '../k8s/deployments.ts';
import { objectRef, type KubeObject } from '../k8s/object.ts';
import { applyChangeSet, planObjects, undesired, type ChangeSetEntry } from '../k8s/resource-manager.ts';
import { istioChartsDir } from '../sources/upstream-sources.ts';
import { MCS_CRD_NAMES, mcsCrds } from '../mcs/crds.ts';
import { owned } from '../k8s/ownership.ts';
import { SYNC_CONTROLLER, SYNC_NAMESPACE } from '../render/sync-controller.ts';
import type { EastwestError } from '../core/errors.ts';
import type { KubeClient } from '../k8s/client.ts';
import type { MeshSpec } from '../spec/schema.ts';
import { DEMO_NAMESPACE } from '../render/demo-workload.ts';
import { LAB_PROMETHEUS_DEPLOYMENT } from '../render/lab-prometheus.ts';
import { KIALI_NAMESPACE, prometheusLocation } from '../render/observability.ts';
import { LAB_KIALI_DEPLOYMENT } from '../render/lab-kiali.ts';
import { kialiOn, kialiReaderSource, kialiRemoteSecrets } from './kiali-objects.ts';
import { ensureGrafanaAdmin, grafanaAdminRef, grafanaOn } from './grafana-admin.ts';
import { observabilityWarnings } from '../render/observability-releases.ts';
import { renderMesh, type RenderedCluster } from '../render/render-mesh.ts';
import type { ClusterSpec } from '../spec/schema.ts';
import { waitForGatewayAddress } from './gateway-address.ts';
import { checkIstioVersion, istiodChartVersions } from './chart-versions.ts';
import { chartArgs, deployedRelease, recoverPendingRelease, releaseDifferences, releaseUpToDate, upgradeInstall, type HelmTarget } from './helm.ts';
import { meshObjects, type PeerAccess } from './mesh-objects.ts';
import { keptOwned } from './kept-objects.ts';
import { ownedObjects, ownedSelector } from './prune.ts';
import { readerToken, serverOf, type ReaderTokenSource } from './remote-secrets.ts';
import { syncImage, syncLiveObjectsKept, syncReaderSource, type SyncLiveInput } from './sync-objects.ts';

export interface ApplyOptions extends EngineOptions {
  helm: string;
  dryRun?: boolean;
  /** Seconds to wait for Helm releases, gateway addresses and the demo workload. */
  timeoutSeconds?: number;
}

export type Change = ChangeSetEntry;

export interface ClusterApply {
  gatewayAddress?: string;
  changes: Change[];
}

export interface ApplyResult {
  ok: boolean;
  dryRun: boolean;
  /** The clusters acted on. */
  selected: string[];
  preflight: ClusterOutcome<{ kubernetesVersion: string }>[];
  gateways: GatewayAddress[];
  /** Where the mesh's root and each cluster's intermediate came from (absent when preflight failed). */
  ca?: MeshCaView;
  clusters: ClusterOutcome<ClusterApply>[];
  /** Seconds from start to end. */
  seconds: number;
}

const LAB_CHARTS = 'lab://istio-charts';

async function resolveChartDirectory(specFile: string, path: string): Promise<string> {
  if (path.startsWith(`${LAB_CHARTS}/`)) return `${await istioChartsDir()}/${path.slice(LAB_CHARTS.length + 1)}`;
  return resolve(dirname(specFile), path);
}

const seconds = (started: number) => Math.round((Date.now() - started) / 100) / 10;

export async function applyMesh(options: ApplyOptions, reporter: Reporter): Promise<ApplyResult> {
  const started = Date.now();
  const ctx = await openEngine({ ...options, connectPeers: true });
  const { spec } = ctx;
  const dryRun = Boolean(options.dryRun);
  const timeout = options.timeoutSeconds ?? 600;
  const say = (message: string) => reporter.report({ level: 'info', code: 'apply', message });
  const selectedNames = ctx.selected.map((c) => c.name);
  const preflightView = ctx.connections.map(connectionView);
  let ca: MeshCaView | undefined;
  const result = (clusters: ClusterOutcome<ClusterApply>[], gateways: GatewayAddress[], ok: boolean): ApplyResult =>
    ({ ok, dryRun, selected: selectedNames, preflight: preflightView, gateways, ...(ca ? { ca } : {}), clusters, seconds: seconds(started) });

  // 1. Every selected cluster answers before anything changes anywhere. Peers may be down.
  if (ctx.connections.some((c) => !c.ok && selectedNames.includes(c.cluster))) return result([], [], false);
  for (const peer of ctx.connections.filter((c) => !c.ok)) {
    reporter.report({ level: 'warn', code: 'peer-unreachable', message: `${peer.cluster} is not reachable: it is left as it is, and routes to it keep its gateway's last-known address` });
  }
  // A version the chart source does not have stops everything here, not half-way through Helm.
  await checkIstioVersion(spec, ctx.decoded.file, await istiodChartVersions(spec, { helm: options.helm, timeoutMs: ctx.requestTimeoutSeconds * 3000 }, reporter));
  // The CA is team state: the clusters' roots and intermediates unless the local directory says more (exit 2 on another root).
  const { bundle, view } = await meshCa(ctx, dryRun ? 'plan' : 'apply', reporter);
  ca = view;
  const known = await knownGatewayAddresses(spec, ctx.connected);
  const addons = await loadRenderAddons(spec);
  for (const message of observabilityWarnings(spec)) reporter.report({ level: 'warn', code: 'observability-exposed', message });
  const initial = new Map(renderMesh({ spec, pki: bundle, gatewayAddresses: addressMap(known), addons }).map((r) => [r.cluster.name, r]));
  const classify = classifier(ctx.requestTimeoutSeconds);
  const crds = await mcsCrds().catch((error: unknown) => error as EastwestError);

  // 2. Per selected cluster: pre-install objects (istio-system, cacerts, the accounts peers read it with).
  const preInstalls = await fanOut(ctx.selected, 'pre-install', async (cluster) => {
    const { client } = ctx.connected.get(cluster.name)!;
    const rendered = initial.get(cluster.name)!;
    say(`${cluster.name}: istio-system and cacerts`);
    const preInstall = [...rendered.preInstall.map((s) => s.object), ...(await absentMcsCrds(client, crds, spec, reporter))];
    const planned = await planObjects(client, preInstall, ownedSelector(spec.meshID));
    return dryRun ? planned.map(({ object: _o, ...e }) => e) : await applyChangeSet(client, planned, []);
  }, classify);
  if (preInstalls.some((i) => !i.ok)) return result(preInstalls.map((i) => (i.ok ? { ...i, value: { changes: i.value } } : i)), known, false);
  // Kiali's view of the other clusters: their read-only tokens, in Secrets its chart finds when installed.
  const kialiPeers = kialiOn(spec) ? await peerAccess(ctx, dryRun, reporter, kialiReaderSource(spec)) : new Map<string, PeerAccess>();

  // 3. Per selected cluster: Kiali's and Grafana's Secrets, Helm releases, gateway address.
  const installs = await fanOut(ctx.selected, 'install', async (cluster) => {
    const { client } = ctx.connected.get(cluster.name)!;
    const rendered = initial.get(cluster.name)!;
    const changes: Change[] = [...(preInstalls.find((p) => p.cluster === cluster.name) as { value: Change[] }).value];
    const secrets = kialiRemoteSecrets(spec, cluster, kialiPeers);
    const plannedSecrets = await planObjects(client, secrets, ownedSelector(spec.meshID));
    changes.push(...(dryRun ? plannedSecrets.map(({ object: _o, ...e }) => e) : await applyChangeSet(client, plannedSecrets, [])));
    if (grafanaOn(spec)) changes.push({ ref: grafanaAdminRef(spec), action: await ensureGrafanaAdmin(client, spec, dryRun) });
    changes.push(...(await helmReleases(ctx, options, cluster, rendered, dryRun, timeout, say, reporter)));
    const gatewayAddress = cluster.eastWestGateway.address ?? (dryRun ? known.find((g) => g.cluster === cluster.name)?.address : await waitForGatewayAddress(client, timeout));
    if (gatewayAddress && !dryRun) say(`${cluster.name}: east-west gateway at ${gatewayAddress}`);
    return { changes, ...(gatewayAddress ? { gatewayAddress } : {}) };
  }, classify);
  const gateways: GatewayAddress[] = known.map((g) => {
    const installed = installs.find((i) => i.cluster === g.cluster);
    return installed?.ok && installed.value.gatewayAddress ? { cluster: g.cluster, address: installed.value.gatewayAddress, source: g.source === 'spec' ? 'spec' : 'live' } : g;
  });
  if (installs.some((i) => !i.ok)) return result(installs, gateways, false);

  // 4. The mesh objects, rendered again with every gateway address now known.
  const final = new Map(renderMesh({ spec, pki: bundle, gatewayAddresses: addressMap(gateways), addons }).map((r) => [r.cluster.name, r]));
  const peers = spec.federation.mode === 'endpoint-discovery' ? await peerAccess(ctx, dryRun, reporter) : new Map<string, PeerAccess>();
  const syncInput = await syncLiveInput(ctx, dryRun, reporter);
  const results = await fanOut(ctx.selected, 'mesh objects', async (cluster) => {
    const { client } = ctx.connected.get(cluster.name)!;
    const previous = (installs.find((i) => i.cluster === cluster.name) as { value: ClusterApply }).value;
    const rendered = final.get(cluster.name)!;
    // Objects that would route to a gateway whose address nobody knows are left as they are.
    const pendingRefs = new Set(rendered.pending.map((p) => p.object));
    const all = meshObjects(spec, cluster, rendered, peers, syncInput);
    const objects = all.filter((o) => !pendingRefs.has(objectRef(o)));
    const owned = await ownedObjects(client, spec.meshID);
    // Remote secrets of peers whose token could not be read now (unreachable, or not selected) are kept;
    // so are the sync controller's access and Deployment when a peer's reader token is unknown.
    const syncKept = syncLiveObjectsKept(spec, all);
    if (syncKept) say(`${cluster.name}: the sync controller's access and Deployment are left as they are (a peer's reader token is unknown now)`);
    // cacerts not rendered (not known now) is never pruned.
    const kept = keptOwned(spec, { remotePeers: peers, kialiPeers, syncKept, cacertsMissing: rendered.cacertsMissing, pending: pendingRefs });
    const keep = owned.filter((o) => kept(objectRef(o)));
    const prune = undesired(owned, [...objects, ...rendered.preInstall.map((s) => s.object), ...kialiRemoteSecrets(spec, cluster, kialiPeers), ...keep]);
    const planned = await planObjects(client, objects, ownedSelector(spec.meshID));
    const skipped: Change[] = rendered.pending.map((p) => ({ ref: p.object, action: 'skipped', note: p.reason ?? `the east-west gateway of ${p.gatewayOf} has no known address` }));
    let changes: Change[];
    if (dryRun) changes = [...planned.map(({ object: _o, ...e }) => e), ...prune.map((o) => ({ ref: objectRef(o), action: 'deleted' as const }))];
    else changes = await applyChangeSet(client, planned, prune);
    // The in-cluster sync controller is up before apply returns (verify checks it right after).
    if (spec.sync.inCluster && !dryRun && !syncKept) await waitDeploymentReady(client.config, SYNC_NAMESPACE, SYNC_CONTROLLER, timeout);
    // So is each cluster's Prometheus: the lab's Deployment, or the StatefulSet kube-prometheus-stack's
    // operator makes after Helm returned.
    if (spec.observability.prometheus && spec.profile === 'lab' && !dryRun) await waitDeploymentReady(client.config, prometheusLocation(spec).namespace, LAB_PROMETHEUS_DEPLOYMENT, timeout);
    if (spec.observability.prometheus && spec.profile !== 'lab' && !dryRun) await waitStatefulSetReady(client.config, prometheusLocation(spec).namespace, `prometheus-${prometheusLocation(spec).service}`, timeout);
    if (kialiOn(spec) && spec.profile === 'lab' && !dryRun) await waitDeploymentReady(client.config, KIALI_NAMESPACE, LAB_KIALI_DEPLOYMENT, timeout);
    if (spec.demo.enabled && !dryRun) {
      await mapLimit(objects.filter((o) => o.kind === 'Deployment' && o.metadata.namespace === DEMO_NAMESPACE), 4, (d: KubeObject) => waitDeploymentReady(client.config, DEMO_NAMESPACE, d.metadata.name, timeout));
    }
    return { ...previous, changes: [...previous.changes, ...changes, ...skipped] };
  }, classify);
  return result(results, gateways, results.every((r) => r.ok));
}

async function helmReleases(ctx: EngineContext, options: ApplyOptions, cluster: ClusterSpec, rendered: RenderedCluster, dryRun: boolean, timeout: number, say: (m: string) => void, reporter: Reporter): Promise<Change[]> {
  const changes: Change[] = [];
  const target: HelmTarget = { binary: options.helm, kubeconfig: ctx.kubeconfig, context: ctx.contextOf(cluster.name), cluster: cluster.name, timeoutMs: (ctx.requestTimeoutSeconds * 3 + 5) * 1000 };
  for (const release of rendered.releases) {
    const ref = `HelmRelease/${release.namespace}/${release.release}`;
    let deployed = await deployedRelease(target, release.release, release.namespace);
    if (deployed?.status.startsWith('pending-') && !dryRun) {
      const recovered = await recoverPendingRelease(target, release.release, release.namespace, deployed.status);
      say(`${cluster.name}: release ${release.release} was left ${deployed.status} by an interrupted run: ${recovered}`);
      deployed = await deployedRelease(target, release.release, release.namespace);
    }
    if (releaseUpToDate(deployed, release)) {
      changes.push({ ref, action: 'unchanged' });
      continue;
    }
    // Proxies read meshConfig.defaultConfig (their statistics among it) when they start: say which ones lag.
    const proxyDefaults = (values: Record<string, unknown> | undefined) => canonicalJson(((values?.meshConfig as Record<string, unknown> | undefined)?.defaultConfig) ?? {});
    if (release.release === 'istiod' && deployed && proxyDefaults(deployed.values) !== proxyDefaults(parse(stringify(release.values)) as Record<string, unknown>)) {
      reporter.report({ level: 'warn', code: 'proxy-defaults', message: `${cluster.name}: the proxies' defaults (meshConfig.defaultConfig) change; proxies already running keep the old ones until they restart (kubectl rollout restart deployment -n <namespace>)` });
    }
    if (!dryRun) {
      say(`${cluster.name}: helm upgrade --install ${release.release}`);
      const chart = 'path' in release.chart ? [await resolveChartDirectory(options.file, release.chart.path)] : chartArgs(release.chart, (p) => p);
      await upgradeInstall(target, release, chart, { timeoutSeconds: timeout });
    }
    // What an upgrade changes, as `eastwest diff` shows it: status, pinned chart version, values.
    const fields = deployed ? releaseDifferences(deployed, release) : [];
    changes.push({ ref, action: deployed ? 'configured' : 'created', ...(fields.length ? { fields } : {}) });
  }
  return changes;
}

/**
 * The MCS API's CRDs a cluster lacks (ServiceExport, ServiceImport): created, never replaced (another MCS
 * implementation's are left alone). Without Go's module cache they cannot be had: fatal only when the
 * spec runs the controller in-cluster.
 */
async function absentMcsCrds(client: KubeClient, crds: KubeObject[] | EastwestError, spec: MeshSpec, reporter: Reporter): Promise<KubeObject[]> {
  if (!Array.isArray(crds)) {
    const present = await client.read({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: MCS_CRD_NAMES[0] } });
    if (present) return [];
    if (spec.sync.inCluster) throw crds;
    reporter.report({ level: 'warn', code: 'mcs-crds', message: `${client.cluster}: ${crds.message}; ServiceExports cannot be made there until they are installed` });
    return [];
  }
  const absent: KubeObject[] = [];
  for (const crd of crds) if (!(await client.read(crd))) absent.push(owned(spec.meshID, crd));
  return absent;
}

/** The in-cluster sync controller's live input: its image and every peer's reader access. */
export async function syncLiveInput(ctx: EngineContext, dryRun: boolean, reporter: Reporter): Promise<SyncLiveInput | undefined> {
  if (!ctx.spec.sync.inCluster) return undefined;
  const image = syncImage(ctx.spec);
  if (!image) {
    // Real clusters: the spec's cross-field check asks for sync.image. The lab: `lab up` records the image it loaded.
    if (ctx.spec.profile === 'lab') reporter.report({ level: 'warn', code: 'lab-image', message: 'the lab has not recorded its eastwest image (run `eastwest lab up`): the sync controller\'s access and Deployment are left as they are' });
    return undefined;
  }
  const peers = await peerAccess(ctx, dryRun, reporter, syncReaderSource(ctx.spec.meshID));
  return { image, peers };
}

/** Server, CA and reader token of every reachable cluster; tokens are only created in selected clusters. */
async function peerAccess(ctx: EngineContext, dryRun: boolean, reporter: Reporter, source?: ReaderTokenSource): Promise<Map<string, PeerAccess>> {
  const entries = await Promise.all([...ctx.connected.values()].map(async ({ cluster, client }) => {
    const selected = ctx.selected.includes(cluster);
    try {
      const token = await readerToken(client, { create: !dryRun && selected, ...(source ? { source } : {}) });
      if (token === undefined) return undefined;
      return [cluster.name, { ...serverOf(client.config), token }] as [string, PeerAccess];
    } catch (error) {
      // A selected cluster's own failure shows in its result; a peer that stopped answering keeps its secrets.
      if (selected) throw error;
      reporter.report({ level: 'warn', code: 'peer-token', message: `${cluster.name}: its reader token could not be read (${(error as Error).message}); remote secrets for it are left as they are` });
      return undefined;
    }
  }));
  return new Map(entries.filter((e): e is [string, PeerAccess] => e !== undefined));
}
