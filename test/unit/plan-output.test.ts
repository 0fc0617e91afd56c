// What `apply --dry-run`, `diff` and `render -o -` show: the unified line diff, the one field-change
// formatter both views use, the plan's counts, and Secret values kept off stdout.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApplyResult } from '../../src/apply/apply-mesh.ts';
import { renderApply, withSummaries } from '../../src/cli/commands/apply.ts';
import { renderDiff } from '../../src/cli/commands/diff.ts';
import { changeSummary, CONTENT_HASH_PATH, formatFieldChanges, formatSummary } from '../../src/cli/field-changes.ts';
import { run } from '../../src/cli/main.ts';
import { makeIo } from '../../src/cli/output.ts';
import type { DiffResult } from '../../src/diff/diff-mesh.ts';
import { diffHunks, lineDiff, MAX_LCS_CELLS, splitLines, unifiedDiff } from '../../src/diff/line-diff.ts';
import type { KubeObject } from '../../src/k8s/object.ts';
import { classifyChange } from '../../src/k8s/resource-manager.ts';
import { maskSecretValues, secretValueCount } from '../../src/render/mask-secrets.ts';
import { filesAsStream, maskedValueCount, type OutputFile } from '../../src/render/output-files.ts';

const root = join(import.meta.dirname, '../..');
const lines = (...l: string[]) => `${l.join('\n')}\n`;
/** The two texts a diff was made from, rebuilt from it. */
const sides = (before: string, after: string) => {
  const d = lineDiff(before, after);
  const text = (ops: string) => d.filter((l) => ops.includes(l.op)).map((l) => (l.noNewline ? l.text : `${l.text}\n`)).join('');
  return [text(' -'), text(' +')];
};

