// A 3-cluster lab (us, eu, ap). First, a cluster joins and leaves a live mesh under load: us and eu serve the
// demo while fortio sends us→eu, eu→us and local requests; ap is added to the spec and applied (it then
// serves and is served through the gateways), then removed and applied; the two that stay lose no request and
// keep no object naming ap. Then the demo, observability and the sync controller off: doctor finds nothing
// there (no false alarm without them), and verify's own probes prove every ordered pair of clusters (6)
// through the east-west gateways and failover from each cluster, and leave no namespace behind.
// It runs after every other e2e file (vitest.config.ts orders it last), so the tier's teardown takes this lab
// down; run alone, it leaves the 3-cluster lab up (`eastwest lab up` brings back the 2-cluster one).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../src/k8s/client.ts';
import { LAB_KUBECONFIG } from '../../src/lab/lab-state.ts';
import { pollUntil, sleep } from '../../src/util/poll.ts';
import { envoyClusterEndpoints, readyPod } from '../../src/verify/mesh-probes.ts';
import { kubectl } from '../integration/lab-helpers.ts';
import { root, runCli } from './cli-run.ts';
import { deployLoadGenerators, describeResults, LOAD_NAMESPACE, type LoadGenerators, type LoadStream, type StreamResult } from './load-generator.ts';

const CLUSTERS = ['us', 'eu', 'ap'];
const log = (s: string) => process.stderr.write(`[e2e] ${s}\n`);
// Every spec of this file lives in one directory, so they share one CA (one root of trust).
const specDir = mkdtempSync(join(tmpdir(), 'eastwest-three-'));
type FederationMode = 'service-entry' | 'endpoint-discovery';
const AP = { name: 'ap', context: 'lab-ap', network: 'ap-net', region: 'ap', zone: 'ap-a' };

interface LabDoc { spec: { clusters: unknown[]; federation: { mode: string }; services: { clusters: string[] }[]; demo: { enabled: boolean }; policy: { authorization: unknown[] }; observability: Record<string, unknown>; sync: Record<string, unknown> } }

function labDoc(): LabDoc {
  return parse(readFileSync(join(root, 'examples/lab.yaml'), 'utf8')) as LabDoc;
}

function writeSpec(name: string, doc: LabDoc): string {
  const file = join(specDir, name);
  writeFileSync(file, stringify(doc));
  return file;
}

/** examples/lab.yaml (the demo on) without observability and the sync controller, with ap or without it. */
function demoSpec(withAp: boolean, mode: FederationMode): string {
  const doc = labDoc();
  doc.spec.federation.mode = mode;
  if (withAp) {
    doc.spec.clusters.push(AP);
    doc.spec.services[0]!.clusters.push('ap');
  }
  doc.spec.observability = { prometheus: false, kiali: false };
  doc.spec.sync = { inCluster: false };
  return writeSpec(`mesh-${mode}-${withAp ? 'us-eu-ap' : 'us-eu'}.yaml`, doc);
}

/**
 * examples/lab.yaml with a third cluster, the demo off and no service of its own (nothing for verify to
 * borrow), observability and the sync controller off.
 */
function threeClusterSpec(): string {
  const doc = labDoc();
  doc.spec.clusters.push(AP);
  doc.spec.demo.enabled = false;
  doc.spec.observability = { prometheus: false, kiali: false };
  doc.spec.sync = { inCluster: false };
  doc.spec.services = [];
  doc.spec.policy.authorization = [];
  return writeSpec('mesh-bare.yaml', doc);
}

beforeAll(async () => {
  const up = await runCli(['lab', 'up', '--clusters', CLUSTERS.join(',')], 900_000);
  log(`lab up (3 clusters): exit ${up.code} in ${up.seconds} s`);
  expect(up.code, up.stderr.slice(-2000)).toBe(0);
}, 960_000);

