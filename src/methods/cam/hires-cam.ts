/**
 * HiResCAM. Draelos & Carin 2020, "Use HiResCAM instead of Grad-CAM for faithful
 * explanations", eq. 4: L = ReLU(sum_k dy^c/dA^k (elementwise) A^k).
 */
import { camMethod } from './base.ts';

export const hiresCam = camMethod(
  {
    id: 'hires-cam',
    relu: true,
    paper: 'Draelos & Carin 2020, https://arxiv.org/abs/2011.08891 (eq. 4)',
    summary: 'Gradients times activations, position by position: provably the locations the score used.',
  },
  ({ A, G, channels, height, width }) => {
    const area = height * width;
    const out = new Float32Array(area);
    for (let i = 0; i < channels * area; i++) out[i % area] = out[i % area]! + G[i]! * A[i]!;
    return out;
  },
);
