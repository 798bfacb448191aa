/**
 * Smoothing over any method (Captum's NoiseTunnel): the method runs on `samples` noisy
 * copies of each image, x + N(0, sigma^2) with sigma = noise * (max(x) - min(x)), and its
 * results are aggregated per image and layer:
 * - smoothgrad: the mean (Smilkov et al. 2017, "SmoothGrad: removing noise by adding
 *   noise", https://arxiv.org/abs/1706.03825, eq. 3);
 * - smoothgrad-squared: the mean of squares (Hooker et al. 2019, https://arxiv.org/abs/1806.10758);
 * - vargrad: the variance (Adebayo et al. 2018, https://arxiv.org/abs/1810.03307).
 * The class is fixed on the clean image first; the noise is seeded by the seed and each
 * image's content (MethodContext.rngFor), so a batch draws what a loop over its images draws.
 * All noisy copies of a batch go through the method as one batch of rows. A method whose map
 * is defined with a ReLU (the CAMs) is rectified per sample before aggregating, as
 * pytorch-grad-cam's aug_smooth averages finished maps.
 */
import type { Tensor } from '../runtime/session.ts';
import { MethodContext, pickRows } from './context.ts';
import type { OptionSchema } from './options.ts';
import { relu } from './postprocess.ts';
import type { Method, RawResult } from './types.ts';

export const smoothings = ['none', 'smoothgrad', 'smoothgrad-squared', 'vargrad'] as const;
export type Smoothing = (typeof smoothings)[number];

export interface SmoothOptions {
  smooth: Smoothing;
  samples: number;
  noise: number;
}

export function smoothingOptions(smooth: Smoothing = 'none'): OptionSchema {
  return [
    { name: 'smooth', type: 'choice', choices: smoothings, default: smooth, help: 'average over noisy copies of the image: smoothgrad (mean), smoothgrad-squared (mean of squares), vargrad (variance)' },
    { name: 'samples', type: 'integer', default: 25, min: 1, help: 'noisy copies per image, when smoothing' },
    { name: 'noise', type: 'number', default: 0.15, min: 0, help: "noise standard deviation, as a fraction of each image's value range, when smoothing" },
  ];
}

const own = new Set(['smooth', 'samples', 'noise']);

/** `method` with the smoothing options (unchanged when it has options of those names: it draws its own samples). */
export function withSmoothing<O>(method: Method<O>): Method<O> {
  if (method.options.some((o) => own.has(o.name))) return method;
  return {
    ...method,
    options: [...method.options, ...smoothingOptions()],
    run: (ctx, options) => {
      const s = options as O & SmoothOptions;
      return s.smooth === 'none' ? method.run(ctx, options) : smoothed(ctx, s, method.relu, (noisy) => method.run(noisy, options));
    },
  };
}

/** Run `run` on noisy copies of every row's image and aggregate its results. */
export async function smoothed(ctx: MethodContext, { smooth, samples, noise }: SmoothOptions, rectify: boolean, run: (noisy: MethodContext) => Promise<RawResult[]>): Promise<RawResult[]> {
  await ctx.fixTargets();
  const images = ctx.rowImages();
  const per = images.data.length / ctx.rows;
  // Row-major: row r's samples together.
  const noisy: Tensor = { data: new Float32Array(images.data.length * samples), dims: [ctx.rows * samples, ...images.dims.slice(1)] };
  for (let r = 0; r < ctx.rows; r++) {
    const x = images.data.subarray(r * per, (r + 1) * per);
    let [lo, hi] = [Infinity, -Infinity];
    for (const v of x) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    const sigma = noise * (hi - lo);
    const rng = ctx.rngFor(r);
    for (let s = 0; s < samples; s++) {
      const at = (r * samples + s) * per;
      for (let i = 0; i < per; i++) noisy.data[at + i] = x[i]! + sigma * rng.normal();
    }
  }
  const sampleRows = Array.from({ length: ctx.rows * samples }, (_, k) => Math.floor(k / samples));
  const weights = ctx.targets.weights;
  if (weights === 'argmax') throw new Error('internal: targets are fixed before smoothing');
  // The rows' own (not yet negated) weights: the inner context negates counterfactuals itself.
  const targets = { imageIndex: sampleRows.map((_, k) => k), classes: sampleRows.map((r) => ctx.targets.classes[r]), weights: pickRows(weights, sampleRows) };
  // The noisy copies' scores are not the images' scores.
  const { onScores: _scores, ...hooks } = ctx.hooks;
  const inner = new MethodContext(ctx.engine, ctx.specialized, noisy, targets, ctx.layers, ctx.geometry, ctx.options, ctx.targetTensor, hooks);
  const results = await run(inner);

  interface Acc { row: number; layer: string | undefined; dims: number[]; sum: Float64Array; sumSq: Float64Array; extras: Map<string, number>; warnings: Set<string> }
  const groups = new Map<string, Acc>();
  for (const res of results) {
    const row = sampleRows[res.row]!;
    const key = `${row}\u0000${res.layer ?? ''}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { row, layer: res.layer, dims: res.dims, sum: new Float64Array(res.values.length), sumSq: new Float64Array(res.values.length), extras: new Map(), warnings: new Set() }));
    const values = rectify && res.dims.length === 2 ? relu(res.values) : res.values;
    const { sum, sumSq } = g;
    values.forEach((v, i) => {
      sum[i] = sum[i]! + v;
      sumSq[i] = sumSq[i]! + v * v;
    });
    for (const [k, v] of Object.entries(res.extras ?? {})) g.extras.set(k, (g.extras.get(k) ?? 0) + v / samples);
    for (const w of res.warnings ?? []) g.warnings.add(w);
  }
  return [...groups.values()]
    .sort((a, b) => a.row - b.row)
    .map((g) => {
      const mean = g.sum.map((v) => v / samples);
      const meanSq = g.sumSq.map((v) => v / samples);
      const values = smooth === 'smoothgrad' ? mean : smooth === 'smoothgrad-squared' ? meanSq : meanSq.map((v, i) => v - mean[i]! * mean[i]!);
      return {
        row: g.row,
        ...(g.layer !== undefined ? { layer: g.layer } : {}),
        values: Float32Array.from(values),
        dims: g.dims,
        ...(g.extras.size ? { extras: Object.fromEntries(g.extras) } : {}),
        ...(g.warnings.size ? { warnings: [...g.warnings] } : {}),
      };
    });
}
