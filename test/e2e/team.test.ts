// Safe for a team (issue 18), on the live lab mesh: a second clone without the CA directory reads and
// applies without making a key or moving a root; a different local root is refused with exit 2; the
// packaged lab example shows no drift; KUBECONFIG lists and --context overrides work as with kubectl;
// status gives one screen; traffic --watch keeps drawing.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { applyMesh } from '../../src/apply/apply-mesh.ts';
import { silentReporter } from '../../src/core/reporter.ts';
import { buildHelm } from '../../src/lab/build/go-components.ts';
import { LAB_KUBECONFIG } from '../../src/lab/lab-state.ts';
import { readLabVersions } from '../../src/sources/lab-versions.ts';
import { fingerprint } from '../../src/pki/trust-plan.ts';
import { kubectl } from '../integration/lab-helpers.ts';
import { root } from './cli-run.ts';

const helm = async () => join((await buildHelm(readLabVersions(), silentReporter)).dir, 'helm');
const log = (s: string) => process.stderr.write(`[e2e] ${s}\n`);

interface Run { code: number | null; stdout: string; stderr: string }
/** The real CLI, as a user runs it from `cwd`, with the environment given (no lab kubeconfig exported). */
function eastwest(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, bin = join(root, 'bin/eastwest.js')): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, CI: 'true', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Every cluster's root as it lives: in cacerts (what istiod signs with) and in the ConfigMap it publishes. */
async function liveRoots(): Promise<Record<string, { cacerts: string; published: string }>> {
  const out: Record<string, { cacerts: string; published: string }> = {};
  for (const cluster of ['us', 'eu']) {
    const secret = await kubectl(`lab-${cluster}`, ['get', 'secret', '-n', 'istio-system', 'cacerts', '-o', 'jsonpath={.data.root-cert\\.pem}']);
    const published = await kubectl(`lab-${cluster}`, ['get', 'configmap', '-n', 'istio-system', 'istio-ca-root-cert', '-o', 'jsonpath={.data.root-cert\\.pem}']);
    out[cluster] = { cacerts: fingerprint(Buffer.from(secret.stdout, 'base64').toString()), published: fingerprint(published.stdout) };
  }
  return out;
}

/** Files under `dir`, relative, except the render output. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (rel === 'out') return [];
    return e.isDirectory() ? filesUnder(dir, rel) : [rel];
  });
}

/** A teammate's clone: the spec as it is in git, and no `.eastwest/` (it is git-ignored). */
function secondClone(): string {
  const dir = mkdtempSync(join(tmpdir(), 'eastwest-teammate-'));
  mkdirSync(join(dir, 'examples'));
  writeFileSync(join(dir, 'examples/lab.yaml'), readFileSync(join(root, 'examples/lab.yaml')));
  return dir;
}