describe('unified line diff', () => {
  it('identical texts (and two empty ones) have no hunks', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n')).toEqual([]);
    expect(unifiedDiff('', '')).toEqual([]);
    expect(lineDiff('a\nb\n', 'a\nb\n').every((l) => l.op === ' ')).toBe(true);
  });

  it('a final newline ends the last line; an empty text has no lines', () => {
    expect(splitLines('')).toEqual([]);
    expect(splitLines('a\nb\n').map((l) => l.text)).toEqual(['a', 'b']);
    expect(splitLines('a\nb').map((l) => [l.text, l.noNewline])).toEqual([['a', false], ['b', true]]);
    expect(splitLines('\n').map((l) => l.text)).toEqual(['']);
  });

  it('from and to an empty text: every line added or removed, with `diff -u` ranges', () => {
    expect(unifiedDiff('', 'a\nb\n')).toEqual(['@@ -0,0 +1,2 @@', '+a', '+b']);
    expect(unifiedDiff('a\n', '')).toEqual(['@@ -1 +0,0 @@', '-a']);
  });

  it('a changed line in the middle: removed then added, three lines of context each side', () => {
    const before = lines('1', '2', '3', '4', '5', '6', '7', '8', '9');
    const after = lines('1', '2', '3', '4', 'five', '6', '7', '8', '9');
    expect(unifiedDiff(before, after)).toEqual(['@@ -2,7 +2,7 @@', ' 2', ' 3', ' 4', '-5', '+five', ' 6', ' 7', ' 8']);
    expect(unifiedDiff(before, after, { context: 1 })).toEqual(['@@ -4,3 +4,3 @@', ' 4', '-5', '+five', ' 6']);
    expect(unifiedDiff(before, after, { context: 0 })).toEqual(['@@ -5 +5 @@', '-5', '+five']);
  });

  it('added and removed lines, at the start and the end', () => {
    expect(unifiedDiff(lines('a', 'b'), lines('x', 'a', 'b'))).toEqual(['@@ -1,2 +1,3 @@', '+x', ' a', ' b']);
    expect(unifiedDiff(lines('a', 'b'), lines('a', 'b', 'c'))).toEqual(['@@ -1,2 +1,3 @@', ' a', ' b', '+c']);
    expect(unifiedDiff(lines('a', 'b', 'c'), lines('b', 'c'))).toEqual(['@@ -1,3 +1,2 @@', '-a', ' b', ' c']);
    expect(unifiedDiff(lines('a', 'b', 'c'), lines('a', 'c'))).toEqual(['@@ -1,3 +1,2 @@', ' a', '-b', ' c']);
  });

  it('changes far apart make separate hunks; changes within twice the context make one', () => {
    const base = Array.from({ length: 20 }, (_, i) => `l${i + 1}`);
    const far = [...base];
    far[1] = 'X';
    far[17] = 'Y';
    const hunks = diffHunks(lines(...base), lines(...far));
    expect(hunks.map((h) => [h.oldStart, h.oldLines, h.newStart, h.newLines])).toEqual([[1, 5, 1, 5], [15, 6, 15, 6]]);
    const near = [...base];
    near[5] = 'X';
    near[11] = 'Y'; // 5 unchanged lines between: fewer than 2 × 3
    expect(diffHunks(lines(...base), lines(...near))).toHaveLength(1);
    const edge = [...base];
    edge[5] = 'X';
    edge[12] = 'Y'; // 6 unchanged lines between: exactly 2 × 3, still one hunk
    expect(diffHunks(lines(...base), lines(...edge))).toHaveLength(1);
    const apart = [...base];
    apart[5] = 'X';
    apart[13] = 'Y'; // 7 between: two hunks
    expect(diffHunks(lines(...base), lines(...apart))).toHaveLength(2);
  });

  it('a missing final newline is a change, marked as `diff -u` marks it', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb')).toEqual(['@@ -1,2 +1,2 @@', ' a', '-b', '+b', '\\ No newline at end of file']);
    expect(unifiedDiff('a\nb', 'a\nb\n')).toEqual(['@@ -1,2 +1,2 @@', ' a', '-b', '\\ No newline at end of file', '+b']);
    expect(unifiedDiff('a\nb', 'a\nb')).toEqual([]);
    expect(unifiedDiff('a\nb', 'x\nb')).toEqual(['@@ -1,2 +1,2 @@', '-a', '+x', ' b']);
  });

  it('is a longest common subsequence: moved blocks keep what they can', () => {
    const d = lineDiff(lines('a', 'b', 'c', 'd'), lines('c', 'd', 'a', 'b'));
    expect(d.filter((l) => l.op === ' ')).toHaveLength(2);
    expect(d.filter((l) => l.op !== ' ')).toHaveLength(4);
  });

  it('rebuilds both texts, for many pseudo-random edits (and past the LCS size limit)', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const a = Array.from({ length: random(12) }, () => `v${random(4)}`);
      const b = a.filter(() => random(4) > 0).flatMap((l) => (random(5) === 0 ? [l, `n${random(3)}`] : [l]));
      const [x, y] = [a.join('\n') + (random(2) ? '\n' : ''), b.join('\n') + (random(2) ? '\n' : '')];
      expect(sides(x, y)).toEqual([x, y]);
    }
    const big = Math.ceil(Math.sqrt(MAX_LCS_CELLS)) + 1;
    const a = Array.from({ length: big }, (_, i) => `a${i}`).join('\n');
    const b = Array.from({ length: big }, (_, i) => `b${i}`).join('\n');
    const head = 'same\n';
    expect(sides(head + a, head + b)).toEqual([head + a, head + b]);
  });
});

