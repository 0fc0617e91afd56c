// A 3-cluster lab (us, eu, ap) with the demo, observability and the sync controller off: doctor finds
// nothing there (no false alarm without them), and verify's own probes prove every ordered pair of clusters
// (6) through the east-west gateways and failover from each cluster, and leave no namespace behind.
// It runs after every other e2e file (vitest.config.ts orders it last), so the tier's teardown takes this lab
// down; run alone, it leaves the 3-cluster lab up (`eastwest lab up` brings back the 2-cluster one).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { kubectl } from '../integration/lab-helpers.ts';
import { root, runCli } from './cli-run.ts';

const CLUSTERS = ['us', 'eu', 'ap'];
const log = (s: string) => process.stderr.write(`[e2e] ${s}\n`);

/**
 * examples/lab.yaml with a third cluster, the demo off and no service of its own (nothing for verify to
 * borrow), observability and the sync controller off.
 */
function threeClusterSpec(): string {
  const doc = parse(readFileSync(join(root, 'examples/lab.yaml'), 'utf8')) as { spec: { clusters: unknown[]; services: unknown[]; demo: { enabled: boolean }; policy: { authorization: unknown[] }; observability: Record<string, unknown>; sync: Record<string, unknown> } };
  doc.spec.clusters.push({ name: 'ap', context: 'lab-ap', network: 'ap-net', region: 'ap', zone: 'ap-a' });
  doc.spec.demo.enabled = false;
  doc.spec.observability = { prometheus: false, kiali: false };
  doc.spec.sync = { inCluster: false };
  doc.spec.services = [];
  doc.spec.policy.authorization = [];
  const file = join(mkdtempSync(join(tmpdir(), 'eastwest-three-')), 'mesh.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

describe('verify on three clusters, the demo off', () => {
  let spec = '';
  beforeAll(async () => {
    const up = await runCli(['lab', 'up', '--clusters', CLUSTERS.join(',')], 900_000);
    log(`lab up (3 clusters): exit ${up.code} in ${up.seconds} s`);
    expect(up.code, up.stderr.slice(-2000)).toBe(0);
    spec = threeClusterSpec();
    const apply = await runCli(['apply', '-f', spec, '--timeout', '900'], 1_200_000);
    log(`apply (3 clusters): exit ${apply.code} in ${apply.seconds} s`);
    expect(apply.code, apply.stdout.slice(-3000)).toBe(0);
  });

  it('doctor on the three clusters, without observability and sync: nothing found, exit 0', async () => {
    const run = await runCli(['doctor', '-f', spec, '--wait', '60s', '-o', 'json']);
    const out = JSON.parse(run.stdout || '{}') as { findings?: { check: string; severity: string; cluster?: string; message: string }[]; checks?: unknown[] };
    const alarms = (out.findings ?? []).filter((f) => f.severity !== 'info').map((f) => `${f.check} ${f.cluster}: ${f.message}`);
    log(`doctor (3 clusters, observability and sync off): exit ${run.code} in ${run.seconds} s, ${out.checks?.length ?? '?'} check runs ${alarms.join('; ')}`);
    expect(alarms).toEqual([]);
    expect(run.code).toBe(0);
  });

  it('its own probes prove all 6 ordered pairs and failover from every cluster, then are gone from every cluster', async () => {
    const run = await runCli(['verify', '-f', spec, '--requests', '20', '-o', 'json'], 1_200_000);
    const result = JSON.parse(run.stdout || '{}') as { workload?: { mode: string }; pairs?: { check: string; from: string; to: string; ok: boolean }[]; checks?: { id: string; cluster?: string; ok: boolean; seconds: number; detail?: string }[] };
    log(`verify (3 clusters, own probes): exit ${run.code} in ${run.seconds} s; ${(result.checks ?? []).map((c) => `${c.id}${c.cluster ? `@${c.cluster}` : ''} ${c.ok ? 'ok' : 'FAILED'} ${c.seconds} s`).join(', ')}`);
    expect(run.code, (result.checks ?? []).filter((c) => !c.ok).map((c) => `${c.id}: ${c.detail}`).join('\n')).toBe(0);
    expect(result.workload?.mode).toBe('own');
    const proved = (check: string) => (result.pairs ?? []).filter((p) => p.check === check && p.ok).map((p) => `${p.from}→${p.to}`).sort();
    expect(proved('cross-cluster-via-gateway')).toEqual(['ap→eu', 'ap→us', 'eu→ap', 'eu→us', 'us→ap', 'us→eu']);
    expect(new Set(proved('failover').map((p) => p.split('→')[0]))).toEqual(new Set(CLUSTERS));
    for (const cluster of CLUSTERS) {
      const left = await kubectl(`lab-${cluster}`, ['get', 'namespace', 'eastwest-verify', '--ignore-not-found', '-o', 'name']);
      expect(left.stdout.trim(), `${cluster}: namespace left behind`).toBe('');
    }
  });
});
