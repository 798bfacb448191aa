/**
 * Elementwise unary ops y = f(x): dx = dy * f'(x), with f' written from x or y.
 * Rectifiers (Relu, LeakyRelu, PRelu, Clip) live in rectifiers.ts with their guided and
 * deconvnet variants.
 */
import { attrFloat } from '../../model/attributes.ts';
import type { Rule, RuleContext } from '../rule.ts';

/** A rule for y = f(x) given a builder of dy * f'(x). */
export function unary(derivative: (ctx: RuleContext, x: string, y: string, gy: string) => string): Rule {
  return (ctx) => {
    const gy = ctx.gradOutputs[0];
    if (!gy || !ctx.needsGrad[0]) return [];
    return [derivative(ctx, ctx.node.input[0]!, ctx.node.output[0]!, gy)];
  };
}

const mul = (ctx: RuleContext, a: string, b: string, hint: string) => ctx.op('Mul', [a, b], {}, hint);

/** 1 where lo < x < hi (either bound optional), as x's float type. */
export function insideMask(ctx: RuleContext, x: string, lo: string | undefined, hi: string | undefined): string {
  const parts: string[] = [];
  if (lo) parts.push(ctx.op('Greater', [x, lo], {}, 'above_min'));
  if (hi) parts.push(ctx.op('Less', [x, hi], {}, 'below_max'));
  const both = parts.length === 2 ? ctx.op('And', parts, {}, 'inside') : parts[0]!;
  return ctx.op('Cast', [both], { to: ctx.dtype(x) }, 'mask');
}

export const elementwiseRules: Record<string, Rule> = {
  Identity: unary((_ctx, _x, _y, gy) => gy),
  Neg: unary((ctx, _x, _y, gy) => ctx.op('Neg', [gy], {}, 'dX')),
  Abs: unary((ctx, x, _y, gy) => mul(ctx, gy, ctx.op('Sign', [x], {}, 'sign'), 'dX')),
  // Float-to-float cast: the gradient is cast back to the input's type.
  Cast: unary((ctx, x, _y, gy) => ctx.op('Cast', [gy], { to: ctx.dtype(x) }, 'dX')),
  Exp: unary((ctx, _x, y, gy) => mul(ctx, gy, y, 'dX')),
  Log: unary((ctx, x, _y, gy) => ctx.op('Div', [gy, x], {}, 'dX')),
  // d sqrt(x) = 1 / (2 y)
  Sqrt: unary((ctx, _x, y, gy) => ctx.op('Div', [gy, mul(ctx, y, ctx.scalar(2, y), 'two_y')], {}, 'dX')),
  Reciprocal: unary((ctx, _x, y, gy) => ctx.op('Neg', [mul(ctx, gy, mul(ctx, y, y, 'y2'), 'gy_y2')], {}, 'dX')),
  // sigma' = y (1 - y)
  Sigmoid: unary((ctx, _x, y, gy) => mul(ctx, gy, mul(ctx, y, ctx.op('Sub', [ctx.scalar(1, y), y], {}, 'one_minus_y'), 'dsig'), 'dX')),
  // tanh' = 1 - y^2
  Tanh: unary((ctx, _x, y, gy) => mul(ctx, gy, ctx.op('Sub', [ctx.scalar(1, y), mul(ctx, y, y, 'y2')], {}, 'dtanh'), 'dX')),
  // softplus' = sigmoid(x)
  Softplus: unary((ctx, x, _y, gy) => mul(ctx, gy, ctx.op('Sigmoid', [x], {}, 'sig'), 'dX')),
  // erf'(x) = 2 / sqrt(pi) exp(-x^2)
  Erf: unary((ctx, x, _y, gy) => {
    const e = ctx.op('Exp', [ctx.op('Neg', [mul(ctx, x, x, 'x2')], {}, 'neg_x2')], {}, 'exp');
    return mul(ctx, gy, mul(ctx, e, ctx.scalar(2 / Math.sqrt(Math.PI), x), 'derf'), 'dX');
  }),
  // elu'(x) = 1 for x > 0, y + alpha otherwise
  Elu: unary((ctx, x, y, gy) => {
    const alpha = attrFloat(ctx.node, 'alpha', 1);
    const pos = ctx.op('Greater', [x, ctx.scalar(0, x)], {}, 'pos');
    const d = ctx.op('Where', [pos, ctx.scalar(1, x), ctx.op('Add', [y, ctx.scalar(alpha, y)], {}, 'y_alpha')], {}, 'delu');
    return mul(ctx, gy, d, 'dX');
  }),
  // y = max(0, min(1, alpha x + beta)): slope alpha where 0 < alpha x + beta < 1
  HardSigmoid: unary((ctx, x, _y, gy) => {
    const alpha = attrFloat(ctx.node, 'alpha', 0.2);
    const beta = attrFloat(ctx.node, 'beta', 0.5);
    const z = ctx.op('Add', [mul(ctx, x, ctx.scalar(alpha, x), 'ax'), ctx.scalar(beta, x)], {}, 'z');
    const m = insideMask(ctx, z, ctx.scalar(0, x), ctx.scalar(1, x));
    return mul(ctx, gy, mul(ctx, m, ctx.scalar(alpha, x), 'dhs'), 'dX');
  }),
  // y = x relu6(x + 3) / 6: slope 0 below -3, 1 above 3, x/3 + 1/2 between
  HardSwish: unary((ctx, x, _y, gy) => {
    const mid = ctx.op('Add', [ctx.op('Div', [x, ctx.scalar(3, x)], {}, 'x_3'), ctx.scalar(0.5, x)], {}, 'mid');
    const above = ctx.op('Greater', [x, ctx.scalar(3, x)], {}, 'above');
    const below = ctx.op('Less', [x, ctx.scalar(-3, x)], {}, 'below');
    const d = ctx.op('Where', [below, ctx.scalar(0, x), ctx.op('Where', [above, ctx.scalar(1, x), mid], {}, 'upper')], {}, 'dhswish');
    return mul(ctx, gy, d, 'dX');
  }),
  // Inference-mode Dropout is the identity (training_mode must be 0).
  Dropout: (ctx) => {
    const gy = ctx.gradOutputs[0];
    return gy && ctx.needsGrad[0] ? [gy] : [];
  },
  Selu: unary((ctx, x, y, gy) => {
    const alpha = attrFloat(ctx.node, 'alpha', 1.67326319217681884765625);
    const gamma = attrFloat(ctx.node, 'gamma', 1.05070102214813232421875);
    const pos = ctx.op('Greater', [x, ctx.scalar(0, x)], {}, 'pos');
    const neg = ctx.op('Add', [y, ctx.scalar(alpha * gamma, y)], {}, 'y_ag');
    return mul(ctx, gy, ctx.op('Where', [pos, ctx.scalar(gamma, x), neg], {}, 'dselu'), 'dX');
  }),
};

