// Where built parts live: outside the repository, keyed by their pins, complete or absent.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Reporter } from '../core/reporter.ts';
import { pinHash } from '../sources/lab-versions.ts';

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.EASTWEST_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'eastwest', 'lab');
}

export interface BuiltPart {
  name: string;
  dir: string;
  /** True when it was built now, false when the cache had it. */
  built: boolean;
  seconds: number;
}

const COMPLETE = '.complete';
const HEARTBEAT_MS = 60_000;

/**
 * Returns the cached directory of a part, building it first when its pins changed or it is missing.
 * The build writes into a temporary directory that is renamed into place only when it succeeded.
 */
export async function cachedPart(
  name: string,
  pins: unknown,
  build: (dir: string) => Promise<void>,
  reporter: Reporter,
): Promise<BuiltPart> {
  const dir = join(cacheRoot(), 'parts', `${name}-${pinHash(pins)}`);
  if (existsSync(join(dir, COMPLETE))) return { name, dir, built: false, seconds: 0 };
  const started = Date.now();
  reporter.report({ level: 'info', code: 'lab-build', message: `building ${name} (pins changed or not cached) …`, data: { part: name } });
  const tmp = `${dir}.building`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  // A long build is never silent: a line a minute with what and how long, on a terminal and in CI logs.
  const heartbeat = setInterval(() => {
    const s = Math.round((Date.now() - started) / 1000);
    reporter.report({ level: 'info', code: 'lab-building', message: `still building ${name} (${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s)`, data: { part: name } });
  }, HEARTBEAT_MS);
  heartbeat.unref();
  try {
    await build(tmp);
  } finally {
    clearInterval(heartbeat);
  }
  await writeFile(join(tmp, COMPLETE), `${JSON.stringify(pins)}\n`);
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  reporter.report({ level: 'info', code: 'lab-built', message: `built ${name} in ${seconds} s`, data: { part: name } });
  return { name, dir, built: true, seconds };
}

/**
 * Removes older builds of a part whose pins change often (the images, eastwest's own image): `<name>-<hash>`
 * directories other than `part`'s, keeping the `keepOthers` most recently built (another checkout sharing the
 * cache may use one). Each images build is ~700 MB: without this, the cache grew by that at every change.
 */
export function pruneOlderBuilds(part: BuiltPart, keepOthers: number): string[] {
  const parts = dirname(part.dir);
  const own = new RegExp(`^${part.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-[0-9a-f]+$`);
  const others = readdirSync(parts)
    .filter((entry) => own.test(entry) && join(parts, entry) !== part.dir)
    .map((entry) => ({ entry, built: statSync(join(parts, entry)).mtimeMs }))
    .sort((a, b) => b.built - a.built);
  const removed = others.slice(keepOthers).map((o) => o.entry);
  for (const entry of removed) rmSync(join(parts, entry), { recursive: true, force: true });
  return removed;
}
