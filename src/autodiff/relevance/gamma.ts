/**
 * LRP-gamma (Montavon et al. 2019, "Layer-Wise Relevance Propagation: An Overview",
 * section 10.2.1; zennit `Gamma` for non-negative inputs): positive weights are favoured,
 *   R_j = sum_k a_j (w_jk + gamma w_jk^+) / sum_j a_j (w_jk + gamma w_jk^+) R_k,
 * the bias modified alike (b + gamma b^+). gamma -> infinity approaches z+.
 */
import { positivePart, type LayerRule } from './layer.ts';
import { STABILIZER } from './stabilizer.ts';

export function gammaRule(gamma: number): LayerRule {
  const rho = (w: number) => w + gamma * positivePart(w);
  return { epsilon: STABILIZER, groups: [{ coefficient: 1, terms: [{ input: 'x', weight: rho, bias: rho }] }] };
}
