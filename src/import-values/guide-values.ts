// Reads a Helm values file written for the guide's `helm install istiod` and maps it to a mesh spec:
// what the spec models goes to its fields, every other setting the istiod chart reads is carried into
// spec.helmValues.istiod, and every setting left behind is listed with its place and why — nothing is
// dropped silently. Warns about the guide's errata. Pure: text in, spec object and located notes out.
import { LineCounter, parseDocument } from 'yaml';
import { InputError, type Problem } from '../core/errors.ts';
import { API_VERSION, KIND } from '../spec/schema.ts';
import { placeOf } from '../spec/yaml-positions.ts';
import { closest } from '../util/closest.ts';
import { isPlainObject } from '../util/deep-merge.ts';
import { ISTIOD_GLOBAL_VALUES, ISTIOD_RESERVED_VALUES, ISTIOD_VALUES } from './istiod-chart-values.ts';

export interface ClusterMapping {
  name: string;
  context: string;
  network: string;
  region: string;
}

/** A setting of the values file and where it went in the spec. */
export interface MovedSetting {
  path: string;
  to: string;
}

export interface ImportedValues {
  document: Record<string, unknown>;
  /** Errata and changes of place: the setting is used, but not as written. */
  warnings: Problem[];
  /** Settings that became fields of the spec (global.meshID → spec.meshID, …). */
  mapped: MovedSetting[];
  /** Every setting passed on to the istiod chart in spec.helmValues.istiod, leaf by leaf. */
  carried: MovedSetting[];
  /** Every setting not carried: its place, why (message) and what to do (hint). */
  notCarried: Problem[];
}

const KNOWN_NONEXISTENT_ENV = new Map<string, string>([
  ['PILOT_ENABLE_MULTINETWORK', 'does not exist in istiod and never did: multi-network turns on by itself once istiod knows a network gateway (the east-west gateway Service labelled with its network)'],
]);

const HELM_VALUES = 'spec.helmValues.istiod';

type Path = (string | number)[];

