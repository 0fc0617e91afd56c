// Builds the lab's container images as one OCI image layout archive (base layer shared by all images)
// that containerd imports with `ctr images import`. No registry, no Docker.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Reporter } from '../../core/reporter.ts';
import { exec } from '../../util/exec.ts';
import { cachedPart, type BuiltPart } from '../cache.ts';

export interface ImageFile {
  /** Absolute path on this machine, or inline content. */
  from: string | { content: string };
  to: string;
  mode?: number;
  /** `from` is a directory, copied whole with its files' own modes. */
  tree?: boolean;
}

export interface ImageDefinition {
  name: string;
  files: ImageFile[];
  entrypoint: string[];
  cmd?: string[];
  user?: string;
  env?: Record<string, string>;
  workingDir?: string;
}

interface Blob {
  digest: string;
  size: number;
}

async function sha256File(path: string): Promise<Blob> {
  const hash = createHash('sha256');
  await new Promise<void>((resolve, reject) => createReadStream(path).on('data', (d) => hash.update(d)).on('end', () => resolve()).on('error', reject));
  return { digest: `sha256:${hash.digest('hex')}`, size: (await stat(path)).size };
}

async function addBlobFile(layout: string, path: string): Promise<Blob> {
  const blob = await sha256File(path);
  const target = join(layout, 'blobs', 'sha256', blob.digest.slice(7));
  await rename(path, target).catch(async () => copyFile(path, target));
  return blob;
}

async function addBlobJson(layout: string, value: unknown): Promise<Blob> {
  const data = Buffer.from(JSON.stringify(value));
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  await writeFile(join(layout, 'blobs', 'sha256', digest.slice(7)), data);
  return { digest, size: data.length };
}

async function appLayer(work: string, image: ImageDefinition): Promise<string> {
  const stage = await mkdtemp(join(work, 'stage-'));
  for (const file of image.files) {
    const target = join(stage, file.to);
    await mkdir(dirname(target), { recursive: true });
    if (file.tree && typeof file.from === 'string') {
      await exec('cp', ['-a', '--no-preserve=ownership', file.from, target]);
      continue;
    }
    if (typeof file.from === 'string') await copyFile(file.from, target);
    else await writeFile(target, file.from.content);
    await chmod(target, file.mode ?? 0o755);
  }
  const tar = join(work, `layer-${createHash('sha256').update(image.name).digest('hex').slice(0, 8)}.tar`);
  await exec('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', stage, '-cf', tar, '.']);
  await rm(stage, { recursive: true });
  return tar;
}

/** Writes an OCI image layout with all images and packs it as images.tar in the part directory. */
export async function buildImageArchive(baseLayerTar: string, images: ImageDefinition[], pins: unknown, reporter: Reporter, part = 'images'): Promise<BuiltPart> {
  return cachedPart(part, pins, async (dir) => {
    const work = await mkdtemp(join(tmpdir(), 'eastwest-images-'));
    try {
      const layout = join(work, 'layout');
      await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
      await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
      const baseCopy = join(work, 'base.tar');
      await copyFile(baseLayerTar, baseCopy);
      const base = await addBlobFile(layout, baseCopy);
      const manifests = [];
      for (const image of images) {
        const layer = await addBlobFile(layout, await appLayer(work, image));
        const config = await addBlobJson(layout, {
          architecture: 'amd64',
          os: 'linux',
          config: {
            Entrypoint: image.entrypoint,
            ...(image.cmd ? { Cmd: image.cmd } : {}),
            ...(image.user ? { User: image.user } : {}),
            WorkingDir: image.workingDir ?? '/',
            Env: Object.entries({ PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...image.env }).map(([k, v]) => `${k}=${v}`),
          },
          rootfs: { type: 'layers', diff_ids: [base.digest, layer.digest] },
        });
        const manifest = await addBlobJson(layout, {
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
          layers: [base, layer].map((b) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...b })),
        });
        manifests.push({
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          platform: { architecture: 'amd64', os: 'linux' },
          annotations: { 'io.containerd.image.name': image.name, 'org.opencontainers.image.ref.name': image.name.split(':').pop() },
        });
      }
      await writeFile(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
      await exec('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '-C', layout, '-cf', join(dir, 'images.tar'), '.'], { timeoutMs: 10 * 60_000 });
      await writeFile(join(dir, 'images.json'), `${JSON.stringify(images.map((i) => i.name), null, 2)}\n`);
      // Each image's manifest digest: a running lab reloads an image whose name it has but whose content changed.
      await writeFile(join(dir, IMAGE_DIGESTS_FILE), `${JSON.stringify(Object.fromEntries(manifests.map((m) => [m.annotations['io.containerd.image.name'], m.digest])), null, 2)}\n`);
      reporter.report({ level: 'info', code: 'images', message: `images: ${images.map((i) => i.name).join(', ')}` });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }, reporter);
}

/** Beside an images archive: `{ name: manifest digest }`. */
export const IMAGE_DIGESTS_FILE = 'digests.json';

/** The manifest digests of an archive's images, when its build recorded them (older builds did not). */
export function readImageDigests(archive: string): Record<string, string> | undefined {
  const file = join(dirname(archive), IMAGE_DIGESTS_FILE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : undefined;
}

export async function readImageNames(dir: string): Promise<string[]> {
  return JSON.parse(await readFile(join(dir, 'images.json'), 'utf8')) as string[];
}
