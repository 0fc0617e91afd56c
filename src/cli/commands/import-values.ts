import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { Option } from 'commander';
import { InputError, formatProblem } from '../../core/errors.ts';
import { importGuideValues, parseClusterMapping, type ImportedValues } from '../../import-values/guide-values.ts';
import { decodeMeshSpec } from '../../spec/decode.ts';
import { printResult, toYaml, type Io, type OutputFormat } from '../output.ts';
import { formatOption } from './options.ts';

/** What `-o json|yaml` prints: the spec and where every setting of the values file went. */
export interface ImportValuesReport {
  file: string;
  spec: Record<string, unknown>;
  mapped: ImportedValues['mapped'];
  carried: ImportedValues['carried'];
  notCarried: ImportedValues['notCarried'];
  warnings: ImportedValues['warnings'];
}

export function registerImportValuesCommand(program: Command, io: Io): void {
  program
    .command('import-values')
    .description("turn the guide's istiod Helm values file into a mesh spec, warning about its errata")
    .requiredOption('--values <values-istio.yaml>', 'Helm values file written for istio/istiod')
    .addOption(new Option('--cluster <name=context:network[:region]>', 'a cluster of the mesh (repeat)').argParser((v: string, prev: string[] = []) => [...prev, v]))
    .addOption(formatOption().default('text' as OutputFormat, 'text: the spec as YAML'))
    .addHelpText('after', '\nWhat the spec models becomes its fields (global.meshID, meshConfig.trustDomain, global.hub/tag); every other\nsetting the istiod chart reads is carried into spec.helmValues.istiod; every setting left behind is listed\non stderr with its place and why. -o json|yaml prints the spec with that report instead of the spec alone.\nExample:\n  eastwest import-values --values values-istio.yaml \\\n    --cluster us=prod-us-east-1:us-net --cluster eu=prod-eu-west-1:eu-net > mesh.yaml')
    .action(async (opts: { values: string; cluster?: string[]; output: OutputFormat }) => {
      let text: string;
      try {
        text = await readFile(opts.values, 'utf8');
      } catch {
        throw new InputError(`cannot read ${opts.values}`, [{ path: '--values', message: `${opts.values} cannot be read` }]);
      }
      const clusters = (opts.cluster ?? []).map(parseClusterMapping);
      const imported = importGuideValues(text, opts.values, clusters);
      const yaml = toYaml(imported.document);
      decodeMeshSpec(yaml, '<imported spec>'); // what we print must itself be a valid spec
      for (const w of imported.warnings) io.stderr.write(`warning: ${formatProblem(w)}\n`);
      for (const n of imported.notCarried) io.stderr.write(`not carried: ${formatProblem(n)}\n`);
      if (imported.carried.length) io.stderr.write(`carried into spec.helmValues.istiod: ${imported.carried.map((c) => c.path).join(', ')}\n`);
      const report: ImportValuesReport = { file: opts.values, spec: imported.document, mapped: imported.mapped, carried: imported.carried, notCarried: imported.notCarried, warnings: imported.warnings };
      if (opts.output === 'text') io.stdout.write(yaml);
      else printResult(io, opts.output, report, () => yaml);
    });
}