describe('field changes, as diff and the apply plan show them', () => {
  const spec = (replicas: number) => lines('apiVersion: eastwest.dev/v1alpha1', 'kind: Mesh', 'spec:', '  meshID: training-mesh', '  clusters:', '    - name: us', '    - name: eu', `  replicas: ${replicas}`, '  trustDomain: corp.local', '  federation:', '    mode: service-entry');

  it('a one-line value reads `path: want X, live Y`; an unset one `<unset>`', () => {
    expect(formatFieldChanges('ServiceEntry/echo/echo-eu', [{ path: 'spec.hosts[0]', want: 'a', live: 'b' }, { path: 'spec.ports', want: [80], live: undefined }])).toEqual([
      '    spec.hosts[0]: want "a", live "b"',
      '    spec.ports: want [80], live <unset>',
    ]);
  });

  it('the content-hash annotation is never listed; when it is all that differs, that is said', () => {
    const hash = { path: CONTENT_HASH_PATH, want: '1111', live: '2222' };
    expect(CONTENT_HASH_PATH).toBe('metadata.annotations.eastwest.dev/content-hash');
    expect(formatFieldChanges('ConfigMap/a/b', [hash, { path: 'data.x', want: '1', live: '2' }])).toEqual(['    data.x: want "1", live "2"']);
    expect(formatFieldChanges('ConfigMap/a/b', [hash]).join('\n')).not.toContain('1111');
    expect(formatFieldChanges('ConfigMap/a/b', [hash])).toEqual(["    (only eastwest's content-hash annotation differs)"]);
    expect(formatFieldChanges('ConfigMap/a/b', [])).toEqual([]);
  });

  it('a multi-line string is a unified diff under its path (- live, + want)', () => {
    const out = formatFieldChanges('ConfigMap/eastwest-system/eastwest-sync-spec', [{ path: 'data.spec.yaml', want: spec(3), live: spec(2) }]);
    expect(out).toEqual([
      '    data.spec.yaml: (- live, + want)',
      '      @@ -5,7 +5,7 @@',
      '         clusters:',
      '           - name: us',
      '           - name: eu',
      '      -  replicas: 2',
      '      +  replicas: 3',
      '         trustDomain: corp.local',
      '         federation:',
      '           mode: service-entry',
    ]);
    const added = formatFieldChanges('ConfigMap/a/b', [{ path: 'data.f', want: 'x\ny\n', live: undefined }]);
    expect(added).toEqual(['    data.f: (- live, + want; live <unset>)', '      @@ -0,0 +1,2 @@', '      +x', '      +y']);
    // Multi-line on one side, another type on the other: both as JSON.
    expect(formatFieldChanges('ConfigMap/a/b', [{ path: 'data', want: 'x\ny', live: { a: 1 } }])).toEqual(['    data: want "x\\ny", live {"a":1}']);
  });

  it("a Secret's values never show: masked by the resource manager, and again here if a caller forgot", () => {
    const pem = (n: number) => `-----BEGIN PRIVATE KEY-----\n${'QUJD'.repeat(16)}${n}\n-----END PRIVATE KEY-----\n`;
    const secret = (key: string): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cacerts', namespace: 'istio-system' }, stringData: { 'ca-key.pem': key }, data: { 'ca-cert.pem': Buffer.from(key).toString('base64') } });
    const { fields } = classifyChange(secret(pem(1)), secret(pem(1)), secret(pem(2)));
    const unmasked = [{ path: 'stringData.ca-key.pem', want: pem(1), live: pem(2) }, { path: 'data', want: { 'ca-cert.pem': Buffer.from(pem(1)).toString('base64') }, live: undefined }];
    for (const shown of [formatFieldChanges('Secret/istio-system/cacerts', fields!), formatFieldChanges('Secret/istio-system/cacerts', unmasked)]) {
      const text = shown.join('\n');
      expect(text).toMatch(/stringData\.ca-key\.pem: want "sha256:[0-9a-f]{12} \(\d+ bytes\)", live "sha256:[0-9a-f]{12} \(\d+ bytes\)"/);
      expect(text).not.toMatch(/BEGIN|PRIVATE|QUJD|LS0t/);
      expect(text).not.toContain('@@');
    }
    // Already masked values are shown as they are, not hashed again.
    expect(formatFieldChanges('Secret/istio-system/cacerts', fields!)).toEqual(fields!.map((f) => `    ${f.path}: want ${JSON.stringify(f.want)}, live ${JSON.stringify(f.live)}`));
  });
});

