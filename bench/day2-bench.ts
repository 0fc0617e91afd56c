// Day-2 operations on the lab under load: fortio sends 20 requests/s along each stream (us→eu, eu→us,
// local) while the operation runs; the figures are the operation's duration and the requests sent and
// failed (anything but 200). Failover: us's echo scaled to zero and back. Rotations: `ca rotate
// --intermediates --restart` on both clusters, then `ca rotate --root`.
import { spawnSync } from 'node:child_process';
import { loadKubeConfig } from '../src/k8s/client.ts';
import { scaleDeployment, waitDeploymentReady } from '../src/k8s/deployments.ts';
import { LAB_KUBECONFIG } from '../src/lab/lab-state.ts';
import { sleep } from '../src/util/poll.ts';
import { deployLoadGenerators, labStreams, type StreamResult } from '../test/e2e/load-generator.ts';

const counted = (results: StreamResult[]) => results.map((r) => `${r.name} ${r.sent}/${r.failed}${r.failed ? ` [${Object.entries(r.codes).map(([c, n]) => `${c}×${n}`).join(' ')}]` : ''}`).join(', ');

export async function day2Benchmark(): Promise<Record<string, number | string>> {
  const us = loadKubeConfig('lab-us', LAB_KUBECONFIG);
  const eu = loadKubeConfig('lab-eu', LAB_KUBECONFIG);
  const load = await deployLoadGenerators(new Map([['us', us], ['eu', eu]]), { trustDomain: 'corp.local', servedNamespace: 'echo' });
  try {
    await load.waitServing(labStreams());
    const failoverStreams = labStreams().filter((s) => s.name !== 'eu→us');
    let running = await load.start(failoverStreams, 20);
    let started = Date.now();
    const before = await scaleDeployment(us, 'echo', 'echo', 0);
    try {
      await sleep(10_000);
    } finally {
      await scaleDeployment(us, 'echo', 'echo', before);
    }
    await waitDeploymentReady(us, 'echo', 'echo', 180);
    await sleep(5000);
    const failoverSeconds = Math.round((Date.now() - started) / 100) / 10;
    const failover = await running.stop();
    running = await load.start(labStreams(), 20);
    started = Date.now();
    const rotation = spawnSync(process.execPath, ['bin/eastwest.js', 'ca', 'rotate', '-f', 'examples/lab.yaml', '--intermediates', '--restart', '-o', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 16 * 1024 * 1024 });
    const rotationSeconds = Math.round((Date.now() - started) / 100) / 10;
    const rotated = await running.stop();
    const out = JSON.parse(rotation.stdout || '{}') as { clusters?: { cluster: string; ok: boolean; value?: { istiodSwitchedSeconds: number; restarted: unknown[] } }[] };
    running = await load.start(labStreams(), 20);
    started = Date.now();
    const rootRun = spawnSync(process.execPath, ['bin/eastwest.js', 'ca', 'rotate', '-f', 'examples/lab.yaml', '--root', '-o', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 16 * 1024 * 1024 });
    const rootSeconds = Math.round((Date.now() - started) / 100) / 10;
    const rootRotated = await running.stop();
    const rootOut = JSON.parse(rootRun.stdout || '{}') as { phases?: { phase: number; seconds: number; proxies: number }[] };
    const sum = (rs: StreamResult[], k: 'sent' | 'failed') => rs.reduce((a, r) => a + r[k], 0);
    return {
      failoverSeconds,
      failoverSentFailed: `${sum(failover, 'sent')}/${sum(failover, 'failed')} (${counted(failover)})`,
      rotateIntermediatesSeconds: `${rotationSeconds} (exit ${rotation.status}; istiod switched after ${(out.clusters ?? []).map((c) => `${c.cluster} ${c.value?.istiodSwitchedSeconds ?? '?'} s`).join(', ')}; ${(out.clusters ?? []).reduce((a, c) => a + (c.value?.restarted.length ?? 0), 0)} deployments restarted)`,
      rotateSentFailed: `${sum(rotated, 'sent')}/${sum(rotated, 'failed')} (${counted(rotated)})`,
      rotateRootSeconds: `${rootSeconds} (exit ${rootRun.status}; ${(rootOut.phases ?? []).map((p) => `phase ${p.phase} ${p.seconds} s`).join(', ')}; ${rootOut.phases?.[0]?.proxies ?? '?'} proxies)`,
      rotateRootSentFailed: `${sum(rootRotated, 'sent')}/${sum(rootRotated, 'failed')} (${counted(rootRotated)})`,
    };
  } finally {
    await load.remove();
  }
}
