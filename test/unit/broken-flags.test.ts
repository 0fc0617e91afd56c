// Every command with broken flags: exit 2 at once, a short message naming the flag, no stack trace,
// nothing started (no lab, no cluster contacted: the contexts in these specs do not even exist).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/eastwest.js');
const spec = join(root, 'examples/training-mesh.yaml');
const dir = mkdtempSync(join(tmpdir(), 'eastwest-flags-'));
const big = join(dir, 'big.yaml');
writeFileSync(big, `# ${'x'.repeat(5 * 1024 * 1024)}\n`);
const latin1 = join(dir, 'latin1.yaml');
writeFileSync(latin1, Buffer.from([0x6d, 0x65, 0x73, 0x68, 0x3a, 0x20, 0xe9, 0x0a]));

const cases: [string, string[], RegExp][] = [
  ['validate: spec is a binary', ['validate', '-f', '/bin/ls'], /is not a text file/],
  ['render: spec is a binary', ['render', '-f', '/bin/ls', '-o', join(dir, 'out')], /is not a text file/],
  ['render: spec too large', ['render', '-f', big, '-o', join(dir, 'out')], /MiB; a mesh spec is at most 4 MiB/],
  ['validate: spec not UTF-8', ['validate', '-f', latin1], /is not UTF-8 text/],
  ['validate: spec is a directory', ['validate', '-f', dir], /is not a regular file/],
  ['validate: no spec', ['validate'], /-f, --file/],
  ['validate: unknown output format', ['validate', '-f', spec, '-o', 'xml'], /Allowed choices are text, yaml, json/],
  ['apply: --timeout not a duration', ['apply', '-f', spec, '--timeout', 'abc'], /--timeout expects a duration/],
  ['apply: --timeout negative', ['apply', '-f', spec, '--timeout', '-5'], /--timeout/],
  ['apply: --request-timeout zero', ['apply', '-f', spec, '--request-timeout', '0'], /--request-timeout must be between/],
  ['apply: --clusters duplicate', ['apply', '-f', spec, '--clusters', 'us,us'], /names cluster "us" twice/],
  ['apply: --clusters unknown', ['apply', '-f', spec, '--clusters', 'xx'], /"xx" is not a cluster of mesh training-mesh/],
  ['apply: --clusters empty entry', ['apply', '-f', spec, '--clusters', 'us,,eu'], /without empty entries/],
  ['diff: --request-timeout words', ['diff', '-f', spec, '--request-timeout', 'soon'], /--request-timeout expects a duration/],
  ['diff: --clusters unknown', ['diff', '-f', spec, '--clusters', 'ue'], /did you mean "us"\?|did you mean "eu"\?/],
  ['verify: --requests not a number', ['verify', '-f', spec, '--requests', 'abc'], /--requests expects a whole number/],
  ['verify: --requests zero', ['verify', '-f', spec, '--requests', '0'], /--requests expects a whole number from 1/],
  ['verify: --requests fraction', ['verify', '-f', spec, '--requests', '2.5'], /--requests expects a whole number/],
  ['lab up: --clusters duplicate', ['lab', 'up', '--clusters', 'us,us'], /names cluster "us" twice/],
  ['lab up: 17 clusters', ['lab', 'up', '--clusters', Array.from({ length: 17 }, (_, i) => `c${i}`).join(',')], /names 17 clusters; at most 8/],
  ['lab up: bad name', ['lab', 'up', '--clusters', 'US_1'], /"US_1" is not a valid cluster name/],
  ['lab up: unknown flag', ['lab', 'up', '--clustrs', 'us'], /unknown option '--clustrs'/],
  ['ca init: bad rotation', ['ca', 'init', '-f', spec, '--rotate', 'root'], /Allowed choices are intermediates, all/],
  ['import-values: unreadable values', ['import-values', '--values', join(dir, 'missing.yaml')], /cannot be read/],
  ['sync: no spec', ['sync'], /required option '-f, --file/],
  ['sync: --request-timeout words', ['sync', '-f', spec, '--request-timeout', 'later'], /--request-timeout expects a duration/],
  ['sync status: spec is a binary', ['sync', 'status', '-f', '/bin/ls'], /is not a text file/],
  ['traffic: no spec', ['traffic'], /required option '-f, --file/],
  ['traffic: --window too short', ['traffic', '-f', spec, '--window', '2s'], /--window must be between 10 s and 86400 s/],
  ['traffic: --watch words', ['traffic', '-f', spec, '--watch', 'often'], /--watch expects a duration/],
  ['traffic: --clusters unknown', ['traffic', '-f', spec, '--clusters', 'mars'], /"mars" is not a cluster/],
  ['unknown command', ['appyl'], /unknown command 'appyl'/],
];

describe('broken flags', () => {
  for (const [name, args, message] of cases) {
    it(name, () => {
      const started = Date.now();
      const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, timeout: 30_000, env: { ...process.env, KUBECONFIG: join(dir, 'no-kubeconfig') } });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
      expect(r.stderr.length).toBeLessThan(600);
      expect(r.stdout).toBe('');
      expect(Date.now() - started).toBeLessThan(15_000); // nothing was built or contacted
    });
  }
});
