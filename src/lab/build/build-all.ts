// Builds (or finds in the cache) every upstream part of the lab, then the images made from them.
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Reporter } from '../../core/reporter.ts';
import { pruneOlderBuilds, type BuiltPart } from '../cache.ts';
import { IMAGES } from '../../sources/lab-images.ts';
import { eastwestImage, eastwestImageTag, IMAGE_APP_DIR, productionPackageDirs, projectFiles, projectRoot } from '../images/eastwest-image.ts';
import { exec } from '../../util/exec.ts';
import { istioBuildVersion, readLabVersions, type LabVersions } from '../../sources/lab-versions.ts';
import { goModuleDir } from '../../sources/upstream-sources.ts';
import { buildEnvoy } from './envoy.ts';
import { buildCoredns, buildEtcd, buildFortio, buildHelm, buildIstio, buildKiali, buildKubernetes, buildPrometheus } from './go-components.ts';
import { ensureHostPackages } from './host-packages.ts';
import { buildImageArchive, type ImageDefinition } from './oci-images.ts';
import { buildRootfs } from './rootfs.ts';

export interface LabComponents {
  versions: LabVersions;
  /** Directory with kube-apiserver, kubelet, … kubectl (one multi-call binary). */
  kubernetesBin: string;
  etcd: string;
  helm: string;
  /** OCI archives to import into every node: the upstream-made images, and eastwest's own. */
  imagesArchives: string[];
  /** The image names in each archive. */
  archiveImages: string[][];
  /** eastwest's own image (the in-cluster sync controller) built from the eastwest that runs this. */
  ownImage: string;
  images: string[];
  parts: BuiltPart[];
}

// The echo server's TypeScript source in a clone, its JavaScript in a built package (both run by the image's Node).
const echoExt = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
const echoServerSource = fileURLToPath(new URL(`../images/echo-server.${echoExt}`, import.meta.url));

export function imageDefinitions(parts: { istio: string; envoy: string; coredns: string; prometheus: string; kiali: string; fortio: string; node: string }): ImageDefinition[] {
  return [
    // catatonit (Debian) in pause mode is the sandbox process: it only waits for signals.
    { name: IMAGES.pause, files: [{ from: '/usr/bin/catatonit', to: 'usr/bin/catatonit' }], entrypoint: ['/usr/bin/catatonit', '-P'] },
    { name: IMAGES.coredns, files: [{ from: join(parts.coredns, 'coredns'), to: 'coredns' }], entrypoint: ['/coredns'] },
    { name: IMAGES.pilot, files: [{ from: join(parts.istio, 'pilot-discovery'), to: 'usr/local/bin/pilot-discovery' }], entrypoint: ['/usr/local/bin/pilot-discovery'], user: '1337:1337' },
    {
      name: IMAGES.proxyv2,
      files: [
        { from: join(parts.istio, 'pilot-agent'), to: 'usr/local/bin/pilot-agent' },
        { from: join(parts.envoy, 'envoy'), to: 'usr/local/bin/envoy' },
        { from: join(parts.istio, 'envoy_bootstrap_tmpl.json'), to: 'var/lib/istio/envoy/envoy_bootstrap_tmpl.json', mode: 0o644 },
      ],
      entrypoint: ['/usr/local/bin/pilot-agent'],
    },
    {
      name: IMAGES.echo,
      files: [
        { from: parts.node, to: 'usr/local/bin/node' },
        { from: echoServerSource, to: `app/echo-server.${echoExt}`, mode: 0o644 },
      ],
      entrypoint: ['/usr/local/bin/node', `/app/echo-server.${echoExt}`],
    },
    { name: IMAGES.client, files: [], entrypoint: ['/bin/sleep'], cmd: ['infinity'] },
    { name: IMAGES.prometheus, files: [{ from: join(parts.prometheus, 'prometheus'), to: 'bin/prometheus' }], entrypoint: ['/bin/prometheus'], user: '65534:65534' },
    {
      name: IMAGES.kiali,
      files: [{ from: join(parts.kiali, 'kiali'), to: 'opt/kiali/kiali' }, { from: join(parts.kiali, 'console'), to: 'opt/kiali/console', tree: true }],
      entrypoint: ['/opt/kiali/kiali'],
      user: '1000:1000',
    },
    // The load generator: idle until a proof execs `fortio load` in it.
    { name: IMAGES.fortio, files: [{ from: join(parts.fortio, 'fortio'), to: 'usr/local/bin/fortio' }], entrypoint: ['/bin/sleep'], cmd: ['infinity'], user: '65532:65532' },
  ];
}

/** Every part of the lab, in the order they are built: progress says which of how many. */
export const LAB_PARTS = ['envoy', 'rootfs', 'kubernetes', 'istio', 'etcd', 'coredns', 'helm', 'prometheus', 'kiali', 'fortio', 'images', 'eastwest-image'] as const;

/** Build messages numbered `[3/11]` by their part (the part's name is in the message's data). */
export function numberedParts(reporter: Reporter): Reporter {
  return {
    report(message) {
      const part = (message.data as { part?: string } | undefined)?.part;
      const index = part === undefined ? -1 : LAB_PARTS.indexOf(part as (typeof LAB_PARTS)[number]);
      reporter.report(index < 0 ? message : { ...message, message: `[${index + 1}/${LAB_PARTS.length}] ${message.message}` });
    },
  };
}

