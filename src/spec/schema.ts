// The mesh spec: the only definition of its shape, its defaults and its cross-field rules.
// Types come from z.infer, JSON Schema from z.toJSONSchema (see scripts/write-json-schema.ts).
import { EXPORT_TO_ANNOTATION, INJECTION_LABEL, NETWORK_LABEL, REVISION_LABEL, SPEC_API_VERSION } from '../core/vocabulary.ts';
import { z } from 'zod';
import { isIP } from 'node:net';

export const API_VERSION = SPEC_API_VERSION;
export const KIND = 'Mesh';

/** Istio's port-name convention: `<protocol>[-<suffix>]` (https://istio.io protocol selection). */
export const PORT_PROTOCOLS = ['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB', 'TCP', 'TLS', 'HTTPS', 'MONGO', 'MYSQL', 'REDIS'] as const;
export type PortProtocol = (typeof PORT_PROTOCOLS)[number];

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label: lower-case letters, digits and "-", starting and ending alphanumeric')
  .max(63);
const dnsSubdomain = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a DNS name such as corp.local')
  .max(253);
const hostOrIp = z
  .string()
  .refine((v) => isIP(v) !== 0 || /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/.test(v), 'must be an IP address or a DNS host name');
const helmValues = z.record(z.string(), z.unknown());

/** Chart versions eastwest's observability values are written and tested against. */
export const KUBE_PROMETHEUS_STACK_VERSION = '79.5.0';
export const KIALI_CHART_VERSION = '2.27.0'; // the kiali-server chart Istio 1.31's samples/addons were rendered from
export const OBSERVABILITY_CHART_REPOS = { kubePrometheusStack: 'https://prometheus-community.github.io/helm-charts', kiali: 'https://kiali.org/helm-charts' } as const;

/** One chart's source (at most one of repo, oci, directory; the default repository when none) and its pinned version. */
function chartSourceSchema(defaultRepo: string, defaultVersion: string) {
  return z
    .strictObject({
      repo: z.url().optional().describe('Helm repository URL (https://…).'),
      oci: z.string().startsWith('oci://').optional().describe('OCI registry path of the chart (without the chart name).'),
      directory: z.string().min(1).optional().describe('Local directory of the unpacked chart, for air-gapped installs (relative to the spec file).'),
      version: z.string().min(1).default(defaultVersion),
    })
    .prefault({})
    .describe(`Default: the repository ${defaultRepo}.`);
}

export const clusterSchema = z.strictObject({
  name: dnsLabel.describe('Cluster name; also the Istio cluster ID (CLUSTER_ID) and the <cluster> in <svc>.<cluster>.mesh.local.'),
  context: z.string().min(1).describe('kubeconfig context used to reach this cluster.'),
  network: dnsLabel.describe(`Istio network of this cluster (${NETWORK_LABEL}); unique per cluster.`),
  region: z.string().min(1).describe('Locality region (topology.kubernetes.io/region of its nodes).'),
  zone: z.string().min(1).optional().describe('Locality zone, if the cluster sits in one zone.'),
  eastWestGateway: z
    .strictObject({
      address: hostOrIp.optional().describe('Fixed address of this cluster\'s east-west gateway; discovered by apply when absent.'),
    })
    .prefault({})
    .describe('Per-cluster east-west gateway settings.'),
});

export const portSchema = z.strictObject({
  number: z.number().int().min(1).max(65535),
  name: z.string().min(1).describe('Port name, prefixed with its protocol (http, http-web, grpc, tcp-db …).'),
  protocol: z.enum(PORT_PROTOCOLS),
  targetPort: z.number().int().min(1).max(65535).optional(),
});

export const serviceSchema = z.strictObject({
  name: dnsLabel,
  namespace: dnsLabel,
  serviceAccount: dnsLabel.optional().describe('Service account of the serving pods (SPIFFE identity); defaults to the service name.'),
  ports: z.array(portSchema).min(1),
  clusters: z.array(dnsLabel).min(1).describe('Clusters that serve this service.'),
});

