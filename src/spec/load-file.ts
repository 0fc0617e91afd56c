// Reads a spec file from disk and decodes it. What is not a text file of a sensible size is refused
// in one line, before any parsing.
import { readFile, stat } from 'node:fs/promises';
import { InputError } from '../core/errors.ts';
import { decodeMeshSpec, type DecodedSpec } from './decode.ts';

/** A mesh spec is a few KiB; 4 MiB leaves room for thousands of exported services. */
export const MAX_SPEC_BYTES = 4 * 1024 * 1024;

const HINT = 'pass the mesh spec with -f <file>, e.g. -f examples/training-mesh.yaml';

/** Why `bytes` cannot be a spec's text, or undefined when they can (pure). */
export function notText(bytes: Buffer): string | undefined {
  if (bytes.includes(0)) return 'is not a text file (it contains NUL bytes)';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return 'is not UTF-8 text';
  }
  return undefined;
}

export async function loadMeshSpec(file: string): Promise<DecodedSpec> {
  const refuse = (message: string): never => {
    throw new InputError(`cannot use ${file}`, [{ path: '-f', message: `${file} ${message}`, hint: HINT }]);
  };
  let bytes: Buffer;
  try {
    const info = await stat(file);
    if (!info.isFile()) refuse('is not a regular file');
    if (info.size > MAX_SPEC_BYTES) refuse(`is ${(info.size / 1024 / 1024).toFixed(1)} MiB; a mesh spec is at most ${MAX_SPEC_BYTES / 1024 / 1024} MiB`);
    bytes = await readFile(file);
  } catch (error) {
    if (error instanceof InputError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    return refuse(code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(error)})`);
  }
  const why = notText(bytes);
  if (why) refuse(why);
  return decodeMeshSpec(bytes.toString('utf8'), file);
}
