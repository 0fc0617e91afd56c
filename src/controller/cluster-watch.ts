// One cluster as the sync controller sees it: informers (list + watch, re-list on 410, restarted with
// backoff after an error) on ServiceExports, Services (the exported ones and the east-west gateway's) and
// EndpointSlices (how many endpoints are ready, and the pods' port behind a named targetPort), and a
// heartbeat with the request deadline.
// A cluster whose API stops answering is stale — its last-known exports stay routed elsewhere — and
// when it answers again its informers start over from a fresh list, so what changed meanwhile converges.
import { SYNC_FIELD_MANAGER } from '../core/vocabulary.ts';
import type { KubeconfigSource } from '../k8s/kubeconfig.ts';
import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, ListWatch, Watch, type Informer, type KubeConfig, type KubernetesObject, type ObjectCache, type V1EndpointSlice, type V1Service, VersionApi } from '@kubernetes/client-node';
import type { Reporter } from '../core/reporter.ts';
import { connect } from '../engine/context.ts';
import { serviceAddress } from '../engine/gateway-addresses.ts';
import { ClusterError, clusterError } from '../k8s/cluster-error.ts';
import { KubeClient } from '../k8s/client.ts';
import { MCS_GROUP } from '../mcs/imports.ts';
import { EASTWEST_GATEWAY_RELEASE, ISTIO_NAMESPACE } from '../render/helm-releases.ts';
import type { ClusterSpec } from '../spec/schema.ts';

export interface ServiceExportObject extends KubernetesObject {
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[] };
}

export type WatchState = 'connecting' | 'live' | 'stale';

/**
 * What changed in a cluster: an object of an exported name (its ServiceExport, its Service, one of its
 * EndpointSlices), the east-west gateway's Service (its address), or the watch's state.
 */
export type WatchChange =
  | { cluster: string; type: 'name'; namespace: string; name: string }
  | { cluster: string; type: 'gateway' }
  | { cluster: string; type: 'state' };

/**
 * client-node's Watch, for informers that a restart may give up on: a watch begun in an earlier
 * generation (the restart stopped its informer while the response headers were awaited) is aborted as
 * soon as they come, and its informer is never given it (the promise stays pending, holding no socket).
 */
class SupersededWatch extends Watch {
  private readonly generation: () => number;
  constructor(config: KubeConfig, generation: () => number) {
    super(config);
    this.generation = generation;
  }

  override async watch(path: string, queryParams: Parameters<Watch['watch']>[1], callback: Parameters<Watch['watch']>[2], done: Parameters<Watch['watch']>[3]): Promise<AbortController> {
    const started = this.generation();
    const current = () => started === this.generation();
    // Its events and its end never reach the informer once superseded: the informer's done handler
    // aborts whatever watch the informer holds, which is the new one by then.
    const controller = await super.watch(path, queryParams, (...event) => {
      if (current()) callback(...event);
    }, (error) => {
      if (current()) done(error);
    });
    if (current()) return controller;
    controller.abort();
    return new Promise<AbortController>(() => undefined);
  }
}

/**
 * What a list of an earlier generation ends with (a restart or stop gave up on it): never this cluster's
 * failure. Any other error counts, aborts included: a list past its deadline is aborted too.
 */
class Superseded extends Error {
  constructor() {
    super('superseded by a restart');
    this.name = 'Superseded';
  }
}

type Cached<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

export class ClusterWatch {
  readonly cluster: ClusterSpec;
  state: WatchState = 'connecting';
  since = new Date();
  lastError: string | undefined;
  client: KubeClient | undefined;
  private exports: Cached<ServiceExportObject> | undefined;
  private services: Cached<V1Service> | undefined;
  private slices: Cached<V1EndpointSlice> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopped = false;
  private backoffMs = 1000;
  private lastGateway: string | undefined;
  private readonly onChange: (change: WatchChange) => void;
  private readonly reporter: Reporter;
  private readonly kubeconfig: KubeconfigSource | undefined;
  private readonly requestTimeoutSeconds: number;

  constructor(cluster: ClusterSpec, options: { kubeconfig: KubeconfigSource | undefined; requestTimeoutSeconds: number; onChange: (change: WatchChange) => void; reporter: Reporter }) {
    this.cluster = cluster;
    this.kubeconfig = options.kubeconfig;
    this.requestTimeoutSeconds = options.requestTimeoutSeconds;
    this.onChange = options.onChange;
    this.reporter = options.reporter;
  }

