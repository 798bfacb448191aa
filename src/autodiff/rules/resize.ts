/**
 * Resize (nearest and linear, along the last two axes) is linear in its input:
 * y = A_h x A_w^T per image and channel, with A the interpolation matrix of each axis
 * computed at compile time from the ONNX coordinate transform and rounding rules.
 * The adjoint is dx = A_h^T dy A_w, two MatMuls.
 */
import { attrInt, attrString } from '../../model/attributes.ts';
import { toNumbers } from '../../model/tensor-data.ts';
import { CompileError } from '../errors.ts';
import type { Rule, RuleContext } from '../rule.ts';

/** Source coordinate of output index `o` (ONNX Resize coordinate_transformation_mode). */
function sourceCoordinate(mode: string, o: number, inSize: number, outSize: number, scale: number): number {
  switch (mode) {
    case 'half_pixel': return (o + 0.5) / scale - 0.5;
    case 'pytorch_half_pixel': return outSize > 1 ? (o + 0.5) / scale - 0.5 : 0;
    case 'align_corners': return outSize === 1 ? 0 : (o * (inSize - 1)) / (outSize - 1);
    case 'asymmetric': return o / scale;
    default: throw new CompileError(`Resize coordinate_transformation_mode '${mode}' is not differentiated (half_pixel, pytorch_half_pixel, align_corners, asymmetric)`);
  }
}

function nearestIndex(mode: string, x: number): number {
  switch (mode) {
    case 'floor': return Math.floor(x);
    case 'ceil': return Math.ceil(x);
    case 'round_prefer_ceil': return Math.floor(x + 0.5);
    default: return x === Math.floor(x) + 0.5 ? Math.floor(x) : Math.round(x); // round_prefer_floor
  }
}

/** The [out, in] interpolation matrix of one axis. */
export function interpolationMatrix(ctx: RuleContext, inSize: number, outSize: number, scale: number): Float64Array {
  const mode = attrString(ctx.node, 'mode', 'nearest');
  const transform = attrString(ctx.node, 'coordinate_transformation_mode', 'half_pixel');
  const a = new Float64Array(outSize * inSize);
  for (let o = 0; o < outSize; o++) {
    const x = sourceCoordinate(transform, o, inSize, outSize, scale);
    if (mode === 'nearest') {
      const i = Math.min(Math.max(nearestIndex(attrString(ctx.node, 'nearest_mode', 'round_prefer_floor'), x), 0), inSize - 1);
      a[o * inSize + i] = 1;
    } else if (mode === 'linear') {
      const c = Math.min(Math.max(x, 0), inSize - 1);
      const i0 = Math.floor(c);
      const i1 = Math.min(i0 + 1, inSize - 1);
      const w = c - i0;
      a[o * inSize + i0] = a[o * inSize + i0]! + 1 - w;
      a[o * inSize + i1] = a[o * inSize + i1]! + w;
    } else throw new CompileError(`Resize mode '${mode}' is not differentiated (nearest, linear)`);
  }
  return a;
}

function transposed(a: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c]!;
  return t;
}

const resize: Rule = (ctx) => {
  const gy = ctx.gradOutputs[0];
  if (!gy || !ctx.needsGrad[0]) return [];
  if (attrInt(ctx.node, 'antialias', 0)) throw new CompileError(`Resize '${ctx.node.name}': antialias is not differentiated`);
  const x = ctx.node.input[0]!;
  const xs = ctx.shape(x);
  const ys = ctx.shape(ctx.node.output[0]!);
  const r = xs.length;
  const scalesInput = ctx.node.input[2];
  const givenScales = scalesInput && ctx.constant(scalesInput) ? toNumbers(ctx.constant(scalesInput)!.data) : [];
  const useScales = givenScales.length === r && !ctx.node.input[3];
  for (let i = 0; i < r - 2; i++) {
    if (xs[i] !== ys[i]) throw new CompileError(`Resize '${ctx.node.name}': only the last two axes may be resized to differentiate it`);
  }
  let g = gy;
  const [h, w] = [r - 2, r - 1];
  if (xs[w] !== ys[w] || (useScales && givenScales[w] !== 1)) {
    const scale = useScales ? givenScales[w]! : ys[w]! / xs[w]!;
    const a = interpolationMatrix(ctx, xs[w]!, ys[w]!, scale);
    g = ctx.op('MatMul', [g, ctx.tensor('A_w', [ys[w]!, xs[w]!], a, x)], {}, 'dX_w');
  }
  if (xs[h] !== ys[h] || (useScales && givenScales[h] !== 1)) {
    const scale = useScales ? givenScales[h]! : ys[h]! / xs[h]!;
    const a = interpolationMatrix(ctx, xs[h]!, ys[h]!, scale);
    g = ctx.op('MatMul', [ctx.tensor('A_h_T', [xs[h]!, ys[h]!], transposed(a, ys[h]!, xs[h]!), x), g], {}, 'dX_h');
  }
  return [g === gy ? ctx.op('Identity', [gy], {}, 'dX') : g];
};

export const resizeRules = { Resize: resize };