export async function buildLabComponents(outer: Reporter): Promise<LabComponents> {
  const reporter = numberedParts(outer);
  const versions = readLabVersions();
  await ensureHostPackages(versions.debian.hostPackages, reporter);
  // Downloads (wheel, debootstrap) run beside the compiles; the Go builds run one after another (2 cores).
  const downloads = Promise.all([buildEnvoy(versions, reporter), buildRootfs(versions, reporter)]);
  const kubernetes = await buildKubernetes(versions, reporter);
  const istio = await buildIstio(versions, reporter);
  const etcd = await buildEtcd(versions, reporter);
  const coredns = await buildCoredns(versions, reporter);
  const helm = await buildHelm(versions, reporter);
  const prometheus = await buildPrometheus(versions, reporter);
  const kiali = await buildKiali(versions, reporter);
  const fortio = await buildFortio(versions, reporter);
  const [envoy, rootfs] = await downloads;
  const node = realpathSync(process.execPath);
  const definitions = imageDefinitions({ istio: istio.dir, envoy: envoy.dir, coredns: coredns.dir, prometheus: prometheus.dir, kiali: kiali.dir, fortio: fortio.dir, node });
  const images = await buildImageArchive(
    join(rootfs.dir, 'layer.tar'),
    definitions,
    { parts: [istio.dir, envoy.dir, coredns.dir, prometheus.dir, kiali.dir, fortio.dir, rootfs.dir], node: process.version, definitions, layout: 1 },
    reporter,
  );
  // The newest other images build is kept (a second checkout sharing the cache may load it), older ones go.
  pruneOlderBuilds(images, 1);
  const own = await buildOwnImage(reporter);
  return {
    versions,
    kubernetesBin: kubernetes.dir,
    etcd: join(etcd.dir, 'etcd'),
    helm: join(helm.dir, 'helm'),
    imagesArchives: [join(images.dir, 'images.tar'), own.archive],
    archiveImages: [definitions.map((d) => d.name), [own.image]],
    ownImage: own.image,
    images: [...definitions.map((d) => d.name), own.image],
    parts: [kubernetes, istio, etcd, coredns, helm, prometheus, kiali, fortio, envoy, rootfs, images, own.part],
  };
}

/** The pilot and proxyv2 images of one lab Istio build, tagged `tag`, with the lab's Envoy. */
function istioImageDefinitions(istio: string, envoy: string, tag: string): ImageDefinition[] {
  return imageDefinitions({ istio, envoy, coredns: '', prometheus: '', kiali: '', fortio: '', node: '' })
    .filter((d) => d.name === IMAGES.pilot || d.name === IMAGES.proxyv2)
    .map((d) => ({ ...d, name: d.name.replace(/:[^:]+$/, `:${tag}`) }));
}

/**
 * The older Istio snapshot (lab/versions.json `istioPrevious`): istiod and pilot-agent built and stamped
 * like the pinned one, its images tagged with its version, for the upgrade proofs. Built only when asked.
 */
export async function buildPreviousIstio(outer: Reporter): Promise<{ version: string; archive: string; images: string[]; charts: string }> {
  const reporter = numberedParts(outer);
  const versions = readLabVersions();
  const version = istioBuildVersion(versions.istioPrevious);
  const [istio, envoy, rootfs] = [await buildIstio(versions, reporter, versions.istioPrevious, 'istio-previous'), await buildEnvoy(versions, reporter), await buildRootfs(versions, reporter)];
  const definitions = istioImageDefinitions(istio.dir, envoy.dir, version);
  const images = await buildImageArchive(join(rootfs.dir, 'layer.tar'), definitions, { parts: [istio.dir, envoy.dir, rootfs.dir], definitions, layout: 1 }, reporter, 'images-istio-previous');
  return { version, archive: join(images.dir, 'images.tar'), images: definitions.map((d) => d.name), charts: join(await goModuleDir(versions.istioPrevious.module, versions.istioPrevious.version), 'manifests', 'charts') };
}

/** eastwest's own image as this checkout is now (the base layer from the cache): its archive and name. */
export async function buildOwnImage(reporter: Reporter): Promise<{ archive: string; image: string; part: BuiltPart }> {
  const rootfs = await buildRootfs(readLabVersions(), reporter); // cached: the base layer's part
  const tag = eastwestImageTag();
  const image = eastwestImage(tag);
  const part = await buildEastwestImage(join(rootfs.dir, 'layer.tar'), image, tag, realpathSync(process.execPath), reporter);
  return { archive: join(part.dir, 'images.tar'), image, part };
}

/**
 * eastwest's own image (the in-cluster sync controller): the project's code, its production dependencies
 * and the Node runtime, on the lab's base layer. Rebuilt when the project changes (the tag is a content
 * hash); older builds of it are removed from the cache.
 */
async function buildEastwestImage(baseLayer: string, name: string, tag: string, node: string, reporter: Reporter): Promise<BuiltPart> {
  const root = projectRoot();
  const listed = await exec('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, timeoutMs: 120_000 });
  const app = (p: string) => `${IMAGE_APP_DIR}/${p}`;
  const definition: ImageDefinition = {
    name,
    files: [
      { from: node, to: 'usr/local/bin/node' },
      ...projectFiles(root).map((f) => ({ from: join(root, f), to: app(f), mode: 0o644 })),
      ...productionPackageDirs(listed.stdout, root).map((d) => ({ from: join(root, d), to: app(d), tree: true })),
    ],
    entrypoint: ['/usr/local/bin/node', `/${IMAGE_APP_DIR}/bin/eastwest.js`],
    workingDir: `/${IMAGE_APP_DIR}`,
    user: '65532:65532',
    env: { NODE_ENV: 'production' },
  };
  const part = await buildImageArchive(baseLayer, [definition], { tag, layout: 1 }, reporter, 'eastwest-image');
  // One build of eastwest's image is kept: each change of the project would leave another otherwise.
  pruneOlderBuilds(part, 0);
  return part;
}
