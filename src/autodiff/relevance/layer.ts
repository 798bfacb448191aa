/**
 * Relevance through a linear layer (Conv, ConvTranspose, Gemm, MatMul with a constant
 * weight), in the general form of Montavon et al. 2019, "Layer-Wise Relevance
 * Propagation: An Overview", section 10.2.2 (R_j = sum_k a_j rho(w_jk) / (eps + sum_j
 * a_j rho(w_jk)) R_k), written as zennit's BasicHook does, a sum of modified layers:
 *
 *   R_in = sum_g c_g sum_{t in g} sign_t x_t * J_t^T s_g,
 *   s_g  = R_out / stab(sum_{t in g} sign_t z_t),   z_t = layer(x_t; rho_t(W), rho_t(b)),
 *
 * with x_t the input, its positive or negative part, ones or a box bound, rho_t an
 * element-wise map of the weights (computed at compile time into new initializers) and
 * J_t^T the transposed layer: the layer's own gradient rule, so every geometry the
 * gradient compiler handles (strides, pads, groups, dilations, transposes) is handled here.
 * This is the four-step implementation of section 10.2.3 (forward, divide, backward,
 * multiply), and "gradient x input" of the modified layer.
 */
import type { NodeProto } from '../../model/onnx-proto.ts';
import { DataType, type TensorValue } from '../../model/tensor-data.ts';
import { CompileError } from '../errors.ts';
import { floatArray, type Rule, type RuleContext } from '../rule.ts';
import { gradientRules } from '../rules/index.ts';
import { relevanceRatio } from './stabilizer.ts';

/** What a term feeds the layer: the input, its parts, ones (flat, w^2) or a box bound (z^B). */
export type InputPart = 'x' | 'positive' | 'negative' | 'ones' | 'low' | 'high';

/** An element-wise map of the weights or the bias; `identity` keeps the layer's own tensor. */
export type ParamMap = ((w: number) => number) | 'identity';

export interface Term {
  input: InputPart;
  weight: ParamMap;
  /** The bias map, or null: the term's layer has no bias. */
  bias: ParamMap | null;
  /** -1: the term is subtracted (z^B's bound terms). */
  sign?: 1 | -1;
}

export interface Group {
  coefficient: number;
  terms: readonly Term[];
  /**
   * When the input is non-negative, this group's z is the layer's own z minus that of
   * group `complement` (alpha-beta: z- = z - z+, as w+ + w- = w and b+ + b- = b): one
   * convolution fewer.
   */
  complement?: number;
}

export interface LayerRule {
  /** Stabilizer of the denominators. */
  epsilon: number;
  groups: readonly Group[];
}

/** Per-channel (or one) bounds of the input domain for z^B. */
export interface Box {
  low: readonly number[];
  high: readonly number[];
}

/** What the rule needs to know about the graph beyond the node (see facts.ts). */
export interface LayerFacts {
  nonNegative(tensor: string): boolean;
  box: Box | undefined;
}

export const positivePart = (w: number) => Math.max(w, 0);
export const negativePart = (w: number) => Math.min(w, 0);

const WEIGHTED = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

export function isWeighted(opType: string): boolean {
  return WEIGHTED.has(opType);
}

interface Layer {
  data: number;
  weight: number;
  bias: number | undefined;
  w: TensorValue;
}

/** Which input is the data and which the constant weight. */
function layerOf(ctx: RuleContext): Layer {
  const n = ctx.node;
  const constantAt = (i: number) => (n.input[i] ? ctx.constant(n.input[i]!) : undefined);
  let data = 0;
  let weight = 1;
  if (n.opType === 'Gemm' || n.opType === 'MatMul') {
    if (!constantAt(1) && constantAt(0)) [data, weight] = [1, 0];
  }
  const w = constantAt(weight);
  if (!w || (w.dataType !== DataType.FLOAT && w.dataType !== DataType.DOUBLE)) {
    throw new CompileError(`${n.opType} '${n.name}': relevance rules need a constant float weight; its operands are both computed from the input`);
  }
  const bias = n.opType === 'MatMul' || !n.input[2] ? undefined : 2;
  if (bias !== undefined && !constantAt(bias)) throw new CompileError(`${n.opType} '${n.name}': relevance rules need a constant bias`);
  return { data, weight, bias, w };
}

/** A copy of the layer's node with other operands (same op type and attributes). */
function cloneLayer(ctx: RuleContext, inputs: string[], hint: string): string {
  const out = ctx.op(ctx.node.opType, inputs, {}, hint);
  const emitted = ctx.builder.nodes[ctx.builder.nodes.length - 1]!;
  emitted.attribute = [...(ctx.node.attribute ?? [])];
  return out;
}

