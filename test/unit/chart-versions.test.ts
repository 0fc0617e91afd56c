// A version the chart source does not have is refused before apply changes anything (issue 18): the
// repository's index asked with a deadline (a loopback server here), an OCI registry through helm.
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkIstioVersion, istiodChartVersions, repoIndexVersions } from '../../src/apply/chart-versions.ts';
import { InputError } from '../../src/core/errors.ts';
import { RecordingReporter } from '../../src/core/reporter.ts';
import { decodeMeshSpec } from '../../src/spec/decode.ts';

const root = join(import.meta.dirname, '../..');
const INDEX = 'apiVersion: v1\nentries:\n  istiod:\n    - version: 1.31.1\n    - version: 1.31.0\n    - version: 1.30.4\n  base:\n    - version: 1.99.0\n';
let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/charts/index.yaml') return void res.end(INDEX);
    if (req.url === '/slow/index.yaml') return void setTimeout(() => res.end(INDEX), 5000);
    res.statusCode = 404;
    res.end('no');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => server.close());

function specFile(charts: string, version = '1.31.0'): { file: string; spec: ReturnType<typeof decodeMeshSpec>['document']['spec'] } {
  const dir = mkdtempSync(join(tmpdir(), 'eastwest-versions-'));
  const file = join(dir, 'mesh.yaml');
  const text = readFileSync(join(root, 'examples/training-mesh.yaml'), 'utf8').replace(/^ {2}istio:\n(?: {4}.*\n)+/m, `  istio:\n    version: ${version}\n    charts: {${charts}}\n`);
  writeFileSync(file, text);
  return { file, spec: decodeMeshSpec(text, file).document.spec };
}

describe('istiod chart versions of the source', () => {
  it('reads istiod\'s versions from a repository index (other charts ignored)', () => {
    expect(repoIndexVersions(INDEX)).toEqual(['1.31.1', '1.31.0', '1.30.4']);
    expect(repoIndexVersions('entries: {}\n')).toEqual([]);
  });

  it('asks a repository for its index with a deadline', async () => {
    const { spec } = specFile(`repo: "${base}/charts/"`);
    expect(await istiodChartVersions(spec, { helm: 'helm', timeoutMs: 2000 }, new RecordingReporter())).toEqual(['1.31.1', '1.31.0', '1.30.4']);
  });

  it('a repository that does not answer in time, or fails, is "unknown" with a warning, never a refusal', async () => {
    for (const path of ['slow', 'gone']) {
      const reporter = new RecordingReporter();
      const { spec } = specFile(`repo: "${base}/${path}"`);
      const started = Date.now();
      expect(await istiodChartVersions(spec, { helm: 'helm', timeoutMs: 500 }, reporter)).toBeUndefined();
      expect(Date.now() - started).toBeLessThan(3000);
      expect(reporter.messages.map((m) => m.code)).toEqual(['chart-versions']);
    }
  });

  it('an OCI registry is asked through helm show chart: found, not found, or unknown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eastwest-fake-helm-'));
    const helm = join(dir, 'helm');
    writeFileSync(helm, '#!/bin/sh\ncase "$5" in 1.31.0) echo "name: istiod";; 1.99.0) echo "Error: oci://r/istiod:1.99.0: not found" >&2; exit 1;; *) echo "Error: connection refused" >&2; exit 1;; esac\n');
    chmodSync(helm, 0o755);
    const ask = (version: string) => istiodChartVersions(specFile('oci: "oci://registry.example/istio"', version).spec, { helm, timeoutMs: 5000 }, new RecordingReporter());
    expect(await ask('1.31.0')).toEqual(['1.31.0']);
    expect(await ask('1.99.0')).toEqual([]);
    expect(await ask('1.30.0')).toBeUndefined();
  });

  it('a local directory is not asked', async () => {
    expect(await istiodChartVersions(specFile('directory: ./charts').spec, { helm: 'helm', timeoutMs: 500 }, new RecordingReporter())).toBeUndefined();
  });
});

describe('checkIstioVersion', () => {
  it('1.99.0 is exit 2 at the spec\'s line with what the source has', async () => {
    const { file, spec } = specFile(`repo: "${base}/charts"`, '1.99.0');
    try {
      await checkIstioVersion(spec, file, ['1.31.1', '1.31.0']);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      const [problem] = (error as InputError).problems;
      expect(problem).toMatchObject({ file, path: 'spec.istio.version', line: 11, col: 14 });
      expect(problem!.hint).toMatch(/1\.31\.1, 1\.31\.0/);
    }
  });
  it('an available version, or unknown availability, passes', async () => {
    const { file, spec } = specFile(`repo: "${base}/charts"`, '1.31.0');
    await expect(checkIstioVersion(spec, file, ['1.31.1', '1.31.0'])).resolves.toBeUndefined();
    await expect(checkIstioVersion(spec, file, undefined)).resolves.toBeUndefined();
  });
});
