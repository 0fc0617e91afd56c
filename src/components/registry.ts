// Every component, in install order: their Helm releases are installed in this order, and where two
// render the same object (the demo's namespace is also an exported service's), the first one's is kept.
import type { Component, Kind } from './component.ts';
import { demo } from './demo.ts';
import { eastWestGateway } from './east-west-gateway.ts';
import { federation } from './federation.ts';
import { istioCore } from './istio-core.ts';
import { mcsApi } from './mcs-api.ts';
import { observability } from './observability.ts';
import { policy } from './policy.ts';
import { syncController } from './sync-controller.ts';

export const COMPONENTS: readonly Component[] = [istioCore, eastWestGateway, mcsApi, federation, policy, observability, syncController, demo];

/** Every kind any component may prune: what apply and diff list as owned (namespaces and CRDs never). */
export function pruneKinds(components: readonly Component[] = COMPONENTS): Kind[] {
  const seen = new Map<string, Kind>();
  for (const kind of components.flatMap((c) => c.pruneKinds)) seen.set(`${kind.apiVersion}/${kind.kind}`, kind);
  return [...seen.values()].sort((a, b) => `${a.apiVersion}/${a.kind}`.localeCompare(`${b.apiVersion}/${b.kind}`));
}
