/**
 * `convlens summary`, `graph`, `features` and `filters`: the model's layers and structure,
 * what the layers compute, and what their kernels look like.
 */
import { Command, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readModelFile } from '../../model/file.ts';
import { GradientEngine } from '../../autodiff/engine.ts';
import { specializeFor } from '../../autodiff/compile.ts';
import type { Figure } from '../../inspect/figure.ts';
import { colormapNames, type ColormapName } from '../../viz/colormaps.ts';
import type { ResizeMode } from '../../input/image-file.ts';
import { parseInteger, parseLayer } from '../args.ts';
import { fileHelp, folderHelp, outFile, outFolder } from '../out-path.ts';
import { print, printJson, wantsJson } from '../output.ts';
import { withInputOptions, sizeOption } from '../input-options.ts';
import { loadModelAndInputs } from '../load.ts';
import { inputShape } from './inspect.ts';

// Each command's own modules load when it runs (start-up of every other command stays short).
// Every lazy import of the CLI is a module-level function like these: TypeScript does not
// rewrite the .ts extension of an import() inside a function that uses `await using`.
const figurePngModule = () => import('../../inspect/figure-png.ts');
const featureMapsModule = () => import('../../inspect/feature-maps.ts');
const summaryModule = () => import('../../inspect/summary.ts');
const filtersModule = () => import('../../inspect/filters.ts');
const graphModules = () => Promise.all([import('../../inspect/graph.ts'), import('../../inspect/graph-svg.ts'), import('../../inspect/graph-png.ts')]);

const safe = (name: string) => name.replace(/[^A-Za-z0-9_.-]+/g, '_');
const collectLayers = (v: string, prev: (string | number)[] | undefined) => [...(prev ?? []), parseLayer(v)];

async function writeFigure(folder: string, name: string, figure: Figure): Promise<string> {
  const path = join(folder, name);
  writeFileSync(path, await (await figurePngModule()).figurePng(figure));
  return path;
}