const principal = z
  .string()
  .regex(/^spiffe:\/\/[^/]+\/ns\/[^/]+\/sa\/[^/]+$/, 'must be a SPIFFE ID spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>');

export const authorizationSourceSchema = z.strictObject({
  principals: z.array(principal).optional(),
  namespaces: z.array(dnsLabel).optional(),
  serviceAccounts: z
    .array(z.string().regex(/^[a-z0-9-]+\/[a-z0-9-]+$/, 'must be <namespace>/<service-account>'))
    .optional()
    .describe('Callers as <namespace>/<service-account>, expanded to SPIFFE principals in the mesh trust domain.'),
  methods: z.array(z.string().regex(/^[A-Z]+$/, 'must be an HTTP method in upper case')).optional(),
  paths: z.array(z.string().startsWith('/')).optional(),
});

export const authorizationRuleSchema = z.strictObject({
  service: dnsLabel,
  namespace: dnsLabel.optional().describe('Namespace of the service; needed only when the name is ambiguous.'),
  allow: z.array(authorizationSourceSchema).min(1),
});

/** An Istio security object passed through as written, to every cluster. */
export const rawSecurityObjectSchema = z.strictObject({
  apiVersion: z.enum(['security.istio.io/v1']),
  kind: z.enum(['AuthorizationPolicy', 'PeerAuthentication', 'RequestAuthentication']),
  metadata: z.strictObject({ name: dnsLabel, namespace: dnsLabel, labels: z.record(z.string(), z.string()).optional(), annotations: z.record(z.string(), z.string()).optional() }),
  spec: z.record(z.string(), z.unknown()),
});

