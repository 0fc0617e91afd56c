// A keyed work queue with rate limiting, with the semantics of client-go's workqueue: a key is queued at
// most once; a key added while a worker processes it is processed again once that worker is done (never
// by two workers at once); `addAfter` delays a key (the earliest wins); `addRateLimited` delays it by the
// rate limiter (per key: exponential back-off of its failures; overall: a token bucket), `forget` ends
// its back-off. The clock is injected, so tests run without real time.

/** Time as the queue sees it (milliseconds) and its timers. */
export interface Clock {
  now(): number;
  /** Calls `fn` after `ms`; the returned function cancels it. */
  after(ms: number, fn: () => void): () => void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    timer.unref?.();
    return () => clearTimeout(timer);
  },
};

/** How long a key waits before it is queued again (`when`), and forgetting its history. */
export interface RateLimiter<K> {
  when(key: K): number;
  forget(key: K): void;
  failures(key: K): number;
}

/** Per key: base × 2^failures, at most `maxMs` (client-go's ItemExponentialFailureRateLimiter). */
export class ExponentialBackoff<K> implements RateLimiter<K> {
  private readonly counts = new Map<K, number>();
  private readonly baseMs: number;
  private readonly maxMs: number;
  constructor(baseMs: number, maxMs: number) {
    this.baseMs = baseMs;
    this.maxMs = maxMs;
  }

  when(key: K): number {
    const n = this.counts.get(key) ?? 0;
    this.counts.set(key, n + 1);
    return Math.min(this.baseMs * 2 ** Math.min(n, 40), this.maxMs);
  }

  forget(key: K): void {
    this.counts.delete(key);
  }

  failures(key: K): number {
    return this.counts.get(key) ?? 0;
  }
}

/**
 * Overall: `perSecond` tokens a second, at most `burst` at once (client-go's BucketRateLimiter). A key
 * gets the time at which its token is due; tokens are handed out in order, so a burst of retries is
 * spread out rather than all at once.
 */
export class TokenBucket<K> implements RateLimiter<K> {
  private tokens: number;
  private last: number;
  private readonly perSecond: number;
  private readonly burst: number;
  private readonly clock: Clock;
  constructor(perSecond: number, burst: number, clock: Clock = realClock) {
    this.perSecond = perSecond;
    this.burst = burst;
    this.clock = clock;
    this.tokens = burst;
    this.last = clock.now();
  }

  when(_key: K): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.perSecond) * 1000);
  }

  forget(_key: K): void {}

  failures(_key: K): number {
    return 0;
  }
}

/** The longest wait of several limiters (client-go's MaxOfRateLimiter). */
export class MaxOf<K> implements RateLimiter<K> {
  private readonly limiters: RateLimiter<K>[];
  constructor(...limiters: RateLimiter<K>[]) {
    this.limiters = limiters;
  }

  when(key: K): number {
    return Math.max(...this.limiters.map((l) => l.when(key)));
  }

  forget(key: K): void {
    for (const l of this.limiters) l.forget(key);
  }

  failures(key: K): number {
    return Math.max(...this.limiters.map((l) => l.failures(key)));
  }
}

export class WorkQueue<K> {
  /** Keys waiting, in order of their adding. */
  private readonly queue: K[] = [];
  /** Keys that need processing (queued, or added again while being processed). */
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  /** Delayed keys: when each is due and how to cancel its timer. */
  private readonly waiting = new Map<K, { at: number; cancel: () => void }>();
  private readonly getters: ((key: K | undefined) => void)[] = [];
  private shuttingDown = false;
  private readonly clock: Clock;
  readonly limiter: RateLimiter<K>;

  constructor(options: { clock?: Clock; limiter?: RateLimiter<K> } = {}) {
    this.clock = options.clock ?? realClock;
    this.limiter = options.limiter ?? new ExponentialBackoff<K>(100, 30_000);
  }

  /** Queues `key` now (once: a key already queued stays where it is). */
  add(key: K): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // queued again when its worker is done
    const getter = this.getters.shift();
    if (getter) {
      this.dirty.delete(key);
      this.processing.add(key);
      getter(key);
    } else {
      this.queue.push(key);
    }
  }

  /** Queues `key` after `ms` (an earlier pending time for the same key wins; 0 or less: now). */
  addAfter(key: K, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + ms;
    const pending = this.waiting.get(key);
    if (pending && pending.at <= at) return;
    pending?.cancel();
    const cancel = this.clock.after(ms, () => {
      this.waiting.delete(key);
      this.add(key);
    });
    this.waiting.set(key, { at, cancel });
  }

  /** Queues `key` after the rate limiter's wait (its failures so far, and the overall rate). */
  addRateLimited(key: K): void {
    this.addAfter(key, this.limiter.when(key));
  }

  /** Ends `key`'s back-off (it succeeded). */
  forget(key: K): void {
    this.limiter.forget(key);
  }

  failures(key: K): number {
    return this.limiter.failures(key);
  }

  /** The next key to process (waits for one); undefined once shut down and drained. */
  get(): Promise<K | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** `key` was processed: if it was added meanwhile, it is queued again. */
  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  /** Keys queued now (not those processed or delayed). */
  get length(): number {
    return this.queue.length;
  }

  /** Keys delayed (by addAfter or the rate limiter). */
  get delayed(): number {
    return this.waiting.size;
  }

  get busy(): number {
    return this.processing.size;
  }

  /** No more keys: waiting workers get undefined, delayed keys are dropped. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const w of this.waiting.values()) w.cancel();
    this.waiting.clear();
    this.queue.length = 0;
    this.dirty.clear();
    for (const getter of this.getters.splice(0)) getter(undefined);
  }
}

/**
 * `workers` loops that take keys and process them: a key whose processing throws is queued again by
 * the rate limiter, one that succeeds is forgotten (its back-off ends). Resolves once the queue is shut
 * down and every worker finished its key.
 */
export async function runWorkers<K>(queue: WorkQueue<K>, workers: number, process: (key: K) => Promise<void>, onError: (key: K, error: unknown) => void): Promise<void> {
  await Promise.all(Array.from({ length: workers }, async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await process(key);
        queue.forget(key);
      } catch (error) {
        onError(key, error);
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
    }
  }));
}
