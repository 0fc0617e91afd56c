// The Kubernetes Multi-Cluster Services API on a multi-network Istio mesh (pure): from what every
// cluster exports (ServiceExport + its Service), per cluster the objects that make
// <svc>.<ns>.svc.clusterset.local work — served by every exporting cluster, the local one preferred,
// the others through their east-west gateways — and the ServiceExport conditions (Valid, Conflict).
import { EXPORT_TO_ANNOTATION, GATEWAY_OF_LABEL, MANAGED_BY_LABEL, MCS_SERVICE_LABEL, MESH_LABEL, SYNC_MANAGED_BY } from '../core/vocabulary.ts';
import { createHash } from 'node:crypto';
import type { KubeObject } from '../k8s/object.ts';
import { CROSS_NETWORK_PORT } from '../render/mesh-objects.ts';
import { ISTIO_NAMESPACE } from '../render/helm-releases.ts';
import { locality } from '../render/federation-service-entry.ts';
import { LOCALITY_OUTLIER_DETECTION } from '../render/locality.ts';
import type { ClusterSpec, MeshSpec } from '../spec/schema.ts';

export const MCS_GROUP = 'multicluster.x-k8s.io';
export const MCS_VERSION = `${MCS_GROUP}/v1alpha1`;
export const CLUSTERSET_SUFFIX = 'svc.clusterset.local';

/**
 * A name's clusterset IP: a stable address from a hash of `<namespace>/<name>` in 241.0.0.0–254.255.255.255
 * (class E, never routed; Istio auto-allocates from 240.240.0.0/16). With it on the ServiceEntry, a
 * proxy's DNS answers for the name as soon as istiod pushes it, instead of after istiod has written an
 * auto-allocated address into the ServiceEntry's status (30–800 ms more here).
 */
