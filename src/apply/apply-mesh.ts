// `eastwest apply`: connect to every cluster first (one connection each, deadlines on every request),
// then per selected cluster the components' plan (src/components), written in phases: pre-install objects
// (istio-system, cacerts) and what is created where absent, the Helm releases, the east-west gateway's
// address, then the post-install objects through the resource manager (dry run → apply only what
// drifted, staged, prune owned leftovers) and the components' waits. diff is the same plan unwritten. Peers not selected (or not reachable) are only read, never written:
// their gateways' last-known addresses keep the routes to them as they are.
import { CoreV1Api } from '@kubernetes/client-node';
import { XDS_AGENT_KEY } from '../core/vocabulary.ts';
import { proxiesWithoutMultiRoot } from '../k8s/proxy-settings.ts';
import { dirname, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import type { LiveInput } from '../components/component.ts';
import { planCluster, pruneSet, readersNeeded, type ClusterPlan } from '../components/plan.ts';
import { pruneKinds } from '../components/registry.ts';
import { fanOut, mapLimit, type ClusterOutcome } from '../core/fan-out.ts';
import type { Reporter } from '../core/reporter.ts';
import { classifier, connectionView, openEngine, type EngineContext, type EngineOptions } from '../engine/context.ts';
import { addressMap, knownGatewayAddresses, type GatewayAddress } from '../engine/gateway-addresses.ts';
import { meshCa, type MeshCaView } from '../engine/mesh-ca.ts';
import { providerChartDirectory } from '../engine/provider.ts';
import { loadRenderAddons } from '../engine/render-addons.ts';
import type { KubeClient } from '../k8s/client.ts';
import { waitDeploymentReady, waitStatefulSetReady } from '../k8s/deployments.ts';
import { objectRef, type KubeObject } from '../k8s/object.ts';
import { applyChangeSet, planObjects, type ChangeSetEntry, type PlannedObject } from '../k8s/resource-manager.ts';
import { ISTIO_NAMESPACE, type HelmRelease } from '../render/helm-releases.ts';
import { istiodRelease } from '../render/revision.ts';
import { observabilityWarnings } from '../render/observability-releases.ts';
import type { RenderInput } from '../render/render-mesh.ts';
import type { ClusterSpec } from '../spec/schema.ts';
import { canonicalJson } from '../util/canonical-json.ts';
import { checkIstioVersion, istiodChartVersions } from './chart-versions.ts';
import { waitForGatewayAddress } from './gateway-address.ts';
import { chartArgs, deployedRelease, recoverPendingRelease, releaseDifferences, releaseNames, releaseUpToDate, upgradeInstall, type HelmTarget } from './helm.ts';
import { readReaders, syncImageFor } from './live-input.ts';
import { listOwned, ownedSelector } from './prune.ts';

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
  /** Running proxies (`namespace/pod`) that take the mesh's proxy settings (multi-root) only at their next restart. */
  restartNeeded?: string[];
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

/** A chart directory: a registered provider's (lab://istio-charts/<chart>), or a path relative to the spec file. */
async function resolveChartDirectory(specFile: string, path: string): Promise<string> {
  return (await providerChartDirectory(path)) ?? resolve(dirname(specFile), path);
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
  const addons = await loadRenderAddons(spec, { ensured: true });
  for (const message of observabilityWarnings(spec)) reporter.report({ level: 'warn', code: 'observability-exposed', message });
  const renderInput = (gateways: GatewayAddress[]): RenderInput => ({ spec, pki: bundle, gatewayAddresses: addressMap(gateways), addons });
  const classify = classifier(ctx.requestTimeoutSeconds);
  const selector = ownedSelector(spec.meshID);
  const entries = (planned: PlannedObject[]): Change[] => planned.map(({ object: _o, ...e }) => e);
  const write = async (client: KubeClient, planned: PlannedObject[], prune: KubeObject[] = []) => (dryRun ? [...entries(planned), ...prune.map((o) => ({ ref: objectRef(o), action: 'deleted' as const }))] : await applyChangeSet(client, planned, prune));

  // 2. Per selected cluster, what must exist before the releases: every component's pre-install objects
  // (istio-system and cacerts among them) and what is created where absent (the MCS CRDs, Grafana's password).
  const firstPlans = new Map(ctx.selected.map((c) => [c.name, planCluster(renderInput(known), c, { readers: {} })]));
  const preInstalls = await fanOut(ctx.selected, 'pre-install', async (cluster) => {
    const { client } = ctx.connected.get(cluster.name)!;
    const plan = firstPlans.get(cluster.name)!;
    say(`${cluster.name}: istio-system and cacerts`);
    const absent = await absentEnsured(client, plan, reporter);
    return write(client, await planObjects(client, [...plan.preInstall, ...absent], selector));
  }, classify);
  if (preInstalls.some((i) => !i.ok)) return result(preInstalls.map((i) => (i.ok ? { ...i, value: { changes: i.value } } : i)), known, false);
  // Tokens for what is derived before the releases (Kiali's view of the other clusters: its chart looks for them at install).
  const preLive: LiveInput = { readers: await readReaders(ctx, readersNeeded(spec, { phase: 'pre-install' }), !dryRun, reporter) };

  // 3. Per selected cluster: the derived pre-install objects, the Helm releases, the gateway's address.
  const installs = await fanOut(ctx.selected, 'install', async (cluster) => {
    const { client } = ctx.connected.get(cluster.name)!;
    const changes: Change[] = [...(preInstalls.find((p) => p.cluster === cluster.name) as { value: Change[] }).value];
    const written = new Set(firstPlans.get(cluster.name)!.preInstall.map(objectRef));
    const plan = planCluster(renderInput(known), cluster, preLive);
    changes.push(...(await write(client, await planObjects(client, plan.preInstall.filter((o) => !written.has(objectRef(o))), selector))));
    changes.push(...(await helmReleases(ctx, options, cluster, plan.releases, dryRun, timeout, say, reporter)));
    const gatewayAddress = cluster.eastWestGateway.address ?? (dryRun ? known.find((g) => g.cluster === cluster.name)?.address : await waitForGatewayAddress(client, timeout));
    if (gatewayAddress && !dryRun) say(`${cluster.name}: east-west gateway at ${gatewayAddress}`);
    return { changes, ...(gatewayAddress ? { gatewayAddress } : {}) };
  }, classify);
  const gateways: GatewayAddress[] = known.map((g) => {
    const installed = installs.find((i) => i.cluster === g.cluster);
    return installed?.ok && installed.value.gatewayAddress ? { cluster: g.cluster, address: installed.value.gatewayAddress, source: g.source === 'spec' ? 'spec' : 'live' } : g;
  });
  if (installs.some((i) => !i.ok)) return result(installs, gateways, false);

  // 4. The whole plan, rendered again with every gateway address now known and every reader's token:
  // the post-install objects written, owned objects no longer desired pruned, then the components' waits.
  const live: LiveInput = {
    readers: { ...preLive.readers, ...(await readReaders(ctx, readersNeeded(spec, { phase: 'post-install' }), !dryRun, reporter)) },
    ...(spec.sync.inCluster ? { syncImage: syncImageFor(spec, reporter) } : {}),
  };
  const results = await fanOut(ctx.selected, 'mesh objects', async (cluster) => {
    const { client } = ctx.connected.get(cluster.name)!;
    const previous = (installs.find((i) => i.cluster === cluster.name) as { value: ClusterApply }).value;
    const plan = planCluster(renderInput(gateways), cluster, live);
    for (const what of plan.leftAsIs) say(`${cluster.name}: ${what} left as they are (a peer's token or the image is unknown now)`);
    const prune = pruneSet(plan, await listOwned(client, pruneKinds(), selector));
    const skipped: Change[] = plan.pending.map((p) => ({ ref: p.object, action: 'skipped', note: p.reason ?? `the east-west gateway of ${p.gatewayOf} has no known address` }));
    const changes = await write(client, await planObjects(client, plan.postInstall, selector), prune);
    if (!dryRun) await mapLimit(plan.waits, 4, (w) => (w.kind === 'Deployment' ? waitDeploymentReady(client.config, w.namespace, w.name, timeout) : waitStatefulSetReady(client.config, w.namespace, w.name, timeout)));
    const restartNeeded = dryRun ? [] : proxiesWithoutMultiRoot((await client.config.makeApiClient(CoreV1Api).listPodForAllNamespaces()).items);
    if (restartNeeded.length) {
      reporter.report({ level: 'warn', code: 'proxy-restart-needed', message: `${cluster.name}: ${restartNeeded.length} running prox${restartNeeded.length === 1 ? 'y' : 'ies'} (${restartNeeded.slice(0, 5).join(', ')}${restartNeeded.length > 5 ? ', …' : ''}) started before the multi-root setting (${XDS_AGENT_KEY}) a root rotation needs; one restart each takes it (kubectl rollout restart deployment -n <namespace>)` });
    }
    return { ...previous, changes: [...previous.changes, ...changes, ...skipped], ...(restartNeeded.length ? { restartNeeded } : {}) };
  }, classify);
  return result(results, gateways, results.every((r) => r.ok));
}

/**
 * What the plan creates where absent and is absent here. One that cannot be had (the MCS CRDs without Go's
 * module cache) stops this cluster when fatal, and is otherwise only said.
 */
async function absentEnsured(client: KubeClient, plan: ClusterPlan, reporter: Reporter): Promise<KubeObject[]> {
  const absent: KubeObject[] = [];
  const warned = new Set<Error>();
  for (const e of plan.ensured) {
    if (await client.read(e.target)) continue;
    if (e.make) absent.push(e.make());
    else if (e.unavailable?.fatal) throw e.unavailable.error;
    else if (e.unavailable && !warned.has(e.unavailable.error)) {
      warned.add(e.unavailable.error);
      reporter.report({ level: 'warn', code: 'ensured-unavailable', message: `${client.cluster}: ${e.unavailable.error.message}; ${e.ref} is left absent` });
    }
  }
  return absent;
}

async function helmReleases(ctx: EngineContext, options: ApplyOptions, cluster: ClusterSpec, releases: readonly HelmRelease[], dryRun: boolean, timeout: number, say: (m: string) => void, reporter: Reporter): Promise<Change[]> {
  const changes: Change[] = [];
  const target: HelmTarget = { binary: options.helm, kubeconfig: ctx.kubeconfig, context: ctx.contextOf(cluster.name), cluster: cluster.name, timeoutMs: (ctx.requestTimeoutSeconds * 3 + 5) * 1000 };
  // A new revision beside another (spec.istio.revision changed): its istiod is installed and ready before
  // istio-base points the default validator at it, so that no config write meets a validator without a server.
  const istiod = istiodRelease(ctx.spec);
  const installed = await releaseNames(target, ISTIO_NAMESPACE, '^istiod(-.+)?$');
  const newRevision = installed.length > 0 && !installed.includes(istiod);
  if (newRevision) {
    say(`${cluster.name}: istiod revision ${ctx.spec.istio.revision ?? 'default'} is installed beside ${installed.join(', ')}; workloads move to it when they restart (doctor's control-plane-revisions lists those still on the other)`);
  }
  const ordered = newRevision ? [...releases.filter((r) => r.release === istiod), ...releases.filter((r) => r.release !== istiod)] : releases;
  for (const release of ordered) {
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
    if (release.release === istiod && deployed && proxyDefaults(deployed.values) !== proxyDefaults(parse(stringify(release.values)) as Record<string, unknown>)) {
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
