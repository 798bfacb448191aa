/** `convlens explain MODEL INPUT...`: maps and images per input and method, and a report. */
import { Command, Option } from 'commander';
import { methodIds } from '../../methods/registry.ts';
import { colormapNames, type ColormapName } from '../../viz/colormaps.ts';
import type { ResizeMode } from '../../input/image-file.ts';
import { withInputOptions } from '../input-options.ts';
import { parseInteger, parseLayer, parseNumber } from '../args.ts';
import { addTargetFlags, parseTargetFlag, type TargetFlags } from '../target-flags.ts';
import { formatScore } from '../../targets/head.ts';
import { addMethodFlags, methodFlagValues } from '../method-flags.ts';
import { runExplain, type ExplainJob } from '../run-explain.ts';
import { printJson, wantsJson } from '../output.ts';
import { explainJson } from '../explain-json.ts';
import { parseMethods } from '../suggest.ts';
import { folderHelp } from '../out-path.ts';
import type { CommonOptions } from '../../methods/types.ts';

export interface ExplainFlags extends TargetFlags {
  method: string[];
  layer?: (string | number)[];
  allLayers?: boolean;
  fuse?: boolean;
  preset?: string;
  resize?: ResizeMode;
  size?: { height: number; width: number };
  labels?: string;
  out: string;
  raw?: boolean;
  colormap: ColormapName;
  alpha: number;
  batchSize: number;
  seed: number;
  counterfactual?: boolean;
  skipExisting?: boolean;
  strict?: boolean;
  /** The method flags (generated from the registry's option schemas). */
  [flag: string]: unknown;
}

export function methodOptions(f: ExplainFlags): CommonOptions & Record<string, unknown> {
  const options: CommonOptions & Record<string, unknown> = {
    target: parseTargetFlag(f.target),
    ...(f.output !== undefined ? { output: f.output } : {}),
    batchSize: f.batchSize,
    seed: f.seed,
    ...(f.allLayers ? { targetLayers: 'all' as const } : f.layer ? { targetLayers: f.layer } : {}),
    ...(f.fuse ? { fuse: true } : {}),
    ...(f.counterfactual ? { counterfactual: true } : {}),
    ...methodFlagValues(f, f.method),
  };
  return options;
}

/** The options of `explain` (methods, targets, layers, input, rendering), shared with `queue add`. */
export function withExplainOptions(command: Command): Command {
  return addMethodFlags(addTargetFlags(withInputOptions(command))
    .addOption(new Option('-m, --method <ids>', `methods, comma-separated (${methodIds.join(', ')})`).default(['grad-cam'], 'grad-cam').argParser(parseMethods))
    .addOption(new Option('-l, --layer <name>', 'layer for spatial methods (tensor name, node name or index; repeat for several) (default: the last spatial layer)').argParser((v: string, prev: (string | number)[] | undefined) => [...(prev ?? []), parseLayer(v)]))
    .option('--all-layers', 'every conv layer (one map each)')
    .option('--fuse', 'with several layers, also their fused map')
    .option('--labels <file>', "class names: a JSON array or one per line (default: the model's own, see convlens annotate; else class indices)")
    .option('-o, --out <dir>', folderHelp, 'convlens-out')
    .option('--raw', 'also write <input>.<method>.npy (maps [H,W] in [0,1]; gradient images [C,H,W] unnormalized)')
    .addOption(new Option('--colormap <name>', 'heat map colors').choices([...colormapNames]).default('jet'))
    .addOption(new Option('--alpha <a>', 'heat map opacity over the image').default(0.5).argParser(parseNumber('--alpha', 0, 1)))
    .addOption(new Option('--batch-size <n>', 'images per onnxruntime run').default(8).argParser(parseInteger('--batch-size', 1)))
    .addOption(new Option('--seed <n>', 'seed for random methods').default(0).argParser(parseInteger('--seed', 0)))
    .option('--counterfactual', 'explain what lowers the score (the target weights negated)'));
}

export function registerExplain(program: Command): void {
  withExplainOptions(program
    .command('explain')
    .description('explain a model\'s decisions on images (files, folders, or .npy tensors) with one or more methods')
    .argument('<model>', 'ONNX model file')
    .argument('<inputs...>', 'image files, folders of images, or float32 .npy tensors in the model\'s input layout (used as-is)'))
    .option('--skip-existing', 'resume: inputs already explained into --out (by every requested method) are skipped')
    .option('--strict', 'stop at the first unreadable input (default: report it, skip it, go on)')
    .action(async (model: string, inputs: string[], flags: ExplainFlags, command: Command) => {
      const job: ExplainJob = {
        model,
        inputs,
        methods: flags.method,
        out: flags.out,
        ...(flags.preset ? { preset: flags.preset } : {}),
        ...(flags.resize ? { resize: flags.resize } : {}),
        ...(flags.size ? { size: flags.size } : {}),
        ...(flags.labels ? { labels: flags.labels } : {}),
        ...(flags.skipExisting ? { skipExisting: true } : {}),
        ...(flags.strict ? { strict: true } : {}),
        raw: flags.raw === true,
        colormap: flags.colormap,
        alpha: flags.alpha,
        options: methodOptions(flags),
        ...(flags.region || flags.mask || flags.box !== undefined || flags.similarTo ? { targetFlags: flags } : {}),
      };
      const summary = await runExplain(job);
      if (wantsJson(command)) printJson(explainJson(summary, flags.out));
      else {
        if (summary.existing) process.stdout.write(`${summary.existing} input(s) already explained in ${flags.out}: skipped\n`);
        for (const input of summary.inputs) {
          process.stdout.write(`${input.name}: ${input.top.slice(0, 3).map(formatScore).join(', ')}\n`);
        }
        process.stdout.write(`${summary.methods.map((m) => `${m.id} ${m.ms.toFixed(0)} ms`).join(', ')}\nreport: ${summary.report}\n`);
      }
    });
}
