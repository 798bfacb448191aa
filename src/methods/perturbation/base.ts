/**
 * What the perturbation methods share (occlusion, RISE, Score-CAM, Ablation-CAM): softmax
 * probabilities of the target, batched scoring of perturbed copies of an image, masking in
 * the model's layout.
 */
import type { Tensor } from '../../runtime/session.ts';
import type { InputGeometry, MethodContext } from '../context.ts';

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
    ctx.advance(n);
  }
  return out;
}
