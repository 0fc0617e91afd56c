// The lab's cache keeps what is in use and not every build ever made; Istio's lab builds say their version.
import { mkdirSync, mkdtempSync, readdirSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pruneOlderBuilds } from '../../src/lab/cache.ts';
import { needsImport, parseCtrImages } from '../../src/lab/lab-up.ts';
import { istioVersionLdflags } from '../../src/lab/build/go-components.ts';
import { istioBuildVersion } from '../../src/sources/lab-versions.ts';

function partsDir(entries: [string, number][]): string {
  const dir = mkdtempSync(join(tmpdir(), 'eastwest-parts-'));
  for (const [entry, minutesAgo] of entries) {
    mkdirSync(join(dir, entry));
    const t = new Date(Date.now() - minutesAgo * 60_000);
    utimesSync(join(dir, entry), t, t);
  }
  return dir;
}

describe('pruneOlderBuilds', () => {
  it('keeps the part itself and the newest others asked for; removes older builds of that part only', () => {
    const dir = partsDir([['images-aaaaaaaaaaaa', 1], ['images-bbbbbbbbbbbb', 5], ['images-cccccccccccc', 10], ['images-dddddddddddd', 20], ['istio-eeeeeeeeeeee', 30], ['images-ffffffffffff.building', 40], ['rootfs-111111111111', 50]]);
    const removed = pruneOlderBuilds({ name: 'images', dir: join(dir, 'images-cccccccccccc'), built: true, seconds: 1 }, 1);
    expect(removed.sort()).toEqual(['images-bbbbbbbbbbbb', 'images-dddddddddddd']);
    expect(readdirSync(dir).sort()).toEqual(['images-aaaaaaaaaaaa', 'images-cccccccccccc', 'images-ffffffffffff.building', 'istio-eeeeeeeeeeee', 'rootfs-111111111111']);
  });

  it('a part whose name is the prefix of another part leaves that other part alone (istio, istio-previous)', () => {
    const dir = partsDir([['istio-aaaaaaaaaaaa', 1], ['istio-bbbbbbbbbbbb', 2], ['istio-previous-cccccccccccc', 3]]);
    expect(pruneOlderBuilds({ name: 'istio', dir: join(dir, 'istio-aaaaaaaaaaaa'), built: false, seconds: 0 }, 0)).toEqual(['istio-bbbbbbbbbbbb']);
    expect(readdirSync(dir).sort()).toEqual(['istio-aaaaaaaaaaaa', 'istio-previous-cccccccccccc']);
  });

  it('with nothing else there, nothing is removed', () => {
    const dir = partsDir([['eastwest-image-aaaaaaaaaaaa', 1]]);
    expect(pruneOlderBuilds({ name: 'eastwest-image', dir: join(dir, 'eastwest-image-aaaaaaaaaaaa'), built: true, seconds: 1 }, 0)).toEqual([]);
  });
});

describe('istio lab build versions', () => {
  it('a main-branch snapshot is named as Istio names its dev builds: release, alpha, commit', () => {
    expect(istioBuildVersion({ version: 'v0.0.0-20260827124520-eed52ebb66ad', release: '1.31' })).toBe('1.31-alpha.eed52ebb66ad');
    expect(istioBuildVersion({ version: 'v0.0.0-20260423205519-b01690e6db7d', release: '1.31' })).toBe('1.31-alpha.b01690e6db7d');
    expect(istioBuildVersion({ version: 'v1.30.2', release: '1.30' })).toBe('1.30.2');
  });

  it('stamps istio.io/istio/pkg/version (version, tag, revision, hub)', () => {
    const flags = istioVersionLdflags({ version: 'v0.0.0-20260827124520-eed52ebb66ad', release: '1.31' }, 'lab.eastwest.dev/istio');
    expect(flags).toEqual(expect.arrayContaining([
      '-X istio.io/istio/pkg/version.buildVersion=1.31-alpha.eed52ebb66ad',
      '-X istio.io/istio/pkg/version.buildTag=1.31-alpha.eed52ebb66ad',
      '-X istio.io/istio/pkg/version.buildGitRevision=eed52ebb66ad',
      '-X istio.io/istio/pkg/version.buildHub=lab.eastwest.dev/istio',
      '-X istio.io/istio/pkg/version.buildStatus=Clean',
    ]));
  });
});

describe('a running lab reloads images whose content changed', () => {
  const ls = `REF                                   TYPE                                    DIGEST                                                                  SIZE      PLATFORMS   LABELS
lab.eastwest.dev/echo:1               application/vnd.oci.image.manifest.v1+json sha256:aaaa000000000000000000000000000000000000000000000000000000000001 90.1 MiB  linux/amd64 io.cri-containerd.image=managed
lab.eastwest.dev/istio/pilot:1.31-lab application/vnd.oci.image.manifest.v1+json sha256:bbbb000000000000000000000000000000000000000000000000000000000002 120 MiB   linux/amd64 io.cri-containerd.image=managed
`;
  it('parses ctr images ls into name → digest', () => {
    const present = parseCtrImages(ls);
    expect(present.get('lab.eastwest.dev/echo:1')).toBe('sha256:aaaa000000000000000000000000000000000000000000000000000000000001');
    expect(present.size).toBe(2);
    expect(parseCtrImages('REF TYPE DIGEST SIZE PLATFORMS LABELS\n').size).toBe(0);
  });
  it('imports when an image is missing or its digest differs; not when every one is there as built, or when no digests were recorded', () => {
    const present = parseCtrImages(ls);
    const names = ['lab.eastwest.dev/echo:1', 'lab.eastwest.dev/istio/pilot:1.31-lab'];
    const same = { 'lab.eastwest.dev/echo:1': 'sha256:aaaa000000000000000000000000000000000000000000000000000000000001', 'lab.eastwest.dev/istio/pilot:1.31-lab': 'sha256:bbbb000000000000000000000000000000000000000000000000000000000002' };
    expect(needsImport(present, names, same)).toBe(false);
    expect(needsImport(present, names, { ...same, 'lab.eastwest.dev/echo:1': 'sha256:cccc' })).toBe(true);
    expect(needsImport(present, [...names, 'lab.eastwest.dev/fortio:1.68'], same)).toBe(true);
    expect(needsImport(present, names, undefined)).toBe(false);
  });
});