export function clustersetIp(key: string): string {
  const n = createHash('sha256').update(key).digest().readUInt32BE(0) % (14 * 2 ** 24);
  return `${241 + Math.floor(n / 2 ** 24)}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * Each name's clusterset IP. When two names hash to one address, the one sorting first keeps it and the
 * others get none (Istio allocates theirs): every controller decides the same from the same names.
 */
export function clustersetIps(keys: Iterable<string>, ipOf: (key: string) => string = clustersetIp): Map<string, string> {
  const byIp = new Map<string, string>();
  for (const key of [...new Set(keys)].sort()) {
    const ip = ipOf(key);
    if (!byIp.has(ip)) byIp.set(ip, key);
  }
  return new Map([...byIp].map(([ip, key]) => [key, ip]));
}

export interface ExportedPort {
  name: string;
  port: number;
  protocol: string;
  /** The pods' port, when the Service gives it as a number (a named one is matched by name). */
  targetPort?: number;
}

/** One ServiceExport in one cluster, with what its Service says (undefined: no such Service). */
export interface ClusterExport {
  cluster: string;
  namespace: string;
  name: string;
  /** The ServiceExport's creation time (ISO 8601): the oldest export wins a conflict. */
  createdAt: string;
  service?: { ports: ExportedPort[]; selector: Record<string, string> };
  /**
   * Its scope from the eastwest.dev/export-to annotation (namespaces, "." its own, "*" every one), or why
   * that is unusable; undefined without the annotation (the spec's sync.exportTo applies).
   */
  exportTo?: string[] | { error: string };
  /** Ready endpoints of its Service in its cluster (from the EndpointSlices); undefined: not known. */
  readyEndpoints?: number;
  /**
   * Its cluster's controller has accepted it and its east-west gateway routes the name (Valid=True and
   * Ready=True; a controller that writes no Ready condition: Valid=True). Other clusters route to it only
   * from then on.
   */
  accepted?: boolean;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * The eastwest.dev/export-to annotation: namespaces separated by commas (spaces allowed), "." for the
 * export's own namespace, "*" for every namespace. Undefined without the annotation; an empty value is
 * an error (it would say nothing).
 */
export function parseExportTo(value: string | undefined): string[] | { error: string } | undefined {
  if (value === undefined) return undefined;
  // Empty: no namespace besides its own (what it meant before "." existed).
  if (value.trim() === '') return ['.'];
  const entries = value.split(',').map((v) => v.trim());
  const bad = entries.filter((e) => e !== '*' && e !== '.' && !DNS_LABEL.test(e));
  if (bad.length > 0) return { error: `${EXPORT_TO_ANNOTATION} must list namespaces separated by commas, "." (its own namespace) or "*" (every namespace); ${bad.map((b) => JSON.stringify(b)).join(', ')} is not one` };
  return [...new Set(entries)].sort();
}

export interface Condition {
  type: 'Valid' | 'Conflict' | 'Ready';
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export interface ExportStatus {
  cluster: string;
  namespace: string;
  name: string;
  conditions: Condition[];
}

export interface ImportedService {
  namespace: string;
  name: string;
  ports: ExportedPort[];
  /** Exporting clusters that serve it (valid and not in conflict), sorted. */
  clusters: string[];
  /** Pod labels that select its workloads, per serving cluster (each cluster's own Service). */
  selectors: Record<string, Record<string, string>>;
  /** Its scope from the oldest serving export's annotation; absent: the spec's sync.exportTo. */
  exportTo?: string[];
  /** Ready endpoints per serving cluster, where known. */
  readyEndpoints?: Record<string, number>;
  /** Per serving cluster, its pods' port per port name (its own Service's targetPorts). */
  targetPorts?: Record<string, Record<string, number>>;
  /** Serving clusters whose controller has not accepted the export yet (not routed to from elsewhere). */
  pending?: string[];
}

export const clustersetHost = (s: { name: string; namespace: string }) => `${s.name}.${s.namespace}.${CLUSTERSET_SUFFIX}`;
const portKey = (ports: readonly ExportedPort[]) => JSON.stringify([...ports].map((p) => [p.port, p.protocol.toUpperCase()]).sort());

/** Istio's protocol for a Service port: its appProtocol or name prefix (http-…, grpc-…), else TCP. */
export function istioProtocol(port: { name?: string; appProtocol?: string; protocol?: string }): string {
  const hint = (port.appProtocol ?? port.name ?? '').toLowerCase();
  for (const [prefix, protocol] of [['http2', 'HTTP2'], ['https', 'HTTPS'], ['http', 'HTTP'], ['grpc-web', 'GRPC-WEB'], ['grpc', 'GRPC'], ['tls', 'TLS'], ['tcp', 'TCP']] as const) {
    if (hint === prefix || hint.startsWith(`${prefix}-`)) return protocol;
  }
  return port.protocol === 'UDP' ? 'UDP' : 'TCP';
}

/**
 * Decides, per exported name, which exports serve it: an export without a Service is not Valid; among
 * valid ones, those whose ports differ from the oldest export's are in Conflict and not routed (the MCS
 * KEP's rule: the oldest export wins).
 */
/** `defaultExportTo`: the spec's sync.exportTo (the scope of an export without the annotation). */
export function resolveExports(exports: readonly ClusterExport[], defaultExportTo: readonly string[] = ['*']): { imports: ImportedService[]; statuses: ExportStatus[] } {
  const groups = new Map<string, ClusterExport[]>();
  for (const e of exports) {
    const key = `${e.namespace}/${e.name}`;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  const imports: ImportedService[] = [];
  const statuses: ExportStatus[] = [];
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key)!.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.cluster.localeCompare(b.cluster));
    const valid = group.filter((e) => (e.exportTo === undefined || Array.isArray(e.exportTo)) && e.service !== undefined && e.service.ports.length > 0 && Object.keys(e.service.selector).length > 0);
    const conflicting = valid.filter((e) => portKey(e.service!.ports) !== portKey(valid[0]!.service!.ports)).map((e) => e.cluster);
    const winner = valid[0];
    // Scope, like ports: the oldest export's is used; exports that say otherwise are told (Conflict).
    // Compared as Istio will apply them: "*,web" is "*", "." is the namespace's own name, istio-system is always in.
    const scopeOf = (e: ClusterExport) => scopeFor(Array.isArray(e.exportTo) ? e.exportTo : defaultExportTo, e.namespace).join(',');
    // As the user wrote it, for messages.
    const written = (e: ClusterExport) => (Array.isArray(e.exportTo) ? e.exportTo.join(',') : `sync.exportTo: ${defaultExportTo.join(',') || '.'}`);
    const scopeDiffers = valid.filter((e) => portKey(e.service!.ports) === portKey(winner!.service!.ports) && scopeOf(e) !== scopeOf(winner!)).map((e) => e.cluster);
    const serving: ClusterExport[] = [];
    for (const e of group) {
      const conditions: Condition[] = [];
      if (e.exportTo !== undefined && !Array.isArray(e.exportTo)) {
        conditions.push({ type: 'Valid', status: 'False', reason: 'InvalidExportTo', message: `${e.exportTo.error}: nothing is exported` });
      } else if (!e.service) {
        conditions.push({ type: 'Valid', status: 'False', reason: 'NoService', message: `no Service ${e.namespace}/${e.name} in cluster ${e.cluster}: nothing is exported` });
      } else if (e.service.ports.length === 0) {
        conditions.push({ type: 'Valid', status: 'False', reason: 'NoPorts', message: `Service ${e.namespace}/${e.name} has no ports` });
      } else if (Object.keys(e.service.selector).length === 0) {
        conditions.push({ type: 'Valid', status: 'False', reason: 'NoSelector', message: `Service ${e.namespace}/${e.name} has no selector: its workloads cannot be told apart` });
      } else {
        conditions.push({ type: 'Valid', status: 'True', reason: 'Exported', message: `exported as ${clustersetHost(e)}` });
        if (winner && portKey(e.service.ports) !== portKey(winner.service!.ports)) {
          conditions.push({ type: 'Conflict', status: 'True', reason: 'PortConflict', message: `its ports ${portKey(e.service.ports)} differ from those of the oldest export (cluster ${winner.cluster}: ${portKey(winner.service!.ports)}); not routed until they agree` });
        } else if (conflicting.length > 0) {
          // As the KEP has it: the condition on every export; the oldest export's ports are used.
          conditions.push({ type: 'Conflict', status: 'True', reason: 'PortConflict', message: `the exports of ${conflicting.join(', ')} have other ports; these (the oldest export's) are used` });
          serving.push(e);
        } else if (scopeDiffers.length > 0) {
          // Served either way (its endpoints are fine); who may use the name is the oldest export's say.
          conditions.push({ type: 'Conflict', status: 'True', reason: 'ExportToConflict', message: scopeOf(e) === scopeOf(winner!)
            ? `the exports of ${scopeDiffers.join(', ')} name another scope (${EXPORT_TO_ANNOTATION}); this one (the oldest export's: ${written(winner!)}) is used`
            : `its scope (${written(e)}) differs from the oldest export's (cluster ${winner!.cluster}: ${written(winner!)}), which is used` });
          serving.push(e);
        } else {
          conditions.push({ type: 'Conflict', status: 'False', reason: 'NoConflict', message: 'every exporting cluster agrees on the ports' });
          serving.push(e);
        }
      }
      statuses.push({ cluster: e.cluster, namespace: e.namespace, name: e.name, conditions });
    }
    if (winner && serving.length > 0) {
      const oldest = serving[0]!;
      const ready = serving.filter((e) => e.readyEndpoints !== undefined).map((e) => [e.cluster, e.readyEndpoints!] as const);
      imports.push({
        namespace: winner.namespace,
        name: winner.name,
        ports: winner.service!.ports,
        clusters: serving.map((e) => e.cluster).sort(),
        selectors: Object.fromEntries(serving.map((e) => [e.cluster, e.service!.selector])),
        ...(Array.isArray(oldest.exportTo) ? { exportTo: oldest.exportTo } : {}),
        ...(ready.length ? { readyEndpoints: Object.fromEntries(ready) } : {}),
        targetPorts: Object.fromEntries(serving.map((e) => [e.cluster, Object.fromEntries(e.service!.ports.flatMap((p) => (p.targetPort !== undefined ? [[p.name, p.targetPort]] : [])))])),
        ...(serving.some((e) => e.accepted === false) ? { pending: serving.filter((e) => e.accepted === false).map((e) => e.cluster).sort() } : {}),
      });
    }
  }
  return { imports, statuses };
}

