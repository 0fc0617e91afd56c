// `npm run soak`: each fault scenario repeated on one lab (10 times unless `--rounds n`), printing how many
// held — a scenario that held once is not done; 10 of 10 is what counts. Figures per scenario: min,
// median, max. Exit 0 only when every round of every scenario held.
//   zero-everywhere   echo at zero replicas in both clusters: a request from US ends within 5 s with 503,
//                     and no east-west gateway opens a connection to another (no loop).
//   eu-frozen-verify  lab-eu's API server frozen: verify ends within 30 s with exit 3, us→eu still answered.
//   export-routable   a ServiceExport (with its Service) made in lab-eu: routable from US within 3 s.
//   takeover-export   eu's acting sync replica deleted, then an export made: routable from US within 3 s.
import '../test/register-lab.ts';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadKubeConfig } from '../src/k8s/client.ts';
import { readyPod } from '../src/k8s/pods.ts';
import { LAB_KUBECONFIG, readNodeStates } from '../src/lab/lab-state.ts';
import { eastWestGatewayPod, envoyConnectionsToPort, scaleDeployment, waitDeploymentReady } from '../src/verify/mesh-probes.ts';
import { exportOf, helloManifest } from '../test/e2e/mcs-workload.ts';
import { secondsUntilAnswer } from '../test/e2e/route-timer.ts';
import { kubectl } from '../test/integration/lab-helpers.ts';

const root = join(import.meta.dirname, '..');
const roundsFlag = process.argv.indexOf('--rounds');
const ROUNDS = roundsFlag > 0 ? Number(process.argv[roundsFlag + 1]) : 10;
const only = process.argv.indexOf('--only') > 0 ? process.argv[process.argv.indexOf('--only') + 1]!.split(',') : undefined;
const say = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function eastwest(args: string[]): { code: number | null; stdout: string; seconds: number } {
  const started = Date.now();
  const r = spawnSync(process.execPath, [join(root, 'bin/eastwest.js'), ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, seconds: Math.round((Date.now() - started) / 100) / 10 };
}

const curlFromUs = (url: string) => kubectl('lab-us', ['exec', '-n', 'echo', 'deploy/client', '-c', 'client', '--', 'curl', '-s', '-m', '15', '-w', ' %{http_code}', url], { okCodes: [0, 6, 7, 28, 52, 56] });

async function gatewayToGateway(): Promise<number> {
  let total = 0;
  for (const context of ['lab-us', 'lab-eu']) {
    const config = loadKubeConfig(context, LAB_KUBECONFIG);
    total += await envoyConnectionsToPort(config, 'istio-system', await eastWestGatewayPod(config), 15443);
  }
  return total;
}

/** Both gateways ready for `steadySeconds` unbroken (a long freeze makes the node's pods NotReady for a while after it). */
async function gatewaysSteady(steadySeconds = 15): Promise<void> {
  const configs = ['lab-us', 'lab-eu'].map((c) => loadKubeConfig(c, LAB_KUBECONFIG));
  let since: number | undefined;
  const until = Date.now() + 300_000;
  while (Date.now() < until) {
    const ready = (await Promise.all(configs.map((c) => eastWestGatewayPod(c).then(() => true, () => false)))).every(Boolean);
    since = ready ? (since ?? Date.now()) : undefined;
    if (since !== undefined && Date.now() - since >= steadySeconds * 1000) return;
    await sleep(1000);
  }
  throw new Error('the east-west gateways did not stay ready');
}

let shop = false;
/** The MCS workload (namespace shop, hello answering region=eu) in lab-eu, once. */
async function helloInEu(): Promise<void> {
  if (shop) return;
  await kubectl('lab-eu', ['apply', '-f', '-'], { input: helloManifest('eu', 'eu') });
  await kubectl('lab-eu', ['rollout', 'status', '-n', 'shop', 'deploy/hello', '--timeout=180s'], { timeoutMs: 200_000 });
  shop = true;
}

/** The API server this soak froze, until it is thawed: thawed however the soak ends. */
let frozen: number | undefined;
const thaw = () => {
  if (frozen !== undefined) process.kill(frozen, 'SIGCONT');
};
process.on('exit', thaw);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { thaw(); process.exit(130); });

