// The sync controller, in-cluster as examples/lab.yaml runs it: ServiceExport created in lab-eu → the US
// client answered through the clusterset name, and ServiceExport deleted → no longer routed; 20 trials
// each, p50 and p99 (seconds). Timed inside the client pod (test/e2e/route-timer.ts: a curl loop stamped
// with the pod's clock), so a figure is the routing latency, not that plus a kubectl exec per poll; the
// probe's own resolution (the time between two attempts, 4 loops side by side) is measured in the same
// run and printed with it.
import { exportOf, helloManifest } from '../test/e2e/mcs-workload.ts';
import { secondsUntilAnswer, type Attempt } from '../test/e2e/route-timer.ts';
import { kubectl } from '../test/integration/lab-helpers.ts';

const holder = async (context: string) => (await kubectl(context, ['get', 'lease', '-n', 'eastwest-system', 'eastwest-sync', '-o', 'jsonpath={.spec.holderIdentity}'], { okCodes: [0, 1] })).stdout.trim();
const url = 'http://hello.shop.svc.clusterset.local/';

const byEu = (answer: string) => /^region=eu /.test(answer);
/** Milliseconds between consecutive attempts of the in-pod probe (all its loops together). */
const gaps = (attempts: readonly Attempt[]) => {
  const sorted = attempts.map((a) => a.at).sort((a, b) => a - b);
  return sorted.slice(1).map((at, i) => at - sorted[i]!);
};
/** Loops side by side in the probe: an attempt on a name that does not resolve yet takes ~0.3 s here. */
const LOOPS = 4;

async function until(check: () => Promise<boolean>, limitSeconds = 30): Promise<number> {
  const started = performance.now();
  while ((performance.now() - started) / 1000 < limitSeconds) {
    if (await check()) return (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 50));
  }
  return Number.POSITIVE_INFINITY;
}

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! * 100) / 100;
};

export async function syncBenchmark(trials = 20): Promise<Record<string, number | string>> {
  // A namespace shop still terminating (an earlier run's) would refuse the workload.
  for (const c of ['lab-eu', 'lab-us']) await kubectl(c, ['delete', 'namespace', 'shop', '--ignore-not-found', '--wait=true'], { timeoutMs: 300_000 });
  try {
    for (const c of ['lab-us', 'lab-eu']) await until(async () => (await holder(c)) !== '', 120);
    await kubectl('lab-eu', ['apply', '-f', '-'], { input: helloManifest('eu', 'eu') });
    await kubectl('lab-eu', ['rollout', 'status', '-n', 'shop', 'deploy/hello', '--timeout=180s'], { timeoutMs: 200_000 });
    const routed: number[] = [];
    const gone: number[] = [];
    const between: number[] = [];
    for (let i = 0; i < trials; i++) {
      // Timed from the moment the API server has the ServiceExport (kubectl apply returned).
      const up = await secondsUntilAnswer(url, () => kubectl('lab-eu', ['apply', '-f', '-'], { input: exportOf('hello') }), byEu, 30, { loops: LOOPS });
      routed.push(up.seconds ?? Number.POSITIVE_INFINITY);
      const down = await secondsUntilAnswer(url, () => kubectl('lab-eu', ['delete', '-n', 'shop', 'serviceexport', 'hello']), (a) => !byEu(a), 30, { loops: LOOPS });
      gone.push(down.seconds ?? Number.POSITIVE_INFINITY);
      between.push(...gaps(up.attempts), ...gaps(down.attempts));
    }
    return {
      trials,
      exportToRoutableP50S: pct(routed, 50),
      exportToRoutableP99S: pct(routed, 99),
      unexportToGoneP50S: pct(gone, 50),
      unexportToGoneP99S: pct(gone, 99),
      targetP50S: 0.4,
      probeLoops: LOOPS,
      probeResolutionP50S: pct(between.map((ms) => ms / 1000), 50),
      probeResolutionP99S: pct(between.map((ms) => ms / 1000), 99),
    };
  } finally {
    await kubectl('lab-eu', ['delete', 'namespace', 'shop', '--ignore-not-found', '--wait=false']);
    await kubectl('lab-us', ['delete', 'namespace', 'shop', '--ignore-not-found', '--wait=false']);
  }
}
