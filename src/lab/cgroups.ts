// The lab's cgroups: one tree per node (`/eastwest-<cluster>`) in every cgroup v1 hierarchy (and the
// unified one). Every process of a node — daemons, shims, pods — lives below it, so `down` can find
// exactly the processes the lab started, even after a killed session.
import { existsSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const CGROUP_ROOT = '/sys/fs/cgroup';

/** Mounted hierarchies (cpu, memory, pids, systemd, unified, …), as directories under /sys/fs/cgroup. */
export function hierarchies(): string[] {
  if (!existsSync(CGROUP_ROOT)) return [];
  return readdirSync(CGROUP_ROOT)
    .map((name) => join(CGROUP_ROOT, name))
    .filter((dir) => existsSync(join(dir, 'cgroup.procs')));
}

/** Creates `/<path>` in every hierarchy; cpuset needs cpus and mems copied from its parent first. */
export function createCgroup(path: string): void {
  for (const hierarchy of hierarchies()) {
    let current = hierarchy;
    for (const part of path.split('/').filter(Boolean)) {
      const parent = current;
      current = join(current, part);
      if (!existsSync(current)) mkdirSync(current);
      for (const file of ['cpuset.cpus', 'cpuset.mems']) {
        const target = join(current, file);
        if (existsSync(target) && readFileSync(target, 'utf8').trim() === '') writeFileSync(target, readFileSync(join(parent, file), 'utf8'));
      }
    }
  }
}

export function joinCgroup(path: string, pid: number): void {
  for (const hierarchy of hierarchies()) writeFileSync(join(hierarchy, path, 'cgroup.procs'), `${pid}\n`);
}

/** Every PID in the tree `/<path>` of every hierarchy. */
export function pidsIn(path: string): number[] {
  const pids = new Set<number>();
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    try {
      for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (line.trim()) pids.add(Number(line));
      for (const entry of readdirSync(dir)) {
        const child = join(dir, entry);
        if (statSync(child).isDirectory()) walk(child);
      }
    } catch {
      // a cgroup removed while walking
    }
  };
  for (const hierarchy of hierarchies()) walk(join(hierarchy, path));
  return [...pids].sort((a, b) => a - b);
}

/** Removes the tree `/<path>` (deepest first) in every hierarchy; cgroups must be empty. */
export function removeCgroup(path: string): string[] {
  const failed: string[] = [];
  const remove = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir)) {
      const child = join(dir, entry);
      try {
        if (statSync(child).isDirectory()) remove(child);
      } catch {
        // gone already
      }
    }
    try {
      rmdirSync(dir);
    } catch (error) {
      failed.push(`${dir}: ${(error as NodeJS.ErrnoException).code}`);
    }
  };
  for (const hierarchy of hierarchies()) remove(join(hierarchy, path));
  return failed;
}

/** Names of lab cgroup trees present (e.g. left by a killed session). */
export function labCgroups(prefix: string): string[] {
  const names = new Set<string>();
  for (const hierarchy of hierarchies()) for (const entry of readdirSync(hierarchy)) if (entry.startsWith(`${prefix}-`)) names.add(entry);
  return [...names].sort();
}
