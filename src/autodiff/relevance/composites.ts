/**
 * LRP composites: which relevance rule each op gets, by op type and position, named as in
 * zennit (Anders et al. 2021, "Software for Dataset-wide XAI: From Local Explanations to
 * Global Insights with Zennit, CoRelAy, and ViRelAy", section 3.2) and following Montavon
 * et al. 2019, "Layer-Wise Relevance Propagation: An Overview", section 10.3 (which rule
 * for which layer):
 *
 *   epsilon               epsilon on every layer (Captum's LRP defaults)
 *   epsilon-plus          z+ on convolutions, epsilon on dense layers
 *   epsilon-plus-flat     as epsilon-plus, flat on the first linear layer
 *   epsilon-gamma-box     z^B on the first layer, gamma on convolutions, epsilon on dense layers
 *   epsilon-alpha2-beta1  alpha-beta (2, 1) on convolutions, epsilon on dense layers
 *
 * Every composite is an override map over the gradient table, like the guided and
 * deconvnet rule sets: the relevance R itself flows backward. Weight-free linear ops
 * (average pooling, Add/Sum residuals, Resize, ...) use the proportional rule (the
 * epsilon rule's stabilizer in the epsilon composite, zennit's Norm stabilizer 1e-6 in the
 * others); max pooling keeps the gradient's winner-take-all routing; activations and
 * standalone normalizations pass relevance; Concat, Split, reshapes and slices move it
 * like gradients. The compiler seeds it with w * target (R = f(x) at the output).
 */
import { gradientRules } from '../rules/index.ts';
import type { Rule, RuleTable } from '../rule.ts';
import type { GraphFacts } from './facts.ts';
import { alphaBetaRule, zPlusRule } from './alpha-beta.ts';
import { epsilonRule } from './epsilon.ts';
import { flatRule } from './flat.ts';
import { gammaRule } from './gamma.ts';
import { layerRelevance, type Box, type LayerRule } from './layer.ts';
import { gate, pass } from './pass.ts';
import { proportional } from './proportional.ts';
import { STABILIZER } from './stabilizer.ts';
import { zBoxRule } from './z-box.ts';

export const compositeNames = ['epsilon', 'epsilon-plus', 'epsilon-plus-flat', 'epsilon-gamma-box', 'epsilon-alpha2-beta1'] as const;
export type CompositeName = (typeof compositeNames)[number];

export interface CompositeParams {
  composite: CompositeName;
  /** Stabilizer of the epsilon rule (dense layers; every layer in 'epsilon'). */
  epsilon: number;
  /** gamma of the gamma rule (epsilon-gamma-box). */
  gamma: number;
  /** alpha and beta of the alpha-beta rule (epsilon-alpha2-beta1). */
  alpha: number;
  beta: number;
  /** Input bounds for z^B (epsilon-gamma-box). */
  box?: Box;
}

/** Position of a linear layer: convolution or dense, and whether it reads the input. */
interface Position {
  conv: boolean;
  first: boolean;
}

function layerRuleFor(p: CompositeParams, at: Position): LayerRule {
  if (!at.conv && !(at.first && (p.composite === 'epsilon-plus-flat' || p.composite === 'epsilon-gamma-box'))) return epsilonRule(p.epsilon);
  switch (p.composite) {
    case 'epsilon':
      return epsilonRule(p.epsilon);
    case 'epsilon-plus':
      return zPlusRule();
    case 'epsilon-plus-flat':
      return at.first ? flatRule() : zPlusRule();
    case 'epsilon-gamma-box':
      return at.first ? zBoxRule() : gammaRule(p.gamma);
    case 'epsilon-alpha2-beta1':
      return alphaBetaRule(p.alpha, p.beta);
  }
}

const PASS = ['Relu', 'LeakyRelu', 'PRelu', 'Clip', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'Elu', 'Selu', 'Softplus', 'Erf', 'Exp', 'Log',
  'Sqrt', 'Reciprocal', 'Abs', 'Cast', 'Softmax', 'LogSoftmax', 'BatchNormalization', 'LRN', 'LayerNormalization', 'InstanceNormalization', 'Pow'];
const PROPORTIONAL = ['Add', 'Sub', 'Sum', 'Mean', 'Neg', 'AveragePool', 'GlobalAveragePool', 'ReduceSum', 'ReduceMean', 'Resize'];
const GATED = ['Mul', 'Div'];

/** The rule table of a composite on a graph with these facts. */
export function compositeRules(p: CompositeParams, facts: GraphFacts): RuleTable {
  const normEpsilon = p.composite === 'epsilon' ? p.epsilon : STABILIZER;
  const layerFacts = { nonNegative: (t: string) => facts.nonNegative.has(t), box: p.box };
  const weighted = (conv: boolean): Rule => (ctx) => {
    const data = ctx.node.input.findIndex((t, i) => i < 2 && !ctx.constant(t));
    const first = facts.firstInputs.has(ctx.node.input[Math.max(data, 0)]!);
    return layerRelevance(layerRuleFor(p, { conv, first }), layerFacts)(ctx);
  };
  const table: Record<string, RuleTable[string]> = { ...gradientRules };
  for (const op of PASS) table[op] = pass;
  for (const op of PROPORTIONAL) table[op] = proportional(gradientRules[op], normEpsilon);
  for (const op of GATED) table[op] = gate(proportional(gradientRules[op], normEpsilon));
  table['Conv'] = weighted(true);
  table['ConvTranspose'] = weighted(true);
  table['Gemm'] = weighted(false);
  table['MatMul'] = weighted(false);
  return table;
}
