/**
 * The w^2 rule for unbounded inputs (Montavon et al. 2017, "Explaining Nonlinear
 * Classification Decisions with Deep Taylor Decomposition", section 4.1; Montavon et al.
 * 2019, section 10.3.2; zennit `WSquare`): relevance by squared weights, independent of
 * the input,
 *   R_i = sum_j w_ij^2 / sum_i w_ij^2 R_j.
 */
import type { LayerRule } from './layer.ts';
import { STABILIZER } from './stabilizer.ts';

export function wSquareRule(): LayerRule {
  return { epsilon: STABILIZER, groups: [{ coefficient: 1, terms: [{ input: 'ones', weight: (w) => w * w, bias: null }] }] };
}
