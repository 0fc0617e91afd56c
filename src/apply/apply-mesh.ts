// `eastwest apply`: preflight everywhere first, then per cluster: istio-system + cacerts, the three
// Helm releases, the east-west gateway's address, and the mesh objects by server-side apply (one field
// manager, staged). Re-running converges with no changes. Failures are data per cluster and step.
import { dirname, resolve } from 'node:path';
import type { Reporter } from '../core/reporter.ts';
import { isNotFound, type KubeClient } from '../k8s/client.ts';
import { objectRef, type KubeObject } from '../k8s/object.ts';
import { ensureCa } from '../actions/ensure-ca.ts';
import { istioChartsDir } from '../lab/upstream-sources.ts';
import { renderMesh } from '../render/render-mesh.ts';
import { loadMeshSpec } from '../spec/load-file.ts';
import type { MeshSpec } from '../spec/schema.ts';
import { waitForGatewayAddress } from './gateway-address.ts';
import { chartArgs, deployedRelease, recoverPendingRelease, releaseUpToDate, upgradeInstall, type HelmTarget } from './helm.ts';
import { fanOut, preflight, preflightHint, type ClusterOutcome, type PreflightInfo } from './preflight.ts';
import { waitDeploymentReady } from '../k8s/deployments.ts';
import { DEMO_NAMESPACE } from '../render/demo-workload.ts';
import { meshObjects } from './mesh-objects.ts';
import { prune } from './prune.ts';
import { readerToken } from './remote-secrets.ts';

export interface ApplyOptions {
  file: string;
  kubeconfig: string | undefined;
  helm: string;
  dryRun?: boolean;
  /** Seconds to wait for Helm releases and gateway addresses. */
  timeoutSeconds?: number;
}

export interface Change {
  ref: string;
  action: 'created' | 'configured' | 'unchanged' | 'installed' | 'upgraded' | 'would change' | 'deleted' | 'would delete';
}

export interface ClusterApply {
  gatewayAddress?: string;
  changes: Change[];
}

export interface ApplyResult {
  ok: boolean;
  dryRun: boolean;
  preflight: ClusterOutcome<{ kubernetesVersion: string }>[];
  clusters: ClusterOutcome<ClusterApply>[];
  /** Seconds from start to end. */
  seconds: number;
}

const LAB_CHARTS = 'lab://istio-charts';

async function resolveChartDirectory(specFile: string, path: string): Promise<string> {
  if (path.startsWith(`${LAB_CHARTS}/`)) return `${await istioChartsDir()}/${path.slice(LAB_CHARTS.length + 1)}`;
  return resolve(dirname(specFile), path);
}

async function applyObjects(client: KubeClient, objects: KubeObject[], dryRun: boolean, changes: Change[]): Promise<void> {
  for (const object of objects) {
    try {
      const { action } = await client.apply(object, { dryRun });
      changes.push({ ref: objectRef(object), action: dryRun && action !== 'unchanged' ? 'would change' : action });
    } catch (error) {
      // In a dry run, an object whose namespace or CRD an earlier step would create cannot be checked yet.
      if (dryRun && isNotFound(error)) changes.push({ ref: objectRef(object), action: 'would change' });
      else throw error;
    }
  }
}

