// `eastwest verify`: the guide's definition of done, checked inside the clusters with the demo workload.
// Each check is data ({id, run(ctx) → result with figures}); one failing check never hides the others.
import { CoordinationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { SYNC_CONTROLLER, SYNC_LEASE, SYNC_NAMESPACE } from '../render/sync-controller.ts';
import type { Reporter } from '../core/reporter.ts';
import type { ClusterOutcome } from '../core/fan-out.ts';
import { connectionView, openEngine, type EngineOptions } from '../engine/context.ts';
import { clusterError } from '../k8s/cluster-error.ts';
import { DEMO_NAMESPACE } from '../render/demo-workload.ts';
import { clusterLocalHost, istioSni, remoteHost } from '../render/federation-service-entry.ts';
import type { ClusterSpec, MeshSpec, ServiceSpec } from '../spec/schema.ts';
import { runChecks } from '../checks/run-checks.ts';
import type { Category, Check, CheckResult, CheckStatus, Finding } from '../checks/check.ts';
import { observabilityCheck } from './observability-check.ts';
import { knownGatewayAddresses } from '../engine/gateway-addresses.ts';
import { deployProbes, removeProbes, type ProbeRemoval, type ProbeSetup } from './probe-lifecycle.ts';
import { PROBE_NAMESPACE, probeService } from './probe-workload.ts';
import { curlFromClient, eastWestGatewayPod, envoyClusterCounters, envoyClusterEndpoints, readyPod, scaleDeployment, waitDeploymentReady } from './mesh-probes.ts';

/** What one check proved between two clusters (from the client in `from` to `to`). */
export interface VerifyPair {
  check: string;
  from: string;
  to: string;
  ok: boolean;
  figures: Record<string, number | string>;
  detail: string;
}

/** One of verify's checks as it ran: the runner's result (status, findings) with verify's view of it. */
export interface VerifyCheckResult {
  id: string;
  /** The cluster it ran from (a check run from every cluster); absent for a check of the whole mesh. */
  cluster?: string;
  /** What it proved per ordered pair of clusters, when it proves something between two. */
  pairs?: VerifyPair[];
  description: string;
  category: Category;
  status: CheckStatus;
  ok: boolean;
  figures: Record<string, number | string>;
  /** What it found (the failure, or what it saw when it passed). */
  detail?: string;
  findings: Finding[];
  /** The check could not reach a cluster in time. */
  unreachable?: boolean;
  /** How long the check took. */
  seconds: number;
}

interface Context {
  spec: MeshSpec;
  /** The clusters verified (all of the spec's, or --clusters): a check between two clusters needs both. */
  clusters: ClusterSpec[];
  configs: Map<string, KubeConfig>;
  service: ServiceSpec;
  /** The namespace of the clients (and of the service): the demo's, or verify's own probes'. */
  namespace: string;
  /** The clusters that have the clients (all with the demo; with own probes, where they were deployed). */
  clientClusters: ReadonlySet<string>;
  /** What a check changed and has not put back yet (a service scaled to zero): key → how to put it back by hand. */
  changed: Map<string, string>;
  from: ClusterSpec;
  requests: number;
  /** Deadline of one request to a cluster (a Prometheus query included). */
  timeoutMs: number;
}

interface Outcome {
  ok: boolean;
  figures: Record<string, number | string>;
  detail?: string;
  /** Per other cluster: what was proved from this one to it. */
  pairs?: { to: string; ok: boolean; figures: Record<string, number | string>; detail: string }[];
}

/** A verify check as written below; made a Check of the runner (src/checks) by `asCheck`. */
interface VerifyCheck {
  id: string;
  description: string;
  category: Category;
  /** What to look at when it fails. */
  hint: string;
  /** The check changes the cluster (and puts it back): it runs after every check that does not. */
  disruptive: boolean;
  /** `cluster`: run from every verified cluster in turn (ctx.from); `mesh`: once. */
  scope: 'cluster' | 'mesh';
  /** It reads what the other checks did: run after all of them. */
  last?: boolean;
  applies: (ctx: Context) => boolean;
  /** For a check run from every cluster: why it does not apply from ctx.from (skipped there). */
  skipFrom?: (ctx: Context) => string | undefined;
  /** `signal` aborts when the run is interrupted or past its deadline: stop waiting, put back what was changed. */
  run: (ctx: Context, signal: AbortSignal) => Promise<Outcome>;
}

/**
 * A verify check as the runner's. One run from every cluster proves what it proves from that cluster to
 * each other one: each ordered pair is a finding with its peer and figures (info when proved, an error
 * when not); what it throws is classified as any cluster failure (a timeout makes it unreachable).
 */
function asCheck(check: VerifyCheck): Check<Context> {
  return {
    id: check.id,
    category: check.category,
    title: check.description,
    severity: 'error',
    disruptive: check.disruptive,
    scope: check.scope,
    ...(check.last ? { last: true } : {}),
    hint: check.hint,
    docs: '#what-verify-checks',
    applies: check.applies,
    run: async (ctx, cluster, signal) => {
      const here = cluster === undefined ? ctx : { ...ctx, from: ctx.clusters.find((c) => c.name === cluster)! };
      const skip = cluster !== undefined && !ctx.clientClusters.has(cluster) ? `no client of verify's in ${cluster} (its probes were not deployed there)` : check.skipFrom?.(here);
      if (skip) return { skipped: skip, findings: [] };
      let outcome: Outcome;
      try {
        outcome = await check.run(here, signal);
      } catch (error) {
        throw clusterError(here.from.name, error, ctx.timeoutMs / 1000, check.id);
      }
      const pairs = (outcome.pairs ?? []).map((p) => ({ cluster: here.from.name, peer: p.to, figures: p.figures, message: p.detail, ...(p.ok ? { severity: 'info' as const } : {}) }));
      const finding = { cluster: here.from.name, message: outcome.detail ?? (outcome.ok ? 'passed' : `${check.id} failed`) };
      // A failure that no pair explains is a finding of its own.
      const unexplained = !outcome.ok && !outcome.pairs?.some((p) => !p.ok);
      return { figures: outcome.figures, findings: pairs.length && !unexplained ? pairs : [...pairs, outcome.ok ? { ...finding, severity: 'info' as const } : finding] };
    },
  };
}

/** `attempt` until it succeeds, `times` in all, waiting 1, 2, 4 … s between tries; the last error is thrown. */
async function retried<T>(attempt: () => Promise<T>, times: number): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (i >= times) throw error;
      await new Promise((r) => setTimeout(r, 1000 * 2 ** (i - 1)));
    }
  }
}

