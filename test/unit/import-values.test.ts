// import-values: what the spec models becomes its fields, every other setting the istiod chart reads is
// carried into spec.helmValues.istiod (and reaches the rendered release), and every setting left behind is
// listed with its place and why — on stderr, and in the -o json report.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { helmReleases } from '../../src/render/helm-releases.ts';
import { decodeMeshSpec } from '../../src/spec/decode.ts';
import { eastwest } from './run-cli.ts';

const fixtures = join(import.meta.dirname, '../fixtures');
const guide = join(fixtures, 'guide-values-istio.yaml');
const extra = join(fixtures, 'values-istio-extra.yaml');
const clusters = ['--cluster', 'us=prod-us-east-1:us-net', '--cluster', 'eu=prod-eu-west-1:eu-net'];

describe("import-values with the guide's values file", () => {
  it('maps meshID and the trust domain, carries nothing else (there is nothing else), lists what it left', async () => {
    const r = await eastwest(['import-values', '--values', guide, ...clusters]);
    expect(r.code, r.stderr).toBe(0);
    const { spec } = parse(r.stdout);
    expect(spec).toMatchObject({ meshID: 'training-mesh', trustDomain: 'corp.local' });
    expect(spec.helmValues).toBeUndefined();
    expect(r.stderr).toMatch(/^warning: .*guide-values-istio\.yaml:4:3 global\.trustDomain: .*\n\s+hint: the trust domain belongs in meshConfig\.trustDomain/m);
    expect(r.stderr).toMatch(/^not carried: .*guide-values-istio\.yaml:5:3 global\.network: global\.network "us-net" is per cluster/m);
    expect(r.stderr).toMatch(/^not carried: .*guide-values-istio\.yaml:8:5 pilot\.env\.PILOT_ENABLE_MULTINETWORK: PILOT_ENABLE_MULTINETWORK does not exist/m);
    expect(r.stderr).not.toContain('carried into');
  });

  it('-o json reports where each setting went', async () => {
    const r = await eastwest(['import-values', '--values', guide, ...clusters, '-o', 'json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.mapped).toEqual([{ path: 'global.meshID', to: 'spec.meshID' }, { path: 'global.trustDomain', to: 'spec.trustDomain' }]);
    expect(report.carried).toEqual([]);
    expect(report.notCarried.map((n: { path: string }) => n.path)).toEqual(['global.network', 'pilot.env.PILOT_ENABLE_MULTINETWORK']);
    expect(report.spec.spec.meshID).toBe('training-mesh');
  });
});

describe('import-values with settings eastwest does not model', () => {
  it('carries meshConfig.accessLogFile and every other istiod setting into spec.helmValues.istiod', async () => {
    const r = await eastwest(['import-values', '--values', extra, ...clusters]);
    expect(r.code, r.stderr).toBe(0);
    const document = parse(r.stdout);
    expect(document.spec.helmValues.istiod).toEqual({
      autoscaleMin: 2,
      telemetry: { enabled: true },
      global: { logAsJson: true, proxy: { logLevel: 'warning' } },
      meshConfig: { accessLogFile: '/dev/stdout', accessLogEncoding: 'JSON' },
      env: { PILOT_TRACE_SAMPLING: '1' },
      resources: { requests: { cpu: '500m' } },
    });
    expect(document.spec.istio).toEqual({ hub: 'registry.corp.local/istio', tag: '1.31.0' });
    expect(r.stderr).toContain('carried into spec.helmValues.istiod: autoscaleMin, telemetry.enabled, global.logAsJson, global.proxy.logLevel, meshConfig.accessLogFile, meshConfig.accessLogEncoding, env.PILOT_TRACE_SAMPLING, resources.requests.cpu');
  });

  it('the carried settings reach the istiod release, over eastwest\'s own values', async () => {
    const r = await eastwest(['import-values', '--values', extra, ...clusters]);
    const { spec } = decodeMeshSpec(r.stdout, 'mesh.yaml').document;
    const istiod = helmReleases(spec, spec.clusters[0]!).find((h) => h.release === 'istiod')!;
    expect(istiod.values).toMatchObject({
      meshConfig: { trustDomain: 'corp.local', accessLogFile: '/dev/stdout', accessLogEncoding: 'JSON' },
      global: { meshID: 'training-mesh', network: 'us-net', multiCluster: { clusterName: 'us' }, hub: 'registry.corp.local/istio', tag: '1.31.0', logAsJson: true },
      env: { PILOT_TRACE_SAMPLING: '1' },
    });
  });

  it('lists every setting it did not carry, with its place, why, and a hint', async () => {
    const r = await eastwest(['import-values', '--values', extra, ...clusters]);
    const notCarried = r.stderr.split('\n').filter((l) => l.startsWith('not carried: '));
    expect(notCarried).toEqual([
      expect.stringMatching(/values-istio-extra\.yaml:5:3 global\.network: global\.network "us-net" is per cluster/),
      expect.stringMatching(/values-istio-extra\.yaml:10:5 global\.multiCluster\.clusterName: the cluster name is per cluster/),
      expect.stringMatching(/values-istio-extra\.yaml:13:3 global\.proxyy: the istiod chart has no value global\.proxyy/),
      expect.stringMatching(/values-istio-extra\.yaml:20:5 pilot\.env\.PILOT_ENABLE_MULTINETWORK: PILOT_ENABLE_MULTINETWORK does not exist/),
      expect.stringMatching(/values-istio-extra\.yaml:25:3 pilot\.replicas: the istiod chart reads no pilot section, and no replicas at the top level either/),
      expect.stringMatching(/values-istio-extra\.yaml:29:1 sidecarInjectorWebhok: the istiod chart has no value sidecarInjectorWebhok/),
      expect.stringMatching(/values-istio-extra\.yaml:31:1 whatever: the istiod chart has no value whatever/),
    ]);
    expect(r.stderr).toMatch(/global\.proxyy: .*\n\s+hint: did you mean "proxy"\?/);
    expect(r.stderr).toMatch(/sidecarInjectorWebhok: .*\n\s+hint: did you mean "sidecarInjectorWebhook"\?/);
    expect(r.stderr).toMatch(/whatever: .*\n\s+hint: see `helm show values istio\/istiod`/);
    expect(r.stderr).toMatch(/^warning: .*values-istio-extra\.yaml:19:3 pilot\.env: the istiod chart reads no pilot section: pilot\.env would be ignored\n\s+hint: carried as spec\.helmValues\.istiod\.env/m);
  });

  it('-o json has the same lists, each entry with file, line, col, path, message and hint', async () => {
    const r = await eastwest(['import-values', '--values', extra, ...clusters, '-o', 'json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.file).toBe(extra);
    expect(report.carried).toContainEqual({ path: 'meshConfig.accessLogFile', to: 'spec.helmValues.istiod.meshConfig.accessLogFile' });
    expect(report.mapped).toContainEqual({ path: 'global.hub', to: 'spec.istio.hub' });
    expect(report.notCarried).toHaveLength(7);
    expect(report.notCarried).toContainEqual({ file: extra, line: 31, col: 1, path: 'whatever', message: 'the istiod chart has no value whatever', hint: 'see `helm show values istio/istiod` for what it reads' });
    expect(report.spec.spec.helmValues.istiod.meshConfig.accessLogFile).toBe('/dev/stdout');
    expect(parse((await eastwest(['import-values', '--values', extra, ...clusters, '-o', 'yaml'])).stdout)).toEqual(report);
  });

  it('a top-level setting wins over the same one under pilot; a reserved section is refused with why', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'eastwest-values-')), 'values.yaml');
    writeFileSync(file, 'global:\n  meshID: m\nmeshConfig:\n  trustDomain: t.local\nenv:\n  A: top\npilot:\n  env:\n    A: pilot\n    B: pilot\n  autoscaleMin: 3\nautoscaleMin: 2\ndefaults:\n  hub: x\n');
    const r = await eastwest(['import-values', '--values', file, '--cluster', 'a=ctx:a-net', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.spec.spec.helmValues.istiod).toEqual({ env: { A: 'top', B: 'pilot' }, autoscaleMin: 2 });
    expect(report.notCarried).toEqual([
      expect.objectContaining({ path: 'pilot.autoscaleMin', message: 'autoscaleMin is also set at the top level, which the istiod chart reads' }),
      expect.objectContaining({ path: 'defaults', message: 'the istiod chart refuses a defaults section (it fails the install)' }),
    ]);
  });
});
