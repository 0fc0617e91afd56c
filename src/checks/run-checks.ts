// Runs checks: per cluster for cluster checks (every cluster at once; one that does not answer is its own
// result, never holding up the others), once for mesh checks; each run has a deadline; a check that throws
// is a finding of its own. Disruptive checks run last, one at a time. Results stream through `onResult`.
import { mapLimit } from '../core/fan-out.ts';
import type { Category, Check, CheckOutput, CheckResult, CheckStatus, Finding } from './check.ts';

export interface RunOptions<C> {
  ctx: C;
  /** The clusters to check, and whether each can be read (an unreadable one gets `unreachable` results). */
  clusters: readonly { name: string; reachable: boolean; why?: string }[];
  /** Deadline of one check on one cluster. */
  deadlineSeconds: number;
  /** Whether a check past its deadline makes its cluster unreachable (default true: it did not answer); false: the check failed. */
  deadlineIsUnreachable?: boolean;
  /** Re-run failing checks until they pass or this many seconds have passed (as `linkerd check --wait`). */
  waitSeconds?: number;
  /** Classifies what a check threw: a timeout or a refused connection makes the cluster unreachable. */
  unreachable?: (error: unknown) => boolean;
  onResult?: (result: CheckResult) => void;
  /** Called as a check starts (per cluster, or once for a mesh check). */
  onStart?: (check: Check<C>, cluster: string | undefined) => void;
  /** How many read-only checks run at once (default 8); disruptive ones always run one at a time. With 1, a cluster check also runs in one cluster at a time. */
  concurrency?: number;
  /**
   * Interrupts the run (Ctrl-C): checks not started yet are skipped ("interrupted"); a running one is told
   * through its own signal and finishes what it must put back (a disruptive check restores what it changed).
   */
  signal?: AbortSignal;
  /** Injected for tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Why a check was skipped when the run was interrupted before it started. */
export const INTERRUPTED = 'interrupted';

class DeadlineExceeded extends Error {
  constructor(seconds: number) {
    super(`no answer within ${seconds} s`);
    this.name = 'TimeoutError';
  }
}

/** The status of a run that returned: failed on any error or warning finding. */
export function statusOf(findings: readonly Finding[]): CheckStatus {
  return findings.some((f) => f.severity === 'error' || f.severity === 'warning') ? 'failed' : 'passed';
}

/** Disruptive checks after every other one, each group in its given order. */
export function checkOrder<T extends { disruptive: boolean; last?: boolean }>(checks: readonly T[]): T[] {
  const rest = checks.filter((c) => !c.last);
  return [...rest.filter((c) => !c.disruptive), ...rest.filter((c) => c.disruptive), ...checks.filter((c) => c.last)];
}

export async function runChecks<C>(checks: readonly Check<C>[], options: RunOptions<C>): Promise<CheckResult[]> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const applicable = checkOrder(checks.filter((c) => c.applies?.(options.ctx) ?? true));

  const once = async (check: Check<C>, cluster: string | undefined): Promise<CheckResult> => {
    const started = now();
    const base = { id: check.id, category: check.category as Category, ...(cluster !== undefined ? { cluster } : {}) };
    const seconds = () => Math.round((now() - started) / 100) / 10;
    const target = cluster === undefined ? undefined : options.clusters.find((c) => c.name === cluster);
    if (target && !target.reachable) {
      return { ...base, status: 'unreachable', seconds: 0, findings: [{ check: check.id, severity: 'error', cluster, message: `${cluster} could not be checked: ${target.why ?? 'it did not answer'}`, hint: 'is its API server up and answering? raise --request-timeout for a slow link' }] };
    }
    if (options.signal?.aborted) return { ...base, status: 'skipped', seconds: 0, figures: { skipped: INTERRUPTED }, findings: [] };
    let timer: NodeJS.Timeout | undefined;
    const abort = new AbortController();
    const interrupt = () => abort.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', interrupt, { once: true });
    options.onStart?.(check, cluster);
    try {
      const output = await Promise.race([
        check.run(options.ctx, cluster, abort.signal),
        new Promise<CheckOutput>((_, reject) => {
          timer = setTimeout(() => {
            const exceeded = new DeadlineExceeded(options.deadlineSeconds);
            abort.abort(exceeded);
            reject(exceeded);
          }, options.deadlineSeconds * 1000);
        }),
      ]);
      const findings: Finding[] = output.findings.map((f) => {
        const severity = f.severity ?? check.severity;
        return { ...f, check: check.id, severity, ...(cluster !== undefined && f.cluster === undefined ? { cluster } : {}), ...(f.hint === undefined && severity !== 'info' ? { hint: check.hint } : {}) };
      });
      if (output.skipped !== undefined) return { ...base, status: 'skipped', seconds: seconds(), figures: { ...output.figures, skipped: output.skipped }, findings };
      return { ...base, status: statusOf(findings), seconds: seconds(), ...(output.figures ? { figures: output.figures } : {}), findings };
    } catch (error) {
      const unreachable = error instanceof DeadlineExceeded ? options.deadlineIsUnreachable !== false : (options.unreachable?.(error) ?? false);
      const ownHint = (error as { hint?: unknown }).hint;
      const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      return {
        ...base,
        status: unreachable ? 'unreachable' : 'failed',
        seconds: seconds(),
        findings: [{ check: check.id, severity: 'error', ...(cluster !== undefined ? { cluster } : {}), message: unreachable ? `${cluster ?? 'a cluster'} did not answer this check: ${message}` : `the check could not run: ${message}`, hint: typeof ownHint === 'string' ? ownHint : unreachable ? 'is the API server up and answering? raise --request-timeout for a slow link' : check.hint }],
      };
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', interrupt);
    }
  };

  /** One check everywhere it runs; with --wait, failures are tried again until they pass or time is up. */
  const everywhere = async (check: Check<C>): Promise<CheckResult[]> => {
    const targets = check.scope === 'mesh' ? [undefined] : options.clusters.map((c) => c.name);
    // A disruptive check (scaling a service to zero, say) and any check of a run one at a time go one
    // cluster at a time: at once in every cluster they would undo each other's proof.
    const results = check.disruptive || options.concurrency === 1 ? await mapLimit(targets, 1, (cluster) => once(check, cluster)) : await Promise.all(targets.map((cluster) => once(check, cluster)));
    const until = now() + (options.waitSeconds ?? 0) * 1000;
    while (results.some((r) => r.status === 'failed') && now() < until && !options.signal?.aborted) {
      await sleep(Math.min(2000, Math.max(0, until - now())));
      for (const [i, r] of results.entries()) if (r.status === 'failed') results[i] = await once(check, r.cluster);
    }
    for (const r of results) options.onResult?.(r);
    return results;
  };

  const quiet = applicable.filter((c) => !c.disruptive && !c.last);
  const disruptive = applicable.filter((c) => c.disruptive && !c.last);
  const results = (await mapLimit(quiet, options.concurrency ?? 8, everywhere)).flat();
  for (const check of disruptive) results.push(...(await everywhere(check)));
  // Checks that read what the others did, once all of them are done.
  results.push(...(await mapLimit(applicable.filter((c) => c.last), options.concurrency ?? 8, everywhere)).flat());
  return results;
}

/** doctor's exit code: 3 when a cluster could not be diagnosed, 1 on any error finding, else 0. */
export function exitCodeOf(results: readonly CheckResult[]): 0 | 1 | 3 {
  if (results.some((r) => r.status === 'unreachable')) return 3;
  if (results.some((r) => r.findings.some((f) => f.severity === 'error'))) return 1;
  return 0;
}
