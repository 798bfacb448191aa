/**
 * HiResCAM. Draelos & Carin 2020, "Use HiResCAM instead of Grad-CAM for faithful
 * explanations", eq. 4: L = ReLU(sum_k dy^c/dA^k (elementwise) A^k).
 */
import { camMethod, perPosition } from './base.ts';

export const hiresCam = camMethod(
  {
    id: 'hires-cam',
    relu: true,
    paper: 'Draelos & Carin 2020, https://arxiv.org/abs/2011.08891 (eq. 4)',
    summary: 'Gradients times activations, position by position: provably the locations the score used.',
  },
  ({ A, G, channels, height, width }) => perPosition(channels, height * width, (i) => G[i]! * A[i]!),
);
