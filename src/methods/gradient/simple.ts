/**
 * The plain input-gradient methods:
 * - gradient: dS_c/dI (Simonyan et al. 2014, eq. 2 is its first-order Taylor view);
 * - saliency: Simonyan et al. 2014, "Deep Inside Convolutional Networks", section 3.1:
 *   M_ij = max_c |dS_c/dI_{c,i,j}|;
 * - input-x-gradient: I * dS_c/dI (Shrikumar et al. 2016, "Not Just a Black Box");
 * - guided-backprop: Springenberg et al. 2015, "Striving for Simplicity", section 3.4;
 * - deconvnet: Zeiler & Fergus 2014, "Visualizing and Understanding Convolutional
 *   Networks", section 2.1, from the class score.
 */
import { gradientMethod, maxAbsOverChannels } from './base.ts';

export const gradient = gradientMethod(
  { id: 'gradient', paper: 'Simonyan et al. 2014, https://arxiv.org/abs/1312.6034 (section 3.1)', summary: 'The raw gradient of the class score with respect to each input value.' },
  { rules: 'gradient', output: 'image', fromGradient: (g) => g },
);

export const saliency = gradientMethod(
  { id: 'saliency', paper: 'Simonyan et al. 2014, https://arxiv.org/abs/1312.6034 (section 3.1)', summary: 'Per pixel, the largest gradient magnitude over color channels: which pixels change the score most.' },
  { rules: 'gradient', output: 'map', fromGradient: (g, _x, c) => maxAbsOverChannels(g, c) },
);

export const inputXGradient = gradientMethod(
  { id: 'input-x-gradient', signed: true, paper: 'Shrikumar et al. 2016, https://arxiv.org/abs/1605.01713', summary: 'The input times its gradient: a first-order estimate of each value\'s contribution.' },
  { rules: 'gradient', output: 'image', fromGradient: (g, x) => g.map((v, i) => v * x[i]!) },
);

export const guidedBackprop = gradientMethod(
  { id: 'guided-backprop', paper: 'Springenberg et al. 2015, https://arxiv.org/abs/1412.6806 (section 3.4)', summary: 'Backpropagation that passes only positive signals through rectifiers: sharp images of the evidence.' },
  { rules: 'guided', output: 'image', fromGradient: (g) => g },
);
