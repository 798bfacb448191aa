/**
 * The `convlens` command. Exit codes: 0 success, 1 bad usage or bad input (one line naming
 * the problem and the fix), 2 internal error. Set CONVLENS_DEBUG=1 for stack traces.
 */
import { Command, CommanderError, Option } from 'commander';
import { ConvlensError } from '../errors.ts';
import { setRunGuard } from '../runtime/session.ts';
import { watchdog } from '../runtime/watchdog.ts';
import { defaultMaxInputElements, setMaxInputElements } from '../runtime/finite.ts';
import { systemError } from './system-errors.ts';
import { useCompileCache } from './load.ts';
import { defaultCacheDir } from '../runtime/disk-cache.ts';
import { suggestChoices } from './suggest.ts';
import { registerExplain } from './commands/explain.ts';
import { registerInspect } from './commands/inspect.ts';
import { registerDemo } from './commands/demo.ts';
import { registerAnnotate } from './commands/annotate.ts';
import { registerInside } from './commands/inside.ts';
import { registerCompile } from './commands/compile.ts';
import { registerConvert } from './commands/convert.ts';
import { registerOptvis } from './commands/optvis.ts';
import { registerEvaluate } from './commands/evaluate.ts';
import { registerQueue } from './commands/queue.ts';
import { registerWorker } from './commands/worker.ts';
import { registerServe } from '../web/serve-command.ts';
import { registerSite } from './commands/site.ts';

// `convlens ... | head`: a reader that stops early ends the command quietly, as Unix tools do.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const program = new Command('convlens')
  .description('Why does a CNN decide what it decides? Attribution maps, CAMs and inspection for any ONNX CNN.\n\n-o is a folder for commands that write several files (explain, demo, evaluate, features, filters) and a file for commands that write one (graph, compile, convert, maximize, dream, annotate). --json prints what a command wrote or found as JSON on stdout.')
  .version('0.1.0')
  // Usage errors in one line: 'convlens: <problem> (run with --help for usage)'.
  .configureOutput({ outputError: (text, write) => write(`convlens: ${text.replace(/^error: /, '').trim().replace(/\s*\n\s*\(Did you mean ([^)]*)\)/g, '; did you mean $1').replace(/\s*\n\s*/g, ' ')} (run with --help for usage)\n`) })
  .exitOverride();
program.addOption(new Option('--json', 'print results as JSON on stdout (every command; progress and warnings stay on stderr)'));
program.addOption(new Option('--time-limit <s>', 'longest one model evaluation may run, in seconds (a model with long loops is stopped)').default(120).argParser((v: string) => {
  const s = Number(v);
  if (!(s > 0 && Number.isFinite(s))) throw new ConvlensError(`--time-limit '${v}' is not a positive number of seconds`);
  return s;
}));
program.addOption(new Option('--max-input-elements <n>', 'largest model input per image, in values (C x H x W), evaluated without complaint').default(defaultMaxInputElements).argParser((v: string) => {
  const n = Number(v);
  if (!(Number.isSafeInteger(n) && n > 0)) throw new ConvlensError(`--max-input-elements '${v}' is not a positive integer`);
  return n;
}));
program.addOption(new Option('--no-cache', `do not read or write compiled graphs in the cache folder (${defaultCacheDir()}; set CONVLENS_CACHE_DIR to move it)`));
program.hook('preAction', (_program, command) => {
  const { timeLimit: seconds, maxInputElements, cache } = command.optsWithGlobals<{ timeLimit: number; maxInputElements: number; cache: boolean }>();
  useCompileCache(cache);
  setMaxInputElements(maxInputElements);
  setRunGuard(watchdog(seconds * 1000, `convlens: a model evaluation ran past the time limit of ${seconds} s and was stopped (a model with very long loops, or too large an input for this machine): raise it with --time-limit SECONDS`));
});
registerExplain(program);
registerInspect(program);
registerInside(program);
registerOptvis(program);
registerEvaluate(program);
registerCompile(program);
registerConvert(program);
registerServe(program);
registerQueue(program);
registerWorker(program);
registerSite(program);
registerDemo(program);
registerAnnotate(program);
suggestChoices(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // Help and version exit 0; usage errors were already printed by commander.
    process.exitCode = e.exitCode === 0 ? 0 : 1;
  } else if (e instanceof ConvlensError || systemError(e)) {
    process.stderr.write(`convlens: ${e instanceof ConvlensError ? e.message : systemError(e)!}\n`);
    if (process.env['CONVLENS_DEBUG']) process.stderr.write(`${(e as Error).stack}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`convlens: internal error: ${(e as Error)?.message ?? e}\n`);
    if (process.env['CONVLENS_DEBUG']) process.stderr.write(`${(e as Error)?.stack}\n`);
    process.exitCode = 2;
  }
}
