// What of the lab is on this machine now, read from the system itself (namespaces, links, cgroups,
// node directories, supervisor PIDs) — so a lab whose session was killed is recognised too.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { labCgroups, pidsIn } from './cgroups.ts';
import { labNetworkState } from './host-network.ts';
import { LAB_PREFIX, LAB_BRIDGE } from './plan.ts';
import { LAB_STATE_ROOT, nodeDir } from './node/node-layout.ts';

export interface NodeState {
  cluster: string;
  phase: string;
  supervisorPid: number | undefined;
  supervisorAlive: boolean;
  pids: Record<string, number>;
  error?: string;
}

export interface LabState {
  nodes: NodeState[];
  netns: string[];
  links: string[];
  iptablesRules: string[];
  cgroups: string[];
  /** PIDs inside the lab's cgroups. */
  processes: number[];
  kubeconfig: string | undefined;
  running: boolean;
  /** Something is left, but not a running lab (e.g. after a killed session). */
  stale: boolean;
}

import { LAB_KUBECONFIG } from '../sources/lab-state-files.ts';

export { LAB_EASTWEST_IMAGE_FILE, LAB_KUBECONFIG, readLabEastwestImage, recordLabEastwestImage } from '../sources/lab-state-files.ts';

export function isOurSupervisor(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('supervisor.ts');
  } catch {
    return false;
  }
}

export function readNodeStates(): NodeState[] {
  const root = join(LAB_STATE_ROOT, 'nodes');
  if (!existsSync(root)) return [];
  return readdirSync(root).sort().map((cluster) => {
    let status: { phase?: string; supervisor?: number; pids?: Record<string, number>; error?: string } = {};
    try {
      status = JSON.parse(readFileSync(join(nodeDir(cluster), 'status.json'), 'utf8'));
    } catch {
      // not started
    }
    const pid = status.supervisor;
    return {
      cluster,
      phase: status.phase ?? 'absent',
      supervisorPid: pid,
      supervisorAlive: pid !== undefined && isOurSupervisor(pid),
      pids: status.pids ?? {},
      ...(status.error ? { error: status.error } : {}),
    };
  });
}

export async function readLabState(): Promise<LabState> {
  const nodes = readNodeStates();
  const network = await labNetworkState(LAB_BRIDGE);
  const cgroups = labCgroups(LAB_PREFIX);
  const processes = cgroups.flatMap((c) => pidsIn(c));
  const running = nodes.length > 0 && nodes.every((n) => n.supervisorAlive && n.phase === 'running');
  const anything = nodes.length > 0 || network.netns.length > 0 || network.links.length > 0 || cgroups.length > 0 || network.iptablesRules.length > 0;
  return {
    nodes, ...network, cgroups, processes,
    kubeconfig: existsSync(LAB_KUBECONFIG) ? LAB_KUBECONFIG : undefined,
    running,
    stale: anything && !running,
  };
}
