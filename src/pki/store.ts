// The CA directory: root and per-cluster intermediates on disk, keys 0600, kept unless rotation is asked.
import { createPrivateKey } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createIntermediateCa, createRootCa, isSignedBy, istioCacerts, type CaMaterial, type IstioCacerts, type KeyAlgorithm } from './ca.ts';
import { EastwestError, EXIT } from '../core/errors.ts';
import type { LocalCa } from './trust-plan.ts';

export type Rotation = 'none' | 'intermediates' | 'all';

export interface PkiOptions {
  directory: string;
  clusters: readonly string[];
  keyAlgorithm: KeyAlgorithm;
  rootValidityDays: number;
  intermediateValidityDays: number;
  organization: string;
  rotate?: Rotation;
}

export interface PkiChange {
  what: 'root' | `intermediate/${string}`;
  action: 'created' | 'kept' | 'rotated';
  reason?: string;
}

/** What rendering needs: public root and per-cluster cacerts (a cluster without is rendered without). The root key is not part of it. */
export interface PkiBundle {
  rootCertPem?: string;
  cacerts: ReadonlyMap<string, IstioCacerts>;
}

const ROOT_CERT = 'root-cert.pem';
const ROOT_KEY = 'root-key.pem';
const clusterDir = (dir: string, cluster: string) => join(dir, 'clusters', cluster);

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function writeKeyFile(path: string, pem: string): Promise<void> {
  await writeFile(path, pem, { mode: 0o600 });
  await chmod(path, 0o600); // writeFile's mode applies only to new files
}

export function algorithmOfKey(pem: string): KeyAlgorithm {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType === 'rsa') return 'RSA-4096';
  if (key.asymmetricKeyType === 'ec') return 'ECDSA-P256';
  throw new EastwestError('pki-key-type', `unsupported CA key type ${key.asymmetricKeyType}`, { exitCode: EXIT.badInput, hint: 'eastwest makes RSA-4096 or ECDSA-P256 keys: move the CA directory aside and run `eastwest ca init` again' });
}

/** Reads the CA directory as it is, creating nothing; undefined when it holds no CA at all. */
export async function readPki(directory: string, clusters: readonly string[]): Promise<LocalCa | undefined> {
  const rootCertPem = await readIfExists(join(directory, ROOT_CERT));
  const rootKeyPem = await readIfExists(join(directory, ROOT_KEY));
  const intermediates = new Map<string, CaMaterial>();
  for (const cluster of clusters) {
    const certPem = await readIfExists(join(clusterDir(directory, cluster), 'ca-cert.pem'));
    const keyPem = await readIfExists(join(clusterDir(directory, cluster), 'ca-key.pem'));
    if (certPem !== undefined && keyPem !== undefined) intermediates.set(cluster, { certPem, keyPem });
  }
  if (rootCertPem === undefined && rootKeyPem === undefined && intermediates.size === 0) return undefined;
  return { directory, intermediates, ...(rootCertPem !== undefined ? { rootCertPem } : {}), ...(rootKeyPem !== undefined ? { rootKeyPem } : {}) };
}

/** A file about to be replaced is kept beside it (`<name>.replaced-<time>`): no key is ever overwritten. */
async function moveAside(path: string, stamp: string): Promise<void> {
  try {
    await rename(path, `${path}.replaced-${stamp}`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
const stampNow = () => new Date().toISOString().replace(/[:.]/g, '-');

/** Writes one cluster's new intermediate into the CA directory (key 0600); what it replaces is kept aside. */
export async function writeIntermediate(directory: string, cluster: string, material: CaMaterial): Promise<void> {
  const dir = clusterDir(directory, cluster);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const stamp = stampNow();
  for (const f of ['ca-cert.pem', 'ca-key.pem']) await moveAside(join(dir, f), stamp);
  await writeFile(join(dir, 'ca-cert.pem'), material.certPem);
  await writeKeyFile(join(dir, 'ca-key.pem'), material.keyPem);
}

/** Writes a new root into the CA directory (key 0600); what it replaces is kept aside. */
export async function writeRoot(directory: string, material: CaMaterial): Promise<void> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const stamp = stampNow();
  for (const f of [ROOT_CERT, ROOT_KEY]) await moveAside(join(directory, f), stamp);
  await writeFile(join(directory, ROOT_CERT), material.certPem);
  await writeKeyFile(join(directory, ROOT_KEY), material.keyPem);
}

/** Creates what is missing, keeps what is there and still valid, rotates on request. */
export async function ensurePki(options: PkiOptions): Promise<{ bundle: PkiBundle & { rootCertPem: string }; changes: PkiChange[] }> {
  const rotate = options.rotate ?? 'none';
  const changes: PkiChange[] = [];
  await mkdir(options.directory, { recursive: true, mode: 0o700 });

  let rootCertPem = await readIfExists(join(options.directory, ROOT_CERT));
  let rootKeyPem = await readIfExists(join(options.directory, ROOT_KEY));
  let rootChanged = false;
  if (rootCertPem === undefined || rootKeyPem === undefined || rotate === 'all') {
    const root = await createRootCa({ keyAlgorithm: options.keyAlgorithm, validityDays: options.rootValidityDays, organization: options.organization });
    await writeRoot(options.directory, root);
    changes.push({ what: 'root', action: rootCertPem === undefined ? 'created' : 'rotated' });
    rootCertPem = root.certPem;
    rootKeyPem = root.keyPem;
    rootChanged = true;
  } else {
    changes.push({ what: 'root', action: 'kept' });
  }
  const root: CaMaterial = { certPem: rootCertPem, keyPem: rootKeyPem };
  const rootAlgorithm = algorithmOfKey(rootKeyPem);

  const cacerts = new Map<string, IstioCacerts>();
  for (const cluster of [...options.clusters].sort()) {
    const dir = clusterDir(options.directory, cluster);
    const certPath = join(dir, 'ca-cert.pem');
    const keyPath = join(dir, 'ca-key.pem');
    let intermediate: CaMaterial | undefined;
    const certPem = await readIfExists(certPath);
    const keyPem = await readIfExists(keyPath);
    let reason: string | undefined;
    if (certPem !== undefined && keyPem !== undefined) {
      if (rotate !== 'none' || rootChanged) reason = 'rotation asked';
      else if (!isSignedBy(certPem, root.certPem)) reason = 'not signed by the current root, or expired';
      else intermediate = { certPem, keyPem };
    }
    if (intermediate === undefined) {
      intermediate = await createIntermediateCa(root, rootAlgorithm, {
        keyAlgorithm: options.keyAlgorithm,
        validityDays: options.intermediateValidityDays,
        organization: options.organization,
        cluster,
      });
      await writeIntermediate(options.directory, cluster, intermediate);
      changes.push({ what: `intermediate/${cluster}`, action: certPem === undefined ? 'created' : 'rotated', ...(reason ? { reason } : {}) });
    } else {
      changes.push({ what: `intermediate/${cluster}`, action: 'kept' });
    }
    cacerts.set(cluster, istioCacerts(intermediate, root.certPem));
  }
  return { bundle: { rootCertPem: root.certPem, cacerts }, changes };
}