const syncSpec = (trust: string) => `spec:\n  meshID: training-mesh\n  clusters:\n    - name: us\n    - name: eu\n  trustDomain: ${trust}\n  sync:\n    inCluster: true\n`;
const HASH = { path: CONTENT_HASH_PATH, want: 'aaaa', live: 'bbbb' };

describe('diff view', () => {
  const result: DiffResult = {
    clusters: [
      {
        cluster: 'us',
        ok: true,
        value: {
          objects: 30,
          drift: [
            { ref: 'ConfigMap/eastwest-system/eastwest-sync-spec', state: 'changed', fields: [HASH, { path: 'data.spec.yaml', want: syncSpec('corp.local'), live: syncSpec('old.local') }] },
            { ref: 'Secret/istio-system/cacerts', state: 'changed', fields: [{ path: 'data.ca-key.pem', want: 'sha256:1f0c00000000 (3272 bytes)', live: 'sha256:9a4e00000000 (84 bytes)' }] },
            { ref: 'Namespace/echo', state: 'missing' },
          ],
        },
      },
      { cluster: 'eu', ok: true, value: { objects: 30, drift: [] } },
    ],
    gateways: [],
    crossCluster: [],
    differs: true,
    unreachable: [],
    seconds: 1,
  };

  it('shows a multi-line value as a unified diff, hides the content hash, keeps the Secret line as it was', () => {
    const text = renderDiff(result);
    expect(text).not.toContain('content-hash');
    expect(text).not.toContain('aaaa');
    expect(text).toContain(['us  changed  ConfigMap/eastwest-system/eastwest-sync-spec', '    data.spec.yaml: (- live, + want)', '      @@ -3,6 +3,6 @@'].join('\n'));
    expect(text).toContain(['      -  trustDomain: old.local', '      +  trustDomain: corp.local'].join('\n'));
    expect(text).toMatch(/^us {2}changed {2}Secret\/istio-system\/cacerts\n {4}data\.ca-key\.pem: want "sha256:1f0c00000000 \(3272 bytes\)", live "sha256:9a4e00000000 \(84 bytes\)"$/m);
    expect(text).toMatch(/^us {2}missing {2}Namespace\/echo$/m);
    expect(text).toMatch(/^eu {2}in sync$/m);
  });
});

