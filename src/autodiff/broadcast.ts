/** Helpers shared by rules: undoing numpy-style broadcasting and static-shape arithmetic. */
import type { RuleContext } from './rule.ts';

/**
 * Sum a gradient of shape `from` back to the shape `to` it was broadcast from
 * (ONNX multidirectional broadcasting: align right, size-1 dims stretch).
 */
export function unbroadcast(ctx: RuleContext, grad: string, from: readonly number[], to: readonly number[], hint: string): string {
  if (from.length === to.length && from.every((d, i) => d === to[i])) return grad;
  const lead = from.length - to.length;
  const axes: number[] = [];
  for (let i = 0; i < from.length; i++) {
    const t = i < lead ? 1 : to[i - lead]!;
    if (i < lead || (t === 1 && from[i] !== 1)) axes.push(i);
  }
  let g = grad;
  if (axes.length > 0) g = ctx.op('ReduceSum', [g, ctx.int64s(`${hint}_axes`, axes)], { keepdims: 1 }, `${hint}_sum`);
  return ctx.op('Reshape', [g, ctx.int64s(`${hint}_shape`, to)], {}, hint);
}

/** Normalize a possibly negative axis. */
export function axisOf(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** A Reduce* node in the form the opset wants (axes as input for ReduceSum >= 13 and all >= 18). */
export function reduce(ctx: RuleContext, op: 'ReduceSum' | 'ReduceMean' | 'ReduceMax', x: string, axes: readonly number[], keepdims: number, hint: string): string {
  const axesAsInput = op === 'ReduceSum' || ctx.opset >= 18;
  return axesAsInput
    ? ctx.op(op, [x, ctx.int64s(`${hint}_axes`, axes)], { keepdims }, hint)
    : ctx.op(op, [x], { axes: [...axes], keepdims }, hint);
}

/** Broadcast `grad` (already with size-1 dims where reduced) up to `shape`. */
export function expandTo(ctx: RuleContext, grad: string, shape: readonly number[], hint: string): string {
  return ctx.op('Expand', [grad, ctx.int64s(`${hint}_shape`, shape)], {}, hint);
}

/** Reshape to a static shape. */
export function reshape(ctx: RuleContext, x: string, shape: readonly number[], hint: string): string {
  return ctx.op('Reshape', [x, ctx.int64s(`${hint}_shape`, shape)], {}, hint);
}
