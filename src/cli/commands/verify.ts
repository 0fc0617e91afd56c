import type { Command } from 'commander';
import { Option } from 'commander';
import { EXIT } from '../../core/errors.ts';
import { PROBE_MODES, verifyMesh, type ProbeMode, type VerifyResult } from '../../verify/verify-mesh.ts';
import { GLYPHS, printResult, stderrReporter, type Io, type OutputFormat, type Style } from '../output.ts';
import { integerFlag } from '../flags.ts';
import { clustersOption, contextsOption, formatOption, kubeconfigOption, requestTimeoutOption, specOption } from './options.ts';
import { printRbac, printRbacOption } from '../print-rbac.ts';
import { VERIFY_PROBES_GRANT } from '../../engine/access.ts';

export function verificationTable(result: VerifyResult, style: Style = GLYPHS): string {
  const w = result.workload;
  const lines: string[] = w ? [`probes: ${w.mode === 'own' ? `verify's own (namespace ${w.namespace}, removed afterwards)` : `the demo workload (${w.service}.${w.namespace})`}`] : [];
  lines.push(...result.clusters.filter((c) => !c.ok).map((c) => (c.ok ? '' : `${style.fail} ${c.cluster} ${c.unreachable ? 'unreachable' : 'failed'} [${c.step}]: ${c.error}${c.hint ? `\n    hint: ${c.hint}` : ''}`)));
  const label = (c: VerifyResult['checks'][number]) => `${c.id}${c.cluster ? ` @${c.cluster}` : ''}`;
  const width = Math.max(...result.checks.map((c) => label(c).length), 5);
  for (const check of result.checks) {
    const figures = Object.entries(check.figures).map(([k, v]) => `${k}=${v}`).join(' ');
    lines.push(`${check.ok ? style.ok : style.fail} ${label(check).padEnd(width)}  ${figures}${figures ? ' ' : ''}(${check.seconds} s)${check.detail ? `\n  ${' '.repeat(width)}  ${check.detail}` : ''}`);
  }
  // Every ordered pair of clusters, and whether each check between them proved it.
  const pairs = new Map<string, { ok: boolean; checks: string[] }>();
  for (const p of result.pairs) {
    const key = `${p.from} → ${p.to}`;
    const seen = pairs.get(key) ?? { ok: true, checks: [] };
    seen.ok &&= p.ok;
    seen.checks.push(`${p.check}${p.ok ? '' : ' failed'}`);
    pairs.set(key, seen);
  }
  if (pairs.size) lines.push(`pairs: ${[...pairs].map(([k, v]) => `${v.ok ? style.ok : style.fail} ${k} (${v.checks.join(', ')})`).join('; ')}`);
  for (const left of result.leftChanged ?? []) lines.push(`${style.fail} still changed by verify: ${left}`);
  const putBack = (result.leftChanged ?? []).length === 0;
  lines.push(`${result.interrupted ? `verification interrupted (${putBack ? 'what it changed was put back' : 'NOT everything it changed was put back: see above'})` : result.ok ? 'verified' : 'verification failed'} in ${result.seconds} s`);
  return lines.join('\n');
}

export function registerVerifyCommand(program: Command, io: Io): void {
  program
    .command('verify')
    .description('prove the mesh inside the clusters: cross-cluster via the gateway, locality, failover, STRICT mTLS')
    .addOption(specOption())
    .addOption(printRbacOption())
    .addOption(kubeconfigOption())
    .addOption(contextsOption())
    .addOption(clustersOption('verify; checks between two clusters need both'))
    .addOption(new Option('--probes <mode>', "what to prove the mesh with: demo (the spec's demo workload), own (verify deploys short-lived probes in namespace eastwest-verify, routed as a spec service, and removes them), auto (demo when the spec has it, else own)").choices([...PROBE_MODES]).default('auto'))
    .addOption(new Option('--requests <n>', 'requests for the local-preference check').argParser(integerFlag('--requests', 1, 100_000)).default(200))
    .addOption(requestTimeoutOption())
    .addOption(formatOption())
    .addHelpText('after', '\nWith --clusters, checks run from the first of them (in spec order) and only between them; the others are not contacted.\nExamples:\n  eastwest verify -f examples/lab.yaml\n  eastwest verify -f mesh.yaml --clusters us,eu -o json\n  eastwest verify -f mesh.yaml --probes own')
    .action(async (opts: { printRbac?: boolean; file: string; kubeconfig?: string; context?: Record<string, string>; clusters?: string[]; requests: number; probes: ProbeMode; requestTimeout: number; output: OutputFormat }) => {
      // verify's own probes need a role beyond the probe level: printed with --probes own.
      if (opts.printRbac) return printRbac(io, 'verify', 'probe', opts.output, opts.probes === 'own' ? [VERIFY_PROBES_GRANT] : []);
      // Ctrl-C (or SIGTERM) once: no further check starts, a service scaled to zero is scaled back and the
      // probes are removed before verify ends; a second time: leave at once.
      const interrupt = new AbortController();
      const onSignal = (signal: NodeJS.Signals) => {
        if (!interrupt.signal.aborted) {
          io.stderr.write(`verify: ${signal}: putting back what verify changed (a scaled service, its probes) before ending; ${signal} again leaves at once\n`);
          interrupt.abort(new Error(`interrupted (${signal})`));
          return;
        }
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        process.kill(process.pid, signal);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      let result: VerifyResult;
      try {
        result = await verifyMesh({ file: opts.file, kubeconfig: opts.kubeconfig, contexts: opts.context, clusters: opts.clusters, requests: opts.requests, probes: opts.probes, requestTimeoutSeconds: opts.requestTimeout, signal: interrupt.signal }, stderrReporter(io));
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      printResult(io, opts.output, result, () => verificationTable(result, io.style));
      // Something verify changed is still changed: the cluster refused to take it back (exit 3), interrupted or not.
      io.exitCode = (result.leftChanged ?? []).length ? EXIT.clusterError : result.interrupted ? EXIT.interrupted : result.ok ? EXIT.ok : result.clusters.some((c) => !c.ok) || result.checks.some((c) => c.unreachable) ? EXIT.clusterError : EXIT.failed;
    });
}
