// Debian packages the lab needs on the host (containerd, runc, CNI plugins, iptables, debootstrap …),
// installed with apt-get when missing, so a fresh machine needs no manual step.
import type { Reporter } from '../../core/reporter.ts';
import { exec } from '../../util/exec.ts';

export async function missingPackages(packages: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const name of packages) {
    const r = await exec('dpkg-query', ['-W', '-f', '${Status}', name], { okCodes: [1] });
    if (!r.stdout.includes('install ok installed')) missing.push(name);
  }
  return missing;
}

export async function ensureHostPackages(packages: readonly string[], reporter: Reporter): Promise<string[]> {
  const missing = await missingPackages(packages);
  if (missing.length === 0) return [];
  reporter.report({ level: 'info', code: 'apt', message: `installing Debian packages: ${missing.join(' ')}` });
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await exec('apt-get', ['update', '-qq'], { env, timeoutMs: 15 * 60_000 });
  await exec('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env, timeoutMs: 30 * 60_000 });
  return missing;
}
