// Observability figures on the lab: what the lab's Prometheus and Kiali cost per cluster (memory of the
// whole pod, sidecar included, and CPU over a window: Prometheus's is its scrape and federation cost),
// the delay from a request to its appearance in `eastwest traffic`, and the cold build of both servers.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { loadKubeConfig } from '../src/k8s/client.ts';
import { goModuleDir } from '../src/sources/upstream-sources.ts';
import { LAB_KUBECONFIG } from '../src/lab/lab-state.ts';
import { readLabVersions } from '../src/sources/lab-versions.ts';
import { instantQuery, prometheusTarget } from '../src/observability/prometheus-query.ts';
import { trafficOf } from '../src/observability/traffic-mesh.ts';
import { loadMeshSpec } from '../src/spec/load-file.ts';
import { curlFromClient } from '../src/verify/mesh-probes.ts';
import { CLOCK_TICKS, cpuTicks, rssBytes } from './lab-bench.ts';

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Host PIDs of a pod's processes: those whose environment says HOSTNAME=<pod> (the pod's containers). */
function podPids(pod: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`HOSTNAME=${pod}`)) pids.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}
export async function observabilityBenchmark(specFile = 'examples/lab.yaml', windowSeconds = 60, trials = 10): Promise<Record<string, number | string>> {
  const spec = (await loadMeshSpec(specFile)).document.spec;
  const out: Record<string, number | string> = {};
  // 1. Per cluster: the Prometheus and Kiali pods (server + sidecar), memory and CPU over the window.
  const pods = new Map<string, number[]>();
  for (const cluster of spec.clusters) {
    const core = loadKubeConfig(cluster.context, LAB_KUBECONFIG).makeApiClient(CoreV1Api);
    for (const [app, selector] of [['prometheus', 'app.kubernetes.io/name=prometheus'], ['kiali', 'app.kubernetes.io/name=kiali']] as const) {
      const pod = (await core.listNamespacedPod({ namespace: 'istio-system', labelSelector: selector })).items.find((p) => p.status?.phase === 'Running')?.metadata?.name;
      if (pod) pods.set(`${cluster.name}.${app}`, podPids(pod));
    }
  }
  const before = new Map([...pods].map(([k, pids]) => [k, pids.reduce((t, p) => t + cpuTicks(p), 0)]));
  await new Promise((r) => setTimeout(r, windowSeconds * 1000));
  for (const [key, pids] of pods) {
    out[`${key}.processes`] = pids.length;
    out[`${key}.rssMiB`] = round(pids.reduce((t, p) => t + rssBytes(p), 0) / 1048576, 0);
    out[`${key}.cpuCores`] = round((pids.reduce((t, p) => t + cpuTicks(p), 0) - before.get(key)!) / CLOCK_TICKS / windowSeconds, 3);
  }
  // Prometheus's own view: series held, samples scraped per second.
  for (const cluster of spec.clusters) {
    const target = await prometheusTarget(loadKubeConfig(cluster.context, LAB_KUBECONFIG), spec, 10_000);
    const one = async (q: string) => (await instantQuery(target, q))[0]?.value ?? 0;
    out[`${cluster.name}.prometheus.headSeries`] = await one('prometheus_tsdb_head_series');
    out[`${cluster.name}.prometheus.samplesPerSecond`] = round(await one('sum(rate(prometheus_tsdb_head_samples_appended_total[1m]))'), 0);
    out[`${cluster.name}.prometheus.targets`] = await one('count(up)');
  }
  // 2. Request → `eastwest traffic`: a burst of 10 requests us→eu, then read until it shows.
  const delays: number[] = [];
  const us = loadKubeConfig('lab-us', LAB_KUBECONFIG);
  const usToEu = async () => (await trafficOf(spec, { windowSeconds: 60 })).flows.find((f) => f.from === 'us' && f.to === 'eu')?.requests ?? 0;
  for (let i = 0; i < trials; i++) {
    const start = await usToEu();
    await curlFromClient(us, 'client', 'http://echo.eu.mesh.local/', 10, 5);
    const sent = Date.now();
    while ((await usToEu()) < start + 10 && Date.now() - sent < 60_000) await new Promise((r) => setTimeout(r, 250));
    delays.push((Date.now() - sent) / 1000);
  }
  delays.sort((a, b) => a - b);
  out.trafficDelayTrials = trials;
  out['trafficDelay.p50s'] = round(delays[Math.floor(trials / 2)]!, 1);
  out['trafficDelay.maxS'] = round(delays.at(-1)!, 1);
  out.scrapeIntervalSeconds = spec.observability.scrapeInterval;
  return out;
}

/** Compile time of the lab's Prometheus and Kiali from an empty Go build cache (modules already downloaded). */
export async function coldBuildBenchmark(): Promise<Record<string, number | string>> {
  const v = readLabVersions();
  const out: Record<string, number | string> = {};
  for (const [name, pins, args, env] of [
    ['prometheus', v.prometheus, ['-tags', 'remove_all_sd,enable_kubernetes_sd', './cmd/prometheus'], { GOWORK: 'off' }],
    ['kiali', v.kiali, ['.'], {}],
  ] as const) {
    const dir = await goModuleDir(pins.module, pins.version);
    const cache = mkdtempSync(join(tmpdir(), 'eastwest-gocache-'));
    const outDir = mkdtempSync(join(tmpdir(), 'eastwest-cold-'));
    const started = Date.now();
    try {
      execFileSync('go', ['build', '-trimpath', '-ldflags', '-s -w', '-o', `${outDir}/`, ...args], { cwd: dir, env: { ...process.env, ...env, GOCACHE: cache, CGO_ENABLED: '0', GOFLAGS: '-p=2 -buildvcs=false', GOTOOLCHAIN: 'local' }, stdio: 'ignore' });
      out[`${name}.coldCompileSeconds`] = round((Date.now() - started) / 1000, 0);
    } finally {
      rmSync(cache, { recursive: true, force: true });
      rmSync(outDir, { recursive: true, force: true });
    }
  }
  return out;
}
