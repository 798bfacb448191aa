/**
 * Relevance through element-wise activations and normalizations: passed unchanged,
 * R_in = R_out (Montavon et al. 2019, "Layer-Wise Relevance Propagation: An Overview",
 * section 10.2: LRP redistributes at the linear layers only; zennit `Pass`). Standalone
 * normalizations (BatchNormalization not folded into a conv, LRN) pass too: their shift
 * would otherwise absorb or inflate relevance.
 *
 * Gates (Arras et al. 2017, "Explaining Recurrent Neural Network Predictions in Sentiment
 * Analysis", section 3: the "signal-take-all" rule): in y = a * b or y = a / b where both
 * operands are computed, the operand with y's shape (the signal) receives all relevance
 * and a broadcast factor (a squeeze-excitation gate, a normalizer) none. Products with a
 * constant are linear and use the proportional rule.
 */
import type { Rule } from '../rule.ts';

export const pass: Rule = (ctx) => {
  const R = ctx.gradOutputs[0];
  return R && ctx.needsGrad[0] ? [ctx.op('Identity', [R], {}, 'R_in')] : [];
};

/** Mul/Div of two computed tensors: the signal takes all (see above); `linear` otherwise. */
export function gate(linear: Rule): Rule {
  return (ctx) => {
    const R = ctx.gradOutputs[0];
    if (!R) return [];
    const computed = ctx.node.input.map((t) => !ctx.constant(t));
    if (!computed[0] || !computed[1]) return linear(ctx);
    const ys = ctx.shape(ctx.node.output[0]!).join(',');
    const candidates = ctx.node.opType === 'Div' ? [0] : [0, 1];
    const signal = candidates.find((i) => ctx.needsGrad[i] && ctx.shape(ctx.node.input[i]!).join(',') === ys);
    const out: (string | undefined)[] = [];
    if (signal !== undefined) out[signal] = ctx.op('Identity', [R], {}, 'R_in');
    return out;
  };
}
