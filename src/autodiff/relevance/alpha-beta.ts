/**
 * LRP-alpha-beta (Bach et al. 2015, "On Pixel-Wise Explanations for Non-Linear Classifier
 * Decisions by Layer-Wise Relevance Propagation", eq. 60; Montavon et al. 2019, section
 * 10.2.3 discusses it as a special case; zennit `AlphaBeta`): positive and negative
 * contributions z_jk = a_j w_jk are propagated separately,
 *   R_j = sum_k (alpha z_jk^+ / sum_j z_jk^+  -  beta z_jk^- / sum_j z_jk^-) R_k,
 * with z^+ = a^+ w^+ + a^- w^- (plus b^+ in the denominator) and z^- = a^+ w^- + a^- w^+
 * (plus b^-). alpha - beta = 1 conserves relevance. alpha = 1, beta = 0 is the z+ rule
 * (Montavon et al. 2017, "Explaining Nonlinear Classification Decisions with Deep Taylor
 * Decomposition", section 4; zennit `ZPlus`). After a ReLU the input has no negative
 * part and each group is one modified layer.
 */
import { negativePart, positivePart, type LayerRule } from './layer.ts';
import { STABILIZER } from './stabilizer.ts';

export function alphaBetaRule(alpha: number, beta: number): LayerRule {
  const positive = {
    coefficient: alpha,
    terms: [
      { input: 'positive', weight: positivePart, bias: positivePart },
      { input: 'negative', weight: negativePart, bias: null },
    ],
  } as const;
  const negative = {
    coefficient: -beta,
    complement: 0,
    terms: [
      { input: 'positive', weight: negativePart, bias: negativePart },
      { input: 'negative', weight: positivePart, bias: null },
    ],
  } as const;
  return { epsilon: STABILIZER, groups: beta === 0 ? [positive] : [positive, negative] };
}

/** z+ = alpha 1, beta 0. */
export const zPlusRule = (): LayerRule => alphaBetaRule(1, 0);
