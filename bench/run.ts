// `npm run bench`: figures, not assertions. Render at scale always; the lab figures when the lab can run
// (root): idle usage of the two clusters, then apply + latency US→US vs US→EU through the gateway.
import '../test/register-lab.ts';
import { spawnSync } from 'node:child_process';
import { renderBenchmark } from './render-bench.ts';

const print = (title: string, figures: Record<string, number | string>) =>
  process.stdout.write(`${title}\n${Object.entries(figures).map(([k, v]) => `  ${k.padEnd(24)} ${v}`).join('\n')}\n`);

print('render: 3 clusters × 1,000 exported services', await renderBenchmark());
if (process.getuid?.() === 0 && !process.argv.includes('--render-only')) {
  const eastwest = (args: string[]) => {
    const started = Date.now();
    const r = spawnSync(process.execPath, ['bin/eastwest.js', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`eastwest ${args.join(' ')} failed`);
    return Math.round((Date.now() - started) / 100) / 10;
  };
  const { idleUsage, latency } = await import('./lab-bench.ts');
  const upSeconds = eastwest(['lab', 'up']);
  print('lab: two idle clusters (no Istio), 20 s window', { labUpSeconds: upSeconds, ...(await idleUsage(20)) });
  const applySeconds = eastwest(['apply', '-f', 'examples/lab.yaml']);
  print('lab: with Istio and the demo applied, 20 s window', { applySeconds, ...(await idleUsage(20)) });
  print('latency: 1,000 sequential requests from the US client', await latency(1000));
  const timed = (args: string[]) => {
    const started = Date.now();
    const r = spawnSync(process.execPath, ['bin/eastwest.js', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 });
    return { wall: Math.round((Date.now() - started) / 100) / 10, code: r.status, out: JSON.parse(r.stdout || '{}') as { seconds?: number; findings?: unknown[]; pairs?: { ok: boolean }[] } };
  };
  const doctorRuns = [timed(['doctor', '-f', 'examples/lab.yaml', '-o', 'json']), timed(['doctor', '-f', 'examples/lab.yaml', '-o', 'json'])];
  const verifyRun = timed(['verify', '-f', 'examples/lab.yaml', '--requests', '20', '-o', 'json']);
  const verifyOwn = timed(['verify', '-f', 'examples/lab.yaml', '--requests', '20', '--probes', 'own', '-o', 'json']);
  print('doctor and verify on the healthy 2-cluster lab', {
    doctorSeconds: doctorRuns.map((d) => `${d.out.seconds} (process ${d.wall}, exit ${d.code}, ${d.out.findings?.length ?? '?'} findings)`).join('; '),
    doctorTarget: '< 10 s',
    verify2ClustersSeconds: `${verifyRun.out.seconds} (process ${verifyRun.wall}, exit ${verifyRun.code}, ${(verifyRun.out.pairs ?? []).filter((p) => p.ok).length} pair results proved)`,
    verify2ClustersOwnProbes: `${verifyOwn.out.seconds} (process ${verifyOwn.wall}, exit ${verifyOwn.code}, ${(verifyOwn.out.pairs ?? []).filter((p) => p.ok).length} pair results proved)`,
  });
  const { diffBenchmark } = await import('./diff-bench.ts');
  const { buildHelm } = await import('../src/lab/build/go-components.ts');
  const { readLabVersions } = await import('../src/sources/lab-versions.ts');
  const { silentReporter } = await import('../src/core/reporter.ts');
  const helm = `${(await buildHelm(readLabVersions(), silentReporter)).dir}/helm`;
  print('diff and no-change apply: 2 clusters × ~500 owned objects (lab mesh + 120 generated services)', await diffBenchmark(helm));
  const { failoverBenchmark } = await import('./failover-bench.ts');
  print('failover: US echo scaled to zero (median of 5; seconds from the scale)', await failoverBenchmark(5));
  const { day2Benchmark } = await import('./day2-bench.ts');
  print('day-2 under load (fortio, 20 requests/s per stream): duration, requests sent/failed', await day2Benchmark());
  const { observabilityBenchmark, coldBuildBenchmark } = await import('./observability-bench.ts');
  print('observability: the lab\'s Prometheus and Kiali per cluster (60 s window), request → eastwest traffic (10 bursts of 10)', await observabilityBenchmark());
  print('observability: compile from an empty Go build cache (modules downloaded)', await coldBuildBenchmark());
  const { syncBenchmark } = await import('./sync-bench.ts');
  print('sync (in-cluster controllers): ServiceExport in eu → answered from us as hello.shop.svc.clusterset.local, and back', await syncBenchmark(20));
  const { verifyThreeClusterBenchmark } = await import('./verify-3-bench.ts');
  print('verify on 3 lab clusters (us, eu, ap): every ordered pair, with the demo and with its own probes', await verifyThreeClusterBenchmark());
  const { syncScaleBenchmark } = await import('./sync-scale-bench.ts');
  print('sync at scale: 1,000 ServiceExports over 3 lab clusters (us, eu, ap), in-cluster controllers; config_dump scoped vs unscoped', await syncScaleBenchmark(1000));
}
