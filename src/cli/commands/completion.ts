// `eastwest completion bash|zsh|fish`: a completion script generated from the program itself (its
// commands, subcommands, long flags and their choices), so it never lags behind the commands.
import { Argument, type Command, type Option } from 'commander';
import type { Io } from '../output.ts';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** What a flag's value is completed with. */
type ValueKind = 'none' | 'file' | 'directory' | 'choices' | 'text';

interface Flag {
  long?: string;
  short?: string;
  description: string;
  value: ValueKind;
  choices: string[];
}

interface CommandNode {
  /** `/lab/up`; the program itself is the empty path. */
  path: string;
  name: string;
  description: string;
  subcommands: CommandNode[];
  flags: Flag[];
  /** Choices of its positional arguments (e.g. the shell of `completion`). */
  argumentChoices: string[];
}

/** A value placeholder names a file (`<mesh.yaml>`, `<path>`, `<file>`) or a directory (`<dir>`). */
function valueKind(option: Option): ValueKind {
  // An optional value (`--watch [interval]`) is taken only when given: the next word is completed as usual.
  if (!option.required) return 'none';
  if (option.argChoices?.length) return 'choices';
  const placeholder = /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1] ?? '';
  if (/^dir(ectory)?$/.test(placeholder)) return 'directory';
  if (/\.(ya?ml|json|pem)$|^(path|file)$/.test(placeholder)) return 'file';
  return 'text';
}

const short = (text: string) => {
  const first = text.split(/: |; | \(/)[0]!.trim();
  return first.length <= 72 ? first : `${first.slice(0, first.lastIndexOf(' ', 70))} …`;
};

function flagOf(option: Option): Flag {
  return {
    ...(option.long ? { long: option.long } : {}),
    ...(option.short ? { short: option.short } : {}),
    description: short(option.description),
    value: valueKind(option),
    choices: [...(option.argChoices ?? [])],
  };
}

const HELP: Flag = { long: '--help', short: '-h', description: 'show help', value: 'none', choices: [] };

/** The program as a tree; every command also takes the program's own options, as commander accepts them anywhere. */
export function commandTree(program: Command): CommandNode {
  const globals = program.options.filter((o) => !o.hidden).map(flagOf);
  const node = (cmd: Command, path: string, inherited: Flag[]): CommandNode => {
    const subcommands = cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden).map((c) => node(c, `${path}/${c.name()}`, globals));
    const own = cmd.options.filter((o) => !o.hidden).map(flagOf);
    // `eastwest sync -f …` runs `sync run`: the default subcommand's flags are offered at its parent too.
    const defaultName = (cmd as unknown as { _defaultCommandName?: string })._defaultCommandName;
    const byDefault = subcommands.find((s) => s.name === defaultName)?.flags ?? [];
    const flags: Flag[] = [];
    for (const flag of [...own, ...byDefault, ...inherited, HELP]) {
      if (!flags.some((f) => f.long === flag.long && f.short === flag.short)) flags.push(flag);
    }
    return {
      path,
      name: cmd.name(),
      description: short(cmd.description()),
      subcommands,
      flags,
      argumentChoices: cmd.registeredArguments.flatMap((a) => a.argChoices ?? []),
    };
  };
  return node(program, '', []);
}

function allNodes(root: CommandNode): CommandNode[] {
  return [root, ...root.subcommands.flatMap(allNodes)];
}

const names = (flag: Flag) => [flag.long, flag.short].filter((n): n is string => n !== undefined);
const valueFlagKeys = (node: CommandNode, kinds: ValueKind[]) => node.flags.filter((f) => kinds.includes(f.value)).flatMap((f) => names(f).map((n) => `${node.path}/${n}`));
const longFlags = (node: CommandNode) => node.flags.flatMap((f) => (f.long ? [f.long] : []));

/** Shell code shared by bash and zsh: walks the words before the cursor to the command path, skipping flag values. */
function pathCases(root: CommandNode, indent: string): string[] {
  const nodes = allNodes(root);
  const steps = nodes.flatMap((n) => n.subcommands.map((s) => s.path));
  const skips = nodes.flatMap((n) => valueFlagKeys(n, ['file', 'directory', 'choices', 'text']));
  return [
    `${indent}  ${steps.join('|')}) path_="$path_/$word" ;;`,
    ...(skips.length ? [`${indent}  ${skips.join('|')}) skip=1 ;;`] : []),
  ];
}

