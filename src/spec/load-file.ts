// Reads a spec file from disk and decodes it.
import { readFile } from 'node:fs/promises';
import { InputError } from '../core/errors.ts';
import { decodeMeshSpec, type DecodedSpec } from './decode.ts';

export async function loadMeshSpec(file: string): Promise<DecodedSpec> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read ${file}`, [
      { path: '-f', message: code === 'ENOENT' ? `${file} does not exist` : `cannot read ${file}: ${code ?? String(error)}`, hint: 'pass the mesh spec with -f <file>, e.g. -f examples/training-mesh.yaml' },
    ]);
  }
  return decodeMeshSpec(text, file);
}
