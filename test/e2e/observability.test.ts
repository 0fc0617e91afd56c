// Issue 9 in the lab, with the real servers: each cluster's Prometheus (built from its Go module) scrapes
// every istiod, sidecar and east-west gateway; the other cluster's series arrive through the mesh; the
// EU gateway's and the US client's numbers rise with 100 requests; `eastwest traffic` shows us→eu equal
// to the requests sent and eu→us 0.
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyMesh } from '../../src/apply/apply-mesh.ts';
import { silentReporter } from '../../src/core/reporter.ts';
import { loadKubeConfig } from '../../src/k8s/client.ts';
import { buildHelm } from '../../src/lab/build/go-components.ts';
import { LAB_KUBECONFIG } from '../../src/lab/lab-state.ts';
import { readLabVersions } from '../../src/lab/versions.ts';
import { instantQuery, prometheusTarget, type PrometheusTarget } from '../../src/observability/prometheus-query.ts';
import { loadMeshSpec } from '../../src/spec/load-file.ts';
import type { MeshSpec } from '../../src/spec/schema.ts';
import { pollUntil } from '../../src/util/poll.ts';
import { istioScrapeTargets } from '../../src/verify/observability-check.ts';
import { kubectl } from '../integration/lab-helpers.ts';
import { root, runCli } from './cli-run.ts';

const specFile = join(root, 'examples/lab.yaml');
const helm = async () => join((await buildHelm(readLabVersions(), silentReporter)).dir, 'helm');
const log = (s: string) => process.stderr.write(`[e2e] ${s}\n`);
const sum = async (target: PrometheusTarget, promql: string) => (await instantQuery(target, promql)).reduce((t, s) => t + s.value, 0);

let spec: MeshSpec;
const prometheus = new Map<string, PrometheusTarget>();

interface TrafficJson {
  ok: boolean;
  flows: { from: string; to: string; requests: number; hosts: string[] }[];
  gateways: { cluster: string; connections: number; bytesIn: number }[];
}
async function traffic(): Promise<TrafficJson> {
  const run = await runCli(['traffic', '-f', specFile, '-o', 'json']);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as TrafficJson;
}
const flow = (t: TrafficJson, from: string, to: string) => t.flows.find((f) => f.from === from && f.to === to)!;

