import type { Command } from 'commander';
import { startSync } from '../../controller/sync.ts';
import { mcsCrds } from '../../mcs/crds.ts';
import { loadMeshSpec } from '../../spec/load-file.ts';
import { stderrReporter, type Io } from '../output.ts';
import { kubeconfigOption, requestTimeoutOption, specOption } from './options.ts';

export function registerSyncCommand(program: Command, io: Io): void {
  program
    .command('sync')
    .description('run the controller in the foreground: services exported with an MCS ServiceExport are routed from every other cluster as <svc>.<ns>.svc.clusterset.local')
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
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      reporter.report({ level: 'info', code: 'sync', message: 'sync: stopping' });
      await controller.stop();
    });
}
