/**
 * Relevance through linear ops without weights (pooling by averaging, residual Add/Sum,
 * Sub, Resize, reductions, Neg): each input receives its share of the output,
 *   R_i = x_i * J_i^T (R / stab(y)),
 * the epsilon rule of Montavon et al. 2019 ("Layer-Wise Relevance Propagation: An
 * Overview", section 10.2.1) with the op's own Jacobian; zennit's `Norm` rule for sums and
 * average pooling. For y = a + b this is R_a = a / (a + b) R, R_b = b / (a + b) R: the
 * relevance of a residual Add is split between the skip and the branch and conserved.
 * Constant operands (a bias Add) take no relevance.
 */
import type { Rule, RuleEntry } from '../rule.ts';
import { relevanceRatio } from './stabilizer.ts';

export function proportional(gradient: RuleEntry | undefined, epsilon: number): Rule {
  const rule = gradient as Rule;
  return (ctx) => {
    const R = ctx.gradOutputs[0];
    if (!R) return [];
    const s = relevanceRatio(ctx, R, ctx.node.output[0]!, epsilon, 's');
    const grads = rule({ ...ctx, gradOutputs: [s] });
    return ctx.node.input.map((x, i) => (grads[i] && ctx.needsGrad[i] ? ctx.op('Mul', [x, grads[i]], {}, `R_in${i}`) : undefined));
  };
}
