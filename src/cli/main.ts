// eastwest's command line: parse, call one core function per command, render its result.
import { Command, CommanderError } from 'commander';
import { EXIT, EastwestError, InputError, formatProblem } from '../core/errors.ts';
import { makeStyle, processIo, type Io } from './output.ts';
import { registerApplyCommand } from './commands/apply.ts';
import { registerCaCommand } from './commands/ca.ts';
import { registerCompletionCommand } from './commands/completion.ts';
import { registerDiffCommand } from './commands/diff.ts';
import { registerImportValuesCommand } from './commands/import-values.ts';
import { registerInitCommand } from './commands/init.ts';
import { registerLabCommand } from './commands/lab.ts';
import { registerRenderCommand } from './commands/render.ts';
import { registerSchemaCommand } from './commands/schema.ts';
import { registerValidateCommand } from './commands/validate.ts';
import { registerVerifyCommand } from './commands/verify.ts';
import { registerStatusCommand } from './commands/status.ts';
import { registerDoctorCommand } from './commands/doctor.ts';
import { registerSyncCommand } from './commands/sync.ts';
import { registerTrafficCommand } from './commands/traffic.ts';
import { registerProvider } from '../engine/provider.ts';
import { labProvider } from '../lab/provider.ts';

const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  a check failed or drift was found
  2  bad input (spec, flags, files): every problem is listed as file:line:col path: message
  3  a cluster could not be reached or refused an operation`;

export function buildProgram(io: Io): Command {
  const program = new Command('eastwest')
    .description('One Istio mesh across clusters in different regions and networks, from one spec file.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `${EXIT_CODES_HELP}\n\nStart with:\n  eastwest init --context us=prod-us-east-1 --context eu=prod-eu-west-1   # writes mesh.yaml\n  eastwest validate -f mesh.yaml\n  eastwest render -f mesh.yaml -o out/`)
    .option('--debug', 'show stack traces of unexpected errors')
    .option('--no-color', 'no colour in the output (also when NO_COLOR is set); glyphs and colour appear only on a terminal anyway')
    .hook('preAction', (root) => {
      if (root.opts().color === false && io.style.color) io.style = makeStyle({ terminal: true, color: false });
    })
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride();
  registerInitCommand(program, io);
  registerValidateCommand(program, io);
  registerRenderCommand(program, io);
  registerCaCommand(program, io);
  registerImportValuesCommand(program, io);
  registerSchemaCommand(program, io);
  registerLabCommand(program, io);
  registerApplyCommand(program, io);
  registerVerifyCommand(program, io);
  registerDiffCommand(program, io);
  registerStatusCommand(program, io);
  registerDoctorCommand(program, io);
  registerSyncCommand(program, io);
  registerTrafficCommand(program, io);
  registerCompletionCommand(program, io);
  return program;
}

/** Runs the CLI and returns the exit code; only `main` sets it on the process. */
export async function run(argv: string[], io: Io): Promise<number> {
  // The offline lab provides clusters, charts and images to specs of its profile.
  registerProvider(labProvider);
  const program = buildProgram(io);
  const debug = argv.includes('--debug') || Boolean(process.env.EASTWEST_DEBUG);
  try {
    await program.parseAsync(argv);
    return io.exitCode ?? EXIT.ok;
  } catch (error) {
    return reportError(error, io, debug);
  }
}

/** Every failure ends here: a message and a hint, the exit code; a stack trace only with --debug. */
export function reportError(error: unknown, io: Io, debug = false): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.ok;
    return EXIT.badInput;
  }
  if (error instanceof InputError) {
    io.stderr.write(`error: ${error.message}\n`);
    for (const problem of error.problems) io.stderr.write(`  ${formatProblem(problem)}\n`);
    if (error.hint) io.stderr.write(`hint: ${error.hint}\n`);
    return error.exitCode;
  }
  if (EastwestError.is(error)) {
    io.stderr.write(`error: ${error.message}\n`);
    if (error.hint) io.stderr.write(`hint: ${error.hint}\n`);
    if (debug && error.stack) io.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  // Not one of ours: a defect. Say so plainly; the stack only when asked for.
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  io.stderr.write(`error: unexpected failure: ${message}\n`);
  if (debug) io.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
  else io.stderr.write('hint: run again with --debug for the stack trace, and report it\n');
  return EXIT.failed;
}

export async function main(argv: string[]): Promise<void> {
  const code = await run(argv, processIo());
  // The process ends by itself: every command closes what it opened, and a request to a cluster that
  // stopped answering is aborted at its deadline (measured with an API server frozen: 1–2 ms from the
  // result to the end). Should anything still hold it, this guard (which holds nothing) ends it.
  process.exitCode = code;
  setTimeout(() => process.exit(code), 5000).unref();
}