// Both federation modes: ServiceEntries to the peers' gateways, and Istio's endpoint discovery (remote secrets).
describe.each(['service-entry', 'endpoint-discovery'] as const)('a cluster joins and leaves a live mesh (%s): 0 failed requests between the two that stay', (mode) => {
  // Read when the tests run: lab-ap exists only once the top-level beforeAll brought up the 3-cluster lab.
  const configs = new Map<string, KubeConfig>();
  const config = (cluster: string): KubeConfig => {
    if (!configs.has(cluster)) configs.set(cluster, loadKubeConfig(`lab-${cluster}`, LAB_KUBECONFIG));
    return configs.get(cluster)!;
  };
  const twoClusters = demoSpec(false, mode);
  const threeClusters = demoSpec(true, mode);
  let load: LoadGenerators | undefined;
  let apLoad: LoadGenerators | undefined;
  // us and eu's streams: each cluster's own and, where the mode names each cluster's instance
  // (echo.<cluster>.mesh.local), both directions through the gateways.
  const local = (from: string): LoadStream => ({ name: `${from} local`, from, url: 'http://echo.echo.svc.cluster.local/' });
  const named = (from: string, to: string): LoadStream => ({ name: `${from}→${to}`, from, url: `http://echo.${to}.mesh.local/` });
  const perCluster = mode === 'service-entry';
  const stayingStreams: LoadStream[] = [local('us'), local('eu'), ...(perCluster ? [named('us', 'eu'), named('eu', 'us')] : [])];
  /** The regions of echo's endpoints in the view of us's load pod's proxy: ap's show once it joined. */
  const echoRegionsSeenFromUs = async () => {
    const pod = await readyPod(config('us'), LOAD_NAMESPACE, 'app=fortio');
    return new Set((await envoyClusterEndpoints(config('us'), LOAD_NAMESPACE, pod, 'outbound|80||echo.echo.svc.cluster.local')).map((e) => e.region));
  };

  beforeAll(async () => {
    const apply = await runCli(['apply', '-f', twoClusters, '--timeout', '900'], 1_200_000);
    log(`apply (us, eu; ${mode}): exit ${apply.code} in ${apply.seconds} s`);
    expect(apply.code, apply.stdout.slice(-3000)).toBe(0);
    load = await deployLoadGenerators(new Map([['us', config('us')], ['eu', config('eu')]]), { trustDomain: 'corp.local', servedNamespace: 'echo' });
    await load.waitServing(stayingStreams);
  }, 1_500_000);

  afterAll(async () => {
    await load?.remove();
    await apLoad?.remove();
  }, 300_000);

  /** What us and eu hold that names ap: routes, failover, gateways, remote secrets. */
  async function survivorsNamingAp(apGateway: string): Promise<string[]> {
    const found: string[] = [];
    for (const cluster of ['us', 'eu']) {
      const { stdout } = await kubectl(`lab-${cluster}`, ['get', 'serviceentries.networking.istio.io,destinationrules.networking.istio.io,workloadentries.networking.istio.io,gateways.networking.istio.io,virtualservices.networking.istio.io', '-A', '-o', 'json']);
      for (const item of (JSON.parse(stdout) as { items: { kind: string; metadata: { namespace: string; name: string } }[] }).items) {
        const text = JSON.stringify(item);
        if (/ap-net|\.ap\.mesh\.local|"(from|to)":"ap"/.test(text) || (apGateway && text.includes(`"${apGateway}"`))) found.push(`${cluster}: ${item.kind}/${item.metadata.namespace}/${item.metadata.name}`);
      }
      const secrets = await kubectl(`lab-${cluster}`, ['get', 'secrets', '-n', 'istio-system', '-o', 'name']);
      found.push(...secrets.stdout.split('\n').filter((s) => /remote-secret-ap$/.test(s)).map((s) => `${cluster}: ${s}`));
    }
    return found;
  }

  function expectNoFailures(results: StreamResult[], minimumPerStream: number): void {
    for (const r of results) {
      expect(r.sent, `${r.name}: requests sent`).toBeGreaterThanOrEqual(minimumPerStream);
      expect(r.failed, `${r.name}: ${describeResults([r])}`).toBe(0);
    }
  }

  it('ap added to the spec and applied, then removed and applied, while us and eu serve each other; ap serves and is served while it is in; the survivors keep nothing naming ap; doctor and diff clean', async () => {
    const running = await load!.start(stayingStreams, 20);
    await sleep(3000);

    // Join.
    const join = await runCli(['apply', '-f', threeClusters, '--timeout', '900', '-o', 'json'], 1_200_000);
    log(`join (${mode}): apply with ap: exit ${join.code} in ${join.seconds} s`);
    expect(join.code, join.stdout.slice(-3000) + join.stderr.slice(-2000)).toBe(0);
    // The newcomer serves and is served through the gateways, in every direction.
    apLoad = await deployLoadGenerators(new Map([['ap', config('ap')]]), { trustDomain: 'corp.local', servedNamespace: 'echo' });
    const toAp: LoadStream[] = perCluster ? [named('us', 'ap'), named('eu', 'ap')] : [];
    const fromAp: LoadStream[] = [local('ap'), ...(perCluster ? [named('ap', 'us'), named('ap', 'eu')] : [])];
    await load!.waitServing(toAp);
    await apLoad.waitServing(fromAp);
    // us's proxies hold ap's echo endpoints (through ap's gateway) for failover, in both modes.
    expect(await pollUntil(120, 1000, async () => ((await echoRegionsSeenFromUs()).has('ap') ? true : undefined))).toBe(true);
    const withAp = [await load!.start(toAp, 10), await apLoad.start(fromAp, 10)];
    await sleep(10_000);
    const apResults = [...(await withAp[0]!.stop()), ...(await withAp[1]!.stop())];
    log(`with ap (${mode}): ${describeResults(apResults)}`);
    expectNoFailures(apResults, 50);
    const apGateway = (await kubectl('lab-ap', ['get', 'service', '-n', 'istio-system', 'istio-eastwestgateway', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}'])).stdout.trim();
    expect(apGateway).not.toBe('');
    expect((await survivorsNamingAp(apGateway)).length).toBeGreaterThan(0);

    // Leave.
    const leave = await runCli(['apply', '-f', twoClusters, '--timeout', '900', '-o', 'json'], 1_200_000);
    log(`leave (${mode}): apply without ap: exit ${leave.code} in ${leave.seconds} s`);
    expect(leave.code, leave.stdout.slice(-3000) + leave.stderr.slice(-2000)).toBe(0);
    await sleep(5000);
    const results = await running.stop();
    log(`us and eu through the join and the leave (${mode}): ${describeResults(results)}`);
    expectNoFailures(results, 300);
    expect(await survivorsNamingAp(apGateway)).toEqual([]);
    expect(await pollUntil(60, 1000, async () => ((await echoRegionsSeenFromUs()).has('ap') ? undefined : true))).toBe(true);

    const doctor = await runCli(['doctor', '-f', twoClusters, '--wait', '60s', '-o', 'json']);
    expect(doctor.code, doctor.stdout.slice(0, 3000)).toBe(0);
    const diff = await runCli(['diff', '-f', twoClusters]);
    expect(diff.code, diff.stdout).toBe(0);
  }, 3_000_000);
});

describe('verify on three clusters, the demo off', () => {
  let spec = '';
  beforeAll(async () => {
    spec = threeClusterSpec();
    const apply = await runCli(['apply', '-f', spec, '--timeout', '900'], 1_200_000);
    log(`apply (3 clusters): exit ${apply.code} in ${apply.seconds} s`);
    expect(apply.code, apply.stdout.slice(-3000)).toBe(0);
  });

  it('doctor on the three clusters, without observability and sync: nothing found, exit 0', async () => {
    const run = await runCli(['doctor', '-f', spec, '--wait', '60s', '-o', 'json']);
    const out = JSON.parse(run.stdout || '{}') as { findings?: { check: string; severity: string; cluster?: string; message: string }[]; checks?: unknown[] };
    const alarms = (out.findings ?? []).filter((f) => f.severity !== 'info').map((f) => `${f.check} ${f.cluster}: ${f.message}`);
    log(`doctor (3 clusters, observability and sync off): exit ${run.code} in ${run.seconds} s, ${out.checks?.length ?? '?'} check runs ${alarms.join('; ')}`);
    expect(alarms).toEqual([]);
    expect(run.code).toBe(0);
  });

  it('its own probes prove all 6 ordered pairs and failover from every cluster, then are gone from every cluster', async () => {
    const run = await runCli(['verify', '-f', spec, '--requests', '20', '-o', 'json'], 1_200_000);
    const result = JSON.parse(run.stdout || '{}') as { workload?: { mode: string }; pairs?: { check: string; from: string; to: string; ok: boolean }[]; checks?: { id: string; cluster?: string; ok: boolean; seconds: number; detail?: string }[] };
    log(`verify (3 clusters, own probes): exit ${run.code} in ${run.seconds} s; ${(result.checks ?? []).map((c) => `${c.id}${c.cluster ? `@${c.cluster}` : ''} ${c.ok ? 'ok' : 'FAILED'} ${c.seconds} s`).join(', ')}`);
    expect(run.code, (result.checks ?? []).filter((c) => !c.ok).map((c) => `${c.id}: ${c.detail}`).join('\n')).toBe(0);
    expect(result.workload?.mode).toBe('own');
    const proved = (check: string) => (result.pairs ?? []).filter((p) => p.check === check && p.ok).map((p) => `${p.from}→${p.to}`).sort();
    expect(proved('cross-cluster-via-gateway')).toEqual(['ap→eu', 'ap→us', 'eu→ap', 'eu→us', 'us→ap', 'us→eu']);
    expect(new Set(proved('failover').map((p) => p.split('→')[0]))).toEqual(new Set(CLUSTERS));
    for (const cluster of CLUSTERS) {
      const left = await kubectl(`lab-${cluster}`, ['get', 'namespace', 'eastwest-verify', '--ignore-not-found', '-o', 'name']);
      expect(left.stdout.trim(), `${cluster}: namespace left behind`).toBe('');
    }
  });
});
