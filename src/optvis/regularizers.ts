/**
 * Regularizers of feature visualization, on the (untransformed) image. Gradient ascent
 * maximizes objective(I) - sum of penalties(I); a blur acts on the image directly.
 *
 * - L2: lambda ||I||^2, gradient 2 lambda I (Simonyan et al. 2014, section 2, eq. 1).
 * - Total variation, isotropic (Mahendran & Vedaldi 2015, "Understanding Deep Image
 *   Representations by Inverting Them", eq. 2 with beta = 1), per channel, with forward
 *   differences (zero across the last row/column) and a Charbonnier epsilon so that the
 *   gradient exists everywhere:
 *     TV(I) = lambda sum_{n,c,y,x} sqrt(dx^2 + dy^2 + eps^2) - eps,
 *     dx = I[y, x+1] - I[y, x],  dy = I[y+1, x] - I[y, x].
 *   Isotropic rather than anisotropic (|dx| + |dy|): rotation-invariant and smooth, so the
 *   gradient is exact (checked by finite differences) instead of a sign subgradient.
 * - Periodic blur (Yosinski et al. 2015, "Understanding Neural Networks Through Deep
 *   Visualization", section 3): every `every` steps, blur the image with a Gaussian of
 *   `sigma` pixels. The parameterization applies it (pixels: circular blur of the image;
 *   fourier: the same blur as a product in the spectrum).
 */
import { OptionError } from '../errors.ts';
import type { ImageShape } from './image.ts';

export interface Penalty {
  readonly kind: 'penalty';
  readonly name: string;
  /** The penalty of `image`; adds factor * its gradient to `gradient` (factor 0: value only). */
  apply(image: Float64Array, shape: ImageShape, gradient: Float64Array, factor: number): number;
}

export interface PeriodicBlur {
  readonly kind: 'blur';
  readonly name: string;
  readonly every: number;
  readonly sigma: number;
}

export type Regularizer = Penalty | PeriodicBlur;

function checkLambda(lambda: number, what: string): void {
  if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new OptionError(`${what} lambda must be a finite number >= 0, not ${lambda}`);
}

export function l2(lambda: number): Penalty {
  checkLambda(lambda, 'L2');
  return {
    kind: 'penalty',
    name: `l2(${lambda})`,
    apply: (image, _shape, gradient, factor) => {
      const f = 2 * lambda * factor;
      let s = 0;
      for (let i = 0; i < image.length; i++) {
        s += image[i]! * image[i]!;
        gradient[i] = gradient[i]! + f * image[i]!;
      }
      return lambda * s;
    },
  };
}

export function totalVariation(lambda: number, options: { epsilon?: number } = {}): Penalty {
  checkLambda(lambda, 'total variation');
  const eps = options.epsilon ?? 1e-3;
  if (!(eps > 0)) throw new OptionError(`total variation epsilon must be positive, not ${eps}`);
  return {
    kind: 'penalty',
    name: `totalVariation(${lambda})`,
    apply: (image, [, , h, w], gradient, factor) => {
      const f = lambda * factor;
      let s = 0;
      for (let plane = 0; plane < image.length; plane += h * w) {
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const i = plane + y * w + x;
            const dx = x + 1 < w ? image[i + 1]! - image[i]! : 0;
            const dy = y + 1 < h ? image[i + w]! - image[i]! : 0;
            const r = Math.sqrt(dx * dx + dy * dy + eps * eps);
            s += r - eps;
            // d r / d I[i] = -(dx + dy) / r, d r / d I[right] = dx / r, d r / d I[below] = dy / r
            gradient[i] = gradient[i]! - (f * (dx + dy)) / r;
            if (dx !== 0) gradient[i + 1] = gradient[i + 1]! + (f * dx) / r;
            if (dy !== 0) gradient[i + w] = gradient[i + w]! + (f * dy) / r;
          }
        }
      }
      return lambda * s;
    },
  };
}

export function blur(options: { every?: number; sigma?: number } = {}): PeriodicBlur {
  const every = options.every ?? 4;
  const sigma = options.sigma ?? 0.5;
  if (!Number.isInteger(every) || every < 1) throw new OptionError(`blur every must be a whole number of steps >= 1, not ${every}`);
  if (!(sigma > 0)) throw new OptionError(`blur sigma must be positive, not ${sigma}`);
  return { kind: 'blur', name: `blur(every ${every}, sigma ${sigma})`, every, sigma };
}
