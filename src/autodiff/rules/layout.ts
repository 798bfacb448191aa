/**
 * Ops that move values without changing them; their gradients move them back.
 *   Flatten/Reshape/Squeeze/Unsqueeze: reshape dY to x's shape.
 *   Transpose: transpose dY by the inverse permutation.
 *   Concat: split dY along the axis.   Split: concatenate the pieces (zeros where none).
 *   Expand: sum dY over the broadcast dims.
 *   Slice and Gather with constant indices select index lists along axes; their adjoint
 *   puts each gradient back at its source index: for distinct indices, by gathering from
 *   [dY, 0] with the inverse index map (absent positions read the zero); for repeated
 *   Gather indices, by a one-hot matrix product that sums the repeats.
 *   Pad (constant mode): crop dY (and zero-pad back what negative pads had cropped).
 */
import { attrInt, attrInts, attrString } from '../../model/attributes.ts';
import { DataType, toNumbers } from '../../model/tensor-data.ts';
import { CompileError } from '../errors.ts';
import { axisOf, reshape, unbroadcast } from '../broadcast.ts';
import type { Rule, RuleContext } from '../rule.ts';

const reshapeBack: Rule = (ctx) => {
  const gy = ctx.gradOutputs[0];
  if (!gy || !ctx.needsGrad[0]) return [];
  return [reshape(ctx, gy, ctx.shape(ctx.node.input[0]!), 'dX')];
};

const transpose: Rule = (ctx) => {
  const gy = ctx.gradOutputs[0];
  if (!gy || !ctx.needsGrad[0]) return [];
  const rank = ctx.shape(ctx.node.input[0]!).length;
  const perm = attrInts(ctx.node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const inverse = new Array<number>(rank);
  perm.forEach((p, i) => (inverse[p] = i));
  return [ctx.op('Transpose', [gy], { perm: inverse }, 'dX')];
};

const concat: Rule = (ctx) => {
  const gy = ctx.gradOutputs[0];
  if (!gy) return [];
  const rank = ctx.shape(ctx.node.output[0]!).length;
  const axis = axisOf(attrInt(ctx.node, 'axis', 0), rank);
  const sizes = ctx.node.input.map((i) => ctx.shape(i)[axis]!);
  return ctx.ops('Split', [gy, ctx.int64s('sizes', sizes)], { axis }, 'dX', sizes.length);
};

function zerosLike(ctx: RuleContext, shape: readonly number[], like: string, hint: string): string {
  const zero = { dataType: ctx.dtype(like), dims: [1], data: ctx.dtype(like) === DataType.DOUBLE ? new Float64Array(1) : new Float32Array(1) };
  return ctx.op('ConstantOfShape', [ctx.int64s(`${hint}_shape`, shape)], { value: zero }, hint);
}

const split: Rule = (ctx) => {
  if (!ctx.needsGrad[0] || ctx.gradOutputs.every((g) => !g)) return [];
  const x = ctx.node.input[0]!;
  const axis = axisOf(attrInt(ctx.node, 'axis', 0), ctx.shape(x).length);
  const pieces = ctx.node.output.map((o, i) => ctx.gradOutputs[i] ?? zerosLike(ctx, ctx.shape(o), x, `zeros${i}`));
  return [ctx.op('Concat', pieces, { axis }, 'dX')];
};

const expand: Rule = (ctx) => {
  const gy = ctx.gradOutputs[0];
  if (!gy || !ctx.needsGrad[0]) return [];
  return [unbroadcast(ctx, gy, ctx.shape(ctx.node.output[0]!), ctx.shape(ctx.node.input[0]!), 'dX')];
};

/**
 * Adjoint of selecting `indices` along `axis` of a tensor whose size there is `size`:
 * g has g.shape[axis] == indices.length; the result has `size` there.
 */
function scatterBack(ctx: RuleContext, g: string, gShape: number[], axis: number, indices: number[], size: number, hint: string): string {
  const outShape = gShape.slice();
  outShape[axis] = size;
  if (new Set(indices).size === indices.length) {
    const slabShape = gShape.slice();
    slabShape[axis] = 1;
    const padded = ctx.op('Concat', [g, zerosLike(ctx, slabShape, g, `${hint}_zero`)], { axis }, `${hint}_with_zero`);
    const inverse = new Array<number>(size).fill(indices.length);
    indices.forEach((src, j) => (inverse[src] = j));
    return ctx.op('Gather', [padded, ctx.int64s(`${hint}_inverse`, inverse)], { axis }, hint);
  }
  // Repeated indices: move the axis last, multiply by the one-hot [L, size] matrix, move back.
  const rank = gShape.length;
  const toLast = [...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis), axis];
  const back = new Array<number>(rank);
  toLast.forEach((p, i) => (back[p] = i));
  const oneHot = new Float64Array(indices.length * size);
  indices.forEach((src, j) => (oneHot[j * size + src] = 1));
  const moved = ctx.op('Transpose', [g], { perm: toLast }, `${hint}_axis_last`);
  const summed = ctx.op('MatMul', [moved, ctx.tensor(`${hint}_one_hot`, [indices.length, size], oneHot, g)], {}, `${hint}_sum`);
  return ctx.op('Transpose', [summed], { perm: back }, hint);
}

