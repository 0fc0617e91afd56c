// Talking to one cluster: server-side apply with one field manager, reads, lists, status patches.
import { KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../render/ownership.ts';
import type { KubeObject } from './object.ts';

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface ApplyOutcome {
  object: KubeObject;
  action: ApplyAction;
}

export function loadKubeConfig(context: string, kubeconfigPath?: string): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  if (!kc.getContextObject(context)) {
    throw new Error(`context "${context}" is not in the kubeconfig${kubeconfigPath ? ` ${kubeconfigPath}` : ''} (known: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
  }
  kc.setCurrentContext(context);
  return kc;
}

export const isNotFound = (error: unknown) => (error as { code?: number }).code === 404;

export class KubeClient {
  readonly objects: KubernetesObjectApi;
  readonly config: KubeConfig;
  readonly fieldManager: string;
  constructor(config: KubeConfig, fieldManager = FIELD_MANAGER) {
    this.config = config;
    this.fieldManager = fieldManager;
    this.objects = KubernetesObjectApi.makeApiClient(config);
  }

  async read(ref: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): Promise<KubeObject | undefined> {
    try {
      return (await this.objects.read(ref as KubernetesObject & { metadata: { name: string } })) as unknown as KubeObject;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Server-side apply; `force` only for objects eastwest owns. Tells whether anything changed. */
  async apply(object: KubeObject, options: { dryRun?: boolean; force?: boolean } = {}): Promise<ApplyOutcome> {
    const before = await this.read(object);
    const applied = (await this.objects.patch(
      object as unknown as KubernetesObject,
      undefined,
      options.dryRun ? 'All' : undefined,
      this.fieldManager,
      options.force ?? true,
      PatchStrategy.ServerSideApply,
    )) as unknown as KubeObject;
    const rv = (o: KubeObject | undefined) => (o?.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
    const action: ApplyAction = before === undefined ? 'created' : rv(before) === rv(applied) && !options.dryRun ? 'unchanged' : options.dryRun ? dryRunAction(before, applied) : 'configured';
    return { object: applied, action };
  }

  async list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<KubeObject[]> {
    const list = await this.objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector);
    return list.items as unknown as KubeObject[];
  }

  async delete(object: KubeObject): Promise<boolean> {
    try {
      await this.objects.delete(object as unknown as KubernetesObject);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }
}

/** A dry-run apply keeps the resourceVersion; compare what changed apart from bookkeeping. */
function dryRunAction(before: KubeObject, after: KubeObject): ApplyAction {
  const strip = (o: KubeObject) => {
    const { metadata, ...rest } = o as KubeObject & { status?: unknown };
    const { managedFields: _m, resourceVersion: _r, generation: _g, ...meta } = metadata as unknown as Record<string, unknown>;
    return JSON.stringify({ ...rest, metadata: meta });
  };
  return strip(before) === strip(after) ? 'unchanged' : 'configured';
}
