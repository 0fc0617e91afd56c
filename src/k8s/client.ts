// Talking to one cluster: every request carries a deadline; server-side apply with one field manager;
// reads, lists, deletes. Failures come out as ClusterErrors (exit 3, with a hint) naming the cluster.
import { FIELD_MANAGER } from '../core/vocabulary.ts';
import { KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { EastwestError, EXIT } from '../core/errors.ts';

import { canonicalJson } from '../util/canonical-json.ts';
import { clusterError, httpStatusOf } from './cluster-error.ts';
import type { KubeObject } from './object.ts';
import { describeSource, kubeconfigSource, loadMerged, type KubeconfigSource } from './kubeconfig.ts';

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface ApplyOutcome {
  object: KubeObject;
  action: ApplyAction;
  /** The object as it was before this apply; undefined when it did not exist. */
  before: KubeObject | undefined;
}

/** kubectl has no request deadline by default; eastwest does: a frozen API server must not hang a command. */
export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 10;

/**
 * A KubeConfig whose every API request (typed clients and KubernetesObjectApi alike) is aborted after
 * `requestTimeoutMs`: the deadline is attached where client-node authenticates each request.
 */
export class DeadlineKubeConfig extends KubeConfig {
  requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_SECONDS * 1000;
  override async applySecurityAuthentication(context: Parameters<KubeConfig['applySecurityAuthentication']>[0]): Promise<void> {
    const signal = AbortSignal.timeout(this.requestTimeoutMs);
    // Credentials may come from an exec plugin (a cloud CLI, a login helper): it gets the same deadline.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('credentials not obtained in time'), { name: 'TimeoutError' })), this.requestTimeoutMs);
    });
    try {
      await Promise.race([super.applySecurityAuthentication(context), deadline]);
    } finally {
      clearTimeout(timer);
    }
    context.setSignal(signal);
  }
}

/** One context of the merged kubeconfig (a path, or the files kubectl's rules chose), with the request deadline. */
export function loadKubeConfig(context: string, kubeconfig?: string | KubeconfigSource, requestTimeoutSeconds = DEFAULT_REQUEST_TIMEOUT_SECONDS): DeadlineKubeConfig {
  const source = typeof kubeconfig === 'string' ? { files: [kubeconfig], from: '--kubeconfig' } : (kubeconfig ?? kubeconfigSource());
  const kc = new DeadlineKubeConfig();
  kc.requestTimeoutMs = Math.round(requestTimeoutSeconds * 1000);
  loadMerged(source, kc);
  if (!kc.getContextObject(context)) {
    throw new EastwestError('context-missing', `context "${context}" is in no kubeconfig file read: ${describeSource(source)}${kc.getContexts().length ? ` (contexts there: ${kc.getContexts().map((c) => c.name).join(', ')})` : ''}`, {
      exitCode: EXIT.badInput,
      hint: 'pass --kubeconfig, set KUBECONFIG (a list of files is merged), or --context <cluster>=<context>; for the lab run `eastwest lab up` first',
    });
  }
  kc.setCurrentContext(context);
  return kc;
}

/** Not found: the object, its namespace, or its kind (a CRD not installed yet: client-node's discovery says so). */
export const isNotFound = (error: unknown) => httpStatusOf(error) === 404 || /Unrecognized API version and kind/.test((error as Error)?.message ?? '');

export class KubeClient {
  readonly objects: KubernetesObjectApi;
  readonly config: KubeConfig;
  readonly fieldManager: string;
  readonly cluster: string;
  readonly requestTimeoutSeconds: number;
  constructor(config: KubeConfig, options: { fieldManager?: string; cluster?: string } = {}) {
    this.config = config;
    this.fieldManager = options.fieldManager ?? FIELD_MANAGER;
    this.cluster = options.cluster ?? config.getCurrentContext();
    this.requestTimeoutSeconds = config instanceof DeadlineKubeConfig ? config.requestTimeoutMs / 1000 : DEFAULT_REQUEST_TIMEOUT_SECONDS;
    this.objects = KubernetesObjectApi.makeApiClient(config);
  }

  /** Runs one request; anything but "not found" becomes a ClusterError naming this cluster. */
  async call<T>(doing: string, request: () => Promise<T>, onNotFound?: () => T): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (onNotFound && isNotFound(error)) return onNotFound();
      throw clusterError(this.cluster, error, this.requestTimeoutSeconds, doing);
    }
  }

  async read(ref: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): Promise<KubeObject | undefined> {
    return this.call(
      `read ${ref.kind}/${ref.metadata.name}`,
      async () => (await this.objects.read({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { ...ref.metadata } } as KubernetesObject & { metadata: { name: string } })) as unknown as KubeObject,
      () => undefined,
    );
  }

  /** Server-side apply (`force` only for objects eastwest owns); `before` is read first. */
  async apply(object: KubeObject, options: { dryRun?: boolean; force?: boolean } = {}): Promise<ApplyOutcome> {
    const before = await this.read(object);
    const applied = await this.patch(object, options);
    const action: ApplyAction = before === undefined ? 'created' : sameContent(before, applied) ? 'unchanged' : 'configured';
    return { object: applied, action, before };
  }

  /** The server-side apply PATCH alone. */
  async patch(object: KubeObject, options: { dryRun?: boolean; force?: boolean } = {}): Promise<KubeObject> {
    return this.call(`${options.dryRun ? 'dry-run ' : ''}apply ${object.kind}/${object.metadata.name}`, async () => (await this.objects.patch(
      object as unknown as KubernetesObject,
      undefined,
      options.dryRun ? 'All' : undefined,
      this.fieldManager,
      options.force ?? true,
      PatchStrategy.ServerSideApply,
    )) as unknown as KubeObject);
  }

  /** Creates an object (POST): for what only `create` is granted on (never an update of an existing one). */
  async create(object: KubeObject): Promise<KubeObject> {
    return this.call(`create ${object.kind}/${object.metadata.name}`, async () => (await this.objects.create(object as unknown as KubernetesObject, undefined, undefined, this.fieldManager)) as unknown as KubeObject);
  }

  /** Lists objects; a kind the cluster does not serve (CRD not installed) has none. */
  async list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<KubeObject[]> {
    return this.call(`list ${kind}`, async () => {
      const list = await this.objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector);
      return list.items as unknown as KubeObject[];
    }, () => []);
  }

  async delete(object: KubeObject): Promise<boolean> {
    return this.call(`delete ${object.kind}/${object.metadata.name}`, async () => {
      await this.objects.delete(object as unknown as KubernetesObject);
      return true;
    }, () => false);
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