/**
 * Istio's exportTo for an imported service. As in Kubernetes and the MCS API, an exported service may be
 * used from every namespace unless scoped: its export's eastwest.dev/export-to annotation, when present,
 * replaces the spec's sync.exportTo (default "*"). A scope always includes the service's own namespace
 * and the east-west gateway's (istio-system: the gateway must know every served name to pass its
 * connections through). A proxy outside it never receives the name, so a sidecar's configuration grows
 * with what its namespace may use, not with everything the mesh exports.
 */
export function importScope(spec: MeshSpec, service: Pick<ImportedService, 'namespace' | 'exportTo'>): string[] {
  return scopeFor(service.exportTo ?? spec.sync.exportTo, service.namespace);
}

/** Istio's exportTo for a scope as written (namespaces, "." its own, "*" every one) of a service in `namespace`. */
function scopeFor(named: readonly string[], namespace: string): string[] {
  if (named.includes('*')) return ['*'];
  return ['.', ...[...new Set([ISTIO_NAMESPACE, ...named])].filter((n) => n !== namespace && n !== '.').sort()];
}

/**
 * Outlier detection of an imported name. Locality failover needs it, as for the spec's services, but an
 * import's endpoints come and go with exports: a gateway that fails while it learns a new name (its
 * istiod catching up, say after its API server was unreachable) is ejected for 2 s, not 15 s, so a fresh
 * export is not kept unreachable long after the gateway serves it. Envoy lengthens repeated ejections.
 */
