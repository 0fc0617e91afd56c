// The README's table of spec fields, generated from the zod schema (through its JSON Schema, input side:
// a defaulted field is optional): full dotted paths, whether each is required or its default, its type
// and its description. `npm run docs` writes it between two markers in README.md; a unit test keeps it current.
import { stringify } from 'yaml';
import { meshJsonSchema } from './json-schema.ts';

type JsonSchema = {
  type?: string;
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  propertyNames?: JsonSchema;
  additionalProperties?: unknown;
  default?: unknown;
  description?: string;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
};

export interface FieldRow {
  path: string;
  required: string;
  type: string;
  description: string;
}

export const FIELD_TABLE_START = '<!-- field-table: generated from src/spec/schema.ts by `npm run docs`; edit the schema, not the table -->';
export const FIELD_TABLE_END = '<!-- /field-table -->';

/**
 * What the table says of fields the schema does not describe (yet). A description in the schema wins, and
 * a test fails on a note it makes redundant or whose field is gone, so these only ever fill gaps.
 */
export const FIELD_NOTES: Record<string, string> = {
  apiVersion: 'The spec\'s version.',
  kind: 'Always `Mesh`.',
  'metadata.name': 'Name of this document, for people; eastwest knows the mesh by `spec.meshID`.',
  'spec.meshID': 'Istio mesh ID, the same in every cluster (`global.meshID`).',
  'spec.trustDomain': 'SPIFFE trust domain, rendered as `meshConfig.trustDomain`: identities are `spiffe://<trustDomain>/ns/<ns>/sa/<sa>`.',
  'spec.istio.version': 'Istio chart version (and image tag unless `istio.tag`).',
  'spec.istio.charts': 'Where the Istio charts come from: exactly one of `repo`, `oci` or `directory`.',
  'spec.pki.keyAlgorithm': 'Key algorithm of the root and intermediate CAs.',
  'spec.pki.rootValidityDays': 'Days the root CA is valid.',
  'spec.pki.intermediateValidityDays': 'Days each cluster\'s intermediate CA is valid.',
  'spec.clusters': 'The clusters of the mesh; names, networks and contexts unique.',
  'spec.eastWestGateway.serviceType': 'Service type of every east-west gateway. apply discovers a LoadBalancer\'s address (or external IPs); otherwise set each cluster\'s `eastWestGateway.address`.',
  'spec.federation.mode': '`service-entry`: `<svc>.<cluster>.mesh.local` through the remote gateways; `endpoint-discovery`: remote secrets, multi-primary (needs two clusters).',
  'spec.services': 'Exported services.',
  'spec.services[].name': 'Service name.',
  'spec.services[].namespace': 'Its namespace, the same in every serving cluster.',
  'spec.services[].ports': 'Its ports.',
  'spec.services[].ports[].number': 'Service port.',
  'spec.services[].ports[].protocol': 'Istio protocol of the port.',
  'spec.services[].ports[].targetPort': 'Container port, when it differs.',
  'spec.policy.mtls': 'Mesh-wide PeerAuthentication mode.',
  'spec.policy.authorization': 'Allow rules for exported services (AuthorizationPolicies by SPIFFE identity).',
  'spec.policy.authorization[].service': 'An exported service (`spec.services[].name`).',
  'spec.policy.authorization[].allow': 'Who may call it: each entry names its callers.',
  'spec.policy.authorization[].allow[].principals': 'SPIFFE IDs in the mesh\'s trust domain.',
  'spec.policy.authorization[].allow[].namespaces': 'Calling namespaces.',
  'spec.policy.authorization[].allow[].methods': 'HTTP methods allowed (all when absent).',
  'spec.policy.authorization[].allow[].paths': 'HTTP paths allowed (all when absent).',
  'spec.observability.scrapeInterval': 'Prometheus scrape interval.',
  'spec.observability.retention': 'Prometheus retention.',
  'spec.observability.charts.kubePrometheusStack.version': 'Pinned chart version.',
  'spec.observability.charts.kiali.version': 'Pinned chart version.',
  'spec.demo.enabled': 'The demo: `echo` in every cluster, answering with its region, and a `client` (what `verify` uses).',
  'spec.helmValues.base': 'Values merged over eastwest\'s for `istio/base`.',
  'spec.helmValues.istiod': 'Values merged over eastwest\'s for `istio/istiod`.',
  'spec.helmValues.gateway': 'Values merged over eastwest\'s for `istio/gateway` (the east-west gateway).',
  'spec.helmValues.kubePrometheusStack': 'Values merged over eastwest\'s for `kube-prometheus-stack` (real clusters).',
  'spec.helmValues.kiali': 'Values merged over eastwest\'s for `kiali-server` (real clusters).',
};

/** Fields required only in some specs (cross-field rules of the schema). */
const REQUIRED_WHEN: Record<string, string> = {
  'spec.sync.image': 'with `sync.inCluster: true` and profile `standard`',
};

/** Lists shown as one row: objects passed through as written. */
const COLLAPSED = new Set(['spec.policy.objects']);

const LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

const code = (value: unknown): string => `\`${typeof value === 'string' ? value : stringify(value, { collectionStyle: 'flow', lineWidth: 0 }).trim()}\``;
const isEmptyObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;

