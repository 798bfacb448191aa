/**
 * Integrated Gradients. Sundararajan et al. 2017, "Axiomatic Attribution for Deep
 * Networks", eq. 1 and 3: IG_i(x) = (x_i - b_i) * integral_0^1 dS(b + a (x - b))/dx_i da,
 * here by the trapezoid rule on `steps` evenly spaced points a_k = k / (steps - 1)
 * (weights 1/(steps-1), halved at both ends: Captum's riemann_trapezoid). Completeness
 * (eq. in section 3, "Axiom: Completeness") gives the convergence delta
 * sum_i IG_i - (S(x) - S(b)), reported per image.
 */
import { OptionError } from '../../errors.ts';
import type { Tensor } from '../../runtime/session.ts';
import type { MethodContext } from '../context.ts';
import { concatRows, pickRows } from '../context.ts';
import type { Method, RawResult } from '../types.ts';
import { inputGradients, outputDims } from './base.ts';
import { gaussianBlur } from './baseline.ts';

export interface IntegratedGradientsOptions {
  steps: number;
  /** 'zeros', 'blur' (a Gaussian blur of the image), a constant, or a tensor of the image's shape. */
  baseline: 'zeros' | 'blur' | number | Tensor;
}

function baselineOf(ctx: MethodContext, x: Float32Array, baseline: IntegratedGradientsOptions['baseline']): Float32Array {
  if (baseline === 'zeros') return new Float32Array(x.length);
  if (typeof baseline === 'number') return new Float32Array(x.length).fill(baseline);
  if (baseline === 'blur') return gaussianBlur(x, ctx.geometry);
  if (baseline.data.length !== x.length) throw new OptionError(`the baseline has ${baseline.data.length} values; the image has ${x.length}`);
  return baseline.data;
}

export const integratedGradients: Method<IntegratedGradientsOptions> = {
  id: 'integrated-gradients',
  family: 'gradient',
  output: 'image',
  usesLayers: false,
  needsGradients: true,
  relu: false,
  signed: true,
  paper: 'Sundararajan et al. 2017, https://arxiv.org/abs/1703.01365 (eq. 1, 3)',
  summary: 'Gradients integrated along a path from a baseline to the image: attributions that add up to the score change.',
  options: [
    { name: 'steps', type: 'integer', default: 64, min: 2, help: 'points on the path from the baseline to the image (trapezoid rule)' },
    { name: 'baseline', type: 'number', choices: ['zeros', 'blur'], tensor: true, default: 'zeros', help: 'the reference input: a constant, zeros, or blur (a Gaussian blur of the image)' },
  ],
  run: async (ctx, options): Promise<RawResult[]> => {
    const m = options.steps;
    await ctx.fixTargets();
    const images = ctx.rowImages();
    const per = images.data.length / ctx.rows;
    const dims = outputDims(ctx, 'image');
    const out: RawResult[] = [];
    for (let row = 0; row < ctx.rows; row++) {
      const x = images.data.subarray(row * per, (row + 1) * per);
      const b = baselineOf(ctx, x, options.baseline);
      const path: Tensor = { data: new Float32Array(m * per), dims: [m, ...images.dims.slice(1)] };
      for (let k = 0; k < m; k++) {
        const a = k / (m - 1);
        for (let i = 0; i < per; i++) path.data[k * per + i] = b[i]! + a * (x[i]! - b[i]!);
      }
      const weights = pickRows(ctx.explicitWeights([row]), new Array<number>(m).fill(0));
      const grads = await inputGradients(ctx, 'gradient', path, weights);
      const integral = new Float64Array(per);
      grads.forEach((g, k) => {
        const w = (k === 0 || k === m - 1 ? 0.5 : 1) / (m - 1);
        g.forEach((v, i) => (integral[i] = integral[i]! + w * v));
      });
      const diff = ctx.toCHW({ data: Float32Array.from(x, (v, i) => v - b[i]!), dims: [1, ...images.dims.slice(1)] }, 0);
      const attribution = Float32Array.from(integral, (v, i) => v * diff[i]!);
      const ends = await ctx.scores(concatRows([{ data: b, dims: [1, ...images.dims.slice(1)] }, { data: Float32Array.from(x), dims: [1, ...images.dims.slice(1)] }]), pickRows(ctx.explicitWeights([row]), [0, 0]));
      const total = attribution.reduce((s, v) => s + v, 0);
      out.push({ row, values: attribution, dims, extras: { delta: total - (ends[1]! - ends[0]!), scoreChange: ends[1]! - ends[0]! } });
    }
    return out;
  },
};
