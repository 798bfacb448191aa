/**
 * GradientSHAP. Lundberg & Lee 2017, "A Unified Approach to Interpreting Model
 * Predictions" (SHAP values, section 2 eq. 8 and the expected-gradients estimator of
 * Erion et al. 2021, "Improving performance of deep learning models with axiomatic
 * attribution priors and expected gradients", eq. 3), as Captum's GradientShap computes it:
 * for each of n samples draw a baseline b from the set, a ~ U(0, 1) and noise
 * e ~ N(0, sigma^2), and average
 *   (x + e - b) * dS/dx (b + a (x + e - b)),
 * an estimate of integrated gradients averaged over the baselines. Draws are seeded per
 * image content, so a batch equals a loop over its images.
 */
import type { Tensor } from '../../runtime/session.ts';
import type { MethodContext } from '../context.ts';
import { inputGradients, outputDims } from '../gradient/base.ts';
import type { Method, RawResult } from '../types.ts';
import { baselineSet, type Baseline } from './baselines.ts';

export interface GradientShapOptions {
  baselines: Baseline;
  samples: number;
  /** Standard deviation of the input noise, as a fraction of the image's value range. */
  noise: number;
}

async function gradientShap(ctx: MethodContext, o: GradientShapOptions): Promise<RawResult[]> {
  await ctx.fixTargets();
  const images = ctx.rowImages();
  const per = images.data.length / ctx.rows;
  const n = o.samples;
  const points: Tensor = { data: new Float32Array(ctx.rows * n * per), dims: [ctx.rows * n, ...images.dims.slice(1)] };
  const steps = new Float32Array(ctx.rows * n * per);
  for (let row = 0; row < ctx.rows; row++) {
    const x = images.data.subarray(row * per, (row + 1) * per);
    const rng = ctx.rngFor(row);
    const set = baselineSet(ctx, rng, x, o.baselines, n);
    let [lo, hi] = [Infinity, -Infinity];
    for (const v of x) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    const sigma = o.noise * (hi - lo);
    for (let s = 0; s < n; s++) {
      const b = set.length === n ? set[s]! : set[Math.floor(rng.uniform() * set.length)]!;
      const a = rng.uniform();
      const at = (row * n + s) * per;
      for (let i = 0; i < per; i++) {
        const step = x[i]! + (sigma > 0 ? sigma * rng.normal() : 0) - b[i]!;
        steps[at + i] = step;
        points.data[at + i] = b[i]! + a * step;
      }
    }
  }
  const sampleRows = Array.from({ length: ctx.rows * n }, (_, k) => Math.floor(k / n));
  const grads = await inputGradients(ctx, 'gradient', points, ctx.explicitWeights(sampleRows));
  const dims = outputDims(ctx, 'image');
  return Array.from({ length: ctx.rows }, (_, row) => {
    const mean = new Float32Array(per);
    for (let s = 0; s < n; s++) {
      const k = row * n + s;
      const step = ctx.toCHW({ data: steps.subarray(k * per, (k + 1) * per), dims: [1, ...images.dims.slice(1)] }, 0);
      grads[k]!.forEach((g, i) => (mean[i] = mean[i]! + (g * step[i]!) / n));
    }
    return { row, values: mean, dims };
  });
}

export const gradientShapMethod: Method<GradientShapOptions> = {
  id: 'gradient-shap',
  family: 'relevance',
  output: 'image',
  usesLayers: false,
  needsGradients: true,
  relu: false,
  signed: true,
  paper: 'Lundberg & Lee 2017, https://arxiv.org/abs/1705.07874; Erion et al. 2021, https://arxiv.org/abs/1906.10670 (eq. 3)',
  summary: 'Gradients at random points between random baselines and the (noisy) image, times the difference: expected gradients, SHAP values.',
  options: [
    { name: 'baselines', type: 'choice', choices: ['noise', 'zeros', 'blur'], tensor: true, default: 'noise', help: "the background: noise (uniform in the image's range, seeded), zeros, blur, or a tensor of several images" },
    { name: 'samples', type: 'integer', default: 25, min: 1, help: 'random points per image' },
    { name: 'noise', type: 'number', default: 0, min: 0, help: "input noise standard deviation, as a fraction of the image's value range" },
  ],
  run: gradientShap,
};