describe('observability', () => {
  beforeAll(async () => {
    const result = await applyMesh({ file: specFile, kubeconfig: LAB_KUBECONFIG, helm: await helm(), timeoutSeconds: 300 }, silentReporter);
    expect(result.ok).toBe(true);
    spec = (await loadMeshSpec(specFile)).document.spec;
    for (const cluster of spec.clusters) prometheus.set(cluster.name, await prometheusTarget(loadKubeConfig(cluster.context, LAB_KUBECONFIG), spec, 10_000));
  });

  it('in each cluster Prometheus is up and every istiod, sidecar and east-west gateway target is up == 1', async () => {
    for (const cluster of spec.clusters) {
      const config = loadKubeConfig(cluster.context, LAB_KUBECONFIG);
      const target = prometheus.get(cluster.name)!;
      expect(await sum(target, 'up{job="prometheus"}')).toBe(1);
      const expected = istioScrapeTargets((await config.makeApiClient(CoreV1Api).listPodForAllNamespaces()).items);
      expect(expected.filter((t) => t.kind === 'istiod').length).toBeGreaterThanOrEqual(1);
      expect(expected.filter((t) => t.kind === 'gateway').length).toBeGreaterThanOrEqual(1);
      expect(expected.filter((t) => t.kind === 'sidecar').length).toBeGreaterThanOrEqual(4);
      const missing = await pollUntil(60, 2000, async () => {
        const up = new Set((await instantQuery(target, `up{job="kubernetes-pods",cluster="${cluster.name}"} == 1`)).map((s) => `${s.labels.namespace}/${s.labels.pod}`));
        const left = expected.filter((t) => !up.has(`${t.namespace}/${t.pod}`));
        return left.length === 0 ? left : undefined;
      });
      log(`${cluster.name}: ${expected.length} Istio targets (${expected.map((t) => t.kind).join(',')}) all up: ${missing !== undefined}`);
      expect(missing, `every Istio target in ${cluster.name} up`).toEqual([]);
    }
  });

  it('100 requests from the US client to echo.eu.mesh.local: the EU gateway\'s outbound_.80_._.echo traffic rises in the EU Prometheus, the client\'s requests in the US one; eastwest traffic shows us→eu = 100 (±10 %) and eu→us 0', async () => {
    const us = prometheus.get('us')!;
    const eu = prometheus.get('eu')!;
    const clientRequests = `envoy_cluster_upstream_rq_total{cluster="us",app="client",cluster_name="outbound|80||echo.eu.mesh.local"}`;
    const gatewayBytes = `envoy_cluster_upstream_cx_tx_bytes_total{cluster="eu",istio="eastwestgateway",cluster_name="outbound_.80_._.echo.echo.svc.cluster.local"}`;
    // Counters settle (earlier tests' requests scraped) before the baseline is taken.
    await new Promise((r) => setTimeout(r, 2 * 5000));
    const before = { client: await sum(us, clientRequests), gateway: await sum(eu, gatewayBytes), traffic: await traffic() };
    const sent = Date.now();
    const curl = await kubectl('lab-us', ['exec', '-n', 'echo', 'deploy/client', '-c', 'client', '--', 'sh', '-c', 'n=0; for i in $(seq 100); do curl -s -m 5 -o /dev/null -w "%{http_code}\\n" http://echo.eu.mesh.local/; done | grep -c "^200$"']);
    const sentDone = Date.now();
    expect(curl.stdout.trim()).toBe('100');
    // The delay from the last request to its appearance in `eastwest traffic`.
    const after = await pollUntil(60, 1000, async () => {
      const t = await traffic();
      return flow(t, 'us', 'eu').requests - flow(before.traffic, 'us', 'eu').requests >= 100 ? t : undefined;
    });
    const seen = Date.now();
    expect(after, 'us→eu reaches +100 in eastwest traffic within 60 s').toBeDefined();
    const usToEu = flow(after!, 'us', 'eu').requests - flow(before.traffic, 'us', 'eu').requests;
    const euToUs = flow(after!, 'eu', 'us').requests - flow(before.traffic, 'eu', 'us').requests;
    log(`100 requests sent in ${((sentDone - sent) / 1000).toFixed(1)} s; eastwest traffic us→eu +${usToEu}, eu→us +${euToUs}; seen ${((seen - sentDone) / 1000).toFixed(1)} s after the last request`);
    expect(usToEu).toBeGreaterThanOrEqual(90);
    expect(usToEu).toBeLessThanOrEqual(110);
    expect(euToUs).toBe(0);
    expect(flow(after!, 'us', 'eu').hosts).toContain('echo.eu.mesh.local');
    const clientRise = (await sum(us, clientRequests)) - before.client;
    const gatewayRise = (await sum(eu, gatewayBytes)) - before.gateway;
    log(`US Prometheus: client → echo.eu.mesh.local +${clientRise} requests; EU Prometheus: gateway → echo +${gatewayRise} bytes`);
    expect(clientRise).toBeGreaterThanOrEqual(100);
    expect(gatewayRise).toBeGreaterThan(0);
    const euGateway = after!.gateways.find((g) => g.cluster === 'eu')!;
    expect(euGateway.bytesIn).toBeGreaterThan(before.traffic.gateways.find((g) => g.cluster === 'eu')!.bytesIn);
  });

  it('the mesh-wide view: one query to either Prometheus answers with both cluster values (federated through the east-west gateways)', async () => {
    for (const [name, target] of prometheus) {
      const clusters = await pollUntil(30, 2000, async () => {
        const samples = await instantQuery(target, 'sum by (cluster) (envoy_cluster_upstream_cx_total)');
        const values = samples.map((s) => s.labels.cluster).sort();
        return values.includes('us') && values.includes('eu') ? values : undefined;
      });
      log(`${name}'s Prometheus: series of ${clusters?.join(', ')}`);
      expect(clusters).toEqual(['eu', 'us']);
    }
    // The federation went through the mesh: the other cluster's Prometheus is reached as prometheus.<cluster>.mesh.local.
    const up = await instantQuery(prometheus.get('us')!, 'up{job="federate-eu"}');
    expect(up.map((s) => [s.labels.instance, s.value])).toEqual([['prometheus.eu.mesh.local:9090', 1]]);
  });
});