function constantInts(ctx: RuleContext, name: string | undefined, what: string): number[] | undefined {
  if (!name) return undefined;
  const v = ctx.constant(name);
  if (!v) throw new CompileError(`${ctx.node.opType} '${ctx.node.name}': ${what} must be constant to differentiate`);
  return toNumbers(v.data);
}

/** The indices Slice takes along one axis (ONNX clamping rules). */
function sliceIndices(dim: number, start: number, end: number, step: number): number[] {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = clamp(s, 0, dim);
    e = clamp(e, 0, dim);
  } else {
    s = clamp(s, 0, dim - 1);
    e = clamp(e, -1, dim - 1);
  }
  const out: number[] = [];
  for (let i = s; step > 0 ? i < e : i > e; i += step) out.push(i);
  return out;
}

const slice: Rule = (ctx) => {
  const gy = ctx.gradOutputs[0];
  if (!gy || !ctx.needsGrad[0]) return [];
  const xs = ctx.shape(ctx.node.input[0]!);
  const starts = constantInts(ctx, ctx.node.input[1], 'starts')!;
  const ends = constantInts(ctx, ctx.node.input[2], 'ends')!;
  const axes = (constantInts(ctx, ctx.node.input[3], 'axes') ?? starts.map((_, i) => i)).map((a) => axisOf(a, xs.length));
  const steps = constantInts(ctx, ctx.node.input[4], 'steps') ?? starts.map(() => 1);
  let g = gy;
  const shape = ctx.shape(ctx.node.output[0]!).slice();
  axes.forEach((axis, k) => {
    const indices = sliceIndices(xs[axis]!, starts[k]!, ends[k]!, steps[k]!);
    if (indices.length === xs[axis] && indices.every((v, i) => v === i)) return;
    g = scatterBack(ctx, g, shape, axis, indices, xs[axis]!, `dX_axis${axis}`);
    shape[axis] = xs[axis]!;
  });
  return [g === gy ? ctx.op('Identity', [gy], {}, 'dX') : g];
};

const gather: Rule = (ctx) => {
  const gy = ctx.gradOutputs[0];
  if (!gy || !ctx.needsGrad[0]) return [];
  const xs = ctx.shape(ctx.node.input[0]!);
  const axis = axisOf(attrInt(ctx.node, 'axis', 0), xs.length);
  const indexValue = ctx.constant(ctx.node.input[1]!);
  if (!indexValue) throw new CompileError(`Gather '${ctx.node.name}': indices that depend on the input are not differentiated`);
  const indices = toNumbers(indexValue.data).map((i) => (i < 0 ? i + xs[axis]! : i));
  const gShape = [...xs.slice(0, axis), indices.length, ...xs.slice(axis + 1)];
  const g = reshape(ctx, gy, gShape, 'dY_flat_indices');
  return [scatterBack(ctx, g, gShape, axis, indices, xs[axis]!, 'dX')];
};

const pad: Rule = (ctx) => {
  const gy = ctx.gradOutputs[0];
  if (!gy || !ctx.needsGrad[0]) return [];
  const mode = attrString(ctx.node, 'mode', 'constant');
  if (mode !== 'constant') throw new CompileError(`Pad '${ctx.node.name}': mode '${mode}' is not differentiated (only 'constant')`);
  const xs = ctx.shape(ctx.node.input[0]!);
  const r = xs.length;
  const padValues = constantInts(ctx, ctx.node.input[1], 'pads')!;
  const axes = (constantInts(ctx, ctx.node.input[3], 'axes') ?? xs.map((_, i) => i)).map((a) => axisOf(a, r));
  const begin = new Array<number>(r).fill(0);
  const end = new Array<number>(r).fill(0);
  axes.forEach((a, k) => {
    begin[a] = padValues[k]!;
    end[a] = padValues[k + axes.length]!;
  });
  const ys = ctx.shape(ctx.node.output[0]!);
  // dx[i] = dy[i + begin] where 0 <= i + begin < Y: crop the positive pads, pad back the negative ones.
  const starts = begin.map((b) => Math.max(b, 0));
  const ends = ys.map((Y, i) => Y - Math.max(end[i]!, 0));
  let g = ctx.op('Slice', [gy, ctx.int64s('starts', starts), ctx.int64s('ends', ends), ctx.int64s('axes', xs.map((_, i) => i))], {}, 'cropped');
  if (begin.some((b) => b < 0) || end.some((e) => e < 0)) {
    const back = [...begin.map((b) => Math.max(-b, 0)), ...end.map((e) => Math.max(-e, 0))];
    g = ctx.op('Pad', [g, ctx.int64s('restore_pads', back)], { mode: 'constant' }, 'restored');
  }
  return [g];
};

export const layoutRules = {
  Flatten: reshapeBack,
  Reshape: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: transpose,
  Concat: concat,
  Split: split,
  Expand: expand,
  Slice: slice,
  Gather: gather,
  Pad: pad,
};
