/**
 * SmoothGrad, SmoothGrad-squared and VarGrad as method ids: aliases of the smoothing
 * wrapper (../smooth.ts, one implementation) over an input-gradient method chosen by `base`.
 * Smilkov et al. 2017, "SmoothGrad: removing noise by adding noise", eq. 3:
 *   M^(x) = 1/n sum_i M(x + N(0, sigma^2)), sigma = noise * (max(x) - min(x));
 * smoothgrad-squared: the mean of squares; vargrad (Adebayo et al. 2018, "Local
 * Explanation Methods for Deep Neural Networks Lack Sensitivity to Parameter Values"):
 * the variance over the samples.
 */
import { defaultsOf } from '../options.ts';
import { smoothed, smoothingOptions, type Smoothing, type SmoothOptions } from '../smooth.ts';
import type { Method } from '../types.ts';
import { deconvnet } from './deconvnet.ts';
import { gradient, guidedBackprop, inputXGradient, saliency } from './simple.ts';

export interface SmoothGradOptions extends SmoothOptions {
  /** The input-gradient method to smooth (default 'gradient'). */
  base: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const bases: readonly Method<any>[] = [gradient, saliency, inputXGradient, guidedBackprop, deconvnet];

function variant(id: Exclude<Smoothing, 'none'>, paper: string, summary: string): Method<SmoothGradOptions> {
  return {
    id,
    family: 'gradient',
    output: 'image',
    usesLayers: false,
    needsGradients: true,
    relu: false,
    paper,
    summary,
    options: [
      { name: 'base', type: 'choice', choices: bases.map((b) => b.id), default: 'gradient', help: 'the input-gradient method to smooth' },
      ...smoothingOptions(id),
    ],
    run: (ctx, options) => {
      const base = bases.find((b) => b.id === options.base)!;
      return smoothed(ctx, options, base.relu, (noisy) => base.run(noisy, defaultsOf(base.options)));
    },
  };
}

export const smoothgrad = variant('smoothgrad', 'Smilkov et al. 2017, https://arxiv.org/abs/1706.03825 (eq. 3)', 'The average of a gradient method over noisy copies of the image: less noise, same evidence.');
export const smoothgradSquared = variant('smoothgrad-squared', 'Smilkov et al. 2017, https://arxiv.org/abs/1706.03825; Hooker et al. 2019, https://arxiv.org/abs/1806.10758', 'SmoothGrad averaging squared attributions: magnitude regardless of sign.');
export const vargrad = variant('vargrad', 'Adebayo et al. 2018, https://arxiv.org/abs/1810.03307', 'The variance of a gradient method over noisy copies of the image.');