const regionOf = (body: string) => /^region=(\S+)/.exec(body)?.[1];

/** The other verified clusters that serve the service: the far ends of the checks between two clusters. */
const remotes = (ctx: Context) => ctx.clusters.filter((c) => c.name !== ctx.from.name && ctx.service.clusters.includes(c.name));

const checks: VerifyCheck[] = [
  {
    id: 'cross-cluster-via-gateway',
    description: 'from every cluster, <svc>.<cluster>.mesh.local of every other one answers from that cluster, through its east-west gateway',
    category: 'routing',
    hint: "the remote name must route to that cluster's east-west gateway on 15443 (ServiceEntry + DestinationRule with ISTIO_MUTUAL and the outbound_ SNI): eastwest diff, then the gateway's Service address",
    disruptive: false,
    scope: 'cluster',
    applies: (ctx) => ctx.spec.federation.mode === 'service-entry' && ctx.service.clusters.filter((c) => ctx.clusters.some((x) => x.name === c)).length > 1,
    skipFrom: (ctx) => (remotes(ctx).length === 0 ? `no other verified cluster serves ${ctx.service.name}` : undefined),
    run: async (ctx, signal) => {
      const figures: Record<string, number | string> = {};
      let ok = true;
      const details: string[] = [];
      const pairs: NonNullable<Outcome['pairs']> = [];
      for (const remote of remotes(ctx)) {
        if (signal.aborted) break;
        // A remote cluster whose API cannot be reached still answers through its data plane; only its
        // gateway's counters cannot be read then.
        const remoteConfig = ctx.configs.get(remote.name);
        const gateway = remoteConfig ? await eastWestGatewayPod(remoteConfig) : undefined;
        const sniCluster = istioSni(ctx.service, ctx.service.ports[0]!.number);
        const noCounters = { cxTotal: 0, cxActive: 0, rqTotal: 0, hosts: [] as string[] };
        const before = remoteConfig && gateway ? await envoyClusterCounters(remoteConfig, 'istio-system', gateway, sniCluster) : noCounters;
        const fromConfig = ctx.configs.get(ctx.from.name)!;
        const clientPod = await readyPod(fromConfig, ctx.namespace, 'app=client');
        const hostCluster = `outbound|${ctx.service.ports[0]!.number}||${remoteHost(ctx.spec, ctx.service, remote.name)}`;
        const clientBefore = await envoyClusterCounters(fromConfig, ctx.namespace, clientPod, hostCluster);
        const url = `http://${remoteHost(ctx.spec, ctx.service, remote.name)}/`;
        // Configuration reaches proxies a moment after apply (xDS, DNS name table): wait for a first answer.
        const waitStarted = Date.now();
        let first = '';
        while (Date.now() - waitStarted < 90_000 && !signal.aborted) {
          first = (await curlFromClient(fromConfig, 'client', url, 1, 3, ctx.namespace)).bodies[0] ?? '';
          if (regionOf(first) === remote.region) break;
          await new Promise((r) => setTimeout(r, 1000));
        }
        figures[`${remote.name}.firstAnswerAfterSeconds`] = Math.round((Date.now() - waitStarted) / 100) / 10;
        const { bodies, exitCodes } = await curlFromClient(fromConfig, 'client', url, 5, 5, ctx.namespace);
        const after = remoteConfig && gateway ? await envoyClusterCounters(remoteConfig, 'istio-system', gateway, sniCluster) : noCounters;
        const clientAfter = await envoyClusterCounters(fromConfig, ctx.namespace, clientPod, hostCluster);
        const answered = bodies.filter((b) => regionOf(b) === remote.region).length;
        figures[`${remote.name}.answered`] = `${answered}/${bodies.length}`;
        figures[`${remote.name}.clientRequestsToGateway`] = clientAfter.rqTotal - clientBefore.rqTotal;
        figures[`${remote.name}.gatewayEndpoints`] = clientAfter.hosts.join(',');
        if (remoteConfig) {
          figures[`${remote.name}.gatewaySniConnections`] = after.cxTotal;
          figures[`${remote.name}.gatewaySniConnectionsNew`] = after.cxTotal - before.cxTotal;
          figures[`${remote.name}.gatewaySniActive`] = after.cxActive;
        } else figures[`${remote.name}.gatewayCounters`] = 'unavailable (cluster unreachable)';
        const crossed = clientAfter.rqTotal - clientBefore.rqTotal >= answered && clientAfter.hosts.every((h) => h.endsWith(':15443')) && (!remoteConfig || after.cxTotal > 0);
        const pairFigures = Object.fromEntries(Object.entries(figures).filter(([k]) => k.startsWith(`${remote.name}.`)).map(([k, v]) => [k.slice(remote.name.length + 1), v]));
        if (answered !== bodies.length || !crossed) {
          ok = false;
          const detail = `${url}: ${bodies.map((b, i) => b || `<failed: curl exit ${exitCodes[i]}${exitCodes[i] === 6 ? ', name not resolved: is DNS capture on in this pod?' : ''}>`).join(' | ')}; via gateway: ${crossed}`;
          details.push(detail);
          pairs.push({ to: remote.name, ok: false, figures: pairFigures, detail: `${ctx.from.name} → ${remote.name}: ${detail}` });
        } else {
          details.push(`${url} → ${bodies[0]}`);
          pairs.push({ to: remote.name, ok: true, figures: pairFigures, detail: `${ctx.from.name} → ${remote.name}: ${url} → ${bodies[0]}` });
        }
      }
      return { ok, figures, detail: details.join('; '), pairs };
    },
  },
  {
    id: 'endpoint-discovery',
    description: 'every cluster\'s client knows the other clusters\' endpoints of <svc>, as their east-west gateway on 15443 with their region',
    category: 'routing',
    hint: "each istiod needs a remote secret of every other cluster and the gateways their network label: eastwest diff; istiod's logs name a remote secret it cannot use",
    disruptive: false,
    scope: 'cluster',
    applies: (ctx) => ctx.spec.federation.mode === 'endpoint-discovery' && ctx.service.clusters.filter((c) => ctx.clusters.some((x) => x.name === c)).length > 1,
    skipFrom: (ctx) => (remotes(ctx).length === 0 ? `no other verified cluster serves ${ctx.service.name}` : undefined),
    run: async (ctx) => {
      const config = ctx.configs.get(ctx.from.name)!;
      const pod = await readyPod(config, ctx.namespace, 'app=client');
      const endpoints = await envoyClusterEndpoints(config, ctx.namespace, pod, `outbound|${ctx.service.ports[0]!.number}||${clusterLocalHost(ctx.service)}`);
      const viaGateway = endpoints.filter((e) => e.address.endsWith(':15443'));
      const local = endpoints.filter((e) => e.region === ctx.from.region);
      const pairs = remotes(ctx).map((remote) => {
        const seen = viaGateway.filter((e) => e.region === remote.region);
        const ok = seen.length > 0 && seen.every((e) => e.priority > 0);
        return { to: remote.name, ok, figures: { viaGateway: seen.map((e) => `${e.address}(p${e.priority})`).join(' ') || 'none' }, detail: `${ctx.from.name} → ${remote.name}: ${ok ? `${remote.name}'s gateway ${seen.map((e) => e.address).join(', ')} at lower priority` : seen.length ? `${remote.name}'s gateway at priority 0 (not preferred less than local)` : `no endpoint of ${remote.name} (its gateway on 15443)`}` };
      });
      return {
        ok: pairs.every((p) => p.ok) && local.every((e) => e.priority === 0),
        figures: { localEndpoints: local.length, remoteViaGateway: viaGateway.map((e) => `${e.address}(${e.region},p${e.priority})`).join(' ') || 'none' },
        pairs,
      };
    },
  },
  {
    id: 'local-preference',
    description: 'in every cluster, N requests to <svc>.<ns>.svc.cluster.local are answered in its own region',
    category: 'routing',
    hint: "locality load balancing needs outlier detection in the DestinationRule and the nodes' topology labels (region/zone)",
    disruptive: false,
    scope: 'cluster',
    applies: (ctx) => ctx.clusters.some((c) => ctx.service.clusters.includes(c.name)),
    skipFrom: (ctx) => (ctx.service.clusters.includes(ctx.from.name) ? undefined : `the spec does not run ${ctx.service.name} in ${ctx.from.name}`),
    run: async (ctx) => {
      const { bodies, latenciesMs } = await curlFromClient(ctx.configs.get(ctx.from.name)!, 'client', `http://${clusterLocalHost(ctx.service)}/`, ctx.requests, 5, ctx.namespace);
      const local = bodies.filter((b) => regionOf(b) === ctx.from.region).length;
      const failed = bodies.filter((b) => b === '').length;
      const share = Math.round((local / Math.max(bodies.length, 1)) * 10_000) / 100;
      const sorted = latenciesMs.filter((l) => !Number.isNaN(l)).sort((a, b) => a - b);
      return {
        ok: local === ctx.requests,
        figures: { requests: bodies.length, localShare: share, failed, p50ms: Math.round((sorted[Math.floor(sorted.length / 2)] ?? NaN) * 10) / 10 },
        detail: `${local}/${bodies.length} answered in ${ctx.from.region}`,
      };
    },
  },
  {
    id: 'observability',
    description: 'every istiod, sidecar and east-west gateway scraped (up == 1); the cross-cluster path in the numbers; every cluster\'s series in every Prometheus',
    category: 'observability',
    hint: 'Prometheus must scrape istiod, the sidecars and the gateways, and federate the other clusters: eastwest traffic shows what each Prometheus answers',
    disruptive: false,
    scope: 'mesh',
    // The cross-cluster path shows in the numbers once requests crossed: in endpoint-discovery mode only
    // failover sends any (the shared name stays local otherwise), so this runs after every other check.
    last: true,
    applies: (ctx) => ctx.spec.observability.prometheus,
    run: (ctx) => observabilityCheck({ ...ctx.spec, clusters: ctx.clusters }, ctx.configs, ctx.service, ctx.from.name, ctx.timeoutMs),
  },
  {
    id: 'sync-controller',
    description: 'in every cluster, one running replica of the in-cluster sync controller holds its Lease and renews it',
    category: 'sync',
    hint: "the in-cluster sync controller's Deployment and Lease in eastwest-system: kubectl -n eastwest-system logs deploy/eastwest-sync",
    disruptive: false,
    scope: 'mesh',
    applies: (ctx) => ctx.spec.sync.inCluster,
    run: async (ctx) => {
      const figures: Record<string, number | string> = {};
      const problems: string[] = [];
      for (const cluster of ctx.clusters) {
        const config = ctx.configs.get(cluster.name);
        if (!config) {
          figures[`${cluster.name}.holder`] = 'skipped (cluster unreachable)';
          problems.push(`${cluster.name} unreachable`);
          continue;
        }
        const read = async () => {
          const lease = await config.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: SYNC_LEASE, namespace: SYNC_NAMESPACE }).catch(() => undefined);
          const pods = await config.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: SYNC_NAMESPACE, labelSelector: `app.kubernetes.io/name=${SYNC_CONTROLLER}` });
          return { lease, running: pods.items.filter((p) => p.status?.phase === 'Running').map((p) => p.metadata?.name) };
        };
        // A replica takes a free lease within its retry period (2 s); a few seconds are allowed for that.
        let seen = await read();
        for (let i = 0; i < 10 && !seen.running.includes(seen.lease?.spec?.holderIdentity); i++) {
          await new Promise((r) => setTimeout(r, 1000));
          seen = await read();
        }
        const { lease, running } = seen;
        const holder = lease?.spec?.holderIdentity;
        const renewed = lease?.spec?.renewTime ? (Date.now() - new Date(lease.spec.renewTime as unknown as string).getTime()) / 1000 : undefined;
        figures[`${cluster.name}.holder`] = holder ?? 'none';
        figures[`${cluster.name}.renewedSecondsAgo`] = renewed === undefined ? 'never' : Math.round(renewed * 10) / 10;
        figures[`${cluster.name}.runningReplicas`] = running.length;
        if (!holder || !running.includes(holder)) problems.push(`${cluster.name}: no running replica holds the lease`);
        else if (renewed === undefined || renewed > (lease?.spec?.leaseDurationSeconds ?? 15)) problems.push(`${cluster.name}: the lease was not renewed in time`);
      }
      return { ok: problems.length === 0, figures, detail: problems.length ? problems.join('; ') : 'acting everywhere' };
    },
  },
  {
    id: 'strict-mtls',
    description: 'a plaintext request from a pod without a sidecar to <svc> is refused (STRICT mTLS)',
    category: 'policy',
    hint: 'a mesh-wide PeerAuthentication in istio-system with mtls.mode STRICT: eastwest diff',
    disruptive: false,
    scope: 'mesh',
    applies: (ctx) => ctx.spec.policy.mtls === 'STRICT' && ctx.service.clusters.includes(ctx.from.name),
    run: async (ctx) => {
      const results: Record<string, number | string> = {};
      let ok = true;
      for (const cluster of ctx.clusters.filter((c) => ctx.service.clusters.includes(c.name))) {
        const config = ctx.configs.get(cluster.name);
        if (!config) {
          results[`${cluster.name}.curlExit`] = 'skipped (cluster unreachable)';
          continue;
        }
        const { bodies, exitCodes } = await curlFromClient(config, 'client-plaintext', `http://${clusterLocalHost(ctx.service)}/`, 1, 5, ctx.namespace);
        results[`${cluster.name}.curlExit`] = exitCodes[0] ?? -1;
        if (bodies[0]) ok = false;
      }
      return { ok, figures: results, detail: ok ? 'refused everywhere' : 'a plaintext request was answered' };
    },
  },
  {
    id: 'failover',
    description: 'in every cluster in turn, with its <svc> scaled to zero, requests are answered by another region; then restored',
    category: 'routing',
    hint: "failover needs outlier detection and the other region's endpoints (a WorkloadEntry of its gateway, or endpoint discovery): eastwest diff",
    disruptive: true,
    scope: 'cluster',
    applies: (ctx) => ctx.service.clusters.filter((c) => ctx.clusters.some((x) => x.name === c)).length > 1,
    skipFrom: (ctx) => (!ctx.service.clusters.includes(ctx.from.name) ? `the spec does not run ${ctx.service.name} in ${ctx.from.name}` : remotes(ctx).length === 0 ? `no other verified cluster serves ${ctx.service.name}` : undefined),
    run: async (ctx, signal) => {
      const config = ctx.configs.get(ctx.from.name)!;
      const key = `${ctx.from.name}/${ctx.service.namespace}/${ctx.service.name}`;
      const before = await scaleDeployment(config, ctx.service.namespace, ctx.service.name, 0);
      ctx.changed.set(key, `${ctx.service.namespace}/${ctx.service.name} in ${ctx.from.name} at 0 replicas: kubectl -n ${ctx.service.namespace} scale deployment/${ctx.service.name} --replicas ${before}`);
      const started = Date.now();
      let answeredBy: string | undefined;
      // Measured when the other region answers (not after the restore that follows).
      let answeredAfter: number | undefined;
      try {
        // Interrupted (Ctrl-C) or past the run's deadline: stop waiting and restore at once.
        while (Date.now() - started < 120_000 && !signal.aborted) {
          const { bodies } = await curlFromClient(config, 'client', `http://${clusterLocalHost(ctx.service)}/`, 1, 3, ctx.namespace);
          const region = regionOf(bodies[0] ?? '');
          if (region && region !== ctx.from.region) {
            answeredBy = region;
            answeredAfter = Math.round((Date.now() - started) / 100) / 10;
            break;
          }
          await new Promise((r) => setTimeout(r, 250));
        }
      } finally {
        // Put back, tried again on a transient error (a failed scale-back leaves the service down here).
        await retried(() => scaleDeployment(config, ctx.service.namespace, ctx.service.name, before), 5);
        ctx.changed.delete(key);
        await waitDeploymentReady(config, ctx.service.namespace, ctx.service.name, 180);
      }
      const restoredAfter = Math.round((Date.now() - started) / 100) / 10;
      const to = remotes(ctx).find((c) => c.region === answeredBy);
      return {
        ok: answeredBy !== undefined,
        ...(to ? { pairs: [{ to: to.name, ok: true, figures: { failoverSeconds: answeredAfter! }, detail: `${ctx.from.name} → ${to.name}: with ${ctx.from.name}'s ${ctx.service.name} at zero, ${to.name} answered after ${answeredAfter} s` }] } : {}),
        figures: { failoverSeconds: answeredAfter ?? 'never', answeredBy: answeredBy ?? 'none', restoredReplicas: before, restoredAfterSeconds: restoredAfter },
        detail: answeredBy ? `with ${ctx.from.name}'s ${ctx.service.name} at zero, ${answeredBy} answered after ${answeredAfter} s; ${before} replica(s) restored` : `with ${ctx.from.name}'s ${ctx.service.name} at zero, no other region answered within 120 s`,
      };
    },
  },
];

