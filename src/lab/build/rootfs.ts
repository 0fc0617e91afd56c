// The base layer of every lab image: a Debian minbase root file system from debootstrap, trimmed.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Reporter } from '../../core/reporter.ts';
import { exec } from '../../util/exec.ts';
import { cachedPart, type BuiltPart } from '../cache.ts';
import type { LabVersions } from '../../sources/lab-versions.ts';

/** The Debian mirror apt already uses on this machine. */
async function debianMirror(): Promise<string> {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const match = /^URIs:\s*(\S+)/m.exec(text) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/m.exec(text);
    if (match) return match[1]!;
  }
  return 'http://deb.debian.org/debian';
}

export async function buildRootfs(versions: LabVersions, reporter: Reporter): Promise<BuiltPart> {
  const pins = { suite: versions.debian.suite, packages: versions.debian.imagePackages, layout: 1 };
  return cachedPart('rootfs', pins, async (dir) => {
    const root = join(dir, 'rootfs');
    await exec('debootstrap', ['--variant=minbase', `--include=${pins.packages.join(',')}`, pins.suite, root, await debianMirror()], { timeoutMs: 30 * 60_000 });
    for (const path of ['var/cache/apt', 'var/lib/apt/lists', 'usr/share/doc', 'usr/share/man', 'usr/share/locale', 'usr/share/info', 'var/log']) {
      await rm(join(root, path), { recursive: true, force: true });
    }
    // A reproducible layer: sorted names, fixed times and owners.
    await exec('tar', ['--sort=name', '--mtime=@0', '--numeric-owner', '-C', root, '-cf', join(dir, 'layer.tar'), '.'], { timeoutMs: 10 * 60_000 });
    await rm(root, { recursive: true, force: true });
  }, reporter);
}
