// Writes rendered files into a directory. Refuses a non-empty directory it did not write before; in one
// it did write, it replaces its own previous output, so removed clusters do not linger.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rm, writeFile, chmod, access, rename } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { InputError } from '../core/errors.ts';
import { MARKER_FILE, type OutputFile } from './output-files.ts';

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export async function writeOutputDirectory(directory: string, files: ReadonlyMap<string, OutputFile>): Promise<string[]> {
  const target = resolve(directory);
  if (await exists(target)) {
    const entries = await readdir(target);
    if (entries.length > 0 && !entries.includes(MARKER_FILE)) {
      throw new InputError(`${directory} is not empty and was not written by eastwest`, [
        { path: '-o', message: `refusing to write into ${directory}`, hint: 'choose an empty or new directory' },
      ]);
    }
  }
  // Build the whole output beside the target, then swap it in: a failure leaves the old output whole.
  const staging = `${target}.eastwest-tmp-${randomUUID().slice(0, 8)}`;
  await rm(staging, { recursive: true, force: true });
  const written: string[] = [];
  for (const [path, file] of [...files.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const full = join(staging, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, file.content, { mode: file.mode });
    await chmod(full, file.mode);
    written.push(join(directory, path));
  }
  if (await exists(target)) await rm(target, { recursive: true });
  await rename(staging, target);
  return written;
}
