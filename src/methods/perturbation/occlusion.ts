/**
 * Occlusion. Zeiler & Fergus 2014, "Visualizing and Understanding Convolutional Networks",
 * section 4.2: slide a grey square over the image and watch the class output.
 *
 * `occlusion` follows Captum's Occlusion: windows of `window` x `window` pixels (all
 * channels) start every `stride` pixels, ceil((n - window) / stride) + 1 positions per axis
 * (the last one clipped at the border), and the attribution of pixel p is
 *   a(p) = mean over the windows W covering p of S(x) - S(x with W replaced by the baseline),
 * S the target's pre-softmax score. A pixel no window covers (stride > window) gets 0.
 *
 * `occlusion-probability` is the paper's figure 7 (d): the target's softmax probability
 * p_c(x with W occluded) at each window position, a [positionsH, positionsW] map;
 * `occlusionMask` turns it into the pixels whose occlusion makes the probability drop below
 * a threshold.
 *
 * The helpers below (softmax probabilities, batched scoring of perturbed copies, masking in
 * the model's layout) are shared by the other perturbation methods (RISE, Score-CAM).
 */
import { OptionError } from '../../errors.ts';
import type { Tensor } from '../../runtime/session.ts';
import type { InputGeometry, MethodContext } from '../context.ts';
import { gaussianBlur } from '../gradient/baseline.ts';
import type { Method, RawResult } from '../types.ts';

/** Index of (channel, y, x) in one image of the model's layout. */
export function pixelIndex(g: InputGeometry): (c: number, y: number, x: number) => number {
  const { channels, height, width } = g;
  return g.layout === 'nchw' ? (c, y, x) => (c * height + y) * width + x : (c, y, x) => (y * width + x) * channels + c;
}

/** image *= mask, a [H, W] mask applied to every channel of an image in the model's layout. */
export function applyMask(image: Float32Array, mask: ArrayLike<number>, g: InputGeometry): void {
  const at = pixelIndex(g);
  for (let c = 0; c < g.channels; c++) {
    for (let y = 0; y < g.height; y++) for (let x = 0; x < g.width; x++) image[at(c, y, x)]! *= mask[y * g.width + x]!;
  }
}

/**
 * sum_j w_j softmax(z)_j for each row of the pre-softmax target z (softmax over axis 1, per
 * position of any further axes): p_c for a one-hot class weight.
 */
export function weightedProbabilities(z: Tensor, weights: Tensor): Float64Array {
  const [n, classes] = [z.dims[0]!, z.dims[1] ?? 1];
  const rest = z.data.length / (n * classes);
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const base = r * classes * rest;
    for (let j = 0; j < rest; j++) {
      let max = -Infinity;
      for (let c = 0; c < classes; c++) max = Math.max(max, z.data[base + c * rest + j]!);
      let total = 0;
      let weighted = 0;
      for (let c = 0; c < classes; c++) {
        const e = Math.exp(z.data[base + c * rest + j]! - max);
        total += e;
        weighted += e * weights.data[base + c * rest + j]!;
      }
      out[r] = out[r]! + weighted / total;
    }
  }
  return out;
}

/** The image of row `row`, in the model's layout (a view, not a copy). */
export function rowImage(ctx: MethodContext, row: number): Float32Array {
  const per = ctx.images.data.length / ctx.images.dims[0]!;
  const image = ctx.targets.imageIndex[row]!;
  return ctx.images.data.subarray(image * per, (image + 1) * per);
}

export type PerturbedScore = 'logit' | 'probability';

/**
 * The target's score (the weighted pre-softmax 'logit', or the weighted softmax
 * 'probability') of `count` perturbed copies of row `row`'s image: copy i starts as the image
 * (model layout) and `perturb(i, copy)` changes it in place. Copies are built a few batches
 * at a time, so memory stays bounded however many there are.
 */
export async function perturbedScores(
  ctx: MethodContext,
  row: number,
  count: number,
  perturb: (i: number, copy: Float32Array) => void,
  score: PerturbedScore,
): Promise<Float64Array> {
  const imageDims = ctx.images.dims.slice(1);
  const x = rowImage(ctx, row);
  const per = x.length;
  const w = ctx.explicitWeights([row]);
  const chunk = 8 * ctx.options.batchSize;
  const out = new Float64Array(count);
  for (let from = 0; from < count; from += chunk) {
    const n = Math.min(chunk, count - from);
    const copies = new Float32Array(n * per);
    for (let i = 0; i < n; i++) {
      const copy = copies.subarray(i * per, (i + 1) * per);
      copy.set(x);
      perturb(from + i, copy);
    }
    const inputs: Tensor = { data: copies, dims: [n, ...imageDims] };
    const weights: Tensor = { data: new Float32Array(n * w.data.length), dims: [n, ...w.dims.slice(1)] };
    for (let i = 0; i < n; i++) weights.data.set(w.data, i * w.data.length);
    if (score === 'logit') out.set(await ctx.scores(inputs, weights), from);
    else out.set(weightedProbabilities((await ctx.run({}, inputs, undefined)).exposed[ctx.targetTensor]!, weights), from);
  }
  return out;
}

export interface OcclusionOptions {
  /** Side of the square occluding window, in pixels (all channels). */
  window: number;
  stride: number;
  /** What the window shows: a constant, or 'blur' (a Gaussian blur of the image). */
  baseline: number | 'blur';
}

interface WindowGrid {
  rows: number;
  cols: number;
  /** Pixel ranges [y0, y1) x [x0, x1) of window position i (row-major over the grid). */
  box(i: number): [number, number, number, number];
}

