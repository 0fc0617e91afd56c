// Issue 9 in the lab, with the real servers: each cluster's Prometheus (built from its Go module) scrapes
// every istiod, sidecar and east-west gateway; the other cluster's series arrive through the mesh; the
// EU gateway's and the US client's numbers rise with 100 requests; `eastwest traffic` shows us→eu equal
// to the requests sent and eu→us 0; Kiali (the real server) sees both clusters, Prometheus, and no
// validation errors in eastwest's objects.
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyMesh } from '../../src/apply/apply-mesh.ts';
import { silentReporter } from '../../src/core/reporter.ts';
import { loadKubeConfig } from '../../src/k8s/client.ts';
import { buildHelm } from '../../src/lab/build/go-components.ts';
import { LAB_KUBECONFIG } from '../../src/lab/lab-state.ts';
import { readLabVersions } from '../../src/sources/lab-versions.ts';
import { instantQuery, prometheusTarget, type PrometheusTarget } from '../../src/observability/prometheus-query.ts';
import { loadMeshSpec } from '../../src/spec/load-file.ts';
import type { MeshSpec } from '../../src/spec/schema.ts';
import { pollUntil } from '../../src/util/poll.ts';
import { istioScrapeTargets } from '../../src/verify/observability-check.ts';
import { kubectl } from '../integration/lab-helpers.ts';
import { podHttpGet } from '../../src/k8s/port-forward.ts';
import { envoyClusterCounters, readyPod } from '../../src/verify/mesh-probes.ts';
import { KIALI_PORT } from '../../src/render/lab-kiali.ts';
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
      // A Prometheus that has just started is ready before its first scrape of itself.
      const selfUp = await pollUntil(30, 1000, async () => ((await sum(target, 'up{job="prometheus"}')) === 1 ? true : undefined));
      expect(selfUp, `${cluster.name}'s Prometheus scrapes itself`).toBe(true);
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
    // The baseline is taken once the US Prometheus has scraped every request the client's proxy counted
    // so far (earlier tests' requests included): what the proxy says now is what Prometheus must say.
    const usConfig = loadKubeConfig('lab-us', LAB_KUBECONFIG);
    const clientPods = (await usConfig.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'echo', labelSelector: 'app=client' })).items
      .filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp).map((p) => p.metadata!.name!);
    const counted = async () => {
      let total = 0;
      for (const pod of clientPods) total += (await envoyClusterCounters(usConfig, 'echo', pod, 'outbound|80||echo.eu.mesh.local')).rqTotal;
      return total;
    };
    const settled = await pollUntil(60, 1000, async () => ((await sum(us, clientRequests)) >= (await counted()) ? true : undefined));
    expect(settled, 'the US Prometheus caught up with the client proxy\'s counter').toBe(true);
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
    // Each Prometheus scrapes on its own clock: the EU gateway's numbers may come a scrape later.
    const gatewayRise = (await pollUntil(30, 1000, async () => {
      const rise = (await sum(eu, gatewayBytes)) - before.gateway;
      return rise > 0 ? rise : undefined;
    })) ?? 0;
    log(`US Prometheus: client → echo.eu.mesh.local +${clientRise} requests; EU Prometheus: gateway → echo +${gatewayRise} bytes`);
    expect(clientRise).toBeGreaterThanOrEqual(100);
    expect(gatewayRise).toBeGreaterThan(0);
    const intake = (t: TrafficJson) => t.gateways.find((g) => g.cluster === 'eu')!.bytesIn;
    expect(intake(await traffic())).toBeGreaterThan(intake(before.traffic));
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

  describe('Kiali (the real server, API through port-forward)', () => {
    const kiali = async (context: string, path: string) => {
      const config = loadKubeConfig(context, LAB_KUBECONFIG);
      const pod = await readyPod(config, 'istio-system', 'app.kubernetes.io/name=kiali');
      const response = await podHttpGet(config, 'istio-system', pod, KIALI_PORT, `/kiali/api${path}`, 20_000);
      expect(response.status, `${path}: ${response.body.slice(0, 200)}`).toBe(200);
      return JSON.parse(response.body) as unknown;
    };

    it('status: Prometheus reachable, and both clusters\' API servers known', async () => {
      for (const cluster of spec.clusters) {
        const status = (await kiali(cluster.context, '/status')) as { externalServices: { name: string; version?: string }[] };
        const names = status.externalServices.map((s) => s.name).sort();
        log(`${cluster.name}'s Kiali: ${status.externalServices.map((s) => `${s.name} ${s.version ?? ''}`.trim()).join(', ')}`);
        expect(names).toEqual(['Kubernetes-eu', 'Kubernetes-us', 'Prometheus']);
        expect(status.externalServices.find((s) => s.name === 'Prometheus')!.version).toMatch(/^3\./);
        const components = (await kiali(cluster.context, '/istio/status')) as { name: string; status: string }[];
        expect(components.find((c) => c.name === 'prometheus')?.status).toBe('Healthy');
        expect(components.find((c) => c.name === 'istiod')?.status).toBe('Healthy');
      }
    });

    it('workloads of both clusters are listed', async () => {
      for (const name of ['us', 'eu']) {
        const list = (await kiali('lab-us', `/clusters/workloads?namespaces=echo&clusterName=${name}`)) as { workloads: { name: string; cluster: string; istioSidecar: boolean }[] };
        expect(list.workloads.map((w) => w.name).sort()).toEqual(expect.arrayContaining(['client', 'echo']));
        expect(new Set(list.workloads.map((w) => w.cluster))).toEqual(new Set([name]));
      }
    });

    it('Istio config validation reports no errors for eastwest\'s objects', async () => {
      let validated = 0;
      for (const cluster of spec.clusters) {
        for (const namespace of ['echo', 'istio-system']) {
          const result = (await kiali(cluster.context, `/namespaces/${namespace}/istio?validate=true&clusterName=${cluster.name}`)) as { validations?: Record<string, Record<string, { valid: boolean; checks: { severity: string; code: string; message: string }[] }>> };
          for (const [type, objects] of Object.entries(result.validations ?? {})) {
            for (const [name, v] of Object.entries(objects)) {
              validated++;
              const errors = v.checks.filter((c) => c.severity === 'error').map((c) => `${c.code} ${c.message}`);
              expect(errors, `${cluster.name} ${type} ${name}`).toEqual([]);
            }
          }
        }
      }
      log(`Kiali validated ${validated} Istio objects in echo and istio-system of both clusters: no errors`);
      expect(validated).toBeGreaterThanOrEqual(10);
    });
  });
});
