/** `convlens predict`, `layers` and `doctor`: what a model predicts, where to look, what it supports. */
import { Command, Option } from 'commander';
import { readModelFile } from '../../model/file.ts';
import { GraphView } from '../../model/graph-view.ts';
import { normalizeOpset } from '../../model/opset.ts';
import { declaredDims } from '../../runtime/specialize.ts';
import type { ResizeMode } from '../../input/image-file.ts';
import { withInputOptions, sizeOption } from '../input-options.ts';
import { Explainer } from '../../methods/explainer.ts';
import { softmaxRows, topClasses } from '../../targets/targets.ts';
import { spatialLayers } from '../../targets/layers.ts';
import { specializeFor } from '../../autodiff/compile.ts';
import { check, methodFamilies } from '../../inspect/doctor.ts';
import { parseInteger, readLabels, UsageError } from '../args.ts';
import { print, printJson, wantsJson } from '../output.ts';

import { loadModelAndInputs } from '../load.ts';


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
    .option('--labels <file>', 'class names: a JSON array or one per line')
    .action(async (modelPath: string, inputs: string[], flags: { top: number; preset: string; resize: ResizeMode; size?: { height: number; width: number }; labels?: string }, command: Command) => {
      const { model, loaded } = await loadModelAndInputs(modelPath, inputs, flags);
      const labels = readLabels(flags.labels);
      await using explainer = await Explainer.create(model);
      const { scores } = await explainer.predict(loaded.tensor);
      const p = softmaxRows(scores);
      const k = scores.data.length / scores.dims[0]!;
      const result = topClasses(scores, Math.min(flags.top, k)).map((classes, i) => ({
        input: loaded.names[i]!,
        top: classes.map((c) => ({ class: c, label: labels?.[c] ?? `class ${c}`, probability: p[i * k + c]!, score: scores.data[i * k + c]! })),
      }));
      if (wantsJson(command)) printJson(result);
      else for (const r of result) print(`${r.input}: ${r.top.map((t) => `${t.label} ${(100 * t.probability).toFixed(1)}%`).join(', ')}`);
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