describe('apply plan view', () => {
  const dryRun: ApplyResult = {
    ok: true,
    dryRun: true,
    selected: ['us', 'eu'],
    preflight: [{ cluster: 'us', ok: true, value: { kubernetesVersion: 'v1.33.1' } }, { cluster: 'eu', ok: true, value: { kubernetesVersion: 'v1.33.1' } }],
    gateways: [],
    clusters: [
      {
        cluster: 'us',
        ok: true,
        value: {
          gatewayAddress: '198.18.1.10',
          changes: [
            { ref: 'Namespace/istio-system', action: 'unchanged' },
            { ref: 'Secret/istio-system/cacerts', action: 'unchanged' },
            { ref: 'HelmRelease/istio-system/istio-base', action: 'unchanged' },
            { ref: 'HelmRelease/istio-system/istiod', action: 'configured', fields: [{ path: 'values.pilot.env.PILOT_ENABLE_X', want: 'true', live: undefined }, { path: 'values.global.meshID', want: 'training-mesh', live: 'old' }] },
            { ref: 'HelmRelease/istio-system/istio-eastwestgateway', action: 'created' },
            { ref: 'Namespace/echo', action: 'created' },
            { ref: 'ConfigMap/eastwest-system/eastwest-sync-spec', action: 'configured', fields: [HASH, { path: 'data.spec.yaml', want: syncSpec('corp.local'), live: syncSpec('old.local') }] },
            { ref: 'PeerAuthentication/istio-system/default', action: 'configured', fields: [HASH, { path: 'spec.mtls.mode', want: 'STRICT', live: 'PERMISSIVE' }] },
            { ref: 'Telemetry/istio-system/mesh', action: 'configured', note: 'its kind is not served yet (a CRD an earlier step installs)' },
            { ref: 'ServiceEntry/echo/echo-old', action: 'deleted' },
            { ref: 'WorkloadEntry/echo/echo-via-eu', action: 'skipped', note: 'the east-west gateway of eu has no known address' },
          ],
        },
      },
      { cluster: 'eu', ok: true, value: { changes: [{ ref: 'Namespace/istio-system', action: 'unchanged' }] } },
    ],
    seconds: 2.5,
  };

  it('lists every change with its field changes (content hash hidden, multi-line as a unified diff), then the counts', () => {
    const text = renderApply(dryRun);
    expect(text).not.toContain('content-hash');
    expect(text).toContain([
      'us: 8 change(s), east-west gateway 198.18.1.10',
      '  would upgrade   HelmRelease/istio-system/istiod',
      '    values.pilot.env.PILOT_ENABLE_X: want "true", live <unset>',
      '    values.global.meshID: want "training-mesh", live "old"',
      '  would install   HelmRelease/istio-system/istio-eastwestgateway',
      '  would create    Namespace/echo',
      '  would update    ConfigMap/eastwest-system/eastwest-sync-spec',
      '    data.spec.yaml: (- live, + want)',
      '      @@ -3,6 +3,6 @@',
    ].join('\n'));
    expect(text).toContain(['      -  trustDomain: old.local', '      +  trustDomain: corp.local'].join('\n'));
    expect(text).toContain(['  would update    PeerAuthentication/istio-system/default', '    spec.mtls.mode: want "STRICT", live "PERMISSIVE"'].join('\n'));
    expect(text).toContain('  would update    Telemetry/istio-system/mesh (its kind is not served yet (a CRD an earlier step installs))');
    expect(text).toContain('  would prune     ServiceEntry/echo/echo-old');
    expect(text).toContain('  skipped         WorkloadEntry/echo/echo-via-eu (the east-west gateway of eu has no known address)');
    expect(text).toContain('  us: 1 to create, 3 to update, 1 to prune, Helm releases: 1 to install, 1 to upgrade; 3 unchanged, 1 skipped');
    expect(text).toContain('eu: no changes\n  eu: 0 to create, 0 to update, 0 to prune, Helm releases: 0 to install, 0 to upgrade; 1 unchanged');
    expect(text.endsWith('dry run: nothing was changed in 2.5 s')).toBe(true);
  });

  it('-o json carries the same counts per cluster (one function computes them)', () => {
    const view = JSON.parse(JSON.stringify(withSummaries(dryRun)));
    expect(view.clusters[0].value.summary).toEqual({ create: 1, update: 3, prune: 1, helmInstall: 1, helmUpgrade: 1, unchanged: 3, skipped: 1 });
    expect(view.clusters[1].value.summary).toEqual({ create: 0, update: 0, prune: 0, helmInstall: 0, helmUpgrade: 0, unchanged: 1, skipped: 0 });
    expect(view.clusters[0].value.changes).toEqual(JSON.parse(JSON.stringify(dryRun.clusters[0]!.ok && dryRun.clusters[0]!.value.changes)));
    // The JSON keeps every field as the result has it (the content hash too: it is data there).
    expect(JSON.stringify(view)).toContain('content-hash');
    for (const c of view.clusters) expect(renderApply(dryRun)).toContain(`  ${c.cluster}: ${formatSummary(c.value.summary, true)}`);
  });

  it('after a real apply the counts say what was done; a failed cluster has no counts', () => {
    const applied: ApplyResult = { ...dryRun, dryRun: false, clusters: [dryRun.clusters[0]!, { cluster: 'eu', ok: false, step: 'install', error: 'unreachable (timeout after 10 s)', unreachable: true }], ok: false };
    const text = renderApply(applied);
    expect(text).toContain('  us: 1 created, 3 updated, 1 pruned, Helm releases: 1 installed, 1 upgraded; 3 unchanged, 1 skipped');
    expect(text).toContain('  configured      PeerAuthentication/istio-system/default\n    spec.mtls.mode: want "STRICT", live "PERMISSIVE"');
    expect(text).toMatch(/^✗ eu \[install\]: unreachable/m);
    expect(text).not.toMatch(/^ {2}eu: /m);
    const view = withSummaries(applied);
    expect(view.clusters[1]).toEqual(applied.clusters[1]);
    expect(changeSummary([])).toEqual({ create: 0, update: 0, prune: 0, helmInstall: 0, helmUpgrade: 0, unchanged: 0, skipped: 0 });
  });
});

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function cli(args: string[]) {
  const stdout = new Sink();
  const stderr = new Sink();
  const io = makeIo(stdout, stderr, { CI: 'true' });
  const code = await run(['node', 'eastwest', ...args], io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** The examples in a directory of their own (their CA is made there); ECDSA keeps key generation fast. */
function workdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'eastwest-plan-'));
  cpSync(join(root, 'examples'), join(dir, 'examples'), { recursive: true, filter: (src) => !src.includes('.eastwest') });
  for (const f of ['training-mesh.yaml', 'lab.yaml']) {
    const p = join(dir, 'examples', f);
    const text = readFileSync(p, 'utf8');
    if (!text.includes('keyAlgorithm')) writeFileSync(p, text.replace('  clusters:\n', '  pki: {keyAlgorithm: ECDSA-P256}\n  clusters:\n'));
  }
  return dir;
}

