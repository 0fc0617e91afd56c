// Spec version fields: a YAML number gets a hint to quote it as written; an Istio version the chart source
// does not have is refused before anything is applied (offline for the lab's charts; istioVersionProblems
// for apply's preflight with what helm reports).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError, type Problem } from '../../src/core/errors.ts';
import { istioBuildVersion, readLabVersions } from '../../src/sources/lab-versions.ts';
import { decodeMeshSpec } from '../../src/spec/decode.ts';
import { istioVersionProblems } from '../../src/spec/istio-version.ts';
import { eastwest } from './run-cli.ts';

const examples = join(import.meta.dirname, '../../examples');
const lab = readFileSync(join(examples, 'lab.yaml'), 'utf8');
const training = readFileSync(join(examples, 'training-mesh.yaml'), 'utf8');
const labRelease = readLabVersions().istio.release;

function problemsOf(text: string, file = 'mesh.yaml', options?: Parameters<typeof decodeMeshSpec>[2]): Problem[] {
  try {
    decodeMeshSpec(text, file, options);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).problems;
  }
  return [];
}

/** The training mesh (charts from Istio's Helm repository) with another version, and another chart source when given. */
const withVersion = (version: string, charts?: string) => {
  const text = training.replace('version: 1.31.0', `version: ${version}`);
  return charts ? text.replace('repo: https://istio-release.storage.googleapis.com/charts', charts) : text;
};
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('a version written as a YAML number', () => {
  it('version: 1.31 → "expected string" with the hint to quote it as a full version', () => {
    const text = withVersion('1.31');
    expect(problemsOf(text)).toEqual([{ file: 'mesh.yaml', line: lineOf(text, 'version: 1.31'), col: 14, path: 'spec.istio.version', message: 'expected string, got number 1.31', hint: 'quote it: version: "1.31.0"' }]);
  });

  it('version: 1.30 (which YAML reads as 1.3) is quoted as written', () => {
    expect(problemsOf(withVersion('1.30'))[0]).toMatchObject({ message: 'expected string, got number 1.3', hint: 'quote it: version: "1.30.0"' });
  });

  it('a chart version and an image tag get the same hint, as they were written', () => {
    const text = training.replace('    kialiAuth: openid', '    charts:\n      kiali:\n        version: 2.27\n      kubePrometheusStack:\n        version: 79\n    kialiAuth: openid').replace('    charts:\n      repo:', '    tag: 1.31\n    charts:\n      repo:');
    const problems = problemsOf(text);
    expect(problems.find((p) => p.path === 'spec.istio.tag')).toMatchObject({ hint: 'quote it: tag: "1.31"' });
    expect(problems.find((p) => p.path === 'spec.observability.charts.kiali.version')).toMatchObject({ hint: 'quote it: version: "2.27.0"' });
    expect(problems.find((p) => p.path === 'spec.observability.charts.kubePrometheusStack.version')).toMatchObject({ hint: 'quote it: version: "79"' });
  });

  it('a quoted version, or one with three parts (a string to YAML), is fine', () => {
    expect(problemsOf(withVersion('"1.31.0"'))).toEqual([]);
    expect(problemsOf(withVersion('1.31.0'))).toEqual([]);
  });

  it('the CLI shows the hint under the problem', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'eastwest-version-')), 'mesh.yaml');
    writeFileSync(file, withVersion('1.31'));
    const r = await eastwest(['validate', '-f', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/mesh\.yaml:\d+:14 spec\.istio\.version: expected string, got number 1\.31\n\s+hint: quote it: version: "1\.31\.0"/);
  });
});

