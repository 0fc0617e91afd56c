// kubeconfig read the way kubectl reads it: --kubeconfig, else every file of the KUBECONFIG list (missing
// ones skipped), else ~/.kube/config; the files merged with the first definition of a name winning. The
// files read are named in every error, and a context that is in none of them is bad input (exit 2), found
// before any cluster is contacted — never an "unreachable" cluster.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { EastwestError, EXIT, InputError, type Problem } from '../core/errors.ts';
import { closest } from '../util/closest.ts';

/** Where the kubeconfig comes from: the files, in precedence order, and how they were chosen. */
export interface KubeconfigSource {
  files: string[];
  /** For messages: `--kubeconfig`, `$KUBECONFIG` or `~/.kube/config` (and the lab's, when added). */
  from: string;
}

/** The files kubectl would read; `fallback` (the lab's kubeconfig) is added last when it holds contexts the others lack. */
export function kubeconfigSource(options: { flag?: string | undefined; env?: NodeJS.ProcessEnv; contexts?: readonly string[]; fallback?: string } = {}): KubeconfigSource {
  const env = options.env ?? process.env;
  let source: KubeconfigSource;
  if (options.flag) source = { files: [resolve(options.flag)], from: '--kubeconfig' };
  else if (env.KUBECONFIG) source = { files: [...new Set(env.KUBECONFIG.split(delimiter).filter((f) => f && existsSync(f)))], from: '$KUBECONFIG' };
  else source = { files: [join(env.HOME ?? homedir(), '.kube', 'config')].filter((f) => existsSync(f)), from: '~/.kube/config' };
  const { fallback, contexts } = options;
  if (!options.flag && fallback && contexts?.length && existsSync(fallback) && !source.files.includes(fallback)) {
    const known = new Set(source.files.flatMap(contextNamesIn));
    if (contexts.some((c) => !known.has(c)) && contexts.every((c) => known.has(c) || contextNamesIn(fallback).includes(c))) {
      source = { files: [...source.files, fallback], from: `${source.from} and the lab's kubeconfig` };
    }
  }
  return source;
}

function contextNamesIn(file: string): string[] {
  try {
    const config = parse(readFileSync(file, 'utf8')) as { contexts?: { name?: string }[] } | null;
    return (config?.contexts ?? []).flatMap((c) => (c.name ? [c.name] : []));
  } catch {
    return [];
  }
}

/** What `source` names, for messages. */
export function describeSource(source: KubeconfigSource): string {
  return source.files.length ? `${source.files.join(', ')} (${source.from})` : `no kubeconfig file (${source.from} names none that exists)`;
}

function readOne(file: string, source: KubeconfigSource): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (error) {
    // Never the parser's full message: it quotes the lines around the error, which may hold a token or key.
    const e = error as { code?: string; name?: string; reason?: string; mark?: { line: number; column: number } };
    const why = e.code ?? (e.name === 'YAMLException' ? `not valid YAML (${e.reason ?? 'syntax error'}${e.mark ? ` at line ${e.mark.line + 1}, column ${e.mark.column + 1}` : ''})` : 'not a valid kubeconfig');
    throw new EastwestError('kubeconfig-unreadable', `cannot read the kubeconfig ${file} (from ${source.from}): ${why}`, { exitCode: EXIT.badInput, hint: 'fix that file, or pass --kubeconfig <file> / set KUBECONFIG to other files' });
  }
  return kc;
}

/** Every file merged as kubectl merges them: the first file that defines a name wins; current-context from the first that sets one. */
export function loadMerged(source: KubeconfigSource, into: KubeConfig = new KubeConfig()): KubeConfig {
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  let currentContext = '';
  for (const file of source.files) {
    const kc = readOne(file, source);
    for (const c of kc.getClusters()) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const u of kc.getUsers()) if (!users.has(u.name)) users.set(u.name, u);
    for (const c of kc.getContexts()) if (!contexts.has(c.name)) contexts.set(c.name, c);
    currentContext ||= kc.getCurrentContext() ?? '';
  }
  into.loadFromOptions({ clusters: [...clusters.values()], users: [...users.values()], contexts: [...contexts.values()], currentContext });
  return into;
}

/** Contexts the clusters need that no file defines: exit 2 naming each cluster, its context and the files read. */
export function checkContexts(clusters: readonly { name: string; context: string }[], source: KubeconfigSource): void {
  const known = loadMerged(source).getContexts().map((c) => c.name);
  const problems: Problem[] = clusters.filter((c) => !known.includes(c.context)).map((c) => {
    const near = closest(c.context, known);
    return {
      path: `clusters.${c.name}.context`,
      message: `context "${c.context}" is in no kubeconfig file read`,
      hint: near ? `did you mean "${near}"? or set it for this run with --context ${c.name}=<context>` : known.length ? `contexts there: ${known.join(', ')}; or set it with --context ${c.name}=<context>` : 'no file read defines any context: pass --kubeconfig, set KUBECONFIG, or for the lab run `eastwest lab up`',
    };
  });
  if (problems.length) throw new InputError(`kubeconfig: read ${describeSource(source)}`, problems);
}

/** The source as one KUBECONFIG value (what helm and kubectl read the same way). */
export const kubeconfigEnv = (source: KubeconfigSource): string => source.files.join(delimiter);
