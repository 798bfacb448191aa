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
 */
import { OptionError } from '../../errors.ts';
import type { InputGeometry, MethodContext } from '../context.ts';
import { gaussianBlur } from '../gradient/baseline.ts';
import type { Method, RawResult } from '../types.ts';
import type { OptionSchema } from '../options.ts';
import { perturbedScores, pixelIndex, rowImage, weightedProbabilities, type PerturbedScore } from './base.ts';

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

/** Progress: each row runs the image and one copy per window position. */
function planOcclusion(ctx: MethodContext, options: OcclusionOptions): void {
  const grid = windowGrid(ctx.geometry, options);
  ctx.plan(ctx.rows * (1 + grid.rows * grid.cols));
}

/** Scores of the unoccluded image (index 0) and of each window position (index 1 + i). */
async function occludedScores(ctx: MethodContext, row: number, options: OcclusionOptions, score: PerturbedScore): Promise<{ grid: WindowGrid; scores: Float64Array }> {
  const g = ctx.geometry;
  const grid = windowGrid(g, options);
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

const occlusionOptions: OptionSchema = [
  { name: 'window', type: 'integer', default: 8, min: 1, help: 'side of the square occluding window, in pixels' },
  { name: 'stride', type: 'integer', default: 4, min: 1, help: 'step between occluding windows, in pixels' },
  { name: 'baseline', type: 'number', choices: ['blur'], default: 0, help: 'what the window shows: a constant or blur (a Gaussian blur of the image)' },
];

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
  options: occlusionOptions,
  run: async (ctx, options): Promise<RawResult[]> => {
    planOcclusion(ctx, options);
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
  options: occlusionOptions,
  run: async (ctx, options): Promise<RawResult[]> => {
    planOcclusion(ctx, options);
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
