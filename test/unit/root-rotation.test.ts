// A root rotation's phases from a cluster's cacerts, what each phase writes, and what each waits for.
import { beforeAll, describe, expect, it } from 'vitest';
import { createIntermediateCa, createRootCa, istioCacerts, type CaMaterial, type IstioCacerts } from '../../src/pki/ca.ts';
import { cacertsPhase, nextStep, phaseCacerts, publishedFits, rotationProgress, trustFits } from '../../src/pki/root-rotation.ts';
import { certificatesIn, fingerprint } from '../../src/pki/trust-plan.ts';

let oldRoot: CaMaterial;
let newRoot: CaMaterial;
let stranger: CaMaterial;
let oldInt: CaMaterial;
let newInt: CaMaterial;
let before: IstioCacerts;
const options = { keyAlgorithm: 'ECDSA-P256' as const, validityDays: 365, organization: 'training-mesh', cluster: 'us' };

beforeAll(async () => {
  oldRoot = await createRootCa({ keyAlgorithm: 'ECDSA-P256', validityDays: 3650, organization: 'training-mesh' });
  newRoot = await createRootCa({ keyAlgorithm: 'ECDSA-P256', validityDays: 3650, organization: 'training-mesh' });
  stranger = await createRootCa({ keyAlgorithm: 'ECDSA-P256', validityDays: 3650, organization: 'other' });
  oldInt = await createIntermediateCa(oldRoot, 'ECDSA-P256', options);
  newInt = await createIntermediateCa(newRoot, 'ECDSA-P256', options);
  before = istioCacerts(oldInt, oldRoot.certPem);
});

const rootsOf = (pem: string) => (certificatesIn(pem) ?? []).map(fingerprint);

describe('what each phase writes', () => {
  it('phase 1: the old intermediate as it was, both roots (old first)', () => {
    const c = phaseCacerts(1, before, newInt, oldRoot.certPem, newRoot.certPem);
    expect(c['ca-cert.pem']).toBe(before['ca-cert.pem']);
    expect(c['ca-key.pem']).toBe(before['ca-key.pem']);
    expect(c['cert-chain.pem']).toBe(before['cert-chain.pem']);
    expect(rootsOf(c['root-cert.pem'])).toEqual([fingerprint(oldRoot.certPem), fingerprint(newRoot.certPem)]);
  });

  it('phase 2: the new intermediate with its chain to the new root, both roots (new first: the bytes change)', () => {
    const c = phaseCacerts(2, before, newInt, oldRoot.certPem, newRoot.certPem);
    expect(c['ca-cert.pem'].trim()).toBe(newInt.certPem.trim());
    expect(rootsOf(c['cert-chain.pem'])).toEqual([fingerprint(newInt.certPem), fingerprint(newRoot.certPem)]);
    expect(rootsOf(c['root-cert.pem'])).toEqual([fingerprint(newRoot.certPem), fingerprint(oldRoot.certPem)]);
    expect(c['root-cert.pem']).not.toBe(phaseCacerts(1, before, newInt, oldRoot.certPem, newRoot.certPem)['root-cert.pem']);
  });

  it('phase 3: the new root alone', () => {
    const c = phaseCacerts(3, before, newInt, oldRoot.certPem, newRoot.certPem);
    expect(rootsOf(c['root-cert.pem'])).toEqual([fingerprint(newRoot.certPem)]);
    expect(c['ca-cert.pem'].trim()).toBe(newInt.certPem.trim());
  });
});

