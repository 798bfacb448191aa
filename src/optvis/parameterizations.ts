/**
 * Image parameterizations: what gradient ascent actually optimizes. The image is a linear
 * function of the parameters, so the gradient w.r.t. the parameters is the adjoint of that
 * function applied to the image gradient.
 *
 * - `pixels`: the image itself (Simonyan et al. 2014, section 2, from a zero image).
 * - `fourier`: the decorrelated parameterization of Olah et al. 2017, "Feature
 *   Visualization" (Distill, section "Preconditioning and Parameterization"), as in Lucid's
 *   `fft_image`: the image is the inverse real 2-D FFT of complex coefficients scaled by
 *   1/frequency^decay (so all frequencies have about equal energy and gradient descent is
 *   not dominated by high frequencies), then optionally mixed across colours by Lucid's
 *   colour decorrelation matrix (the square root of the ImageNet colour covariance).
 */
import { gaussianKernel } from '../viz/gaussian.ts';
import { OptionError } from '../errors.ts';
import type { Rng } from '../runtime/rng.ts';
import { RealFft2 } from './fft.ts';
import { imageSize, type ImageShape } from './image.ts';

export interface ImageParameters {
  readonly shape: ImageShape;
  /** The optimized values (updated in place by the optimizer). */
  readonly params: Float64Array;
  /** The NCHW image of `p` (default: the current params). */
  image(p?: Float64Array): Float64Array;
  /** The gradient w.r.t. the params from the gradient w.r.t. the image: the exact adjoint of `image`. */
  adjoint(imageGradient: Float64Array): Float64Array;
  /** Blur the represented image in place: Gaussian `sigma` (pixels), circular boundary. */
  blur(sigma: number): void;
}

export interface Parameterization {
  readonly name: 'pixels' | 'fourier';
  create(shape: ImageShape, rng: Rng): ImageParameters;
}

/**
 * Lucid's `color_correlation_svd_sqrt` (lucid/optvis/param/color.py): the square root of
 * the colour covariance of ImageNet, by SVD. Normalized by its largest column norm, as Lucid does.
 */
const COLOR_CORRELATION_SVD_SQRT = [
  [0.26, 0.09, 0.02],
  [0.27, 0.0, -0.05],
  [0.27, -0.09, 0.03],
] as const;
const MAX_COLUMN_NORM = Math.max(...[0, 1, 2].map((j) => Math.hypot(...COLOR_CORRELATION_SVD_SQRT.map((row) => row[j]!))));
/** rgb = COLOR_MIX * decorrelated, per pixel. */
export const COLOR_MIX: readonly (readonly number[])[] = COLOR_CORRELATION_SVD_SQRT.map((row) => row.map((v) => v / MAX_COLUMN_NORM));

/** out[n, c] = sum_d M[c][d] x[n, d] per pixel (transpose: M^T, the adjoint). */
function mixColors(x: Float64Array, shape: ImageShape, transpose: boolean): Float64Array {
  const [n, , h, w] = shape;
  const area = h * w;
  const out = new Float64Array(x.length);
  for (let b = 0; b < n; b++) {
    const base = b * 3 * area;
    for (let c = 0; c < 3; c++) {
      for (let d = 0; d < 3; d++) {
        const m = transpose ? COLOR_MIX[d]![c]! : COLOR_MIX[c]![d]!;
        if (m === 0) continue;
        for (let p = 0; p < area; p++) out[base + c * area + p] = out[base + c * area + p]! + m * x[base + d * area + p]!;
      }
    }
  }
  return out;
}

function decorrelation(option: boolean | undefined, fallback: boolean, channels: number): boolean {
  const on = option ?? (fallback && channels === 3);
  if (on && channels !== 3) throw new OptionError(`colour decorrelation needs 3 channels; this input has ${channels}: set decorrelate: false`);
  return on;
}

/** Circular separable blur of every plane, in place. */
function blurPlanes(x: Float64Array, shape: ImageShape, sigma: number): void {
  const [, , h, w] = shape;
  const kernel = gaussianKernel(sigma);
  const r = (kernel.length - 1) / 2;
  const line = new Float64Array(Math.max(h, w));
  const pass = (n: number, at: (i: number) => number, plane: number) => {
    for (let i = 0; i < n; i++) line[i] = x[plane + at(i)]!;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let t = -r; t <= r; t++) s += kernel[t + r]! * line[(((i + t) % n) + n) % n]!;
      x[plane + at(i)] = s;
    }
  };
  for (let plane = 0; plane < x.length; plane += h * w) {
    for (let y = 0; y < h; y++) pass(w, (i) => y * w + i, plane);
    for (let xx = 0; xx < w; xx++) pass(h, (i) => i * w + xx, plane);
  }
}

export interface PixelOptions {
  /** Zero image (Simonyan et al.), small normal noise, or a given NCHW image. Default 'zero'. */
  init?: 'zero' | 'random' | Float64Array | Float32Array;
  /** Standard deviation of the 'random' init (default 0.01, as Lucid). */
  std?: number;
  /** Optimize decorrelated colours (default false). */
  decorrelate?: boolean;
}

