// The MCS API's CRDs (ServiceExport, ServiceImport), taken from the pinned sigs.k8s.io/mcs-api Go module
// in Go's module cache (downloaded once) — never copied into this repository.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { EastwestError } from '../core/errors.ts';
import type { KubeObject } from '../k8s/object.ts';
import { goModuleDir } from '../sources/upstream-sources.ts';

export const MCS_API_MODULE = { module: 'sigs.k8s.io/mcs-api', version: 'v0.5.2' } as const;
export const MCS_CRD_NAMES = ['serviceexports.multicluster.x-k8s.io', 'serviceimports.multicluster.x-k8s.io'] as const;
const FILES = ['multicluster.x-k8s.io_serviceexports.yaml', 'multicluster.x-k8s.io_serviceimports.yaml'];

export async function mcsCrds(): Promise<KubeObject[]> {
  let dir: string;
  try {
    dir = await goModuleDir(MCS_API_MODULE.module, MCS_API_MODULE.version);
  } catch (error) {
    throw new EastwestError('mcs-crds-unavailable', `cannot get the MCS API CRDs from ${MCS_API_MODULE.module}@${MCS_API_MODULE.version}: ${(error as Error).message.split('\n')[0]}`, {
      hint: 'eastwest reads them from Go\'s module cache: install Go (with access to a module proxy), or install the ServiceExport and ServiceImport CRDs yourself first',
      cause: error,
    });
  }
  const objects: KubeObject[] = [];
  for (const file of FILES) {
    for (const doc of parseAllDocuments(await readFile(join(dir, 'config', 'crd', file), 'utf8'))) {
      const object = doc.toJS() as KubeObject | null;
      if (object?.kind === 'CustomResourceDefinition') objects.push(object);
    }
  }
  return objects;
}