  private say(message: string, level: 'info' | 'warn' = 'info') {
    this.reporter.report({ level, code: 'sync-cluster', message: `${this.cluster.name}: ${message}` });
  }

  private setState(state: WatchState, error?: string) {
    if (state !== this.state) {
      this.state = state;
      this.since = new Date();
      this.say(state === 'stale' ? `stale (${error ?? 'not answering'}); its last-known exports stay routed` : state === 'live' ? 'watching' : 'connecting', state === 'stale' ? 'warn' : 'info');
      this.onChange({ cluster: this.cluster.name, type: 'state' });
    }
    this.lastError = error;
  }

  /** True once every cache was filled by a list in this run (before that, this cluster's exports are unknown). */
  synced = false;
  private errorsDuringStart = 0;
  private restarting = false;
  private restartPending: unknown = undefined;
  private restartRequested = false;
  private quiescing = false;
  /** Counts restarts: a list begun before the latest one is superseded. */
  private generation = 0;
  private beating = false;
  /** What the last heartbeat found (a failed one after a good one: not answering). */
  private answering = true;
  /** The API server answered again while a restart was not pausing: its next pause is skipped. */
  private answeredAgain = false;

  async start(): Promise<void> {
    while (!this.stopped && !this.client) {
      try {
        const connection = await connect(this.cluster, this.kubeconfig, this.requestTimeoutSeconds, { access: 'none' });
        const client = new KubeClient(connection.client.config, { cluster: this.cluster.name, fieldManager: SYNC_FIELD_MANAGER });
        // The MCS API's CRDs come with `eastwest apply`; without them there is nothing to watch.
        const served = await client.call('discover the MCS API', () => client.config.makeApiClient(CustomObjectsApi).listClusterCustomObject({ group: MCS_GROUP, version: 'v1alpha1', plural: 'serviceexports', limit: 1 }).then(() => true), () => false);
        if (!served) throw new ClusterError(this.cluster.name, 'api', 'the MCS API (ServiceExport, ServiceImport) is not installed', 'run `eastwest apply -f <spec>`: it installs the CRDs of sigs.k8s.io/mcs-api');
        this.client = client;
      } catch (error) {
        this.setState('stale', clusterError(this.cluster.name, error, this.requestTimeoutSeconds).message);
        await this.pause();
      }
    }
    if (this.stopped) return;
    this.makeInformers();
    await this.restart();
    if (!this.stopped) this.heartbeat = setInterval(() => void this.beat(), 2000);
  }

  /** Ends the current back-off pause early (the API server answers again). */
  private wakePause: (() => void) | undefined;

