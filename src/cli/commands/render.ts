import type { Command } from 'commander';
import { Option } from 'commander';
import { renderSpecFile } from '../../actions/render.ts';
import { InputError } from '../../core/errors.ts';
import { filesAsStream, maskedValueCount } from '../../render/output-files.ts';
import { writeOutputDirectory } from '../../render/write-output.ts';
import { printResult, stderrReporter, type Io, type OutputFormat } from '../output.ts';
import { specOption } from './options.ts';

export function registerRenderCommand(program: Command, io: Io): void {
  program
    .command('render')
    .description('render, per cluster, the Helm releases and manifests the mesh needs (pure and deterministic)')
    .addOption(specOption())
    .addOption(new Option('-o, --output <dir>', 'output directory, or - for stdout').default('out'))
    .addOption(new Option('--include-secrets', 'with -o -: print Secret values (the CA keys in cacerts) instead of masking them'))
    .addOption(new Option('--report <format>', 'format of the report printed after writing a directory').choices(['text', 'yaml', 'json']).default('text'))
    .addHelpText('after', '\nExamples:\n  eastwest render -f examples/training-mesh.yaml -o out/\n  eastwest render -f examples/training-mesh.yaml -o - | less                       # Secret values masked\n  eastwest render -f examples/training-mesh.yaml -o - --include-secrets > all.yaml  # with the CA keys')
    .action(async (opts: { file: string; output: string; includeSecrets?: boolean; report: OutputFormat }) => {
      if (opts.includeSecrets && opts.output !== '-') {
        throw new InputError('--include-secrets is for -o -', [{ path: '--include-secrets', message: `files written to ${opts.output} always hold the Secret values (mode 0600)` }], 'drop --include-secrets, or print with -o - --include-secrets');
      }
      const reporter = stderrReporter(io);
      const result = await renderSpecFile(opts.file, reporter);
      if (opts.output === '-') {
        const masked = opts.includeSecrets ? 0 : maskedValueCount(result.files);
        if (masked) reporter.report({ level: 'info', code: 'secrets-masked', message: `${masked} Secret value(s) masked (key names kept); --include-secrets prints them` });
        io.stdout.write(filesAsStream(result.files, { includeSecrets: Boolean(opts.includeSecrets) }));
        return;
      }
      const written = await writeOutputDirectory(opts.output, result.files);
      const report = { output: opts.output, files: written, pendingGatewayAddresses: result.pending, cacertsMissing: result.cacertsMissing };
      printResult(io, opts.report, report, () => `wrote ${written.length} files to ${opts.output}${result.pending.length ? ` (${result.pending.length} object(s) wait for a gateway address from apply)` : ''}`);
    });
}
