/**
 * `convlens evaluate MODEL INPUTS --methods a,b --metrics x,y --out DIR`: every metric on
 * every method's maps (src/metrics), written as a table (JSON, CSV), SVG plots and an HTML
 * page. Loading the model and inputs goes through ../load.ts only.
 */
import { readFileSync, existsSync } from 'node:fs';
import { basename } from 'node:path';
import { Command, Option } from 'commander';
import type { ResizeMode } from '../../input/image-file.ts';
import { Explainer } from '../../methods/explainer.ts';
import { methodIds } from '../../methods/registry.ts';
import { readModelFile } from '../../model/file.ts';
import { defaultMetricIds, metricIds } from '../../metrics/registry.ts';
import type { Box } from '../../metrics/regions.ts';
import { parseInteger, parseLayer, parseList, parseNumber, parseTarget, UsageError } from '../args.ts';
import { withInputOptions } from '../input-options.ts';
import { loadModelAndInputs } from '../load.ts';
import { printJson, wantsJson } from '../output.ts';
import { Progress } from '../progress.ts';
import { folderHelp, outFolder } from '../out-path.ts';
import { parseMethods, unknownValue } from '../suggest.ts';

// Loaded when the command runs (module-level, as every lazy import of the CLI: see inside.ts).
const evaluateModules = () => Promise.all([import('../../metrics/evaluate.ts'), import('../../metrics/report/html.ts'), import('../../metrics/report/write.ts')]);

interface Flags {
  methods: string[];
  metrics: string[];
  out: string;
  target: string;
  layer?: (string | number)[];
  preset?: string;
  resize?: ResizeMode;
  size?: { height: number; width: number };
  boxes?: string;
  randomLabelModel?: string;
  batchSize: number;
  seed: number;
  step?: number;
  steps?: number;
  score?: 'probability' | 'logit';
  randomization: 'cascading' | 'independent';
  randomizeLayers?: number;
  tolerance?: number;
}