describe("an Istio version the lab's charts do not have", () => {
  it(`the lab builds Istio ${labRelease}: any ${labRelease}.x is accepted`, () => {
    expect(problemsOf(lab)).toEqual([]);
    expect(problemsOf(lab.replace('version: 1.31.0', `version: "${labRelease}.4"`))).toEqual([]);
    expect(problemsOf(lab.replace('version: 1.31.0', `version: "${labRelease}"`))).toEqual([]);
  });

  it('1.99.0 is a spec error at the version, with the available release in the hint', () => {
    const text = lab.replace('version: 1.31.0', 'version: 1.99.0');
    expect(problemsOf(text, 'lab.yaml')).toEqual([{
      file: 'lab.yaml', line: lineOf(text, 'version: 1.99.0'), col: 14, path: 'spec.istio.version',
      message: "Istio 1.99.0 is not available from the lab's charts",
      hint: `available from the lab's charts: ${labRelease}.x, ${istioBuildVersion(readLabVersions().istio)}; e.g. version: "${labRelease}.0"`,
    }]);
  });

  it('is reported with the spec\'s other problems, all at once', () => {
    const text = lab.replace('version: 1.31.0', 'version: 1.99.0').replace('meshID: training-mesh', 'meshId: training-mesh');
    expect(problemsOf(text).map((p) => p.path)).toEqual(['spec.meshId', 'spec.meshID', 'spec.istio.version']);
    expect(problemsOf(lab.replace('version: 1.31.0', 'version: latest')).map((p) => p.message)).toEqual(['must be an Istio version such as 1.31.0']);
  });

  it('validate refuses it (exit 2) before anything else could use it', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'eastwest-version-')), 'lab.yaml');
    writeFileSync(file, lab.replace('version: 1.31.0', 'version: 1.99.0'));
    const r = await eastwest(['validate', '-f', file, '-o', 'json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).problems).toEqual([expect.objectContaining({ path: 'spec.istio.version', message: "Istio 1.99.0 is not available from the lab's charts" })]);
  });

  it('the lab\'s builds: lab://istio-charts takes the pinned release or its exact build version; @<build> takes that build\'s version only', () => {
    const v = readLabVersions();
    const [current, previous] = [istioBuildVersion(v.istio), istioBuildVersion(v.istioPrevious)];
    const build = (version: string, charts: string) => lab.replace('version: 1.31.0', `version: "${version}"`).replace('directory: lab://istio-charts', `directory: ${charts}`);
    expect(problemsOf(build(current, 'lab://istio-charts'))).toEqual([]);
    expect(problemsOf(build(previous, `lab://istio-charts@${previous}`))).toEqual([]);
    expect(problemsOf(build(current, `lab://istio-charts@${current}`))).toEqual([]);
    // The older snapshot's version with the pinned charts, or the release with a named build: refused at the version.
    expect(problemsOf(build(previous, 'lab://istio-charts')).map((p) => p.path)).toEqual(['spec.istio.version']);
    expect(problemsOf(build('1.31.0', `lab://istio-charts@${previous}`))[0]).toMatchObject({ path: 'spec.istio.version', hint: expect.stringContaining(previous) });
    expect(problemsOf(build('1.31.0', 'lab://istio-charts@1.0-alpha.000000000000')).map((p) => p.path)).toEqual(['spec.istio.version']);
  });

  it('a repository or registry source is not known offline: accepted here, checked by apply', () => {
    expect(problemsOf(withVersion('1.99.0'))).toEqual([]);
    expect(problemsOf(withVersion('1.99.0', 'oci: oci://registry.corp.local/istio'))).toEqual([]);
  });

  it('what the source has can be given to decode (as a test or another caller would)', () => {
    const text = withVersion('1.99.0');
    expect(problemsOf(text, 'mesh.yaml', { istioVersions: () => ['1.31.0', '1.30.2'] })[0]).toMatchObject({ path: 'spec.istio.version', hint: 'available from https://istio-release.storage.googleapis.com/charts: 1.31.0, 1.30.2; e.g. version: "1.31.0"' });
    expect(problemsOf(text, 'mesh.yaml', { istioVersions: () => undefined })).toEqual([]);
  });
});

describe('istioVersionProblems (for apply\'s preflight)', () => {
  const spec = (version: string, charts: Record<string, string> = { repo: 'https://istio-release.storage.googleapis.com/charts' }) => ({ istio: { version, charts } }) as Parameters<typeof istioVersionProblems>[0];

  it('none when the source has the version (with or without a leading v)', () => {
    expect(istioVersionProblems(spec('1.31.1'), ['1.30.3', '1.31.0', '1.31.1'])).toEqual([]);
    expect(istioVersionProblems(spec('1.31.1'), ['v1.31.1'])).toEqual([]);
    expect(istioVersionProblems(spec('v1.31.1'), ['1.31.1'])).toEqual([]);
    expect(istioVersionProblems(spec('1.31'), ['1.31.2'])).toEqual([]);
  });

  it('otherwise one problem: newest versions first, the nearest of the same release as the example', () => {
    const [problem, ...rest] = istioVersionProblems(spec('1.31.9'), ['1.30.3', '1.31.0', '1.31.1', '1.29.10', '1.29.9']);
    expect(rest).toEqual([]);
    expect(problem).toEqual({
      path: 'spec.istio.version',
      message: 'Istio 1.31.9 is not available from https://istio-release.storage.googleapis.com/charts',
      hint: 'available from https://istio-release.storage.googleapis.com/charts: 1.31.1, 1.31.0, 1.30.3, 1.29.10, 1.29.9; e.g. version: "1.31.1"',
    });
  });

  it('names the OCI registry, shortens a long list, and says so when the source lists nothing', () => {
    const many = Array.from({ length: 20 }, (_, i) => `1.${10 + i}.0`);
    const [long] = istioVersionProblems(spec('1.99.0', { oci: 'oci://registry.corp.local/istio' }), many);
    expect(long!.message).toBe('Istio 1.99.0 is not available from oci://registry.corp.local/istio');
    expect(long!.hint).toBe('available from oci://registry.corp.local/istio: 1.29.0, 1.28.0, 1.27.0, 1.26.0, 1.25.0, 1.24.0, 1.23.0, 1.22.0, … (20 in all); e.g. version: "1.29.0"');
    expect(istioVersionProblems(spec('1.31.0', { oci: 'oci://registry.corp.local/istio' }), [])[0]!.hint).toBe('oci://registry.corp.local/istio lists no Istio chart versions; check the chart source (istio.charts)');
  });
});