  private async pause(): Promise<void> {
    if (this.answeredAgain) {
      // The API server answered again while the restart was busy: no pause this time.
      this.answeredAgain = false;
      this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => end(), this.backoffMs);
      timer.unref();
      const end = () => {
        clearTimeout(timer);
        this.wakePause = undefined;
        resolve();
      };
      this.wakePause = end;
    });
    this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
  }

  /** The informers (ServiceExports, Services, EndpointSlices), made once: stopping and starting them keeps their caches (no empty window). */
  private makeInformers(): void {
    const config = this.client!.config;
    const core = config.makeApiClient(CoreV1Api);
    const objects = this.client!.objects;
    const discovery = config.makeApiClient(DiscoveryV1Api);
    const listed = { exports: false, services: false, slices: false };
    // A list that ends after its informer was stopped (a restart gave up on it) must not go on to start a
    // watch (client-node would), and how it ended is not this cluster's state now: it ends as Superseded.
    const listing = <T>(which: keyof typeof listed, list: () => Promise<T>) => async (): Promise<T> => {
      const generation = this.generation;
      const superseded = () => generation !== this.generation || this.stopped;
      let result: T;
      try {
        result = await list();
      } catch (error) {
        throw superseded() ? new Superseded() : error;
      }
      if (superseded()) throw new Superseded();
      listed[which] = true;
      if (listed.exports && listed.services && listed.slices) this.synced = true;
      return result;
    };
    // A watch whose response comes after a restart gave up on it is aborted at once and never handed to
    // its informer (which would otherwise keep it, unreachable by stop(), next to the new one).
    const informer = <T extends KubernetesObject>(path: string, list: () => Promise<unknown>): Cached<T> =>
      new ListWatch<T>(path, new SupersededWatch(config, () => this.generation), list as never, false);
    this.exports = informer<ServiceExportObject>(`/apis/${MCS_GROUP}/v1alpha1/serviceexports`, listing('exports', () => objects.list(`${MCS_GROUP}/v1alpha1`, 'ServiceExport')));
    this.services = informer<V1Service>('/api/v1/services', listing('services', () => core.listServiceForAllNamespaces()));
    this.slices = informer<V1EndpointSlice>('/apis/discovery.k8s.io/v1/endpointslices', listing('slices', () => discovery.listEndpointSliceForAllNamespaces()));
    const cluster = this.cluster.name;
    const changeOf = (which: 'export' | 'service' | 'slice', o: KubernetesObject): WatchChange | undefined => {
      const namespace = o.metadata?.namespace;
      const name = which === 'slice' ? o.metadata?.labels?.['kubernetes.io/service-name'] : o.metadata?.name;
      if (!namespace || !name) return undefined;
      if (which === 'service' && namespace === ISTIO_NAMESPACE && name === EASTWEST_GATEWAY_RELEASE) return { cluster, type: 'gateway' };
      return { cluster, type: 'name', namespace, name };
    };
    const kinds: ['export' | 'service' | 'slice', Cached<KubernetesObject>][] = [['export', this.exports as Cached<KubernetesObject>], ['service', this.services as Cached<KubernetesObject>], ['slice', this.slices as Cached<KubernetesObject>]];
    for (const [which, informer] of kinds) {
      for (const verb of ['add', 'update', 'delete'] as const) {
        informer.on(verb, (o: KubernetesObject) => {
          const change = changeOf(which, o);
          if (change) this.onChange(change);
        });
      }
    }
    for (const informer of this.informers()) {
      informer.on('error', (error?: unknown) => {
        // What a stopped informer's watch or list reports is not this cluster's failure (its watch's end
        // never reaches here: SupersededWatch; its list ends as Superseded).
        if (this.quiescing || error instanceof Superseded) return;
        this.errorsDuringStart++;
        void this.restart(error ?? new Error('watch ended'));
      });
    }
  }

  private informers(): Cached<KubernetesObject>[] {
    return [this.exports, this.services, this.slices].filter((i) => i !== undefined) as Cached<KubernetesObject>[];
  }

  /**
   * (Re)starts the informers on their existing caches: a watch resumes from the last resourceVersion
   * (replaying what it missed), a 410 re-lists in place. Errors meanwhile make it try again with backoff;
   * the cluster is live only once both started without one.
   */
  private async restart(error?: unknown): Promise<void> {
    if (this.stopped) return;
    if (this.restarting) {
      this.restartRequested = true;
      if (error !== undefined) this.restartPending = error;
      return;
    }
    this.restarting = true;
    try {
      let cause = error;
      do {
        this.restartRequested = false;
        if (cause !== undefined) {
          this.setState('stale', clusterError(this.cluster.name, cause, this.requestTimeoutSeconds).message);
          await this.pause();
        }
        if (this.stopped) return;
        this.quiescing = true;
        this.generation++;
        await Promise.all(this.informers().map((i) => i.stop().catch(() => undefined)));
        await new Promise((r) => setTimeout(r, 0)); // the aborted watches' errors arrive and are ignored
        this.quiescing = false;
        this.errorsDuringStart = 0;
        // start() resolves even when its list or watch failed (client-node reports those as 'error').
        if (this.stopped) return;
        // A start waits for the lists and the watches' response headers; the headers have no deadline of
        // their own, so an API server that takes connections and never answers would hold the restart for
        // ever. Past the request deadline the start counts as failed and is tried again after the back-off,
        // which the heartbeat ends as soon as the API server answers again.
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            this.errorsDuringStart++;
            this.restartPending ??= Object.assign(new Error('the watches did not start in time'), { name: 'TimeoutError' });
            resolve();
          }, this.requestTimeoutSeconds * 1000 + 1000);
        });
        const generation = this.generation;
        await Promise.race([
          Promise.all(this.informers().map((i) => i.start().catch((e: unknown) => {
            // A start given up on (past its deadline) that fails later is no failure of a later one.
            if (e instanceof Superseded || generation !== this.generation) return;
            this.errorsDuringStart++;
            this.restartPending = e;
          }))),
          deadline,
        ]);
        clearTimeout(timer);
        if (this.stopped) {
          // Stopped while starting: what just started is stopped again (no watch outlives the controller).
          await Promise.all(this.informers().map((i) => i.stop().catch(() => undefined)));
          return;
        }
        if (this.errorsDuringStart === 0 && this.synced) {
          this.backoffMs = 1000;
          this.answeredAgain = false;
          this.setState('live');
          this.onChange({ cluster: this.cluster.name, type: 'state' });
        } else {
          this.restartRequested = true;
          this.restartPending ??= new Error('list or watch failed');
        }
        cause = this.restartPending;
        this.restartPending = undefined;
      } while (this.restartRequested && !this.stopped);
    } finally {
      this.restarting = false;
    }
  }

  /**
   * Every 2 s, one at a time, also while a restart waits out its back-off: the moment the API server
   * answers again after it did not, that pause ends (a cluster back from a partition is watched again
   * within a heartbeat, not after a back-off of up to 30 s).
   */
  private async beat(): Promise<void> {
    if (this.stopped || !this.client || this.beating) return;
    this.beating = true;
    try {
      await this.client.call('heartbeat', () => this.client!.config.makeApiClient(VersionApi).getCode());
      const back = !this.answering;
      this.answering = true;
      if (this.restarting) {
        // Ends the back-off pause under way, or the next one if the restart is busy starting.
        if (back) {
          if (this.wakePause) this.wakePause();
          else this.answeredAgain = true;
        }
      } else if (this.state === 'stale') {
        // Back from a partition: watches may have missed events while the API server was gone.
        void this.restart();
      }
    } catch (error) {
      this.answering = false;
      this.setState('stale', clusterError(this.cluster.name, error, this.requestTimeoutSeconds).message);
    } finally {
      this.beating = false;
    }
  }

  /** ServiceExports as last seen (kept while stale). */
  serviceExports(): ServiceExportObject[] {
    return [...(this.exports?.list() ?? [])];
  }

  serviceExport(namespace: string, name: string): ServiceExportObject | undefined {
    return this.exports?.get(name, namespace);
  }

  service(namespace: string, name: string): V1Service | undefined {
    return this.services?.get(name, namespace);
  }

  /**
   * What the EndpointSlices of a Service say: its ready endpoints (undefined: no slice seen yet) and, per
   * Service port name, the pods' port number (resolves a named targetPort).
   */
  endpoints(namespace: string, name: string): { ready: number | undefined; ports: Record<string, number> } {
    const slices = (this.slices?.list(namespace) ?? []).filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === name);
    const key = `${namespace}/${name}`;
    // A Service scaled to zero has slices without ports: the last resolved ports stay in use.
    const lastPorts = this.lastPorts.get(key) ?? {};
    if (slices.length === 0) return { ready: undefined, ports: lastPorts };
    let ready = 0;
    const ports: Record<string, number> = {};
    for (const slice of slices) {
      ready += (slice.endpoints ?? []).filter((e) => e.conditions?.ready !== false).length;
      for (const p of slice.ports ?? []) if (p.port !== undefined) ports[p.name ?? ''] = p.port;
    }
    if (Object.keys(ports).length) this.lastPorts.set(key, ports);
    return { ready, ports: Object.keys(ports).length ? ports : lastPorts };
  }

  private readonly lastPorts = new Map<string, Record<string, number>>();

  /** The east-west gateway's address, live or last seen. */
  gatewayAddress(): string | undefined {
    const address = serviceAddress(this.service(ISTIO_NAMESPACE, EASTWEST_GATEWAY_RELEASE) as Parameters<typeof serviceAddress>[0]);
    if (address) this.lastGateway = address;
    return this.cluster.eastWestGateway.address ?? this.lastGateway;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.quiescing = true;
    // What is still starting is superseded (a watch that gets its headers later is aborted at once), and
    // a restart waiting out its back-off ends now.
    this.generation++;
    this.wakePause?.();
    if (this.heartbeat) clearInterval(this.heartbeat);
    await Promise.all(this.informers().map((i) => i.stop().catch(() => undefined)));
  }
}
