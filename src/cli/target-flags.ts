/**
 * The explain command's target flags (-t, --output, --region, --mask, --box, --similar-to):
 * parsed when the command starts, placed once the model is open (a mask and a reference
 * image are read at the model's input size, the way inputs are).
 */
import { Command, Option } from 'commander';
import { loadImageForModel } from '../input/image-file.ts';
import type { Lens } from '../app/lens.ts';
import type { ClassRef, Target } from '../targets/targets.ts';
import { UsageError } from './args.ts';
import { loadAll } from './load.ts';

export interface TargetFlags {
  target: string;
  output?: string;
  region?: [number, number, number, number];
  mask?: string;
  box?: number | string;
  similarTo?: string;
}

/** auto, top:K, a class (index or name), or one class per input (3,7 or happy,sad). */
export function parseTargetFlag(text: string): Target {
  if (text === 'auto') return 'auto';
  const top = /^top:(\d+)$/.exec(text);
  if (top) return { topK: Number(top[1]) };
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) throw new UsageError(`--target '${text}' has an empty class: give auto, top:K, a class index or name, or a comma list of them`);
  const classes: ClassRef[] = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  return classes.length === 1 ? classes[0]! : classes;
}

function parseBox(text: string): [number, number, number, number] {
  const v = text.split(',').map(Number);
  if (v.length !== 4 || v.some((n) => !Number.isFinite(n)) || !(v[2]! > v[0]! && v[3]! > v[1]!)) {
    throw new UsageError(`--region '${text}' is not x0,y0,x1,y1 with x1 > x0 and y1 > y0 (input pixels)`);
  }
  return v as [number, number, number, number];
}

export function addTargetFlags(command: Command): Command {
  return command
    .option('-t, --target <target>', 'auto (predicted class), a class index or name (happy), classes per input (3,7 or happy,sad), or top:K', 'auto')
    .option('--output <name>', 'the model output to explain (default: the first)')
    .addOption(new Option('--region <x0,y0,x1,y1>', 'dense outputs: the -t class summed over this box, in the model input\'s pixels').argParser(parseBox))
    .option('--mask <image>', 'dense outputs: the -t class weighted by this mask image (white = 1), fitted like the inputs')
    .addOption(new Option('--box <k|class>', 'detectors: the k-th detection of a [N, K, 6] output, or the best of a class (its score; on a dense --output, its class over its box)').argParser((v: string) => (/^\d+$/.test(v) ? Number(v) : v)))
    .option('--similar-to <image>', 'embeddings: the cosine similarity of the output to this image\'s');
}

/** The target (and output) the flags describe, for the open model. */
export async function resolveTargetFlags(lens: Lens, flags: TargetFlags): Promise<{ target: Target; output?: string }> {
  const output = flags.output !== undefined ? { output: flags.output } : {};
  const given = [flags.region && '--region', flags.mask && '--mask', flags.box !== undefined && '--box', flags.similarTo && '--similar-to'].filter(Boolean);
  if (given.length > 1) throw new UsageError(`${given.join(' and ')} are different targets: give one`);
  const classTarget = parseTargetFlag(flags.target);
  if (given.length === 0) return { target: classTarget, ...output };
  if (flags.box !== undefined || flags.similarTo) {
    if (flags.target !== 'auto') throw new UsageError(`${given[0]} sets the target: leave out -t`);
    if (flags.box !== undefined) return { target: { detection: typeof flags.box === 'number' ? flags.box : { class: flags.box } }, ...output };
    const ref = await loadAll(lens, [flags.similarTo!]);
    return { target: { similarTo: ref.tensor }, ...output };
  }
  if (classTarget === 'auto' || (typeof classTarget !== 'number' && typeof classTarget !== 'string')) {
    throw new UsageError(`${given[0]} needs one class: -t NAME or -t INDEX`);
  }
  if (flags.region) return { target: { region: { class: classTarget, pixels: flags.region } }, ...output };
  const [, ...dims] = lens.inputShape(1);
  const [height, width] = lens.spec.layout.layout === 'nhwc' ? [dims[0]!, dims[1]!] : [dims[1]!, dims[2]!];
  const { image } = await loadImageForModel(flags.mask!, { height, width, resize: lens.spec.resize });
  const mask = Float32Array.from({ length: height * width }, (_, p) => (image.data[3 * p]! + image.data[3 * p + 1]! + image.data[3 * p + 2]!) / (3 * 255));
  return { target: { region: { class: classTarget, mask } }, ...output };
}
