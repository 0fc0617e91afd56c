// `eastwest init`: the spec it writes is valid, commented and holds the clusters as given; the command
// refuses to overwrite, and bad or repeated --context values are exit 2 naming the flag.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MESH_ID, DEFAULT_TRUST_DOMAIN, initSpecText, parseContextMapping, parseContextMappings } from '../../src/actions/init-spec.ts';
import { InputError } from '../../src/core/errors.ts';
import { processIo, type Io } from '../../src/cli/output.ts';
import { run } from '../../src/cli/main.ts';
import { decodeMeshSpec } from '../../src/spec/decode.ts';

const twoClusters = [{ name: 'us', context: 'prod-us-east-1' }, { name: 'eu', context: 'prod-eu-west-1' }];

/** Runs the CLI in this process, with stdout and stderr collected. */
async function eastwest(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    ...processIo(),
    stdout: { write: (s: string) => ((stdout += s), true) } as unknown as NodeJS.WritableStream,
    stderr: { write: (s: string) => ((stderr += s), true) } as unknown as NodeJS.WritableStream,
    interactive: false,
  };
  const code = await run(['node', 'eastwest', ...args], io);
  return { code, stdout, stderr };
}

const problemsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected an InputError');
};

describe('initSpecText', () => {
  it('writes a valid spec with the clusters, contexts, networks and regions as given', () => {
    const text = initSpecText({
      clusters: [{ name: 'us', context: 'prod-us-east-1', network: 'net-a', region: 'us-east-1' }, { name: 'eu', context: 'prod-eu-west-1' }],
      meshID: 'training-mesh',
      trustDomain: 'corp.local',
    });
    const { spec } = decodeMeshSpec(text, 'mesh.yaml').document;
    expect(spec.meshID).toBe('training-mesh');
    expect(spec.trustDomain).toBe('corp.local');
    expect(spec.clusters.map((c) => [c.name, c.context, c.network, c.region])).toEqual([
      ['us', 'prod-us-east-1', 'net-a', 'us-east-1'],
      ['eu', 'prod-eu-west-1', 'eu-net', 'eu'],
    ]);
    expect(spec.profile).toBe('standard');
    expect(spec.services).toEqual([]);
  });

  it('is commented: every section explained, the README\'s "Real clusters" named, optional fields shown commented out', () => {
    const text = initSpecText({ clusters: twoClusters });
    const comments = text.split('\n').filter((l) => l.trimStart().startsWith('#'));
    expect(comments.length).toBeGreaterThan(15);
    expect(text).toContain('"Real clusters"');
    for (const field of ['meshID', 'trustDomain', 'version', 'context', 'network', 'region']) {
      // Each required field is preceded (somewhere above it) by a comment naming or explaining it.
      expect(text.slice(0, text.indexOf(`${field}:`))).toMatch(/#/);
    }
    for (const optional of ['# zone:', '#   address:', '# services:', '# sync:', '#   image:']) expect(text).toContain(optional);
    expect(text).toContain('.eastwest/pki');
    // Uncommenting the examples gives a valid spec too.
    const uncommented = text
      .replace(/^(\s*)# (zone): <zone>.*$/gm, '$1$2: a')
      .replace(/^(\s*)# (eastWestGateway):$/gm, '$1$2:')
      .replace(/^(\s*)# {3}address: <ip-or-host>.*$/gm, '$1  address: 203.0.113.7')
      .replace(/^ {2}# (services:|sync:)$/gm, '  $1')
      .replace(/^ {2}# ( {2}.*)$/gm, '  $1')
      .replace('<registry>/eastwest:<version>', 'registry.example/eastwest:1');
    const { spec } = decodeMeshSpec(uncommented, 'uncommented.yaml').document;
    expect(spec.services.map((s) => s.name)).toEqual(['echo']);
    expect(spec.sync.image).toBe('registry.example/eastwest:1');
    expect(spec.clusters[0]!.eastWestGateway.address).toBe('203.0.113.7');
  });

  it('defaults: mesh ID, Istio\'s trust domain, the schema\'s Istio version; contexts needing quotes are quoted', () => {
    const text = initSpecText({ clusters: [{ name: 'us', context: '123' }, { name: 'eu', context: 'a: b' }] });
    const { spec } = decodeMeshSpec(text, 'mesh.yaml').document;
    expect(spec.meshID).toBe(DEFAULT_MESH_ID);
    expect(spec.trustDomain).toBe(DEFAULT_TRUST_DOMAIN);
    expect(spec.istio.version).toBe(decodeMeshSpec('apiVersion: eastwest.dev/v1alpha1\nkind: Mesh\nspec: {meshID: m, trustDomain: t.local, clusters: [{name: a, context: a, network: a, region: a}]}\n', 'x').document.spec.istio.version);
    expect(spec.clusters.map((c) => c.context)).toEqual(['123', 'a: b']);
  });

  it('refuses bad names and duplicates, every problem at once, each naming its flag', () => {
    const problems = problemsOf(() =>
      initSpecText({
        clusters: [{ name: 'US', context: 'x' }, { name: 'a', context: 'ctx', network: 'net' }, { name: 'a', context: 'ctx', network: 'net' }],
        meshID: 'Bad_Mesh',
        trustDomain: 'not a domain',
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^--mesh-id: mesh ID "Bad_Mesh" must be a DNS label/),
      expect.stringMatching(/^--trust-domain: trust domain "not a domain" must be a DNS name/),
      expect.stringMatching(/^--context: cluster name "US" must be a DNS label/),
      '--context: cluster name "a" is given twice',
      '--context: context "ctx" is given twice',
      '--context: network "net" is given twice',
    ]);
    expect(problemsOf(() => initSpecText({ clusters: [] }))).toEqual(['--context: no cluster given']);
  });
});

describe('--context values', () => {
  it('name=context, with :network and :region optional; a context with colons (an EKS ARN) is kept whole', () => {
    expect(parseContextMapping('us=prod-us-east-1')).toEqual({ name: 'us', context: 'prod-us-east-1' });
    expect(parseContextMapping('us=prod-us-east-1:us-net')).toEqual({ name: 'us', context: 'prod-us-east-1', network: 'us-net' });
    expect(parseContextMapping('us=prod-us-east-1:us-net:us-east-1')).toEqual({ name: 'us', context: 'prod-us-east-1', network: 'us-net', region: 'us-east-1' });
    const arn = 'arn:aws:eks:us-east-1:111122223333:cluster/prod-us';
    expect(parseContextMapping(`us=${arn}`)).toEqual({ name: 'us', context: arn });
    expect(parseContextMapping(`us=${arn}:us-net:us-east-1`)).toEqual({ name: 'us', context: arn, network: 'us-net', region: 'us-east-1' });
    expect(parseContextMapping('us=admin@prod=1')).toEqual({ name: 'us', context: 'admin@prod=1' });
  });

  it('every unreadable value is reported, with a hint', () => {
    try {
      parseContextMappings(['us', '=ctx', 'us=', 'us=:net', 'eu=ctx:', 'ok=fine']);
      throw new Error('expected an InputError');
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      const problems = (error as InputError).problems;
      expect(problems).toHaveLength(5);
      for (const p of problems) {
        expect(p.path).toBe('--context');
        expect(p.hint).toMatch(/<name>=<context>/);
      }
    }
  });
});

describe('eastwest init', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eastwest-init-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the file, refuses to overwrite it (exit 2) unless --force', async () => {
    const out = join(dir, 'mesh.yaml');
    const first = await eastwest(['init', '--context', 'us=prod-us-east-1', '--context', 'eu=prod-eu-west-1', '--mesh-id', 'training-mesh', '--trust-domain', 'corp.local', '-o', out]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`wrote ${out}`);
    const written = readFileSync(out, 'utf8');
    expect(decodeMeshSpec(written, out).document.spec.clusters.map((c) => c.context)).toEqual(['prod-us-east-1', 'prod-eu-west-1']);

    writeFileSync(out, '# mine\n');
    const again = await eastwest(['init', '--context', 'us=prod-us-east-1', '-o', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
    expect(again.stderr).toMatch(/hint: pass --force/);
    expect(readFileSync(out, 'utf8')).toBe('# mine\n');

    const forced = await eastwest(['init', '--context', 'us=prod-us-east-1', '-o', out, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(decodeMeshSpec(readFileSync(out, 'utf8'), out).document.spec.clusters.map((c) => c.name)).toEqual(['us']);
  });

  it('-o - prints the spec and writes nothing', async () => {
    const r = await eastwest(['init', '--context', 'us=prod-us-east-1:us-net:us-east-1', '-o', '-']);
    expect(r.code, r.stderr).toBe(0);
    expect(decodeMeshSpec(r.stdout, '<stdout>').document.spec.clusters[0]).toMatchObject({ name: 'us', network: 'us-net', region: 'us-east-1' });
    expect(existsSync(join(process.cwd(), '-'))).toBe(false);
  });

  it('a bad --context value, a duplicate or none at all is exit 2 naming the flag, nothing written', async () => {
    const out = join(dir, 'bad.yaml');
    const bad = await eastwest(['init', '--context', 'us', '-o', out]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--context: cannot read "us"/);
    expect(bad.stderr).toMatch(/hint: write <name>=<context>/);
    expect(bad.stderr).not.toMatch(/\n\s+at /); // no stack trace

    const duplicate = await eastwest(['init', '--context', 'us=a', '--context', 'us=b', '-o', out]);
    expect(duplicate.code).toBe(2);
    expect(duplicate.stderr).toContain('--context: cluster name "us" is given twice');

    const none = await eastwest(['init', '-o', out]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--context');
    expect(existsSync(out)).toBe(false);
  });

  it('a directory that does not exist is exit 2 naming -o', async () => {
    const r = await eastwest(['init', '--context', 'us=a', '-o', join(dir, 'no/such/dir/mesh.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/-o: .* cannot be written \(ENOENT\)/);
  });
});

describe('a context that is a kubeconfig context is never split', () => {
  it('OpenShift\'s default/api-x:6443/kube:admin stays whole when the kubeconfig has it; split otherwise', () => {
    const openshift = 'default/api-prod-example-com:6443/kube:admin';
    expect(parseContextMapping(`us=${openshift}`, new Set([openshift]))).toEqual({ name: 'us', context: openshift });
    expect(parseContextMapping(`us=${openshift}:us-net`, new Set([openshift]))).toEqual({ name: 'us', context: openshift, network: 'us-net' });
    expect(parseContextMapping(`us=${openshift}`)).toEqual({ name: 'us', context: 'default/api-prod-example-com:6443/kube', network: 'admin' });
  });
});
