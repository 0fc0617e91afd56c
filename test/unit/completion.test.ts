// `eastwest completion bash|zsh|fish`: scripts generated from the program, so every command, subcommand,
// flag and choice is in them; bash accepts the bash script and completes with it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.ts';
import { makeIo } from '../../src/cli/output.ts';
import { eastwest } from './run-cli.ts';

const program = buildProgram(makeIo(process.stdout, process.stderr, {}));
const commandPaths = (cmd: Command, prefix: string[] = []): string[][] => cmd.commands.flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
const everyCommand = commandPaths(program);
const dir = mkdtempSync(join(tmpdir(), 'eastwest-completion-'));

async function script(shell: string): Promise<string> {
  const r = await eastwest(['completion', shell]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  return r.stdout;
}

describe('completion scripts', () => {
  it('there is something to complete: the program has commands with subcommands', () => {
    expect(everyCommand.map((p) => p.join(' '))).toEqual(expect.arrayContaining(['validate', 'apply', 'verify', 'diff', 'lab up', 'sync status', 'traffic', 'completion']));
  });

  for (const shell of ['bash', 'zsh', 'fish']) {
    it(`${shell}: every command and subcommand, --clusters, the flags' choices`, async () => {
      const text = await script(shell);
      for (const path of everyCommand) expect(text, path.join(' ')).toMatch(new RegExp(`\\b${path.at(-1)}\\b`));
      for (const sub of ['lab/up', 'lab/down', 'sync/status', 'ca/init']) expect(text).toContain(`/${sub}`);
      expect(text).toMatch(/--clusters\b|-l clusters\b/);
      expect(text).toMatch(/--request-timeout\b|-l request-timeout\b/);
      expect(text).toMatch(/--no-color\b|-l no-color\b/);
      expect(text).toContain('text yaml json');
      expect(text).toContain('intermediates all');
      expect(text).toContain('bash zsh fish');
    });
  }

  it('every long flag of every command is in each script', async () => {
    const scripts = await Promise.all(['bash', 'zsh', 'fish'].map(script));
    const walk = (cmd: Command): string[] => [...cmd.options.flatMap((o) => (o.long ? [o.long] : [])), ...cmd.commands.flatMap(walk)];
    for (const flag of new Set(walk(program))) {
      expect(scripts[0], flag).toContain(flag);
      expect(scripts[1], flag).toContain(flag);
      expect(scripts[2], flag).toContain(`-l ${flag.slice(2)}`);
    }
  });

  it('bash -n accepts the bash script', async () => {
    const file = join(dir, 'eastwest.bash');
    writeFileSync(file, await script('bash'));
    const r = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  it('bash completes commands, subcommands, flags, choices and files with it', async () => {
    const file = join(dir, 'eastwest.bash');
    writeFileSync(file, await script('bash'));
    writeFileSync(join(dir, 'mesh.yaml'), 'x');
    const complete = (words: string[]) => {
      const line = words.map((w) => `'${w}'`).join(' ');
      const r = spawnSync('bash', ['-c', `source '${file}'; COMP_WORDS=(${line}); COMP_CWORD=${words.length - 1}; _eastwest; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8', cwd: dir });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.split('\n').filter(Boolean);
    };
    expect(complete(['eastwest', 'ap'])).toEqual(['apply']);
    expect(complete(['eastwest', 'lab', ''])).toEqual(expect.arrayContaining(['up', 'down', 'status']));
    expect(complete(['eastwest', 'apply', '--cl'])).toEqual(['--clusters']);
    expect(complete(['eastwest', 'verify', '--cl'])).toEqual(['--clusters']);
    expect(complete(['eastwest', 'diff', '-o', ''])).toEqual(['text', 'yaml', 'json']);
    expect(complete(['eastwest', 'sync', 'status', '--output', 'y'])).toEqual(['yaml']);
    expect(complete(['eastwest', 'sync', '--le'])).toEqual(['--leader-election']); // `sync` runs `sync run`
    expect(complete(['eastwest', 'ca', 'init', '--rotate', ''])).toEqual(['intermediates', 'all']);
    expect(complete(['eastwest', 'completion', ''])).toEqual(expect.arrayContaining(['bash', 'zsh', 'fish']));
    expect(complete(['eastwest', 'validate', '-f', 'me'])).toEqual(['mesh.yaml']);
    expect(complete(['eastwest', '--no-color', 'traffic', '-f', 'mesh.yaml', '--wa'])).toEqual(['--watch']);
  });

  it('an unknown shell is exit 2 with the choices; so is none', async () => {
    const r = await eastwest(['completion', 'tcsh']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Allowed choices are bash, zsh, fish/);
    expect(r.stdout).toBe('');
    const none = await eastwest(['completion']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/missing required argument 'shell'/);
  });
});
