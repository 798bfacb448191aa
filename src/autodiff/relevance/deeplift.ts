/**
 * DeepLIFT's rescale rule as a rule set (Shrikumar et al. 2017, "Learning Important
 * Features Through Propagating Activation Differences", section 3.3 eq. 3 (summation to
 * delta), 3.5.1 (linear rule: multipliers chain like gradients), 3.5.2 (rescale rule)):
 * the graph runs a batch [x; x0] of images and their baselines, and every nonlinearity
 * y = f(x) passes the multiplier
 *   m_x = m_y * (f(x) - f(x0)) / (x - x0),   or the gradient f'(x) m_y where |x - x0| < 1e-10,
 * the same for both halves of the batch, as Captum's DeepLift does. Linear ops keep their
 * gradient rules, and so does max pooling: the multiplier goes to the image's arg max
 * (the "gradient" max-pooling mode of the DeepLIFT reference implementation; what Captum
 * computed for tests/fixtures/reference/tiny-vgg). The attribution is (x - x0) * m_x,
 * which sums to f(x) - f(x0) (eq. 3, "summation-to-delta") on networks without max pooling.
 */
import type { Rule, RuleContext, RuleTable } from '../rule.ts';
import { gradientRules } from '../rules/index.ts';
import { CompileError } from '../errors.ts';

/** Captum's threshold below which the input difference counts as zero. */
const EPS = 1e-10;

function halves(ctx: RuleContext, t: string, hint: string): [string, string] {
  const n = ctx.shape(t)[0]!;
  if (n % 2 !== 0) throw new CompileError(`DeepLIFT runs images and baselines together: the batch must be even, not ${n}`);
  const [a, b] = ctx.ops('Split', [t, ctx.int64s('halves', [n / 2, n / 2])], { axis: 0 }, hint, 2) as [string, string];
  return [a, b];
}

/** [d; d] for d = first half - second half. */
function difference(ctx: RuleContext, t: string, hint: string): string {
  const [a, b] = halves(ctx, t, `${hint}_halves`);
  const d = ctx.op('Sub', [a, b], {}, hint);
  return ctx.op('Concat', [d, d], { axis: 0 }, `${hint}_both`);
}

/** Where |dx| < EPS the plain gradient, elsewhere `numerator / dx`. */
function rescaled(ctx: RuleContext, dx: string, numerator: string, plain: string): string {
  const small = ctx.op('Less', [ctx.op('Abs', [dx], {}, 'abs_dx'), ctx.scalar(EPS, dx)], {}, 'dx_is_zero');
  const safe = ctx.op('Where', [small, ctx.scalar(1, dx), dx], {}, 'dx_safe');
  return ctx.op('Where', [small, plain, ctx.op('Div', [numerator, safe], {}, 'ratio')], {}, 'dX');
}

/** y = f(x) element-wise: m_x = m_y (y - y0) / (x - x0). */
function rescale(gradient: Rule): Rule {
  return (ctx) => {
    const gy = ctx.gradOutputs[0];
    if (!gy || !ctx.needsGrad[0]) return [];
    const plain = gradient(ctx)[0]!;
    const dx = difference(ctx, ctx.node.input[0]!, 'dx');
    const dy = difference(ctx, ctx.node.output[0]!, 'dy');
    const out: (string | undefined)[] = [rescaled(ctx, dx, ctx.op('Mul', [gy, dy], {}, 'gy_dy'), plain)];
    return out;
  };
}

const NONLINEAR = ['Relu', 'LeakyRelu', 'PRelu', 'Clip', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'Elu', 'Selu', 'Softplus', 'Erf', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Abs'];

export const deepliftRules: RuleTable = {
  ...gradientRules,
  ...Object.fromEntries(NONLINEAR.map((op) => [op, rescale(gradientRules[op] as Rule)])),
};