export function importGuideValues(text: string, file: string, clusters: readonly ClusterMapping[]): ImportedValues {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: true });
  if (doc.errors.length) {
    throw new InputError(`${file}: not valid YAML`, doc.errors.map((e) => ({ file, line: e.linePos?.[0].line ?? 1, col: e.linePos?.[0].col ?? 1, path: '', message: `YAML: ${e.message.split('\n')[0]}` })));
  }
  const parsed: unknown = doc.toJS() ?? {};
  if (!isPlainObject(parsed)) throw new InputError(`${file}: not a values file`, [{ file, line: 1, col: 1, path: '', message: 'a Helm values file is a map of settings', hint: 'pass the values file of `helm install istiod`' }]);
  const values = parsed;

  const warnings: Problem[] = [];
  const notCarried: Problem[] = [];
  const mapped: MovedSetting[] = [];
  const note = (list: Problem[]) => (path: Path, message: string, hint: string) => {
    const { exact: _exact, ...place } = placeOf(doc, counter, path, true);
    list.push({ file, ...place, path: path.join('.'), message, hint });
  };
  const warn = note(warnings);
  const skip = note(notCarried);
  const unknown = (path: Path, known: readonly string[], message: string) => {
    const suggestion = closest(String(path.at(-1)), known);
    skip(path, message, suggestion ? `did you mean "${suggestion}"?` : 'see `helm show values istio/istiod` for what it reads');
  };
  const notAMap = (path: Path) => skip(path, `${path.join('.')} must be a map of settings`, 'write it as a YAML map');

  // What goes to the istiod chart, in the values file's own shape.
  const carry: Record<string, unknown> = {};
  const spec: { meshID?: unknown; trustDomain?: unknown; hub?: string; tag?: string } = {};

  for (const [key, value] of Object.entries(values)) {
    if (key === 'pilot' || key === 'global' || key === 'meshConfig') continue; // below
    if (key in ISTIOD_RESERVED_VALUES) skip([key], ISTIOD_RESERVED_VALUES[key]!, 'move the settings in it to the top level of the values file');
    else if (!ISTIOD_VALUES.includes(key)) unknown([key], ISTIOD_VALUES, `the istiod chart has no value ${key}`);
    else if (key !== 'env' || !isPlainObject(value)) carry[key] = value;
    else {
      const env = envWithoutErrata(value, ['env'], skip);
      if (Object.keys(env).length) carry.env = env;
    }
  }

  const global = values.global;
  if (global !== undefined && !isPlainObject(global)) notAMap(['global']);
  const carriedGlobal: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(isPlainObject(global) ? global : {})) {
    const path = ['global', key];
    if (key === 'meshID') {
      spec.meshID = value;
      mapped.push({ path: 'global.meshID', to: 'spec.meshID' });
    } else if (key === 'trustDomain') {
      warn(path, 'global.trustDomain is not an istiod chart value: Istio ignores it and keeps the default trust domain cluster.local', 'the trust domain belongs in meshConfig.trustDomain; eastwest renders it there');
    } else if (key === 'network') {
      skip(path, clusters.length > 1 ? `global.network "${String(value)}" is per cluster; one values file cannot hold it for all clusters` : `global.network is per cluster: eastwest sets it from spec.clusters[].network (--cluster)`, 'eastwest renders global.network per cluster from spec.clusters[].network');
    } else if ((key === 'hub' || key === 'tag') && (typeof value === 'string' || typeof value === 'number') && String(value) !== '') {
      spec[key] = String(value);
      mapped.push({ path: `global.${key}`, to: `spec.istio.${key}` });
    } else if (key === 'multiCluster' && isPlainObject(value)) {
      const { clusterName, ...rest } = value;
      if (clusterName !== undefined) skip([...path, 'clusterName'], 'the cluster name is per cluster: eastwest sets it to spec.clusters[].name', 'name the clusters with --cluster name=context:network');
      if (Object.keys(rest).length) carriedGlobal.multiCluster = rest;
    } else if (!ISTIOD_GLOBAL_VALUES.includes(key)) unknown(path, ISTIOD_GLOBAL_VALUES, `the istiod chart has no value global.${key}`);
    else carriedGlobal[key] = value;
  }
  if (Object.keys(carriedGlobal).length) carry.global = carriedGlobal;

  const meshConfig = values.meshConfig;
  if (meshConfig !== undefined && !isPlainObject(meshConfig)) notAMap(['meshConfig']);
  if (isPlainObject(meshConfig)) {
    const { trustDomain, ...rest } = meshConfig;
    if (trustDomain !== undefined) {
      spec.trustDomain = trustDomain;
      mapped.push({ path: 'meshConfig.trustDomain', to: 'spec.trustDomain' });
    }
    if (Object.keys(rest).length) carry.meshConfig = rest;
  }
  if (isPlainObject(global) && global.trustDomain !== undefined) {
    if (spec.trustDomain === undefined) {
      spec.trustDomain = global.trustDomain;
      mapped.push({ path: 'global.trustDomain', to: 'spec.trustDomain' });
    } else skip(['global', 'trustDomain'], 'meshConfig.trustDomain is the trust domain used', 'drop global.trustDomain');
  }

  // The guide's `pilot:` section is the istiod chart's old shape: its settings are now read at the top level.
  const pilot = values.pilot;
  if (pilot !== undefined && !isPlainObject(pilot)) notAMap(['pilot']);
  for (const [key, value] of Object.entries(isPlainObject(pilot) ? pilot : {})) {
    const path = ['pilot', key];
    const moved = key === 'env' && isPlainObject(value) ? envWithoutErrata(value, path, skip) : value;
    if (!ISTIOD_VALUES.includes(key) || key === 'global' || key === 'meshConfig') {
      unknown(path, ISTIOD_VALUES, `the istiod chart reads no pilot section, and no ${key} at the top level either`);
    } else if (key in carry && !(isPlainObject(carry[key]) && isPlainObject(moved))) {
      skip(path, `${key} is also set at the top level, which the istiod chart reads`, `merge pilot.${key} into ${key}`);
    } else {
      if (isPlainObject(moved) && Object.keys(moved).length === 0 && key === 'env') continue; // only errata in it
      // The top level wins where both set the same key, as it is the one the chart reads.
      carry[key] = isPlainObject(carry[key]) && isPlainObject(moved) ? { ...moved, ...carry[key] } : moved;
      warn(path, `the istiod chart reads no pilot section: pilot.${key} would be ignored`, `carried as ${HELM_VALUES}.${key}`);
    }
  }

  const problems: Problem[] = [];
  if (typeof spec.meshID !== 'string') problems.push({ file, line: 1, col: 1, path: 'global.meshID', message: 'the values file has no global.meshID', hint: 'the guide sets global.meshID: training-mesh' });
  if (typeof spec.trustDomain !== 'string') problems.push({ file, line: 1, col: 1, path: 'meshConfig.trustDomain', message: 'the values file sets no trust domain', hint: 'set meshConfig.trustDomain (e.g. corp.local)' });
  if (clusters.length === 0) problems.push({ path: '--cluster', message: 'no cluster given', hint: 'pass --cluster us=prod-us-east-1:us-net:us for each cluster' });
  if (problems.length) throw new InputError(`${file}: cannot make a mesh spec from it`, problems);

  const istio = { ...(spec.hub ? { hub: spec.hub } : {}), ...(spec.tag ? { tag: spec.tag } : {}) };
  const carried = leaves(carry).map((path) => ({ path, to: `${HELM_VALUES}.${path}` }));
  const byPlace = (a: Problem, b: Problem) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0);
  return {
    document: {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: { name: spec.meshID },
      spec: {
        meshID: spec.meshID,
        trustDomain: spec.trustDomain,
        ...(Object.keys(istio).length ? { istio } : {}),
        clusters: clusters.map((c) => ({ name: c.name, context: c.context, network: c.network, region: c.region })),
        eastWestGateway: { serviceType: 'LoadBalancer' },
        federation: { mode: 'service-entry' },
        services: [],
        ...(Object.keys(carry).length ? { helmValues: { istiod: carry } } : {}),
      },
    },
    warnings: warnings.sort(byPlace),
    mapped,
    carried,
    notCarried: notCarried.sort(byPlace),
  };
}

/** An `env` map without the variables istiod does not have (each one listed as not carried). */
function envWithoutErrata(env: Record<string, unknown>, path: Path, skip: (path: Path, message: string, hint: string) => void): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(env)) {
    const why = KNOWN_NONEXISTENT_ENV.get(name);
    if (why) skip([...path, name], `${name} ${why}`, 'drop it; eastwest does not render it');
    else kept[name] = value;
  }
  return kept;
}

/** Dotted paths of the leaves of a values map (lists and empty maps are leaves). */
function leaves(values: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(values).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return isPlainObject(value) && Object.keys(value).length ? leaves(value, path) : [path];
  });
}

/** Parses `--cluster name=context:network[:region]`. */
export function parseClusterMapping(text: string): ClusterMapping {
  const match = /^([a-z0-9-]+)=([^:]+):([a-z0-9-]+)(?::(.+))?$/.exec(text);
  if (!match) {
    throw new InputError(`bad --cluster ${text}`, [{ path: '--cluster', message: `cannot read "${text}"`, hint: 'write name=context:network[:region], e.g. us=prod-us-east-1:us-net:us' }]);
  }
  const [, name, context, network, region] = match;
  return { name: name!, context: context!, network: network!, region: region ?? name! };
}
