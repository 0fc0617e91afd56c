// The mesh's CA as team state, for apply and diff: the local CA directory is read (never created here),
// every reachable cluster's `cacerts` is read, and planCa decides. Keys are made only by the first apply
// to a mesh that has no root (and `ca init`); a plan (diff, apply --dry-run) makes what it would issue in
// memory and writes nothing. A local root that is not the mesh's stops everything with exit 2.
import { dirname, resolve, sep } from 'node:path';
import { EastwestError, EXIT, InputError } from '../core/errors.ts';
import type { Reporter } from '../core/reporter.ts';
import { createIntermediateCa, createRootCa, istioCacerts, type CaMaterial, type IstioCacerts } from '../pki/ca.ts';
import { algorithmOfKey, readPki, writeIntermediate, writeRoot, type PkiBundle } from '../pki/store.ts';
import { fingerprint, planCa, type CaPlan, type LiveCacerts } from '../pki/trust-plan.ts';
import { ISTIO_NAMESPACE } from '../render/helm-releases.ts';
import type { DecodedSpec } from '../spec/decode.ts';
import type { EngineContext } from './context.ts';

export function pkiDirectory(decoded: DecodedSpec): string {
  return resolve(dirname(decoded.file), decoded.document.spec.pki.directory);
}

export interface MeshCaView {
  directory: string;
  root: { source: 'live' | 'local' | 'created'; fingerprint: string };
  clusters: { cluster: string; source: 'live' | 'local' | 'issued'; note?: string }[];
}

export interface MeshCa {
  bundle: PkiBundle;
  view: MeshCaView;
  /** diff only: selected clusters whose cacerts cannot be had now (an intermediate to issue without the root key), and why. */
  unresolved: Map<string, string>;
}

/**
 * `apply` writes what it creates or issues; `plan` (apply --dry-run) decides exactly as apply does but
 * keeps it in memory; `diff` also tolerates what apply would refuse for one cluster (an intermediate it
 * cannot issue without the root key): that is drift there, not bad input.
 */
export type CaMode = 'apply' | 'plan' | 'diff';

const CACERTS_KEYS = ['ca-cert.pem', 'ca-key.pem', 'root-cert.pem', 'cert-chain.pem'] as const;

/** A cluster's live cacerts, decoded (undefined when it has none). */
export function decodeCacerts(secret: { data?: Record<string, string> } | undefined): LiveCacerts {
  if (!secret) return undefined;
  const live: Partial<IstioCacerts> = {};
  for (const key of CACERTS_KEYS) {
    const value = secret.data?.[key];
    if (value) live[key] = Buffer.from(value, 'base64').toString('utf8');
  }
  return live;
}

/**
 * Reads every reachable cluster's cacerts. A cluster that fails to answer now is left out (its root is
 * not compared); when it is one apply writes (`strict`), the command fails instead.
 */
async function liveCacerts(ctx: EngineContext, strict: boolean, reporter: Reporter): Promise<Map<string, LiveCacerts>> {
  const selected = new Set(ctx.selected.map((c) => c.name));
  const entries = await Promise.all([...ctx.connected].map(async ([name, { client }]) => {
    try {
      const secret = await client.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cacerts', namespace: ISTIO_NAMESPACE } });
      return [name, decodeCacerts(secret as { data?: Record<string, string> } | undefined)] as const;
    } catch (error) {
      if (strict && selected.has(name)) throw error;
      reporter.report({ level: 'warn', code: 'ca-unread', message: `${name}: its cacerts could not be read (${(error as Error).message}); its root is not compared` });
      return undefined;
    }
  }));
  return new Map(entries.filter((e) => e !== undefined));
}

