/**
 * Ablation-CAM. Desai & Ramaswamy 2020, "Ablation-CAM: Visual Explanations for Deep
 * Convolutional Network via Gradient-free Localization", eq. 3-4: the weight of channel k is
 * the fraction of the class score lost when the channel is switched off,
 *   w_k = (y_c - y_c^k) / y_c,   L = ReLU(sum_k w_k A_k),
 * y_c^k the score with channel k of the layer ablated and the rest of the network run on
 * the result (the layer is injected as an input; the image still feeds any path that
 * bypasses it). Eq. 3 divides the drop by ||A_k||; eq. 4, used here as by pytorch-grad-cam,
 * by y_c. A zero score y_c leaves the drops unscaled.
 *
 * ablation 'zero' is the paper's. 'pytorch-grad-cam' reproduces pytorch-grad-cam's
 * AblationLayer, which zeroes a channel only when the layer's minimum is exactly 0 and
 * otherwise writes torch.min(batch) - 1e7, re-reading the minimum after each channel of its
 * batch (32 copies) is written: copy k gets min(A) - (k mod 32 + 1) * 1e7. On a layer with
 * negative values that scales the weights by (k mod 32 + 1), which its maps inherit.
 */
import type { Tensor } from '../../runtime/session.ts';
import { pickRows, type MethodContext } from '../context.ts';
import type { Method, RawResult } from '../types.ts';
import { rowImage } from '../perturbation/base.ts';
import { camResult, weightedSum } from './base.ts';

export interface AblationCamOptions {
  /** What an ablated channel is set to (see above). */
  ablation: 'zero' | 'pytorch-grad-cam';
}

/** pytorch-grad-cam's AblationCAM batch_size default. */
const GRAD_CAM_BATCH = 32;

/** The value channel k is set to. */
function ablationValue(ablation: AblationCamOptions['ablation'], A: Float32Array): (k: number) => number {
  if (ablation === 'zero') return () => 0;
  const min = A.reduce((m, v) => Math.min(m, v), Infinity);
  return (k) => (min === 0 ? 0 : min - ((k % GRAD_CAM_BATCH) + 1) * 1e7);
}

/**
 * Target scores of one row with channel k of `layer` set to `value(k)` in copy k; the K
 * copies are built 8 batches at a time and run by MethodContext.run.
 */
async function ablatedScores(ctx: MethodContext, row: number, layer: string, A: Float32Array, dims: number[], value: (k: number) => number): Promise<Float32Array> {
  const K = dims[1]!;
  const area = A.length / K;
  const imageName = Object.keys(ctx.specialized.inputShapes)[0]!;
  const image = rowImage(ctx, row);
  const out = new Float32Array(K);
  const chunk = 8 * ctx.options.batchSize;
  for (let from = 0; from < K; from += chunk) {
    const n = Math.min(chunk, K - from);
    const images: Tensor = { data: new Float32Array(n * image.length), dims: [n, ...ctx.images.dims.slice(1)] };
    const ablated: Tensor = { data: new Float32Array(n * A.length), dims: [n, ...dims.slice(1)] };
    for (let i = 0; i < n; i++) {
      images.data.set(image, i * image.length);
      ablated.data.set(A, i * A.length);
      ablated.data.fill(value(from + i), i * A.length + (from + i) * area, i * A.length + (from + i + 1) * area);
    }
    const weights = pickRows(ctx.explicitWeights([row]), new Array<number>(n).fill(0));
    out.set(await ctx.scores({ [imageName]: images, [layer]: ablated }, weights, { inject: [layer] }), from);
    ctx.advance(n);
  }
  return out;
}

export const ablationCam: Method<AblationCamOptions> = {
  id: 'ablation-cam',
  family: 'cam',
  output: 'map',
  usesLayers: true,
  needsGradients: false,
  relu: true,
  paper: 'Desai & Ramaswamy 2020, https://openaccess.thecvf.com/content_WACV_2020/html/Desai_Ablation-CAM_Visual_Explanations_for_Deep_Convolutional_Network_via_Gradient-free_Localization_WACV_2020_paper.html (eq. 3-4)',
  summary: 'Layer channels weighted by the fraction of the class score lost when each one is switched off.',
  options: [{ name: 'ablation', type: 'choice', choices: ['zero', 'pytorch-grad-cam'], default: 'zero', help: "what an ablated channel is set to: zero (the paper) or pytorch-grad-cam's value" }],
  run: async (ctx, { ablation }): Promise<RawResult[]> => {
    const layers = ctx.layers.map((l) => l.tensor);
    // Progress: one ablated copy per channel of each layer, per row.
    ctx.plan(ctx.rows * ctx.channels(layers));
    await ctx.fixTargets();
    const res = await ctx.run({ expose: layers }, ctx.rowImages(), undefined);
    const z = res.exposed[ctx.targetTensor]!;
    const out: RawResult[] = [];
    for (let row = 0; row < ctx.rows; row++) {
      const w = ctx.explicitWeights([row]).data;
      let y = 0;
      for (let j = 0; j < w.length; j++) y += w[j]! * z.data[row * w.length + j]!;
      for (const layer of layers) {
        const { data, dims } = res.exposed[layer]!;
        const [K, area] = [dims[1]!, dims.slice(2).reduce((a, b) => a * b, 1)];
        const A = data.subarray(row * K * area, (row + 1) * K * area);
        const ablated = await ablatedScores(ctx, row, layer, A, dims, ablationValue(ablation, A));
        const weights = ablated.map((yk) => (y - yk) / (y !== 0 ? y : 1));
        out.push(camResult('ablation-cam', row, layer, weightedSum(A, weights, K, area), [dims[2]!, dims.slice(3).reduce((a, b) => a * b, 1)]));
      }
    }
    return out;
  },
};
