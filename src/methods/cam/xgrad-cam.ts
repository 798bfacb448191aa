/**
 * XGrad-CAM. Fu et al. 2020, "Axiom-based Grad-CAM", eq. 9:
 * w_k = sum_ij (A_ij^k / sum_ab A_ab^k) dy^c/dA_ij^k, L = ReLU(sum_k w_k A^k).
 */
import { camMethod, channelSums, perChannel, weightedSum } from './base.ts';

export const xgradCam = camMethod(
  {
    id: 'xgrad-cam',
    relu: true,
    paper: 'Fu et al. 2020, https://arxiv.org/abs/2008.02312 (eq. 9)',
    summary: 'Grad-CAM with gradients weighted by normalized activations (sensitivity and conservation axioms).',
  },
  ({ A, G, channels, height, width }) => {
    const area = height * width;
    const sumA = channelSums(A, channels, area);
    const w = perChannel(channels, area, (i) => G[i]! * A[i]!).map((s, k) => s / (sumA[k]! + 1e-7));
    return weightedSum(A, w, channels, area);
  },
);
