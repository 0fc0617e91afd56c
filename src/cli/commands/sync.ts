import type { Command } from 'commander';
import { startSync } from '../../controller/sync.ts';
import { mcsCrds } from '../../mcs/crds.ts';
import { loadMeshSpec } from '../../spec/load-file.ts';
import { EXIT } from '../../core/errors.ts';
import { readSyncStatus, type SyncStatusResult } from '../../controller/sync-status.ts';
import { printResult, stderrReporter, type Io, type OutputFormat } from '../output.ts';
import { formatOption, kubeconfigOption, requestTimeoutOption, specOption } from './options.ts';

function renderStatus(result: SyncStatusResult): string {
  const lines: string[] = [];
  if (!result.report) lines.push('no report from a sync controller in the reachable clusters (is `eastwest sync` running?)');
  else {
    lines.push(`as reported by the controller ${result.report.ageSeconds} s ago (read from ${result.report.readFrom}):`);
    for (const c of result.report.clusters) lines.push(`  ${c.cluster.padEnd(10)} ${c.state.padEnd(10)} since ${c.since}${c.error ? `  (${c.error})` : ''}`);
  }
  for (const u of result.unreadable) lines.push(`  ${u.cluster}: not readable now: ${u.error}`);
  return lines.join('\n');
}

export function registerSyncCommand(program: Command, io: Io): void {
  const sync = program
    .command('sync')
    .description('the controller: services exported with an MCS ServiceExport are routed from every other cluster as <svc>.<ns>.svc.clusterset.local');
  sync
    .command('run', { isDefault: true })
    .description('run the controller in the foreground (the default: `eastwest sync -f mesh.yaml`)')
    .addOption(specOption())
    .addOption(kubeconfigOption())
    .addOption(requestTimeoutOption())
    .addHelpText('after', '\nLogs go to stderr; stop it with Ctrl-C (SIGINT) or SIGTERM.\nExample:\n  eastwest sync -f examples/lab.yaml')
    .action(async (opts: { file: string; kubeconfig?: string; requestTimeout: number }) => {
      const { spec } = (await loadMeshSpec(opts.file)).document;
      const reporter = stderrReporter(io);
      const crds = await mcsCrds();
      const controller = startSync({ file: opts.file, kubeconfig: opts.kubeconfig, requestTimeoutSeconds: opts.requestTimeout, crds }, spec, reporter);
      reporter.report({ level: 'info', code: 'sync', message: `sync: watching ${spec.clusters.map((c) => c.name).join(', ')}` });
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      reporter.report({ level: 'info', code: 'sync', message: 'sync: stopping' });
      await controller.stop();
    });
  sync
    .command('status')
    .description('which clusters the running controller watches live, and which are stale since when')
    .addOption(specOption())
    .addOption(kubeconfigOption())
    .addOption(requestTimeoutOption())
    .addOption(formatOption())
    .action(async (opts: { file: string; kubeconfig?: string; requestTimeout: number; output: OutputFormat }) => {
      const result = await readSyncStatus({ file: opts.file, kubeconfig: opts.kubeconfig, requestTimeoutSeconds: opts.requestTimeout });
      printResult(io, opts.output, result, () => renderStatus(result));
      io.exitCode = result.report ? EXIT.ok : EXIT.failed;
    });
}
