// What `npm pack` would ship, by package.json's "files", with a CA made beside the examples: never the
// CA directory nor any key. Runs on a copy of the package's files (this checkout is left alone), with
// --dry-run --ignore-scripts, so no build and nothing written. The real pack is in test/integration.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const projectNpm = join(root, 'node_modules/node/bin/npm');
const npm = existsSync(projectNpm) ? projectNpm : 'npm';

/** Where eastwest keeps a CA made beside an example (spec.pki.directory, relative to the spec), and strays. */
const DECOYS = [
  'examples/.eastwest/pki/root-key.pem',
  'examples/.eastwest/pki/root-cert.pem',
  'examples/.eastwest/pki/clusters/us/ca-key.pem',
  'examples/.eastwest/pki/clusters/us/ca-cert.pem',
  'examples/lab/.eastwest/pki/root-key.pem',
  'examples/stray-key.pem',
  'dist/.eastwest/pki/root-key.pem',
  'schema/root-key.pem',
];

/** Packed paths that must never be there: anything of a CA directory, any PEM file (keys above all). */
const leaked = (paths: string[]) => paths.filter((p) => p.split('/').includes('.eastwest') || /key.*\.pem$|\.pem$/.test(p));

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));

const work = mkdtempSync(join(tmpdir(), 'eastwest-pack-files-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm pack contents', () => {
  it('ships the examples, schema and code but no CA directory and no key, whatever is on disk', () => {
    // The package's own files (never a real CA of this checkout), a stand-in for the built dist/, then the decoys.
    const keep = (src: string) => !src.split('/').includes('.eastwest') && !src.endsWith('.pem');
    for (const entry of ['package.json', 'README.md', 'bin', 'schema', 'examples', 'lab/versions.json']) {
      cpSync(join(root, entry), join(work, entry), { recursive: true, filter: keep });
    }
    mkdirSync(join(work, 'dist/cli'), { recursive: true });
    writeFileSync(join(work, 'dist/cli/main.js'), 'export {};\n');
    for (const decoy of DECOYS) {
      mkdirSync(dirname(join(work, decoy)), { recursive: true });
      writeFileSync(join(work, decoy), '-----BEGIN PRIVATE KEY-----\ndecoy\n-----END PRIVATE KEY-----\n');
    }

    const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: work,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' },
      timeout: 60_000,
    });
    const packed = (JSON.parse(out.slice(out.indexOf('['))) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);

    expect(leaked(packed)).toEqual([]);
    expect(packed).toEqual(expect.arrayContaining(['package.json', 'README.md', 'bin/eastwest.js', 'dist/cli/main.js', 'lab/versions.json', 'schema/mesh.schema.json']));
    // Every example of the checkout is shipped (a new kind of example file must not be dropped silently).
    const examples = files(join(work, 'examples')).map((f) => relative(work, f)).filter((f) => !DECOYS.includes(f));
    expect(examples).toContain('examples/training-mesh.yaml');
    expect(packed).toEqual(expect.arrayContaining(examples));
  });

  it('recognises a leak when it sees one', () => {
    expect(leaked(['examples/.eastwest/pki/root-key.pem', 'x/ca-key.pem', 'y/cert.pem', 'examples/lab.yaml'])).toEqual(['examples/.eastwest/pki/root-key.pem', 'x/ca-key.pem', 'y/cert.pem']);
  });
});
