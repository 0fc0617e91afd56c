import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { Option } from 'commander';
import { CONTEXT_FLAG, initSpecText, parseContextMappings } from '../../actions/init-spec.ts';
import { InputError } from '../../core/errors.ts';
import { decodeMeshSpec } from '../../spec/decode.ts';
import type { Io } from '../output.ts';
import { kubeconfigSource, loadMerged } from '../../k8s/kubeconfig.ts';

/** The contexts of the kubeconfig kubectl would read (none when it cannot be read: init works offline). */
function knownContexts(): Set<string> {
  try {
    return new Set(loadMerged(kubeconfigSource()).getContexts().map((c) => c.name));
  } catch {
    return new Set();
  }
}

export function registerInitCommand(program: Command, io: Io): void {
  program
    .command('init')
    .description('write a minimal, commented mesh spec for your clusters to start from')
    .addOption(new Option(`${CONTEXT_FLAG} <name=context[:network[:region]]>`, 'a cluster of the mesh and its kubeconfig context (repeat); network defaults to <name>-net, region to <name>').argParser((v: string, prev: string[] = []) => [...prev, v]).makeOptionMandatory())
    .option('--mesh-id <id>', 'Istio mesh ID (default: mesh)')
    .option('--trust-domain <domain>', 'SPIFFE trust domain (default: cluster.local, Istio\'s own)')
    .addOption(new Option('-o, --output <file>', 'where to write it, or - for stdout').default('mesh.yaml'))
    .option('--force', 'overwrite the output file if it exists')
    .addHelpText('after', '\nExamples:\n  eastwest init --context us=prod-us-east-1 --context eu=prod-eu-west-1 --mesh-id training-mesh --trust-domain corp.local\n  eastwest init --context us=prod-us-east-1:us-net:us-east-1 --context eu=prod-eu-west-1:eu-net:eu-west-1 -o -\n\nA context that contains ":" (an EKS ARN) is kept whole; add :network:region after it to set them.')
    .action(async (opts: { context: string[]; meshId?: string; trustDomain?: string; output: string; force?: boolean }) => {
      const text = initSpecText({
        clusters: parseContextMappings(opts.context, knownContexts()),
        ...(opts.meshId === undefined ? {} : { meshID: opts.meshId }),
        ...(opts.trustDomain === undefined ? {} : { trustDomain: opts.trustDomain }),
      });
      const { document } = decodeMeshSpec(text, opts.output === '-' ? '<stdout>' : opts.output); // what we write must itself be a valid spec
      if (opts.output === '-') {
        io.stdout.write(text);
        return;
      }
      try {
        await writeFile(opts.output, text, { flag: opts.force ? 'w' : 'wx' });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw new InputError(`${opts.output} exists`, [{ path: '-o', message: `${opts.output} already exists; it was left as it is` }], 'pass --force to overwrite it, -o <other file>, or -o - to print the spec');
        throw new InputError(`cannot write ${opts.output}`, [{ path: '-o', message: `${opts.output} cannot be written (${code ?? String(error)})` }], 'pass -o with a file in an existing, writable directory');
      }
      const clusters = document.spec.clusters.map((c) => `${c.name} (${c.context})`).join(', ');
      io.stdout.write(`wrote ${opts.output}: mesh ${document.spec.meshID}, clusters ${clusters}\n`);
      io.stderr.write(`next: eastwest validate -f ${opts.output}, then eastwest ca init -f ${opts.output} (see the README's "Real clusters")\n`);
    });
}
