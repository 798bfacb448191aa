/** `convlens explain MODEL INPUT...`: maps and images per input and method, and a report. */
import { Command, Option } from 'commander';
import { methodIds } from '../../methods/registry.ts';
import { colormapNames, type ColormapName } from '../../viz/colormaps.ts';
import type { ResizeMode } from '../../input/image-file.ts';
import { withInputOptions } from '../input-options.ts';
import { ruleSetNames } from '../../autodiff/rulesets.ts';
import { parseInteger, parseLayer, parseList, parseNumber, parseTarget, readLabels, UsageError } from '../args.ts';
import { runExplain, type ExplainJob } from '../run-explain.ts';
import { printJson, wantsJson } from '../output.ts';
import type { CommonOptions } from '../../methods/types.ts';

/** --rules picks SmoothGrad's base method. */
const smoothBase = { gradient: 'gradient', guided: 'guided-backprop', deconvnet: 'deconvnet' } as const;

interface Flags {
  method: string[];
  layer?: (string | number)[];
  allLayers?: boolean;
  fuse?: boolean;
  target: string;
  preset: string;
  resize: ResizeMode;
  size?: { height: number; width: number };
  labels?: string;
  out: string;
  raw?: boolean;
  colormap: ColormapName;
  alpha: number;
  batchSize: number;
  seed: number;
  steps?: number;
  samples?: number;
  noise?: number;
  window?: number;
  stride?: number;
  baseline?: string;
  masks?: number;
  counterfactual?: boolean;
  rules?: keyof typeof smoothBase;
}

export function methodOptions(f: Flags): CommonOptions & Record<string, unknown> {
  const baseline = f.baseline === undefined ? undefined : f.baseline === 'blur' ? 'blur' : Number(f.baseline);
  if (typeof baseline === 'number' && !Number.isFinite(baseline)) throw new UsageError(`--baseline '${f.baseline}' is not a number or 'blur'`);
  const options: CommonOptions & Record<string, unknown> = {
    target: parseTarget(f.target),
    batchSize: f.batchSize,
    seed: f.seed,
    ...(f.allLayers ? { targetLayers: 'all' as const } : f.layer ? { targetLayers: f.layer } : {}),
    ...(f.fuse ? { fuse: true } : {}),
    ...(f.counterfactual ? { counterfactual: true } : {}),
    ...(f.steps !== undefined ? { steps: f.steps } : {}),
    ...(f.samples !== undefined ? { samples: f.samples } : {}),
    ...(f.noise !== undefined ? { noise: f.noise } : {}),
    ...(f.window !== undefined ? { window: f.window } : {}),
    ...(f.stride !== undefined ? { stride: f.stride } : {}),
    ...(f.masks !== undefined ? { masks: f.masks } : {}),
    ...(baseline !== undefined ? { baseline } : {}),
    ...(f.rules ? { base: smoothBase[f.rules] } : {}),
  };
  return options;
}

export function registerExplain(program: Command): void {
  withInputOptions(program
    .command('explain'))
    .description('explain a model\'s decisions on images (files, folders, or .npy tensors) with one or more methods')
    .argument('<model>', 'ONNX model file')
    .argument('<inputs...>', 'image files, folders of images, or float32 .npy tensors in the model\'s input layout (used as-is)')
    .addOption(new Option('-m, --method <ids>', `methods, comma-separated (${methodIds.join(', ')})`).default(['grad-cam'], 'grad-cam').argParser(parseList))
    .addOption(new Option('-l, --layer <name>', 'layer for spatial methods (tensor name, node name or index; repeat for several)').argParser((v: string, prev: (string | number)[] | undefined) => [...(prev ?? []), parseLayer(v)]))
    .option('--all-layers', 'every conv layer (one map each)')
    .option('--fuse', 'with several layers, also their fused map')
    .option('-t, --target <target>', 'auto (predicted class), a class index, classes per input (3,7,...), or top:K', 'auto')
    .option('--labels <file>', 'class names: a JSON array or one per line')
    .option('-o, --out <dir>', 'output folder', 'convlens-out')
    .option('--raw', 'also write <input>.<method>.npy (maps [H,W] in [0,1]; gradient images [C,H,W] unnormalized)')
    .addOption(new Option('--colormap <name>', 'heat map colors').choices([...colormapNames]).default('jet'))
    .addOption(new Option('--alpha <a>', 'heat map opacity over the image').default(0.5).argParser(parseNumber('--alpha', 0)))
    .addOption(new Option('--batch-size <n>', 'images per onnxruntime run').default(8).argParser(parseInteger('--batch-size', 1)))
    .addOption(new Option('--seed <n>', 'seed for random methods').default(0).argParser(parseInteger('--seed', 0)))
    .addOption(new Option('--steps <n>', 'integrated-gradients steps').argParser(parseInteger('--steps', 2)))
    .addOption(new Option('--samples <n>', 'smoothgrad samples').argParser(parseInteger('--samples', 1)))
    .addOption(new Option('--noise <s>', 'smoothgrad noise, as a fraction of the input range').argParser(parseNumber('--noise', 0)))
    .addOption(new Option('--window <n>', 'occlusion window size').argParser(parseInteger('--window', 1)))
    .addOption(new Option('--stride <n>', 'occlusion stride').argParser(parseInteger('--stride', 1)))
    .option('--baseline <v>', 'occlusion / integrated-gradients baseline: a number or blur')
    .addOption(new Option('--masks <n>', 'rise masks').argParser(parseInteger('--masks', 1)))
    .option('--counterfactual', 'CAM family: explain what lowers the score')
    .addOption(new Option('--rules <set>', 'smoothgrad: the gradient rules to smooth').choices([...ruleSetNames]))
    .action(async (model: string, inputs: string[], flags: Flags, command: Command) => {
      const job: ExplainJob = {
        model,
        inputs,
        methods: flags.method,
        out: flags.out,
        preset: flags.preset,
        resize: flags.resize,
        ...(flags.size ? { size: flags.size } : {}),
        ...(flags.labels ? { labels: readLabels(flags.labels)! } : {}),
        raw: flags.raw === true,
        colormap: flags.colormap,
        alpha: flags.alpha,
        options: methodOptions(flags),
      };
      const summary = await runExplain(job);
      if (wantsJson(command)) printJson(summary);
      else {
        for (const input of summary.inputs) {
          process.stdout.write(`${input.name}: ${input.top.slice(0, 3).map((t) => `${t.label} ${(100 * t.probability).toFixed(1)}%`).join(', ')}\n`);
        }
        process.stdout.write(`${summary.methods.map((m) => `${m.id} ${m.ms.toFixed(0)} ms`).join(', ')}\nreport: ${summary.report}\n`);
      }
    });
}