export function layerRelevance(rule: LayerRule, facts: LayerFacts): Rule {
  return (ctx) => {
    const R = ctx.gradOutputs[0];
    const layer = layerOf(ctx);
    if (!R || !ctx.needsGrad[layer.data]) return [];
    const node = ctx.node;
    const x = node.input[layer.data]!;
    const xs = ctx.shape(x);
    const nonNegative = facts.nonNegative(x);
    // Modified parameters, one initializer per (operand, map) even when several terms use it.
    const params: { index: number; map: ParamMap; name: string; value: TensorValue }[] = [];
    const param = (index: number, map: ParamMap, hint: string) => {
      const name = node.input[index]!;
      if (map === 'identity') return { name, value: ctx.constant(name)! };
      let p = params.find((q) => q.index === index && q.map === map);
      if (!p) {
        const v = ctx.constant(name)!;
        const value: TensorValue = { dataType: v.dataType, dims: v.dims, data: floatArray(Array.from(v.data as Float32Array, map), v.dataType) };
        p = { index, map, name: ctx.tensor(hint, v.dims, value.data as Float32Array, x), value };
        params.push(p);
      }
      return p;
    };
    const inputs = new Map<InputPart, string>();
    const input = (part: InputPart): string | undefined => {
      if (part === 'x' || (part === 'positive' && nonNegative)) return x;
      if (part === 'negative' && nonNegative) return undefined;
      let t = inputs.get(part);
      if (t) return t;
      if (part === 'positive') t = ctx.op('Relu', [x], {}, 'x_pos');
      else if (part === 'negative') t = ctx.op('Min', [x, ctx.scalar(0, x)], {}, 'x_neg');
      else if (part === 'ones') t = ctx.op('ConstantOfShape', [ctx.int64s('x_shape', xs)], { value: { dataType: ctx.dtype(x), dims: [1], data: floatArray([1], ctx.dtype(x)) } }, 'ones');
      else t = boundTensor(ctx, x, xs, part, facts.box);
      inputs.set(part, t);
      return t;
    };
    const contributions: string[] = [];
    const zOf: string[] = [];
    rule.groups.forEach((group, gi) => {
      const terms = group.terms.flatMap((term, ti) => {
        const xt = input(term.input);
        if (!xt) return [];
        const w = param(layer.weight, term.weight, `w_${gi}_${ti}`);
        const b = layer.bias !== undefined && term.bias ? param(layer.bias, term.bias, `b_${gi}_${ti}`) : undefined;
        const own = term.input === 'x' && term.weight === 'identity' && (layer.bias === undefined || term.bias === 'identity');
        const operands = [...node.input.slice(0, 2)];
        operands[layer.data] = xt;
        operands[layer.weight] = w.name;
        return [{ term, xt, w, own, operands, b }];
      });
      if (terms.length === 0) return;
      const complement = nonNegative && group.complement !== undefined ? zOf[group.complement] : undefined;
      let zSum: string;
      if (complement) zSum = ctx.op('Sub', [node.output[0]!, complement], {}, `z_${gi}_complement`);
      else {
        const zs = terms.map((t, ti) => (t.own ? node.output[0]! : cloneLayer(ctx, t.b ? [...t.operands, t.b.name] : t.operands, `z_${gi}_${ti}`)));
        zSum = terms[0]!.term.sign === -1 ? ctx.op('Neg', [zs[0]!], {}, `z_${gi}_neg`) : zs[0]!;
        terms.slice(1).forEach((t, i) => (zSum = ctx.op(t.term.sign === -1 ? 'Sub' : 'Add', [zSum, zs[i + 1]!], {}, `z_${gi}_sum`)));
      }
      zOf[gi] = zSum;
      let s = relevanceRatio(ctx, R, zSum, rule.epsilon, `s_${gi}`);
      if (group.coefficient !== 1) s = ctx.op('Mul', [s, ctx.scalar(group.coefficient, s)], {}, `s_${gi}_scaled`);
      for (const { term, xt, w } of terms) {
        const c = transposed(ctx, layer, xt, xs, w, s);
        const r = term.input === 'ones' ? c : ctx.op('Mul', [xt, c], {}, 'r');
        contributions.push(term.sign === -1 ? ctx.op('Neg', [r], {}, 'r_neg') : r);
      }
    });
    const out: (string | undefined)[] = [];
    out[layer.data] = contributions.length === 1 ? contributions[0]! : ctx.op('Sum', contributions, {}, 'R_in');
    return out;
  };
}

/** J^T s for the layer with the weight `w` and data `xt`: the gradient rule of the op. */
function transposed(ctx: RuleContext, layer: Layer, xt: string, xs: number[], w: { name: string; value: TensorValue }, s: string): string {
  const input = [...ctx.node.input.slice(0, 2)];
  input[layer.data] = xt;
  input[layer.weight] = w.name;
  const node: NodeProto = { ...ctx.node, input };
  const needsGrad = [0, 1].map((i) => i === layer.data);
  const sub: RuleContext = {
    ...ctx,
    node,
    gradOutputs: [s],
    needsGrad,
    shape: (t) => (t === xt ? xs : t === w.name ? w.value.dims : ctx.shape(t)),
    constant: (t) => (t === w.name ? w.value : ctx.constant(t)),
  };
  const rule = gradientRules[ctx.node.opType] as Rule;
  return rule(sub)[layer.data]!;
}

/** The box bound `low` or `high` broadcast to x's shape (per channel along axis 1). */
function boundTensor(ctx: RuleContext, x: string, xs: number[], part: 'low' | 'high', box: Box | undefined): string {
  if (!box) throw new CompileError(`the z^B rule needs the input's bounds (low and high): give them, or a preprocessing preset`);
  const values = box[part];
  const uniform = values.every((v) => v === values[0]);
  let dims: number[];
  if (uniform) dims = [];
  else if (xs.length >= 2 && xs[1] === values.length) dims = [1, values.length, ...xs.slice(2).map(() => 1)];
  else throw new CompileError(`the z^B rule got ${values.length} per-channel bounds for '${x}' of shape [${xs.join(', ')}]`);
  const v = ctx.tensor(`${part}_bound`, dims, uniform ? [values[0]!] : values, x);
  return ctx.op('Expand', [v, ctx.int64s(`${part}_shape`, xs)], {}, part);
}