/** The CA material for the selected clusters (see CaMode). */
export async function meshCa(ctx: EngineContext, mode: CaMode, reporter: Reporter): Promise<MeshCa> {
  const { spec } = ctx;
  const directory = pkiDirectory(ctx.decoded);
  const local = await readPki(directory, spec.clusters.map((c) => c.name));
  const live = await liveCacerts(ctx, mode !== 'diff', reporter);
  // A selected cluster that did not answer is its command's own outcome, not a CA question; but no root
  // is made up, nor a local one taken for the mesh's, while a cluster that may hold the mesh's is unread.
  const unread = spec.clusters.map((c) => c.name).filter((n) => !live.has(n));
  const plan = planCa({ selected: ctx.selected.filter((c) => live.has(c.name)).map((c) => c.name), local: local ?? { directory, intermediates: new Map() }, live, unread });
  const unresolved = new Map<string, string>();
  if (mode === 'diff') {
    // What apply would refuse for one cluster only is that cluster's drift here.
    for (const p of plan.problems) {
      if (p.cluster === undefined) continue;
      unresolved.set(p.cluster, p.message);
      reporter.report({ level: 'warn', code: 'ca-unresolved', message: p.message });
    }
    plan.problems = plan.problems.filter((x) => x.cluster === undefined);
    plan.clusters = plan.clusters.filter((c) => !unresolved.has(c.cluster));
  }
  if (plan.problems.length) throw new InputError('the local CA cannot be used with this mesh: nothing was changed', plan.problems);
  if (plan.undecided) throw new EastwestError('ca-undecided', `the mesh's root cannot be told: ${plan.undecided}; nothing was changed`, { exitCode: EXIT.clusterError, hint: 'run again when those clusters answer (their cacerts are read), or put the team\'s CA directory in place' });
  if (plan.rotation) reporter.report({ level: 'warn', code: 'ca-rotation', message: `a CA rotation is under way (${plan.rotation}): every cluster's cacerts are left to it; resume it with \`eastwest ca rotate -f ${ctx.decoded.file} --root\` (where it stands: --root --status)` });
  for (const message of plan.warnings) reporter.report({ level: 'warn', code: 'ca-local', message });
  if (mode === 'apply' && (plan.root.source === 'create' || plan.clusters.some((c) => c.source === 'issue')) && directory.split(sep).includes('node_modules')) {
    throw new EastwestError('ca-in-package', `the CA directory ${directory} is inside an installed package: keys written there are lost on the next install`, { exitCode: EXIT.badInput, hint: 'copy the example spec to your own directory (or write one with `eastwest init`) and apply that' });
  }
  return { ...(await materialize(plan, { directory, write: mode === 'apply', spec, rootKeyPem: local?.rootKeyPem }, reporter)), unresolved };
}

async function materialize(plan: CaPlan, options: { directory: string; write: boolean; spec: EngineContext['spec']; rootKeyPem: string | undefined }, reporter: Reporter): Promise<Omit<MeshCa, 'unresolved'>> {
  const { directory, write, spec } = options;
  const say = (message: string) => reporter.report({ level: 'info', code: 'ca-changed', message });
  let root: CaMaterial | undefined;
  let rootView: MeshCaView['root'];
  if (plan.root.source === 'create') {
    root = await createRootCa({ keyAlgorithm: spec.pki.keyAlgorithm, validityDays: spec.pki.rootValidityDays, organization: spec.meshID });
    if (write) await writeRoot(directory, root);
    say(write ? `CA root: created in ${directory} (the mesh had no root; keep this directory safe and share it with your team)` : `CA root: would be created in ${directory} (the mesh has no root yet)`);
    rootView = { source: 'created', fingerprint: fingerprint(root.certPem) };
  } else {
    if (options.rootKeyPem) root = { certPem: plan.root.certPem, keyPem: options.rootKeyPem };
    rootView = { source: plan.root.source, fingerprint: plan.root.fingerprint };
  }
  const rootCertPem = root?.certPem ?? (plan.root as { certPem: string }).certPem;
  const cacerts = new Map<string, IstioCacerts>();
  const clusters: MeshCaView['clusters'] = [];
  for (const c of plan.clusters) {
    if (c.source === 'live') {
      cacerts.set(c.cluster, c.cacerts);
      clusters.push({ cluster: c.cluster, source: 'live' });
    } else if (c.source === 'local') {
      cacerts.set(c.cluster, istioCacerts(c.intermediate, rootCertPem));
      const note = c.replaces === 'older-live' ? 'replaces the older intermediate the cluster holds (same root)' : c.replaces === 'invalid-live' ? 'replaces cacerts that are incomplete, expired, of another root, or whose key is not its certificate\'s' : undefined;
      clusters.push({ cluster: c.cluster, source: 'local', ...(note ? { note } : {}) });
      if (note) say(`CA intermediate/${c.cluster}: the local one ${note}`);
    } else {
      if (!root) throw new EastwestError('ca-root-key', `no root key to issue ${c.cluster}'s intermediate`, { exitCode: EXIT.badInput });
      const issued = await createIntermediateCa(root, algorithmOfKey(root.keyPem), { keyAlgorithm: spec.pki.keyAlgorithm, validityDays: spec.pki.intermediateValidityDays, organization: spec.meshID, cluster: c.cluster });
      if (write) await writeIntermediate(directory, c.cluster, issued);
      say(`CA intermediate/${c.cluster}: ${write ? 'issued' : 'would be issued'} (${c.reason})${write ? ` in ${directory}` : ''}`);
      cacerts.set(c.cluster, istioCacerts(issued, rootCertPem));
      clusters.push({ cluster: c.cluster, source: 'issued', note: c.reason });
    }
  }
  return { bundle: { rootCertPem, cacerts }, view: { directory, root: rootView, clusters } };
}