const filesUnder = (dir: string): string[] => readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? filesUnder(join(dir, name)) : [join(dir, name)]));

/** Every Secret value of a rendered stream, as it is in the YAML (base64 for data). */
const secretValues = (stream: string): string[] =>
  parseAllDocuments(stream)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o?.kind === 'Secret')
    .flatMap((o) => [...Object.values((o.data ?? {}) as Record<string, string>), ...Object.values((o.stringData ?? {}) as Record<string, string>)]);

describe('render -o -: Secret values stay off stdout unless --include-secrets', () => {
  const dir = workdir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const example of ['training-mesh.yaml', 'lab.yaml']) {
    it(`${example}: key names with a masked note; no key, no base64 of one; --include-secrets prints them`, async () => {
      const spec = join(dir, 'examples', example);
      const ca = await cli(['ca', 'init', '-f', spec]); // render reads the CA, never makes one
      expect(ca.code, ca.stderr).toBe(0);
      const masked = await cli(['render', '-f', spec, '-o', '-']);
      expect(masked.code, masked.stderr).toBe(0);
      const full = await cli(['render', '-f', spec, '-o', '-', '--include-secrets']);
      expect(full.code, full.stderr).toBe(0);

      // The full stream has the CA keys; the masked one has their names, sizes and nothing else of them.
      const values = secretValues(full.stdout);
      expect(values.length).toBeGreaterThanOrEqual(8); // cacerts: 4 keys in each of 2 clusters
      const decoded = values.map((v) => Buffer.from(v, 'base64').toString('utf8'));
      expect(decoded.some((v) => v.includes('BEGIN') && v.includes('PRIVATE KEY'))).toBe(true);
      expect(masked.stdout).toMatch(/^ {2}ca-key\.pem: "<masked: \d+ bytes; --include-secrets shows it>"$/m);
      expect(masked.stdout.match(/<masked: /g)).toHaveLength(values.length);
      for (const v of values) {
        expect(masked.stdout).not.toContain(v.slice(0, 40));
        expect(masked.stdout).not.toContain(v.slice(-40));
      }
      // Keys and certificates as the CA directory holds them, raw or base64: nowhere in the masked stream.
      const pem = filesUnder(join(dir, 'examples', '.eastwest')).map((f) => readFileSync(f, 'utf8')).filter((t) => t.includes('-----BEGIN'));
      expect(pem.some((t) => t.includes('PRIVATE KEY'))).toBe(true);
      for (const text of pem) {
        const body = text.split('\n').find((l) => l.length > 40 && !l.startsWith('-----'))!;
        expect(masked.stdout).not.toContain(body);
        expect(masked.stdout).not.toContain(Buffer.from(text).toString('base64').slice(0, 40));
      }
      expect(decoded.some((v) => v.includes('PRIVATE KEY') && pem.some((t) => t.trim() === v.trim())), 'an intermediate key of the CA directory is in the full stream').toBe(true);
      const anywhere = masked.stdout.replace(/[A-Za-z0-9+/=]{40,}/g, (b64) => Buffer.from(b64, 'base64').toString('utf8'));
      for (const output of [masked.stdout, anywhere, masked.stderr]) expect(output).not.toMatch(/BEGIN|PRIVATE KEY|LS0tLS1CRUdJTi/);
      expect(masked.stderr).toMatch(/\d+ Secret value\(s\) masked \(key names kept\); --include-secrets prints them/);
      // Only the values differ: the same documents, the same keys.
      const mask = (s: string) => s.replace(/^( {2}[^:\s]+): (?:"<masked: \d+ bytes; --include-secrets shows it>"|\S+)$/gm, '$1: …');
      expect(mask(masked.stdout)).toBe(mask(full.stdout));
    });
  }

  it('--include-secrets with a directory is bad input, naming the flag; a directory keeps its keys (0600)', async () => {
    const spec = join(dir, 'examples', 'training-mesh.yaml');
    const bad = await cli(['render', '-f', spec, '-o', join(dir, 'out-bad'), '--include-secrets']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--include-secrets');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const out = join(dir, 'out');
    expect((await cli(['ca', 'init', '-f', spec])).code).toBe(0);
    expect((await cli(['render', '-f', spec, '-o', out])).code).toBe(0);
    const pre = join(out, 'us/manifests/00-pre-install.yaml');
    expect(statSync(pre).mode & 0o777).toBe(0o600);
    expect(secretValues(readFileSync(pre, 'utf8')).map((v) => Buffer.from(v, 'base64').toString()).join('')).toContain('PRIVATE KEY');
  });

  it('the masking helpers: any Secret with values, data sized decoded; other objects untouched', () => {
    const secret: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { a: Buffer.from('12345').toString('base64') }, stringData: { b: 'héllo' } };
    expect(secretValueCount(secret)).toBe(2);
    expect(maskSecretValues(secret)).toEqual({ ...secret, data: { a: '<masked: 5 bytes; --include-secrets shows it>' }, stringData: { b: '<masked: 6 bytes; --include-secrets shows it>' } });
    const token: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 't' }, type: 'kubernetes.io/service-account-token' };
    expect(secretValueCount(token)).toBe(0);
    expect(maskSecretValues(token)).toBe(token);
    const configMap: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b' } };
    expect(maskSecretValues(configMap)).toBe(configMap);
    const files = new Map<string, OutputFile>([['x.yaml', { content: 'data:\n  a: secret\n', mode: 0o600, masked: { content: 'data:\n  a: <masked>\n', values: 1 } }], ['y.yaml', { content: 'plain\n', mode: 0o644 }]]);
    expect(maskedValueCount(files)).toBe(1);
    expect(filesAsStream(files)).toBe('# ==> x.yaml <==\ndata:\n  a: <masked>\n\n# ==> y.yaml <==\nplain\n');
    expect(filesAsStream(files, { includeSecrets: true })).toContain('a: secret');
  });
});
