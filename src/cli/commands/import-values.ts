import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { Option } from 'commander';
import { stringify } from 'yaml';
import { InputError, formatProblem } from '../../core/errors.ts';
import { importGuideValues, parseClusterMapping } from '../../import-values/guide-values.ts';
import { decodeMeshSpec } from '../../spec/decode.ts';
import type { Io } from '../output.ts';

export function registerImportValuesCommand(program: Command, io: Io): void {
  program
    .command('import-values')
    .description("turn the guide's istiod Helm values file into a mesh spec, warning about its errata")
    .requiredOption('--values <values-istio.yaml>', 'Helm values file written for istio/istiod')
    .addOption(new Option('--cluster <name=context:network[:region]>', 'a cluster of the mesh (repeat)').argParser((v: string, prev: string[] = []) => [...prev, v]))
    .addHelpText('after', '\nExample:\n  eastwest import-values --values values-istio.yaml \\\n    --cluster us=prod-us-east-1:us-net --cluster eu=prod-eu-west-1:eu-net > mesh.yaml')
    .action(async (opts: { values: string; cluster?: string[] }) => {
      let text: string;
      try {
        text = await readFile(opts.values, 'utf8');
      } catch {
        throw new InputError(`cannot read ${opts.values}`, [{ path: '--values', message: `${opts.values} cannot be read` }]);
      }
      const clusters = (opts.cluster ?? []).map(parseClusterMapping);
      const { document, warnings } = importGuideValues(text, opts.values, clusters);
      for (const w of warnings) io.stderr.write(`warning: ${formatProblem(w)}\n`);
      const yaml = stringify(document, { lineWidth: 0 });
      decodeMeshSpec(yaml, '<imported spec>'); // what we print must itself be a valid spec
      io.stdout.write(yaml);
    });
}
