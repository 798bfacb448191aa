/** `convlens convert`: a TF.js model.json (and its weight shards) saved as an .onnx file. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { readModelFile, writeModelFile } from '../../model/file.ts';
import { OptionError } from '../../errors.ts';

export function registerConvert(program: Command): void {
  program
    .command('convert')
    .description('convert a TF.js model (model.json + weight shards, LayersModel or GraphModel) to an ONNX file; no Python needed')
    .argument('<model>', 'TF.js model.json (an .onnx file is re-saved as it is)')
    .requiredOption('-o, --out <file>', 'output .onnx file')
    .action((modelPath: string, flags: { out: string }) => {
      if (!flags.out.toLowerCase().endsWith('.onnx')) throw new OptionError(`--out '${flags.out}' does not end in .onnx: name the output file model.onnx`);
      writeModelFile(flags.out, readModelFile(modelPath));
      process.stdout.write(`${resolve(flags.out)}\n`);
    });
}
