/**
 * Pooling.
 * MaxPool: the gradient goes to the arg max of each window (first index on ties, as the
 * forward switches of Zeiler & Fergus and as PyTorch): the pool is recomputed with its
 * Indices output (flat positions in the whole N*C*H*W input, ONNX spec) and the incoming
 * gradients are added there with ScatterElements(reduction="add"), which also sums
 * overlapping windows. When windows cannot overlap (stride >= dilated kernel), MaxUnpool
 * places them directly (same result, one op); `maxPoolRule('scatter')` always scatters.
 * AveragePool: the adjoint of a window sum divided by its count: a depthwise
 * ConvTranspose with a kernel of ones over dY / count, count computed per output position
 * at compile time (count_include_pad, and ceil-mode windows clipped to the padded input).
 * GlobalAveragePool: dY / (H W) broadcast. GlobalMaxPool: MaxPool over the whole map.
 */
import { attrInt, windowGeometry, type WindowGeometry } from '../../model/attributes.ts';
import { elementCount } from '../../model/tensor-data.ts';
import { expandTo, reshape } from '../broadcast.ts';
import type { Rule, RuleContext } from '../rule.ts';

export type MaxPoolFormulation = 'scatter' | 'unpool-when-disjoint';

function maxPoolGrad(ctx: RuleContext, x: string, gy: string, geo: WindowGeometry, formulation: MaxPoolFormulation): string {
  const xs = ctx.shape(x);
  const [, indices] = ctx.ops('MaxPool', [x], {
    kernel_shape: geo.kernel_shape, strides: geo.strides, pads: geo.pads, dilations: geo.dilations, ceil_mode: geo.ceil_mode, storage_order: 0,
  }, 'switches', 2) as [string, string];
  const disjoint = geo.kernel_shape.every((k, i) => geo.strides[i]! >= (k - 1) * geo.dilations[i]! + 1);
  if (formulation === 'unpool-when-disjoint' && disjoint) {
    return ctx.op('MaxUnpool', [gy, indices, ctx.int64s('x_shape', xs)], { kernel_shape: geo.kernel_shape, strides: geo.strides, pads: geo.pads }, 'dX');
  }
  const zeros = ctx.op('ConstantOfShape', [ctx.int64s('flat_size', [elementCount(xs)])], { value: { dataType: ctx.dtype(x), dims: [1], data: ctx.dtype(x) === 11 ? new Float64Array(1) : new Float32Array(1) } }, 'zeros');
  const flatIdx = reshape(ctx, indices, [-1], 'flat_indices');
  const flatGrad = reshape(ctx, gy, [-1], 'flat_dY');
  const scattered = ctx.op('ScatterElements', [zeros, flatIdx, flatGrad], { axis: 0, reduction: 'add' }, 'scatter');
  return reshape(ctx, scattered, xs, 'dX');
}

export function maxPoolRule(formulation: MaxPoolFormulation): Rule {
  return (ctx) => {
    const gy = ctx.gradOutputs[0];
    if (!gy || !ctx.needsGrad[0]) return [];
    const x = ctx.node.input[0]!;
    return [maxPoolGrad(ctx, x, gy, windowGeometry(ctx.node, ctx.shape(x).slice(2)), formulation)];
  };
}

const globalMaxPool: Rule = (ctx) => {
  const gy = ctx.gradOutputs[0];
  if (!gy || !ctx.needsGrad[0]) return [];
  const x = ctx.node.input[0]!;
  const spatial = ctx.shape(x).slice(2);
  const ones = spatial.map(() => 1);
  const geo: WindowGeometry = { kernel_shape: spatial, strides: ones, dilations: ones, pads: [...ones, ...ones].map(() => 0), ceil_mode: 0 };
  return [maxPoolGrad(ctx, x, gy, geo, 'scatter')];
};

/** Number of input positions (with or without pads) each output window averages over. */
function windowCounts(spatial: readonly number[], outSpatial: readonly number[], geo: WindowGeometry, includePad: boolean): Float64Array {
  const r = spatial.length;
  const perAxis = spatial.map((S, i) => {
    const counts: number[] = [];
    for (let o = 0; o < outSpatial[i]!; o++) {
      const start = o * geo.strides[i]! - geo.pads[i]!;
      let n = 0;
      for (let k = 0; k < geo.kernel_shape[i]!; k++) {
        const p = start + k * geo.dilations[i]!;
        const inPadded = p >= -geo.pads[i]! && p < S + geo.pads[i + r]!;
        if (includePad ? inPadded : p >= 0 && p < S) n++;
      }
      counts.push(n);
    }
    return counts;
  });
  const out = new Float64Array(elementCount(outSpatial));
  out.forEach((_, flat) => {
    let rem = flat;
    let n = 1;
    for (let i = r - 1; i >= 0; i--) {
      n *= perAxis[i]![rem % outSpatial[i]!]!;
      rem = Math.floor(rem / outSpatial[i]!);
    }
    out[flat] = n;
  });
  return out;
}

const averagePool: Rule = (ctx) => {
  const gy = ctx.gradOutputs[0];
  if (!gy || !ctx.needsGrad[0]) return [];
  const x = ctx.node.input[0]!;
  const xs = ctx.shape(x);
  const ys = ctx.shape(ctx.node.output[0]!);
  const spatial = xs.slice(2);
  const outSpatial = ys.slice(2);
  const geo = windowGeometry(ctx.node, spatial);
  const r = spatial.length;
  const counts = windowCounts(spatial, outSpatial, geo, attrInt(ctx.node, 'count_include_pad', 0) === 1);
  const inverse = Array.from(counts, (c) => (c > 0 ? 1 / c : 0));
  const scaled = ctx.op('Mul', [gy, ctx.tensor('inverse_counts', [1, 1, ...outSpatial], inverse, x)], {}, 'dY_over_count');
  const C = xs[1]!;
  const ones = ctx.tensor('ones_kernel', [C, 1, ...geo.kernel_shape], new Float64Array(C * elementCount(geo.kernel_shape)).fill(1), x);
  const effective = geo.kernel_shape.map((k, i) => (k - 1) * geo.dilations[i]! + 1);
  const output_padding = spatial.map((S, i) => S - (geo.strides[i]! * (outSpatial[i]! - 1) + effective[i]! - geo.pads[i]! - geo.pads[i + r]!));
  // Windows that reach past the padded end (ceil_mode) would need a negative output_padding:
  // pad the end less and crop nothing, which ConvTranspose expresses as a larger end pad.
  const pads = geo.pads.slice();
  output_padding.forEach((p, i) => {
    if (p < 0) {
      pads[i + r] = pads[i + r]! - p;
      output_padding[i] = 0;
    }
  });
  return [ctx.op('ConvTranspose', [scaled, ones], { group: C, kernel_shape: geo.kernel_shape, strides: geo.strides, dilations: geo.dilations, pads, output_padding }, 'dX')];
};

const globalAveragePool: Rule = (ctx) => {
  const gy = ctx.gradOutputs[0];
  if (!gy || !ctx.needsGrad[0]) return [];
  const xs = ctx.shape(ctx.node.input[0]!);
  const n = elementCount(xs.slice(2));
  const scaled = ctx.op('Div', [gy, ctx.scalar(n, gy)], {}, 'dY_over_n');
  return [expandTo(ctx, scaled, xs, 'dX')];
};

export const poolingRules = { MaxPool: maxPoolRule('unpool-when-disjoint'), GlobalMaxPool: globalMaxPool, AveragePool: averagePool, GlobalAveragePool: globalAveragePool };
