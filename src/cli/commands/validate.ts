import type { Command } from 'commander';
import { EXIT, InputError } from '../../core/errors.ts';
import { loadMeshSpec } from '../../spec/load-file.ts';
import { printResult, type Io, type OutputFormat } from '../output.ts';
import { formatOption, specOption } from './options.ts';

/** One problem of an invalid spec as data (`-o json|yaml`): every key present, unknown places as null. */
export interface ValidationProblem {
  file: string | null;
  line: number | null;
  col: number | null;
  path: string;
  message: string;
  hint: string | null;
}

export interface InvalidSpecResult {
  valid: false;
  file: string;
  problems: ValidationProblem[];
}

export function invalidSpecResult(file: string, error: InputError): InvalidSpecResult {
  return {
    valid: false,
    file,
    problems: error.problems.map((p) => ({ file: p.file ?? null, line: p.line ?? null, col: p.col ?? null, path: p.path, message: p.message, hint: p.hint ?? error.hint ?? null })),
  };
}

export function registerValidateCommand(program: Command, io: Io): void {
  program
    .command('validate')
    .description('check a mesh spec: every problem at once, with file:line:col and a hint')
    .addOption(specOption())
    .addOption(formatOption())
    .addHelpText('after', '\nWith -o json or yaml an invalid spec is a result too: {valid: false, file, problems: [{file, line, col, path, message, hint}]} on stdout, exit 2.\nExamples:\n  eastwest validate -f examples/training-mesh.yaml\n  eastwest validate -f mesh.yaml -o json')
    .action(async (opts: { file: string; output: OutputFormat }) => {
      let document;
      try {
        ({ document } = await loadMeshSpec(opts.file));
      } catch (error) {
        // Text mode: the problems on stderr as for every command. Data modes: the same problems as the result.
        if (!(error instanceof InputError) || opts.output === 'text') throw error;
        io.stderr.write(`error: ${error.message}\n`);
        printResult(io, opts.output, invalidSpecResult(opts.file, error), () => '');
        io.exitCode = EXIT.badInput;
        return;
      }
      const { spec } = document;
      const result = { valid: true, file: opts.file, meshID: spec.meshID, clusters: spec.clusters.map((c) => c.name), services: spec.services.map((s) => `${s.namespace}/${s.name}`), federation: spec.federation.mode };
      printResult(io, opts.output, result, () => `${opts.file}: valid — mesh ${spec.meshID}, clusters ${result.clusters.join(', ')}, ${spec.services.length} exported service(s), federation ${spec.federation.mode}`);
    });
}
