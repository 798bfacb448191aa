/**
 * Random image transforms applied before every network pass (transformation robustness,
 * Olah et al. 2017, "Feature Visualization", Distill; Lucid's `transform.jitter`,
 * `random_scale`, `random_rotate`): a new random transform each step, the gradient brought
 * back through its exact adjoint.
 *
 * Every transform is an affine warp, out(p) = in(A p + b), resampled bilinearly: 4 taps
 * per output pixel, so forward gathers and the adjoint scatters with the same weights. An
 * integer shift has weights (1, 0, 0, 0) and so moves pixels exactly. The image size never
 * changes (the network's input is fixed); sources outside the image read 0 ('zero'), the
 * opposite edge ('wrap') or the nearest edge pixel ('clamp').
 *
 * One step's consecutive warps with the same boundary are fused into one resampling of the
 * composed map (`warpMap`): one interpolation instead of several (less blur, a quarter of
 * the cost for Lucid's four standard transforms), but what an intermediate warp would have
 * cut off at the border is kept.
 */
import { OptionError } from '../errors.ts';
import type { Rng } from '../runtime/rng.ts';
import { compose, type ImageShape, type LinearMap } from './image.ts';

export type Boundary = 'zero' | 'wrap' | 'clamp';

/**
 * An affine source map in pixel units (pixel centres at integers): output pixel (y, x)
 * reads the input at (yy y + yx x + y0, xy y + xx x + x0).
 */
export type Affine = readonly [yy: number, yx: number, y0: number, xy: number, xx: number, x0: number];

/** An index into [0, size): itself, or for outside ones -1 (zero), wrapped (1) or clamped (2). */
function sourceIndex(i: number, size: number, mode: number): number {
  if (i >= 0 && i < size) return i;
  if (mode === 1) return ((i % size) + size) % size;
  if (mode === 2) return i < 0 ? 0 : size - 1;
  return -1;
}

/** A tap outside the image (index -1: zero boundary) gets weight 0. */
function setTap(index: Int32Array, weight: Float64Array, o: number, iy: number, ix: number, w: number, wt: number): void {
  const inside = iy >= 0 && ix >= 0;
  index[o] = inside ? iy * w + ix : 0;
  weight[o] = inside ? wt : 0;
}

/**
 * Bilinear resampling of every plane of an [N, C, H, W] image to [N, C, outH, outW]; the
 * adjoint maps [N, C, outH, outW] back to [N, C, H, W].
 */
export function resample(shape: ImageShape, outH: number, outW: number, affine: Affine, boundary: Boundary): LinearMap {
  const [n, c, h, w] = shape;
  const [yy, yx, y0, xy, xx, x0] = affine;
  const outArea = outH * outW;
  const index = new Int32Array(4 * outArea);
  const weight = new Float64Array(4 * outArea);
  const mode = boundary === 'zero' ? 0 : boundary === 'wrap' ? 1 : 2;
  const at = (i: number, size: number): number => sourceIndex(i, size, mode);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const sy = yy * y + yx * x + y0, sx = xy * y + xx * x + x0;
      const fy0 = Math.floor(sy), fx0 = Math.floor(sx);
      const fy = sy - fy0, fx = sx - fx0;
      const ya = at(fy0, h), yb = at(fy0 + 1, h), xa = at(fx0, w), xb = at(fx0 + 1, w);
      const o = 4 * (y * outW + x);
      setTap(index, weight, o, ya, xa, w, (1 - fy) * (1 - fx));
      setTap(index, weight, o + 1, ya, xb, w, (1 - fy) * fx);
      setTap(index, weight, o + 2, yb, xa, w, fy * (1 - fx));
      setTap(index, weight, o + 3, yb, xb, w, fy * fx);
    }
  }
  const inArea = h * w;
  return {
    forward(x) {
      const out = new Float64Array(n * c * outArea);
      for (let plane = 0; plane < n * c; plane++) {
        const src = plane * inArea, dst = plane * outArea;
        for (let p = 0; p < outArea; p++) {
          const o = 4 * p;
          out[dst + p] =
            weight[o]! * x[src + index[o]!]! +
            weight[o + 1]! * x[src + index[o + 1]!]! +
            weight[o + 2]! * x[src + index[o + 2]!]! +
            weight[o + 3]! * x[src + index[o + 3]!]!;
        }
      }
      return out;
    },
    adjoint(g) {
      const out = new Float64Array(n * c * inArea);
      for (let plane = 0; plane < n * c; plane++) {
        const src = plane * outArea, dst = plane * inArea;
        for (let p = 0; p < outArea; p++) {
          const v = g[src + p]!;
          const o = 4 * p;
          const i0 = dst + index[o]!, i1 = dst + index[o + 1]!, i2 = dst + index[o + 2]!, i3 = dst + index[o + 3]!;
          out[i0] = out[i0]! + weight[o]! * v;
          out[i1] = out[i1]! + weight[o + 1]! * v;
          out[i2] = out[i2]! + weight[o + 2]! * v;
          out[i3] = out[i3]! + weight[o + 3]! * v;
        }
      }
      return out;
    },
  };
}

/** out(y, x) = in(y - dy, x - dx) */
export const shiftAffine = (dy: number, dx: number): Affine => [1, 0, -dy, 0, 1, -dx];

