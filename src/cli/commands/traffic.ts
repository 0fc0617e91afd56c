import type { Command } from 'commander';
import { Option } from 'commander';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { EXIT } from '../../core/errors.ts';
import { openTraffic, type TrafficResult } from '../../observability/traffic-mesh.ts';
import type { Flow } from '../../observability/traffic.ts';
import { durationFlag } from '../flags.ts';
import { table } from '../table.ts';
import { GLYPHS, printResult, toYaml, type Io, type OutputFormat, type Style } from '../output.ts';
import { clustersOption, contextsOption, formatOption, kubeconfigOption, requestTimeoutOption, specOption } from './options.ts';
import { printRbac, printRbacOption } from '../print-rbac.ts';

const rate = (v: number) => (v === 0 ? '0' : v < 0.1 ? v.toFixed(3) : v.toFixed(1));
const ms = (v: number | null) => (v === null ? '-' : `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`);
const share = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)}%`);
const bytes = (v: number) => (v >= 1 << 20 ? `${(v / (1 << 20)).toFixed(1)} MiB` : v >= 1024 ? `${(v / 1024).toFixed(1)} KiB` : `${v} B`);


const flowRow = (f: Flow) => [f.from, f.to, rate(f.requestsPerSecond), String(f.requests), share(f.errorShare), ms(f.p50Ms), ms(f.p99Ms), String(f.connections), `${bytes(f.bytesSent)} / ${bytes(f.bytesReceived)}`];

export function renderTraffic(result: TrafficResult, style: Style = GLYPHS): string {
  const lines: string[] = [];
  for (const c of result.clusters.filter((c) => !c.ok)) lines.push(c.ok ? '' : `${style.fail} ${c.cluster} ${c.unreachable ? 'unreachable' : 'failed'}: ${c.error}${c.hint ? `\n    hint: ${c.hint}` : ''}`);
  lines.push(`from each cluster's workloads to another cluster (rates over ${result.windowSeconds} s; totals since the proxies started)`);
  lines.push(...table(['FROM', 'TO', 'REQ/S', 'REQUESTS', '5XX', 'P50', 'P99', 'CONNS', 'BYTES OUT / IN'], result.flows.map(flowRow)));
  lines.push('', 'into each east-west gateway from other clusters (TLS passthrough: connections and bytes)');
  lines.push(...table(['GATEWAY', 'CONNS', 'CONNS/S', 'BYTES IN / OUT', 'SERVICES'], result.gateways.map((g) => [g.cluster, String(g.connections), rate(g.connectionsPerSecond), `${bytes(g.bytesIn)} / ${bytes(g.bytesOut)}`, g.services.map((s) => `${s.service}:${s.port}`).join(' ') || '-'])));
  const federation = result.federation.filter((f) => f.requests > 0);
  if (federation.length) lines.push('', `observability's own (Prometheus federation): ${federation.map((f) => `${f.from}${style.arrow}${f.to} ${rate(f.requestsPerSecond)} req/s`).join(', ')}`);
  return lines.join('\n');
}

/** What `--watch` repeats: read, show, wait; stopped by `signal` (SIGINT/SIGTERM), at once even mid-read or mid-wait. */
export interface WatchLoop<T> {
  read: () => Promise<T>;
  show: (frame: T) => void;
  intervalSeconds: number;
  signal: AbortSignal;
  /** Waits `ms` or until `signal` aborts (rejecting then); a timer that keeps the process alive by default. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<unknown>;
}

/** Runs until `signal` aborts; returns the number of frames shown. */
export async function watchLoop<T>(loop: WatchLoop<T>): Promise<number> {
  const sleep = loop.sleep ?? ((ms: number, signal: AbortSignal) => sleepFor(ms, undefined, { signal }));
  const aborted = new Promise<'stopped'>((resolve) => {
    if (loop.signal.aborted) resolve('stopped');
    else loop.signal.addEventListener('abort', () => resolve('stopped'), { once: true });
  });
  let frames = 0;
  while (!loop.signal.aborted) {
    const frame = await Promise.race([loop.read().then((value) => ({ value })), aborted]);
    if (frame === 'stopped') break;
    loop.show(frame.value);
    frames++;
    try {
      await sleep(loop.intervalSeconds * 1000, loop.signal);
    } catch (error) {
      if (!loop.signal.aborted) throw error;
    }
  }
  return frames;
}

export function registerTrafficCommand(program: Command, io: Io): void {
  program
    .command('traffic')
    .description('the cross-cluster traffic matrix from each cluster\'s Prometheus: requests/s, 5xx share, p50/p99, connections and bytes per pair of clusters, and at each east-west gateway')
    .addOption(specOption())
    .addOption(printRbacOption())
    .addOption(kubeconfigOption())
    .addOption(contextsOption())
    .addOption(clustersOption('read'))
    .addOption(new Option('--window <duration>', 'span of rates, error shares and latencies').argParser(durationFlag('--window', 10, 86_400)).default(60, '1m'))
    .addOption(new Option('--watch [interval]', 'read again every interval (default 5s) until Ctrl-C or SIGTERM; with -o json, one JSON document per line; with -o yaml, one YAML document each').argParser(durationFlag('--watch', 1, 3600)))
    .addOption(requestTimeoutOption())
    .addOption(formatOption())
    .addHelpText('after', '\nNames that span clusters (clusterset.local, endpoint discovery) are counted at the gateways.\nExit code 3 when a cluster\'s Prometheus cannot be read.\nExamples:\n  eastwest traffic -f examples/lab.yaml\n  eastwest traffic -f mesh.yaml --window 5m -o json\n  eastwest traffic -f mesh.yaml --watch 10s')
    .action(async (opts: { printRbac?: boolean; file: string; kubeconfig?: string; context?: Record<string, string>; clusters?: string[]; window: number; watch?: number | true; requestTimeout: number; output: OutputFormat }) => {
      if (opts.printRbac) return printRbac(io, 'traffic', 'read', opts.output);
      const session = await openTraffic({ file: opts.file, kubeconfig: opts.kubeconfig, contexts: opts.context, clusters: opts.clusters, requestTimeoutSeconds: opts.requestTimeout, windowSeconds: opts.window });
      const read = () => session.read();
      const show = (result: TrafficResult) => {
        if (opts.watch !== undefined && opts.output === 'json') io.stdout.write(`${JSON.stringify(result)}\n`);
        else if (opts.watch !== undefined && opts.output === 'yaml') io.stdout.write(`---\n${toYaml(result)}`); // a stream of documents
        else printResult(io, opts.output, result, () => `${opts.watch !== undefined ? `${result.at}\n` : ''}${renderTraffic(result, io.style)}${opts.watch !== undefined ? '\n' : ''}`);
        io.exitCode = result.ok ? EXIT.ok : EXIT.clusterError;
      };
      if (opts.watch === undefined) return show(await read());
      const stopping = new AbortController();
      const stop = () => stopping.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        // The wait between frames is an ordinary timer: it keeps the process alive until a signal ends the loop.
        await watchLoop({ read, show, intervalSeconds: opts.watch === true ? 5 : opts.watch, signal: stopping.signal });
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
