/** `convlens compile`: a standalone explainer graph (image and class index in, map out). */
import { Command, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readModelFile } from '../../model/file.ts';
import { serializeModel } from '../../model/model.ts';
import { exportableMethods, exportExplainer, EXPLANATION, TARGET_CLASS } from '../../export/explainer-graph.ts';
import { parseInteger, parseLayer } from '../args.ts';
import { inputShape } from './inspect.ts';
import { sizeOption } from '../input-options.ts';

export function registerCompile(program: Command): void {
  program
    .command('compile')
    .description(`write a standalone ONNX explainer: inputs (image, ${TARGET_CLASS} int64 [N]) -> output '${EXPLANATION}', runnable by any ONNX runtime`)
    .argument('<model>', 'ONNX model file')
    .addOption(new Option('-m, --method <id>', 'method').choices([...exportableMethods]).default('grad-cam'))
    .option('-l, --layer <name>', 'layer for grad-cam (default: the last spatial layer)')
    .addOption(new Option('--batch <n>', 'batch size the graph takes').default(1).argParser(parseInteger('--batch', 1)))
    .addOption(sizeOption())
    .requiredOption('-o, --out <file>', 'output .onnx file')
    .action(async (modelPath: string, flags: { method: string; layer?: string; batch: number; size?: { height: number; width: number }; out: string }) => {
      const shape = inputShape(modelPath, flags.size);
      shape[0] = flags.batch;
      const graph = await exportExplainer(readModelFile(modelPath), { method: flags.method, inputShape: shape, ...(flags.layer ? { layer: parseLayer(flags.layer) } : {}) });
      writeFileSync(flags.out, serializeModel(graph));
      process.stdout.write(`${resolve(flags.out)}\n`);
    });
}
