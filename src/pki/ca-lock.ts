// One writer at a time in a CA directory: a rotation (or anything else that replaces its files) holds
// `<directory>/.lock` — created exclusively, naming its process and host — for as long as it runs. A lock
// whose process is gone (on this host) is taken over: a killed rotation must be resumable by running it
// again. A lock from another host cannot be checked, so it is refused with how to clear it.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { EastwestError, EXIT } from '../core/errors.ts';

export const CA_LOCK_FILE = '.lock';

export interface CaLockHolder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

export interface CaLock {
  holder: CaLockHolder;
  release(): Promise<void>;
}

export interface CaLockEnvironment {
  pid: number;
  host: string;
  /** Whether a process of this host is alive. */
  alive(pid: number): boolean;
  now(): Date;
}

/** Signal 0 checks that a process exists without touching it (EPERM: it exists, owned by another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export const systemLockEnvironment = (): CaLockEnvironment => ({ pid: process.pid, host: hostname(), alive: processAlive, now: () => new Date() });

function parseHolder(text: string): CaLockHolder | undefined {
  try {
    const h = JSON.parse(text) as Partial<CaLockHolder>;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? { pid: h.pid, host: h.host, command: String(h.command ?? '?'), since: String(h.since ?? '?') } : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a recorded holder may be replaced: its process is gone (same host only), or the file is not a lock at all. */
export function staleHolder(holder: CaLockHolder | undefined, env: Pick<CaLockEnvironment, 'host' | 'alive'>): boolean {
  if (!holder) return true;
  return holder.host === env.host && !env.alive(holder.pid);
}

export async function lockCaDirectory(directory: string, command: string, env: CaLockEnvironment = systemLockEnvironment()): Promise<CaLock> {
  const path = join(directory, CA_LOCK_FILE);
  const holder: CaLockHolder = { pid: env.pid, host: env.host, command, since: env.now().toISOString() };
  const text = `${JSON.stringify(holder)}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(path, text, { flag: 'wx', mode: 0o600 });
      return {
        holder,
        async release() {
          // Only our own lock is removed (a run that lost it to a takeover leaves the new holder's).
          const now = await readFile(path, 'utf8').catch(() => '');
          if (now === text) await rm(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const existing = await readFile(path, 'utf8').catch(() => undefined);
    if (existing === undefined) continue; // released meanwhile
    const other = parseHolder(existing);
    if (!staleHolder(other, env)) {
      const same = other!.host === env.host;
      throw new EastwestError('ca-directory-locked', `the CA directory ${directory} is in use: \`eastwest ${other!.command}\` (pid ${other!.pid} on ${other!.host}) has held it since ${other!.since}; nothing was changed`, {
        exitCode: EXIT.badInput,
        hint: same ? 'wait for that run to end (or stop it: a root rotation resumes where it stopped)' : `wait for that run on ${other!.host} to end; if it is gone, remove ${path}`,
      });
    }
    // A holder that is gone: taken over (removed, then created exclusively again — a racing run may win).
    await rm(path, { force: true });
  }
  throw new EastwestError('ca-directory-locked', `the CA directory ${directory} could not be locked (${path} keeps coming back)`, { exitCode: EXIT.badInput, hint: 'another eastwest run is starting on this CA directory: wait for it' });
}