interface Round { held: boolean; figure: number; note: string }
type Scenario = { name: string; unit: string; before?: () => Promise<void>; round: (i: number) => Promise<Round>; after?: () => Promise<void> };

const scenarios: Scenario[] = [
  {
    name: 'zero-everywhere',
    unit: 's (slowest of the two requests)',
    round: async () => {
      await gatewaysSteady(5);
      const configs = ['lab-us', 'lab-eu'].map((c) => loadKubeConfig(c, LAB_KUBECONFIG));
      // Each cluster's replicas before, as far as it was scaled (restored in any case).
      const scaled = await Promise.allSettled(configs.map((c) => scaleDeployment(c, 'echo', 'echo', 0)));
      const before = scaled.map((r) => (r.status === 'fulfilled' ? r.value : 2));
      try {
        if (scaled.some((r) => r.status === 'rejected')) throw new Error('echo could not be scaled to zero everywhere');
        await sleep(3000); // endpoints leave the proxies
        let slowest = 0;
        const notes: string[] = [];
        let held = true;
        for (const url of ['http://echo.eu.mesh.local/', 'http://echo.echo.svc.cluster.local/']) {
          const start = await gatewayToGateway();
          const t0 = Date.now();
          const r = await curlFromUs(url);
          const seconds = (Date.now() - t0) / 1000;
          await sleep(2000);
          const rise = (await gatewayToGateway()) - start;
          slowest = Math.max(slowest, seconds);
          const ok = seconds < 5 && / 503$/.test(r.stdout) && rise === 0;
          held &&= ok;
          notes.push(`${url} "${r.stdout.slice(-40)}" ${seconds.toFixed(2)} s gw→gw +${rise}`);
        }
        return { held, figure: slowest, note: notes.join('; ') };
      } finally {
        await Promise.all(configs.map((c, i) => scaleDeployment(c, 'echo', 'echo', before[i]!)));
        await Promise.all(configs.map((c) => waitDeploymentReady(c, 'echo', 'echo', 180)));
      }
    },
  },
  {
    name: 'eu-frozen-verify',
    unit: 's for verify (limit 30, exit 3)',
    round: async () => {
      await gatewaysSteady();
      const pid = readNodeStates().find((n) => n.cluster === 'eu')?.pids['kube-apiserver'];
      if (!pid) throw new Error('no kube-apiserver of lab-eu');
      frozen = pid;
      process.kill(pid, 'SIGSTOP');
      let run;
      try {
        run = eastwest(['verify', '-f', 'examples/lab.yaml', '--requests', '20', '-o', 'json']);
      } finally {
        process.kill(pid, 'SIGCONT');
        frozen = undefined;
      }
      const result = JSON.parse(run.stdout || '{}') as { pairs?: { check: string; from: string; to: string; ok: boolean }[] };
      const crossOk = result.pairs?.some((p) => p.check === 'cross-cluster-via-gateway' && p.from === 'us' && p.to === 'eu' && p.ok) === true;
      return { held: run.code === 3 && run.seconds < 30 && crossOk, figure: run.seconds, note: `exit ${run.code}, us→eu answered: ${crossOk}` };
    },
  },
  {
    name: 'export-routable',
    unit: 's from the export to the first answer (limit 3)',
    before: () => helloInEu(),
    round: async (i) => {
      const name = `soak-${i}-${Date.now() % 100_000}`;
      const service = `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: shop}\nspec: {selector: {app: hello}, ports: [{name: http, port: 80, targetPort: 8080}]}\n`;
      try {
        const { seconds } = await secondsUntilAnswer(`http://${name}.shop.svc.clusterset.local/`, () => kubectl('lab-eu', ['apply', '-f', '-'], { input: `${service}---\n${exportOf(name)}` }), (a) => /^region=eu /.test(a), 30);
        return { held: seconds !== undefined && seconds < 3, figure: seconds ?? Number.POSITIVE_INFINITY, note: '' };
      } finally {
        await kubectl('lab-eu', ['delete', '-n', 'shop', 'serviceexport,service', name, '--ignore-not-found']);
      }
    },
  },
  {
    name: 'takeover-export',
    unit: 's from the export to the first answer, right after the acting replica was deleted (limit 3)',
    before: () => helloInEu(),
    round: async (i) => {
      const holder = async () => (await kubectl('lab-eu', ['get', 'lease', '-n', 'eastwest-system', 'eastwest-sync', '-o', 'jsonpath={.spec.holderIdentity}'], { okCodes: [0, 1] })).stdout.trim();
      const acting = await holder();
      await kubectl('lab-eu', ['delete', 'pod', '-n', 'eastwest-system', acting, '--wait=false'], { okCodes: [0, 1] });
      const until = Date.now() + 60_000;
      while ((await holder()) === acting && Date.now() < until) await sleep(200);
      const taken = await holder();
      if (!acting || !taken || taken === acting) return { held: false, figure: Number.NaN, note: `no takeover (lease ${acting || '(none)'} → ${taken || '(none)'})` };
      const name = `takeover-${i}-${Date.now() % 100_000}`;
      const service = `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: shop}\nspec: {selector: {app: hello}, ports: [{name: http, port: 80, targetPort: 8080}]}\n`;
      try {
        const { seconds } = await secondsUntilAnswer(`http://${name}.shop.svc.clusterset.local/`, () => kubectl('lab-eu', ['apply', '-f', '-'], { input: `${service}---\n${exportOf(name)}` }), (a) => /^region=eu /.test(a), 30);
        return { held: seconds !== undefined && seconds < 3, figure: seconds ?? Number.POSITIVE_INFINITY, note: `lease ${acting} → ${await holder()}` };
      } finally {
        await kubectl('lab-eu', ['delete', '-n', 'shop', 'serviceexport,service', name, '--ignore-not-found']);
        await kubectl('lab-eu', ['rollout', 'status', '-n', 'eastwest-system', 'deploy/eastwest-sync', '--timeout=120s'], { timeoutMs: 150_000, okCodes: [0, 1] });
      }
    },
  },
];

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
say('soak: lab up, apply examples/lab.yaml');
if (eastwest(['lab', 'up']).code !== 0 || eastwest(['apply', '-f', 'examples/lab.yaml']).code !== 0) throw new Error('the lab could not be made ready');
await readyPod(loadKubeConfig('lab-us', LAB_KUBECONFIG), 'echo', 'app=client');
let all = true;
const unknown = (only ?? []).filter((n) => !scenarios.some((s) => s.name === n));
if (unknown.length) throw new Error(`--only: no scenario ${unknown.join(', ')} (scenarios: ${scenarios.map((s) => s.name).join(', ')})`);
for (const scenario of scenarios.filter((s) => !only || only.includes(s.name))) {
  await scenario.before?.();
  const rounds: Round[] = [];
  for (let i = 1; i <= ROUNDS; i++) {
    const r = await scenario.round(i).catch((error: unknown) => ({ held: false, figure: Number.NaN, note: `failed: ${(error as Error).message}` }));
    rounds.push(r);
    say(`  ${scenario.name} ${i}/${ROUNDS}: ${r.held ? 'held' : 'FAILED'} ${Number.isFinite(r.figure) ? r.figure : '-'} ${r.note}`);
  }
  await scenario.after?.();
  const figures = rounds.map((r) => r.figure).filter(Number.isFinite);
  const held = rounds.filter((r) => r.held).length;
  all &&= held === ROUNDS;
  process.stdout.write(`${scenario.name.padEnd(18)} held ${held}/${ROUNDS}   ${figures.length ? `min ${Math.min(...figures)}  median ${median(figures)}  max ${Math.max(...figures)}` : 'no figures'} ${scenario.unit}\n`);
}
if (shop) await kubectl('lab-eu', ['delete', 'namespace', 'shop', '--ignore-not-found', '--wait=false']);
process.exitCode = all ? 0 : 1;
