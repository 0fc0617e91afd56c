// What the lab's Prometheus and Kiali have in common: both are made from one of Istio's addon manifests
// (samples/addons/<name>.yaml of the pinned istio.io/istio module, read by the caller). Plain-object access
// to its YAML-made data, a copy of one object by kind, an error that says the module changed, and the
// marks every object made from it carries.
import { UPSTREAM_ANNOTATION } from '../core/vocabulary.ts';
import { EastwestError } from '../core/errors.ts';
import type { KubeObject } from '../k8s/object.ts';

export type Obj = Record<string, unknown>;
export const asObj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
export const asList = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

export interface Addon {
  /** samples/addons/<name>.yaml; also the name of its objects. */
  name: string;
  /** The file of eastwest that renders it (named in errors). */
  renderer: string;
  /** The chart's labels that would name a chart and version that are not what runs here. */
  chartLabels: string[];
}

export function addonError(addon: Addon, message: string): EastwestError {
  return new EastwestError(`lab-${addon.name}-manifest`, message, { hint: `the pinned istio.io/istio module changed its addon; update ${addon.renderer}` });
}

/** A copy of the addon's object of `kind` (named like the addon). */
export function addonObject(addon: Addon, upstream: KubeObject[], kind: string): KubeObject {
  const found = upstream.find((o) => o.kind === kind && o.metadata.name === addon.name);
  if (!found) throw addonError(addon, `Istio's samples/addons/${addon.name}.yaml has no ${kind} ${addon.name}`);
  return structuredClone(found);
}

/** `labels` without the chart's own. */
export function withoutChartLabels(addon: Addon, labels: unknown): Record<string, string> {
  const kept = { ...asObj(labels) } as Record<string, string>;
  for (const key of addon.chartLabels) delete kept[key];
  return kept;
}

/** Every object in `namespace` (cluster-scoped ones stay so), without the chart's labels, marked with its source. */
export function markFromAddon(addon: Addon, objects: KubeObject[], namespace: string): KubeObject[] {
  for (const o of objects) {
    if (o.metadata.namespace !== undefined) o.metadata.namespace = namespace;
    if (o.metadata.labels) o.metadata.labels = withoutChartLabels(addon, o.metadata.labels);
    o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [UPSTREAM_ANNOTATION]: `istio.io/istio samples/addons/${addon.name}.yaml` };
  }
  return objects;
}
