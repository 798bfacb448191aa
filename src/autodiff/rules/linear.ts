/**
 * Gemm and MatMul.
 * Gemm: Y = alpha A' B' + beta C with A' = transA ? A^T : A, B' = transB ? B^T : B.
 *   dA' = alpha dY B'^T, dB' = alpha A'^T dY, dC = beta * unbroadcast(dY);
 *   dA = transA ? dA'^T : dA' (likewise B), each written as one Gemm.
 * MatMul (numpy semantics, rank >= 2): dA = dY B^T, dB = A^T dY, each summed back over
 * broadcast batch dims.
 */
import { attrFloat, attrInt } from '../../model/attributes.ts';
import { CompileError } from '../errors.ts';
import { unbroadcast } from '../broadcast.ts';
import type { Rule } from '../rule.ts';

const gemm: Rule = (ctx) => {
  const [a, b, c] = ctx.node.input;
  const gy = ctx.gradOutputs[0];
  if (!gy) return [];
  const alpha = attrFloat(ctx.node, 'alpha', 1);
  const beta = attrFloat(ctx.node, 'beta', 1);
  const transA = attrInt(ctx.node, 'transA', 0);
  const transB = attrInt(ctx.node, 'transB', 0);
  const out: (string | undefined)[] = [];
  if (ctx.needsGrad[0]) {
    out[0] = transA
      ? ctx.op('Gemm', [b!, gy], { alpha, transA: transB, transB: 1 }, 'dA')
      : ctx.op('Gemm', [gy, b!], { alpha, transB: transB ? 0 : 1 }, 'dA');
  }
  if (ctx.needsGrad[1]) {
    out[1] = transB
      ? ctx.op('Gemm', [gy, a!], { alpha, transA: 1, transB: transA }, 'dB')
      : ctx.op('Gemm', [a!, gy], { alpha, transA: transA ? 0 : 1 }, 'dB');
  }
  if (c && ctx.needsGrad[2]) {
    const scaled = beta === 1 ? gy : ctx.op('Mul', [gy, ctx.scalar(beta, gy)], {}, 'beta_dY');
    out[2] = unbroadcast(ctx, scaled, ctx.shape(ctx.node.output[0]!), ctx.shape(c), 'dC');
  }
  return out;
};

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1]!, perm[rank - 2]!];
  return perm;
}

const matmul: Rule = (ctx) => {
  const [a, b] = [ctx.node.input[0]!, ctx.node.input[1]!];
  const gy = ctx.gradOutputs[0];
  if (!gy) return [];
  const [as, bs, ys] = [ctx.shape(a), ctx.shape(b), ctx.shape(ctx.node.output[0]!)];
  if (as.length < 2 || bs.length < 2) {
    throw new CompileError(`MatMul '${ctx.node.name}': 1-D operands are not supported by the gradient rule; reshape to 2-D before exporting`);
  }
  const out: (string | undefined)[] = [];
  if (ctx.needsGrad[0]) {
    const bt = ctx.op('Transpose', [b], { perm: swapLastTwo(bs.length) }, 'B_T');
    const full = ctx.op('MatMul', [gy, bt], {}, 'dA_full');
    out[0] = unbroadcast(ctx, full, [...ys.slice(0, -2), as[as.length - 2]!, as[as.length - 1]!], as, 'dA');
  }
  if (ctx.needsGrad[1]) {
    const at = ctx.op('Transpose', [a], { perm: swapLastTwo(as.length) }, 'A_T');
    const full = ctx.op('MatMul', [at, gy], {}, 'dB_full');
    out[1] = unbroadcast(ctx, full, [...ys.slice(0, -2), bs[bs.length - 2]!, bs[bs.length - 1]!], bs, 'dB');
  }
  return out;
};

export const linearRules = { Gemm: gemm, MatMul: matmul };
