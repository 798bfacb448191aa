/** `convlens convert`: a TF.js model.json (and its weight shards) saved as an .onnx file. */
import type { Command } from 'commander';
import { readModelFile, writeModelFile } from '../../model/file.ts';
import { fileHelp, outFile } from '../out-path.ts';
import { printJson, wantsJson } from '../output.ts';

export function registerConvert(program: Command): void {
  program
    .command('convert')
    .description('convert a TF.js model (model.json + weight shards, LayersModel or GraphModel) to an ONNX file; no Python needed')
    .argument('<model>', 'TF.js model.json (an .onnx file is re-saved as it is)')
    .requiredOption('-o, --out <file>', `${fileHelp('.onnx')} (required)`)
    .action((modelPath: string, flags: { out: string }, command: Command) => {
      const path = outFile(flags.out, ['.onnx']);
      const model = readModelFile(modelPath);
      writeModelFile(path, model);
      if (wantsJson(command)) printJson({ files: [path], outputs: [{ kind: 'model', from: modelPath, nodes: model.graph?.node?.length ?? 0, path }] });
      else process.stdout.write(`${path}\n`);
    });
}
