/**
 * Grad-CAM++. Chattopadhyay et al. 2018, "Grad-CAM++: Improved Visual Explanations for Deep
 * Convolutional Networks", eq. 19 with the exponential-score closed form:
 * alpha_ij^k = g^2 / (2 g^2 + sum_ab A_ab^k g^3) (0 where g = 0 or the denominator vanishes),
 * w_k = sum_ij alpha_ij^k relu(g_ij), L = ReLU(sum_k w_k A^k).
 * As in pytorch-grad-cam, 1e-6 is added to the denominator: it also damps positions whose
 * gradients are tiny (the map then depends on the score's scale, a known quirk kept for
 * agreement with the reference implementation).
 */
import { camMethod, channelSums, perChannel, weightedSum } from './base.ts';

export const gradCamPlusPlus = camMethod(
  {
    id: 'grad-cam-plus-plus',
    relu: true,
    paper: 'Chattopadhyay et al. 2018, https://arxiv.org/abs/1710.11063 (eq. 19)',
    summary: 'Grad-CAM with pixel-wise weights on positive gradients: better for several instances of a class.',
  },
  ({ A, G, channels, height, width }) => {
    const area = height * width;
    const sumA = channelSums(A, channels, area);
    const w = perChannel(channels, area, (i) => {
      const g = G[i]!;
      if (g <= 0) return 0; // relu(g) = 0
      const g2 = g * g;
      const denominator = 2 * g2 + sumA[Math.floor(i / area)]! * g2 * g + 1e-6;
      return denominator !== 0 ? (g2 / denominator) * g : 0;
    });
    return weightedSum(A, w, channels, area);
  },
);
