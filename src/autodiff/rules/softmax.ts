/**
 * Softmax and LogSoftmax along `axis` (opset >= 13 semantics; older models are rewritten
 * on load, see model/opset.ts).
 *   Softmax:    dx = y * (dy - sum(dy * y))
 *   LogSoftmax: dx = dy - exp(y) * sum(dy)
 */
import { attrInt } from '../../model/attributes.ts';
import { axisOf, reduce } from '../broadcast.ts';
import type { Rule } from '../rule.ts';

const softmax: Rule = (ctx) => {
  const gy = ctx.gradOutputs[0];
  if (!gy || !ctx.needsGrad[0]) return [];
  const y = ctx.node.output[0]!;
  const axis = axisOf(attrInt(ctx.node, 'axis', -1), ctx.shape(y).length);
  const dot = reduce(ctx, 'ReduceSum', ctx.op('Mul', [gy, y], {}, 'dY_Y'), [axis], 1, 'dot');
  return [ctx.op('Mul', [y, ctx.op('Sub', [gy, dot], {}, 'centered')], {}, 'dX')];
};

const logSoftmax: Rule = (ctx) => {
  const gy = ctx.gradOutputs[0];
  if (!gy || !ctx.needsGrad[0]) return [];
  const y = ctx.node.output[0]!;
  const axis = axisOf(attrInt(ctx.node, 'axis', -1), ctx.shape(y).length);
  const total = reduce(ctx, 'ReduceSum', gy, [axis], 1, 'sum_dY');
  const spread = ctx.op('Mul', [ctx.op('Exp', [y], {}, 'prob'), total], {}, 'prob_sum');
  return [ctx.op('Sub', [gy, spread], {}, 'dX')];
};

export const softmaxRules = { Softmax: softmax, LogSoftmax: logSoftmax };
