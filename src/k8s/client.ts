// Talking to one cluster: server-side apply with one field manager, reads, lists, status patches.
import { KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../render/ownership.ts';
import type { KubeObject } from './object.ts';
import { canonicalJson } from '../util/canonical-json.ts';

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface ApplyOutcome {
  object: KubeObject;
  action: ApplyAction;
  /** The object as it was before this apply; undefined when it did not exist. */
  before: KubeObject | undefined;
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

/** Not found: the object, its namespace, or its kind (a CRD not installed yet). */
export const isNotFound = (error: unknown) =>
  (error as { code?: number }).code === 404 || /Unrecognized API version and kind|HTTP-Code: 404/.test((error as Error).message ?? '');

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
      return (await this.objects.read({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { ...ref.metadata } } as KubernetesObject & { metadata: { name: string } })) as unknown as KubeObject;
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
    const action: ApplyAction = before === undefined ? 'created' : sameContent(before, applied) ? 'unchanged' : 'configured';
    return { object: applied, action, before };
  }

  /** Lists objects; a kind the cluster does not serve (CRD not installed) has none. */
  async list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<KubeObject[]> {
    try {
      const list = await this.objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector);
      return list.items as unknown as KubeObject[];
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
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

/**
 * Whether an apply changed what the object says, apart from bookkeeping: field ownership (another
 * manager scaled a Deployment and apply took `replicas` back), resourceVersion, generation, status.
 */
export function sameContent(before: KubeObject, after: KubeObject): boolean {
  const strip = (o: KubeObject) => {
    const { metadata, status: _status, ...rest } = o as KubeObject & { status?: unknown };
    const { managedFields: _m, resourceVersion: _r, generation: _g, ...meta } = metadata as unknown as Record<string, unknown>;
    return canonicalJson({ ...rest, metadata: meta });
  };
  return strip(before) === strip(after);
}
