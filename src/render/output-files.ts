// The rendered mesh as files: a pure map from relative path to content (golden-testable), and the
// writer that puts it on disk without touching anything it did not write.
import type { KubeObject } from '../k8s/object.ts';
import type { RenderedCluster } from './render-mesh.ts';
import { GENERATED_HEADER, toYaml, toYamlDocuments } from './serialize.ts';

export interface OutputFile {
  content: string;
  /** 0600 for files holding key material. */
  mode: number;
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
    put(`${dir}/manifests/00-pre-install.yaml`, toYamlDocuments(objects(rendered.preInstall)), 0o600);
    put(`${dir}/manifests/10-post-install.yaml`, toYamlDocuments(objects(rendered.postInstall)));
  }
  return files;
}

/** All files as one stream, for `render -o -`. */
export function filesAsStream(files: ReadonlyMap<string, OutputFile>): string {
  return [...files.entries()]
    .filter(([path]) => path !== MARKER_FILE)
    .map(([path, file]) => `# ==> ${path} <==\n${file.content}`)
    .join('\n');
}
