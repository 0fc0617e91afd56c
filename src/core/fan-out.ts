// Runs one operation per cluster at once; a failure is data, never hiding the other clusters' results.
import { EastwestError } from './errors.ts';

export type ClusterOutcome<T> =
  | { cluster: string; ok: true; value: T }
  | { cluster: string; ok: false; step: string; error: string; hint?: string; unreachable: boolean };

export interface Named {
  name: string;
}

/** `classify` turns a thrown value into an EastwestError (carrying its own hint) for that cluster. */
export async function fanOut<C extends Named, T>(
  clusters: readonly C[],
  step: string,
  op: (cluster: C) => Promise<T>,
  classify: (cluster: string, error: unknown) => EastwestError,
): Promise<ClusterOutcome<T>[]> {
  return Promise.all(
    clusters.map(async (cluster): Promise<ClusterOutcome<T>> => {
      try {
        return { cluster: cluster.name, ok: true, value: await op(cluster) };
      } catch (thrown) {
        const error = classify(cluster.name, thrown);
        const unreachable = (error as { unreachable?: unknown }).unreachable === true;
        return { cluster: cluster.name, ok: false, step, error: error.message, ...(error.hint ? { hint: error.hint } : {}), unreachable };
      }
    }),
  );
}

/** Runs `op` over `items` with at most `limit` at a time; results in input order. */
export async function mapLimit<I, O>(items: readonly I[], limit: number, op: (item: I, index: number) => Promise<O>): Promise<O[]> {
  const results = new Array<O>(items.length);
  let next = 0;
  let failed = false;
  // After a failure no new item is started (a cluster whose write failed gets no further writes).
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !failed) {
      const i = next++;
      try {
        results[i] = await op(items[i]!, i);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  });
  await Promise.all(workers);
  return results;
}