export const meshSpecSchema = z.strictObject({
  meshID: dnsLabel,
  trustDomain: dnsSubdomain,
  istio: z
    .strictObject({
      version: z.string().regex(/^\d+\.\d+(\.\d+)?([-+][0-9A-Za-z.-]+)?$/, 'must be an Istio version such as 1.31.0').default('1.31.0'),
      charts: z
        .strictObject({
          repo: z.url().optional().describe('Helm repository URL (https://…).'),
          oci: z.string().startsWith('oci://').optional().describe('OCI registry path of the charts.'),
          directory: z.string().min(1).optional().describe('Local directory holding base/, istio-control/istio-discovery/ and gateway/.'),
        })
        .default({ repo: 'https://istio-release.storage.googleapis.com/charts' }),
      hub: z.string().min(1).optional().describe('Image hub; the chart default when absent.'),
      tag: z.string().min(1).optional().describe('Image tag; the chart version when absent.'),
      revision: z
        .string()
        .max(40)
        .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label of lowercase letters, digits and "-", such as 1-31-0')
        .refine((r) => r !== 'default', '"default" is the name of the revision that has none: leave revision out for it')
        .optional()
        .describe(`istiod's revision: its release istiod-<revision>, and namespaces labelled ${REVISION_LABEL}=<revision>. Absent: the default revision (namespaces labelled ${INJECTION_LABEL}=enabled).`),
    })
    .prefault({}),
  profile: z
    .enum(['standard', 'lab'])
    .default('standard')
    .describe('lab: settings for the offline lab\'s upstream Envoy (no Istio-only extensions). Real clusters: standard.'),
  pki: z
    .strictObject({
      directory: z.string().min(1).default('.eastwest/pki').describe('Where the root and intermediate CAs live, relative to the spec file.'),
      keyAlgorithm: z.enum(['RSA-4096', 'ECDSA-P256']).default('RSA-4096'),
      rootValidityDays: z.number().int().min(1).default(3650),
      intermediateValidityDays: z.number().int().min(1).default(1825),
    })
    .prefault({}),
  clusters: z.array(clusterSchema).min(1),
  eastWestGateway: z
    .strictObject({
      serviceType: z.enum(['LoadBalancer', 'NodePort', 'ClusterIP']).default('LoadBalancer'),
    })
    .prefault({}),
  federation: z
    .strictObject({
      mode: z.enum(['service-entry', 'endpoint-discovery']).default('service-entry'),
      hostSuffix: dnsSubdomain.default('mesh.local').describe('Exported services are reachable as <svc>.<cluster>.<hostSuffix>.'),
    })
    .prefault({}),
  services: z.array(serviceSchema).default([]),
  policy: z
    .strictObject({
      mtls: z.enum(['STRICT', 'PERMISSIVE']).default('STRICT'),
      authorization: z.array(authorizationRuleSchema).default([]),
      objects: z.array(rawSecurityObjectSchema).default([]).describe('Istio security objects applied as written to every cluster.'),
    })
    .prefault({}),
  observability: z
    .strictObject({
      prometheus: z.boolean().default(false).describe('A Prometheus per cluster that scrapes Istio (proxies, gateways, istiod) and every other cluster\'s Istio series through the mesh. Real clusters: the kube-prometheus-stack release; the lab: Prometheus built from its Go module.'),
      grafana: z.boolean().default(false).describe('Grafana (kube-prometheus-stack\'s) with Istio\'s dashboards; real clusters only (it cannot be built offline).'),
      kiali: z.boolean().default(false).describe('Kiali (the kiali-server release) pointed at this cluster\'s Prometheus and Grafana, with read access to every other cluster.'),
      namespace: dnsLabel.default('observability').describe('Namespace of kube-prometheus-stack (real clusters); never sidecar-injected. The lab\'s Prometheus runs in istio-system.'),
      scrapeInterval: z.string().regex(/^\d+(ms|s|m)$/, 'must be a Prometheus duration such as 15s').default('15s'),
      retention: z.string().regex(/^\d+(m|h|d|w)$/, 'must be a Prometheus duration such as 15d').default('15d'),
      serviceType: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']).default('ClusterIP').describe('Service type of Prometheus, Alertmanager, Grafana and Kiali. ClusterIP unless you mean to expose them.'),
      kialiAuth: z.enum(['token', 'openid', 'header', 'anonymous']).default('token').describe('Kiali\'s auth.strategy; anonymous lets anyone who reaches it see the mesh.'),
      charts: z
        .strictObject({
          kubePrometheusStack: chartSourceSchema(OBSERVABILITY_CHART_REPOS.kubePrometheusStack, KUBE_PROMETHEUS_STACK_VERSION),
          kiali: chartSourceSchema(OBSERVABILITY_CHART_REPOS.kiali, KIALI_CHART_VERSION),
        })
        .prefault({})
        .describe('Where the observability charts come from (one of repo, oci or directory each), pinned.'),
    })
    .prefault({}),
  sync: z
    .strictObject({
      inCluster: z.boolean().default(false).describe('Run the sync controller in every cluster (a Deployment in eastwest-system that apply installs); otherwise run `eastwest sync` yourself.'),
      replicas: z.number().int().min(1).max(5).default(2).describe('Replicas of the in-cluster controller; one acts at a time (a Lease in eastwest-system).'),
      image: z.string().min(1).optional().describe('Image of the in-cluster controller (this project with a Node runtime); the lab builds its own.'),
      exportTo: z
        .array(z.union([dnsLabel, z.literal('*'), z.literal('.')]))
        .default(['*'])
        .describe(`Namespaces whose proxies may use an imported service: "*" every namespace (as in Kubernetes and the MCS API), "." (or an empty list) the service's own. A ServiceExport's annotation ${EXPORT_TO_ANNOTATION} replaces it for that name.`),
    })
    .prefault({})
    .describe('Services exported with an MCS ServiceExport, routed as <svc>.<ns>.svc.clusterset.local by the sync controller.'),
  demo: z
    .strictObject({ enabled: z.boolean().default(false) })
    .prefault({})
    .describe('Install the demo echo service and curl client in every cluster.'),
  helmValues: z
    .strictObject({ base: helmValues.optional(), istiod: helmValues.optional(), gateway: helmValues.optional(), kubePrometheusStack: helmValues.optional(), kiali: helmValues.optional() })
    .prefault({})
    .describe('Extra Helm values per chart, merged over eastwest\'s own.'),
});

