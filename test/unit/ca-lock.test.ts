// One writer at a time in a CA directory: a real lock file in a temporary directory, with the process
// table and host given, so that a live, a dead and a remote holder are each tried.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CA_LOCK_FILE, lockCaDirectory, staleHolder, systemLockEnvironment, type CaLockEnvironment } from '../../src/pki/ca-lock.ts';

const fresh = () => mkdtempSync(join(tmpdir(), 'eastwest-lock-'));
const env = (pid: number, alive: number[] = [], host = 'laptop'): CaLockEnvironment => ({ pid, host, alive: (p) => alive.includes(p) || p === pid, now: () => new Date('2026-11-28T10:00:00Z') });

describe('the CA directory lock', () => {
  it('is taken, names its holder, and is gone after release', async () => {
    const dir = fresh();
    const lock = await lockCaDirectory(dir, 'ca rotate --root', env(100));
    const recorded = JSON.parse(readFileSync(join(dir, CA_LOCK_FILE), 'utf8'));
    expect(recorded).toEqual({ pid: 100, host: 'laptop', command: 'ca rotate --root', since: '2026-11-28T10:00:00.000Z' });
    await lock.release();
    expect(existsSync(join(dir, CA_LOCK_FILE))).toBe(false);
  });

  it('is refused while a live process of this host holds it (exit 2, naming the holder and its command)', async () => {
    const dir = fresh();
    await lockCaDirectory(dir, 'ca rotate --root', env(100));
    const refused = lockCaDirectory(dir, 'ca rotate --intermediates', env(200, [100]));
    await expect(refused).rejects.toMatchObject({ code: 'ca-directory-locked', exitCode: 2 });
    await expect(lockCaDirectory(dir, 'ca rotate --intermediates', env(200, [100]))).rejects.toThrow(/`eastwest ca rotate --root` \(pid 100 on laptop\)/);
  });

  it('is taken over from a process that is gone (a killed rotation resumes by running it again)', async () => {
    const dir = fresh();
    await lockCaDirectory(dir, 'ca rotate --root', env(100));
    const lock = await lockCaDirectory(dir, 'ca rotate --root', env(200));
    expect(JSON.parse(readFileSync(join(dir, CA_LOCK_FILE), 'utf8')).pid).toBe(200);
    await lock.release();
    expect(existsSync(join(dir, CA_LOCK_FILE))).toBe(false);
  });

  it('from another host is refused even when that pid is not alive here, with the file to remove', async () => {
    const dir = fresh();
    await lockCaDirectory(dir, 'ca rotate --root', env(100, [], 'build-box'));
    const attempt = lockCaDirectory(dir, 'ca rotate --root', env(200, [], 'laptop'));
    await expect(attempt).rejects.toMatchObject({ code: 'ca-directory-locked' });
    await expect(lockCaDirectory(dir, 'ca rotate --root', env(200, [], 'laptop'))).rejects.toHaveProperty('hint', expect.stringContaining(join(dir, CA_LOCK_FILE)));
  });

  it('a file that is not a lock (empty, damaged) is replaced', async () => {
    for (const text of ['', '{not json', '{"pid":"x"}']) {
      const dir = fresh();
      writeFileSync(join(dir, CA_LOCK_FILE), text);
      const lock = await lockCaDirectory(dir, 'ca rotate --root', env(300));
      expect(lock.holder.pid).toBe(300);
      await lock.release();
    }
  });

  it('release leaves a lock that another run took over meanwhile', async () => {
    const dir = fresh();
    const first = await lockCaDirectory(dir, 'ca rotate --root', env(100));
    // 100 looked gone to 200 (e.g. a pid check across a container boundary): 200 holds it now.
    await lockCaDirectory(dir, 'ca rotate --root', env(200));
    await first.release();
    expect(JSON.parse(readFileSync(join(dir, CA_LOCK_FILE), 'utf8')).pid).toBe(200);
  });

  it('staleHolder: only a holder of this host whose process is gone, or no holder', () => {
    const here = { host: 'laptop', alive: (p: number) => p === 1 };
    expect(staleHolder(undefined, here)).toBe(true);
    expect(staleHolder({ pid: 1, host: 'laptop', command: 'x', since: '' }, here)).toBe(false);
    expect(staleHolder({ pid: 2, host: 'laptop', command: 'x', since: '' }, here)).toBe(true);
    expect(staleHolder({ pid: 2, host: 'other', command: 'x', since: '' }, here)).toBe(false);
  });

  it('the system environment sees this process as alive and a pid far out of range as gone', () => {
    const system = systemLockEnvironment();
    expect(system.alive(system.pid)).toBe(true);
    expect(system.alive(2 ** 22 + 12345)).toBe(false);
  });
});