describe('the phase a cluster is in, read from its cacerts', () => {
  it('each phase\'s cacerts read back as that phase; the starting point as 0', () => {
    expect(cacertsPhase(before, oldRoot.certPem, newRoot.certPem)).toBe(0);
    for (const phase of [1, 2, 3] as const) expect(cacertsPhase(phaseCacerts(phase, before, newInt, oldRoot.certPem, newRoot.certPem), oldRoot.certPem, newRoot.certPem)).toBe(phase);
  });

  it('with no rotation under way (old and new the same root), a healthy cluster is in phase 0', () => {
    expect(cacertsPhase(before, oldRoot.certPem, oldRoot.certPem)).toBe(0);
  });

  it('cacerts of another root, a new intermediate under the old roots only, or none at all fit no phase, and say why', () => {
    expect(cacertsPhase(istioCacerts(newInt, stranger.certPem), oldRoot.certPem, newRoot.certPem)).toMatch(/no phase/);
    expect(cacertsPhase({ ...before, 'ca-cert.pem': newInt.certPem }, oldRoot.certPem, newRoot.certPem)).toMatch(/signed by the new root and it trusts 1 root\(s\) \(old\)/);
    expect(cacertsPhase(undefined, oldRoot.certPem, newRoot.certPem)).toMatch(/missing/);
    expect(cacertsPhase({ 'ca-cert.pem': oldInt.certPem, 'root-cert.pem': oldRoot.certPem }, oldRoot.certPem, newRoot.certPem)).toMatch(/incomplete/);
    expect(cacertsPhase({ ...before, 'ca-cert.pem': 'garbage' }, oldRoot.certPem, newRoot.certPem)).toMatch(/not certificates/);
  });
});

describe('where a rotation stands', () => {
  it('the lowest phase is where it is; the next is one more, until 3', () => {
    expect(rotationProgress([0, 0])).toEqual({ current: 0, next: 1 });
    expect(rotationProgress([1, 2])).toEqual({ current: 1, next: 2 });
    expect(rotationProgress([2, 2, 2])).toEqual({ current: 2, next: 3 });
    expect(rotationProgress([3, 3])).toEqual({ current: 3 });
  });
});

describe('what each phase waits for', () => {
  it('proxies: both roots in phases 1 and 2; the new one in phase 3', () => {
    const both = oldRoot.certPem + newRoot.certPem;
    expect(trustFits(1, both, oldRoot.certPem, newRoot.certPem)).toBe(true);
    expect(trustFits(1, oldRoot.certPem, oldRoot.certPem, newRoot.certPem)).toBe(false);
    expect(trustFits(2, newRoot.certPem, oldRoot.certPem, newRoot.certPem)).toBe(false);
    expect(trustFits(3, newRoot.certPem, oldRoot.certPem, newRoot.certPem)).toBe(true);
    expect(trustFits(3, oldRoot.certPem, oldRoot.certPem, newRoot.certPem)).toBe(false);
  });

  it('istiod\'s published roots: exactly both in phases 1 and 2 (any order), exactly the new one in phase 3', () => {
    expect(publishedFits(1, newRoot.certPem + oldRoot.certPem, oldRoot.certPem, newRoot.certPem)).toBe(true);
    expect(publishedFits(2, oldRoot.certPem, oldRoot.certPem, newRoot.certPem)).toBe(false);
    expect(publishedFits(3, newRoot.certPem + oldRoot.certPem, oldRoot.certPem, newRoot.certPem)).toBe(false);
    expect(publishedFits(3, newRoot.certPem, oldRoot.certPem, newRoot.certPem)).toBe(true);
    expect(publishedFits(1, '', oldRoot.certPem, newRoot.certPem)).toBe(false);
  });
});

describe('what a run does next (a resumed run never skips a wait)', () => {
  it('from the start: write phase 1', () => {
    expect(nextStep([0, 0], 0)).toEqual({ step: 'write', phase: 1 });
  });

  it('every cluster at one phase that this run has not seen reached (a run stopped in its wait): wait for it first', () => {
    expect(nextStep([1, 1], 0)).toEqual({ step: 'wait', phase: 1 });
    expect(nextStep([2, 2, 2], 1)).toEqual({ step: 'wait', phase: 2 });
    expect(nextStep([3, 3], 0)).toEqual({ step: 'wait', phase: 3 });
  });

  it('once seen reached: the next phase, then the CA directory', () => {
    expect(nextStep([1, 1], 1)).toEqual({ step: 'write', phase: 2 });
    expect(nextStep([3, 3], 3)).toEqual({ step: 'promote' });
  });

  it('clusters apart (a run stopped while writing): the lower phase was reached, so the higher one is written to the rest', () => {
    expect(nextStep([2, 1], 0)).toEqual({ step: 'write', phase: 2 });
    expect(nextStep([3, 2, 3], 0)).toEqual({ step: 'write', phase: 3 });
  });
});
