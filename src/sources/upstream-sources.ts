// Upstream files (Istio charts and CRDs) come from the pinned istio.io/istio Go module, downloaded
// into Go's module cache by `go mod download` — never copied into this repository.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../k8s/object.ts';
import { exec } from '../util/exec.ts';
import { readLabVersions } from './lab-versions.ts';

const downloaded = new Map<string, Promise<string>>();

/** Directory of a Go module in the module cache, downloading it once if needed. */
export function goModuleDir(module: string, version: string): Promise<string> {
  const key = `${module}@${version}`;
  let dir = downloaded.get(key);
  if (!dir) {
    dir = exec('go', ['mod', 'download', '-json', key], { timeoutMs: 30 * 60_000 }).then((r) => (JSON.parse(r.stdout) as { Dir: string }).Dir);
    downloaded.set(key, dir);
  }
  return dir;
}

export async function istioModuleDir(): Promise<string> {
  const { istio } = readLabVersions();
  return goModuleDir(istio.module, istio.version);
}

export async function istioChartsDir(): Promise<string> {
  return join(await istioModuleDir(), 'manifests', 'charts');
}

export async function istioCrdFile(): Promise<string> {
  return join(await istioChartsDir(), 'base', 'files', 'crd-all.gen.yaml');
}

/** The objects of one of Istio's addon manifests (samples/addons/<name>.yaml) in the pinned module. */
export async function istioAddonObjects(name: 'prometheus' | 'kiali'): Promise<KubeObject[]> {
  const text = await readFile(join(await istioModuleDir(), 'samples', 'addons', `${name}.yaml`), 'utf8');
  return parseAllDocuments(text).map((d) => d.toJS() as KubeObject | null).filter((o): o is KubeObject => o !== null && typeof o === 'object' && 'kind' in o);
}

/** Istio's Grafana dashboards for sidecar-mode meshes (manifests/addons/dashboards, ztunnel's left out). */
export async function istioDashboards(): Promise<Map<string, string>> {
  const dir = join(await istioModuleDir(), 'manifests', 'addons', 'dashboards');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json') && !f.startsWith('jsonnetfile') && !f.startsWith('ztunnel')).sort();
  // One line each: a ConfigMap holds it as it is, a little smaller.
  return new Map(await Promise.all(files.map(async (f) => [f, JSON.stringify(JSON.parse(await readFile(join(dir, f), 'utf8')))] as [string, string])));
}
