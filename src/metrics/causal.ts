/**
 * Deletion and insertion (Petsiuk, Das, Saenko 2018, "RISE", BMVC, arXiv:1806.07421,
 * section 4.1 "causal metrics"; reference: eclique/RISE `evaluation.py` CausalMetric).
 * Deletion copies the substrate into the image most-salient pixels first (all channels of
 * a pixel together); insertion copies the image into the substrate. The curve is the class
 * score at each checkpoint including the unchanged start, and
 *   AUC = (sum(s) - s_0/2 - s_n/2) / n        (RISE `auc`: trapezoid rule, x in [0, 1]).
 * RISE defaults: softmax probability of the class; `step` = image width pixels per step
 * (224 at 224x224, so 225 points); deletion substrate 0 in the model's input space, insertion
 * substrate RISE's blur (rise-blur.ts). Xplique's options: `steps` checkpoints at
 * floor(linspace(0, floor(N * maxFraction), steps + 1)), substrate 0 for both, logits.
 * Ties in the map keep index order (RISE leaves them to an unstable sort).
 */
import { OptionError } from '../errors.ts';
import { perturbedScores } from '../methods/perturbation/base.ts';
import { checkMaps, copyPixels, descendingOrder, imageRow, metricContext, type MetricInput, type MetricScore, type RunOptions } from './common.ts';
import { riseBlur } from './rise-blur.ts';

export type Substrate = 'zero' | 'blur' | number;

export interface CausalOptions extends RunOptions {
  /** Pixels changed per step (RISE; default the image width). */
  step?: number;
  /** Instead of `step`: this many equal steps (Xplique). */
  steps?: number;
  /** Fraction of the pixels changed at the last checkpoint, with `steps` (default 1). */
  maxFraction?: number;
  /** The deleted-pixel values (deletion, default 0) or the start image (insertion, default 'blur'). */
  substrate?: Substrate;
  /** Softmax 'probability' (RISE, default) or pre-softmax 'logit' (Xplique's default). */
  score?: MetricScore;
}

export interface CurveResult {
  /** AUC per image. */
  values: number[];
  /** Score per image per checkpoint. */
  curves: number[][];
  /** Fraction of pixels changed at each checkpoint (the curve's x-axis). */
  fractions: number[];
}

/** Pixels changed at each checkpoint (including 0). */
export function checkpoints(pixels: number, options: Pick<CausalOptions, 'step' | 'steps' | 'maxFraction'>, width: number): number[] {
  if (options.steps !== undefined) {
    if (!Number.isInteger(options.steps) || options.steps < 1) throw new OptionError(`steps must be an integer >= 1, not ${options.steps}`);
    const fraction = options.maxFraction ?? 1;
    if (!(fraction > 0 && fraction <= 1)) throw new OptionError(`maxFraction must be in (0, 1], not ${fraction}`);
    const last = Math.floor(pixels * fraction);
    return Array.from({ length: options.steps + 1 }, (_, i) => Math.floor((i * last) / options.steps!));
  }
  const step = options.step ?? width;
  if (!Number.isInteger(step) || step < 1) throw new OptionError(`step must be an integer >= 1 (pixels per step), not ${step}`);
  const n = Math.ceil(pixels / step);
  return Array.from({ length: n + 1 }, (_, i) => Math.min(i * step, pixels));
}

/** RISE's AUC of a curve sampled at uniformly spaced points of [0, 1]. */
export function auc(curve: ArrayLike<number>): number {
  const n = curve.length - 1;
  if (n < 1) return NaN;
  let sum = 0;
  for (let i = 0; i <= n; i++) sum += curve[i]!;
  return (sum - curve[0]! / 2 - curve[n]! / 2) / n;
}

async function causal(input: MetricInput, options: CausalOptions, mode: 'deletion' | 'insertion'): Promise<CurveResult> {
  const g = checkMaps(input.maps, input.images);
  const ctx = await metricContext(input, options);
  const pixels = g.height * g.width;
  const counts = checkpoints(pixels, options, g.width);
  const substrate = options.substrate ?? (mode === 'deletion' ? 'zero' : 'blur');
  const score = options.score ?? 'probability';
  const values: number[] = [];
  const curves: number[][] = [];
  for (let row = 0; row < input.maps.length; row++) {
    const image = imageRow(input.images, row);
    const base = substrate === 'blur' ? riseBlur(image, g) : new Float32Array(image.length).fill(substrate === 'zero' ? 0 : substrate);
    const [start, finish] = mode === 'deletion' ? [image, base] : [base, image];
    const order = descendingOrder(input.maps[row]!);
    const curve = await perturbedScores(ctx, row, counts.length, (i, copy) => {
      if (start !== image) copy.set(start);
      copyPixels(copy, finish, order, 0, counts[i]!, g);
    }, score);
    curves.push(Array.from(curve));
    values.push(auc(curve));
  }
  return { values, curves, fractions: counts.map((k) => k / pixels) };
}

/** Deletion AUC (lower is better) and curves. */
export function deletion(input: MetricInput, options: CausalOptions = {}): Promise<CurveResult> {
  return causal(input, options, 'deletion');
}

/** Insertion AUC (higher is better) and curves. */
export function insertion(input: MetricInput, options: CausalOptions = {}): Promise<CurveResult> {
  return causal(input, options, 'insertion');
}
