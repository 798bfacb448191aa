/**
 * The `convlens` command. Exit codes: 0 success, 1 bad usage or bad input (one line naming
 * the problem and the fix), 2 internal error. Set CONVLENS_DEBUG=1 for stack traces.
 */
import { Command, CommanderError, Option } from 'commander';
import { ConvlensError } from '../errors.ts';
import { registerExplain } from './commands/explain.ts';
import { registerInspect } from './commands/inspect.ts';
import { registerDemo } from './commands/demo.ts';
import { registerInside } from './commands/inside.ts';
import { registerCompile } from './commands/compile.ts';
import { registerConvert } from './commands/convert.ts';
import { registerOptvis } from './commands/optvis.ts';
import { registerEvaluate } from './commands/evaluate.ts';
import { registerServe } from '../web/serve-command.ts';

const program = new Command('convlens')
  .description('Why does a CNN decide what it decides? Attribution maps, CAMs and inspection for any ONNX CNN.')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();
program.addOption(new Option('--json', 'machine-readable output where a command prints results'));
registerExplain(program);
registerInspect(program);
registerInside(program);
registerOptvis(program);
registerEvaluate(program);
registerCompile(program);
registerConvert(program);
registerServe(program);
registerDemo(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // Help and version exit 0; usage errors were already printed by commander.
    process.exitCode = e.exitCode === 0 ? 0 : 1;
  } else if (e instanceof ConvlensError) {
    process.stderr.write(`convlens: ${e.message}\n`);
    if (process.env['CONVLENS_DEBUG']) process.stderr.write(`${e.stack}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`convlens: internal error: ${(e as Error)?.message ?? e}\n`);
    if (process.env['CONVLENS_DEBUG']) process.stderr.write(`${(e as Error)?.stack}\n`);
    process.exitCode = 2;
  }
}
