/**
 * Normalization layers (inference).
 * BatchNormalization: y = scale (x - mean) / sqrt(var + eps) + B, so
 *   dx = dy * scale / sqrt(var + eps), per channel.
 * LayerNormalization over axes [axis, r): with xhat = (x - mu) / sigma, g = dy * scale,
 *   dx = (g - mean(g) - xhat * mean(g * xhat)) / sigma.
 * LRN (Krizhevsky et al. 2012, section 3.3; ONNX form): d = bias + alpha/size * S,
 *   S_c = sum over the channel window of x^2, y = x d^-beta, so
 *   dx = dy d^-beta - (2 alpha beta / size) x W^T(dy x d^(-beta-1)),
 *   W^T the window sum with the mirrored window.
 */
import { attrFloat, attrInt } from '../../model/attributes.ts';
import { elementCount } from '../../model/tensor-data.ts';
import { CompileError } from '../errors.ts';
import { axisOf, reduce, reshape } from '../broadcast.ts';
import type { Rule, RuleContext } from '../rule.ts';

const batchNormalization: Rule = (ctx) => {
  const gy = ctx.gradOutputs[0];
  if (!gy || !ctx.needsGrad[0]) return [];
  if (attrInt(ctx.node, 'training_mode', 0) !== 0) {
    throw new CompileError(`BatchNormalization '${ctx.node.name}' is in training mode: export the model in eval mode`);
  }
  const [x, scale, , , variance] = ctx.node.input as [string, string, string, string, string];
  const xs = ctx.shape(x);
  const eps = attrFloat(ctx.node, 'epsilon', 1e-5);
  const std = ctx.op('Sqrt', [ctx.op('Add', [variance, ctx.scalar(eps, x)], {}, 'var_eps')], {}, 'std');
  const factor = ctx.op('Div', [scale, std], {}, 'factor');
  const perChannel = reshape(ctx, factor, [xs[1]!, ...xs.slice(2).map(() => 1)], 'factor_c');
  return [ctx.op('Mul', [gy, perChannel], {}, 'dX')];
};

const layerNormalization: Rule = (ctx) => {
  const gy = ctx.gradOutputs[0];
  if (!gy || !ctx.needsGrad[0]) return [];
  const [x, scale] = ctx.node.input as [string, string];
  const xs = ctx.shape(x);
  const axis = axisOf(attrInt(ctx.node, 'axis', -1), xs.length);
  const axes = xs.map((_, i) => i).filter((i) => i >= axis);
  const eps = attrFloat(ctx.node, 'epsilon', 1e-5);
  const mu = reduce(ctx, 'ReduceMean', x, axes, 1, 'mu');
  const centered = ctx.op('Sub', [x, mu], {}, 'centered');
  const variance = reduce(ctx, 'ReduceMean', ctx.op('Mul', [centered, centered], {}, 'sq'), axes, 1, 'var');
  const sigma = ctx.op('Sqrt', [ctx.op('Add', [variance, ctx.scalar(eps, x)], {}, 'var_eps')], {}, 'sigma');
  const xhat = ctx.op('Div', [centered, sigma], {}, 'xhat');
  const g = ctx.op('Mul', [gy, scale], {}, 'g');
  const meanG = reduce(ctx, 'ReduceMean', g, axes, 1, 'mean_g');
  const meanGx = reduce(ctx, 'ReduceMean', ctx.op('Mul', [g, xhat], {}, 'g_xhat'), axes, 1, 'mean_g_xhat');
  const inner = ctx.op('Sub', [ctx.op('Sub', [g, meanG], {}, 'g_centered'), ctx.op('Mul', [xhat, meanGx], {}, 'xhat_term')], {}, 'inner');
  return [ctx.op('Div', [inner, sigma], {}, 'dX')];
};

/** Sum over a channel window [c - lo, c + hi] as a Conv over [N, 1, C, rest]. */
function channelWindowSum(ctx: RuleContext, t: string, xs: readonly number[], lo: number, hi: number, hint: string): string {
  const rest = elementCount(xs.slice(2));
  const flat = reshape(ctx, t, [xs[0]!, 1, xs[1]!, rest], `${hint}_flat`);
  const size = lo + hi + 1;
  const ones = ctx.tensor(`${hint}_ones`, [1, 1, size, 1], new Float64Array(size).fill(1), t);
  const summed = ctx.op('Conv', [flat, ones], { kernel_shape: [size, 1], pads: [lo, 0, hi, 0] }, `${hint}_conv`);
  return reshape(ctx, summed, xs, hint);
}

const lrn: Rule = (ctx) => {
  const gy = ctx.gradOutputs[0];
  if (!gy || !ctx.needsGrad[0]) return [];
  const x = ctx.node.input[0]!;
  const xs = ctx.shape(x);
  const size = attrInt(ctx.node, 'size', 1);
  const alpha = attrFloat(ctx.node, 'alpha', 1e-4);
  const beta = attrFloat(ctx.node, 'beta', 0.75);
  const bias = attrFloat(ctx.node, 'bias', 1);
  // ONNX: the window of channel c is [c - floor((size-1)/2), c + ceil((size-1)/2)].
  const lo = Math.floor((size - 1) / 2);
  const hi = Math.ceil((size - 1) / 2);
  const sq = ctx.op('Mul', [x, x], {}, 'x2');
  const S = channelWindowSum(ctx, sq, xs, lo, hi, 'window_sum');
  const d = ctx.op('Add', [ctx.op('Mul', [S, ctx.scalar(alpha / size, x)], {}, 'scaled_sum'), ctx.scalar(bias, x)], {}, 'd');
  const dPowBeta = ctx.op('Pow', [d, ctx.scalar(-beta, x)], {}, 'd_pow_beta');
  const direct = ctx.op('Mul', [gy, dPowBeta], {}, 'direct');
  const dPowBeta1 = ctx.op('Div', [dPowBeta, d], {}, 'd_pow_beta1');
  const inner = ctx.op('Mul', [ctx.op('Mul', [gy, x], {}, 'gy_x'), dPowBeta1], {}, 'inner');
  const back = channelWindowSum(ctx, inner, xs, hi, lo, 'mirrored_sum');
  const cross = ctx.op('Mul', [ctx.op('Mul', [x, back], {}, 'x_back'), ctx.scalar((2 * alpha * beta) / size, x)], {}, 'cross');
  return [ctx.op('Sub', [direct, cross], {}, 'dX')];
};

export const normalizationRules = { BatchNormalization: batchNormalization, LayerNormalization: layerNormalization, LRN: lrn };
