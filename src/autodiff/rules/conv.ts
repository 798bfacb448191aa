/**
 * Conv and ConvTranspose. Only the gradient with respect to the data input is computed
 * (weights are never differentiated).
 *
 * Conv: Y = X * W (cross-correlation). dX = W^T dY, the transposed convolution with the
 * same kernel_shape, strides, pads, dilations and group; output_padding restores the input
 * size lost to the floor in the forward output size:
 *   S = s (S_out - 1) + output_padding + (k - 1) d + 1 - pad_begin - pad_end.
 * Equivalent formulation ('flipped'), measured faster on onnxruntime's CPU kernels (see
 * BENCHMARKS.md): for stride 1, dX = Conv(dY, W'), W' the kernel with input/output channels
 * swapped (per group) and spatially flipped, pads (k-1)d - pad. Strided convs use the
 * transposed convolution (measured faster than a Conv over a zero-interleaved dY).
 * ConvTranspose: Y = W^T X, so dX = Conv(dY, W) with the same attributes.
 */
import { windowGeometry } from '../../model/attributes.ts';
import { attrInt, attrInts, attrString } from '../../model/attributes.ts';
import { CompileError } from '../errors.ts';
import type { Rule, RuleContext } from '../rule.ts';

export type ConvFormulation = 'transpose' | 'flipped';

function weightMustBeConstant(ctx: RuleContext): void {
  if (ctx.needsGrad[1] || ctx.needsGrad[2]) {
    throw new CompileError(`${ctx.node.opType} '${ctx.node.name}': its weights depend on the input; convlens differentiates data inputs only`);
  }
}

export function convRule(formulation: ConvFormulation): Rule {
  return (ctx) => {
    weightMustBeConstant(ctx);
    const [x, w] = [ctx.node.input[0]!, ctx.node.input[1]!];
    const gy = ctx.gradOutputs[0];
    if (!gy || !ctx.needsGrad[0]) return [];
    const xs = ctx.shape(x);
    const ws = ctx.shape(w);
    const ys = ctx.shape(ctx.node.output[0]!);
    const spatial = xs.slice(2);
    const geo = windowGeometry(ctx.node, spatial, ws.slice(2));
    const group = attrInt(ctx.node, 'group', 1);
    const r = spatial.length;
    const effective = geo.kernel_shape.map((k, i) => (k - 1) * geo.dilations[i]! + 1);
    const weight = ctx.constant(w);
    const canFlip = formulation !== 'transpose' && weight && geo.strides.every((s) => s === 1) && effective.every((e, i) => geo.pads[i]! <= e - 1 && geo.pads[i + r]! <= e - 1);
    if (canFlip) {
      const flippedPads = [...effective.map((e, i) => e - 1 - geo.pads[i]!), ...effective.map((e, i) => e - 1 - geo.pads[i + r]!)];
      const wf = ctx.tensor('flipped_weight', [xs[1]!, ws[0]! / group, ...geo.kernel_shape], flipKernel(weight.data as Float32Array, ws, group), w);
      return [ctx.op('Conv', [gy, wf], { dilations: geo.dilations, group, kernel_shape: geo.kernel_shape, pads: flippedPads, strides: geo.strides }, 'dX')];
    }
    const output_padding = spatial.map((S, i) => S - (geo.strides[i]! * (ys[2 + i]! - 1) + effective[i]! - geo.pads[i]! - geo.pads[i + r]!));
    return [
      ctx.op('ConvTranspose', [gy, w], { dilations: geo.dilations, group, kernel_shape: geo.kernel_shape, output_padding, pads: geo.pads, strides: geo.strides }, 'dX'),
    ];
  };
}

/** W [M, C/g, k...] -> W' [C, M/g, k...] with W'[g*C/g + c, m, i] = W[g*M/g + m, c, k-1-i]. */
function flipKernel(w: ArrayLike<number>, ws: readonly number[], group: number): Float64Array {
  const [M, Cg] = [ws[0]!, ws[1]!];
  const K = ws.slice(2).reduce((a, b) => a * b, 1);
  const Mg = M / group;
  const out = new Float64Array(M * Cg * K);
  for (let g = 0; g < group; g++) {
    for (let m = 0; m < Mg; m++) {
      for (let c = 0; c < Cg; c++) {
        const src = ((g * Mg + m) * Cg + c) * K;
        const dst = ((g * Cg + c) * Mg + m) * K;
        for (let i = 0; i < K; i++) out[dst + i] = w[src + K - 1 - i]!;
      }
    }
  }
  return out;
}

/** ConvTranspose's pads, resolved from pads, auto_pad or output_shape (ONNX spec formulas). */
function convTransposePads(ctx: RuleContext, inSpatial: number[], outSpatial: number[], kernel: number[]): number[] {
  const r = inSpatial.length;
  const explicit = attrInts(ctx.node, 'pads');
  if (explicit && !attrInts(ctx.node, 'output_shape')) return explicit;
  const strides = attrInts(ctx.node, 'strides') ?? new Array<number>(r).fill(1);
  const dilations = attrInts(ctx.node, 'dilations') ?? new Array<number>(r).fill(1);
  const outputPadding = attrInts(ctx.node, 'output_padding') ?? new Array<number>(r).fill(0);
  // ONNX ConvTranspose: SAME_UPPER puts the smaller half first; otherwise the larger.
  const upper = attrString(ctx.node, 'auto_pad', 'NOTSET') === 'SAME_UPPER';
  const pads = new Array<number>(2 * r).fill(0);
  for (let i = 0; i < r; i++) {
    const total = strides[i]! * (inSpatial[i]! - 1) + outputPadding[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - outSpatial[i]!;
    pads[i] = upper ? Math.floor(total / 2) : total - Math.floor(total / 2);
    pads[i + r] = total - pads[i]!;
  }
  return pads;
}

const convTranspose: Rule = (ctx) => {
  weightMustBeConstant(ctx);
  const [x, w] = [ctx.node.input[0]!, ctx.node.input[1]!];
  const gy = ctx.gradOutputs[0];
  if (!gy || !ctx.needsGrad[0]) return [];
  const xs = ctx.shape(x);
  const ws = ctx.shape(w);
  const ys = ctx.shape(ctx.node.output[0]!);
  const r = xs.length - 2;
  const kernel = attrInts(ctx.node, 'kernel_shape') ?? ws.slice(2);
  const pads = convTransposePads(ctx, xs.slice(2), ys.slice(2), kernel);
  const attrs = {
    dilations: attrInts(ctx.node, 'dilations') ?? new Array<number>(r).fill(1),
    group: attrInt(ctx.node, 'group', 1),
    kernel_shape: kernel,
    pads,
    strides: attrInts(ctx.node, 'strides') ?? new Array<number>(r).fill(1),
  };
  return [ctx.op('Conv', [gy, w], attrs, 'dX')];
};

export const convRules = {
  Conv: convRule('flipped'),
  ConvTranspose: convTranspose,
};
