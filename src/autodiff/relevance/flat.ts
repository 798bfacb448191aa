/**
 * The flat rule (Lapuschkin et al. 2019, "Unmasking Clever Hans Predictors", methods;
 * zennit `Flat`): relevance spread uniformly over each output's receptive field,
 *   R_i = sum_j 1 / sum_i 1 R_j,
 * i.e. the w^2 rule with every weight 1; inputs and weights are replaced by ones.
 */
import type { LayerRule } from './layer.ts';
import { STABILIZER } from './stabilizer.ts';

export function flatRule(): LayerRule {
  return { epsilon: STABILIZER, groups: [{ coefficient: 1, terms: [{ input: 'ones', weight: () => 1, bias: null }] }] };
}
