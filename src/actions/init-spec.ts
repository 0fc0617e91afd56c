// `eastwest init`: a minimal, commented mesh spec to start from. Pure: options in, YAML text out; every
// problem with the options is collected and reported at once, naming its flag.
import { stringify } from 'yaml';
import type { z } from 'zod';
import { InputError, type Problem } from '../core/errors.ts';
import { API_VERSION, KIND, clusterSchema, meshSpecSchema } from '../spec/schema.ts';

export interface InitCluster {
  name: string;
  context: string;
  /** Default: `<name>-net`. */
  network?: string;
  /** Default: the cluster's name. */
  region?: string;
}

export interface InitOptions {
  clusters: readonly InitCluster[];
  /** Default: DEFAULT_MESH_ID. */
  meshID?: string;
  /** Default: DEFAULT_TRUST_DOMAIN (Istio's own, so identities already in use keep their names). */
  trustDomain?: string;
}

export const DEFAULT_MESH_ID = 'mesh';
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';
export const CONTEXT_FLAG = '--context';
const CONTEXT_HINT = 'write <name>=<context>[:<network>[:<region>]], e.g. --context us=prod-us-east-1 or --context us=prod-us-east-1:us-net:us-east-1';

/** The Istio version eastwest installs unless the spec says otherwise (the schema's default). */
export const defaultIstioVersion = (): string => meshSpecSchema.shape.istio.parse(undefined).version;

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * One `--context` value: `name=context`, `name=context:network` or `name=context:network:region`. A
 * context may itself hold ':' (an EKS ARN ends in `:cluster/<name>`): only trailing parts that are
 * DNS labels are read as network and region, so `us=arn:aws:eks:…:cluster/prod` keeps its context whole;
 * and a value that is itself a context of the kubeconfig (`…:6443/kube:admin`, OpenShift's) is never split.
 */
export function parseContextMapping(text: string, knownContexts: ReadonlySet<string> = new Set()): InitCluster {
  const eq = text.indexOf('=');
  const name = eq < 0 ? '' : text.slice(0, eq);
  let rest = eq < 0 ? '' : text.slice(eq + 1);
  if (!name || !rest || rest.startsWith(':') || rest.endsWith(':')) {
    throw new InputError(`bad ${CONTEXT_FLAG} ${text}`, [{ path: CONTEXT_FLAG, message: `cannot read "${text}": expected <name>=<context>`, hint: CONTEXT_HINT }]);
  }
  // A kubeconfig context (whole, or followed by :network[:region]) is taken as it is.
  for (let parts = 0, at = rest.length; parts <= 2 && at > 0; parts++, at = rest.lastIndexOf(':', at - 1)) {
    const context = rest.slice(0, at);
    const [network, region] = rest.slice(at + 1).split(':').filter(Boolean);
    if (knownContexts.has(context) && [network, region].every((p) => p === undefined || LABEL.test(p))) {
      return { name, context, ...(network ? { network } : {}), ...(region ? { region } : {}) };
    }
  }
  const tail: string[] = [];
  while (tail.length < 2) {
    const colon = rest.lastIndexOf(':');
    const part = rest.slice(colon + 1);
    if (colon <= 0 || !LABEL.test(part)) break;
    tail.unshift(part);
    rest = rest.slice(0, colon);
  }
  const [network, region] = tail;
  return { name, context: rest, ...(network ? { network } : {}), ...(region ? { region } : {}) };
}

/** Every `--context` value, or an InputError listing each one that cannot be read. */
export function parseContextMappings(values: readonly string[], knownContexts: ReadonlySet<string> = new Set()): InitCluster[] {
  const problems: Problem[] = [];
  const clusters: InitCluster[] = [];
  for (const value of values) {
    try {
      clusters.push(parseContextMapping(value, knownContexts));
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length) throw new InputError(`cannot read ${problems.length === 1 ? 'a' : problems.length} ${CONTEXT_FLAG} value${problems.length === 1 ? '' : 's'}`, problems);
  return clusters;
}

/** The options with defaults filled in; throws InputError with every problem, each naming its flag. */
export function resolveInitOptions(options: InitOptions): { meshID: string; trustDomain: string; clusters: Required<InitCluster>[] } {
  const problems: Problem[] = [];
  const check = (flag: string, schema: z.ZodType, value: string, what: string) => {
    const result = schema.safeParse(value);
    if (!result.success) problems.push({ path: flag, message: `${what} "${value}" ${result.error.issues[0]?.message ?? 'is not valid'}`, ...(flag === CONTEXT_FLAG ? { hint: CONTEXT_HINT } : {}) });
    return result.success;
  };
  const meshID = options.meshID ?? DEFAULT_MESH_ID;
  const trustDomain = options.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  check('--mesh-id', meshSpecSchema.shape.meshID, meshID, 'mesh ID');
  check('--trust-domain', meshSpecSchema.shape.trustDomain, trustDomain, 'trust domain');
  if (options.clusters.length === 0) problems.push({ path: CONTEXT_FLAG, message: 'no cluster given', hint: 'pass --context <name>=<context> once per cluster, e.g. --context us=prod-us-east-1 --context eu=prod-eu-west-1' });

  const clusters = options.clusters.map((c) => ({ name: c.name, context: c.context, network: c.network ?? `${c.name}-net`, region: c.region ?? c.name }));
  options.clusters.forEach((given, i) => {
    const c = clusters[i]!;
    const nameOk = check(CONTEXT_FLAG, clusterSchema.shape.name, c.name, 'cluster name');
    check(CONTEXT_FLAG, clusterSchema.shape.context, c.context, `context of ${c.name}`);
    // A default made from a bad name would only repeat its problem.
    if (nameOk || given.network !== undefined) check(CONTEXT_FLAG, clusterSchema.shape.network, c.network, `network of ${c.name}`);
    if (nameOk || given.region !== undefined) check(CONTEXT_FLAG, clusterSchema.shape.region, c.region, `region of ${c.name}`);
  });
  for (const field of ['name', 'context', 'network'] as const) {
    const seen = new Set<string>();
    for (const c of clusters) {
      if (seen.has(c[field])) problems.push({ path: CONTEXT_FLAG, message: `${field === 'name' ? 'cluster name' : field} "${c[field]}" is given twice`, hint: `each cluster needs its own ${field}` });
      seen.add(c[field]);
    }
  }
  if (problems.length) throw new InputError(`cannot write a mesh spec: ${problems.length} problem${problems.length === 1 ? '' : 's'} with the flags`, problems);
  return { meshID, trustDomain, clusters };
}

/** A YAML scalar as the spec would hold it (quoted only where YAML needs it). */
const scalar = (value: string): string => stringify(value, { lineWidth: 0 }).trimEnd();

/** The spec `eastwest init` writes: the required fields, each explained, and the common optional ones commented out. */
export function initSpecText(options: InitOptions): string {
  const { meshID, trustDomain, clusters } = resolveInitOptions(options);
  const names = clusters.map((c) => c.name);
  const lines = [
    '# A mesh spec written by `eastwest init`: one Istio mesh across the clusters below.',
    '# Check it with `eastwest validate -f <this file>`. Every field, its default and its meaning: the',
    '# README\'s "The spec"; what real clusters need (helm, rights, ports, the CA, sync.image): its "Real clusters".',
    `apiVersion: ${API_VERSION}`,
    `kind: ${KIND}`,
    'metadata:',
    `  name: ${scalar(meshID)}`,
    'spec:',
    '  # Istio mesh ID, the same in every cluster (global.meshID).',
    `  meshID: ${scalar(meshID)}`,
    '  # SPIFFE trust domain of every workload (meshConfig.trustDomain): identities are',
    '  # spiffe://<trustDomain>/ns/<namespace>/sa/<service-account>. Settle it before the first apply.',
    `  trustDomain: ${scalar(trustDomain)}`,
    '  istio:',
    '    # Version of the Istio Helm charts (and images), pinned here so an upgrade is a change you make.',
    `    version: ${scalar(defaultIstioVersion())}`,
    '  # The CA (`eastwest ca init`) lives in pki.directory, default .eastwest/pki beside this file.',
    '  # It holds the root key: keep it out of git and back it up (README, "Real clusters").',
    '  clusters:',
    '    # name:    the cluster\'s ID in the mesh, and the <cluster> in <svc>.<cluster>.mesh.local',
    '    # context: its kubeconfig context (`--context <name>=<context>` overrides it for one run)',
    '    # network: its Istio network, one per cluster: traffic between clusters goes through their',
    '    #          east-west gateways (port 15443)',
    '    # region:  its locality region (topology.kubernetes.io/region of its nodes), for failover',
  ];
  for (const c of clusters) {
    lines.push(
      `    - name: ${scalar(c.name)}`,
      `      context: ${scalar(c.context)}`,
      `      network: ${scalar(c.network)}`,
      `      region: ${scalar(c.region)}`,
      '      # zone: <zone>            # when the cluster sits in one zone',
      '      # eastWestGateway:',
      '      #   address: <ip-or-host> # fixed address of its east-west gateway; apply discovers it otherwise',
    );
  }
  lines.push(
    '  # Services served by some clusters and reached from all as <svc>.<cluster>.mesh.local:',
    '  # services:',
    '  #   - name: echo',
    '  #     namespace: echo',
    '  #     ports: [{ number: 80, name: http, protocol: HTTP }]',
    `  #     clusters: [${names.join(', ')}]`,
    '  # Kubernetes Multi-Cluster Services (ServiceExport) kept routed by a controller in every cluster,',
    '  # from an image of eastwest you build and push (README, "Real clusters"):',
    '  # sync:',
    '  #   inCluster: true',
    '  #   image: <registry>/eastwest:<version>',
    '',
  );
  return lines.join('\n');
}