export const meshDocumentSchema = z
  .strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(KIND),
    metadata: z.strictObject({ name: dnsLabel }).optional(),
    spec: meshSpecSchema,
  })
  .superRefine(
    (doc, ctx) => {
      // Runs even when fields above failed (`when`), so one pass reports every problem; the data may
      // then be partial, which crossFieldIssues tolerates.
      for (const issue of crossFieldIssues(doc.spec as Loose<MeshSpec>)) {
        ctx.addIssue({ code: 'custom', path: ['spec', ...issue.path], message: issue.message, params: { hint: issue.hint } });
      }
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  );

/** Data that passed, or only partly passed, the schema: every field may be missing or malformed. */
type Loose<T> = T extends (infer E)[] ? Loose<E>[] | undefined : T extends object ? { [K in keyof T]?: Loose<T[K]> } | undefined : T | undefined;

export type MeshDocument = z.output<typeof meshDocumentSchema>;
export type MeshSpec = MeshDocument['spec'];
export type ClusterSpec = MeshSpec['clusters'][number];
export type ServiceSpec = MeshSpec['services'][number];
export type PortSpec = ServiceSpec['ports'][number];
export type AuthorizationRule = MeshSpec['policy']['authorization'][number];

interface CrossFieldIssue {
  path: (string | number)[];
  message: string;
  hint?: string;
}

/** Rules that span fields. Pure; every problem is returned, not just the first; tolerates partial data. */
export function crossFieldIssues(spec: Loose<MeshSpec>): CrossFieldIssue[] {
  const issues: CrossFieldIssue[] = [];
  if (!spec || typeof spec !== 'object') return issues;
  const list = <T>(value: (T | undefined)[] | undefined): T[] => (Array.isArray(value) ? value.filter((v): v is T => v !== null && typeof v === 'object') : []);
  const clusters = Array.isArray(spec.clusters) ? spec.clusters : [];
  const services = Array.isArray(spec.services) ? spec.services : [];

  for (const [field, what] of [['name', 'cluster name'], ['network', 'network'], ['context', 'kube context']] as const) {
    const first = new Map<string, number>();
    clusters.forEach((cluster, i) => {
      const value = cluster?.[field];
      if (typeof value !== 'string') return;
      const seen = first.get(value);
      if (seen === undefined) first.set(value, i);
      else issues.push({ path: ['clusters', i, field], message: `duplicate ${what} "${value}" (also clusters[${seen}])`, hint: `each cluster needs its own ${what}` });
    });
  }

  const charts = spec.istio?.charts;
  if (charts && typeof charts === 'object') {
    const sources = [charts.repo, charts.oci, charts.directory].filter((s) => s !== undefined);
    if (sources.length !== 1) {
      issues.push({ path: ['istio', 'charts'], message: `exactly one chart source is needed, found ${sources.length}`, hint: 'set one of repo, oci or directory' });
    }
  }

  const clusterNames = new Set(clusters.map((c) => c?.name).filter((n): n is string => typeof n === 'string'));
  const serviceKeys = new Map<string, number>();
  services.forEach((service, si) => {
    if (!service || typeof service !== 'object') return;
    const key = `${service.namespace}/${service.name}`;
    if (serviceKeys.has(key)) issues.push({ path: ['services', si, 'name'], message: `service ${key} is listed twice (also services[${serviceKeys.get(key)}])` });
    else serviceKeys.set(key, si);
    (Array.isArray(service.clusters) ? service.clusters : []).forEach((cluster, ci) => {
      if (typeof cluster === 'string' && !clusterNames.has(cluster)) {
        issues.push({ path: ['services', si, 'clusters', ci], message: `unknown cluster "${cluster}"`, hint: `declared clusters: ${[...clusterNames].join(', ')}` });
      }
    });
    const seenPorts = new Set<number>();
    const seenNames = new Set<string>();
    list(service.ports).forEach((port, pi) => {
      if (typeof port.number === 'number') {
        if (seenPorts.has(port.number)) issues.push({ path: ['services', si, 'ports', pi, 'number'], message: `port ${port.number} is listed twice` });
        seenPorts.add(port.number);
      }
      if (typeof port.name !== 'string' || typeof port.protocol !== 'string') return;
      if (seenNames.has(port.name)) issues.push({ path: ['services', si, 'ports', pi, 'name'], message: `port name "${port.name}" is listed twice` });
      seenNames.add(port.name);
      if ((PORT_PROTOCOLS as readonly string[]).includes(port.protocol) && !portNameMatchesProtocol(port.name, port.protocol)) {
        const p = port.protocol.toLowerCase();
        issues.push({
          path: ['services', si, 'ports', pi, 'name'],
          message: `port name "${port.name}" does not start with its protocol ${port.protocol}`,
          hint: `name it "${p}" or "${p}-<suffix>" so Istio does not have to guess the protocol`,
        });
      }
    });
  });

  const o = spec.observability;
  if (o && typeof o === 'object') {
    for (const ui of ['grafana', 'kiali'] as const) {
      if (o[ui] === true && o.prometheus !== true) issues.push({ path: ['observability', ui], message: `${ui} needs observability.prometheus`, hint: 'set observability.prometheus: true (it is where the numbers come from)' });
    }
    if (spec.profile === 'lab' && o.kiali === true && o.kialiAuth !== undefined && o.kialiAuth !== 'anonymous') issues.push({ path: ['observability', 'kialiAuth'], message: `the lab's Kiali has no login (${o.kialiAuth} needs one): it runs anonymous, reachable only through kubectl port-forward`, hint: 'set observability.kialiAuth: anonymous in the lab profile' });
    if (spec.profile === 'lab' && o.grafana === true) issues.push({ path: ['observability', 'grafana'], message: 'Grafana cannot be had offline, so the lab has none', hint: 'leave grafana out in the lab profile; real clusters (profile standard) get it with kube-prometheus-stack' });
    // The guide's kiali-server flags that Helm would ignore without a word, or that undo what the spec says.
    const kiali = (spec.helmValues as { kiali?: Record<string, any> } | undefined)?.kiali;
    if (kiali?.service?.type !== undefined) issues.push({ path: ['helmValues', 'kiali', 'service', 'type'], message: 'kiali-server has no service.type (Helm ignores it, as it did the guide\'s --set service.type=LoadBalancer)', hint: 'set observability.serviceType; eastwest renders it as deployment.service_type' });
    if (kiali?.auth?.strategy !== undefined) issues.push({ path: ['helmValues', 'kiali', 'auth', 'strategy'], message: 'Kiali\'s auth strategy comes from observability.kialiAuth', hint: 'set observability.kialiAuth instead' });
    if (kiali?.deployment?.service_type !== undefined) issues.push({ path: ['helmValues', 'kiali', 'deployment', 'service_type'], message: 'Kiali\'s Service type comes from observability.serviceType', hint: 'set observability.serviceType instead' });
    const clusterCount = Array.isArray(spec.clusters) ? spec.clusters.length : 0;
    if (o.kiali === true && spec.profile !== 'lab' && clusterCount > 1 && (o.kialiAuth === 'token' || o.kialiAuth === 'header')) {
      issues.push({ path: ['observability', 'kialiAuth'], message: `Kiali's view of several clusters supports the anonymous and openid strategies only, not ${o.kialiAuth}`, hint: 'set observability.kialiAuth: openid and its settings in helmValues.kiali.auth.openid (or anonymous, reachable by port-forward only)' });
    }
    const kps = (spec.helmValues as { kubePrometheusStack?: Record<string, any> } | undefined)?.kubePrometheusStack;
    // eastwest finds Prometheus, its account and its pods by the names these settings would change.
    const renames: [string[], unknown][] = [[['fullnameOverride'], kps?.fullnameOverride], [['nameOverride'], kps?.nameOverride], [['cleanPrometheusOperatorObjectNames'], kps?.cleanPrometheusOperatorObjectNames], [['prometheus', 'serviceAccount', 'name'], kps?.prometheus?.serviceAccount?.name]];
    for (const [path, value] of renames) {
      if (value !== undefined) issues.push({ path: ['helmValues', 'kubePrometheusStack', ...path], message: `${path.join('.')} renames what eastwest finds Prometheus by (its Service, account and pods)`, hint: 'leave it to eastwest (the release is kube-prometheus-stack)' });
    }
    if (kps?.grafana?.adminPassword !== undefined) issues.push({ path: ['helmValues', 'kubePrometheusStack', 'grafana', 'adminPassword'], message: 'a Grafana password in the spec is a secret in a file', hint: 'leave it out: apply generates one and keeps it in the Secret eastwest-grafana-admin' });
    for (const part of ['prometheus', 'grafana', 'alertmanager'] as const) {
      if (kps?.[part]?.service?.type !== undefined) issues.push({ path: ['helmValues', 'kubePrometheusStack', part, 'service', 'type'], message: `${part}'s Service type comes from observability.serviceType`, hint: 'set observability.serviceType (ClusterIP unless you mean to expose it)' });
    }
    const charts = o.charts && typeof o.charts === 'object' ? o.charts : {};
    for (const [name, chart] of Object.entries(charts)) {
      if (!chart || typeof chart !== 'object') continue;
      const c = chart as { repo?: unknown; oci?: unknown; directory?: unknown };
      const sources = [c.repo, c.oci, c.directory].filter((x) => x !== undefined);
      if (sources.length > 1) issues.push({ path: ['observability', 'charts', name], message: `one chart source is needed, found ${sources.length}`, hint: 'set one of repo, oci or directory' });
    }
  }
  if (spec.sync?.inCluster === true && spec.sync.image === undefined && spec.profile !== 'lab') {
    issues.push({ path: ['sync', 'image'], message: 'the in-cluster sync controller needs an image', hint: 'set sync.image to an image of eastwest pushed to your registry (the lab profile builds its own)' });
  }

  list(spec.policy?.authorization).forEach((rule, ri) => {
    const matches = services.filter((s) => s?.name === rule.service && (rule.namespace === undefined || s?.namespace === rule.namespace));
    if (typeof rule.service === 'string' && matches.length === 0) {
      issues.push({ path: ['policy', 'authorization', ri, 'service'], message: `no exported service "${rule.service}"${rule.namespace ? ` in namespace ${rule.namespace}` : ''}`, hint: 'authorization rules apply to services listed under spec.services' });
    } else if (matches.length > 1) {
      issues.push({ path: ['policy', 'authorization', ri, 'service'], message: `service "${rule.service}" exists in several namespaces`, hint: 'set namespace to pick one' });
    }
    list(rule.allow).forEach((source, ai) => {
      (Array.isArray(source.principals) ? source.principals : []).forEach((p, pi) => {
        if (typeof p !== 'string' || typeof spec.trustDomain !== 'string') return;
        const domain = p.slice('spiffe://'.length).split('/')[0];
        if (p.startsWith('spiffe://') && domain !== spec.trustDomain) {
          issues.push({ path: ['policy', 'authorization', ri, 'allow', ai, 'principals', pi], message: `principal is in trust domain "${domain}", the mesh uses "${spec.trustDomain}"`, hint: `one mesh has one trust domain: spiffe://${spec.trustDomain}/ns/<namespace>/sa/<service-account>` });
        }
      });
      if (!source.principals?.length && !source.namespaces?.length && !source.serviceAccounts?.length) {
        issues.push({ path: ['policy', 'authorization', ri, 'allow', ai], message: 'an allow entry must name its callers', hint: 'set principals, namespaces or serviceAccounts' });
      }
    });
  });

  if (spec.federation?.mode === 'endpoint-discovery' && clusters.length < 2) {
    issues.push({ path: ['federation', 'mode'], message: 'endpoint-discovery needs at least two clusters', hint: 'add a cluster or use mode: service-entry' });
  }
  return issues;
}

/** Istio reads a port's protocol from its name prefix: `http`, `http-web`, `grpc-web`, … */
export function portNameMatchesProtocol(name: string, protocol: string): boolean {
  const p = protocol.toLowerCase();
  return name === p || name.startsWith(`${p}-`);
}
