/**
 * Grad-CAM. Selvaraju et al. 2017, "Grad-CAM: Visual Explanations from Deep Networks via
 * Gradient-based Localization", eq. 1-2: alpha_k = mean_ij dy^c/dA^k_ij,
 * L = ReLU(sum_k alpha_k A^k).
 */
import { camMethod, channelSums, weightedSum, type CamInput } from './base.ts';

/** sum_k alpha_k A^k with alpha_k the spatial mean of the gradients (before the ReLU). */
export function gradCamMap({ A, G, channels, height, width }: CamInput): Float32Array {
  const area = height * width;
  const alpha = channelSums(G, channels, area).map((s) => s / area);
  return weightedSum(A, alpha, channels, area);
}

export const gradCam = camMethod(
  {
    id: 'grad-cam',
    relu: true,
    paper: 'Selvaraju et al. 2017, https://arxiv.org/abs/1610.02391 (eq. 1-2)',
    summary: 'Layer activations weighted by their spatially averaged gradients: where the class evidence is.',
  },
  gradCamMap,
);
