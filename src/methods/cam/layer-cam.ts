/**
 * LayerCAM. Jiang et al. 2021, "LayerCAM: Exploring Hierarchical Class Activation Maps for
 * Localization", eq. 6-7: L = ReLU(sum_k relu(dy^c/dA^k) (elementwise) A^k).
 */
import { camMethod, perPosition } from './base.ts';

export const layerCam = camMethod(
  {
    id: 'layer-cam',
    relu: true,
    paper: 'Jiang et al. 2021, https://doi.org/10.1109/TIP.2021.3089943 (eq. 6-7)',
    summary: 'Positive gradients times activations per position: fine-grained maps, also at shallow layers.',
  },
  ({ A, G, channels, height, width }) => perPosition(channels, height * width, (i) => Math.max(G[i]!, 0) * A[i]!),
);