/** bash and zsh alike: the words before the cursor, walked to find the (sub)command path and skip flag values. */
function walkWords(root: CommandNode, range: string, word: string): string[] {
  return [
    `  for ((${range}; i++)); do`,
    `    word="${word}"`,
    '    if ((skip)); then skip=0; continue; fi',
    '    case "$path_/$word" in',
    ...pathCases(root, '    '),
    '    esac',
    '  done',
  ];
}

export function bashScript(root: CommandNode, program = root.name): string {
  const nodes = allNodes(root);
  const lines = [
    `# bash completion for ${program} (generated by \`${program} completion bash\`)`,
    `# Load it with: source <(${program} completion bash)   or save it in /etc/bash_completion.d/${program}`,
    `_${program}() {`,
    '  local cur prev word path_="" skip=0 i words_',
    '  cur="${COMP_WORDS[COMP_CWORD]}"',
    '  prev="${COMP_WORDS[COMP_CWORD-1]}"',
    ...walkWords(root, 'i = 1; i < COMP_CWORD', '${COMP_WORDS[i]}'),
    '  case "$path_/$prev" in',
  ];
  for (const node of nodes) {
    for (const flag of node.flags.filter((f) => f.value === 'choices')) lines.push(`    ${names(flag).map((n) => `${node.path}/${n}`).join('|')}) COMPREPLY=($(compgen -W "${flag.choices.join(' ')}" -- "$cur")); return ;;`);
  }
  const files = nodes.flatMap((n) => valueFlagKeys(n, ['file']));
  const dirs = nodes.flatMap((n) => valueFlagKeys(n, ['directory']));
  const texts = nodes.flatMap((n) => valueFlagKeys(n, ['text']));
  if (files.length) lines.push(`    ${files.join('|')}) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;`);
  if (dirs.length) lines.push(`    ${dirs.join('|')}) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")); return ;;`);
  if (texts.length) lines.push(`    ${texts.join('|')}) COMPREPLY=(); return ;;`);
  lines.push('  esac', '  case "$path_" in');
  for (const node of nodes) {
    const words = [...node.subcommands.map((s) => s.name), ...node.argumentChoices, ...longFlags(node)];
    lines.push(`    "${node.path}") words_="${words.join(' ')}" ;;`);
  }
  lines.push(
    '    *) words_="" ;;',
    '  esac',
    '  COMPREPLY=($(compgen -W "$words_" -- "$cur"))',
    '}',
    `complete -F _${program} ${program}`,
    '',
  );
  return lines.join('\n');
}

const zshQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

export function zshScript(root: CommandNode, program = root.name): string {
  const nodes = allNodes(root);
  const lines = [
    `#compdef ${program}`,
    `# zsh completion for ${program} (generated by \`${program} completion zsh\`)`,
    `# Load it with: source <(${program} completion zsh)   or save it as _${program} in a directory of $fpath`,
    `_${program}() {`,
    '  local cur prev word path_="" skip=0 i',
    '  local -a subcommands flags choices',
    '  cur="${words[CURRENT]}"',
    '  prev="${words[CURRENT-1]}"',
    ...walkWords(root, 'i = 2; i < CURRENT', '${words[i]}'),
    '  case "$path_/$prev" in',
  ];
  for (const node of nodes) {
    for (const flag of node.flags.filter((f) => f.value === 'choices')) lines.push(`    ${names(flag).map((n) => `${node.path}/${n}`).join('|')}) compadd -- ${flag.choices.join(' ')}; return ;;`);
  }
  const files = nodes.flatMap((n) => valueFlagKeys(n, ['file']));
  const dirs = nodes.flatMap((n) => valueFlagKeys(n, ['directory']));
  const texts = nodes.flatMap((n) => valueFlagKeys(n, ['text']));
  if (files.length) lines.push(`    ${files.join('|')}) _files; return ;;`);
  if (dirs.length) lines.push(`    ${dirs.join('|')}) _files -/; return ;;`);
  if (texts.length) lines.push(`    ${texts.join('|')}) _message 'value'; return ;;`);
  lines.push('  esac', '  case "$path_" in');
  for (const node of nodes) {
    const subs = node.subcommands.map((s) => zshQuote(`${s.name}:${s.description}`));
    const flags = node.flags.flatMap((f) => (f.long ? [zshQuote(`${f.long}:${f.description}`)] : []));
    lines.push(`    "${node.path}")`, `      subcommands=(${subs.join(' ')})`, `      flags=(${flags.join(' ')})`, `      choices=(${node.argumentChoices.join(' ')}) ;;`);
  }
  lines.push(
    '  esac',
    '  if [[ $cur == -* ]]; then',
    "    _describe -t flags 'flag' flags",
    '  else',
    "    (( ${#subcommands} )) && _describe -t commands 'command' subcommands",
    '    (( ${#choices} )) && compadd -- $choices',
    "    (( ${#subcommands} + ${#choices} )) || _describe -t flags 'flag' flags",
    '  fi',
    '}',
    `if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then _${program} "$@"; else compdef _${program} ${program}; fi`,
    '',
  );
  return lines.join('\n');
}

