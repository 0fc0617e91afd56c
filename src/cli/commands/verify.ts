import type { Command } from 'commander';
import { Option } from 'commander';
import { EXIT } from '../../core/errors.ts';
import { verifyMesh, type VerifyResult } from '../../verify/verify-mesh.ts';
import { printResult, stderrReporter, type Io, type OutputFormat } from '../output.ts';
import { integerFlag } from '../flags.ts';
import { formatOption, kubeconfigOption, requestTimeoutOption, specOption } from './options.ts';

export function verificationTable(result: VerifyResult): string {
  const lines = result.clusters.filter((c) => !c.ok).map((c) => (c.ok ? '' : `✗ ${c.cluster} ${c.unreachable ? 'unreachable' : 'failed'} [${c.step}]: ${c.error}${c.hint ? `\n    hint: ${c.hint}` : ''}`));
  const width = Math.max(...result.checks.map((c) => c.id.length), 5);
  for (const check of result.checks) {
    const figures = Object.entries(check.figures).map(([k, v]) => `${k}=${v}`).join(' ');
    lines.push(`${check.ok ? '✓' : '✗'} ${check.id.padEnd(width)}  ${figures}${check.detail ? `\n  ${' '.repeat(width)}  ${check.detail}` : ''}`);
  }
  lines.push(`${result.ok ? 'verified' : 'verification failed'} in ${result.seconds} s`);
  return lines.join('\n');
}

export function registerVerifyCommand(program: Command, io: Io): void {
  program
    .command('verify')
    .description('prove the mesh inside the clusters: cross-cluster via the gateway, locality, failover, STRICT mTLS')
    .addOption(specOption())
    .addOption(kubeconfigOption())
    .addOption(new Option('--requests <n>', 'requests for the local-preference check').argParser(integerFlag('--requests', 1, 100_000)).default(200))
    .addOption(requestTimeoutOption())
    .addOption(formatOption())
    .action(async (opts: { file: string; kubeconfig?: string; requests: number; requestTimeout: number; output: OutputFormat }) => {
      const result = await verifyMesh({ file: opts.file, kubeconfig: opts.kubeconfig, requests: opts.requests, requestTimeoutSeconds: opts.requestTimeout }, stderrReporter(io));
      printResult(io, opts.output, result, () => verificationTable(result));
      io.exitCode = result.ok ? EXIT.ok : result.clusters.some((c) => !c.ok) || result.checks.some((c) => c.unreachable) ? EXIT.clusterError : EXIT.failed;
    });
}
