import { describe, expect, it } from 'vitest';
import { verificationTable } from '../../src/cli/commands/verify.ts';
import { GLYPHS } from '../../src/cli/output.ts';
import type { VerifyResult } from '../../src/verify/verify-mesh.ts';

describe('verify: the table', () => {
  const result: VerifyResult = {
    ok: false,
    selected: ['us', 'eu'],
    clusters: [
      { cluster: 'us', ok: true, value: { kubernetesVersion: 'v1.35.4' } },
      { cluster: 'eu', ok: false, unreachable: true, step: 'connect', error: 'unreachable (timeout after 10 s) during version', hint: 'is the API server up?' } as never,
    ],
    checks: [
      { id: 'local-preference', description: '', category: 'routing', status: 'passed', ok: true, figures: { requests: 20, localShare: 100 }, detail: '20/20 answered in us', findings: [], seconds: 0.8 },
      { id: 'failover', description: '', category: 'routing', status: 'failed', ok: false, figures: {}, detail: 'no other region answered', findings: [], seconds: 120.3 },
    ],
    pairs: [],
    seconds: 131.9,
  };
  const table = verificationTable(result, GLYPHS);

  it('every check with its figures and how long it took', () => {
    expect(table).toMatch(/local-preference +requests=20 localShare=100 \(0\.8 s\)/);
    expect(table).toMatch(/failover +\(120\.3 s\)\n +no other region answered/);
  });

  it('a check run from every cluster is labelled with it; every ordered pair is summed up', () => {
    const pairs: VerifyResult['pairs'] = [
      { check: 'cross-cluster-via-gateway', from: 'us', to: 'eu', ok: true, figures: { answered: '5/5' }, detail: '' },
      { check: 'cross-cluster-via-gateway', from: 'eu', to: 'us', ok: false, figures: { answered: '0/5' }, detail: '' },
      { check: 'failover', from: 'eu', to: 'us', ok: true, figures: {}, detail: '' },
    ];
    const t = verificationTable({ ...result, checks: [{ ...result.checks[0]!, cluster: 'eu' }], pairs }, GLYPHS);
    expect(t).toMatch(/local-preference @eu +requests=20/);
    expect(t).toContain(`pairs: ${GLYPHS.ok} us → eu (cross-cluster-via-gateway); ${GLYPHS.fail} eu → us (cross-cluster-via-gateway failed, failover)`);
  });

  it('an unreachable cluster first, with its hint; the verdict and total time last', () => {
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/eu unreachable \[connect\]: unreachable \(timeout after 10 s\)/);
    expect(lines[1]).toMatch(/hint: is the API server up\?/);
    expect(lines.at(-1)).toBe('verification failed in 131.9 s');
  });

  it('says what the mesh was proved with first: the demo, or its own probes (deployed first, removed last)', () => {
    const own = verificationTable({
      ...result,
      workload: { mode: 'own', namespace: 'eastwest-verify', service: 'probe' },
      checks: [
        { id: 'probe-workload', description: '', category: 'routing', status: 'passed', ok: true, figures: { 'us.setupSeconds': 8.1 }, findings: [], seconds: 8.2 },
        result.checks[0]!,
        { id: 'probe-cleanup', description: '', category: 'routing', status: 'failed', ok: false, figures: {}, detail: 'eu: namespace eastwest-verify still terminating after 120 s', findings: [], seconds: 120 },
      ],
    }, GLYPHS).split('\n');
    expect(own[0]).toBe("probes: verify's own (namespace eastwest-verify, removed afterwards)");
    expect(own.findIndex((l) => l.includes('probe-workload'))).toBeLessThan(own.findIndex((l) => l.includes('local-preference')));
    expect(own.join('\n')).toMatch(/probe-cleanup +\(120 s\)\n +eu: namespace eastwest-verify still terminating/);
    expect(verificationTable({ ...result, workload: { mode: 'demo', namespace: 'echo', service: 'echo' } }, GLYPHS).split('\n')[0]).toBe('probes: the demo workload (echo.echo)');
  });
});
