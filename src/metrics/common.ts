/**
 * What every metric shares: the inputs (an explainer, an image batch, one saliency map per
 * image, the explained classes), the batched scoring of perturbed copies (the perturbation
 * methods' `perturbedScores` on a MethodContext, so metrics run the same batched forward
 * passes as occlusion and RISE), the pixel order of a map, and summary statistics.
 */
import { OptionError } from '../errors.ts';
import { preSoftmaxTarget } from '../autodiff/compile.ts';
import type { Explainer } from '../methods/explainer.ts';
import { geometryOf } from '../methods/explainer.ts';
import { MethodContext, type InputGeometry } from '../methods/context.ts';
import type { PerturbedScore } from '../methods/perturbation/base.ts';
import type { Explanation } from '../methods/types.ts';
import type { Tensor } from '../runtime/session.ts';
import { argmaxClasses, resolveTargets } from '../targets/targets.ts';

export type MetricScore = PerturbedScore;

/** The data a metric reads: maps are [H, W] at the input resolution, one per image. */
export interface MetricInput {
  explainer: Explainer;
  images: Tensor;
  maps: readonly Float32Array[];
  /** The explained class of each image (RISE and most references: the predicted class). */
  classes: readonly number[];
}

export interface RunOptions {
  /** Images per onnxruntime run (default 8). */
  batchSize?: number;
  /** Seed of the metric's random draws (default 0). */
  seed?: number;
}

/** The predicted class of each image (one batched forward pass). */
export async function predictedClasses(explainer: Explainer, images: Tensor): Promise<number[]> {
  return argmaxClasses((await explainer.predict(images)).scores);
}

/** A MethodContext over `images` with fixed class targets: the batched runs metrics use. */
export async function metricContext(input: Pick<MetricInput, 'explainer' | 'images' | 'classes'>, options: RunOptions = {}): Promise<MethodContext> {
  const { explainer, images, classes } = input;
  const n = images.dims[0]!;
  if (classes.length !== n) throw new OptionError(`${classes.length} classes for ${n} images: give one class per image`);
  const s = await explainer.specialize(images);
  const target = preSoftmaxTarget(s, s.view.outputs[0]!.name);
  const targets = resolveTargets([...classes], n, [n, ...s.shapes.get(target)!.slice(1)]);
  return new MethodContext(explainer.engine, s, images, targets, [], geometryOf(images.dims), { batchSize: options.batchSize ?? 8, seed: options.seed ?? 0, counterfactual: false }, target);
}

/** Check that there is one [H, W] map per image. */
export function checkMaps(maps: readonly Float32Array[], images: Tensor): InputGeometry {
  const g = geometryOf(images.dims);
  const n = images.dims[0]!;
  if (maps.length !== n) throw new OptionError(`${maps.length} maps for ${n} images: give one map per image`);
  for (const m of maps) {
    if (m.length !== g.height * g.width) throw new OptionError(`a map has ${m.length} values, not ${g.height}x${g.width}: give maps at the input resolution`);
  }
  return g;
}

/**
 * The [H, W] saliency of an explanation: a map's display values; for an attribution image
 * [C, H, W], the sum over channels of |raw| (PAIR's VisualizeImageGrayscale before its
 * percentile clip, the map Adebayo et al. 2018 compare).
 */
export function saliencyMap(e: Explanation): Float32Array {
  if (e.kind === 'map') return e.values;
  const [c, h, w] = e.dims as [number, number, number];
  const out = new Float32Array(h * w);
  for (let k = 0; k < c; k++) for (let i = 0; i < h * w; i++) out[i] = out[i]! + Math.abs(e.raw[k * h * w + i]!);
  return out;
}

/** Pixel indices by decreasing saliency; ties in index order (deterministic). */
export function descendingOrder(map: ArrayLike<number>): Int32Array {
  const order = Int32Array.from({ length: map.length }, (_, i) => i);
  return order.sort((a, b) => map[b]! - map[a]! || a - b);
}

/** Write `source` into `target` at pixels order[from..to) of every channel (model layout). */
export function copyPixels(target: Float32Array, source: Float32Array, order: Int32Array, from: number, to: number, g: InputGeometry): void {
  const hw = g.height * g.width;
  for (let j = from; j < to; j++) {
    const p = order[j]!;
    for (let c = 0; c < g.channels; c++) {
      const at = g.layout === 'nchw' ? c * hw + p : p * g.channels + c;
      target[at] = source[at]!;
    }
  }
}

/** Image `row` of a batch (a view). */
export function imageRow(images: Tensor, row: number): Float32Array {
  const per = images.data.length / images.dims[0]!;
  return images.data.subarray(row * per, (row + 1) * per);
}

/** Mean and standard error (sample std / sqrt(n)) of the finite values. */
export function meanStderr(values: readonly number[]): { mean: number; stderr: number; n: number } {
  const v = values.filter(Number.isFinite);
  const n = v.length;
  if (n === 0) return { mean: NaN, stderr: NaN, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, stderr: Math.sqrt(variance / n), n };
}
