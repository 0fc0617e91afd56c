import type { Command } from 'commander';
import { Option } from 'commander';
import { doctorMesh } from '../../doctor/doctor-mesh.ts';
import { durationFlag } from '../flags.ts';
import { findingsJson, findingsTable } from '../findings-table.ts';
import { printResult, stderrReporter, toYaml, type Io, type OutputFormat } from '../output.ts';
import { printRbac, printRbacOption } from '../print-rbac.ts';
import { CACERTS_GRANT } from '../../engine/access.ts';
import { clustersOption, contextsOption, formatOption, kubeconfigOption, requestTimeoutOption, specOption } from './options.ts';

export function registerDoctorCommand(program: Command, io: Io): void {
  program
    .command('doctor')
    .description('find what breaks the mesh in every cluster, against the spec and across clusters: the object at fault and the fix (read-only)')
    .addOption(specOption())
    .addOption(printRbacOption())
    .addOption(kubeconfigOption())
    .addOption(contextsOption())
    .addOption(clustersOption('diagnose'))
    .addOption(new Option('--read-cacerts', "also check each cluster's cacerts Secret (its certificates; the key is never decoded): a right beyond the read level, printed with --print-rbac --read-cacerts"))
    .addOption(new Option('--wait <duration>', 'read and check again until nothing fails or the time is up (e.g. 60s)').argParser(durationFlag('--wait', 1, 3600)))
    .addOption(requestTimeoutOption())
    .addOption(formatOption())
    .addHelpText('after', '\nRead-only (the read access level: no Secrets; --print-rbac prints the role; --read-cacerts adds a role that may read the Secret cacerts alone). Every check is explained, with its fix, in the README (#check-<id>).\nExit code 0 nothing wrong, 1 an error found, 3 a cluster could not be diagnosed (the others still are).\nExamples:\n  eastwest doctor -f examples/lab.yaml\n  eastwest doctor -f mesh.yaml --clusters us,eu -o json --wait 60s')
    .action(async (opts: { printRbac?: boolean; readCacerts?: boolean; file: string; kubeconfig?: string; context?: Record<string, string>; clusters?: string[]; wait?: number; requestTimeout: number; output: OutputFormat }) => {
      if (opts.printRbac) return printRbac(io, 'doctor', 'read', opts.output, opts.readCacerts ? [CACERTS_GRANT] : []);
      const result = await doctorMesh({ file: opts.file, kubeconfig: opts.kubeconfig, contexts: opts.context, clusters: opts.clusters, requestTimeoutSeconds: opts.requestTimeout, ...(opts.readCacerts ? { readCacerts: true } : {}), ...(opts.wait ? { waitSeconds: opts.wait } : {}) }, stderrReporter(io));
      const data = { meshID: result.meshID, ...findingsJson(result.results), exitCode: result.exitCode, seconds: result.seconds };
      if (opts.output === 'yaml') io.stdout.write(toYaml(data));
      else printResult(io, opts.output, data, () => `${findingsTable(result.results, new Map(Object.entries(result.titles)), io.style)}\n(${result.seconds} s)`);
      io.exitCode = result.exitCode;
    });
}