/** The ids of verify's checks (what a component names among its checks). */
export const VERIFY_CHECK_IDS: readonly string[] = checks.map((c) => c.id);

/** What verify proved the mesh with: the demo workload, or its own short-lived probes. */
export interface VerifyWorkload {
  mode: 'demo' | 'own';
  namespace: string;
  service: string;
  /** Own probes: how long deploying them took per cluster, and what failed there. */
  setup?: ProbeSetup[];
  /** Own probes: their removal per cluster (the namespace gone, or why not). */
  removal?: ProbeRemoval[];
}

export interface VerifyResult {
  ok: boolean;
  /** The clusters verified (--clusters, or all of the spec's). */
  selected: string[];
  clusters: ClusterOutcome<{ kubernetesVersion: string }>[];
  workload?: VerifyWorkload;
  /** Interrupted (Ctrl-C) before every check ran: what ran is reported, what was changed put back. */
  interrupted?: boolean;
  /** What verify changed and could not put back (a service still scaled down, a probe namespace left), with how to do it by hand. */
  leftChanged?: string[];
  checks: VerifyCheckResult[];
  /** Every ordered pair of clusters a check proved something between (from → to), with its figures. */
  pairs: VerifyPair[];
  seconds: number;
}

/** How long after the first cluster answered the checks wait for the others. */
const LATE_AFTER_MS = 3000;

