// Lab figures: idle CPU and memory of the running clusters, and request latency US→US vs US→EU
// (through the EU east-west gateway), measured inside the US client pod.
import { readFileSync } from 'node:fs';
import { loadKubeConfig } from '../src/k8s/client.ts';
import { LAB_KUBECONFIG, readLabState } from '../src/lab/lab-state.ts';
import { curlFromClient } from '../src/verify/mesh-probes.ts';

export const CLOCK_TICKS = 100;

export function cpuTicks(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export async function idleUsage(seconds = 20): Promise<Record<string, number | string>> {
  const state = await readLabState();
  const pids = state.processes;
  const before = pids.reduce((n, p) => n + cpuTicks(p), 0);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const after = pids.reduce((n, p) => n + cpuTicks(p), 0);
  const rss = pids.reduce((n, p) => n + rssBytes(p), 0);
  return { clusters: state.nodes.length, processes: pids.length, cpuCores: Math.round(((after - before) / CLOCK_TICKS / seconds) * 1000) / 1000, rssMiB: Math.round(rss / 1048576) };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

export async function latency(requests = 1000): Promise<Record<string, number | string>> {
  const config = loadKubeConfig('lab-us', LAB_KUBECONFIG);
  const out: Record<string, number | string> = { requests };
  for (const [name, url] of [['usToUs', 'http://echo.echo.svc.cluster.local/'], ['usToEu', 'http://echo.eu.mesh.local/']] as const) {
    const { latenciesMs, bodies } = await curlFromClient(config, 'client', url, requests, 5);
    const ok = latenciesMs.filter((l, i) => !Number.isNaN(l) && bodies[i]).sort((a, b) => a - b);
    out[`${name}.ok`] = ok.length;
    out[`${name}.p50ms`] = Math.round(percentile(ok, 50) * 100) / 100;
    out[`${name}.p99ms`] = Math.round(percentile(ok, 99) * 100) / 100;
  }
  return out;
}
