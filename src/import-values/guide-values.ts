// Reads a Helm values file written for the guide's `helm install istiod` and maps it to a mesh spec,
// warning about the guide's errata. Pure: text in, spec object and located warnings out.
import { LineCounter, parseDocument } from 'yaml';
import { InputError, type Problem } from '../core/errors.ts';
import { API_VERSION, KIND } from '../spec/schema.ts';
import { placeOf } from '../spec/yaml-positions.ts';

export interface ClusterMapping {
  name: string;
  context: string;
  network: string;
  region: string;
}

export interface ImportedValues {
  document: Record<string, unknown>;
  warnings: Problem[];
}

const KNOWN_NONEXISTENT_ENV = new Map<string, string>([
  ['PILOT_ENABLE_MULTINETWORK', 'does not exist in istiod and never did: multi-network turns on by itself once istiod knows a network gateway (the east-west gateway Service labelled with its network)'],
]);

export function importGuideValues(text: string, file: string, clusters: readonly ClusterMapping[]): ImportedValues {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: true });
  if (doc.errors.length) {
    throw new InputError(`${file}: not valid YAML`, doc.errors.map((e) => ({ file, line: e.linePos?.[0].line ?? 1, col: e.linePos?.[0].col ?? 1, path: '', message: `YAML: ${e.message.split('\n')[0]}` })));
  }
  const values = (doc.toJS() ?? {}) as Record<string, any>;
  const warnings: Problem[] = [];
  const at = (path: (string | number)[]) => ({ file, ...placeOf(doc, counter, path, true) });
  const warn = (path: (string | number)[], message: string, hint: string) => {
    const { exact: _exact, ...place } = at(path);
    warnings.push({ ...place, path: path.join('.'), message, hint });
  };

  const meshID = values.global?.meshID;
  let trustDomain = values.meshConfig?.trustDomain;
  if (values.global?.trustDomain !== undefined) {
    warn(['global', 'trustDomain'], 'global.trustDomain is not an istiod chart value: Istio ignores it and keeps the default trust domain cluster.local', 'the trust domain belongs in meshConfig.trustDomain; eastwest renders it there');
    trustDomain ??= values.global.trustDomain;
  }
  for (const section of ['pilot', undefined] as const) {
    const env = (section ? values[section]?.env : values.env) ?? {};
    for (const name of Object.keys(env)) {
      const why = KNOWN_NONEXISTENT_ENV.get(name);
      if (why) warn([...(section ? [section] : []), 'env', name], `${name} ${why}`, 'drop it; eastwest does not render it');
    }
  }
  const valuesNetwork = values.global?.network;
  if (valuesNetwork !== undefined && clusters.length > 1) {
    warn(['global', 'network'], `global.network "${valuesNetwork}" is per cluster; one values file cannot hold it for all clusters`, 'eastwest renders global.network per cluster from spec.clusters[].network');
  }
  const problems: Problem[] = [];
  if (typeof meshID !== 'string') problems.push({ file, line: 1, col: 1, path: 'global.meshID', message: 'the values file has no global.meshID', hint: 'the guide sets global.meshID: training-mesh' });
  if (typeof trustDomain !== 'string') problems.push({ file, line: 1, col: 1, path: 'meshConfig.trustDomain', message: 'the values file sets no trust domain', hint: 'set meshConfig.trustDomain (e.g. corp.local)' });
  if (clusters.length === 0) problems.push({ path: '--cluster', message: 'no cluster given', hint: 'pass --cluster us=prod-us-east-1:us-net:us for each cluster' });
  if (problems.length) throw new InputError(`${file}: cannot make a mesh spec from it`, problems);

  return {
    document: {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: { name: meshID },
      spec: {
        meshID,
        trustDomain,
        clusters: clusters.map((c) => ({ name: c.name, context: c.context, network: c.network, region: c.region })),
        eastWestGateway: { serviceType: 'LoadBalancer' },
        federation: { mode: 'service-entry' },
        services: [],
      },
    },
    warnings,
  };
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
