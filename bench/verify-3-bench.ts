// verify on a 3-cluster lab (us, eu, ap), apart from the sync bench: with the demo workload and with its
// own probes (the demo left aside), each ordered pair (6) proved, how long it takes, how long the probes
// take to deploy and to go. The 2-cluster lab is brought back at the end.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { threeClusterSpec } from './sync-scale-bench.ts';

const root = join(import.meta.dirname, '..');
const CLUSTERS = ['us', 'eu', 'ap'] as const;

interface VerifyOut {
  ok?: boolean;
  seconds?: number;
  pairs?: { check: string; from: string; to: string; ok: boolean }[];
  checks?: { id: string; ok: boolean; seconds: number; figures: Record<string, number | string> }[];
}

function run(args: string[]): { code: number | null; wall: number; stdout: string } {
  const started = performance.now();
  const r = spawnSync(process.execPath, [join(root, 'bin/eastwest.js'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 1800_000, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, wall: Math.round((performance.now() - started) / 100) / 10, stdout: r.stdout };
}

function summary(label: string, r: ReturnType<typeof run>): string {
  const out = JSON.parse(r.stdout || '{}') as VerifyOut;
  const cross = (out.pairs ?? []).filter((p) => p.check === 'cross-cluster-via-gateway');
  const failover = (out.pairs ?? []).filter((p) => p.check === 'failover' && p.ok);
  const step = (id: string) => out.checks?.find((c) => c.id === id);
  const probes = step('probe-workload') ? `; probes deployed in ${step('probe-workload')!.seconds} s, removed in ${step('probe-cleanup')?.seconds ?? '?'} s` : '';
  return `${label}: ${out.seconds ?? '?'} s (process ${r.wall} s, exit ${r.code}); ${cross.filter((p) => p.ok).length}/${CLUSTERS.length * (CLUSTERS.length - 1)} ordered pairs through the gateways (${cross.map((p) => `${p.from}→${p.to}${p.ok ? '' : ' failed'}`).join(' ')}), failover proved from ${failover.length} cluster(s)${probes}`;
}

export async function verifyThreeClusterBenchmark(): Promise<Record<string, number | string>> {
  const up = run(['lab', 'up', '--clusters', CLUSTERS.join(',')]);
  if (up.code !== 0) return { labUp: `failed (exit ${up.code})` };
  const spec = threeClusterSpec();
  try {
    const apply = run(['apply', '-f', spec, '--timeout', '900', '-o', 'json']);
    if (apply.code !== 0) return { labUpSeconds: up.wall, apply: `failed (exit ${apply.code}) after ${apply.wall} s` };
    const demo = run(['verify', '-f', spec, '--requests', '20', '-o', 'json']);
    const own = run(['verify', '-f', spec, '--requests', '20', '--probes', 'own', '-o', 'json']);
    return { labUpSeconds: up.wall, applySeconds: apply.wall, verifyDemo: summary('with the demo', demo), verifyOwnProbes: summary('with its own probes', own) };
  } finally {
    run(['lab', 'up']);
  }
}