describe('safe for a team, on the live lab mesh', () => {
  let before: Awaited<ReturnType<typeof liveRoots>>;
  beforeAll(async () => {
    const result = await applyMesh({ file: join(root, 'examples/lab.yaml'), kubeconfig: LAB_KUBECONFIG, helm: await helm(), timeoutSeconds: 300 }, silentReporter);
    expect(result.ok, JSON.stringify(result.clusters)).toBe(true);
    before = await liveRoots();
    expect(before.us!.cacerts).toBe(before.eu!.cacerts);
  });

  it('a clone without .eastwest/: render, diff, apply --dry-run and status create no file; diff finds no drift; apply there leaves every root as it was', async () => {
    const dir = secondClone();
    const env = { KUBECONFIG: LAB_KUBECONFIG };
    const render = await eastwest(['render', '-f', 'examples/lab.yaml', '-o', 'out'], dir, env);
    expect(render.code, render.stderr).toBe(0);
    expect(render.stderr).toMatch(/cacerts not rendered for eu, us/);
    const diff = await eastwest(['diff', '-f', 'examples/lab.yaml'], dir, env);
    log(`diff in a clone without the CA: exit ${diff.code}; ${diff.stdout.split('\n').slice(-1)[0]}`);
    expect(diff.code, `${diff.stdout}\n${diff.stderr}`).toBe(0);
    expect(diff.stdout).toMatch(/no drift/);
    expect(`${diff.stdout}${diff.stderr}`).not.toMatch(/CA root: created/);
    const dryRun = await eastwest(['apply', '-f', 'examples/lab.yaml', '--dry-run'], dir, env);
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(dryRun.stdout).not.toMatch(/cacerts/);
    const status = await eastwest(['status', '-f', 'examples/lab.yaml'], dir, env);
    expect(status.code, `${status.stdout}\n${status.stderr}`).toBe(0);
    expect(filesUnder(dir)).toEqual(['examples/lab.yaml']);

    const apply = await eastwest(['apply', '-f', 'examples/lab.yaml'], dir, env);
    expect(apply.code, `${apply.stdout}\n${apply.stderr}`).toBe(0);
    expect(apply.stdout).not.toMatch(/Secret\/istio-system\/cacerts/);
    expect(filesUnder(dir)).toEqual(['examples/lab.yaml']);
    expect(await liveRoots()).toEqual(before);
  });

  it('a different local root (a teammate ran ca init) is refused with exit 2, both fingerprints and the fix; nothing changes', async () => {
    const dir = secondClone();
    expect((await eastwest(['ca', 'init', '-f', 'examples/lab.yaml'], dir)).code).toBe(0);
    const localRoot = fingerprint(readFileSync(join(dir, 'examples/.eastwest/pki/root-cert.pem'), 'utf8'));
    for (const args of [['apply'], ['apply', '--dry-run'], ['diff']]) {
      const r = await eastwest([...args, '-f', 'examples/lab.yaml'], dir, { KUBECONFIG: LAB_KUBECONFIG });
      expect(r.code, `${args.join(' ')}: ${r.stdout}\n${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(localRoot);
      expect(r.stderr).toContain(before.us!.cacerts);
      expect(r.stderr).toMatch(/hint: use the team's CA directory/);
      expect(r.stderr).not.toMatch(/PRIVATE KEY|\n\s+at /);
    }
    expect(await liveRoots()).toEqual(before);
  });

  it('a KUBECONFIG list with one context per file works; --context overrides work; a context in no file is exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eastwest-kubeconfig-'));
    const lab = parse(readFileSync(LAB_KUBECONFIG, 'utf8')) as { clusters: { name: string }[]; users: { name: string }[]; contexts: { name: string; context: { cluster: string; user: string } }[] };
    const fileFor = (context: string, renamed: string) => {
      const c = lab.contexts.find((x) => x.name === context)!;
      const path = join(dir, `${renamed}.yaml`);
      writeFileSync(path, stringify({
        apiVersion: 'v1', kind: 'Config', 'current-context': renamed,
        clusters: lab.clusters.filter((x) => x.name === c.context.cluster),
        users: lab.users.filter((x) => x.name === c.context.user),
        contexts: [{ name: renamed, context: c.context }],
      }));
      return path;
    };
    const us = fileFor('lab-us', 'lab-us');
    const eu = fileFor('lab-eu', 'lab-eu');
    const spec = join(root, 'examples/lab.yaml');
    const listed = await eastwest(['diff', '-f', spec], dir, { KUBECONFIG: `${us}:${eu}` });
    expect(listed.code, `${listed.stdout}\n${listed.stderr}`).toBe(0);

    const prodUs = fileFor('lab-us', 'prod-us-east-1');
    const prodEu = fileFor('lab-eu', 'prod-eu-west-1');
    const overridden = await eastwest(['status', '-f', spec, '--context', 'us=prod-us-east-1', '--context', 'eu=prod-eu-west-1'], dir, { KUBECONFIG: `${prodUs}:${prodEu}` });
    expect(overridden.code, `${overridden.stdout}\n${overridden.stderr}`).toBe(0);

    const missing = await eastwest(['diff', '-f', spec, '--context', 'us=prod-us-east-1', '--context', 'eu=prod-eu-west-1'], dir, { KUBECONFIG: prodUs });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`kubeconfig: read ${prodUs} ($KUBECONFIG)`);
    expect(missing.stderr).toMatch(/clusters\.eu\.context: context "prod-eu-west-1" is in no kubeconfig file read/);
    expect(missing.stderr).not.toMatch(/unreachable|not compared/);
  });

  it('status: every cluster reachable, its Istio version, gateway address, the mesh root, the sync leader and no drift', async () => {
    const r = await eastwest(['status', '-f', join(root, 'examples/lab.yaml'), '-o', 'json'], root, { KUBECONFIG: LAB_KUBECONFIG });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const status = JSON.parse(r.stdout);
    expect(status.meshRoot.fingerprint).toBe(before.us!.cacerts);
    for (const c of status.clusters) {
      expect(c.ok).toBe(true);
      expect(c.value.istio).toMatchObject({ version: '1.31-lab', ready: 1 }); // examples/lab.yaml's istio.tag
      expect(c.value.gateway.address).toMatch(/^198\.18\.2\.\d+$/);
      expect(c.value.rootMatches).toBe(true);
      expect(c.value.sync.leader).toMatch(/^eastwest-sync-/);
      expect(c.value.drift).toBe(0);
    }
    const text = await eastwest(['status', '-f', join(root, 'examples/lab.yaml')], root, { KUBECONFIG: LAB_KUBECONFIG });
    expect(text.stdout).toMatch(/^us\s+ok\s+v1\.\d+/m);
    expect(text.stdout).toMatch(/healthy/);
    expect(text.stdout).not.toMatch(/\x1b\[|✓/); // piped: no colour, no glyphs
  });

  it('the packaged lab example, installed elsewhere, shows no drift (nothing desired depends on where eastwest is installed)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eastwest-installed-'));
    const env = { ...process.env, PATH: `${join(root, 'node_modules/node/bin')}:${process.env.PATH}`, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
    const npm = existsSync(join(root, 'node_modules/node/bin/npm')) ? join(root, 'node_modules/node/bin/npm') : 'npm';
    const packed = execFileSync(npm, ['pack', '--pack-destination', dir, '--json'], { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const tarball = (JSON.parse(packed.slice(packed.indexOf('['))) as { filename: string }[])[0]!.filename;
    execFileSync(npm, ['install', '-g', '--prefix', join(dir, 'prefix'), join(dir, tarball)], { cwd: dir, env, stdio: 'ignore', timeout: 240_000 });
    const installed = join(dir, 'prefix/lib/node_modules/eastwest');
    const r = await eastwest(['diff', '-f', join(installed, 'examples/lab.yaml')], dir, { KUBECONFIG: LAB_KUBECONFIG }, join(dir, 'prefix/bin/eastwest'));
    log(`diff from the installed package: exit ${r.code}; ${r.stdout.split('\n').slice(-1)[0]}`);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/no drift/);
    expect(existsSync(join(installed, 'examples/.eastwest'))).toBe(false);
  });

  it('traffic --watch keeps drawing until interrupted (≥ 3 frames), then exits 0', async () => {
    const child = spawn(process.execPath, [join(root, 'bin/eastwest.js'), 'traffic', '-f', join(root, 'examples/lab.yaml'), '--watch', '1s', '-o', 'json'], { cwd: root, env: { ...process.env, CI: 'true', KUBECONFIG: LAB_KUBECONFIG }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const frames = () => stdout.split('\n').filter((l) => l.startsWith('{')).length;
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${frames()} frame(s) in 120 s; stderr: ${stderr}`)), 120_000);
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        if (frames() >= 3) {
          clearTimeout(timer);
          resolve();
        }
      });
      void closed.then((code) => reject(new Error(`traffic --watch ended by itself (exit ${code}) after ${frames()} frame(s): ${stderr}`)));
    });
    child.kill('SIGINT');
    expect(await closed).toBe(0);
    const parsed = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { at: string; ok: boolean });
    expect(new Set(parsed.map((p) => p.at)).size).toBe(parsed.length);
    expect(parsed.every((p) => p.ok)).toBe(true);
  });
});
