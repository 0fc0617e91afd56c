// What apply (and diff) read live for the components' derived objects: the reader tokens of every
// reachable cluster (created only in selected clusters, never on a dry run or by diff), and the sync
// controller's image.
import type { Reporter } from '../core/reporter.ts';
import type { PeerAccess, ReaderId } from '../components/component.ts';
import type { EngineContext } from '../engine/context.ts';
import { providerOf } from '../engine/provider.ts';
import type { ReaderTokenSource } from '../render/remote-secrets.ts';
import type { MeshSpec } from '../spec/schema.ts';
import { readerToken, serverOf } from './remote-secrets.ts';

/** The controller's image: the spec's, or its profile's provider's (the lab's: what `lab up` loaded, not this install's files). */
export function syncImage(spec: MeshSpec): string | undefined {
  return spec.sync.image ?? providerOf(spec.profile)?.syncImage?.();
}

/** The sync image, saying so when the lab has not recorded one (its derived objects then stay as they are). */
export function syncImageFor(spec: MeshSpec, reporter: Reporter): string | undefined {
  if (!spec.sync.inCluster) return undefined;
  const image = syncImage(spec);
  // Real clusters: the spec's cross-field check asks for sync.image. The lab: `lab up` records the image it loaded.
  if (!image && spec.profile === 'lab') reporter.report({ level: 'warn', code: 'lab-image', message: 'the lab has not recorded its eastwest image (run `eastwest lab up`): the sync controller\'s access and Deployment are left as they are' });
  return image;
}

/** Each needed reader's access to every reachable cluster. */
export async function readReaders(ctx: EngineContext, needed: ReadonlyMap<ReaderId, ReaderTokenSource>, create: boolean, reporter: Reporter): Promise<Partial<Record<ReaderId, ReadonlyMap<string, PeerAccess>>>> {
  const entries = await Promise.all([...needed].map(async ([id, source]) => [id, await peerAccess(ctx, create, reporter, source)] as const));
  return Object.fromEntries(entries);
}

/** Server, CA and reader token of every reachable cluster; tokens are only created in selected clusters. */
async function peerAccess(ctx: EngineContext, create: boolean, reporter: Reporter, source: ReaderTokenSource): Promise<Map<string, PeerAccess>> {
  const entries = await Promise.all([...ctx.connected.values()].map(async ({ cluster, client }) => {
    const selected = ctx.selected.includes(cluster);
    try {
      const token = await readerToken(client, { create: create && selected, source });
      if (token === undefined) return undefined;
      return [cluster.name, { ...serverOf(client.config), token }] as [string, PeerAccess];
    } catch (error) {
      // A selected cluster's own failure shows in its result; a peer that stopped answering keeps what it has.
      if (selected) throw error;
      reporter.report({ level: 'warn', code: 'peer-token', message: `${cluster.name}: its reader token (${source.secret.metadata.name}) could not be read (${(error as Error).message}); what other clusters have from it is left as it is` });
      return undefined;
    }
  }));
  return new Map(entries.filter((e): e is [string, PeerAccess] => e !== undefined));
}
