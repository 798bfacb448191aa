/**
 * DeepLIFT (rescale rule) and DeepLIFT-SHAP.
 * DeepLIFT: Shrikumar et al. 2017, "Learning Important Features Through Propagating
 * Activation Differences", eq. 3 (summation-to-delta: sum_i C_i = f(x) - f(x0)) and
 * section 3.5.2 (rescale rule). Images and baselines run as one batch [x; x0] through the
 * rescale rule set (src/autodiff/relevance/deeplift.ts); the attribution is (x - x0) * m.
 * DeepLIFT-SHAP: Lundberg & Lee 2017, "A Unified Approach to Interpreting Model
 * Predictions", section 4.2 (Deep SHAP): the mean of DeepLIFT attributions over a set of
 * baselines (Captum's DeepLiftShap).
 * extras: `delta` = sum of the attribution - (f(x) - f(x0)) (averaged over baselines).
 */
import { deepliftRules } from '../../autodiff/relevance/deeplift.ts';
import type { Tensor } from '../../runtime/session.ts';
import type { MethodContext } from '../context.ts';
import { concatRows } from '../context.ts';
import { outputDims } from '../gradient/base.ts';
import type { Method, RawResult } from '../types.ts';
import { baselineSet, type Baseline } from './baselines.ts';

export interface DeepLiftOptions {
  baseline: Baseline;
}

export interface DeepLiftShapOptions {
  baselines: Baseline;
  samples: number;
}

interface Pair {
  row: number;
  x: Float32Array;
  b: Float32Array;
}

/** DeepLIFT attributions (model layout) and deltas of each (image, baseline) pair, pairs batched. */
async function deeplift(ctx: MethodContext, pairs: readonly Pair[]): Promise<{ attribution: Float32Array; delta: number }[]> {
  const input = ctx.specialized.view.inputs[0]!.name;
  const rowDims = ctx.images.dims.slice(1);
  const per = ctx.images.data.length / ctx.images.dims[0]!;
  const chunk = Math.max(1, Math.floor(ctx.options.batchSize / 2));
  const out: { attribution: Float32Array; delta: number }[] = [];
  for (let from = 0; from < pairs.length; from += chunk) {
    const part = pairs.slice(from, from + chunk);
    const k = part.length;
    const batch: Tensor = concatRows([...part.map((p) => ({ data: p.x, dims: [1, ...rowDims] })), ...part.map((p) => ({ data: p.b, dims: [1, ...rowDims] }))]);
    const rows = part.map((p) => p.row);
    const weights = ctx.explicitWeights([...rows, ...rows]);
    const res = await ctx.engine.run(batch, { wrt: [input], rules: deepliftRules, targetTensor: ctx.targetTensor, expose: [ctx.targetTensor] }, weights);
    const m = res.gradients[input]!.data;
    const scores = res.exposed[ctx.targetTensor]!.data;
    const perScore = scores.length / (2 * k);
    part.forEach((p, i) => {
      const attribution = Float32Array.from(p.x, (v, j) => (v - p.b[j]!) * m[i * per + j]!);
      let change = 0;
      for (let j = 0; j < perScore; j++) change += weights.data[i * perScore + j]! * (scores[i * perScore + j]! - scores[(k + i) * perScore + j]!);
      out.push({ attribution, delta: attribution.reduce((a, v) => a + v, 0) - change });
    });
  }
  return out;
}

/** Mean attribution per row over its pairs, as [C, H, W]. */
async function averaged(ctx: MethodContext, baselines: (row: number, x: Float32Array) => Float32Array[]): Promise<RawResult[]> {
  await ctx.fixTargets();
  const images = ctx.rowImages();
  const per = images.data.length / ctx.rows;
  const pairs: Pair[] = [];
  for (let row = 0; row < ctx.rows; row++) {
    const x = images.data.subarray(row * per, (row + 1) * per);
    for (const b of baselines(row, x)) pairs.push({ row, x, b });
  }
  const results = await deeplift(ctx, pairs);
  const dims = outputDims(ctx, 'image');
  return Array.from({ length: ctx.rows }, (_, row) => {
    const own = results.filter((_, i) => pairs[i]!.row === row);
    const mean = new Float32Array(per);
    for (const r of own) r.attribution.forEach((v, j) => (mean[j] = mean[j]! + v / own.length));
    const delta = own.reduce((a, r) => a + r.delta, 0) / own.length;
    return { row, values: ctx.toCHW({ data: mean, dims: [1, ...images.dims.slice(1)] }, 0), dims, extras: { delta } };
  });
}

const info = {
  family: 'relevance',
  output: 'image',
  usesLayers: false,
  needsGradients: true,
  relu: false,
  signed: true,
} as const;

export const deepLift: Method<DeepLiftOptions> = {
  ...info,
  id: 'deeplift',
  paper: 'Shrikumar et al. 2017, https://arxiv.org/abs/1704.02685 (eq. 3, section 3.5.2)',
  summary: 'Differences from a baseline propagated with the rescale rule: contributions that add up to the score change.',
  options: [
    { name: 'baseline', type: 'number', choices: ['zeros', 'blur'], tensor: true, default: 'zeros', help: 'the reference input: a constant, zeros, or blur (a Gaussian blur of the image)' },
  ],
  run: (ctx, options) => averaged(ctx, (row, x) => baselineSet(ctx, ctx.rngFor(row), x, options.baseline, 1)),
};

export const deepLiftShap: Method<DeepLiftShapOptions> = {
  ...info,
  id: 'deeplift-shap',
  paper: 'Lundberg & Lee 2017, https://arxiv.org/abs/1705.07874 (section 4.2, Deep SHAP)',
  summary: 'DeepLIFT averaged over a set of baselines: SHAP values with a background distribution.',
  options: [
    { name: 'baselines', type: 'choice', choices: ['noise', 'zeros', 'blur'], tensor: true, default: 'noise', help: "the background: noise (uniform in the image's range, seeded), zeros, blur, or a tensor of several images" },
    { name: 'samples', type: 'integer', default: 8, min: 1, help: 'noise baselines per image' },
  ],
  run: (ctx, options) => averaged(ctx, (row, x) => baselineSet(ctx, ctx.rngFor(row), x, options.baselines, options.samples)),
};

