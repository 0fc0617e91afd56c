// One acting replica among several: a coordination.k8s.io Lease, as client-go's leader election keeps
// it. The holder renews it every few seconds; another replica takes it once it has seen the lease
// unchanged for its duration (measured on its own clock, so clock skew between nodes does not matter).
// Writes carry the resourceVersion read, so two replicas can never both win. A holder that has not
// renewed within its renew deadline (shorter than the duration) stops acting — by a timer, not after a
// slow request returns — before anyone else may take over.
import { CoordinationV1Api, V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import type { KubeClient } from '../k8s/client.ts';

export interface LeaseView {
  holder?: string | undefined;
  /** When this replica last saw the lease record change (ms, its own clock). */
  observedAt?: number | undefined;
  durationSeconds?: number | undefined;
}

export type LeaseAction = 'create' | 'renew' | 'take' | 'wait';

/** What `identity` may do with the lease at `now` (pure). */
export function leaseAction(lease: LeaseView | undefined, identity: string, now: number, defaultDurationSeconds: number): LeaseAction {
  if (!lease) return 'create';
  if (lease.holder === identity) return 'renew';
  if (!lease.holder) return 'take';
  const duration = (lease.durationSeconds ?? defaultDurationSeconds) * 1000;
  if (lease.observedAt === undefined || now - lease.observedAt > duration) return 'take';
  return 'wait';
}

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  durationSeconds?: number;
  renewSeconds?: number;
  /** A holder that has not renewed for this long stops acting (less than the duration). */
  renewDeadlineSeconds?: number;
  retrySeconds?: number;
  /** Told when attempts keep failing (an API server that does not answer, a 401, a 403). */
  onError?: (message: string) => void;
}

export interface LeaderElection {
  /** Resolves when this replica holds the lease (never, if stopped first). */
  leading: Promise<void>;
  /** Resolves when a holder lost the lease (or could not renew in time). */
  lost: Promise<string>;
  /** True while this replica holds the lease and its renew deadline has not passed. */
  isLeading(): boolean;
  stop(): Promise<void>;
}

const microTime = (now: number) => new V1MicroTime(now);

export function startLeaderElection(options: LeaderElectionOptions): LeaderElection {
  const duration = options.durationSeconds ?? 15;
  const renewEvery = (options.renewSeconds ?? 5) * 1000;
  const renewDeadline = (options.renewDeadlineSeconds ?? 10) * 1000;
  const retry = (options.retrySeconds ?? 2) * 1000;
  const api = options.client.config.makeApiClient(CoordinationV1Api);
  const { namespace, name, identity } = options;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  let setLeading!: () => void;
  let setLost!: (why: string) => void;
  const leading = new Promise<void>((r) => (setLeading = r));
  const lost = new Promise<string>((r) => (setLost = r));
  let isLeader = false;
  let hasLost = false;
  let failures = 0;
  let inFlight: Promise<void> = Promise.resolve();
  /** The last lease record seen and when it was first seen (this replica's clock). */
  let observed: { key: string; at: number } | undefined;

  const lose = (why: string) => {
    if (hasLost) return;
    hasLost = true;
    isLeader = false;
    if (deadline) clearTimeout(deadline);
    setLost(why);
  };

  /** One attempt to acquire or renew, stamped with the time it started. */
  async function attempt(now: number): Promise<'held' | 'other'> {
    const current: V1Lease | undefined = await options.client.call(`Lease/${namespace}/${name}`, () => api.readNamespacedLease({ name, namespace }), () => undefined);
    const key = current ? `${current.spec?.holderIdentity ?? ''}|${current.metadata?.resourceVersion ?? ''}` : '';
    if (!observed || observed.key !== key) observed = { key, at: now };
    const view = current ? { holder: current.spec?.holderIdentity, observedAt: observed.at, durationSeconds: current.spec?.leaseDurationSeconds } : undefined;
    const action = leaseAction(view, identity, now, duration);
    if (action === 'wait') return 'other';
    const transitions = current?.spec?.leaseTransitions ?? 0;
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: duration,
      renewTime: microTime(now),
      acquireTime: action === 'renew' ? current!.spec!.acquireTime : microTime(now),
      leaseTransitions: action === 'take' ? transitions + 1 : transitions,
    };
    if (action === 'create') {
      await options.client.call(`create Lease/${namespace}/${name}`, () => api.createNamespacedLease({ namespace, body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec } }));
    } else {
      // The resourceVersion read makes this write fail (409) if anyone wrote the lease meanwhile.
      await options.client.call(`update Lease/${namespace}/${name}`, () => api.replaceNamespacedLease({ name, namespace, body: { ...current!, spec } }));
    }
    return 'held';
  }

  async function round(): Promise<void> {
    if (stopped || hasLost) return;
    const now = Date.now();
    let outcome: 'held' | 'other' | 'failed';
    try {
      outcome = await attempt(now);
      failures = 0;
    } catch (error) {
      outcome = 'failed'; // a conflict, a timeout or an unreachable API server: not held this round
      if (++failures % 5 === 0) options.onError?.(`${failures} lease attempts in a row failed: ${(error as Error).message}`);
    }
    if (outcome === 'held' && !hasLost) {
      // Acting until the renew deadline after this attempt started, unless renewed again before.
      if (deadline) clearTimeout(deadline);
      deadline = setTimeout(() => lose(`the lease could not be renewed for ${renewDeadline / 1000} s`), Math.max(0, renewDeadline - (Date.now() - now)));
      if (!isLeader) {
        isLeader = true;
        setLeading();
      }
    } else if (isLeader && outcome === 'other') {
      lose('another replica holds the lease');
    }
    if (stopped || hasLost) return;
    timer = setTimeout(() => void (inFlight = round()), isLeader && outcome === 'held' ? renewEvery : retry);
  }

  inFlight = round();
  return {
    leading,
    lost,
    isLeading: () => isLeader && !hasLost,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight.catch(() => undefined); // an attempt in flight may still take the lease: then it is released
      if (deadline) clearTimeout(deadline);
      if (!isLeader && !hasLost) return;
      isLeader = false;
      // Released for the next replica at once (as client-go's ReleaseOnCancel does); tried twice, since
      // a renewal of our own may have moved the resourceVersion.
      for (let i = 0; i < 2; i++) {
        try {
          const current = await options.client.call(`Lease/${namespace}/${name}`, () => api.readNamespacedLease({ name, namespace }));
          if (current.spec?.holderIdentity !== identity) return;
          await options.client.call(`release Lease/${namespace}/${name}`, () => api.replaceNamespacedLease({ name, namespace, body: { ...current, spec: { ...current.spec, holderIdentity: undefined, renewTime: microTime(Date.now() - duration * 1000) } } }));
          return;
        } catch {
          // Tried again once; otherwise it expires on its own.
        }
      }
    },
  };
}
