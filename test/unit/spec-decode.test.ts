import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.ts';
import { decodeMeshSpec } from '../../src/spec/decode.ts';
import { meshJsonSchema } from '../../src/spec/json-schema.ts';
import { EXPECTED } from './bad-specs/expected.ts';

const corpus = join(import.meta.dirname, 'bad-specs');
const read = (path: string) => readFileSync(path, 'utf8');

function problemsOf(file: string) {
  try {
    decodeMeshSpec(read(join(corpus, file)), file);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).problems;
  }
  throw new Error(`${file} decoded without error`);
}

describe('bad-input corpus', () => {
  const files = readdirSync(corpus).filter((f) => f.endsWith('.yaml')).sort();
  it('has at least 20 distinct broken specs, each with its expectation', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
    expect(Object.keys(EXPECTED).sort()).toEqual(files);
  });
  for (const file of files) {
    it(`${file}: reports exactly the expected paths and places`, () => {
      const problems = problemsOf(file);
      const got = [...new Set(problems.map((p) => JSON.stringify([p.path, p.line, p.col])))].map((s) => JSON.parse(s));
      expect(got).toEqual(EXPECTED[file]);
      for (const p of problems) {
        expect(p.file).toBe(file);
        // A sentence for a person: no leaked placeholders, and the offending path is not the whole message.
        expect(p.message).not.toMatch(/undefined|\[object |NaN/);
        expect(p.message).not.toBe(p.path);
      }
    });
  }
  it('gives hints: a typo gets "did you mean", an enum its choices', () => {
    expect(problemsOf('typo-meshid.yaml')[0]).toMatchObject({ hint: 'did you mean "meshID"?' });
    expect(problemsOf('federation-mode-unknown.yaml')[0]!.hint).toBe('one of: service-entry, endpoint-discovery');
    expect(problemsOf('port-name-without-protocol.yaml')[0]!.hint).toContain('"http-<suffix>"');
  });
});

describe('examples', () => {
  for (const example of ['training-mesh.yaml', 'lab.yaml']) {
    it(`${example} is valid and keeps the guide's names`, () => {
      const { document } = decodeMeshSpec(read(join(import.meta.dirname, '../../examples', example)), example);
      const { spec } = document;
      expect(spec.meshID).toBe('training-mesh');
      expect(spec.trustDomain).toBe('corp.local');
      expect(spec.clusters.map((c) => c.network)).toEqual(['us-net', 'eu-net']);
      expect(spec.services[0]).toMatchObject({ name: 'echo', namespace: 'echo', clusters: ['us', 'eu'] });
    });
  }
  it('applies defaults in one place', () => {
    const minimal = 'apiVersion: eastwest.dev/v1alpha1\nkind: Mesh\nspec:\n  meshID: m\n  trustDomain: t.local\n  clusters:\n    - {name: a, context: a, network: a-net, region: r}\n';
    const { spec } = decodeMeshSpec(minimal, 'm.yaml').document;
    expect(spec.federation).toEqual({ mode: 'service-entry', hostSuffix: 'mesh.local' });
    expect(spec.policy).toEqual({ mtls: 'STRICT', authorization: [], objects: [] });
    expect(spec.pki).toEqual({ directory: '.eastwest/pki', keyAlgorithm: 'RSA-4096', rootValidityDays: 3650, intermediateValidityDays: 1825 });
    expect(spec.istio.charts).toEqual({ repo: 'https://istio-release.storage.googleapis.com/charts' });
    expect(spec.clusters[0]!.eastWestGateway).toEqual({});
    expect(spec.profile).toBe('standard');
  });
});

describe('JSON Schema', () => {
  it('the published schema/mesh.schema.json is the one generated from the zod schema', () => {
    const published = JSON.parse(read(join(import.meta.dirname, '../../schema/mesh.schema.json')));
    expect(published).toEqual(meshJsonSchema());
  });
});