const fishQuote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function fishScript(root: CommandNode, program = root.name): string {
  const nodes = allNodes(root);
  const steps = nodes.flatMap((n) => n.subcommands.map((s) => s.path));
  const skips = nodes.flatMap((n) => valueFlagKeys(n, ['file', 'directory', 'choices', 'text']));
  const fn = `__${program}_at`;
  const lines = [
    `# fish completion for ${program} (generated by \`${program} completion fish\`)`,
    `# Load it with: ${program} completion fish | source   or save it as ~/.config/fish/completions/${program}.fish`,
    `function __${program}_path`,
    "    set -l path_ ''",
    '    set -l skip 0',
    '    for word in (commandline -opc)[2..-1]',
    '        if test $skip = 1',
    '            set skip 0',
    '            continue',
    '        end',
    '        switch "$path_/$word"',
    `            case ${steps.join(' ')}`,
    '                set path_ "$path_/$word"',
    ...(skips.length ? [`            case ${skips.join(' ')}`, '                set skip 1'] : []),
    '        end',
    '    end',
    '    echo $path_',
    'end',
    `function ${fn}`,
    `    set -l here (__${program}_path)`,
    '    test "$here" = "$argv[1]"',
    'end',
    `complete -c ${program} -f`,
  ];
  for (const node of nodes) {
    const at = `-n ${fishQuote(`${fn} '${node.path}'`)}`;
    for (const sub of node.subcommands) lines.push(`complete -c ${program} ${at} -a ${sub.name} -d ${fishQuote(sub.description)}`);
    if (node.argumentChoices.length) lines.push(`complete -c ${program} ${at} -a ${fishQuote(node.argumentChoices.join(' '))}`);
    for (const flag of node.flags) {
      const opts = [flag.long ? `-l ${flag.long.slice(2)}` : '', flag.short ? `-s ${flag.short.slice(1)}` : ''].filter(Boolean).join(' ');
      const value = flag.value === 'file' ? ' -r -F' : flag.value === 'directory' ? " -r -a '(__fish_complete_directories)'" : flag.value === 'choices' ? ` -x -a ${fishQuote(flag.choices.join(' '))}` : flag.value === 'text' ? ' -x' : '';
      lines.push(`complete -c ${program} ${at} ${opts}${value} -d ${fishQuote(flag.description)}`);
    }
  }
  lines.push('');
  return lines.join('\n');
}

export function completionScript(program: Command, shell: Shell): string {
  const root = commandTree(program);
  return shell === 'bash' ? bashScript(root) : shell === 'zsh' ? zshScript(root) : fishScript(root);
}

export function registerCompletionCommand(program: Command, io: Io): void {
  program
    .command('completion')
    .description('print a completion script for your shell (commands, flags and their choices)')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .addHelpText('after', '\nExamples:\n  source <(eastwest completion bash)              # in ~/.bashrc\n  eastwest completion zsh > "${fpath[1]}/_eastwest"\n  eastwest completion fish > ~/.config/fish/completions/eastwest.fish')
    .action((shell: Shell) => {
      io.stdout.write(completionScript(program, shell));
    });
}