export function pixels(options: PixelOptions = {}): Parameterization {
  return {
    name: 'pixels',
    create(shape, rng) {
      const decorrelate = decorrelation(options.decorrelate, false, shape[1]);
      const size = imageSize(shape);
      const init = options.init ?? 'zero';
      let params: Float64Array;
      if (init === 'zero') params = new Float64Array(size);
      else if (init === 'random') params = Float64Array.from(rng.normals(size, 0, options.std ?? 0.01));
      else {
        if (init.length !== size) throw new OptionError(`the initial image has ${init.length} values; the input [${shape.join(', ')}] needs ${size}`);
        if (decorrelate) throw new OptionError('an initial image cannot be combined with decorrelate: true');
        params = Float64Array.from(init);
      }
      return {
        shape,
        params,
        image: (p = params) => (decorrelate ? mixColors(p, shape, false) : p.slice()),
        adjoint: (g) => (decorrelate ? mixColors(g, shape, true) : g.slice()),
        blur: (sigma) => blurPlanes(params, shape, sigma),
      };
    },
  };
}

export interface FourierOptions {
  /** Spectrum scaling 1/f^decay (default 1, Lucid's decay_power). */
  decay?: number;
  /** Standard deviation of the random init of the coefficients (default 0.01, as Lucid). */
  std?: number;
  /** Mix colours by Lucid's decorrelation matrix (default: true for 3 channels). */
  decorrelate?: boolean;
}

/**
 * Params: [N, C, H, K, 2] (re, im), K = floor(W/2) + 1. Per plane
 *   image = irfft2(scale * coefficients) / 4,
 *   scale[ky, kx] = sqrt(H W) / max(f, 1/max(H, W))^decay,  f = sqrt(fy^2 + fx^2) in cycles/pixel,
 * Lucid's constants (its sqrt(HW) and the final 1/4 make unit-variance coefficients give an
 * image of roughly unit scale); then the colour mix.
 */
export function fourier(options: FourierOptions = {}): Parameterization {
  const decay = options.decay ?? 1;
  return {
    name: 'fourier',
    create(shape, rng) {
      const [n, c, h, w] = shape;
      const decorrelate = decorrelation(options.decorrelate, true, c);
      const fft = new RealFft2(h, w);
      const k = fft.k;
      const planeParams = h * k * 2;
      const freq = (i: number, size: number) => (i <= size / 2 ? i : i - size) / size;
      const scale = new Float64Array(h * k);
      for (let ky = 0; ky < h; ky++) {
        for (let kx = 0; kx < k; kx++) {
          const f = Math.hypot(freq(ky, h), kx / w);
          scale[ky * k + kx] = Math.sqrt(h * w) / Math.max(f, 1 / Math.max(h, w)) ** decay / 4;
        }
      }
      const params = Float64Array.from(rng.normals(n * c * planeParams, 0, options.std ?? 0.01));
      const scaled = new Float64Array(planeParams);
      const image = (p: Float64Array = params): Float64Array => {
        const x = new Float64Array(imageSize(shape));
        for (let plane = 0; plane < n * c; plane++) {
          for (let i = 0; i < h * k; i++) {
            scaled[2 * i] = scale[i]! * p[plane * planeParams + 2 * i]!;
            scaled[2 * i + 1] = scale[i]! * p[plane * planeParams + 2 * i + 1]!;
          }
          fft.inverse(scaled, x.subarray(plane * h * w, (plane + 1) * h * w));
        }
        return decorrelate ? mixColors(x, shape, false) : x;
      };
      const adjoint = (g: Float64Array): Float64Array => {
        const gx = decorrelate ? mixColors(g, shape, true) : g;
        const out = new Float64Array(params.length);
        for (let plane = 0; plane < n * c; plane++) {
          const o = out.subarray(plane * planeParams, (plane + 1) * planeParams);
          fft.adjoint(gx.subarray(plane * h * w, (plane + 1) * h * w), o);
          for (let i = 0; i < h * k; i++) {
            o[2 * i] = o[2 * i]! * scale[i]!;
            o[2 * i + 1] = o[2 * i + 1]! * scale[i]!;
          }
        }
        return out;
      };
      // The circular blur is a convolution, so in the spectrum a product with the kernel's
      // DFT (real and even: k0 + 2 sum_d k_d cos(2 pi f d / size)), exactly what blurPlanes
      // does to the image; the colour mix commutes with it.
      const blur = (sigma: number) => {
        const kernel = gaussianKernel(sigma);
        const r = (kernel.length - 1) / 2;
        const response = (f: number, size: number) => kernel.reduce((s, v, i) => s + v * Math.cos((2 * Math.PI * f * (i - r)) / size), 0);
        const ry = Float64Array.from({ length: h }, (_, ky) => response(ky, h));
        const rx = Float64Array.from({ length: k }, (_, kx) => response(kx, w));
        for (let plane = 0; plane < n * c; plane++) {
          for (let ky = 0; ky < h; ky++) {
            for (let kx = 0; kx < k; kx++) {
              const i = plane * planeParams + 2 * (ky * k + kx);
              params[i] = params[i]! * ry[ky]! * rx[kx]!;
              params[i + 1] = params[i + 1]! * ry[ky]! * rx[kx]!;
            }
          }
        }
      };
      return { shape, params, image, adjoint, blur };
    },
  };
}
