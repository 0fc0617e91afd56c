// The lab's image of eastwest itself (the in-cluster sync controller): this project's code as it is on
// disk (src/ in a clone, dist/ in a package), its production dependencies and the Node runtime it runs on.
// The tag is a hash of that content, so a changed project is a new image and apply rolls the pods.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAB_REGISTRY } from '../../sources/lab-images.ts';

export const EASTWEST_IMAGE_REPOSITORY = `${LAB_REGISTRY}/eastwest`;
/** Where the project sits inside the image. */
export const IMAGE_APP_DIR = 'app';

/** The project root this code runs from (a clone or an installed package). */
export function projectRoot(): string {
  return dirname(dirname(dirname(dirname(fileURLToPath(import.meta.url)))));
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** The project's own files the controller needs, relative to the project root. */
export function projectFiles(root = projectRoot()): string[] {
  const code = existsSync(join(root, 'src', 'cli', 'main.ts')) ? 'src' : 'dist';
  const files = [...filesUnder(join(root, code)), ...filesUnder(join(root, 'bin')), join(root, 'package.json'), join(root, 'lab', 'versions.json')];
  return files.filter((f) => existsSync(f)).map((f) => relative(root, f)).sort();
}

/** The image's tag: a hash of the project's files, its lock file and the Node version. */
export function eastwestImageTag(root = projectRoot(), nodeVersion = process.version): string {
  const hash = createHash('sha256').update(nodeVersion);
  for (const file of [...projectFiles(root), 'package-lock.json']) {
    const path = join(root, file);
    if (!existsSync(path)) continue;
    hash.update(`\0${file.split(sep).join('/')}\0`).update(readFileSync(path));
  }
  return hash.digest('hex').slice(0, 12);
}

export const eastwestImage = (tag = eastwestImageTag()) => `${EASTWEST_IMAGE_REPOSITORY}:${tag}`;

/**
 * The top-level directories of the production dependencies (`npm ls --omit=dev --all --parseable`
 * output, absolute paths): a nested one is copied with its parent.
 */
export function productionPackageDirs(npmLsOutput: string, root: string): string[] {
  const dirs = npmLsOutput.split('\n').map((l) => l.trim()).filter((l) => l && l !== root).map((l) => relative(root, l)).filter((l) => l.startsWith(`node_modules${sep}`)).sort();
  const kept: string[] = [];
  for (const dir of dirs) {
    if (kept.some((k) => dir.startsWith(`${k}${sep}`))) continue;
    kept.push(dir);
  }
  return kept;
}

export const nodeBinary = () => realpathSync(process.execPath);
export const isDirectory = (path: string) => statSync(path).isDirectory();
