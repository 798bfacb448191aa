/**
 * Grad-CAM element-wise, pytorch-grad-cam's GradCAMElementWise (a Grad-CAM variant after
 * HiResCAM, Draelos & Carin 2020, eq. 4, that rectifies each product before summing):
 * L = ReLU(sum_k ReLU(dy^c/dA^k (elementwise) A^k)). Unlike HiResCAM, a channel's negative
 * evidence at a position cannot cancel another channel's positive evidence there.
 */
import { camMethod, perPosition } from './base.ts';

export const gradCamElementwise = camMethod(
  {
    id: 'grad-cam-elementwise',
    relu: true,
    paper: 'pytorch-grad-cam GradCAMElementWise, https://github.com/jacobgil/pytorch-grad-cam; after Draelos & Carin 2020, https://arxiv.org/abs/2011.08891 (eq. 4)',
    summary: 'Positive parts of gradients times activations, summed over channels: only the evidence for the class.',
  },
  ({ A, G, channels, height, width }) => perPosition(channels, height * width, (i) => Math.max(G[i]! * A[i]!, 0)),
);
