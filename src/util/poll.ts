/** Sleeps `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Calls `check` every `intervalMs` until it returns a value (not undefined) or `seconds` have passed;
 * then returns that value, or undefined on time-out. Errors from `check` propagate.
 */
export async function pollUntil<T>(seconds: number, intervalMs: number, check: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await sleep(intervalMs);
  }
  return undefined;
}