/** boxes.json: { "<input name>": [[x0, y0, x1, y1], ...] } in model-input pixels, x1 and y1 exclusive. */
export function readBoxes(path: string, names: readonly string[]): Box[][] {
  if (!existsSync(path)) throw new UsageError(`boxes file '${path}' does not exist`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`boxes file '${path}' is not JSON (${(e as Error).message.split('\n')[0]}): write {"<input name>": [[x0, y0, x1, y1], ...]}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError(`boxes file '${path}' must be an object {"<input name>": [[x0, y0, x1, y1], ...]}`);
  const table = parsed as Record<string, unknown>;
  return names.map((name) => {
    const list = table[name];
    if (list === undefined) throw new UsageError(`boxes file '${path}' has no entry for input '${name}' (entries are keyed by file name without extension)`);
    if (!Array.isArray(list) || !list.every((b) => Array.isArray(b) && b.length === 4 && b.every((v) => typeof v === 'number'))) {
      throw new UsageError(`boxes of '${name}' in '${path}' must be a list of [x0, y0, x1, y1] number lists`);
    }
    return list as Box[];
  });
}

function classesOf(target: string, n: number): number[] | undefined {
  const t = parseTarget(target);
  if (t === 'auto') return undefined;
  if (typeof t === 'number') return Array<number>(n).fill(t);
  if (Array.isArray(t)) return [...(t as number[])];
  throw new UsageError(`--target '${target}': evaluate explains one class per input (auto, a class, or one class per input)`);
}

export function registerEvaluate(program: Command): void {
  withInputOptions(program.command('evaluate'))
    .description('measure explanations: faithfulness, localization, robustness, complexity and sanity-check metrics per method, as a table, plots and an HTML page')
    .argument('<model>', 'ONNX model file')
    .argument('<inputs...>', 'image files, folders of images, or float32 .npy tensors')
    .addOption(new Option('-m, --methods <ids>', `methods, comma-separated (${methodIds.join(', ')})`).default(['grad-cam'], 'grad-cam').argParser(parseMethods))
    .addOption(new Option('--metrics <ids>', `metrics, comma-separated (${metricIds.join(', ')})`).default(defaultMetricIds, defaultMetricIds.join(',')).argParser(parseList))
    .option('-o, --out <dir>', folderHelp, 'convlens-eval')
    .option('-t, --target <target>', 'auto (predicted class, as RISE), a class index, or one class per input (3,7,...)', 'auto')
    .addOption(new Option('-l, --layer <name>', 'layer for spatial methods (tensor name, node name or index) (default: the last spatial layer)').argParser((v: string, prev: (string | number)[] | undefined) => [...(prev ?? []), parseLayer(v)]))
    .option('--boxes <file>', 'ground-truth boxes for pointing-game, energy-pointing-game and wsol: {"<input name>": [[x0, y0, x1, y1], ...]} in input pixels (default: none; the metrics that need boxes are not run by default)')
    .option('--random-label-model <file>', 'data-randomization: the same architecture trained on permuted labels (default: none)')
    .addOption(new Option('--batch-size <n>', 'images per onnxruntime run').default(8).argParser(parseInteger('--batch-size', 1)))
    .addOption(new Option('--seed <n>', 'seed of random methods and metrics').default(0).argParser(parseInteger('--seed', 0)))
    .addOption(new Option('--step <n>', 'deletion/insertion: pixels per step (RISE; default the image width)').argParser(parseInteger('--step', 1)))
    .addOption(new Option('--steps <n>', 'deletion/insertion: this many equal steps instead (Xplique uses 10) (default: steps of --step pixels)').argParser(parseInteger('--steps', 1)))
    .addOption(new Option('--score <kind>', 'deletion/insertion score (default probability, as RISE)').choices(['probability', 'logit']))
    .addOption(new Option('--randomization <order>', 'model randomization order').choices(['cascading', 'independent']).default('cascading'))
    .addOption(new Option('--randomize-layers <n>', 'randomize only the top n layers (default all)').argParser(parseInteger('--randomize-layers', 1)))
    .addOption(new Option('--tolerance <px>', 'pointing game: hit within this many pixels (TorchRay uses 15 at image size) (default: 0, the maximum itself must lie in a box)').argParser(parseNumber('--tolerance', 0)))
    .action(async (modelPath: string, inputs: string[], flags: Flags, command: Command) => {
      const [{ evaluate }, { tableMarkdown }, { writeEvaluation }] = await evaluateModules();
      const unknown = flags.metrics.filter((m) => !metricIds.includes(m));
      if (unknown.length) throw unknownValue('metric', unknown[0]!, metricIds);
      outFolder(flags.out);
      const { model, loaded } = await loadModelAndInputs(modelPath, inputs, { ...(flags.preset ? { preset: flags.preset } : {}), ...(flags.resize ? { resize: flags.resize } : {}), ...(flags.size ? { size: flags.size } : {}) });
      const n = loaded.tensor.dims[0]!;
      const classes = classesOf(flags.target, n);
      const boxes = flags.boxes ? readBoxes(flags.boxes, loaded.names) : undefined;
      const causal = { ...(flags.step !== undefined ? { step: flags.step } : {}), ...(flags.steps !== undefined ? { steps: flags.steps } : {}), ...(flags.score ? { score: flags.score } : {}) };
      await using explainer = await Explainer.create(model);
      const randomLabel = flags.randomLabelModel ? await Explainer.create(readModelFile(flags.randomLabelModel)) : undefined;
      const progress = new Progress();
      try {
        const result = await evaluate(explainer, loaded.tensor, {
          methods: flags.methods,
          metrics: flags.metrics,
          methodOptions: { ...(flags.layer ? { targetLayers: flags.layer } : {}), seed: flags.seed },
          ...(classes ? { classes } : {}),
          ...(boxes ? { boxes } : {}),
          ...(randomLabel ? { randomLabel } : {}),
          batchSize: flags.batchSize,
          seed: flags.seed,
          deletion: causal,
          insertion: causal,
          randomization: { order: flags.randomization, ...(flags.randomizeLayers ? { layers: flags.randomizeLayers } : {}) },
          ...(flags.tolerance !== undefined ? { pointingGame: { tolerance: flags.tolerance } } : {}),
          onProgress: (done, total, what) => progress.update(`evaluate: ${what}`, done / total),
        });
        progress.done();
        const settings: Record<string, string> = {
          model: basename(modelPath),
          inputs: `${n} (${loaded.names.slice(0, 8).join(', ')}${n > 8 ? ', ...' : ''})`,
          target: flags.target,
          ...Object.fromEntries(Object.entries(flags).filter(([k, v]) => !['methods', 'metrics', 'target', 'out'].includes(k) && v !== undefined).map(([k, v]) => [k, String(v)])),
        };
        const { report, files } = await writeEvaluation(result, flags.out, { title: `convlens evaluate: ${basename(modelPath)}`, settings });
        if (wantsJson(command)) printJson({ report, files, table: result.table });
        else process.stdout.write(`${tableMarkdown(result)}\nreport: ${report}\n`);
      } finally {
        progress.done();
        await randomLabel?.release();
      }
    });
}