export const IMPORT_OUTLIER_DETECTION = { ...LOCALITY_OUTLIER_DETECTION, interval: '1s', baseEjectionTime: '2s' } as const;

const meta = (spec: MeshSpec, name: string, namespace: string, extra: Record<string, string> = {}) => ({
  name,
  namespace,
  labels: { [MANAGED_BY_LABEL]: SYNC_MANAGED_BY, [MESH_LABEL]: spec.meshID, ...extra },
});

/**
 * What `cluster` needs for the imported services (pure): per service, its namespace, a ServiceEntry for
 * the clusterset host that selects the service's pods here (if it serves it) and one WorkloadEntry per
 * other serving cluster (its east-west gateway on 15443, in that cluster's network: invisible to every
 * gateway), a DestinationRule that keeps traffic in the region and fails over, and a ServiceImport.
 * Services whose remote gateways have no known address are routed to the clusters that have one.
 */
/** `ips`: each name's clusterset IP (key `<namespace>/<name>`); a name without one gets Istio's auto-allocated address. */
export function importObjects(spec: MeshSpec, cluster: ClusterSpec, imports: readonly ImportedService[], gateways: ReadonlyMap<string, string>, ips: ReadonlyMap<string, string> = new Map()): KubeObject[] {
  const byName = new Map(spec.clusters.map((c) => [c.name, c]));
  const objects: KubeObject[] = [];
  const namespaces = new Set<string>();
  for (const service of imports) {
    const remotes = service.clusters.filter((c) => c !== cluster.name && byName.has(c) && gateways.has(c));
    const local = service.clusters.includes(cluster.name);
    if (!local && remotes.length === 0) continue;
    namespaces.add(service.namespace);
    const host = clustersetHost(service);
    // Here: this cluster's own Service's selector when it serves, else the oldest export's.
    const selector = { ...(service.selectors[cluster.name] ?? service.selectors[service.clusters[0]!]) };
    const exportTo = importScope(spec, service);
    const ip = ips.get(`${service.namespace}/${service.name}`);
    objects.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: meta(spec, `${service.name}-clusterset`, service.namespace, { [MCS_SERVICE_LABEL]: service.name }),
      spec: {
        hosts: [host],
        ...(ip ? { addresses: [ip] } : {}),
        exportTo,
        location: 'MESH_INTERNAL',
        resolution: 'STATIC',
        // The pods' port is this cluster's own (its Service's targetPort), when it serves the name.
        ports: service.ports.map((p) => {
          const targetPort = local ? (service.targetPorts?.[cluster.name]?.[p.name] ?? (service.targetPorts ? undefined : p.targetPort)) : undefined;
          return { number: p.port, name: p.name, protocol: p.protocol, ...(targetPort ? { targetPort } : {}) };
        }),
        workloadSelector: { labels: selector },
      },
    });
    // A remote cluster with no ready endpoint gets no traffic (never a try through its gateway); the
    // others are weighted by their ready endpoints, as Istio weighs a network's gateway itself.
    const candidates = remotes.filter((r) => service.readyEndpoints?.[r] !== 0);
    // A cluster whose gateway does not route the name yet (its export not Ready) would fail what is sent
    // there, and the clients' outlier detection would eject its gateway: while the name has another
    // source (served here, or a Ready cluster), it gets nothing. A name with no other source is routed
    // to it at once (a request fails either way until that gateway learns the name, and with one source
    // there is no outlier detection to eject it: see below).
    const settled = candidates.filter((r) => !service.pending?.includes(r));
    const servedHere = local && service.readyEndpoints?.[cluster.name] !== 0;
    const routed = servedHere || settled.length > 0 ? settled : candidates;
    for (const remoteName of routed) {
      const remote = byName.get(remoteName)!;
      const ready = service.readyEndpoints?.[remoteName];
      objects.push({
        apiVersion: 'networking.istio.io/v1',
        kind: 'WorkloadEntry',
        metadata: meta(spec, `${service.name}-clusterset-${remote.name}`, service.namespace, { [MCS_SERVICE_LABEL]: service.name, [GATEWAY_OF_LABEL]: remote.name }),
        spec: {
          address: gateways.get(remote.name)!,
          network: remote.network,
          locality: locality(remote),
          ...(ready !== undefined ? { weight: ready } : {}),
          labels: { ...selector, 'security.istio.io/tlsMode': 'istio', 'topology.istio.io/cluster': remote.name },
          ports: Object.fromEntries(service.ports.map((p) => [p.name, CROSS_NETWORK_PORT])),
        },
      });
    }
    const regions = [...new Set([cluster.region, ...remotes.map((r) => byName.get(r)!.region)])].sort();
    const failover = regions.length > 1 ? regions.map((from, i) => ({ from, to: regions[(i + 1) % regions.length]! })) : [];
    // Outlier detection (which locality failover needs) only where there is somewhere to fail over to:
    // with one source, ejecting it leaves nothing ("no healthy upstream") for its ejection time, for
    // instance after a first connection its gateway reset while it was still learning the name.
    const sources = (servedHere ? 1 : 0) + routed.length;
    objects.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: meta(spec, `${service.name}-clusterset`, service.namespace, { [MCS_SERVICE_LABEL]: service.name }),
      spec: {
        host,
        exportTo,
        trafficPolicy: {
          tls: { mode: 'ISTIO_MUTUAL' },
          ...(sources > 1
            ? { loadBalancer: { simple: 'ROUND_ROBIN', localityLbSetting: { enabled: true, ...(failover.length ? { failover } : {}) } }, outlierDetection: { ...IMPORT_OUTLIER_DETECTION } }
            : { loadBalancer: { simple: 'ROUND_ROBIN' } }),
        },
      },
    });
    objects.push({
      apiVersion: MCS_VERSION,
      kind: 'ServiceImport',
      metadata: meta(spec, service.name, service.namespace),
      spec: { type: 'ClusterSetIP', ...(ip ? { ips: [ip] } : {}), ports: service.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol === 'UDP' ? 'UDP' : 'TCP' })) },
    });
  }
  const namespaceObjects: KubeObject[] = [...namespaces].sort().map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [MANAGED_BY_LABEL]: SYNC_MANAGED_BY, [MESH_LABEL]: spec.meshID } } }));
  return [...namespaceObjects, ...objects];
}
