// Probes of the east-west gateways for e2e tests: readiness, and the gateway-to-gateway connection count
// with a service down everywhere (a loop would show as thousands).
import { expect } from 'vitest';
import { CoreV1Api } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../src/k8s/client.ts';
import { LAB_KUBECONFIG } from '../../src/lab/lab-state.ts';
import { pollUntil } from '../../src/util/poll.ts';
import { eastWestGatewayPod, envoyConnectionsToPort, readyPod, scaleDeployment, waitDeploymentReady } from '../../src/verify/mesh-probes.ts';
import { kubectl } from '../integration/lab-helpers.ts';

const log = (s: string) => process.stderr.write(`[e2e] ${s}\n`);

/** One request from the US client: body and status code (" 200" at the end). */
export const curlFromUs = (url: string) =>
  kubectl('lab-us', ['exec', '-n', 'echo', 'deploy/client', '-c', 'client', '--', 'curl', '-s', '-m', '5', '-w', ' %{http_code}', url], { okCodes: [0, 6, 7, 28, 52, 56] });
const curl = curlFromUs;

/** Connections the east-west gateways of both clusters opened to a :15443 (another gateway), and the US client's. */
async function crossConnections(): Promise<{ gateways: number; client: number }> {
  let gateways = 0;
  for (const context of ['lab-us', 'lab-eu']) {
    const config = loadKubeConfig(context, LAB_KUBECONFIG);
    gateways += await envoyConnectionsToPort(config, 'istio-system', await eastWestGatewayPod(config), 15443);
  }
  const us = loadKubeConfig('lab-us', LAB_KUBECONFIG);
  const client = await envoyConnectionsToPort(us, 'echo', await readyPod(us, 'echo', 'app=client'), 15443);
  return { gateways, client };
}

/**
 * Both east-west gateways ready, and still ready after `steadySeconds` without a break. An API server
 * frozen longer than the node-monitor grace period (40 s) makes the node lifecycle controller mark the
 * node's pods NotReady a few seconds after the thaw, until the kubelet reports again: a single look
 * can land before that happens.
 */
export async function gatewaysReady(steadySeconds = 15): Promise<void> {
  const configs = ['lab-us', 'lab-eu'].map((c) => loadKubeConfig(c, LAB_KUBECONFIG));
  const allReady = () => Promise.all(configs.map((c) => eastWestGatewayPod(c).then(() => true, () => false))).then((r) => r.every(Boolean));
  let readySince: number | undefined;
  const steady = await pollUntil(180, 1000, async () => {
    if (!(await allReady())) { readySince = undefined; return undefined; }
    readySince ??= Date.now();
    return Date.now() - readySince >= steadySeconds * 1000 ? true : undefined;
  });
  expect(steady, `east-west gateways ready for ${steadySeconds} s unbroken in lab-us and lab-eu`).toBe(true);
}

/** `echo` at zero replicas in both clusters: one request ends fast with 503, and no gateway sends to another. */
export async function noGatewayLoop(urls: string[]): Promise<void> {
  await gatewaysReady();
  const configs = ['lab-us', 'lab-eu'].map((c) => loadKubeConfig(c, LAB_KUBECONFIG));
  const before = await Promise.all(configs.map((c) => scaleDeployment(c, 'echo', 'echo', 0)));
  try {
    // No instance left anywhere: every echo pod gone (a terminating one still answers while it drains, over
    // connections already open to it), then a moment for the proxies' endpoints.
    for (const c of configs) {
      const gone = await pollUntil(60, 500, async () => ((await c.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'echo', labelSelector: 'app=echo' })).items.length === 0 ? true : undefined));
      if (!gone) throw new Error('echo pods still there 60 s after scaling to zero');
    }
    await new Promise((r) => setTimeout(r, 2000));
    for (const url of urls) {
      const start = await crossConnections();
      const t0 = Date.now();
      const r = await curl(url);
      const seconds = (Date.now() - t0) / 1000;
      await new Promise((r) => setTimeout(r, 2000)); // anything looping would keep counting meanwhile
      const end = await crossConnections();
      const rise = end.gateways - start.gateways + (end.client - start.client);
      log(`${url} with echo at 0 everywhere: "${r.stdout}" in ${seconds.toFixed(2)} s; gateway→gateway connections +${end.gateways - start.gateways}, client→gateway +${end.client - start.client}`);
      expect(seconds).toBeLessThan(5);
      expect(r.stdout).toMatch(/ 503$/);
      expect(end.gateways - start.gateways).toBe(0);
      expect(rise).toBeLessThanOrEqual(10);
    }
  } finally {
    await Promise.all(configs.map((c, i) => scaleDeployment(c, 'echo', 'echo', before[i]!)));
    await Promise.all(configs.map((c) => waitDeploymentReady(c, 'echo', 'echo', 180)));
  }
}

