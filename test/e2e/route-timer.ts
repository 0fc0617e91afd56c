// How long until a change shows in what the US client gets, measured inside the client pod: one exec runs
// a curl loop that stamps every attempt with the pod's clock (the lab's nodes share the host's clock), so
// the figure is the routing latency itself, not that plus a kubectl exec per poll (0.6–1 s each here).
import { spawn } from 'node:child_process';
import { LAB_KUBECONFIG } from '../../src/lab/lab-state.ts';
import { kubectlBinary } from '../integration/lab-helpers.ts';

export interface Attempt {
  /** Epoch milliseconds when the attempt started (pod clock). */
  at: number;
  /** The response body and status code, as `curlFromUs` gives them ("… 200"), or "" when it failed. */
  answer: string;
}

/**
 * Starts polling `url` from the US client (every ~50 ms, each request at most 1 s), then runs `change`;
 * returns the seconds from the end of `change` to the first attempt whose answer satisfies `done`, or
 * undefined after `limitSeconds`. Attempts that started before the change ended do not count.
 * `loops` > 1 runs that many loops side by side, started a fraction of a period apart: an attempt that
 * fails slowly (a name that does not resolve yet) then no longer hides the moment the answer changes.
 */
export async function secondsUntilAnswer(url: string, change: () => Promise<unknown>, done: (answer: string) => boolean, limitSeconds: number, options: { loops?: number } = {}): Promise<{ seconds: number | undefined; attempts: Attempt[] }> {
  const loops = Math.max(1, Math.floor(options.loops ?? 1));
  const loop = `end=$(( $(date +%s) + ${limitSeconds + 15} )); while [ $(date +%s) -lt $end ]; do t=$(date +%s%3N); out=$(curl -s -m 1 -w ' %{http_code}' ${url} | tr -d '\\n'); echo "$t $out"; sleep 0.05; done`;
  // Loop i starts i × 80 ms after the first; the shell waits for all of them.
  const script = loops === 1 ? loop : `${Array.from({ length: loops }, (_, i) => `(sleep ${(i * 0.08).toFixed(2)}; ${loop}) &`).join(' ')} wait`;
  const child = spawn(await kubectlBinary(), ['--kubeconfig', LAB_KUBECONFIG, '--context', 'lab-us', 'exec', '-n', 'echo', 'deploy/client', '-c', 'client', '--', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  const attempts: Attempt[] = [];
  let buffered = '';
  let changedAt = Number.POSITIVE_INFINITY;
  let resolveDone: ((at: number | undefined) => void) | undefined;
  const finished = new Promise<number | undefined>((r) => (resolveDone = r));
  // With several loops an attempt that started earlier may answer later: the earliest success within one
  // request's deadline (1 s) of the first one counts.
  let earliest: number | undefined;
  const succeeded = (at: number) => {
    if (loops === 1) return resolveDone?.(at);
    if (earliest === undefined) setTimeout(() => resolveDone?.(earliest), 1100);
    earliest = Math.min(earliest ?? at, at);
  };
  let firstLine: (() => void) | undefined;
  const running = new Promise<void>((r) => (firstLine = r));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const match = /^(\d+) ?(.*)$/.exec(line);
      if (!match) continue;
      const attempt = { at: Number(match[1]), answer: /\b000$/.test(match[2]!) ? '' : match[2]! };
      attempts.push(attempt);
      firstLine?.();
      if (attempt.at >= changedAt && done(attempt.answer)) succeeded(attempt.at);
    }
  });
  child.once('exit', () => {
    firstLine?.();
    resolveDone?.(earliest);
  });
  try {
    // The loop runs before the change is made: the first attempts after it are real measurements.
    await Promise.race([running, new Promise((r) => setTimeout(r, 30_000))]);
    await change();
    changedAt = Date.now();
    const timer = setTimeout(() => resolveDone?.(earliest), limitSeconds * 1000);
    const at = await finished;
    clearTimeout(timer);
    return { seconds: at === undefined ? undefined : Math.round(at - changedAt) / 1000, attempts };
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
  }
}
