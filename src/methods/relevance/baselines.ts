/**
 * Reference inputs for DeepLIFT and the SHAP estimators: one baseline per image (zeros, a
 * constant, a blur, or a given tensor), or a set of them (Lundberg & Lee 2017, "A Unified
 * Approach to Interpreting Model Predictions", section 4.2: SHAP values average over a
 * background distribution). 'noise' draws images uniformly from each image's own value
 * range, drawn from a generator seeded per image content (MethodContext.rngFor), so a batch draws what a loop over
 * its images draws.
 */
import { OptionError } from '../../errors.ts';
import type { Rng } from '../../runtime/rng.ts';
import type { Tensor } from '../../runtime/session.ts';
import type { MethodContext } from '../context.ts';
import { gaussianBlur } from '../gradient/baseline.ts';

export type Baseline = 'zeros' | 'blur' | 'noise' | number | Tensor;

/** `count` baselines for the image `x` (model layout), noise drawn from `rng`; a tensor gives its own rows. */
export function baselineSet(ctx: MethodContext, rng: Rng, x: Float32Array, baseline: Baseline, count: number): Float32Array[] {
  if (baseline === 'zeros') return [new Float32Array(x.length)];
  if (typeof baseline === 'number') return [new Float32Array(x.length).fill(baseline)];
  if (baseline === 'blur') return [gaussianBlur(x, ctx.geometry)];
  if (baseline === 'noise') {
    let [lo, hi] = [Infinity, -Infinity];
    for (const v of x) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    return Array.from({ length: count }, () => Float32Array.from(x, () => lo + (hi - lo) * rng.uniform()));
  }
  if (baseline.data.length === 0 || baseline.data.length % x.length !== 0) {
    throw new OptionError(`the baselines have ${baseline.data.length} values: give one or more images of ${x.length} values each`);
  }
  return Array.from({ length: baseline.data.length / x.length }, (_, k) => baseline.data.subarray(k * x.length, (k + 1) * x.length));
}
