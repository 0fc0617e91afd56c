// `lab down`: undoes what `up` did, and clears what a killed lab left (processes in the lab's cgroups,
// namespaces, links, the iptables rule, cgroups, node directories, host mount points). Idempotent.
import { existsSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Reporter } from '../core/reporter.ts';
import { exec } from '../util/exec.ts';
import { sleep } from '../util/poll.ts';
import { labCgroups, pidsIn, removeCgroup } from './cgroups.ts';
import { removeLabNetwork } from './host-network.ts';
import { readNodeStates } from './lab-state.ts';
import { LAB_BRIDGE, LAB_PREFIX } from './plan.ts';
import { LAB_STATE_ROOT } from './node/node-layout.ts';

export const HOST_MOUNTPOINTS_FILE = join(LAB_STATE_ROOT, 'host-mountpoints.json');

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export interface DownResult {
  stoppedSupervisors: string[];
  killedProcesses: number;
  leftovers: string[];
}

export async function labDown(reporter: Reporter): Promise<DownResult> {
  const stoppedSupervisors: string[] = [];
  // 1. Ask each live supervisor to stop its daemons in order.
  for (const node of readNodeStates()) {
    if (node.supervisorAlive && node.supervisorPid) {
      signal(node.supervisorPid, 'SIGTERM');
      stoppedSupervisors.push(node.cluster);
    }
  }
  for (let i = 0; i < 120 && readNodeStates().some((n) => n.supervisorAlive); i++) await sleep(250);

  // 2. Whatever still runs in the lab's cgroups (pods, shims, a killed lab's daemons) was started by the lab.
  let killed = 0;
  for (let round = 0; round < 60; round++) {
    const pids = labCgroups(LAB_PREFIX).flatMap((c) => pidsIn(c));
    if (pids.length === 0) break;
    for (const pid of pids) signal(pid, 'SIGKILL');
    killed += round === 0 ? pids.length : 0;
    await sleep(250);
  }
  if (killed) reporter.report({ level: 'info', code: 'lab-killed', message: `killed ${killed} lab process(es)` });

  // 3. Mounts that leaked to the host (none should), then networks, cgroups, files.
  const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(LAB_STATE_ROOT)).reverse();
  for (const mount of mounts) await exec('umount', ['-l', mount], { okCodes: [32] });
  await removeLabNetwork(LAB_BRIDGE);
  const leftovers: string[] = [];
  for (const cgroup of labCgroups(LAB_PREFIX)) leftovers.push(...removeCgroup(cgroup));
  if (existsSync(HOST_MOUNTPOINTS_FILE)) {
    const created = JSON.parse(readFileSync(HOST_MOUNTPOINTS_FILE, 'utf8')) as string[];
    for (const dir of [...created].reverse()) {
      try {
        if (existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir);
      } catch (error) {
        leftovers.push(`${dir}: ${(error as Error).message}`);
      }
    }
  }
  await rm(LAB_STATE_ROOT, { recursive: true, force: true });
  return { stoppedSupervisors, killedProcesses: killed, leftovers };
}
