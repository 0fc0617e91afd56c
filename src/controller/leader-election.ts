// One acting replica among several: a coordination.k8s.io Lease, as client-go's leader election keeps
// it. The holder renews it every few seconds; another replica takes it once it has not been renewed for
// its duration. Writes carry the resourceVersion read, so two replicas can never both win. A holder that
// cannot renew within its renew deadline stops acting before anyone else may take over.
import { CoordinationV1Api, V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import type { KubeClient } from '../k8s/client.ts';

export interface LeaseView {
  holder?: string | undefined;
  /** Last renewal, ms since the epoch. */
  renewedAt?: number | undefined;
  durationSeconds?: number | undefined;
}

export type LeaseAction = 'create' | 'renew' | 'take' | 'wait';

/** What `identity` may do with the lease at `now` (pure). */
export function leaseAction(lease: LeaseView | undefined, identity: string, now: number, defaultDurationSeconds: number): LeaseAction {
  if (!lease) return 'create';
  if (lease.holder === identity) return 'renew';
  if (!lease.holder) return 'take';
  const duration = (lease.durationSeconds ?? defaultDurationSeconds) * 1000;
  if (lease.renewedAt === undefined || now - lease.renewedAt > duration) return 'take';
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
}

export interface LeaderElection {
  /** Resolves when this replica holds the lease (never, if stopped first). */
  leading: Promise<void>;
  /** Resolves when a holder lost the lease (or could not renew in time). */
  lost: Promise<string>;
  stop(): Promise<void>;
}

const viewOf = (lease: V1Lease): LeaseView => ({
  holder: lease.spec?.holderIdentity,
  renewedAt: lease.spec?.renewTime ? new Date(lease.spec.renewTime as unknown as string).getTime() : undefined,
  durationSeconds: lease.spec?.leaseDurationSeconds,
});

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
  let setLeading!: () => void;
  let setLost!: (why: string) => void;
  const leading = new Promise<void>((r) => (setLeading = r));
  const lost = new Promise<string>((r) => (setLost = r));
  let isLeader = false;
  let lastRenew = 0;
  let transitions = 0;

  /** One attempt to acquire or renew: held, or held by another replica. */
  async function attempt(): Promise<'held' | 'other'> {
    const now = Date.now();
    const current: V1Lease | undefined = await options.client.call(`Lease/${namespace}/${name}`, () => api.readNamespacedLease({ name, namespace }), () => undefined);
    const action = leaseAction(current ? viewOf(current) : undefined, identity, now, duration);
    if (action === 'wait') return 'other';
    transitions = current?.spec?.leaseTransitions ?? 0;
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

  async function loop(): Promise<void> {
    if (stopped) return;
    let outcome: 'held' | 'other' | 'failed';
    try {
      outcome = await attempt();
    } catch {
      outcome = 'failed'; // a conflict, a timeout or an unreachable API server: not held this round
    }
    if (stopped) return;
    if (outcome === 'held') {
      lastRenew = Date.now();
      if (!isLeader) {
        isLeader = true;
        setLeading();
      }
    } else if (isLeader && outcome === 'other') {
      setLost('another replica holds the lease');
      return;
    } else if (isLeader && Date.now() - lastRenew > renewDeadline) {
      // Stops acting before another replica may take over (renew deadline < lease duration).
      setLost(`the lease could not be renewed for ${Math.round((Date.now() - lastRenew) / 1000)} s`);
      return;
    }
    timer = setTimeout(() => void loop(), isLeader && outcome === 'held' ? renewEvery : retry);
  }

  void loop();
  return {
    leading,
    lost,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (!isLeader) return;
      // Released for the next replica at once (as client-go's ReleaseOnCancel does).
      try {
        const current = await options.client.call(`Lease/${namespace}/${name}`, () => api.readNamespacedLease({ name, namespace }));
        if (current.spec?.holderIdentity === identity) {
          await options.client.call(`release Lease/${namespace}/${name}`, () => api.replaceNamespacedLease({ name, namespace, body: { ...current, spec: { ...current.spec, holderIdentity: undefined, renewTime: microTime(Date.now() - duration * 1000) } } }));
        }
      } catch {
        // It then expires on its own.
      }
    },
  };
}
