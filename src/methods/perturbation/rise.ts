/**
 * RISE. Petsiuk, Das & Saenko 2018, "RISE: Randomized Input Sampling for Explanation of
 * Black-box Models", eq. 6-8: the saliency of pixel p is the expected class probability
 * over random masks that keep p,
 *   S(p) = 1 / (N E[M]) sum_i P_c(x * M_i) M_i(p),   E[M] = keep,
 * with each mask M_i a `cells` x `cells` grid of Bernoulli(keep) cells, upsampled bilinearly
 * to (cells + 1) * ceil(H / cells) (and likewise for W) and cropped to H x W at a random shift
 * below one cell (section 3.2: smooth masks that do not snap to a fixed grid). P_c is the
 * softmax probability of the target. The masks come from the seeded generator, the same
 * ones for every image.
 */
import type { Rng } from '../../runtime/rng.ts';
import { resizeBilinear } from '../../viz/resize.ts';
import type { Method, RawResult } from '../types.ts';
import { applyMask, perturbedScores } from './base.ts';

export interface RiseOptions {
  /** Number of random masks N. */
  masks: number;
  /** Grid cells per side (s in the paper). */
  cells: number;
  /** Probability that a cell is kept (p in the paper). */
  keep: number;
}

const SALT = 0x715e;
const MASKS_PER_BATCH = 64;

/** One smooth random mask [H, W] with values in [0, 1]. */
export function riseMask(rng: Rng, cells: number, keep: number, height: number, width: number): Float32Array {
  const grid = Float32Array.from({ length: cells * cells }, () => (rng.uniform() < keep ? 1 : 0));
  const [cellH, cellW] = [Math.ceil(height / cells), Math.ceil(width / cells)];
  const [upH, upW] = [(cells + 1) * cellH, (cells + 1) * cellW];
  const up = resizeBilinear(grid, cells, cells, upH, upW);
  const [dy, dx] = [Math.floor(rng.uniform() * cellH), Math.floor(rng.uniform() * cellW)];
  const mask = new Float32Array(height * width);
  for (let y = 0; y < height; y++) mask.set(up.subarray((y + dy) * upW + dx, (y + dy) * upW + dx + width), y * width);
  return mask;
}

export const rise: Method<RiseOptions> = {
  id: 'rise',
  family: 'perturbation',
  output: 'map',
  usesLayers: false,
  needsGradients: false,
  relu: false,
  paper: 'Petsiuk et al. 2018, https://arxiv.org/abs/1806.07421 (eq. 6-8)',
  summary: 'The class probability averaged over random smooth masks, per pixel: a black-box saliency map.',
  options: [
    { name: 'masks', type: 'integer', default: 2000, min: 1, help: 'number of random masks N' },
    { name: 'cells', type: 'integer', default: 8, min: 1, help: 'mask grid cells per side (s in the paper)' },
    { name: 'keep', type: 'number', default: 0.5, above: 0, max: 1, help: 'probability that a mask cell is kept (p in the paper)' },
  ],
  run: async (ctx, { masks, cells, keep }): Promise<RawResult[]> => {
    ctx.plan(ctx.rows * masks);
    await ctx.fixTargets();
    const { height: H, width: W } = ctx.geometry;
    const out: RawResult[] = [];
    for (let row = 0; row < ctx.rows; row++) {
      const rng = ctx.rng(SALT);
      const saliency = new Float64Array(H * W);
      for (let from = 0; from < masks; from += MASKS_PER_BATCH) {
        const batch = Array.from({ length: Math.min(MASKS_PER_BATCH, masks - from) }, () => riseMask(rng, cells, keep, H, W));
        const p = await perturbedScores(ctx, row, batch.length, (i, copy) => applyMask(copy, batch[i]!, ctx.geometry), 'probability');
        batch.forEach((m, i) => m.forEach((v, q) => (saliency[q] = saliency[q]! + p[i]! * v)));
      }
      out.push({ row, values: Float32Array.from(saliency, (s) => s / (masks * keep)), dims: [H, W] });
    }
    return out;
  },
};
