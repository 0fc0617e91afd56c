// One keep rule for apply (not pruned) and diff (not "extra"): issue 14's regression — a removed peer's
// remote secret was kept by diff's prefix match while apply pruned it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keptOwned, type KeptInput } from '../../src/apply/kept-objects.ts';
import { KIALI_SECRET_REF_PREFIX } from '../../src/apply/kiali-objects.ts';
import { decodeMeshSpec } from '../../src/spec/decode.ts';

const root = join(import.meta.dirname, '../..');
const specOf = (file: string) => decodeMeshSpec(readFileSync(join(root, 'examples', file), 'utf8'), file).document.spec;
const nothingKnown: KeptInput = { remotePeers: new Map(), kialiPeers: new Map(), syncKept: false, cacertsMissing: false, pending: new Set() };
const access = { server: 'https://198.18.0.11:6443', caData: 'x', token: 't' };

describe('keptOwned', () => {
  const ed = specOf('lab-endpoint-discovery.yaml');
  it('a removed peer\'s remote secret is not kept (diff: extra, apply: pruned); a peer of the spec whose token is unknown keeps its own', () => {
    const kept = keptOwned(ed, nothingKnown);
    expect(kept('Secret/istio-system/istio-remote-secret-eu')).toBe(true);
    expect(kept('Secret/istio-system/istio-remote-secret-ap')).toBe(false);
  });
  it('a peer whose token was read now is desired, so its secret is not "kept" (apply rewrites it)', () => {
    expect(keptOwned(ed, { ...nothingKnown, remotePeers: new Map([['eu', access]]) })('Secret/istio-system/istio-remote-secret-eu')).toBe(false);
  });
  it('in service-entry mode no remote secret is kept', () => {
    expect(keptOwned(specOf('lab.yaml'), nothingKnown)('Secret/istio-system/istio-remote-secret-eu')).toBe(false);
  });
  it('an unrendered cacerts, pending routes and the sync controller\'s live objects are kept only when so marked', () => {
    const spec = specOf('lab.yaml');
    expect(keptOwned(spec, nothingKnown)('Secret/istio-system/cacerts')).toBe(false);
    expect(keptOwned(spec, { ...nothingKnown, cacertsMissing: true })('Secret/istio-system/cacerts')).toBe(true);
    expect(keptOwned(spec, { ...nothingKnown, pending: new Set(['ServiceEntry/echo/echo-eu']) })('ServiceEntry/echo/echo-eu')).toBe(true);
    expect(keptOwned(spec, nothingKnown)('Deployment/eastwest-system/eastwest-sync')).toBe(false);
    expect(keptOwned(spec, { ...nothingKnown, syncKept: true })('Deployment/eastwest-system/eastwest-sync')).toBe(true);
  });
  it('Kiali\'s peer secrets follow the same rule as Istio\'s', () => {
    const spec = specOf('lab.yaml');
    const kept = keptOwned(spec, nothingKnown);
    const refs = ['eu', 'ap'].map((p) => `${KIALI_SECRET_REF_PREFIX}${p}`);
    expect(refs.map(kept)).toEqual([true, false]);
  });
});
