// Value rescaling applied to attribution maps before they are coloured.
// Each function returns a new array (unless told to write into one) and never produces
// NaN from a constant or all-zero input (NaN already in the input stays NaN).

/** The smallest and largest value (NaN skipped); Infinity, -Infinity when there is none. */
export function extent(map: Float32Array): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < map.length; i++) {
    const v = map[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/**
 * (x - min) / (max - min) into [0, 1]. A constant map (max = min) becomes all
 * zeros. This is the usual CAM normalisation (pytorch-grad-cam's
 * `scale_cam_image`, which adds 1e-7 to the denominator instead of guarding).
 * `out` (default a new array) may be `map` itself, to normalize in place.
 */
export function minMaxNormalize(map: Float32Array, out: Float32Array = new Float32Array(map.length)): Float32Array {
  const { min, max } = extent(map);
  const range = max - min;
  if (!(range > 0)) return out.fill(0);
  for (let i = 0; i < map.length; i++) out[i] = (map[i]! - min) / range;
  return out;
}

/**
 * The convention for showing a raw gradient (guided backprop, deconvnet) as a
 * picture: shift by the minimum, then divide by the new maximum when it is
 * positive. Applied to all channels jointly, so colour balance is kept. As in
 * utkuozbulak/pytorch-cnn-visualizations' `save_gradient_images`
 * (`g = g - g.min(); g /= g.max()`), with a guard for constant input.
 * Mathematically the same mapping as `minMaxNormalize`; kept as its own name
 * because it is a rendering convention, not a statistic.
 */
export function normalizeGradientImage(g: Float32Array): Float32Array {
  const { min } = extent(g);
  const shifted = new Float64Array(g.length);
  let max = 0;
  for (let i = 0; i < g.length; i++) {
    const v = g[i]! - min;
    shifted[i] = v;
    if (v > max) max = v;
  }
  const out = new Float32Array(g.length);
  if (!(max > 0)) return out;
  for (let i = 0; i < g.length; i++) out[i] = shifted[i]! / max;
  return out;
}

/**
 * Signed map to [-1, 1] by dividing by max |x|, keeping 0 at 0 and the sign of
 * every value (what a diverging colormap needs). An all-zero map stays zero.
 */
export function absMaxScale(map: Float32Array): Float32Array {
  let m = 0;
  for (let i = 0; i < map.length; i++) {
    const a = Math.abs(map[i]!);
    if (a > m) m = a;
  }
  const out = new Float32Array(map.length);
  if (!(m > 0)) return out;
  for (let i = 0; i < map.length; i++) out[i] = map[i]! / m + 0; // + 0 turns -0 into 0
  return out;
}

/**
 * numpy's default (`method='linear'`) percentile of `values`, which must be
 * sorted ascending: rank (n - 1) * p / 100, linear between the two
 * neighbouring order statistics, with numpy's two-sided lerp so results match
 * `np.percentile` to the last bit.
 */
function percentileOfSorted(sorted: Float64Array, p: number): number {
  const n = sorted.length;
  const rank = (n - 1) * (p / 100);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, n - 1);
  const t = rank - lo;
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  const d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/**
 * Clips x to [-t, t], t being the p-th percentile (0..100) of |x|. Large
 * outliers otherwise compress the rest of a gradient map into a few grey
 * levels; SmoothGrad (Smilkov et al. 2017) visualises with p = 99, as does
 * PAIR-code/saliency's `VisualizeImageGrayscale`. Signs are kept; follow with
 * `absMaxScale` (signed) or `minMaxNormalize` (non-negative) for [-1, 1] or
 * [0, 1].
 */
export function percentileClip(map: Float32Array, p: number): Float32Array {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentileClip: p must be in [0, 100], got ${p}`);
  const out = new Float32Array(map.length);
  if (map.length === 0) return out;
  const abs = new Float64Array(map.length);
  for (let i = 0; i < map.length; i++) abs[i] = Math.abs(map[i]!);
  abs.sort();
  const t = percentileOfSorted(abs, p);
  for (let i = 0; i < map.length; i++) {
    const v = map[i]!;
    out[i] = (v > t ? t : v < -t ? -t : v) + 0;
  }
  return out;
}
