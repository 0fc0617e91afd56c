// `--print-rbac`: the ClusterRole a command needs (its access level, src/engine/access.ts), printed
// without reading the spec or contacting a cluster; YAML (kubectl apply -f -) or, with -o json, JSON.
import { Option } from 'commander';
import { accessRole, accessRoleName, type AccessLevel } from '../engine/access.ts';
import { toYaml, type Io, type OutputFormat } from './output.ts';

/** The flag; it stands in for -f (nothing is read), so a command with it needs no spec. */
export const printRbacOption = () => new Option('--print-rbac', 'print the ClusterRole this command needs (its access level) and exit; nothing is read or contacted').implies({ file: '' });

export function printRbac(io: Io, command: string, level: AccessLevel, format: OutputFormat): void {
  const role = accessRole(level);
  if (format === 'json') {
    io.stdout.write(`${JSON.stringify(role, null, 2)}\n`);
    return;
  }
  const name = accessRoleName(level);
  io.stdout.write([
    `# eastwest ${command} needs the ${level} access level in every cluster it reaches.`,
    `# Apply this in each cluster and bind it to the user or service account of your kubeconfig context:`,
    `#   kubectl create clusterrolebinding ${name}-<user> --clusterrole ${name} --user <user>`,
    `#   kubectl create clusterrolebinding ${name}-<account> --clusterrole ${name} --serviceaccount <namespace>:<account>`,
    toYaml(role),
  ].join('\n'));
}
