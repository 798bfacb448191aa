/**
 * Rectifiers under the three rule sets (see rulesets.ts for the papers):
 *   gradient:  R_in = f'(x) * R_out
 *   guided:    R_in = f'(x) * relu(R_out)          (forward switch AND positive signal)
 *   deconvnet: R_in = f(R_out) for Relu/LeakyRelu/PRelu, relu(R_out) for Clip
 *              (no forward switch: the reconstruction is rectified by the unit itself)
 * with f'(x) = [x > 0] for Relu, [x > 0] + alpha [x <= 0] for LeakyRelu (slope input for
 * PRelu), [min < x < max] for Clip (ReLU6 = Clip(0, 6); bounds optional).
 * The switches of Relu, LeakyRelu and Clip read the output y (y > 0 iff x > 0, and
 * min < y < max iff min < x < max), so the forward op's input stays free for onnxruntime
 * to fuse (Conv + Relu into one kernel).
 */
import { attrFloat } from '../../model/attributes.ts';
import type { Rule, RuleContext } from '../rule.ts';
import { insideMask, unary } from './elementwise.ts';

type Signal = (ctx: RuleContext, gy: string) => string;
const plain: Signal = (_ctx, gy) => gy;
const positive: Signal = (ctx, gy) => ctx.op('Relu', [gy], {}, 'positive_grad');

/** f'(x) * signal: where x (or y) > 0 the signal, elsewhere `negative` times it. */
function switched(ctx: RuleContext, x: string, s: string, negativeSlope: string | undefined): string {
  const pos = ctx.op('Greater', [x, ctx.scalar(0, x)], {}, 'pos');
  const neg = negativeSlope ? ctx.op('Mul', [s, negativeSlope], {}, 'neg_part') : ctx.scalar(0, x);
  return ctx.op('Where', [pos, s, neg], {}, 'dX');
}

const leakySlope = (ctx: RuleContext, x: string) => ctx.scalar(attrFloat(ctx.node, 'alpha', 0.01), x);

function rectifierRules(signal: Signal): Record<string, Rule> {
  return {
    Relu: unary((ctx, _x, y, gy) => switched(ctx, y, signal(ctx, gy), undefined)),
    // With a negative slope y > 0 no longer means x > 0: read x then.
    LeakyRelu: unary((ctx, x, y, gy) => {
      const s = attrFloat(ctx.node, 'alpha', 0.01) >= 0 ? y : x;
      return switched(ctx, s, signal(ctx, gy), leakySlope(ctx, s));
    }),
    PRelu: unary((ctx, x, _y, gy) => switched(ctx, x, signal(ctx, gy), ctx.node.input[1]!)),
    Clip: unary((ctx, _x, y, gy) => {
      const [lo, hi] = [ctx.node.input[1] || undefined, ctx.node.input[2] || undefined];
      if (!lo && !hi) return ctx.op('Identity', [signal(ctx, gy)], {}, 'dX');
      return ctx.op('Mul', [signal(ctx, gy), insideMask(ctx, y, lo, hi)], {}, 'dX');
    }),
  };
}

export const rectifierGradientRules = rectifierRules(plain);
export const guidedRules = rectifierRules(positive);

export const deconvnetRules: Record<string, Rule> = {
  Relu: unary((ctx, _x, _y, gy) => ctx.op('Relu', [gy], {}, 'dX')),
  Clip: unary((ctx, _x, _y, gy) => ctx.op('Relu', [gy], {}, 'dX')),
  LeakyRelu: unary((ctx, _x, _y, gy) => ctx.op('LeakyRelu', [gy], { alpha: attrFloat(ctx.node, 'alpha', 0.01) }, 'dX')),
  PRelu: unary((ctx, _x, _y, gy) => ctx.op('PRelu', [gy, ctx.node.input[1]!], {}, 'dX')),
};
