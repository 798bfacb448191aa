/**
 * SmoothGrad and its variants, wrapping any input-gradient method.
 * Smilkov et al. 2017, "SmoothGrad: removing noise by adding noise", eq. 3:
 *   M^(x) = 1/n sum_i M(x + N(0, sigma^2)), sigma = noise * (max(x) - min(x));
 * smoothgrad-squared: the mean of squares; vargrad (Adebayo et al. 2018, "Local
 * Explanation Methods for Deep Neural Networks Lack Sensitivity to Parameter Values"):
 * the variance over the samples.
 */
import { OptionError } from '../../errors.ts';
import type { Tensor } from '../../runtime/session.ts';
import type { MethodContext } from '../context.ts';
import type { Method, RawResult } from '../types.ts';
import { inputGradients, outputDims, type GradientSpec } from './base.ts';

export interface SmoothGradOptions {
  /** The input-gradient method to smooth (default 'gradient'). */
  base: string;
  samples: number;
  /** Noise standard deviation as a fraction of each image's value range. */
  noise: number;
}

type Aggregate = 'mean' | 'mean-square' | 'variance';

/** Gradient specs of the wrappable methods (filled by the registry). */
export const smoothable = new Map<string, GradientSpec>();

async function smoothed(ctx: MethodContext, options: SmoothGradOptions, aggregate: Aggregate): Promise<RawResult[]> {
  const spec = smoothable.get(options.base);
  if (!spec) throw new OptionError(`smoothgrad cannot wrap '${options.base}' (choices: ${[...smoothable.keys()].join(', ')})`);
  if (!Number.isInteger(options.samples) || options.samples < 1) throw new OptionError(`samples must be a positive integer, not ${options.samples}`);
  if (!(options.noise >= 0)) throw new OptionError(`noise must be >= 0, not ${options.noise}`);
  await ctx.fixTargets();
  const images = ctx.rowImages();
  const per = images.data.length / ctx.rows;
  const rows = Array.from({ length: ctx.rows }, (_, i) => i);
  const sum = rows.map(() => undefined as Float64Array | undefined);
  const sumSq = rows.map(() => undefined as Float64Array | undefined);
  const rngs = Array.from({ length: ctx.rows }, (_, r) => ctx.rngFor(r));
  // All noisy copies in one batch (row-major: row r's samples together), run in chunks.
  const noisy: Tensor = { data: new Float32Array(images.data.length * options.samples), dims: [ctx.rows * options.samples, ...images.dims.slice(1)] };
  for (const r of rows) {
    const x = images.data.subarray(r * per, (r + 1) * per);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of x) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    const sigma = options.noise * (hi - lo);
    const rng = rngs[r]!;
    for (let s = 0; s < options.samples; s++) {
      const at = (r * options.samples + s) * per;
      for (let i = 0; i < per; i++) noisy.data[at + i] = x[i]! + sigma * rng.normal();
    }
  }
  const sampleRows = rows.flatMap((r) => new Array<number>(options.samples).fill(r));
  const grads = await inputGradients(ctx, spec.rules, noisy, ctx.explicitWeights(sampleRows));
  grads.forEach((g, k) => {
    const r = sampleRows[k]!;
    const out = spec.fromGradient(g, ctx.toCHW(noisy, k), ctx.geometry.channels);
    const acc = (sum[r] ??= new Float64Array(out.length));
    const accSq = (sumSq[r] ??= new Float64Array(out.length));
    out.forEach((v, i) => {
      acc[i] = acc[i]! + v;
      accSq[i] = accSq[i]! + v * v;
    });
  });
  const n = options.samples;
  const dims = outputDims(ctx, spec.output);
  return rows.map((row) => {
    const mean = sum[row]!.map((v) => v / n);
    const meanSq = sumSq[row]!.map((v) => v / n);
    const values = aggregate === 'mean' ? mean : aggregate === 'mean-square' ? meanSq : meanSq.map((v, i) => v - mean[i]! * mean[i]!);
    return { row, values: Float32Array.from(values), dims };
  });
}

function variant(id: string, aggregate: Aggregate, paper: string, summary: string): Method<SmoothGradOptions> {
  return {
    id,
    family: 'gradient',
    output: 'image',
    usesLayers: false,
    needsGradients: true,
    relu: false,
    paper,
    summary,
    options: [
      { name: 'base', type: 'choice', choices: ['gradient', 'saliency', 'input-x-gradient', 'guided-backprop', 'deconvnet'], default: 'gradient', help: 'the input-gradient method to smooth' },
      { name: 'samples', type: 'integer', default: 25, min: 1, help: 'noisy copies per image' },
      { name: 'noise', type: 'number', default: 0.15, min: 0, help: "noise standard deviation, as a fraction of each image's value range" },
    ],
    run: (ctx, options) => smoothed(ctx, options, aggregate),
  };
}

export const smoothgrad = variant('smoothgrad', 'mean', 'Smilkov et al. 2017, https://arxiv.org/abs/1706.03825 (eq. 3)', 'The average of a gradient method over noisy copies of the image: less noise, same evidence.');
export const smoothgradSquared = variant('smoothgrad-squared', 'mean-square', 'Smilkov et al. 2017, https://arxiv.org/abs/1706.03825; Hooker et al. 2019, https://arxiv.org/abs/1806.10758', 'SmoothGrad averaging squared attributions: magnitude regardless of sign.');
export const vargrad = variant('vargrad', 'variance', 'Adebayo et al. 2018, https://arxiv.org/abs/1810.03307', 'The variance of a gradient method over noisy copies of the image.');
