/**
 * What to explain: per image a class (default: the arg max of the pre-softmax score), the
 * top-k classes, any weight tensor over the outputs, or a region of a dense output. Every
 * form becomes weights over the target tensor (the compiled graph differentiates
 * sum(weights * target)), one row per explanation.
 */
import { ConvlensError } from '../errors.ts';
import type { Tensor } from '../runtime/session.ts';

export type Target =
  | 'auto'
  | number
  | readonly number[]
  | { topK: number }
  | { weights: Tensor }
  | { region: { class: number; mask: Float32Array } | { class: number; box: readonly [y0: number, x0: number, y1: number, x1: number] } };

export interface ResolvedTargets {
  /** Row r explains image imageIndex[r]. */
  imageIndex: number[];
  /** The class of each row, where it has one. */
  classes: (number | undefined)[];
  /** Weights [rows, ...target shape without batch], or 'argmax' (one row per image, computed in the graph). */
  weights: Tensor | 'argmax';
}

export class TargetError extends ConvlensError {
  override name = 'TargetError';
}

const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

function checkClass(c: number, classes: number): void {
  if (!Number.isInteger(c) || c < 0 || c >= classes) {
    throw new TargetError(`target class ${c} is outside the model's ${classes} outputs (0..${classes - 1})`);
  }
}

/** One-hot rows over axis 1 of the target (every position of a dense output gets its class). */
function classWeights(classes: readonly number[], targetShape: readonly number[]): Tensor {
  const rowShape = targetShape.slice(1);
  const perClass = size(rowShape.slice(1));
  const data = new Float32Array(classes.length * size(rowShape));
  classes.forEach((c, r) => data.fill(1, r * size(rowShape) + c * perClass, r * size(rowShape) + (c + 1) * perClass));
  return { data, dims: [classes.length, ...rowShape] };
}

/** Arg max of each image's scores over axis 1 (summed over any further axes). */
export function argmaxClasses(scores: Tensor): number[] {
  const [n, k] = [scores.dims[0]!, scores.dims[1] ?? 1];
  const rest = size(scores.dims.slice(2));
  return Array.from({ length: n }, (_, i) => {
    let best = 0;
    let bestValue = -Infinity;
    for (let c = 0; c < k; c++) {
      let v = 0;
      for (let j = 0; j < rest; j++) v += scores.data[(i * k + c) * rest + j]!;
      if (v > bestValue) [best, bestValue] = [c, v];
    }
    return best;
  });
}

/** Softmax over each row of a [N, ...] score tensor (probabilities from pre-softmax scores). */
export function softmaxRows(scores: Tensor): Float32Array {
  const [n, k] = [scores.dims[0]!, scores.data.length / scores.dims[0]!];
  const out = new Float32Array(scores.data.length);
  for (let i = 0; i < n; i++) {
    const row = scores.data.subarray(i * k, (i + 1) * k);
    const max = Math.max(...row);
    let sum = 0;
    row.forEach((v, j) => (sum += out[i * k + j] = Math.exp(v - max)));
    for (let j = 0; j < k; j++) out[i * k + j] = out[i * k + j]! / sum;
  }
  return out;
}

/** The k best classes of each image, best first. */
export function topClasses(scores: Tensor, k: number): number[][] {
  const [n, classes] = [scores.dims[0]!, scores.dims[1]!];
  return Array.from({ length: n }, (_, i) => {
    const row = Array.from(scores.data.subarray(i * classes, (i + 1) * classes));
    return row.map((v, c) => [v, c] as const).sort((a, b) => b[0] - a[0]).slice(0, k).map(([, c]) => c);
  });
}

function isClassList(t: Target): t is readonly number[] {
  return Array.isArray(t);
}

/**
 * Resolve a target for a batch of `images` against the target tensor's shape
 * ([N, classes, ...]). `scores` (the target tensor's values) is needed for top-k only.
 */
export function resolveTargets(target: Target, images: number, targetShape: readonly number[], scores?: Tensor): ResolvedTargets {
  const classes = targetShape[1] ?? 1;
  const all = Array.from({ length: images }, (_, i) => i);
  if (target === 'auto') return { imageIndex: all, classes: all.map(() => undefined), weights: 'argmax' };
  if (typeof target === 'number' || isClassList(target)) {
    const list: number[] = typeof target === 'number' ? all.map(() => target) : [...target];
    if (list.length !== images) throw new TargetError(`${list.length} target classes for ${images} images: give one per image or a single class`);
    list.forEach((c) => checkClass(c, classes));
    return { imageIndex: all, classes: list, weights: classWeights(list, targetShape) };
  }
  if ('topK' in target) {
    if (!scores) throw new TargetError('top-k targets need the model scores');
    if (!Number.isInteger(target.topK) || target.topK < 1 || target.topK > classes) {
      throw new TargetError(`top-k needs k between 1 and ${classes}, not ${target.topK}`);
    }
    const tops = topClasses(scores, target.topK);
    const imageIndex = tops.flatMap((list, i) => list.map(() => i));
    const list = tops.flat();
    return { imageIndex, classes: list, weights: classWeights(list, targetShape) };
  }
  if ('weights' in target) {
    const w = target.weights;
    const row = size(targetShape.slice(1));
    if (w.data.length === row) {
      const data = new Float32Array(row * images);
      all.forEach((i) => data.set(w.data, i * row));
      return { imageIndex: all, classes: all.map(() => undefined), weights: { data, dims: [images, ...targetShape.slice(1)] } };
    }
    if (w.data.length !== row * images) {
      throw new TargetError(`target weights have ${w.data.length} values; the target tensor needs [${targetShape.slice(1).join(', ')}] per image (${row}) or for the whole batch (${row * images})`);
    }
    return { imageIndex: all, classes: all.map(() => undefined), weights: { data: w.data, dims: [images, ...targetShape.slice(1)] } };
  }
  const region = target.region;
  checkClass(region.class, classes);
  if (targetShape.length !== 4) throw new TargetError(`a region target needs a dense output [N, classes, H, W]; this one is [${targetShape.join(', ')}]`);
  const [h, w] = [targetShape[2]!, targetShape[3]!];
  let mask: Float32Array;
  if ('mask' in region) {
    if (region.mask.length !== h * w) throw new TargetError(`the region mask has ${region.mask.length} values; the output is ${h}x${w}`);
    mask = region.mask;
  } else {
    const [y0, x0, y1, x1] = region.box;
    if (!(0 <= y0 && y0 < y1 && y1 <= h && 0 <= x0 && x0 < x1 && x1 <= w)) throw new TargetError(`region box [${region.box.join(', ')}] is not inside the ${h}x${w} output`);
    mask = new Float32Array(h * w);
    for (let y = y0; y < y1; y++) mask.fill(1, y * w + x0, y * w + x1);
  }
  const weights = classWeights(all.map(() => region.class), targetShape);
  for (let i = 0; i < images; i++) {
    for (let c = 0; c < classes; c++) {
      const at = (i * classes + c) * h * w;
      for (let p = 0; p < h * w; p++) weights.data[at + p] = weights.data[at + p]! * mask[p]!;
    }
  }
  return { imageIndex: all, classes: all.map(() => region.class), weights };
}
