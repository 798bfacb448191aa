/**
 * `convlens summary`, `graph`, `features` and `filters`: the model's layers and structure,
 * what the layers compute, and what their kernels look like.
 */
import { Command, Option } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { readModelFile } from '../../model/file.ts';
import { GradientEngine } from '../../autodiff/engine.ts';
import { specializeFor } from '../../autodiff/compile.ts';
import { featureMaps, layerOutputs, makeGrid, renderGrid } from '../../inspect/feature-maps.ts';
import { filterImages, weightLayers, weightStats } from '../../inspect/filters.ts';
import { colormapNames, type ColormapName } from '../../viz/colormaps.ts';
import { encodePng } from '../../viz/png.ts';
import type { ResizeMode } from '../../input/image-file.ts';
import { parseInteger, parseLayer, UsageError } from '../args.ts';
import { print, printJson, wantsJson } from '../output.ts';
import { formatSummary, summarize } from '../../inspect/summary.ts';
import { modelGraph } from '../../inspect/graph.ts';
import { layoutGraph, renderSvg } from '../../inspect/graph-svg.ts';
import { svgToPng } from '../../inspect/graph-png.ts';
import { withInputOptions, sizeOption } from '../input-options.ts';
import { loadModelAndInputs } from '../load.ts';
import { inputShape } from './inspect.ts';

const safe = (name: string) => name.replace(/[^A-Za-z0-9_.-]+/g, '_');
const collectLayers = (v: string, prev: (string | number)[] | undefined) => [...(prev ?? []), parseLayer(v)];

async function writePng(out: string, name: string, image: Parameters<typeof encodePng>[0]): Promise<string> {
  mkdirSync(out, { recursive: true });
  const path = resolve(join(out, name));
  writeFileSync(path, await encodePng(image));
  return path;
}

export function registerInside(program: Command): void {
  program
    .command('summary')
    .description('one row per layer: output shape, parameters, multiply-accumulates, with totals')
    .argument('<model>', 'ONNX model file')
    .addOption(sizeOption())
    .action(async (modelPath: string, flags: { size?: { height: number; width: number } }, command: Command) => {
      const summary = summarize(await specializeFor(readModelFile(modelPath), { inputShape: inputShape(modelPath, flags.size) }));
      print(wantsJson(command) ? JSON.stringify(summary, null, 2) : formatSummary(summary));
    });

  program
    .command('graph')
    .description('the model as a diagram (conv/BN/activation runs collapsed into blocks)')
    .argument('<model>', 'ONNX model file')
    .requiredOption('-o, --out <file>', 'output .svg or .png')
    .option('--expand', 'one box per ONNX node (no collapsing)')
    .addOption(sizeOption())
    .action(async (modelPath: string, flags: { out: string; expand?: boolean; size?: { height: number; width: number } }) => {
      if (!/\.(svg|png)$/i.test(flags.out)) throw new UsageError(`--out '${flags.out}' must end in .svg or .png`);
      const s = await specializeFor(readModelFile(modelPath), { inputShape: inputShape(modelPath, flags.size) });
      const svg = renderSvg(layoutGraph(modelGraph(s, { collapse: !flags.expand })), { title: basename(modelPath) });
      writeFileSync(flags.out, /\.png$/i.test(flags.out) ? await svgToPng(svg) : svg);
      print(resolve(flags.out));
    });

  withInputOptions(program.command('features'))
    .description('feature maps of layers for images, as grids (and --outputs: the first channels of each layer in one figure)')
    .argument('<model>', 'ONNX model file')
    .argument('<inputs...>', 'image files, folders or .npy tensors')
    .addOption(new Option('-l, --layer <name>', 'layer (tensor name, node name or index; repeat; default: every conv layer)').argParser(collectLayers))
    .addOption(new Option('--top <k>', 'only the k most active channels').argParser(parseInteger('--top', 1)))
    .addOption(new Option('--nrow <n>', 'tiles per row').default(8).argParser(parseInteger('--nrow', 1)))
    .addOption(new Option('--normalize <how>', 'tile scaling').choices(['per-map', 'per-layer', 'none']).default('per-map'))
    .addOption(new Option('--colormap <name>', 'colors').choices([...colormapNames]).default('viridis'))
    .option('--outputs', 'one figure per image: the first channels of each layer, a row per layer')
    .option('-o, --out <dir>', 'output folder', 'convlens-out')
    .action(async (modelPath: string, inputs: string[], flags: { preset: string; resize: ResizeMode; size?: { height: number; width: number }; layer?: (string | number)[]; top?: number; nrow: number; normalize: 'per-map' | 'per-layer' | 'none'; colormap: ColormapName; outputs?: boolean; out: string }, command: Command) => {
      const { model, loaded } = await loadModelAndInputs(modelPath, inputs, flags);
      await using engine = new GradientEngine(model);
      const layers = flags.layer ?? 'all';
      const files: string[] = [];
      if (flags.outputs) {
        const figures = await layerOutputs(engine, loaded.tensor, layers, { colormap: flags.colormap, normalize: flags.normalize });
        for (const [i, f] of figures.entries()) files.push(await writePng(flags.out, `${loaded.names[i]}.layer-outputs.png`, f.image));
      } else {
        const sets = await featureMaps(engine, loaded.tensor, layers, flags.top ? { topK: flags.top } : {});
        for (const set of sets) {
          const grid = makeGrid(set.maps, { nrow: flags.nrow, normalize: flags.normalize, channels: set.channels });
          files.push(await writePng(flags.out, `${loaded.names[set.image]}.features.${safe(set.layer.tensor)}.png`, renderGrid(grid, { colormap: flags.colormap })));
        }
      }
      if (wantsJson(command)) printJson({ files });
      else files.forEach((f) => print(f));
    });

  program
    .command('filters')
    .description('kernel images of conv layers (RGB for the first layer), and weight statistics of every layer')
    .argument('<model>', 'ONNX model file')
    .addOption(new Option('-l, --layer <name>', 'conv layer (node name, output tensor name or index; repeat; default: all)').argParser(collectLayers))
    .addOption(new Option('--max-tiles <n>', 'kernels shown per layer at most').default(64).argParser(parseInteger('--max-tiles', 1)))
    .addOption(sizeOption())
    .option('-o, --out <dir>', 'output folder', 'convlens-out')
    .action(async (modelPath: string, flags: { layer?: (string | number)[]; maxTiles: number; size?: { height: number; width: number }; out: string }, command: Command) => {
      const s = await specializeFor(readModelFile(modelPath), { inputShape: inputShape(modelPath, flags.size) });
      const refs = flags.layer ?? weightLayers(s).filter((l) => l.op === 'Conv' || l.op === 'ConvTranspose').map((l) => l.name);
      const files: string[] = [];
      for (const ref of refs) {
        const f = filterImages(s, ref, { maxTiles: flags.maxTiles });
        files.push(await writePng(flags.out, `filters.${safe(f.layer)}.png`, f.grid));
      }
      const stats = weightStats(s);
      if (wantsJson(command)) printJson({ files, stats: stats.map(({ histogram: _h, ...rest }) => rest) });
      else {
        files.forEach((f) => print(f));
        for (const w of stats) print(`${w.layer} (${w.op}) [${w.shape.join('x')}]: min ${w.min.toFixed(4)} max ${w.max.toFixed(4)} mean ${w.mean.toFixed(4)} std ${w.std.toFixed(4)} zeros ${(100 * w.zeros).toFixed(1)}%`);
      }
    });
}