export function registerInside(program: Command): void {
  program
    .command('summary')
    .description('one row per layer: output shape, parameters, multiply-accumulates, with totals')
    .argument('<model>', 'ONNX model file')
    .addOption(sizeOption())
    .action(async (modelPath: string, flags: { size?: { height: number; width: number } }, command: Command) => {
      const { formatSummary, summarize } = await summaryModule();
      const summary = summarize(await specializeFor(readModelFile(modelPath), { inputShape: inputShape(modelPath, flags.size) }));
      print(wantsJson(command) ? JSON.stringify(summary, null, 2) : formatSummary(summary));
    });

  program
    .command('graph')
    .description('the model as a diagram (conv/BN/activation runs collapsed into blocks)')
    .argument('<model>', 'ONNX model file')
    .requiredOption('-o, --out <file>', `${fileHelp('.svg or .png')} (required)`)
    .option('--expand', 'one box per ONNX node (default: conv/BN/activation runs collapsed into blocks)')
    .addOption(sizeOption())
    .action(async (modelPath: string, flags: { out: string; expand?: boolean; size?: { height: number; width: number } }, command: Command) => {
      const path = outFile(flags.out, ['.svg', '.png']);
      const [{ modelGraph }, { layoutGraph, renderSvg }, { svgToPng }] = await graphModules();
      const s = await specializeFor(readModelFile(modelPath), { inputShape: inputShape(modelPath, flags.size) });
      const graph = modelGraph(s, { collapse: !flags.expand });
      const svg = renderSvg(layoutGraph(graph), { title: basename(modelPath) });
      writeFileSync(path, /\.png$/i.test(path) ? await svgToPng(svg) : svg);
      if (wantsJson(command)) printJson({ files: [path], outputs: [{ kind: 'graph', format: /\.png$/i.test(path) ? 'png' : 'svg', boxes: graph.nodes.length, path }] });
      else print(path);
    });

  withInputOptions(program.command('features'))
    .description('feature maps of layers for images, as grids (and --outputs: the first channels of each layer in one figure)')
    .argument('<model>', 'ONNX model file')
    .argument('<inputs...>', 'image files, folders or .npy tensors')
    .addOption(new Option('-l, --layer <name>', 'layer (tensor name, node name or index; repeat) (default: every conv layer)').argParser(collectLayers))
    .addOption(new Option('--top <k>', 'only the k most active channels (default: every channel)').argParser(parseInteger('--top', 1)))
    .addOption(new Option('--nrow <n>', 'tiles per row').default(8).argParser(parseInteger('--nrow', 1)))
    .addOption(new Option('--normalize <how>', 'tile scaling').choices(['per-map', 'per-layer', 'none']).default('per-map'))
    .addOption(new Option('--colormap <name>', 'colors').choices([...colormapNames]).default('viridis'))
    .option('--outputs', 'one figure per image: the first channels of each layer, a row per layer, each under its name')
    .option('-o, --out <dir>', folderHelp, 'convlens-out')
    .action(async (modelPath: string, inputs: string[], flags: { preset: string; resize: ResizeMode; size?: { height: number; width: number }; layer?: (string | number)[]; top?: number; nrow: number; normalize: 'per-map' | 'per-layer' | 'none'; colormap: ColormapName; outputs?: boolean; out: string }, command: Command) => {
      const { featureFigure, featureMaps, layerOutputs, layerOutputsCaptioned } = await featureMapsModule();
      const { model, loaded } = await loadModelAndInputs(modelPath, inputs, flags);
      await using engine = new GradientEngine(model);
      const folder = outFolder(flags.out);
      const layers = flags.layer ?? 'all';
      const outputs: { input: string; layer?: string; layers?: string[]; channels?: number[]; path: string }[] = [];
      if (flags.outputs) {
        const figures = await layerOutputs(engine, loaded.tensor, layers, { colormap: flags.colormap, normalize: flags.normalize, minHeight: 48 });
        for (const [i, f] of figures.entries()) {
          const path = await writeFigure(folder, `${loaded.names[i]}.layer-outputs.png`, layerOutputsCaptioned(f, { colormap: flags.colormap, normalize: flags.normalize, title: `${loaded.names[i]}: layer outputs` }));
          outputs.push({ input: loaded.names[i]!, layers: f.rows.map((r) => r.layer.tensor), path });
        }
      } else {
        const sets = await featureMaps(engine, loaded.tensor, layers, flags.top ? { topK: flags.top } : {});
        for (const set of sets) {
          const input = loaded.names[set.image]!;
          const path = await writeFigure(folder, `${input}.features.${safe(set.layer.tensor)}.png`, featureFigure(set, { columns: flags.nrow, normalize: flags.normalize, colormap: flags.colormap }));
          outputs.push({ input, layer: set.layer.tensor, channels: set.channels, path });
        }
      }
      if (wantsJson(command)) printJson({ files: outputs.map((o) => o.path), outputs });
      else outputs.forEach((o) => print(o.path));
    });

  program
    .command('filters')
    .description('kernel images of conv layers (RGB for the first layer), and weight statistics of every layer')
    .argument('<model>', 'ONNX model file')
    .addOption(new Option('-l, --layer <name>', 'conv layer (node name, output tensor name or index; repeat) (default: every conv layer)').argParser(collectLayers))
    .addOption(new Option('--max-tiles <n>', 'kernels shown per layer at most').default(64).argParser(parseInteger('--max-tiles', 1)))
    .addOption(sizeOption())
    .option('-o, --out <dir>', folderHelp, 'convlens-out')
    .action(async (modelPath: string, flags: { layer?: (string | number)[]; maxTiles: number; size?: { height: number; width: number }; out: string }, command: Command) => {
      const { filterFigure, filterImages, weightLayers, weightStats } = await filtersModule();
      const s = await specializeFor(readModelFile(modelPath), { inputShape: inputShape(modelPath, flags.size) });
      const refs = flags.layer ?? weightLayers(s).filter((l) => l.op === 'Conv' || l.op === 'ConvTranspose').map((l) => l.name);
      const images = refs.map((ref) => filterImages(s, ref, { maxTiles: flags.maxTiles }));
      const folder = outFolder(flags.out);
      const outputs: { layer: string; mode: 'rgb' | 'gray'; kernel: [number, number]; tiles: number; path: string }[] = [];
      for (const f of images) {
        const path = await writeFigure(folder, `filters.${safe(f.layer)}.png`, filterFigure(f));
        outputs.push({ layer: f.layer, mode: f.mode, kernel: f.kernel, tiles: f.tiles.length, path });
      }
      const stats = weightStats(s);
      if (wantsJson(command)) printJson({ files: outputs.map((o) => o.path), outputs, stats: stats.map(({ histogram: _h, ...rest }) => rest) });
      else {
        outputs.forEach((o) => print(o.path));
        for (const w of stats) print(`${w.layer} (${w.op}) [${w.shape.join('x')}]: min ${w.min.toFixed(4)} max ${w.max.toFixed(4)} mean ${w.mean.toFixed(4)} std ${w.std.toFixed(4)} zeros ${(100 * w.zeros).toFixed(1)}%`);
      }
    });
}
