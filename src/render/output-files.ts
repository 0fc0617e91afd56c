// The rendered mesh as files: a pure map from relative path to content (golden-testable), and the
// writer that puts it on disk without touching anything it did not write.
import type { KubeObject } from '../k8s/object.ts';
import { maskSecretValues, secretValueCount } from './mask-secrets.ts';
import type { RenderedCluster } from './render-mesh.ts';
import { GENERATED_HEADER, toYaml, toYamlDocuments } from './serialize.ts';

export interface OutputFile {
  content: string;
  /** 0600 for files holding key material. */
  mode: number;
  /** For a file holding Secret values: the content to show instead (values masked), and how many there are. */
  masked?: { content: string; values: number };
}

export const MARKER_FILE = '.eastwest-render';

export function renderedFiles(meshID: string, clusters: readonly RenderedCluster[]): Map<string, OutputFile> {
  const files = new Map<string, OutputFile>();
  const put = (path: string, content: string, mode = 0o644) => files.set(path, { content, mode });
  put(MARKER_FILE, `${GENERATED_HEADER}\n# This directory is written by \`eastwest render\`; it may replace what is here.\n`);
  const summary = {
    meshID,
    clusters: clusters.map((c) => ({
      name: c.cluster.name,
      context: c.cluster.context,
      network: c.cluster.network,
      releases: c.releases.map((r) => r.release),
      objects: [...c.preInstall, ...c.postInstall].length,
      pendingGatewayAddresses: c.pending.map((p) => ({ object: p.object, gatewayOf: p.gatewayOf })),
    })),
  };
  put('summary.yaml', `${GENERATED_HEADER}\n${toYaml(summary)}`);
  for (const rendered of clusters) {
    const dir = rendered.cluster.name;
    put(
      `${dir}/helm/releases.yaml`,
      toYamlDocuments(
        rendered.releases.map((r, i) => ({
          order: i + 1,
          release: r.release,
          namespace: r.namespace,
          chart: r.chart,
          valuesFile: `values/${r.release}.yaml`,
        })),
      ),
    );
    for (const release of rendered.releases) put(`${dir}/helm/values/${release.release}.yaml`, `${GENERATED_HEADER}\n${toYaml(release.values)}`);
    const objects = (list: { object: KubeObject }[]) => list.map((s) => s.object);
    putObjects(files, `${dir}/manifests/00-pre-install.yaml`, objects(rendered.preInstall), 0o600);
    putObjects(files, `${dir}/manifests/10-post-install.yaml`, objects(rendered.postInstall));
  }
  return files;
}

/** A manifest file; when it holds Secret values, with the masked content to show. */
function putObjects(files: Map<string, OutputFile>, path: string, objects: readonly KubeObject[], mode = 0o644): void {
  const values = objects.reduce((n, o) => n + secretValueCount(o), 0);
  const file: OutputFile = { content: toYamlDocuments(objects), mode };
  if (values > 0) file.masked = { content: toYamlDocuments(objects.map(maskSecretValues)), values };
  files.set(path, file);
}

/** How many Secret values `filesAsStream` masks. */
export function maskedValueCount(files: ReadonlyMap<string, OutputFile>): number {
  return [...files.values()].reduce((n, f) => n + (f.masked?.values ?? 0), 0);
}

/** All files as one stream, for `render -o -`: Secret values masked unless `includeSecrets`. */
export function filesAsStream(files: ReadonlyMap<string, OutputFile>, options: { includeSecrets?: boolean } = {}): string {
  return [...files.entries()]
    .filter(([path]) => path !== MARKER_FILE)
    .map(([path, file]) => `# ==> ${path} <==\n${options.includeSecrets || !file.masked ? file.content : file.masked.content}`)
    .join('\n');
}
