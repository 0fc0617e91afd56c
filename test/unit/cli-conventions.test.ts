// The command line's conventions (issue 18): `traffic --watch` runs until a signal, `validate -o json`
// reports an invalid spec as data, glyphs and colour only on a terminal, YAML without anchors, honest
// messages (no far-fetched suggestions, "nothing compared" when no cluster answered), `verify --clusters`.
// In-process through run(argv, io) where no cluster is needed; clusters are a kubeconfig whose server
// refuses connections at once (127.0.0.1:1).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { renderDiff } from '../../src/cli/commands/diff.ts';
import { renderTraffic, watchLoop } from '../../src/cli/commands/traffic.ts';
import { GLYPHS, makeIo, makeStyle, printResult, toYaml } from '../../src/cli/output.ts';
import type { DiffResult } from '../../src/diff/diff-mesh.ts';
import type { TrafficResult } from '../../src/observability/traffic-mesh.ts';
import { closest } from '../../src/util/closest.ts';
import { eastwest } from './run-cli.ts';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/eastwest.js');
const spec = join(root, 'examples/training-mesh.yaml');
const badSpecs = join(import.meta.dirname, 'bad-specs');
const dir = mkdtempSync(join(tmpdir(), 'eastwest-conventions-'));
const kubeconfig = join(dir, 'kubeconfig');
writeFileSync(kubeconfig, [
  'apiVersion: v1',
  'kind: Config',
  'clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:1"}}]',
  'users: [{name: u, user: {token: t}}]',
  'contexts: [{name: prod-us-east-1, context: {cluster: nowhere, user: u}}, {name: prod-eu-west-1, context: {cluster: nowhere, user: u}}]',
  '',
].join('\n'));
const ESC = '\x1b[';

