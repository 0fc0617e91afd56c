// `ca rotate --root`: a new root for a live mesh in three phases (src/pki/root-rotation.ts), each written
// to every cluster and waited for in every cluster — checked on istiod's published roots, istiod's
// serving certificate and every proxy's trust bundle and certificate, not timed — before the next starts
// anywhere. The new root and intermediates wait in `<CA directory>/rotation/` (the old root stays where it
// is until the end); each cluster's phase is read from its cacerts, so a stopped run resumes where the
// clusters are. At the end the new root and intermediates replace the old ones in the CA directory (the
// old files kept beside them). Prerequisites: istiod with ISTIO_MULTIROOT_MESH and every proxy with
// PROXY_CONFIG_XDS_AGENT (apply renders both; running proxies take the latter at a restart).
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { EastwestError, EXIT, InputError, type Problem } from '../core/errors.ts';
import { mapLimit } from '../core/fan-out.ts';
import type { Reporter } from '../core/reporter.ts';
import { lockCaDirectory } from '../pki/ca-lock.ts';
import { MULTIROOT_ENV } from '../core/vocabulary.ts';
import type { KubeClient } from '../k8s/client.ts';
import { owned } from '../k8s/ownership.ts';
import { proxySecrets } from '../k8s/proxy-certificate.ts';
import { proxiesWithoutMultiRoot } from '../k8s/proxy-settings.ts';
import { createIntermediateCa, createRootCa, type CaMaterial, type IstioCacerts } from '../pki/ca.ts';
import { classifyChain } from '../pki/chain-holder.ts';
import { cacertsPhase, nextStep, phaseCacerts, PHASE_GOAL, publishedFits, trustFits, type RootPhase } from '../pki/root-rotation.ts';
import { algorithmOfKey, readPki, writeIntermediate, writeRoot } from '../pki/store.ts';
import { fingerprint } from '../pki/trust-plan.ts';
import { ISTIO_NAMESPACE } from '../render/helm-releases.ts';
import { istiodRelease } from '../render/revision.ts';
import { cacertsSecret } from '../render/mesh-objects.ts';
import { sleep } from '../util/poll.ts';
import { istiodSigning, proxyPods } from './ca-rotate.ts';
import { CACERTS_GRANT } from './access.ts';
import { openEngine, type EngineContext, type EngineOptions } from './context.ts';
import { decodeCacerts, pkiDirectory } from './mesh-ca.ts';

export const ROTATION_DIR = 'rotation';
const STATE_FILE = 'state.json';

export interface RootRotateOptions extends Pick<EngineOptions, 'file' | 'kubeconfig' | 'contexts' | 'requestTimeoutSeconds'> {
  /** Only say where the rotation stands (per cluster), change nothing. */
  statusOnly: boolean;
  /** How long each phase may take to be reached everywhere. */
  timeoutSeconds: number;
}

export interface RootRotationResult {
  ok: boolean;
  directory: string;
  /** Absent when no rotation is under way and none was run (status only). */
  oldRoot?: string;
  newRoot?: string;
  /** Each cluster's phase as its cacerts say (0–3), or why it fits none. */
  clusters: { cluster: string; phase: RootPhase | string }[];
  /** The phases this run finished, with how long each took to be reached everywhere. */
  phases: { phase: RootPhase; goal: string; seconds: number; proxies: number }[];
  /** The rotation is complete: the CA directory holds the new root. */
  done: boolean;
  /** What a phase still waited for when time ran out (resume with the same command). */
  waiting?: string[];
  seconds: number;
}

interface RotationState {
  startedAt: string;
  oldRoot: string;
  newRoot: string;
  /** The spec's clusters when it started: every one of them goes through every phase. */
  clusters: string[];
}

const round = (ms: number) => Math.round(ms / 100) / 10;

