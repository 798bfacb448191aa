/**
 * Binary and variadic arithmetic with multidirectional broadcasting; each input gradient is
 * summed back to that input's shape.
 *   Add: dA = dY, dB = dY          Sub: dA = dY, dB = -dY
 *   Mul: dA = dY B, dB = dY A      Div: dA = dY / B, dB = -dY Y / B
 *   Pow (exponent not differentiated): dA = dY e A^(e-1)
 *   Sum: dX_i = dY                 Mean: dX_i = dY / n
 */
import { CompileError } from '../errors.ts';
import { unbroadcast } from '../broadcast.ts';
import type { Rule, RuleContext } from '../rule.ts';

/** Apply `local(i)` to the inputs that want a gradient, then undo broadcasting. */
function perInput(ctx: RuleContext, local: (i: number, gy: string) => string): (string | undefined)[] {
  const gy = ctx.gradOutputs[0];
  if (!gy) return [];
  const ys = ctx.shape(ctx.node.output[0]!);
  return ctx.node.input.map((name, i) =>
    ctx.needsGrad[i] ? unbroadcast(ctx, local(i, gy), ys, ctx.shape(name), `d${i}`) : undefined,
  );
}

const add: Rule = (ctx) => perInput(ctx, (_i, gy) => gy);
const sub: Rule = (ctx) => perInput(ctx, (i, gy) => (i === 0 ? gy : ctx.op('Neg', [gy], {}, 'neg_dY')));
const mul: Rule = (ctx) => perInput(ctx, (i, gy) => ctx.op('Mul', [gy, ctx.node.input[1 - i]!], {}, `d${i}_full`));
const div: Rule = (ctx) =>
  perInput(ctx, (i, gy) => {
    const [, b] = ctx.node.input as [string, string];
    if (i === 0) return ctx.op('Div', [gy, b], {}, 'd0_full');
    const gyY = ctx.op('Mul', [gy, ctx.node.output[0]!], {}, 'dY_Y');
    return ctx.op('Neg', [ctx.op('Div', [gyY, b], {}, 'dY_Y_B')], {}, 'd1_full');
  });

const pow: Rule = (ctx) => {
  if (ctx.needsGrad[1]) {
    throw new CompileError(`Pow '${ctx.node.name}': the exponent depends on the input; only a constant exponent is differentiated`);
  }
  return perInput(ctx, (_i, gy) => {
    const [a, e] = ctx.node.input as [string, string];
    const eLike = ctx.dtype(e) === ctx.dtype(a) ? e : ctx.op('Cast', [e], { to: ctx.dtype(a) }, 'exponent');
    const power = ctx.op('Pow', [a, ctx.op('Sub', [eLike, ctx.scalar(1, a)], {}, 'e_minus_1')], {}, 'a_pow');
    return ctx.op('Mul', [gy, ctx.op('Mul', [power, eLike], {}, 'dpow')], {}, 'd0_full');
  });
};

const sum: Rule = (ctx) => perInput(ctx, (_i, gy) => gy);
const mean: Rule = (ctx) => {
  const n = ctx.node.input.length;
  return perInput(ctx, (_i, gy) => ctx.op('Div', [gy, ctx.scalar(n, gy)], {}, 'dY_n'));
};

export const arithmeticRules = { Add: add, Sub: sub, Mul: mul, Div: div, Pow: pow, Sum: sum, Mean: mean };
