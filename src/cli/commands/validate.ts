import type { Command } from 'commander';
import { loadMeshSpec } from '../../spec/load-file.ts';
import { printResult, type Io, type OutputFormat } from '../output.ts';
import { formatOption, specOption } from './options.ts';

export function registerValidateCommand(program: Command, io: Io): void {
  program
    .command('validate')
    .description('check a mesh spec: every problem at once, with file:line:col and a hint')
    .addOption(specOption())
    .addOption(formatOption())
    .addHelpText('after', '\nExample:\n  eastwest validate -f examples/training-mesh.yaml')
    .action(async (opts: { file: string; output: OutputFormat }) => {
      const { document } = await loadMeshSpec(opts.file);
      const { spec } = document;
      const result = { valid: true, file: opts.file, meshID: spec.meshID, clusters: spec.clusters.map((c) => c.name), services: spec.services.map((s) => `${s.namespace}/${s.name}`), federation: spec.federation.mode };
      printResult(io, opts.output, result, () => `${opts.file}: valid — mesh ${spec.meshID}, clusters ${result.clusters.join(', ')}, ${spec.services.length} exported service(s), federation ${spec.federation.mode}`);
    });
}