async function liveCacerts(client: KubeClient): Promise<Partial<IstioCacerts> | undefined> {
  return decodeCacerts((await client.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cacerts', namespace: ISTIO_NAMESPACE } })) as { data?: Record<string, string> } | undefined);
}

/** What still keeps `phase` from being reached in one cluster (empty: reached). */
async function phaseLaggards(config: KubeConfig, cluster: string, phase: Exclude<RootPhase, 0>, oldRoot: string, newRoot: string, newIntermediate: CaMaterial, timeoutMs: number): Promise<{ laggards: string[]; proxies: number }> {
  const core = config.makeApiClient(CoreV1Api);
  const laggards: string[] = [];
  const published = (await core.readNamespacedConfigMap({ name: 'istio-ca-root-cert', namespace: ISTIO_NAMESPACE })).data?.['root-cert.pem'] ?? '';
  if (!publishedFits(phase, published, oldRoot, newRoot)) laggards.push(`${cluster}: istiod does not publish the phase's roots yet (istio-system/istio-ca-root-cert)`);
  if (phase >= 2) {
    const signing = await istiodSigning(config, newIntermediate.certPem, timeoutMs);
    if (!signing.signsWith) laggards.push(`${cluster}: istiod does not sign with its new intermediate yet (${signing.detail})`);
  }
  const pods = proxyPods((await core.listPodForAllNamespaces()).items);
  const reads = await mapLimit(pods, 4, async (p) => {
    try {
      const held = await proxySecrets(config, p.namespace, p.pod, timeoutMs);
      if (!held.trustedPem || !trustFits(phase, held.trustedPem, oldRoot, newRoot)) return `${cluster}: ${p.namespace}/${p.pod} does not trust the phase's roots yet`;
      if (phase >= 2 && classifyChain(held.chainPem ?? '', newIntermediate.certPem, newIntermediate.certPem, newRoot)?.holds !== 'new') return `${cluster}: ${p.namespace}/${p.pod} holds no certificate of the new root yet`;
      return undefined;
    } catch (error) {
      return `${cluster}: ${p.namespace}/${p.pod} could not be read (${(error as Error).message})`;
    }
  });
  laggards.push(...reads.filter((r): r is string => r !== undefined));
  return { laggards, proxies: pods.length };
}

/** Prerequisites of a rotation without restarts, in one cluster: what is missing. */
async function missingPrerequisites(config: KubeConfig, cluster: string, istiodDeployment: string): Promise<Problem[]> {
  const problems: Problem[] = [];
  const istiod = await config.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: istiodDeployment, namespace: ISTIO_NAMESPACE });
  const env = istiod.spec?.template.spec?.containers.find((c) => c.name === 'discovery')?.env ?? [];
  if (!env.some((e) => e.name === MULTIROOT_ENV && e.value === 'true')) {
    problems.push({ path: cluster, message: `${cluster}'s istiod runs without ${MULTIROOT_ENV}=true: it would refuse a second root`, hint: 'run `eastwest apply` (it sets it) and run this again' });
  }
  const stale = proxiesWithoutMultiRoot((await config.makeApiClient(CoreV1Api).listPodForAllNamespaces()).items);
  if (stale.length) {
    problems.push({ path: cluster, message: `${stale.length} running prox${stale.length === 1 ? 'y' : 'ies'} in ${cluster} started before the multi-root setting and would keep trusting only the old root: ${stale.slice(0, 8).join(', ')}${stale.length > 8 ? ', …' : ''}`, hint: 'restart them once (kubectl rollout restart deployment -n <namespace>) after `eastwest apply`, then run this again' });
  }
  return problems;
}

async function readState(dir: string): Promise<RotationState | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, STATE_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InputError(`${join(dir, STATE_FILE)} cannot be read: ${(error as Error).message}`, [{ path: 'spec.pki.directory', message: 'the state of the rotation under way is unreadable' }], 'check its permissions (the CA directory is yours alone)');
  }
  try {
    const state = JSON.parse(text) as Partial<RotationState>;
    if (typeof state.startedAt === 'string' && typeof state.oldRoot === 'string' && typeof state.newRoot === 'string' && Array.isArray(state.clusters)) return state as RotationState;
  } catch {
    // reported below
  }
  throw new InputError(`${join(dir, STATE_FILE)} is not a rotation's state`, [{ path: 'spec.pki.directory', message: 'the state of the rotation under way is damaged' }], 'restore the CA directory from the team\'s backup');
}

