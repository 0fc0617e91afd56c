import type { Command } from 'commander';
import { Option } from 'commander';
import { renderSpecFile } from '../../actions/render.ts';
import { filesAsStream } from '../../render/output-files.ts';
import { writeOutputDirectory } from '../../render/write-output.ts';
import { printResult, stderrReporter, type Io, type OutputFormat } from '../output.ts';
import { specOption } from './options.ts';

export function registerRenderCommand(program: Command, io: Io): void {
  program
    .command('render')
    .description('render, per cluster, the Helm releases and manifests the mesh needs (pure and deterministic)')
    .addOption(specOption())
    .addOption(new Option('-o, --output <dir>', 'output directory, or - for stdout').default('out'))
    .addOption(new Option('--report <format>', 'format of the report printed after writing a directory').choices(['text', 'yaml', 'json']).default('text'))
    .addHelpText('after', '\nExamples:\n  eastwest render -f examples/training-mesh.yaml -o out/\n  eastwest render -f examples/training-mesh.yaml -o - | less')
    .action(async (opts: { file: string; output: string; report: OutputFormat }) => {
      const result = await renderSpecFile(opts.file, stderrReporter(io));
      if (opts.output === '-') {
        io.stdout.write(filesAsStream(result.files));
        return;
      }
      const written = await writeOutputDirectory(opts.output, result.files);
      const report = { output: opts.output, files: written, pendingGatewayAddresses: result.pending };
      printResult(io, opts.report, report, () => `wrote ${written.length} files to ${opts.output}${result.pending.length ? ` (${result.pending.length} object(s) wait for a gateway address from apply)` : ''}`);
    });
}
