// An export's Ready condition: routed from other clusters only once its own east-west gateway routes the
// name. The probe is run against real sockets on loopback (a TLS server as a sidecar answers, a server
// that closes as a gateway without the SNI does, a silent one, a closed port); the decision is pure.
import net from 'node:net';
import tls from 'node:tls';
import { webcrypto } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { passthroughSni, probeGateway } from '../../src/controller/gateway-probe.ts';
import { needsProbe, readyCondition, UNCONFIRMED_AFTER_MS, UNREACHABLE_UNCONFIRMED_AFTER_MS } from '../../src/mcs/export-readiness.ts';
import { exportFrom } from '../../src/controller/sync.ts';
import { decodeMeshSpec } from '../../src/spec/decode.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

x509.cryptoProvider.set(webcrypto as never);

async function workloadCertificate(uri: string): Promise<{ cert: string; key: string }> {
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as unknown as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'O=test',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as never,
    keys,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: uri }])],
  });
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { cert: cert.toString('pem'), key: x509.PemConverter.encode(der, 'PRIVATE KEY') };
}

const servers: net.Server[] = [];
const listen = async (server: net.Server): Promise<number> => {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
};
afterAll(() => servers.forEach((s) => s.close()));

describe('asking a gateway whether it routes a name (probeGateway)', () => {
  let sidecar = 0;
  let seenSni: string[] = [];
  beforeAll(async () => {
    const { cert, key } = await workloadCertificate('spiffe://corp.local/ns/shop/sa/hello');
    // As a sidecar's inbound listener: mTLS only (a client without a certificate is refused after the hello).
    const server = tls.createServer({ cert, key, requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['istio'], SNICallback: (name, cb) => { seenSni.push(name); cb(null, tls.createSecureContext({ cert, key })); } });
    server.on('tlsClientError', () => undefined);
    server.on('secureConnection', (s) => s.destroy());
    sidecar = await listen(server);
  });

  it('the SNI is Istio\'s outbound cluster name of the host and port', () => {
    expect(passthroughSni('hello.shop.svc.clusterset.local', 80)).toBe('outbound_.80_._.hello.shop.svc.clusterset.local');
  });
  it('a sidecar behind it answers the hello: passes, with the workload\'s SPIFFE identity', async () => {
    seenSni = [];
    const answer = await probeGateway({ address: '127.0.0.1', port: sidecar, sni: passthroughSni('hello.shop.svc.clusterset.local', 80) });
    expect(answer).toMatchObject({ answer: 'passes', identity: 'spiffe://corp.local/ns/shop/sa/hello' });
    expect(seenSni).toEqual(['outbound_.80_._.hello.shop.svc.clusterset.local']);
  });
  it('the gateway reads the hello and closes (no filter chain for the SNI): refuses', async () => {
    const port = await listen(net.createServer((s) => s.once('data', () => s.destroy())));
    const answer = await probeGateway({ address: '127.0.0.1', port, sni: 'outbound_.80_._.new.shop.svc.clusterset.local' });
    expect(answer.answer).toBe('refuses');
  });
  it('the gateway resets the connection: refuses', async () => {
    const port = await listen(net.createServer((s) => s.once('data', () => s.resetAndDestroy())));
    expect((await probeGateway({ address: '127.0.0.1', port, sni: 'x' })).answer).toBe('refuses');
  });
  it('taken and never answered: refuses once the time is up (not a sidecar, no usable route)', async () => {
    const port = await listen(net.createServer(() => undefined));
    const started = Date.now();
    const answer = await probeGateway({ address: '127.0.0.1', port, sni: 'x', timeoutMs: 300 });
    expect(answer).toMatchObject({ answer: 'refuses', detail: expect.stringContaining('no TLS answer within 300 ms') });
    expect(Date.now() - started).toBeLessThan(2000);
  });
  it('something beyond the gateway answers, not in TLS: refuses (no sidecar, so no route a peer can use)', async () => {
    const port = await listen(net.createServer((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'))));
    expect((await probeGateway({ address: '127.0.0.1', port, sni: 'x' })).answer).toBe('refuses');
  });
  it('a gateway that ends TLS itself (a certificate without a SPIFFE identity): refuses', async () => {
    const { cert, key } = await workloadCertificate('https://gateway.example.com');
    const server = tls.createServer({ cert, key });
    server.on('secureConnection', (s) => s.destroy());
    server.on('tlsClientError', () => undefined);
    const port = await listen(server);
    expect(await probeGateway({ address: '127.0.0.1', port, sni: 'x' })).toMatchObject({ answer: 'refuses', detail: expect.stringContaining('without a workload\'s SPIFFE identity') });
  });
  it('nothing listens: unreachable (nothing can be said from here)', async () => {
    const server = net.createServer();
    const port = await listen(server);
    await new Promise((r) => server.close(r));
    expect((await probeGateway({ address: '127.0.0.1', port, sni: 'x' })).answer).toBe('unreachable');
  });
});

describe('the Ready condition (readyCondition, needsProbe)', () => {
  const base = { host: 'hello.shop.svc.clusterset.local', cluster: 'eu', gateway: '198.18.2.17', readyEndpoints: 2, live: undefined, now: 1_000_000 };
  it('no gateway address: Ready=False NoGatewayAddress, nothing to ask', () => {
    const input = { ...base, gateway: undefined };
    expect(needsProbe(input)).toBe(false);
    expect(readyCondition(input)).toMatchObject({ type: 'Ready', status: 'False', reason: 'NoGatewayAddress' });
  });
  it('no ready endpoint: Ready=False NoReadyEndpoints, nothing to ask (a gateway refuses then anyway)', () => {
    const input = { ...base, readyEndpoints: 0, live: { type: 'Ready' as const, status: 'True' as const, reason: 'GatewayServes', message: 'm' } };
    expect(needsProbe(input)).toBe(false);
    expect(readyCondition(input)).toMatchObject({ status: 'False', reason: 'NoReadyEndpoints' });
  });
  it('the gateway routes it: Ready=True GatewayServes, naming the gateway and the identity behind it', () => {
    expect(needsProbe(base)).toBe(true);
    const c = readyCondition({ ...base, probe: { answer: 'passes', identity: 'spiffe://corp.local/ns/shop/sa/hello' } });
    expect(c).toMatchObject({ status: 'True', reason: 'GatewayServes' });
    expect(c.message).toContain('198.18.2.17:15443');
    expect(c.message).toContain('spiffe://corp.local/ns/shop/sa/hello');
  });
  it('once settled, it is kept as it is (no probe, the same message: no status write)', () => {
    const live = { type: 'Ready' as const, status: 'True' as const, reason: 'GatewayServes', message: 'as written' };
    expect(needsProbe({ ...base, live })).toBe(false);
    expect(readyCondition({ ...base, live })).toEqual(live);
  });
  it('learning (Ready=False from before) is asked again', () => {
    expect(needsProbe({ ...base, live: { type: 'Ready', status: 'False', reason: 'GatewayLearning', message: '' } })).toBe(true);
  });
  it('refused: Ready=False GatewayLearning, until 30 s of refusals: then routed unconfirmed', () => {
    const probe = { answer: 'refuses' as const, detail: 'closed without a TLS answer' };
    expect(readyCondition({ ...base, probe, refusingSince: base.now })).toMatchObject({ status: 'False', reason: 'GatewayLearning' });
    expect(readyCondition({ ...base, probe, refusingSince: base.now - UNCONFIRMED_AFTER_MS + 1 })).toMatchObject({ status: 'False', reason: 'GatewayLearning' });
    const late = readyCondition({ ...base, probe, refusingSince: base.now - UNCONFIRMED_AFTER_MS });
    expect(late).toMatchObject({ status: 'True', reason: 'GatewayUnconfirmed' });
    expect(late.message).toContain('30 s');
  });
  it('the gateway cannot be reached from the controller: asked again for 5 s (a restarting pod), then routed unconfirmed (a load balancer without hairpin)', () => {
    const probe = { answer: 'unreachable' as const, detail: 'ECONNREFUSED' };
    expect(readyCondition({ ...base, probe, refusingSince: base.now - 1000 })).toMatchObject({ status: 'False', reason: 'GatewayUnreachable' });
    expect(readyCondition({ ...base, probe, refusingSince: base.now - UNREACHABLE_UNCONFIRMED_AFTER_MS })).toMatchObject({ status: 'True', reason: 'GatewayUnconfirmed', message: expect.stringContaining('ECONNREFUSED') });
  });
});

describe('whether other clusters may route to an export (exportFrom: accepted)', () => {
  const spec = decodeMeshSpec(readFileSync(join(import.meta.dirname, '../../examples/lab.yaml'), 'utf8'), 'lab.yaml').document.spec;
  const eu = spec.clusters.find((c) => c.name === 'eu')!;
  const accepted = (conditions: { type: string; status: string }[]) => exportFrom({
    cluster: eu,
    service: () => ({ spec: { selector: { app: 'hello' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } }),
    endpoints: () => ({ ready: 1, ports: {} }),
  } as never, { metadata: { namespace: 'shop', name: 'hello', creationTimestamp: '2026-11-25T10:00:00Z' }, status: { conditions } } as never)!.accepted;
  it('no status yet: not routed', () => expect(accepted([])).toBe(false));
  it('Valid=True and Ready=False (its gateway learning): not routed', () => expect(accepted([{ type: 'Valid', status: 'True' }, { type: 'Ready', status: 'False' }])).toBe(false));
  it('Valid=True and Ready=True: routed', () => expect(accepted([{ type: 'Valid', status: 'True' }, { type: 'Ready', status: 'True' }])).toBe(true));
  it('Valid=True from a controller that writes no Ready (an earlier version, during an upgrade): routed', () => expect(accepted([{ type: 'Valid', status: 'True' }])).toBe(true));
  it('Valid=False: not routed, whatever Ready says', () => expect(accepted([{ type: 'Valid', status: 'False' }, { type: 'Ready', status: 'True' }])).toBe(false));
});
