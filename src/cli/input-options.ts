/** The options every command that reads images shares (one definition for all of them). */
import { Option, type Command } from 'commander';
import { presetNames } from '../input/presets.ts';
import { resizeModes } from '../input/image-file.ts';
import { parseSize } from './args.ts';

/** --size H,W: the input size when the model does not fix it. */
export const sizeOption = (): Option => new Option('--size <H,W>', 'input size when the model does not fix it (default: the size stored in the model)').argParser(parseSize);

export function withInputOptions(command: Command): Command {
  return command
    .addOption(new Option('-p, --preset <name>', "input normalization (default: the model's own, see convlens annotate; else imagenet for color, unit for gray)").choices([...presetNames]))
    .addOption(new Option('--resize <mode>', "how images are fitted to the model (default: the model's own, else center-crop)").choices([...resizeModes]))
    .addOption(sizeOption());
}
