// `lab status`: what runs, from the system itself.
import { readLabState, type LabState } from './lab-state.ts';

export interface LabStatus extends LabState {
  summary: string;
}

export async function labStatus(): Promise<LabStatus> {
  const state = await readLabState();
  const summary = state.running
    ? `running: ${state.nodes.map((n) => n.cluster).join(', ')} (kubeconfig ${state.kubeconfig})`
    : state.stale
      ? `not running, but leftovers of a previous lab are present (run eastwest lab down, or lab up clears them)`
      : 'not running';
  return { ...state, summary };
}