/** `auto`: the demo workload when the spec has it (demo on, echo exported), else verify's own probes. */
export type ProbeMode = 'auto' | 'demo' | 'own';
export const PROBE_MODES: readonly ProbeMode[] = ['auto', 'demo', 'own'];

export interface VerifyOptions extends EngineOptions {
  requests?: number;
  probes?: ProbeMode;
  /** Interrupts verify (Ctrl-C): no further check starts; what checks changed is put back and the probes removed. */
  signal?: AbortSignal;
}

/** The demo's service verify proves the mesh with, when the spec has the demo on and exports echo. */
export function demoService(spec: MeshSpec): ServiceSpec | undefined {
  if (!spec.demo.enabled) return undefined;
  return spec.services.find((s) => s.name === 'echo' && s.namespace === DEMO_NAMESPACE);
}

/** A result of verify's own steps (deploying and removing its probes) in the shape of a check's. */
function stepResult(id: string, description: string, seconds: number, problems: { cluster: string; message: string; hint?: string }[], figures: Record<string, number | string>, hint: string): VerifyCheckResult {
  const findings: Finding[] = problems.map((p) => ({ check: id, severity: 'error', cluster: p.cluster, message: p.message, hint: p.hint ?? hint }));
  return { id, description, category: 'routing', status: findings.length ? 'failed' : 'passed', ok: findings.length === 0, figures, ...(findings.length ? { detail: problems.map((p) => `${p.cluster}: ${p.message}`).join('; ') } : {}), findings, seconds };
}