function typeOf(node: JsonSchema): string {
  if (node.const !== undefined) return code(node.const);
  if (node.enum) return node.enum.map(code).join(' \\| ');
  if (node.anyOf) return node.anyOf.map(typeOf).join(' \\| ');
  switch (node.type) {
    case 'string':
      if (node.pattern === LABEL_PATTERN) return 'DNS label';
      if (node.pattern === NAME_PATTERN) return 'DNS name';
      if (node.format === 'uri') return 'URL';
      if (node.pattern?.startsWith('^oci:')) return '`oci://…`';
      return 'string';
    case 'integer':
    case 'number': {
      const kind = node.type === 'integer' ? 'integer' : 'number';
      if (node.minimum !== undefined && node.maximum !== undefined && node.maximum < Number.MAX_SAFE_INTEGER) return `${kind} ${node.minimum}–${node.maximum}`;
      if (node.minimum !== undefined) return `${kind} ≥ ${node.minimum}`;
      return kind;
    }
    case 'boolean':
      return 'boolean';
    case 'array': {
      const items = node.items ?? {};
      const inner = items.type === 'object' ? 'objects' : typeOf(items);
      return `list of ${inner}${node.minItems ? ` (≥ ${node.minItems})` : ''}`;
    }
    case 'object':
      return node.properties ? 'object' : 'map';
    default:
      return 'any';
  }
}

/** One row per field a user writes: scalars, lists and maps, and objects that are described or defaulted. */
export function fieldRows(schema: JsonSchema = meshJsonSchema() as JsonSchema): FieldRow[] {
  const rows: FieldRow[] = [];
  // `optionalParent`: the nearest enclosing object that may be left out (and has no default), if any.
  const visit = (node: JsonSchema, path: string, required: boolean, optionalParent?: string) => {
    const isObject = node.type === 'object' && node.properties !== undefined;
    const items = node.type === 'array' ? node.items : undefined;
    const listOfObjects = items?.type === 'object' && items.properties !== undefined;
    const collapsed = COLLAPSED.has(path);
    const shown = !isObject || node.description !== undefined || (node.default !== undefined && !isEmptyObject(node.default));
    if (shown) {
      const hasDefault = node.default !== undefined && !isEmptyObject(node.default);
      const when = REQUIRED_WHEN[path];
      const req = required ? (optionalParent ? `yes, if \`${optionalParent}\` is given` : 'yes') : `no${hasDefault ? `, default ${code(node.default)}` : ''}${when ? `; yes ${when}` : ''}`;
      let type = typeOf(node);
      if (collapsed && items?.properties) type = `list of objects (${Object.keys(items.properties).map(code).join(', ')})`;
      rows.push({ path, required: req, type, description: node.description ?? FIELD_NOTES[path] ?? '' });
    }
    if (isObject) {
      const parent = path && !required && node.default === undefined ? path : optionalParent;
      for (const [key, child] of Object.entries(node.properties!)) visit(child, path ? `${path}.${key}` : key, (node.required ?? []).includes(key), parent);
    } else if (listOfObjects && !collapsed) {
      // Inside a list item, "required" means in each item; the list itself has its own row.
      for (const [key, child] of Object.entries(items.properties!)) visit(child, `${path}[].${key}`, (items.required ?? []).includes(key));
    }
  };
  visit(schema, '', true);
  return rows.filter((r) => r.path !== '');
}

/** Text for a Markdown table cell: pipes escaped, `<placeholders>` in code spans (else HTML would eat them). */
export function markdownCell(text: string): string {
  return text
    .split('`')
    .map((part, i) => {
      if (i % 2 === 1) return part.replaceAll('|', '\\|');
      return part
        .replaceAll('|', '\\|')
        .replaceAll('*', '\\*')
        .replace(/[^\s`]*<[^\s>]+>[^\s`]*/g, (token) => {
          const trail = /[.,;:)]+$/.exec(token)?.[0] ?? '';
          return `\`${token.slice(0, token.length - trail.length)}\`${trail}`;
        });
    })
    .join('`');
}

/** The Markdown table. */
export function fieldTable(rows: FieldRow[] = fieldRows()): string {
  const lines = ['| field | required | type | description |', '|---|---|---|---|'];
  for (const row of rows) lines.push(`| \`${row.path}\` | ${row.required} | ${row.type} | ${markdownCell(row.description)} |`);
  return `${lines.join('\n')}\n`;
}

/** README text with the table between the markers replaced; throws when the markers are missing. */
export function replaceFieldTable(readme: string, table: string = fieldTable()): string {
  const start = readme.indexOf(FIELD_TABLE_START);
  const end = readme.indexOf(FIELD_TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md has no field-table markers (${FIELD_TABLE_START} … ${FIELD_TABLE_END})`);
  return `${readme.slice(0, start + FIELD_TABLE_START.length)}\n${table}${readme.slice(end)}`;
}

/** The table as README.md holds it now (between the markers), or undefined. */
export function currentFieldTable(readme: string): string | undefined {
  const start = readme.indexOf(FIELD_TABLE_START);
  const end = readme.indexOf(FIELD_TABLE_END);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + FIELD_TABLE_START.length + 1, end);
}
