/**
 * LRP-epsilon (Montavon et al. 2019, "Layer-Wise Relevance Propagation: An Overview",
 * section 10.2.1; Bach et al. 2015, eq. 58; zennit `Epsilon`, Captum `EpsilonRule`):
 *   R_j = sum_k a_j w_jk / (z_k + eps sign(z_k)) R_k,   z_k = sum_j a_j w_jk + b_k.
 * The layer's own output is z, so nothing is recomputed: R_in = x * W^T (R / stab(z)).
 * eps -> 0 is LRP-0 (eq. of section 10.2.1), which for ReLU networks equals gradient x input.
 */
import type { LayerRule } from './layer.ts';

export function epsilonRule(epsilon: number): LayerRule {
  return { epsilon, groups: [{ coefficient: 1, terms: [{ input: 'x', weight: 'identity', bias: 'identity' }] }] };
}
