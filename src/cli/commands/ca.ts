import type { Command } from 'commander';
import { Option } from 'commander';
import { ensureCa } from '../../actions/ensure-ca.ts';
import type { Rotation } from '../../pki/store.ts';
import { loadMeshSpec } from '../../spec/load-file.ts';
import { printResult, stderrReporter, type Io, type OutputFormat } from '../output.ts';
import { formatOption, specOption } from './options.ts';

export function registerCaCommand(program: Command, io: Io): void {
  const ca = program.command('ca').description('the shared root of trust');
  ca.command('init')
    .description('create the root CA and one intermediate CA per cluster (kept on re-run unless --rotate)')
    .addOption(specOption())
    .addOption(new Option('--rotate <what>', 'replace existing material').choices(['intermediates', 'all']))
    .addOption(formatOption())
    .addHelpText('after', '\nThe root key stays in the CA directory (spec.pki.directory); clusters only get their intermediate.\nExample:\n  eastwest ca init -f examples/training-mesh.yaml')
    .action(async (opts: { file: string; rotate?: Rotation; output: OutputFormat }) => {
      const decoded = await loadMeshSpec(opts.file);
      const { directory, changes } = await ensureCa(decoded, stderrReporter(io), opts.rotate ?? 'none');
      printResult(io, opts.output, { directory, changes }, () => changes.map((c) => `${c.what}: ${c.action}`).join('\n') + `\nCA directory: ${directory}`);
    });
}
