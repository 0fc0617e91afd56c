// Grafana's admin password (real clusters): generated once by apply, kept in a Secret the chart reads
// (grafana.admin.existingSecret), never printed and never replaced. The chart's default password is
// never used.
import { randomBytes } from 'node:crypto';
import type { KubeClient } from '../k8s/client.ts';
import type { KubeObject } from '../k8s/object.ts';
import { GRAFANA_ADMIN_SECRET } from '../render/observability-releases.ts';
import { owned } from '../k8s/ownership.ts';
import type { MeshSpec } from '../spec/schema.ts';

export const grafanaAdminRef = (spec: MeshSpec) => `Secret/${spec.observability.namespace}/${GRAFANA_ADMIN_SECRET}`;
export const grafanaOn = (spec: MeshSpec) => spec.profile !== 'lab' && spec.observability.prometheus && spec.observability.grafana;

/** Creates the Secret when absent (a dry run only says so); an existing one (its password in use) is left as it is. */
export async function ensureGrafanaAdmin(client: KubeClient, spec: MeshSpec, dryRun: boolean): Promise<'created' | 'unchanged'> {
  const secret: KubeObject = owned(spec.meshID, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: GRAFANA_ADMIN_SECRET, namespace: spec.observability.namespace },
    type: 'Opaque',
    stringData: { 'admin-user': 'admin', 'admin-password': randomBytes(24).toString('base64url') },
  });
  if (await client.read(secret)) return 'unchanged';
  if (!dryRun) await client.apply(secret);
  return 'created';
}
