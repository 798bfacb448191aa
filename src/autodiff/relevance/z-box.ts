/**
 * The z^B rule for the pixel layer (Montavon et al. 2019, "Layer-Wise Relevance
 * Propagation: An Overview", section 10.3.2; Montavon et al. 2017, deep Taylor
 * decomposition, section 5; zennit `ZBox`): inputs bounded by l <= x <= h,
 *   R_i = sum_j (x_i w_ij - l_i w_ij^+ - h_i w_ij^-) / sum_i (x_i w_ij - l_i w_ij^+ - h_i w_ij^-) R_j.
 * The bounds come from the preprocessing: low and high of the normalized input range, per
 * channel. No bias (zennit's bias terms b - b^+ - b^- cancel too).
 */
import { negativePart, positivePart, type LayerRule } from './layer.ts';
import { STABILIZER } from './stabilizer.ts';

export function zBoxRule(): LayerRule {
  return {
    epsilon: STABILIZER,
    groups: [{
      coefficient: 1,
      terms: [
        { input: 'x', weight: 'identity', bias: null },
        { input: 'low', weight: positivePart, bias: null, sign: -1 },
        { input: 'high', weight: negativePart, bias: null, sign: -1 },
      ],
    }],
  };
}
