/**
 * Score-CAM. Wang et al. 2020, "Score-CAM: Score-Weighted Visual Explanations for
 * Convolutional Neural Networks", eq. 6-8: each channel k of the layer, upsampled to the
 * input and min-max normalized (H_k = s(Up(A_k))), masks the image; its weight is the
 * increase in confidence it gives, C(A_k) = f(x * H_k) - f(x_b), f the target's softmax
 * probability and x_b an all-zero image; L = ReLU(sum_k C(A_k) A_k).
 *
 * weighting 'channel-softmax' (the default) is pytorch-grad-cam's ScoreCAM instead: the
 * weights are a softmax over the K channels of the masked inputs' raw (pre-softmax) target
 * scores, w = softmax_k(S(x * H_k)), and the masks are upsampled with align_corners=True
 * (torch.nn.UpsamplingBilinear2d). Its weights are positive, so a blank map means blank
 * activations; the paper's weights are all <= 0 when no channel mask beats the blank image,
 * and the result then says so in its warnings.
 */
import { resizeBilinear } from '../../viz/resize.ts';
import { minMaxNormalize } from '../../viz/normalize.ts';
import type { Method, RawResult } from '../types.ts';
import { applyMask, perturbedScores } from '../perturbation/base.ts';
import { camResult, weightedSum } from './base.ts';

export interface ScoreCamOptions {
  weighting: 'confidence-increase' | 'channel-softmax';
}

/**
 * Bilinear resize of one [h, w] plane with align_corners=True geometry: output pixel o of
 * `out` reads source coordinate o * (in - 1) / (out - 1), so the corner pixels coincide.
 */
export function resizeAlignCorners(src: Float32Array, h: number, w: number, H: number, W: number): Float32Array {
  const taps = (n: number, N: number) =>
    Array.from({ length: N }, (_, o) => {
      const x = N > 1 ? (o * (n - 1)) / (N - 1) : 0;
      const lo = Math.min(Math.floor(x), n - 1);
      return { lo, hi: Math.min(lo + 1, n - 1), t: x - lo };
    });
  const [ys, xs] = [taps(h, H), taps(w, W)];
  const out = new Float32Array(H * W);
  ys.forEach(({ lo: y0, hi: y1, t: ty }, oy) =>
    xs.forEach(({ lo: x0, hi: x1, t: tx }, ox) => {
      const top = src[y0 * w + x0]! * (1 - tx) + src[y0 * w + x1]! * tx;
      const bottom = src[y1 * w + x0]! * (1 - tx) + src[y1 * w + x1]! * tx;
      out[oy * W + ox] = top * (1 - ty) + bottom * ty;
    }),
  );
  return out;
}

function softmax(v: Float64Array): Float64Array {
  const max = Math.max(...v);
  const e = v.map((x) => Math.exp(x - max));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / total);
}

export const scoreCam: Method<ScoreCamOptions> = {
  id: 'score-cam',
  family: 'cam',
  output: 'map',
  usesLayers: true,
  needsGradients: false,
  relu: true,
  paper: 'Wang et al. 2020, https://arxiv.org/abs/1910.01279 (eq. 6-8)',
  summary: 'Layer channels weighted by how much the class confidence rises when each one masks the image.',
  options: [{ name: 'weighting', type: 'choice', choices: ['channel-softmax', 'confidence-increase'], default: 'channel-softmax', help: "channel weights: a softmax of the masked inputs' scores (pytorch-grad-cam) or the paper's confidence increase" }],
  run: async (ctx, { weighting }): Promise<RawResult[]> => {
    const paper = weighting === 'confidence-increase';
    const layers = ctx.layers.map((l) => l.tensor);
    // Progress: one masked copy per channel of each layer (and a black image for the paper's weights), per row.
    ctx.plan(ctx.rows * ((paper ? 1 : 0) + ctx.channels(layers)));
    await ctx.fixTargets();
    const { height: H, width: W } = ctx.geometry;
    const res = await ctx.run({ expose: layers }, ctx.rowImages(), undefined);
    const out: RawResult[] = [];
    for (let row = 0; row < ctx.rows; row++) {
      const blank = paper ? (await perturbedScores(ctx, row, 1, (_, copy) => copy.fill(0), 'probability'))[0]! : 0;
      for (const layer of layers) {
        const { data, dims } = res.exposed[layer]!;
        const [K, h, w] = [dims[1]!, dims[2]!, dims.slice(3).reduce((a, b) => a * b, 1)];
        const A = data.subarray(row * K * h * w, (row + 1) * K * h * w);
        const mask = (k: number) => {
          const plane = A.subarray(k * h * w, (k + 1) * h * w);
          return minMaxNormalize(paper ? resizeBilinear(plane, h, w, H, W) : resizeAlignCorners(plane, h, w, H, W));
        };
        const scores = await perturbedScores(ctx, row, K, (k, copy) => applyMask(copy, mask(k), ctx.geometry), paper ? 'probability' : 'logit');
        const weights = paper ? scores.map((s) => s - blank) : softmax(scores);
        const why = weights.every((v) => v <= 0)
          ? 'every channel weight is <= 0: no channel mask raises the class confidence over a black image; try --weighting channel-softmax'
          : undefined;
        out.push(camResult('score-cam', row, layer, weightedSum(A, weights, K, h * w), [h, w], why));
      }
    }
    return out;
  },
};
