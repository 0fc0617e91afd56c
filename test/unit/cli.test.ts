import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/eastwest.js');

function eastwest(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function workdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'eastwest-cli-'));
  cpSync(join(root, 'examples'), join(dir, 'examples'), { recursive: true, filter: (src) => !src.includes('.eastwest') });
  // ECDSA keeps this test fast; RSA-4096 is covered by the PKI tests.
  for (const f of ['training-mesh.yaml', 'lab.yaml']) {
    const p = join(dir, 'examples', f);
    writeFileSync(p, readFileSync(p, 'utf8').replace('  clusters:\n', '  pki: {keyAlgorithm: ECDSA-P256}\n  clusters:\n'));
  }
  return dir;
}

describe('eastwest CLI', () => {
  it('render writes per-cluster output whose cacerts verify with openssl, then renders byte-identically', () => {
    const dir = workdir();
    expect(eastwest(['ca', 'init', '-f', 'examples/training-mesh.yaml'], dir).code).toBe(0);
    const first = eastwest(['render', '-f', 'examples/training-mesh.yaml', '-o', 'out/', '--report', 'json'], dir);
    expect(first.code, first.stderr).toBe(0);
    const report = JSON.parse(first.stdout);
    expect(report.pendingGatewayAddresses).toHaveLength(6); // echo (ServiceEntry, WorkloadEntry) and Prometheus per cluster
    expect(first.stderr).toContain('needs the east-west gateway address of eu');
    const pre = readFileSync(join(dir, 'out/us/manifests/00-pre-install.yaml'), 'utf8');
    const data = (key: string) => Buffer.from(new RegExp(`${key.replace('.', '\\.')}: (\\S+)`).exec(pre)![1]!, 'base64').toString();
    for (const f of ['root-cert.pem', 'ca-cert.pem']) writeFileSync(join(dir, f), data(f));
    expect(execFileSync('openssl', ['verify', '-CAfile', 'root-cert.pem', '-untrusted', 'ca-cert.pem', 'ca-cert.pem'], { cwd: dir, encoding: 'utf8' })).toContain('OK');
    const post = readFileSync(join(dir, 'out/us/manifests/10-post-install.yaml'), 'utf8');
    expect(post).toContain('sni: outbound_.80_._.echo.echo.svc.cluster.local');
    expect(post).toContain('- echo.eu.mesh.local');
    const snapshot = execFileSync('sh', ['-c', 'find out -type f | sort | xargs cat'], { cwd: dir });
    expect(eastwest(['render', '-f', 'examples/training-mesh.yaml', '-o', 'out/'], dir).code).toBe(0);
    expect(execFileSync('sh', ['-c', 'find out -type f | sort | xargs cat'], { cwd: dir }).equals(snapshot)).toBe(true);
  });

  it('a broken spec gives all its errors with file:line:col, exit 2, and writes nothing', () => {
    const dir = workdir();
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, readFileSync(join(dir, 'examples/training-mesh.yaml'), 'utf8').replace('network: eu-net', 'network: us-net').replace('meshID:', 'meshId:'));
    const r = eastwest(['render', '-f', 'broken.yaml', '-o', 'out/'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/broken\.yaml:8:3 spec\.meshId: unknown field "meshId"\n\s+hint: did you mean "meshID"\?/);
    expect(r.stderr).toMatch(/broken\.yaml:22:16 spec\.clusters\[1\]\.network: duplicate network "us-net"/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
    expect(existsSync(join(dir, '.eastwest'))).toBe(false);
    expect(r.stdout).toBe('');
  });

  it('validate -o json, unknown flags exit 2, missing file exit 2 with a hint', () => {
    const dir = workdir();
    const ok = eastwest(['validate', '-f', 'examples/lab.yaml', '-o', 'json'], dir);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, clusters: ['us', 'eu'], federation: 'service-entry' });
    expect(eastwest(['validate', '--nope'], dir).code).toBe(2);
    const missing = eastwest(['validate', '-f', 'nope.yaml'], dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.yaml does not exist');
  });

  it("import-values maps the guide's values file and warns about its errata", () => {
    const dir = workdir();
    const r = eastwest(['import-values', '--values', join(root, 'test/fixtures/guide-values-istio.yaml'), '--cluster', 'us=prod-us-east-1:us-net', '--cluster', 'eu=prod-eu-west-1:eu-net'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/guide-values-istio\.yaml:8:5 pilot\.env\.PILOT_ENABLE_MULTINETWORK: PILOT_ENABLE_MULTINETWORK does not exist/);
    expect(r.stderr).toMatch(/guide-values-istio\.yaml:4:3 global\.trustDomain: .*hint: the trust domain belongs in meshConfig\.trustDomain/s);
    expect(r.stdout).toContain('trustDomain: corp.local');
    expect(r.stdout).toContain('context: prod-eu-west-1');
  });

  it('--help lists the exit codes and examples', () => {
    const r = eastwest(['--help'], root);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2  bad input');
    expect(eastwest(['render', '--help'], root).stdout).toContain('eastwest render -f examples/training-mesh.yaml -o out/');
  });
});

describe('the CA is team state: read-only commands in a clone without .eastwest/ make no key', () => {
  it('render without a local CA writes every file but cacerts, says so, and creates nothing beside the spec', () => {
    const dir = workdir();
    const r = eastwest(['render', '-f', 'examples/training-mesh.yaml', '-o', 'out/', '--report', 'json'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/cacerts not rendered for eu, us: no intermediate of the local root in .*examples\/\.eastwest\/pki/);
    expect(JSON.parse(r.stdout).cacertsMissing).toEqual(['eu', 'us']);
    expect(readFileSync(join(dir, 'out/us/manifests/00-pre-install.yaml'), 'utf8')).not.toContain('name: cacerts');
    expect(readFileSync(join(dir, 'out/us/manifests/10-post-install.yaml'), 'utf8')).toContain('sni: outbound_.80_._.echo.echo.svc.cluster.local');
    expect(existsSync(join(dir, 'examples/.eastwest'))).toBe(false);
    const stream = eastwest(['render', '-f', 'examples/lab.yaml', '-o', '-'], dir);
    expect(stream.code, stream.stderr).toBe(0);
    expect(existsSync(join(dir, 'examples/.eastwest'))).toBe(false);
  });

  it('ca init is what makes the keys; render then uses them and changes nothing in the CA directory', () => {
    const dir = workdir();
    expect(eastwest(['ca', 'init', '-f', 'examples/lab.yaml'], dir).code).toBe(0);
    const snapshot = execFileSync('sh', ['-c', 'find examples/.eastwest -type f | sort | xargs sha256sum'], { cwd: dir, encoding: 'utf8' });
    const r = eastwest(['render', '-f', 'examples/lab.yaml', '-o', 'out/'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('cacerts not rendered');
    expect(readFileSync(join(dir, 'out/eu/manifests/00-pre-install.yaml'), 'utf8')).toContain('name: cacerts');
    expect(execFileSync('sh', ['-c', 'find examples/.eastwest -type f | sort | xargs sha256sum'], { cwd: dir, encoding: 'utf8' })).toBe(snapshot);
  });
});

describe('exit codes of cluster commands', () => {
  it('apply with contexts in no kubeconfig file is bad input (exit 2) naming the file and each context, before anything is contacted', () => {
    const dir = workdir();
    writeFileSync(join(dir, 'kubeconfig'), 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
    for (const command of [['apply'], ['apply', '--dry-run'], ['diff'], ['status']]) {
      const r = eastwest([...command, '-f', 'examples/training-mesh.yaml', '--kubeconfig', 'kubeconfig'], dir);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`kubeconfig: read ${join(dir, 'kubeconfig')} (--kubeconfig)`);
      expect(r.stderr).toMatch(/clusters\.us\.context: context "prod-us-east-1" is in no kubeconfig file read/);
      expect(r.stderr).toMatch(/clusters\.eu\.context: context "prod-eu-west-1" is in no kubeconfig file read/);
      expect(r.stdout).toBe('');
      expect(existsSync(join(dir, 'examples/.eastwest'))).toBe(false);
    }
  });
});
