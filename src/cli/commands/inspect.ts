/** `convlens predict`, `layers` and `doctor`: what a model predicts, where to look, what it supports. */
import { Command, Option } from 'commander';
import { readModelFile } from '../../model/file.ts';
import { GraphView } from '../../model/graph-view.ts';
import { normalizeOpset } from '../../model/opset.ts';
import { declaredDims } from '../../runtime/specialize.ts';
import type { ResizeMode } from '../../input/image-file.ts';
import { withInputOptions, sizeOption } from '../input-options.ts';
import { spatialLayers } from '../../targets/layers.ts';
import { specializeFor } from '../../autodiff/compile.ts';
import { check, methodFamilies } from '../../inspect/doctor.ts';
import { parseInteger, UsageError } from '../args.ts';
import { print, printJson, wantsJson } from '../output.ts';

import { openLens } from '../load.ts';
import { inputBatches } from '../../app/input-batches.ts';
import { discoverInputs } from '../../input/load-input.ts';
import type { ClassScore } from '../../app/lens.ts';
import { formatScore } from '../../targets/head.ts';


/** The input shape to specialize at: --size or the model's declared dims (batch 1). */
export function inputShape(modelPath: string, size?: { height: number; width: number }): number[] {
  const view = new GraphView(normalizeOpset(readModelFile(modelPath)).graph!);
  const dims = declaredDims(view.inputs[0]!) ?? [];
  const nhwc = dims.length === 4 && dims[1] !== 1 && dims[1] !== 3 && (dims[3] === 1 || dims[3] === 3);
  const shape = dims.map((d, i) => (i === 0 ? 1 : d));
  if (size) {
    const [h, w] = nhwc ? [1, 2] : [2, 3];
    shape[h] = size.height;
    shape[w] = size.width;
  }
  if (shape.some((d) => d === undefined)) throw new UsageError(`the model's input size is not fixed ([${dims.map((d) => d ?? '?').join(', ')}]): give one with --size H,W`);
  return shape as number[];
}

export function registerInspect(program: Command): void {
  withInputOptions(program
    .command('predict'))
    .description('top-k predictions for images')
    .argument('<model>', 'ONNX model file')
    .argument('<inputs...>', 'image files, folders or .npy tensors')
    .addOption(new Option('-k, --top <k>', 'how many classes').default(5).argParser(parseInteger('--top', 1)))
    .option('--labels <file>', "class names: a JSON array or one per line (default: the model's own, see convlens annotate; else class indices)")
    .option('--output <name>', 'the model output to read (default: the first); sigmoid heads show sigmoids, a single value shows itself')
    .option('--batch-size <n>', 'images per onnxruntime run', (v) => parseInteger('--batch-size', 1)(v), 8)
    .option('--strict', 'stop at the first unreadable input (default: report it, skip it, go on)')
    .action(async (modelPath: string, inputs: string[], flags: { top: number; preset?: string; resize?: ResizeMode; size?: { height: number; width: number }; labels?: string; output?: string; batchSize: number; strict?: boolean }, command: Command) => {
      await using lens = await openLens(modelPath, flags);
      const result: { input: string; top: ClassScore[] }[] = [];
      for await (const batch of inputBatches(lens, await discoverInputs(inputs), { batchSize: flags.batchSize, strict: flags.strict ?? false })) {
        for (const s of batch.skipped) process.stderr.write(`convlens: skipped ${s.path}: ${s.reason}\n`);
        if (batch.names.length === 0) continue;
        const { top } = await lens.predict(batch.tensor, flags.top, flags.output);
        const rows = top.map((t, i) => ({ input: batch.names[i]!, top: t }));
        if (wantsJson(command)) result.push(...rows);
        else for (const r of rows) print(`${r.input}: ${r.top.map(formatScore).join(', ')}`);
      }
      if (wantsJson(command)) printJson(result);
    });

  program
    .command('layers')
    .description('candidate layers for spatial methods (CAMs, feature maps), with their shapes')
    .argument('<model>', 'ONNX model file')
    .addOption(sizeOption())
    .action(async (modelPath: string, flags: { size?: { height: number; width: number } }, command: Command) => {
      const s = await specializeFor(readModelFile(modelPath), { inputShape: inputShape(modelPath, flags.size) });
      const layers = spatialLayers(s);
      if (wantsJson(command)) printJson(layers);
      else for (const l of layers) print(`${String(l.index).padStart(3)}  ${l.tensor}  [${l.shape.slice(1).join('x')}]  ${l.op} (${l.node})`);
    });

  program
    .command('doctor')
    .description('which ops a model uses and which method families it supports, and why not')
    .argument('<model>', 'ONNX model file')
    .addOption(sizeOption())
    .action(async (modelPath: string, flags: { size?: { height: number; width: number } }, command: Command) => {
      const model = readModelFile(modelPath);
      let shape: number[] | undefined;
      try {
        shape = inputShape(modelPath, flags.size);
      } catch {
        shape = undefined;
      }
      const report = await check(model, shape);
      if (wantsJson(command)) {
        printJson(report);
        return;
      }
      print(`opset ${report.opset}; inputs ${report.inputs.map((i) => `${i.name} [${i.shape.map((d) => d ?? '?').join(', ')}]`).join(', ')}; outputs ${report.outputs.join(', ')}`);
      print(`ops: ${report.ops.map((o) => `${o.op} x${o.count}${o.status === 'gradient' ? '' : ` (${o.status})`}`).join(', ')}`);
      for (const f of report.families) {
        print(`${f.supported ? 'ok  ' : 'NO  '} ${f.family}: ${methodFamilies[f.family as keyof typeof methodFamilies]}${f.reason ? `\n      ${f.reason}` : ''}`);
      }
    });
}