export async function rotateRoot(options: RootRotateOptions, reporter: Reporter): Promise<RootRotationResult> {
  const started = Date.now();
  const say = (message: string) => reporter.report({ level: 'info', code: 'ca-rotate-root', message });
  // --status only reads (cacerts among it, the grant doctor --read-cacerts uses); a rotation writes.
  const engine: EngineContext = await openEngine({ ...options, access: options.statusOnly ? 'read' : 'write', command: 'ca rotate', ...(options.statusOnly ? { grants: [CACERTS_GRANT] } : {}) });
  const { spec } = engine;
  const directory = pkiDirectory(engine.decoded);
  const rotationDir = join(directory, ROTATION_DIR);
  const timeoutMs = engine.requestTimeoutSeconds * 1000;
  const unreachable = engine.connections.filter((c) => !c.ok);
  if (unreachable.length) {
    throw new EastwestError('rotation-unreachable', `a root rotation needs every cluster: ${unreachable.map((c) => c.cluster).join(', ')} did not answer; nothing was changed`, { exitCode: EXIT.clusterError, hint: 'run again when every cluster answers (a rotation under way resumes where the clusters are)' });
  }
  const local = await readPki(directory, spec.clusters.map((c) => c.name));
  const state = await readState(rotationDir);
  const pending = state ? await readPki(rotationDir, spec.clusters.map((c) => c.name)) : undefined;
  if (state && (!pending?.rootCertPem || !pending.rootKeyPem)) throw new InputError(`the rotation under way lacks its new root: ${rotationDir} holds no root-cert.pem and root-key.pem`, [{ path: 'spec.pki.directory', message: `${join(rotationDir, STATE_FILE)} says a rotation started ${state.startedAt}, but its new root is not beside it` }], 'restore that directory from the team\'s backup of the CA directory');
  if (state) {
    const recorded = [...state.clusters].sort().join(',');
    const now = spec.clusters.map((c) => c.name).sort().join(',');
    if (recorded !== now) throw new InputError('the spec\'s clusters changed during the root rotation: nothing was changed', [{ path: 'spec.clusters', message: `the rotation started with ${recorded}; the spec now names ${now}` }], 'finish the rotation with the clusters it started with (a cluster left behind would keep trusting only the old root), then add or remove clusters');
  }
  // Stopped while the CA directory took the new root (its files were being replaced): only that is left.
  const promoting = state !== undefined && (!local?.rootCertPem || fingerprint(local.rootCertPem) === state.newRoot);
  if (!local?.rootCertPem && !promoting) throw new InputError(`no root in ${directory}`, [{ path: 'spec.pki.directory', message: `${directory} holds no root-cert.pem` }], 'run this where the team\'s CA directory is');
  const clients = new Map(spec.clusters.map((c) => [c.name, engine.connected.get(c.name)!.client]));
  const live = new Map<string, Partial<IstioCacerts> | undefined>();
  for (const [name, client] of clients) live.set(name, await liveCacerts(client));

  if (options.statusOnly) {
    // Each cluster's phase as written to its cacerts (the waits say whether it was reached everywhere).
    const clusters = spec.clusters.map((c) => {
      if (promoting) return { cluster: c.name, phase: cacertsPhase(live.get(c.name), pending!.rootCertPem!, pending!.rootCertPem!) === 0 ? 3 as RootPhase : 'not of the new root alone' };
      return { cluster: c.name, phase: cacertsPhase(live.get(c.name), local!.rootCertPem!, state ? pending!.rootCertPem! : local!.rootCertPem!) };
    });
    return { ok: clusters.every((c) => typeof c.phase === 'number'), directory, ...(state ? { oldRoot: state.oldRoot, newRoot: state.newRoot } : {}), clusters, phases: [], done: !state, seconds: round(Date.now() - started) };
  }
  // One writer at a time in the CA directory (a killed run's lock is taken over by the next).
  const lock = await lockCaDirectory(directory, 'ca rotate --root');
  try {

    // Start (or resume): the new root and intermediates, kept in the rotation directory until the end.
    let newRoot: CaMaterial;
    const newIntermediates = new Map<string, CaMaterial>();
    if (state && pending?.rootCertPem && pending.rootKeyPem) {
      newRoot = { certPem: pending.rootCertPem, keyPem: pending.rootKeyPem };
      if (fingerprint(newRoot.certPem) !== state.newRoot) throw new InputError(`the new root in ${rotationDir} is not the one the rotation started with`, [{ path: 'spec.pki.directory', message: `${rotationDir}/root-cert.pem is ${fingerprint(newRoot.certPem)}; state.json says ${state.newRoot}` }], 'restore that directory from the team\'s backup of the CA directory');
      for (const c of spec.clusters) {
        const i = pending.intermediates.get(c.name);
        if (!i) throw new InputError(`the rotation under way in ${rotationDir} has no intermediate for ${c.name}`, [{ path: 'spec.clusters', message: `${c.name} joined the spec during the rotation` }], 'finish the rotation with the clusters it started with, then add the cluster');
        newIntermediates.set(c.name, i);
      }
      say(`resuming the root rotation started ${state.startedAt} (new root ${state.newRoot})`);
    } else {
      if (!local?.rootCertPem || !local.rootKeyPem) throw new InputError(`no root key in ${directory}`, [{ path: 'spec.pki.directory', message: `${directory} holds no root-key.pem` }], 'run this where the team\'s CA directory is');
      const problems: Problem[] = [];
      for (const c of spec.clusters) {
        const phase = cacertsPhase(live.get(c.name), local.rootCertPem, local.rootCertPem);
        if (phase !== 0) problems.push({ path: c.name, message: `${c.name}'s cacerts are not of the CA directory's root alone (${typeof phase === 'string' ? phase : `phase ${phase}`})`, hint: 'run `eastwest apply` (or `eastwest doctor`) first: a rotation starts from one root everywhere' });
      }
      for (const c of spec.clusters) problems.push(...(await missingPrerequisites(clients.get(c.name)!.config, c.name, istiodRelease(spec))));
      if (problems.length) throw new InputError('the root cannot be rotated: nothing was changed', problems);
      newRoot = await createRootCa({ keyAlgorithm: spec.pki.keyAlgorithm, validityDays: spec.pki.rootValidityDays, organization: spec.meshID });
      await mkdir(rotationDir, { recursive: true, mode: 0o700 });
      await writeRoot(rotationDir, newRoot);
      for (const c of spec.clusters) {
        const issued = await createIntermediateCa(newRoot, algorithmOfKey(newRoot.keyPem), { keyAlgorithm: spec.pki.keyAlgorithm, validityDays: spec.pki.intermediateValidityDays, organization: spec.meshID, cluster: c.name });
        await writeIntermediate(rotationDir, c.name, issued);
        newIntermediates.set(c.name, issued);
      }
      await writeFile(join(rotationDir, STATE_FILE), `${JSON.stringify({ startedAt: new Date().toISOString(), oldRoot: fingerprint(local.rootCertPem), newRoot: fingerprint(newRoot.certPem), clusters: spec.clusters.map((c) => c.name) } satisfies RotationState, null, 2)}\n`, { mode: 0o600 });
      say(`root rotation started: new root ${fingerprint(newRoot.certPem)} (in ${rotationDir} until the end)`);
    }
    if (promoting) {
      // The root's files again when either is not the new root's (a run stopped between them), then the rest.
      if (local?.rootCertPem !== newRoot.certPem || local.rootKeyPem !== newRoot.keyPem) await writeRoot(directory, newRoot);
      for (const [cluster, material] of newIntermediates) await writeIntermediate(directory, cluster, material);
      await rename(rotationDir, `${rotationDir}.done-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      say(`root rotation done: the CA directory holds the new root ${fingerprint(newRoot.certPem)}`);
      return { ok: true, directory, oldRoot: state!.oldRoot, newRoot: state!.newRoot, clusters: spec.clusters.map((c) => ({ cluster: c.name, phase: 3 as RootPhase })), phases: [], done: true, seconds: round(Date.now() - started) };
    }
    const oldRoot = local!.rootCertPem!;
    const phases: RootRotationResult['phases'] = [];
    const phaseOf = () => spec.clusters.map((c) => ({ cluster: c.name, phase: cacertsPhase(live.get(c.name), oldRoot, newRoot.certPem) }));
    // Waited for in every cluster (a proxy learns roots from its own istiod only; its peers elsewhere must
    // trust what it presents). A cluster that does not answer is waited for like a proxy that lags.
    const reach = async (phase: Exclude<RootPhase, 0>): Promise<{ waiting: string[]; proxies: number }> => {
      const deadline = Date.now() + options.timeoutSeconds * 1000;
      for (;;) {
        const reads = await Promise.all(spec.clusters.map((c) => phaseLaggards(clients.get(c.name)!.config, c.name, phase, oldRoot, newRoot.certPem, newIntermediates.get(c.name)!, timeoutMs)
          .catch((error: unknown) => ({ laggards: [`${c.name}: could not be read (${(error as Error).message})`], proxies: 0 }))));
        const waiting = reads.flatMap((r) => r.laggards);
        const proxies = reads.reduce((a, r) => a + r.proxies, 0);
        if (!waiting.length || Date.now() > deadline) return { waiting, proxies };
        await sleep(3000);
      }
    };
    const stopped = (waiting: string[]): RootRotationResult => ({ ok: false, directory, oldRoot: fingerprint(oldRoot), newRoot: fingerprint(newRoot.certPem), clusters: phaseOf(), phases, done: false, waiting, seconds: round(Date.now() - started) });
    // The phase this run has seen reached everywhere (src/pki/root-rotation.ts nextStep says what follows).
    let confirmed: RootPhase = 0;
    for (;;) {
      const now = phaseOf();
      const odd = now.filter((c) => typeof c.phase === 'string');
      if (odd.length) throw new InputError('the clusters\' cacerts fit no phase of the rotation under way: nothing was changed', odd.map((c) => ({ path: c.cluster, message: `${c.cluster}: ${c.phase}`, hint: 'a hand edit or another tool changed cacerts; put back what the phase says (eastwest ca rotate --root --status)' })));
      const written = now.map((c) => c.phase as RootPhase);
      const step = nextStep(written, confirmed);
      if (step.step === 'wait') {
        const waitStarted = Date.now();
        say(`phase ${step.phase}: written everywhere by an earlier run; waiting until it is reached (${PHASE_GOAL[step.phase]})`);
        const { waiting, proxies } = await reach(step.phase);
        if (waiting.length) return stopped(waiting);
        phases.push({ phase: step.phase, goal: PHASE_GOAL[step.phase], seconds: round(Date.now() - waitStarted), proxies });
        confirmed = step.phase;
        continue;
      }
      confirmed = Math.min(...written) as RootPhase;
      if (step.step === 'promote') break;
      const next = step.phase;
      const phaseStarted = Date.now();
      say(`phase ${next}: ${PHASE_GOAL[next]}`);
      for (const c of spec.clusters) {
        const at = now.find((x) => x.cluster === c.name)!.phase as RootPhase;
        if (at >= next) continue;
        const cacerts = phaseCacerts(next, live.get(c.name) as IstioCacerts, newIntermediates.get(c.name)!, oldRoot, newRoot.certPem);
        try {
          await clients.get(c.name)!.apply(owned(spec.meshID, cacertsSecret(cacerts)));
        } catch (error) {
          return stopped([`${c.name}: phase ${next} could not be written (${(error as Error).message})`]);
        }
        live.set(c.name, cacerts);
        say(`phase ${next}: ${c.name}'s cacerts written`);
      }
      const { waiting, proxies } = await reach(next);
      if (waiting.length) return stopped(waiting);
      confirmed = next;
      phases.push({ phase: next, goal: PHASE_GOAL[next], seconds: round(Date.now() - phaseStarted), proxies });
      say(`phase ${next}: reached in every cluster (${proxies} proxies) after ${round(Date.now() - phaseStarted)} s`);
    }
    // Done everywhere: the new root and intermediates become the CA directory's (the old files kept beside them).
    await writeRoot(directory, newRoot);
    for (const [cluster, material] of newIntermediates) await writeIntermediate(directory, cluster, material);
    if (existsSync(rotationDir)) await rename(rotationDir, `${rotationDir}.done-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    say(`root rotation done: the CA directory holds the new root ${fingerprint(newRoot.certPem)}`);
    return { ok: true, directory, oldRoot: fingerprint(oldRoot), newRoot: fingerprint(newRoot.certPem), clusters: phaseOf(), phases, done: true, seconds: round(Date.now() - started) };
  } finally {
    await lock.release();
  }
}
