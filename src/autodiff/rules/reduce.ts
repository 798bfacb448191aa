/**
 * Reductions over `axes` (attribute before opset 18, input from 18; ReduceSum input from
 * 13): the gradient is reshaped to keep the reduced dims as 1 and broadcast back.
 *   ReduceSum: dx = dy      ReduceMean: dx = dy / n
 *   ReduceMax: dx = dy * [x == max] / (number of maxima), ties share equally.
 */
import { attrInt, attrInts } from '../../model/attributes.ts';
import { toNumbers } from '../../model/tensor-data.ts';
import { CompileError } from '../errors.ts';
import { axisOf, expandTo, reshape } from '../broadcast.ts';
import type { Rule, RuleContext } from '../rule.ts';

function reducedAxes(ctx: RuleContext, rank: number): number[] {
  const fromInput = ctx.node.input[1];
  let axes: number[] | undefined;
  if (fromInput) {
    const v = ctx.constant(fromInput);
    if (!v) throw new CompileError(`${ctx.node.opType} '${ctx.node.name}': axes must be constant`);
    axes = toNumbers(v.data);
  } else axes = attrInts(ctx.node, 'axes');
  if (!axes || axes.length === 0) {
    return attrInt(ctx.node, 'noop_with_empty_axes', 0) ? [] : Array.from({ length: rank }, (_, i) => i);
  }
  return axes.map((a) => axisOf(a, rank));
}

/** dY reshaped to x's rank with 1 on the reduced axes, and the number of reduced elements. */
interface Reduction { axes: number[]; count: number; keptShape: number[] }

function reductionRule(local: (ctx: RuleContext, kept: string, r: Reduction) => string): Rule {
  return (ctx) => {
    const gy = ctx.gradOutputs[0];
    if (!gy || !ctx.needsGrad[0]) return [];
    const xs = ctx.shape(ctx.node.input[0]!);
    const axes = reducedAxes(ctx, xs.length);
    const keptShape = xs.map((d, i) => (axes.includes(i) ? 1 : d));
    const count = axes.reduce((n, a) => n * xs[a]!, 1);
    return [local(ctx, reshape(ctx, gy, keptShape, 'dY_kept'), { axes, count, keptShape })];
  };
}

const xShape = (ctx: RuleContext) => ctx.shape(ctx.node.input[0]!);

export const reduceRules = {
  ReduceSum: reductionRule((ctx, kept) => expandTo(ctx, kept, xShape(ctx), 'dX')),
  ReduceMean: reductionRule((ctx, kept, { count }) => expandTo(ctx, ctx.op('Div', [kept, ctx.scalar(count, kept)], {}, 'dY_n'), xShape(ctx), 'dX')),
  ReduceMax: reductionRule((ctx, kept, { axes, keptShape }) => {
    const x = ctx.node.input[0]!;
    const yKept = reshape(ctx, ctx.node.output[0]!, keptShape, 'max_kept');
    const mask = ctx.op('Cast', [ctx.op('Equal', [x, yKept], {}, 'is_max')], { to: ctx.dtype(x) }, 'mask');
    const ties = ctx.op('ReduceSum', [mask, ctx.int64s('axes', axes)], { keepdims: 1 }, 'ties');
    return ctx.op('Mul', [mask, ctx.op('Div', [kept, ties], {}, 'dY_ties')], {}, 'dX');
  }),
};
