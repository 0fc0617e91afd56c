import { describe, expect, it } from 'vitest';
import { type Clock, ExponentialBackoff, MaxOf, runWorkers, TokenBucket, WorkQueue } from '../../src/controller/work-queue.ts';

/** A clock that moves only when told to. */
class FakeClock implements Clock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private next = 0;
  now = () => this.t;
  after(ms: number, fn: () => void) {
    const id = this.next++;
    this.timers.push({ at: this.t + ms, fn, id });
    return () => {
      this.timers = this.timers.filter((x) => x.id !== id);
    };
  }

  advance(ms: number) {
    const until = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x.id !== due.id);
      this.t = due.at;
      due.fn();
    }
    this.t = until;
  }

  get pending() {
    return this.timers.length;
  }
}

const drain = async <K>(q: WorkQueue<K>): Promise<K[]> => {
  const out: K[] = [];
  while (q.length > 0) {
    const k = (await q.get())!;
    out.push(k);
    q.done(k);
  }
  return out;
};

describe('work queue: keys', () => {
  it('a key added twice before it is taken is processed once, in the order of its first adding', async () => {
    const q = new WorkQueue<string>({ clock: new FakeClock() });
    q.add('a');
    q.add('b');
    q.add('a');
    expect(await drain(q)).toEqual(['a', 'b']);
  });

  it('a key added while a worker holds it is not handed to another worker, and comes again once done', async () => {
    const q = new WorkQueue<string>({ clock: new FakeClock() });
    q.add('a');
    const first = await q.get();
    q.add('a');
    expect(q.length).toBe(0); // not queued while processing
    q.add('b');
    expect(await q.get()).toBe('b');
    q.done('b');
    q.done(first!);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('a');
  });

  it('a key done without being added meanwhile is not processed again', async () => {
    const q = new WorkQueue<string>({ clock: new FakeClock() });
    q.add('a');
    q.done((await q.get())!);
    expect(q.length).toBe(0);
  });

  it('a waiting worker gets the next key added', async () => {
    const q = new WorkQueue<string>({ clock: new FakeClock() });
    const taken = q.get();
    q.add('x');
    expect(await taken).toBe('x');
    q.add('x'); // while processing: later
    expect(q.length).toBe(0);
    q.done('x');
    expect(q.length).toBe(1);
  });

  it('after shutDown waiting workers get undefined and nothing more is queued', async () => {
    const q = new WorkQueue<string>({ clock: new FakeClock() });
    const taken = q.get();
    q.shutDown();
    expect(await taken).toBeUndefined();
    q.add('a');
    expect(await q.get()).toBeUndefined();
  });
});

describe('work queue: delays', () => {
  it('addAfter queues the key when its time comes, not before', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue<string>({ clock });
    q.addAfter('a', 100);
    clock.advance(99);
    expect(q.length).toBe(0);
    clock.advance(1);
    expect(q.length).toBe(1);
  });

  it('the earlier of two delays of one key wins, and it is queued once', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue<string>({ clock });
    q.addAfter('a', 1000);
    q.addAfter('a', 100);
    q.addAfter('a', 500);
    expect(clock.pending).toBe(1);
    clock.advance(100);
    expect(q.length).toBe(1);
    clock.advance(2000);
    expect(q.length).toBe(1);
  });

  it('a delayed key that is also added now is processed now, and again when its delay ends', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue<string>({ clock });
    q.addAfter('a', 100);
    q.add('a');
    expect(await drain(q)).toEqual(['a']);
    clock.advance(100);
    expect(q.length).toBe(1);
  });

  it('addAfter with no delay is add', () => {
    const q = new WorkQueue<string>({ clock: new FakeClock() });
    q.addAfter('a', 0);
    expect(q.length).toBe(1);
  });

  it('shutDown cancels delayed keys', () => {
    const clock = new FakeClock();
    const q = new WorkQueue<string>({ clock });
    q.addAfter('a', 100);
    q.shutDown();
    expect(clock.pending).toBe(0);
  });
});