export async function verifyMesh(options: VerifyOptions, reporter: Reporter): Promise<VerifyResult> {
  const started = Date.now();
  // The checks begin once every cluster answered, or 3 s after the first one did: a cluster that does not
  // answer (its request deadline running on meanwhile) does not hold up what can be proved without it.
  const engine = await openEngine({ ...options, access: 'probe', command: 'verify', lateAfterMs: LATE_AFTER_MS });
  const { spec } = engine;
  /** Every cluster's outcome, once all settled: one that answered after the checks began was not verified. */
  const outcomes = async () => (await engine.allConnections).map((o) => {
    if (!o.ok || engine.connected.has(o.cluster)) return connectionView(o);
    return { cluster: o.cluster, ok: false as const, step: 'connect', error: `answered more than ${LATE_AFTER_MS / 1000} s after the first cluster, after the checks had begun: not verified`, hint: 'run verify again; a link this slow may need a higher --request-timeout', unreachable: true };
  });
  let clusters = engine.connections.map(connectionView);
  const selected = engine.selected.map((c) => c.name);
  const configs = new Map([...engine.connected].map(([name, c]) => [name, c.client.config]));
  const elapsed = () => Math.round((Date.now() - started) / 100) / 10;
  const mode = options.probes ?? 'auto';
  const demo = demoService(spec);
  if (mode === 'demo' && !demo) {
    const message = 'verify --probes demo needs the demo workload: set demo.enabled: true and export echo in namespace echo (or run verify without --probes demo: it deploys its own probes)';
    clusters = await outcomes();
    return { ok: false, selected, clusters, pairs: [], checks: [{ id: 'demo-workload', description: 'verify needs the demo workload', category: 'routing', status: 'failed', ok: false, figures: {}, detail: message, findings: [{ check: 'demo-workload', severity: 'error', message }], seconds: 0 }], seconds: elapsed() };
  }
  const own = mode === 'own' || !demo;
  let service = own ? probeService(selected) : demo!;
  const workload: VerifyWorkload = { mode: own ? 'own' : 'demo', namespace: service.namespace, service: service.name };
  // Checks run from the first reachable verified cluster; those of unreachable clusters are reported, not hidden.
  // Only the verified clusters are connected to (openEngine without peers), so no check reaches past them.
  const from = engine.selected.find((c) => configs.has(c.name));
  if (!from) return { ok: false, selected, clusters: await outcomes(), workload, checks: [], pairs: [], seconds: elapsed() };
  const steps: VerifyCheckResult[] = [];
  const clients = new Map([...engine.connected].map(([name, c]) => [name, c.client]));
  const description = new Map(checks.map((c) => [c.id, c.description]));
  const runStarted = new Date();
  const changed = new Map<string, string>();
  let ran: CheckResult[] = [];
  // Everything that may leave something behind is inside the try: the probes are removed whatever happens.
  try {
    if (own && !options.signal?.aborted) {
      reporter.report({ level: 'info', code: 'verify', message: `• deploying verify's probes (namespace ${PROBE_NAMESPACE}) in ${[...clients.keys()].join(', ')} …` });
      const stepStarted = Date.now();
      const addresses = new Map((await knownGatewayAddresses(spec, engine.connected)).flatMap((g) => (g.address ? [[g.cluster, g.address] as const] : [])));
      workload.setup = await deployProbes(spec, clients, engine.selected, addresses, { started: runStarted, ...(options.signal ? { signal: options.signal } : {}) });
      const problems = workload.setup.flatMap((s) => [
        ...(s.ok ? [] : [{ cluster: s.cluster, message: `probes not deployed: ${s.error}`, ...(s.hint ? { hint: s.hint } : {}) }]),
        ...(s.pendingGateways.length ? [{ cluster: s.cluster, message: `no address known for the east-west gateway of ${s.pendingGateways.join(', ')}: the probe's routes there are pending` }] : []),
      ]);
      steps.push(stepResult('probe-workload', `verify's own probes (namespace ${PROBE_NAMESPACE}: a server and clients per cluster, routed as a spec service)`, Math.round((Date.now() - stepStarted) / 100) / 10, problems,
        Object.fromEntries(workload.setup.flatMap((s) => [[`${s.cluster}.setupSeconds`, s.seconds], ...(s.leftoverRemoved ? [[`${s.cluster}.leftoverRemoved`, 'yes']] : [])])), `kubectl -n ${PROBE_NAMESPACE} get pods,events tells why; the east-west gateway needs an address (eastwest status)`));
      // The probe is served only where it was deployed: pairs with a cluster without probes are not tried.
      service = probeService(workload.setup.filter((x) => x.ok).map((x) => x.cluster));
    }
    const clientClusters = new Set(own ? (workload.setup ?? []).filter((x) => x.ok).map((x) => x.cluster) : selected);
    const ctx: Context = { spec, clusters: engine.selected, configs, service, namespace: service.namespace, clientClusters, changed, from, requests: options.requests ?? 200, timeoutMs: engine.requestTimeoutSeconds * 1000 };
    ran = await runChecks(checks.map(asCheck), {
      ctx,
      clusters: engine.selected.map((c) => ({ name: c.name, reachable: configs.has(c.name) })),
      // One check's own waits stay within this: a first answer (90 s) per remote cluster, a failover (120 s) and its restore (180 s).
      deadlineSeconds: 360 + 120 * Math.max(0, engine.selected.length - 1),
      // A check past it failed (its cluster answered: it is the check that did not finish).
      deadlineIsUnreachable: false,
      // One at a time, as a user would run them: a check's requests never count in another's figures.
      concurrency: 1,
      unreachable: (error) => (error as { unreachable?: unknown }).unreachable === true,
      onStart: (check) => reporter.report({ level: 'info', code: 'verify', message: `• ${check.id} …` }),
      onResult: (r) => reporter.report({ level: 'info', code: 'verify', message: `${r.status === 'passed' ? '✓' : '×'} ${r.id} (${r.seconds} s)` }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } finally {
    if (own) {
      reporter.report({ level: 'info', code: 'verify', message: `• removing verify's probes …` });
      const stepStarted = Date.now();
      workload.removal = await removeProbes(spec, clients, runStarted);
      steps.push(stepResult('probe-cleanup', `verify's probes removed (namespace ${PROBE_NAMESPACE} gone from every cluster)`, Math.round((Date.now() - stepStarted) / 100) / 10,
        workload.removal.filter((r) => !r.gone).map((r) => ({ cluster: r.cluster, message: r.error ?? `namespace ${PROBE_NAMESPACE} left behind` })),
        Object.fromEntries(workload.removal.map((r) => [`${r.cluster}.removedSeconds`, r.seconds])), `kubectl delete namespace ${PROBE_NAMESPACE} (only verify's objects live there)`));
    }
  }
  const results: VerifyCheckResult[] = ran.map((r) => ({
    id: r.id,
    ...(r.cluster !== undefined ? { cluster: r.cluster } : {}),
    ...(r.findings.some((f) => f.peer) ? { pairs: r.findings.filter((f) => f.peer && f.cluster).map((f) => ({ check: r.id, from: f.cluster!, to: f.peer!, ok: f.severity === 'info', figures: f.figures ?? {}, detail: f.message })) } : {}),
    description: description.get(r.id) ?? r.id,
    category: r.category,
    status: r.status,
    ok: r.status === 'passed' || r.status === 'skipped',
    figures: r.figures ?? {},
    ...(r.findings.length ? { detail: r.findings.map((f) => `${f.message}${f.severity !== 'info' && f.hint ? ` (hint: ${f.hint})` : ''}`).join('; ') } : {}),
    findings: r.findings,
    ...(r.status === 'unreachable' ? { unreachable: true } : {}),
    seconds: r.seconds,
  }));
  const all = [...steps.filter((s) => s.id === 'probe-workload'), ...results, ...steps.filter((s) => s.id === 'probe-cleanup')];
  clusters = await outcomes();
  const pairs = results.flatMap((r) => r.pairs ?? []);
  const interrupted = options.signal?.aborted === true;
  const leftChanged = [...changed.values(), ...(workload.removal ?? []).filter((r) => !r.gone).map((r) => `namespace ${PROBE_NAMESPACE} in ${r.cluster}: kubectl delete namespace ${PROBE_NAMESPACE}`)];
  return { ok: !interrupted && leftChanged.length === 0 && all.every((r) => r.ok) && clusters.every((c) => c.ok), selected, clusters, workload, ...(interrupted ? { interrupted } : {}), ...(leftChanged.length ? { leftChanged } : {}), checks: all, pairs, seconds: elapsed() };
}
