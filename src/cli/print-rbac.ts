// `--print-rbac`: the ClusterRole a command needs (its access level, src/engine/access.ts), printed
// without reading the spec or contacting a cluster; YAML (kubectl apply -f -) or, with -o json, JSON.
import { Option } from 'commander';
import { accessRole, accessRoleName, grantRole, type AccessGrant, type AccessLevel } from '../engine/access.ts';
import { toYaml, type Io, type OutputFormat } from './output.ts';

/** The flag; it stands in for -f (nothing is read), so a command with it needs no spec. */
export const printRbacOption = () => new Option('--print-rbac', 'print the ClusterRole this command needs (its access level) and exit; nothing is read or contacted').implies({ file: '' });

/** The level's ClusterRole and, after it, one of each grant a flag given needs (bound beside it). */
export function printRbac(io: Io, command: string, level: AccessLevel, format: OutputFormat, grants: readonly AccessGrant[] = []): void {
  const role = accessRole(level);
  const extra = grants.map(grantRole);
  if (format === 'json') {
    io.stdout.write(`${JSON.stringify(extra.length ? { apiVersion: 'v1', kind: 'List', items: [role, ...extra] } : role, null, 2)}\n`);
    return;
  }
  const name = accessRoleName(level);
  const roles = [name, ...grants.map((g) => g.role)];
  io.stdout.write([
    `# eastwest ${command} needs the ${level} access level in every cluster it reaches${grants.length ? `, and with ${grants.map((g) => g.flag).join(', ')} the role${grants.length > 1 ? 's' : ''} after it` : ''}.`,
    `# Apply this in each cluster and bind ${roles.length > 1 ? 'each role' : 'it'} to the user or service account of your kubeconfig context:`,
    ...roles.flatMap((r) => [`#   kubectl create clusterrolebinding ${r}-<user> --clusterrole ${r} --user <user>`, `#   kubectl create clusterrolebinding ${r}-<account> --clusterrole ${r} --serviceaccount <namespace>:<account>`]),
    [role, ...extra].map((r) => toYaml(r)).join('---\n'),
  ].join('\n'));
}