function windowGrid(g: Pick<InputGeometry, 'height' | 'width'>, { window, stride }: Pick<OcclusionOptions, 'window' | 'stride'>): WindowGrid {
  for (const [name, v] of [['window', window], ['stride', stride]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new OptionError(`occlusion ${name} must be a positive integer, not ${v}`);
  }
  if (window > g.height || window > g.width) throw new OptionError(`the occlusion window (${window}) is larger than the ${g.height}x${g.width} image`);
  const positions = (n: number) => Math.ceil((n - window) / stride) + 1;
  const [rows, cols] = [positions(g.height), positions(g.width)];
  return {
    rows,
    cols,
    box: (i) => {
      const [y0, x0] = [Math.floor(i / cols) * stride, (i % cols) * stride];
      return [y0, Math.min(g.height, y0 + window), x0, Math.min(g.width, x0 + window)];
    },
  };
}

/** Scores of the unoccluded image (index 0) and of each window position (index 1 + i). */
async function occludedScores(ctx: MethodContext, row: number, options: OcclusionOptions, score: PerturbedScore): Promise<{ grid: WindowGrid; scores: Float64Array }> {
  const g = ctx.geometry;
  const grid = windowGrid(g, options);
  if (options.baseline !== 'blur' && typeof options.baseline !== 'number') throw new OptionError(`occlusion baseline must be a number or 'blur', not ${String(options.baseline)}`);
  const at = pixelIndex(g);
  const blurred = options.baseline === 'blur' ? gaussianBlur(rowImage(ctx, row), g) : undefined;
  const constant = typeof options.baseline === 'number' ? options.baseline : 0;
  const scores = await perturbedScores(
    ctx,
    row,
    1 + grid.rows * grid.cols,
    (i, copy) => {
      if (i === 0) return;
      const [y0, y1, x0, x1] = grid.box(i - 1);
      for (let c = 0; c < g.channels; c++) {
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) copy[at(c, y, x)] = blurred ? blurred[at(c, y, x)]! : constant;
      }
    },
    score,
  );
  return { grid, scores };
}

const info = {
  family: 'perturbation',
  output: 'map',
  usesLayers: false,
  needsGradients: false,
  relu: false,
  paper: 'Zeiler & Fergus 2014, https://arxiv.org/abs/1311.2901 (section 4.2)',
} as const;

export const occlusion: Method<OcclusionOptions> = {
  ...info,
  id: 'occlusion',
  summary: 'How much the class score drops when a sliding window hides each region (Captum Occlusion).',
  defaults: { window: 8, stride: 4, baseline: 0 },
  run: async (ctx, options): Promise<RawResult[]> => {
    await ctx.fixTargets();
    const { height: H, width: W } = ctx.geometry;
    const out: RawResult[] = [];
    for (let row = 0; row < ctx.rows; row++) {
      const { grid, scores } = await occludedScores(ctx, row, options, 'logit');
      const drop = new Float64Array(H * W);
      const covered = new Uint32Array(H * W);
      for (let i = 0; i < grid.rows * grid.cols; i++) {
        const [y0, y1, x0, x1] = grid.box(i);
        const d = scores[0]! - scores[i + 1]!;
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1; x++) {
            drop[y * W + x] = drop[y * W + x]! + d;
            covered[y * W + x]! += 1;
          }
        }
      }
      out.push({ row, values: Float32Array.from(drop, (d, p) => (covered[p]! > 0 ? d / covered[p]! : 0)), dims: [H, W] });
    }
    return out;
  },
};

export const occlusionProbability: Method<OcclusionOptions> = {
  ...info,
  id: 'occlusion-probability',
  summary: "The class probability with a window hiding each position (Zeiler & Fergus' figure): low where the evidence is.",
  defaults: { window: 8, stride: 4, baseline: 0 },
  run: async (ctx, options): Promise<RawResult[]> => {
    await ctx.fixTargets();
    const out: RawResult[] = [];
    for (let row = 0; row < ctx.rows; row++) {
      const { grid, scores } = await occludedScores(ctx, row, options, 'probability');
      out.push({
        row,
        values: Float32Array.from(scores.subarray(1)),
        dims: [grid.rows, grid.cols],
        extras: { probability: scores[0]!, window: options.window, stride: options.stride },
      });
    }
    return out;
  },
};

/** An occlusion-probability explanation (its raw grid, the input size and the window in extras). */
export interface ProbabilityMap {
  raw: Float32Array;
  rawDims: number[];
  /** [H, W] of the input. */
  dims: number[];
  extras?: Record<string, number>;
}

/**
 * The pixels that matter for the class: a [H, W] mask, 1 where at least one occluding
 * window covering the pixel brings the class probability below `threshold` (e.g. half of
 * the unoccluded probability, `map.extras.probability / 2`), 0 elsewhere.
 */
export function occlusionMask(map: ProbabilityMap, threshold: number): Float32Array {
  const [H, W] = [map.dims[0]!, map.dims[1]!];
  const { window, stride } = map.extras ?? {};
  if (window === undefined || stride === undefined) throw new OptionError('occlusionMask needs an occlusion-probability map (window and stride in its extras)');
  const grid = windowGrid({ height: H, width: W }, { window, stride });
  if (grid.rows !== map.rawDims[0] || grid.cols !== map.rawDims[1]) throw new OptionError(`the map's grid [${map.rawDims.join(', ')}] does not match window ${window} and stride ${stride} on ${H}x${W}`);
  const mask = new Float32Array(H * W);
  map.raw.forEach((p, i) => {
    if (!(p < threshold)) return;
    const [y0, y1, x0, x1] = grid.box(i);
    for (let y = y0; y < y1; y++) mask.fill(1, y * W + x0, y * W + x1);
  });
  return mask;
}