/**
 * Scale by `factor` and rotate by `degrees` (counter-clockwise on screen) about the centre
 * of an h x w image: source = c + R (p - c) / factor.
 */
export function scaleRotateAffine(h: number, w: number, factor: number, degrees: number): Affine {
  const [cy, cx] = [(h - 1) / 2, (w - 1) / 2];
  const a = (degrees * Math.PI) / 180;
  const [cos, sin] = [Math.cos(a) / factor, Math.sin(a) / factor];
  // y points down: turning the content counter-clockwise brings what was right of the centre above it.
  return [cos, sin, cy - cos * cy - sin * cx, -sin, cos, cx + sin * cy - cos * cx];
}

/** The source map of `first` then `second` applied to the image: first(second(p)). */
export function composeAffine(first: Affine, second: Affine): Affine {
  const [a, b, c, d, e, f] = first;
  const [p, q, r, s, t, u] = second;
  return [a * p + b * s, a * q + b * t, a * r + b * u + c, d * p + e * s, d * q + e * t, d * r + e * u + f];
}

/** Move the image by (dy, dx) whole pixels: out(y, x) = in(y - dy, x - dx). */
export function shift(shape: ImageShape, dy: number, dx: number, boundary: 'zero' | 'wrap'): LinearMap {
  if (!Number.isInteger(dy) || !Number.isInteger(dx)) throw new OptionError(`a shift moves whole pixels, not (${dy}, ${dx})`);
  return resample(shape, shape[2], shape[3], shiftAffine(dy, dx), boundary);
}

/** Scale and rotate about the centre, zero outside (see scaleRotateAffine). */
export function scaleRotate(shape: ImageShape, factor: number, degrees: number): LinearMap {
  return resample(shape, shape[2], shape[3], scaleRotateAffine(shape[2], shape[3], factor, degrees), 'zero');
}

/** Bilinear resize to outH x outW (half-pixel centres, edges clamped, as image libraries resize). */
export function resize(shape: ImageShape, outH: number, outW: number): LinearMap {
  const [, , h, w] = shape;
  return resample(shape, outH, outW, [h / outH, 0, (0.5 * h) / outH - 0.5, 0, w / outW, (0.5 * w) / outW - 0.5], 'clamp');
}

/** One sampled transform. */
export interface Warp {
  affine: Affine;
  boundary: Boundary;
}

/** The warps in order as one linear map, consecutive warps with the same boundary fused. */
export function warpMap(shape: ImageShape, warps: readonly Warp[]): LinearMap {
  const fused: Warp[] = [];
  for (const w of warps) {
    const last = fused[fused.length - 1];
    if (last && last.boundary === w.boundary) last.affine = composeAffine(last.affine, w.affine);
    else fused.push({ ...w });
  }
  return compose(fused.map((w) => resample(shape, shape[2], shape[3], w.affine, w.boundary)));
}

/** A random transform: a new warp per step. */
export interface Transform {
  readonly name: string;
  sample(rng: Rng, shape: ImageShape): Warp;
}

const uniformInt = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng.uniform() * (hi - lo + 1));

/**
 * Random integer shift in [-maxShift, maxShift] on each axis (Lucid's `jitter`), revealing
 * zeros by default (Lucid's jitter crops a padded image) or wrapping around (DeepDream's roll).
 */
export function jitter(maxShift: number, options: { boundary?: 'zero' | 'wrap' } = {}): Transform {
  if (!Number.isInteger(maxShift) || maxShift < 0) throw new OptionError(`jitter takes a whole number of pixels >= 0, not ${maxShift}`);
  const boundary = options.boundary ?? 'zero';
  return {
    name: `jitter(${maxShift})`,
    sample: (rng) => ({ affine: shiftAffine(uniformInt(rng, -maxShift, maxShift), uniformInt(rng, -maxShift, maxShift)), boundary }),
  };
}

/** Random scale factor, uniform in [min, max] (Lucid's `random_scale`), about the centre, zero outside. */
export function randomScale(range: readonly [min: number, max: number]): Transform {
  const [lo, hi] = range;
  if (!(lo > 0 && hi >= lo)) throw new OptionError(`scale range must satisfy 0 < min <= max, not [${lo}, ${hi}]`);
  return {
    name: `randomScale(${lo}, ${hi})`,
    sample: (rng, [, , h, w]) => ({ affine: scaleRotateAffine(h, w, lo + (hi - lo) * rng.uniform(), 0), boundary: 'zero' }),
  };
}

/** Random rotation, uniform in [-maxDegrees, maxDegrees] (Lucid's `random_rotate`), about the centre, zero outside. */
export function randomRotate(maxDegrees: number): Transform {
  if (!(maxDegrees >= 0)) throw new OptionError(`rotation must be >= 0 degrees, not ${maxDegrees}`);
  return {
    name: `randomRotate(${maxDegrees})`,
    sample: (rng, [, , h, w]) => ({ affine: scaleRotateAffine(h, w, 1, (2 * rng.uniform() - 1) * maxDegrees), boundary: 'zero' }),
  };
}

/** Lucid's `standard_transforms` without its padding (the input size is fixed here): jitter, scale, rotate, jitter. */
export function standardTransforms(): Transform[] {
  return [jitter(8), randomScale([0.9, 1.1]), randomRotate(10), jitter(4)];
}
