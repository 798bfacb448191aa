/** `convlens compile`: a standalone explainer graph (image and class index in, map out). */
import { Command, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { readModelFile } from '../../model/file.ts';
import { serializeModel } from '../../model/model.ts';
import { exportableMethods, exportExplainer, EXPLANATION, TARGET_CLASS } from '../../export/explainer-graph.ts';
import { parseInteger, parseLayer } from '../args.ts';
import { inputShape } from './inspect.ts';
import { sizeOption } from '../input-options.ts';
import { fileHelp, outFile } from '../out-path.ts';
import { printJson, wantsJson } from '../output.ts';

// Loaded when --triton is given (module-level, as every lazy import of the CLI: see inside.ts).
const tritonModule = () => import('../../export/triton.ts');

export function registerCompile(program: Command): void {
  program
    .command('compile')
    .description(`write a standalone ONNX explainer: inputs (image, ${TARGET_CLASS} int64 [N]) -> output '${EXPLANATION}', runnable by any ONNX runtime`)
    .argument('<model>', 'ONNX model file')
    .addOption(new Option('-m, --method <id>', 'method').choices([...exportableMethods]).default('grad-cam'))
    .option('-l, --layer <name>', 'layer for grad-cam (tensor name, node name or index) (default: the last spatial layer)')
    .addOption(new Option('--batch <n>', 'batch size the graph takes').default(1).argParser(parseInteger('--batch', 1)))
    .addOption(sizeOption())
    .requiredOption('-o, --out <file>', `${fileHelp('.onnx')} (required)`)
    .option('--triton <dir>', 'also write a Triton / KServe v2 model repository there: <dir>/<method>/config.pbtxt and <dir>/<method>/1/model.onnx (default: none)')
    .action(async (modelPath: string, flags: { method: string; layer?: string; batch: number; size?: { height: number; width: number }; out: string; triton?: string }, command: Command) => {
      const path = outFile(flags.out, ['.onnx']);
      const shape = inputShape(modelPath, flags.size);
      shape[0] = flags.batch;
      const graph = await exportExplainer(readModelFile(modelPath), { method: flags.method, inputShape: shape, ...(flags.layer ? { layer: parseLayer(flags.layer) } : {}) });
      writeFileSync(path, serializeModel(graph));
      const triton = flags.triton ? await (await tritonModule()).writeTritonRepository(flags.triton, flags.method, graph) : [];
      if (wantsJson(command)) printJson({ files: [path, ...triton], outputs: [{ kind: 'explainer', method: flags.method, ...(flags.layer ? { layer: flags.layer } : {}), inputShape: shape, inputs: ['image', TARGET_CLASS], output: EXPLANATION, path }] });
      else process.stdout.write(`${[path, ...triton].join('\n')}\n`);
    });
}
