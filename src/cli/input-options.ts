/** The options every command that reads images shares (one definition for all of them). */
import { Option, type Command } from 'commander';
import { presetNames } from '../input/presets.ts';
import { resizeModes } from '../input/image-file.ts';
import { parseSize } from './args.ts';

/** --size H,W: the input size when the model does not fix it. */
export const sizeOption = (): Option => new Option('--size <H,W>', 'input size when the model does not fix it').argParser(parseSize);

export function withInputOptions(command: Command): Command {
  return command
    .addOption(new Option('-p, --preset <name>', 'input normalization').choices([...presetNames]).default('imagenet'))
    .addOption(new Option('--resize <mode>', 'how images are fitted to the model').choices([...resizeModes]).default('center-crop'))
    .addOption(sizeOption());
}
