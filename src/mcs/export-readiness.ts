// An export's Ready condition: its own cluster's east-west gateway routes the name, so the other
// clusters may send to it. Until then they do not: a connection their sidecars sent to a gateway that
// does not know the name yet would be reset, and their outlier detection would eject that gateway (the
// only endpoint, often) for seconds after it learned the name.
import type { Condition } from './imports.ts';

/** How long a gateway may refuse a name whose endpoints are ready before it is routed unconfirmed. */
export const UNCONFIRMED_AFTER_MS = 30_000;
/** How long a gateway may not be reachable from this controller (a load balancer without hairpin) before that. */
export const UNREACHABLE_UNCONFIRMED_AFTER_MS = 5_000;

export type ProbeAnswer = { answer: 'passes'; identity?: string } | { answer: 'refuses' | 'unreachable'; detail: string };

export interface ReadinessInput {
  /** The clusterset name and the port probed. */
  host: string;
  cluster: string;
  /** Its gateway's address as the other clusters route to it; undefined: none yet. */
  gateway: string | undefined;
  /** Ready endpoints of its Service here; undefined: not known. */
  readyEndpoints: number | undefined;
  /** The export's Ready condition as it is now, if any. */
  live: Condition | undefined;
  /** The gateway's answer, when one was asked for (see needsProbe). */
  probe?: ProbeAnswer;
  /** Since when (ms since the epoch) the gateway has not passed the name (refused, or could not be asked), if so. */
  refusingSince?: number;
  now: number;
}

const READY_REASONS_KEPT = new Set(['GatewayServes', 'GatewayUnconfirmed']);

/** Whether the gateway must be asked: Ready is not settled by what is already known. */
export function needsProbe(input: Omit<ReadinessInput, 'probe' | 'refusingSince' | 'now'>): boolean {
  if (input.gateway === undefined || input.readyEndpoints === 0) return false;
  return !(input.live?.status === 'True' && READY_REASONS_KEPT.has(input.live.reason));
}

/** The Ready condition (pure). A settled Ready=True is kept: once routed, a name is not probed again. */
export function readyCondition(input: ReadinessInput): Condition {
  const where = (gateway: string) => `cluster ${input.cluster}'s east-west gateway (${gateway}:15443)`;
  if (input.gateway === undefined) {
    return { type: 'Ready', status: 'False', reason: 'NoGatewayAddress', message: `cluster ${input.cluster}'s east-west gateway has no address yet: no other cluster can reach ${input.host}` };
  }
  if (input.readyEndpoints === 0) {
    return { type: 'Ready', status: 'False', reason: 'NoReadyEndpoints', message: `no ready endpoint in cluster ${input.cluster}: the other clusters do not route ${input.host} here` };
  }
  if (input.live?.status === 'True' && READY_REASONS_KEPT.has(input.live.reason) && !input.probe) {
    return { type: 'Ready', status: 'True', reason: input.live.reason, message: input.live.message };
  }
  const probe = input.probe;
  if (probe?.answer === 'passes') {
    return { type: 'Ready', status: 'True', reason: 'GatewayServes', message: `${where(input.gateway)} routes ${input.host}${probe.identity ? ` (to ${probe.identity})` : ''}` };
  }
  const since = input.refusingSince ?? input.now;
  if (probe?.answer === 'unreachable') {
    // A load balancer may not take this controller's own connections (hairpin) and still serve peers:
    // after a few seconds of that, routed unconfirmed (a gateway pod restarting answers again sooner).
    if (input.now - since >= UNREACHABLE_UNCONFIRMED_AFTER_MS) {
      return { type: 'Ready', status: 'True', reason: 'GatewayUnconfirmed', message: `${where(input.gateway)} could not be asked from this controller for ${Math.round((input.now - since) / 1000)} s (${probe.detail}); routed unconfirmed` };
    }
    return { type: 'Ready', status: 'False', reason: 'GatewayUnreachable', message: `${where(input.gateway)} could not be asked from this controller (${probe.detail}); asked again` };
  }
  if (input.now - since >= UNCONFIRMED_AFTER_MS) {
    return { type: 'Ready', status: 'True', reason: 'GatewayUnconfirmed', message: `${where(input.gateway)} has not routed ${input.host} for ${Math.round((input.now - since) / 1000)} s (${probe?.detail ?? 'not asked'}); routed unconfirmed: see eastwest doctor` };
  }
  return { type: 'Ready', status: 'False', reason: 'GatewayLearning', message: `${where(input.gateway)} does not route ${input.host} yet (its istiod has not pushed it); the other clusters route here once it does` };
}