describe('rate limiters', () => {
  it('exponential back-off per key: base, doubled per failure, capped; forget starts over; keys are independent', () => {
    const l = new ExponentialBackoff<string>(100, 1000);
    expect([l.when('a'), l.when('a'), l.when('a'), l.when('a'), l.when('a')]).toEqual([100, 200, 400, 800, 1000]);
    expect(l.when('b')).toBe(100);
    expect(l.failures('a')).toBe(5);
    l.forget('a');
    expect(l.when('a')).toBe(100);
  });

  it('never overflows after many failures', () => {
    const l = new ExponentialBackoff<string>(100, 30_000);
    for (let i = 0; i < 5000; i++) l.when('a');
    expect(l.when('a')).toBe(30_000);
  });

  it('token bucket: a burst at once, then one every 1/rate; refills with time', () => {
    const clock = new FakeClock();
    const b = new TokenBucket<string>(10, 3, clock);
    expect([b.when('a'), b.when('b'), b.when('c')]).toEqual([0, 0, 0]);
    expect(b.when('d')).toBe(100);
    expect(b.when('e')).toBe(200);
    clock.advance(1000);
    expect(b.when('f')).toBe(0);
  });

  it('max of: the longest wait counts', () => {
    const clock = new FakeClock();
    const l = new MaxOf<string>(new ExponentialBackoff(5, 1000), new TokenBucket(1, 1, clock));
    expect(l.when('a')).toBe(5);
    expect(l.when('b')).toBe(1000);
  });

  it('addRateLimited waits as the limiter says; forget ends the back-off', () => {
    const clock = new FakeClock();
    const q = new WorkQueue<string>({ clock, limiter: new ExponentialBackoff(100, 10_000) });
    q.addRateLimited('a');
    q.addRateLimited('a'); // 200 ms: the pending 100 ms wins
    clock.advance(100);
    expect(q.length).toBe(1);
    expect(q.failures('a')).toBe(2);
    q.forget('a');
    expect(q.failures('a')).toBe(0);
  });
});

describe('workers', () => {
  it('a failing key is retried with back-off until it succeeds, then forgotten; other keys are not held up', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue<string>({ clock, limiter: new ExponentialBackoff(100, 10_000) });
    let failuresLeft = 2;
    const seen: string[] = [];
    const errors: string[] = [];
    const running = runWorkers(q, 2, async (key) => {
      seen.push(key);
      if (key === 'bad' && failuresLeft-- > 0) throw new Error('refused');
    }, (key) => errors.push(key));
    q.add('bad');
    q.add('good');
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['bad', 'good']);
    clock.advance(100);
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['bad', 'good', 'bad']);
    clock.advance(199);
    await new Promise((r) => setImmediate(r));
    expect(seen.length).toBe(3); // the second wait is 200 ms
    clock.advance(1);
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['bad', 'good', 'bad', 'bad']);
    expect(errors).toEqual(['bad', 'bad']);
    expect(q.failures('bad')).toBe(0);
    q.shutDown();
    await running;
  });

  it('one key is never processed by two workers at once', async () => {
    const q = new WorkQueue<string>({ clock: new FakeClock() });
    let inFlight = 0;
    let most = 0;
    let runs = 0;
    const gate: (() => void)[] = [];
    const running = runWorkers(q, 4, async () => {
      inFlight++;
      runs++;
      most = Math.max(most, inFlight);
      await new Promise<void>((r) => gate.push(r));
      inFlight--;
    }, () => undefined);
    q.add('k');
    await new Promise((r) => setImmediate(r));
    q.add('k');
    q.add('k');
    await new Promise((r) => setImmediate(r));
    expect(most).toBe(1);
    gate.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(runs).toBe(2); // the adds during the first run made one more run
    gate.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(runs).toBe(2);
    expect(most).toBe(1);
    q.shutDown();
    await running;
  });
});