export async function applyMesh(options: ApplyOptions, reporter: Reporter): Promise<ApplyResult> {
  const started = Date.now();
  const decoded = await loadMeshSpec(options.file);
  const { spec } = decoded.document;
  const dryRun = Boolean(options.dryRun);
  const timeout = options.timeoutSeconds ?? 600;
  const say = (message: string) => reporter.report({ level: 'info', code: 'apply', message });

  // 1. Preflight everywhere before changing anything anywhere.
  const checks = await fanOut(spec.clusters, 'preflight', (c) => preflight(c, options.kubeconfig), preflightHint);
  const preflightView = checks.map((c) => (c.ok ? { ...c, value: { kubernetesVersion: c.value.kubernetesVersion } } : c));
  if (checks.some((c) => !c.ok)) return { ok: false, dryRun, preflight: preflightView, clusters: [], seconds: (Date.now() - started) / 1000 };
  const info = new Map(checks.map((c) => [c.cluster, (c as { value: PreflightInfo }).value]));
  const { bundle } = await ensureCa(decoded, reporter);
  const initial = new Map(renderMesh({ spec, pki: bundle }).map((r) => [r.cluster.name, r]));

  // 2. Per cluster: pre-install objects, Helm releases, gateway address.
  const installs = await fanOut(spec.clusters, 'install', async (cluster) => {
    const client = info.get(cluster.name)!.client;
    const rendered = initial.get(cluster.name)!;
    const changes: Change[] = [];
    say(`${cluster.name}: istio-system and cacerts`);
    await applyObjects(client, rendered.preInstall.map((s) => s.object), dryRun, changes);
    const target: HelmTarget = { binary: options.helm, kubeconfig: options.kubeconfig, context: cluster.context };
    for (const release of rendered.releases) {
      let deployed = await deployedRelease(target, release.release, release.namespace);
      if (deployed?.status.startsWith('pending-') && !dryRun) {
        const recovered = await recoverPendingRelease(target, release.release, release.namespace, deployed.status);
        say(`${cluster.name}: release ${release.release} was left ${deployed.status} by an interrupted run: ${recovered}`);
        deployed = await deployedRelease(target, release.release, release.namespace);
      }
      if (releaseUpToDate(deployed, release)) {
        changes.push({ ref: `HelmRelease/${release.namespace}/${release.release}`, action: 'unchanged' });
        continue;
      }
      if (dryRun) {
        changes.push({ ref: `HelmRelease/${release.namespace}/${release.release}`, action: 'would change' });
        continue;
      }
      say(`${cluster.name}: helm upgrade --install ${release.release}`);
      const chart = 'path' in release.chart ? [await resolveChartDirectory(options.file, release.chart.path)] : chartArgs(release.chart, (p) => p);
      await upgradeInstall(target, release, chart, { timeout: `${timeout}s` });
      changes.push({ ref: `HelmRelease/${release.namespace}/${release.release}`, action: deployed ? 'upgraded' : 'installed' });
    }
    const gatewayAddress = dryRun ? undefined : cluster.eastWestGateway.address ?? (await waitForGatewayAddress(client, timeout));
    if (gatewayAddress) say(`${cluster.name}: east-west gateway at ${gatewayAddress}`);
    return { changes, ...(gatewayAddress ? { gatewayAddress } : {}) };
  }, installHint);
  const failedInstall = installs.filter((i) => !i.ok);
  if (failedInstall.length) return { ok: false, dryRun, preflight: preflightView, clusters: installs, seconds: (Date.now() - started) / 1000 };

  // 3. The mesh objects, rendered again with the discovered gateway addresses.
  const addresses = new Map(installs.flatMap((i) => (i.ok && i.value.gatewayAddress ? [[i.cluster, i.value.gatewayAddress] as [string, string]] : [])));
  const final = new Map(renderMesh({ spec, pki: bundle, gatewayAddresses: addresses }).map((r) => [r.cluster.name, r]));
  const tokens = spec.federation.mode === 'endpoint-discovery' && !dryRun ? await readerTokens(spec, info) : new Map<string, string>();
  const results = await fanOut(spec.clusters, 'mesh objects', async (cluster) => {
    const client = info.get(cluster.name)!.client;
    const previous = installs.find((i) => i.cluster === cluster.name) as { value: ClusterApply };
    const changes = [...previous.value.changes];
    const objects = meshObjects(spec, cluster, final.get(cluster.name)!, info, tokens);
    await applyObjects(client, objects, dryRun, changes);
    const desired = [...objects, ...final.get(cluster.name)!.preInstall.map((s) => s.object)];
    // Remote secrets exist only in endpoint-discovery mode and are built from live tokens: keep them in a dry run.
    const keep = dryRun ? (await client.list('v1', 'Secret', 'istio-system', 'istio/multiCluster=true')).map((o) => ({ ...o, apiVersion: 'v1', kind: 'Secret' })) : [];
    for (const ref of await prune(client, spec.meshID, [...desired, ...(spec.federation.mode === 'endpoint-discovery' ? keep : [])], dryRun)) {
      changes.push({ ref, action: dryRun ? 'would delete' : 'deleted' });
    }
    if (spec.demo.enabled && !dryRun) {
      for (const d of objects.filter((o) => o.kind === 'Deployment' && o.metadata.namespace === DEMO_NAMESPACE)) {
        await waitDeploymentReady(client.config, DEMO_NAMESPACE, d.metadata.name, timeout);
      }
    }
    return { ...previous.value, changes };
  }, installHint);
  return { ok: results.every((r) => r.ok), dryRun, preflight: preflightView, clusters: results, seconds: Math.round((Date.now() - started) / 100) / 10 };
}

async function readerTokens(spec: MeshSpec, info: Map<string, PreflightInfo>): Promise<Map<string, string>> {
  const entries = await Promise.all(spec.clusters.map(async (c) => [c.name, await readerToken(info.get(c.name)!.client)] as const));
  return new Map(entries);
}

function installHint(error: unknown): string | undefined {
  const message = (error as Error).message ?? '';
  if (message.includes('got no address')) return 'does the cluster have a LoadBalancer implementation? Set clusters[].eastWestGateway.address or use a NodePort/ClusterIP serviceType with a fixed address';
  if (message.includes('helm upgrade')) return 'see Helm\'s message above; `helm status -n istio-system <release>` and the istio-system pods tell more';
  return (error as { hint?: string }).hint;
}