describe('traffic --watch', () => {
  /** A read that returns 1, 2, 3, … */
  const counter = () => {
    let frames = 0;
    return async () => ++frames;
  };

  it('draws a frame every interval until stopped (injected read, show and sleep)', async () => {
    const stop = new AbortController();
    const shown: number[] = [];
    const slept: number[] = [];
    const count = await watchLoop({
      read: counter(),
      show: (frame) => {
        shown.push(frame);
        if (shown.length === 4) stop.abort();
      },
      intervalSeconds: 2,
      signal: stop.signal,
      sleep: async (ms) => {
        slept.push(ms);
      },
    });
    expect(count).toBe(4);
    expect(shown).toEqual([1, 2, 3, 4]);
    expect(slept.slice(0, 3)).toEqual([2000, 2000, 2000]);
  });

  it('a stop during the wait ends it at once, even with a long interval and the real timer', async () => {
    const stop = new AbortController();
    const shown: number[] = [];
    const started = Date.now();
    const loop = watchLoop({ read: counter(), show: (f) => shown.push(f), intervalSeconds: 3600, signal: stop.signal });
    await new Promise((r) => setTimeout(r, 50));
    stop.abort();
    expect(await loop).toBe(1);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('a stop during a read that hangs ends it at once, without showing anything', async () => {
    const stop = new AbortController();
    const shown: unknown[] = [];
    const loop = watchLoop({ read: () => new Promise<never>(() => {}), show: (f) => shown.push(f), intervalSeconds: 1, signal: stop.signal });
    setTimeout(() => stop.abort(), 20);
    expect(await loop).toBe(0);
    expect(shown).toEqual([]);
  });

  it('an already stopped signal reads nothing; a failing read ends the loop with its error', async () => {
    const stopped = AbortSignal.abort();
    let reads = 0;
    expect(await watchLoop({ read: async () => ++reads, show: () => {}, intervalSeconds: 1, signal: stopped })).toBe(0);
    expect(reads).toBe(0);
    await expect(watchLoop({ read: () => Promise.reject(new Error('spec went bad')), show: () => {}, intervalSeconds: 1, signal: new AbortController().signal })).rejects.toThrow('spec went bad');
  });

  it('waits between frames with a timer that keeps the process alive (no unref)', () => {
    expect(readFileSync(join(root, 'src/cli/commands/traffic.ts'), 'utf8')).not.toContain('.unref()');
  });

  it('as a process: a frame a second until SIGINT, then exits promptly with the last frame\'s code', async () => {
    const child = spawn(process.execPath, [bin, 'traffic', '-f', spec, '--kubeconfig', kubeconfig, '--watch', '1s', '-o', 'json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const started = Date.now();
    while (stdout.split('\n').filter(Boolean).length < 3 && Date.now() - started < 45_000 && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    const lines = stdout.split('\n').filter(Boolean);
    expect(lines.length, 'three frames, one JSON document per line').toBeGreaterThanOrEqual(3);
    expect(child.exitCode, 'still running after three frames').toBeNull();
    const signalled = Date.now();
    child.kill('SIGINT');
    expect(await exited).toBe(3); // the clusters were unreachable
    expect(Date.now() - signalled).toBeLessThan(5000);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ ok: false, unreachable: ['us', 'eu'] });
  }, 60_000);
});

describe('validate -o json|yaml', () => {
  const typo = join(badSpecs, 'typo-meshid.yaml');

  it('an invalid spec is a result on stdout: valid false, file, every problem with its place and hint; exit 2', async () => {
    const r = await eastwest(['validate', '-f', typo, '-o', 'json']);
    expect(r.code).toBe(2);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ valid: false, file: typo });
    expect(result.problems).toContainEqual({ file: typo, line: 4, col: 3, path: 'spec.meshId', message: 'unknown field "meshId"', hint: 'did you mean "meshID"?' });
    expect(result.problems).toContainEqual(expect.objectContaining({ path: 'spec.meshID', message: 'required field "meshID" is missing' }));
    for (const p of result.problems) expect(Object.keys(p).sort()).toEqual(['col', 'file', 'hint', 'line', 'message', 'path']);
    expect(r.stderr).toMatch(/^error: .*2 problems in the mesh spec\n$/);
  });

  it('-o yaml gives the same result as YAML', async () => {
    const json = JSON.parse((await eastwest(['validate', '-f', typo, '-o', 'json'])).stdout);
    const r = await eastwest(['validate', '-f', typo, '-o', 'yaml']);
    expect(r.code).toBe(2);
    expect(parse(r.stdout)).toEqual(json);
  });

  it('every spec of the bad-input corpus gives valid: false and its problems with places', async () => {
    for (const file of ['duplicate-network.yaml', 'yaml-syntax-error.yaml', 'wrong-kind.yaml', 'port-number-string.yaml']) {
      const r = await eastwest(['validate', '-f', join(badSpecs, file), '-o', 'json']);
      expect(r.code, file).toBe(2);
      const result = JSON.parse(r.stdout);
      expect(result.valid).toBe(false);
      expect(result.problems.length).toBeGreaterThan(0);
      for (const p of result.problems) expect(p.line, `${file} ${p.path}`).toBeGreaterThan(0);
    }
  });

  it('a spec that cannot be read is a problem of -f', async () => {
    const r = await eastwest(['validate', '-f', join(dir, 'nope.yaml'), '-o', 'json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: false, problems: [{ path: '-f', message: expect.stringContaining('does not exist'), line: null, col: null }] });
  });

  it('text mode is unchanged: problems on stderr, nothing on stdout', async () => {
    const r = await eastwest(['validate', '-f', typo]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/typo-meshid\.yaml:4:3 spec\.meshId: unknown field "meshId"\n\s+hint: did you mean "meshID"\?/);
  });

  it('a valid spec is still valid: true', async () => {
    const r = await eastwest(['validate', '-f', spec, '-o', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, clusters: ['us', 'eu'] });
  });
});

describe('glyphs and colour only on a terminal', () => {
  const verify = (extra: string[], options: Parameters<typeof eastwest>[1]) => eastwest(['verify', '-f', spec, '--kubeconfig', kubeconfig, ...extra], options);

  it('a terminal gets coloured glyphs', async () => {
    const r = await verify([], { tty: true });
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(`${ESC}31m✗${ESC}39m us unreachable [connect]`);
  });

  it('NO_COLOR (any non-empty value) keeps the glyphs and drops every escape code', async () => {
    const r = await verify([], { tty: true, env: { NO_COLOR: '1' } });
    expect(r.stdout).toContain('✗ us unreachable [connect]');
    expect(r.stdout + r.stderr).not.toContain(ESC);
    expect((await verify([], { tty: true, env: { NO_COLOR: '' } })).stdout).toContain(ESC); // empty: not set
  });

  it('--no-color does the same, before or after the command', async () => {
    for (const args of [['--no-color', 'verify', '-f', spec, '--kubeconfig', kubeconfig], ['verify', '-f', spec, '--kubeconfig', kubeconfig, '--no-color']]) {
      const r = await eastwest(args, { tty: true });
      expect(r.code).toBe(3);
      expect(r.stdout).toContain('✗ eu unreachable [connect]');
      expect(r.stdout + r.stderr).not.toContain(ESC);
    }
  });

  it('piped output (or CI on a terminal) gets plain ASCII words, no glyphs, no escapes', async () => {
    for (const options of [{ tty: false }, { tty: true, env: { CI: 'true' } }]) {
      const r = await verify([], options);
      expect(r.stdout).toMatch(/^FAIL us unreachable \[connect\]/m);
      expect(r.stdout).toMatch(/^probes: verify's own \(namespace eastwest-verify/m);
      expect(r.stdout).not.toMatch(/[✓✗‼→]/u);
      expect(r.stdout + r.stderr).not.toContain(ESC);
    }
  });

  it('the styles: marks of one style have one width; ASCII for pipes, glyphs otherwise', () => {
    const ascii = makeStyle({ terminal: false, color: true });
    expect(ascii).toMatchObject({ ok: 'ok  ', warn: 'WARN', fail: 'FAIL', arrow: '->', color: false });
    expect(GLYPHS).toMatchObject({ ok: '✓', warn: '‼', fail: '✗', arrow: '→', color: false });
    const colour = makeStyle({ terminal: true, color: true });
    expect(colour.ok).toBe(`${ESC}32m✓${ESC}39m`);
    expect(colour.warn).toBe(`${ESC}33m‼${ESC}39m`);
    const terminal = Object.assign(new PassThrough(), { isTTY: true });
    expect(makeIo(terminal, terminal, {}).style).toEqual(colour);
    expect(makeIo(terminal, terminal, { NO_COLOR: 'yes' }).style).toEqual(GLYPHS);
    expect(makeIo(terminal, terminal, { CI: '1' }).style).toEqual(ascii);
    expect(makeIo(new PassThrough(), terminal, {}).style).toEqual(ascii);
  });

  it('the traffic matrix draws its arrows in the style given', () => {
    const result = { ok: false, at: 'now', windowSeconds: 60, clusters: [{ cluster: 'eu', ok: false, step: 'traffic', error: 'unreachable', unreachable: true }], unreachable: ['eu'], flows: [], gateways: [], federation: [{ from: 'us', to: 'eu', requests: 3, requestsPerSecond: 0.05 }] } as unknown as TrafficResult;
    const piped = renderTraffic(result, makeStyle({ terminal: false, color: false }));
    expect(piped).toContain('us->eu 0.050 req/s');
    expect(piped).toMatch(/^FAIL eu unreachable/m);
    expect(renderTraffic(result)).toContain('us→eu');
  });
});

describe('YAML output has no anchors or aliases', () => {
  it('an object that appears twice is written out twice', () => {
    const shared = { cluster: 'us', state: 'synced', since: '2026-01-01T00:00:00Z' };
    const result = { reports: [{ clusters: [shared, shared] }], unreadable: [shared] };
    let out = '';
    const io = { ...makeIo(process.stdout, process.stderr, {}), stdout: { write: (s: string) => (out += s) } as unknown as NodeJS.WritableStream };
    printResult(io, 'yaml', result, () => '');
    expect(out).not.toMatch(/[&*]a\d/);
    expect(out.match(/cluster: us/g)).toHaveLength(3);
    expect(parse(out)).toEqual(result);
    expect(toYaml({ a: shared, b: shared })).not.toContain('&');
  });
});

describe('honest messages', () => {
  it('suggests a name only when it is a likely typo', () => {
    expect(closest('ap', ['us', 'eu'])).toBeUndefined();
    expect(closest('xx', ['us', 'eu'])).toBeUndefined();
    expect(closest('x', ['us', 'eu', 'u'])).toBeUndefined();
    expect(closest('ue', ['us', 'eu'])).toBe('us');
    expect(closest('uss', ['us', 'eu'])).toBe('us');
    expect(closest('US', ['us', 'eu'])).toBe('us');
    expect(closest('meshId', ['meshID', 'trustDomain'])).toBe('meshID');
    expect(closest('zones', ['name', 'zone', 'region'])).toBe('zone');
    expect(closest('trustDomian', ['meshID', 'trustDomain'])).toBe('trustDomain');
    expect(closest('abcdef', ['uvwxyz'])).toBeUndefined();
    expect(closest('mars', ['us', 'eu'])).toBeUndefined();
    expect(closest('anything', [])).toBeUndefined();
  });

  it('--clusters ap names the clusters without a far-fetched "did you mean"; ue still gets us', async () => {
    const far = await eastwest(['diff', '-f', spec, '--clusters', 'ap']);
    expect(far.code).toBe(2);
    expect(far.stderr).toContain('"ap" is not a cluster of mesh training-mesh');
    expect(far.stderr).toContain('clusters: us, eu');
    expect(far.stderr).not.toContain('did you mean');
    expect((await eastwest(['diff', '-f', spec, '--clusters', 'ue'])).stderr).toContain('did you mean "us"?');
  });

  it('diff says nothing could be compared when no cluster answered', () => {
    const down = (cluster: string) => ({ cluster, ok: false as const, step: 'connect', error: 'unreachable (timeout after 10 s)', unreachable: true });
    const none = { clusters: [down('us'), down('eu')], gateways: [], crossCluster: [], differs: false, unreachable: ['us', 'eu'], seconds: 10 } as unknown as DiffResult;
    const last = renderDiff(none).split('\n').at(-1);
    expect(last).toBe('nothing compared: no cluster answered (us, eu)');
    const some = { ...none, clusters: [{ cluster: 'us', ok: true, value: { drift: [], objects: 3 } }, down('eu')], unreachable: ['eu'] } as unknown as DiffResult;
    expect(renderDiff(some).split('\n').at(-1)).toBe('no drift in the reachable clusters; not compared: eu');
  });
});

describe('verify --clusters', () => {
  it('verifies the clusters named, and contacts no other', async () => {
    const r = await eastwest(['verify', '-f', spec, '--kubeconfig', kubeconfig, '--clusters', 'eu', '-o', 'json']);
    expect(r.code).toBe(3);
    const result = JSON.parse(r.stdout);
    expect(result.selected).toEqual(['eu']);
    expect(result.clusters.map((c: { cluster: string }) => c.cluster)).toEqual(['eu']);
  });

  it('checks the names against the spec before contacting anything (exit 2)', async () => {
    const r = await eastwest(['verify', '-f', spec, '--kubeconfig', kubeconfig, '--clusters', 'uss']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"uss" is not a cluster of mesh training-mesh');
    expect(r.stderr).toContain('did you mean "us"?');
    expect(r.stdout).toBe('');
    expect((await eastwest(['verify', '-f', spec, '--clusters', 'us,us'])).stderr).toContain('names cluster "us" twice');
  });

  it('without --clusters, every cluster of the spec', async () => {
    const result = JSON.parse((await eastwest(['verify', '-f', spec, '--kubeconfig', kubeconfig, '-o', 'json'])).stdout);
    expect(result.selected).toEqual(['us', 'eu']);
  });
});
