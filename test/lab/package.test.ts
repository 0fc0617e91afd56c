// The installable package: npm pack (which builds dist/ on prepack) → npm install -g into a temporary
// prefix → the installed `eastwest` renders, validates and refuses bad input, with no TypeScript in it.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const npm = join(root, 'node_modules/node/bin/npm') ;

/** A CA made beside an example (spec.pki.directory is relative to the spec): its keys must never be packed. */
const DECOYS = ['examples/.eastwest/pki/root-key.pem', 'examples/.eastwest/pki/clusters/us/ca-key.pem'];

/**
 * Puts the decoys in this checkout where no file is, and returns the undo: it removes exactly the files and
 * directories made here (a real CA already there is neither overwritten nor removed).
 */
function placeDecoys(): () => void {
  const files: string[] = [];
  const dirs: string[] = [];
  for (const decoy of DECOYS) {
    const path = join(root, decoy);
    const missing: string[] = [];
    for (let dir = dirname(path); !existsSync(dir); dir = dirname(dir)) missing.unshift(dir);
    for (const dir of missing) {
      mkdirSync(dir);
      dirs.push(dir);
    }
    if (existsSync(path)) continue;
    writeFileSync(path, '-----BEGIN PRIVATE KEY-----\ndecoy\n-----END PRIVATE KEY-----\n', { flag: 'wx' });
    files.push(path);
  }
  return () => {
    for (const file of files) rmSync(file, { force: true });
    for (const dir of dirs.reverse()) rmdirSync(dir);
  };
}

describe('installable package', () => {
  it('npm pack → npm install -g <tgz> → eastwest render works with the project\'s Node (≥ 22), from outside the clone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eastwest-pkg-'));
    const env = { ...process.env, PATH: `${join(root, 'node_modules/node/bin')}:${process.env.PATH}`, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
    const npmCmd = existsSync(npm) ? npm : 'npm';
    const removeDecoys = placeDecoys();
    let packed: string;
    try {
      expect(DECOYS.every((d) => existsSync(join(root, d)))).toBe(true);
      packed = execFileSync(npmCmd, ['pack', '--pack-destination', dir, '--json'], { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } finally {
      removeDecoys();
    }
    const info = JSON.parse(packed.slice(packed.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    const files = info[0]!.files.map((f) => f.path);
    // No CA directory and no key, though one sat beside the examples when packing.
    expect(files.filter((f) => f.includes('.eastwest') || /key.*\.pem$|\.pem$/.test(f))).toEqual([]);
    expect(files).toContain('examples/training-mesh.yaml');
    expect(files).toContain('dist/cli/main.js');
    expect(files).toContain('lab/versions.json');
    expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]);
    const prefix = join(dir, 'prefix');
    execFileSync(npmCmd, ['install', '-g', '--prefix', prefix, join(dir, info[0]!.filename)], { cwd: dir, env, stdio: 'ignore', timeout: 240_000 });
    const bin = join(prefix, 'bin/eastwest');
    const installed = join(prefix, 'lib/node_modules/eastwest');
    // What was installed, too: nothing of a CA.
    const installedFiles = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? (e.name === 'node_modules' ? [] : installedFiles(join(d, e.name))) : [relative(installed, join(d, e.name))]));
    expect(installedFiles(installed).filter((f) => f.includes('.eastwest') || f.endsWith('.pem'))).toEqual([]);
    expect(JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).engines.node).toBe('>=22');
    const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    const version = run(['--version']);
    expect(version.status).toBe(0);
    const render = run(['render', '-f', join(installed, 'examples/training-mesh.yaml'), '-o', join(dir, 'out')]);
    expect(render.status, render.stderr).toBe(0);
    expect(readdirSync(join(dir, 'out')).filter((f) => !f.startsWith('.')).sort()).toEqual(['eu', 'summary.yaml', 'us']);
    expect(readFileSync(join(dir, 'out/us/manifests/10-post-install.yaml'), 'utf8')).toContain('sni: outbound_.80_._.echo.echo.svc.cluster.local');
    const bad = run(['render', '-f', '/bin/ls']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/is not a text file/);
  });
});
