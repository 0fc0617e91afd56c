// The kubeconfig users (and eastwest) use for the lab: contexts lab-<cluster>, servers on the node IPs.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { LabPlan } from './plan.ts';
import { nodeDir } from './node/node-layout.ts';

export async function writeLabKubeconfig(plan: LabPlan, path: string): Promise<void> {
  const b64 = async (file: string) => (await readFile(file)).toString('base64');
  const clusters = [];
  const users = [];
  const contexts = [];
  for (const node of plan.nodes) {
    const pki = join(nodeDir(node.cluster), 'etc', 'pki');
    clusters.push({ name: node.context, cluster: { server: node.apiServerUrl, 'certificate-authority-data': await b64(join(pki, 'ca.crt')) } });
    users.push({ name: node.context, user: { 'client-certificate-data': await b64(join(pki, 'admin.crt')), 'client-key-data': await b64(join(pki, 'admin.key')) } });
    contexts.push({ name: node.context, context: { cluster: node.context, user: node.context } });
  }
  await writeFile(path, stringify({ apiVersion: 'v1', kind: 'Config', clusters, users, contexts, 'current-context': plan.nodes[0]!.context }), { mode: 0o600 });
}
