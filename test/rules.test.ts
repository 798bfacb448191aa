/**
 * Finite-difference check of every gradient rule (see gradcheck.ts).
 *
 * The suite iterates the rule table itself: every op with a rule function must have at
 * least one case below, so a rule added without a case fails here. Each case is compiled
 * and run in float32 (so every op any rule emits is shown to run in onnxruntime-node) and,
 * where onnxruntime has double kernels for it, in float64 with a tight tolerance; the
 * diagnostics say which.
 *
 * Opset 17 forms: Squeeze/Unsqueeze/ReduceSum axes and Split `split` are inputs,
 * ReduceMean/ReduceMax axes attributes, Clip min/max inputs, Pad pads an input, Resize
 * takes X, roi, scales, sizes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradientRules } from '../src/autodiff/rules/index.ts';
import { convRule } from '../src/autodiff/rules/conv.ts';
import { maxPoolRule } from '../src/autodiff/rules/pooling.ts';
import { DataType } from '../src/model/tensor-data.ts';
import type { Rule, RuleTable } from '../src/autodiff/rule.ts';
import { gradCheck, single, type Gen, type NodeSpec, type OpCase, type TensorSpec } from './gradcheck.ts';

// ---------------------------------------------------------------------------------------
// Case-building shorthands
// ---------------------------------------------------------------------------------------

const uniform = (lo: number, hi: number): Gen => ({ kind: 'uniform', lo, hi });
/** Values away from the kinks (margin 0.1 unless given). */
const away = (lo: number, hi: number, from: number[], margin = 0.1): Gen => ({ kind: 'away', lo, hi, from, margin });
/** Tie-free values (a permutation of values spaced by 0.05) for max pooling / ReduceMax. */
const distinct: Gen = { kind: 'distinct', spacing: 0.05 };
const positive = uniform(0.5, 2);
const nonzero = away(-2, 2, [0], 0.5);

/** A differentiated graph input. */
function x(name: string, shape: number[], gen?: Gen): TensorSpec {
  return gen ? { name, shape, gen } : { name, shape };
}
/** A float initializer (weights, statistics, bounds): not differentiated. */
function k(name: string, shape: number[], gen?: Gen): TensorSpec {
  return gen ? { name, shape, role: 'const', gen } : { name, shape, role: 'const' };
}
/** A float scalar initializer. */
function scalar(name: string, value: number): TensorSpec {
  return { name, shape: [], role: 'const', gen: { kind: 'values', values: [value] } };
}
/** A float32 initializer whatever the build precision (Resize scales). */
function f32(name: string, values: number[]): TensorSpec {
  return { name, shape: [values.length], role: 'const', type: 'float32', gen: { kind: 'values', values } };
}
/** An int64 initializer. */
function ints(name: string, values: (number | bigint)[], shape: number[] = [values.length]): TensorSpec {
  return { name, shape, ints: values };
}

const INT64_MAX = 9223372036854775807n;

type Inputs = Parameters<typeof single>[2];
type Attrs = Parameters<typeof single>[3];
type Extra = Parameters<typeof single>[4];

/** A one-node case named "<op>: <label>". */
function one(op: string, label: string, inputs: Inputs, attrs?: Attrs, extra?: Extra): OpCase {
  return single(`${op}: ${label}`, op, inputs, attrs, extra);
}

/** A few-node case. */
function chain(name: string, tensors: TensorSpec[], nodes: NodeSpec[], extra: Partial<OpCase> = {}): OpCase {
  return { name, tensors, nodes, ...extra };
}

// ---------------------------------------------------------------------------------------
// The cases, by op type
// ---------------------------------------------------------------------------------------

export const cases: Record<string, OpCase[]> = {
  Conv: [
    one('Conv', '3x3 pads 1 with bias', [x('x', [2, 3, 6, 6]), k('W', [4, 3, 3, 3]), k('B', [4])], { pads: [1, 1, 1, 1] }),
    one('Conv', 'no bias no pads', [x('x', [1, 2, 5, 5]), k('W', [3, 2, 3, 3])]),
    one('Conv', 'group 2', [x('x', [1, 4, 6, 6]), k('W', [6, 2, 3, 3])], { group: 2, pads: [1, 1, 1, 1] }),
    one('Conv', 'depthwise with bias', [x('x', [1, 3, 6, 6]), k('W', [3, 1, 3, 3]), k('B', [3])], { group: 3, pads: [1, 1, 1, 1] }),
    one('Conv', 'depthwise multiplier 2', [x('x', [1, 3, 5, 5]), k('W', [6, 1, 3, 3])], { group: 3 }),
    one('Conv', 'strides 2 pads 1', [x('x', [1, 2, 7, 7]), k('W', [3, 2, 3, 3])], { strides: [2, 2], pads: [1, 1, 1, 1] }),
    one('Conv', 'strides 2 with uncovered border', [x('x', [1, 2, 8, 8]), k('W', [3, 2, 3, 3])], { strides: [2, 2] }),
    one('Conv', 'asymmetric pads', [x('x', [1, 2, 6, 5]), k('W', [2, 2, 3, 3])], { pads: [0, 1, 2, 0] }),
    one('Conv', 'auto_pad SAME_UPPER strides 2', [x('x', [1, 2, 6, 6]), k('W', [3, 2, 3, 3])], { auto_pad: 'SAME_UPPER', strides: [2, 2] }),
    one('Conv', 'auto_pad SAME_UPPER even kernel', [x('x', [1, 2, 5, 5]), k('W', [2, 2, 4, 4])], { auto_pad: 'SAME_UPPER' }),
    one('Conv', 'auto_pad SAME_LOWER even kernel', [x('x', [1, 2, 5, 5]), k('W', [2, 2, 4, 4])], { auto_pad: 'SAME_LOWER' }),
    one('Conv', 'auto_pad VALID', [x('x', [1, 2, 6, 6]), k('W', [2, 2, 3, 3])], { auto_pad: 'VALID', strides: [2, 2] }),
    one('Conv', 'dilations 2', [x('x', [1, 2, 7, 7]), k('W', [3, 2, 3, 3])], { dilations: [2, 2], pads: [2, 2, 2, 2] }),
    one('Conv', 'dilations 2 strides 2 group 2', [x('x', [1, 4, 9, 9]), k('W', [4, 2, 3, 3]), k('B', [4])], { dilations: [2, 2], strides: [2, 2], group: 2, pads: [1, 2, 0, 1] }),
    one('Conv', 'rectangular kernel and strides, kernel_shape given', [x('x', [2, 2, 6, 7]), k('W', [2, 2, 1, 3])], { kernel_shape: [1, 3], strides: [1, 2] }),
    one('Conv', '1-D strides 2', [x('x', [1, 2, 9]), k('W', [3, 2, 3])], { strides: [2], pads: [1, 0] }),
  ],
  ConvTranspose: [
    one('ConvTranspose', 'plain', [x('x', [1, 3, 4, 4]), k('W', [3, 2, 3, 3])]),
    one('ConvTranspose', 'stride 2 pads 1 output_padding 1', [x('x', [1, 2, 4, 4]), k('W', [2, 3, 3, 3])], { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }),
    one('ConvTranspose', 'group 2 stride 2 with bias', [x('x', [1, 4, 3, 3]), k('W', [4, 1, 3, 3]), k('B', [2])], { group: 2, strides: [2, 2] }),
    one('ConvTranspose', 'dilations 2 asymmetric pads', [x('x', [1, 2, 3, 4]), k('W', [2, 2, 3, 3])], { dilations: [2, 2], pads: [1, 0, 0, 2] }),
    one('ConvTranspose', 'stride 2 kernel 4 (upsampling)', [x('x', [2, 2, 3, 3]), k('W', [2, 2, 4, 4])], { strides: [2, 2], pads: [1, 1, 1, 1] }),
    // output_shape with an odd total padding: the spec (and onnxruntime) put the larger half at the start unless SAME_UPPER.
    one('ConvTranspose', 'output_shape', [x('x', [1, 2, 3, 3]), k('W', [2, 2, 3, 3])], { strides: [2, 2], output_shape: [6, 6] }),
    one('ConvTranspose', 'output_shape auto_pad SAME_UPPER', [x('x', [1, 2, 3, 3]), k('W', [2, 2, 3, 3])], { strides: [2, 2], output_shape: [6, 6], auto_pad: 'SAME_UPPER' }),
    one('ConvTranspose', 'output_shape auto_pad SAME_LOWER', [x('x', [1, 2, 3, 3]), k('W', [2, 2, 3, 3])], { strides: [2, 2], output_shape: [6, 6], auto_pad: 'SAME_LOWER' }),
    one('ConvTranspose', 'auto_pad SAME_UPPER', [x('x', [1, 2, 3, 3]), k('W', [2, 2, 3, 3])], { strides: [2, 2], auto_pad: 'SAME_UPPER' }),
    one('ConvTranspose', 'auto_pad SAME_LOWER', [x('x', [1, 2, 3, 3]), k('W', [2, 2, 3, 3])], { strides: [2, 2], auto_pad: 'SAME_LOWER' }),
    one('ConvTranspose', '1-D stride 2', [x('x', [1, 2, 5]), k('W', [2, 3, 3])], { strides: [2], output_padding: [1] }),
  ],
  Gemm: [
    one('Gemm', '1-D bias', [x('A', [3, 4]), x('B', [4, 5]), x('C', [5])]),
    one('Gemm', 'transA', [x('A', [4, 3]), x('B', [4, 5]), x('C', [5])], { transA: 1 }),
    one('Gemm', 'transB', [x('A', [3, 4]), x('B', [5, 4]), x('C', [5])], { transB: 1 }),
    one('Gemm', 'transA transB alpha beta 2-D C', [x('A', [4, 3]), x('B', [5, 4]), x('C', [3, 5])], { transA: 1, transB: 1, alpha: 0.7, beta: 1.3 }),
    one('Gemm', 'alpha beta C [3,1]', [x('A', [3, 4]), x('B', [4, 5]), x('C', [3, 1])], { alpha: 1.5, beta: 0.5 }),
    one('Gemm', 'C [1] scalar-like', [x('A', [3, 4]), x('B', [5, 4]), x('C', [1])], { transB: 1, beta: 2 }),
    one('Gemm', 'no C', [x('A', [3, 4]), x('B', [4, 2])], { alpha: 0.5 }),
    one('Gemm', 'fully connected (constant weight and bias)', [x('A', [2, 6]), k('W', [4, 6]), k('b', [4])], { transB: 1 }),
  ],
  MatMul: [
    one('MatMul', '2-D', [x('A', [3, 4]), x('B', [4, 5])]),
    one('MatMul', 'batched 3-D', [x('A', [2, 3, 4]), x('B', [2, 4, 5])]),
    one('MatMul', '3-D by 2-D (broadcast B)', [x('A', [2, 3, 4]), x('B', [4, 5])]),
    one('MatMul', '4-D broadcast batch dims', [x('A', [2, 1, 3, 4]), x('B', [3, 4, 2])]),
    one('MatMul', 'constant right operand', [x('A', [2, 3]), k('B', [3, 4])]),
  ],
  BatchNormalization: [
    one('BatchNormalization', 'inference 4-D', [x('x', [2, 3, 4, 4]), k('scale', [3], uniform(0.5, 1.5)), k('B', [3]), k('mean', [3]), k('var', [3], positive)], { epsilon: 1e-3 }),
    one('BatchNormalization', 'inference 2-D default epsilon', [x('x', [4, 3]), k('scale', [3], uniform(-1.5, 1.5)), k('B', [3]), k('mean', [3]), k('var', [3], positive)]),
    one('BatchNormalization', 'inference 3-D', [x('x', [2, 4, 5]), k('scale', [4], uniform(0.5, 1.5)), k('B', [4]), k('mean', [4]), k('var', [4], uniform(0.1, 3))], { epsilon: 1e-5 }),
  ],
  Relu: [
    one('Relu', 'away from 0', [x('x', [2, 3, 4], away(-2, 2, [0]))]),
  ],
  LeakyRelu: [
    one('LeakyRelu', 'default alpha', [x('x', [2, 3, 4], away(-2, 2, [0]))]),
    one('LeakyRelu', 'alpha 0.2', [x('x', [2, 3, 4], away(-2, 2, [0]))], { alpha: 0.2 }),
  ],
  PRelu: [
    one('PRelu', 'per-channel slope [C,1,1]', [x('x', [2, 3, 4, 4], away(-2, 2, [0])), k('slope', [3, 1, 1], uniform(0.05, 0.5))]),
    one('PRelu', 'single slope [1]', [x('x', [2, 3, 4], away(-2, 2, [0])), k('slope', [1], uniform(0.1, 0.3))]),
  ],
  Clip: [
    one('Clip', 'min 0 max 6 (ReLU6)', [x('x', [2, 3, 4], away(-3, 9, [0, 6])), scalar('min', 0), scalar('max', 6)]),
    one('Clip', 'min only', [x('x', [2, 3, 4], away(-3, 3, [-0.5])), scalar('min', -0.5)]),
    one('Clip', 'max only', [x('x', [2, 3, 4], away(-3, 3, [1])), '', scalar('max', 1)]),
    one('Clip', 'no bounds', [x('x', [2, 3])]),
  ],
  Sigmoid: [one('Sigmoid', 'plain', [x('x', [2, 3, 4], uniform(-4, 4))])],
  HardSigmoid: [
    // Kinks where alpha x + beta is 0 or 1.
    one('HardSigmoid', 'default alpha beta', [x('x', [2, 3, 4], away(-4, 4, [-2.5, 2.5]))]),
    one('HardSigmoid', 'alpha 0.5 beta 0.3', [x('x', [2, 3, 4], away(-2, 3, [-0.6, 1.4]))], { alpha: 0.5, beta: 0.3 }),
  ],
  HardSwish: [one('HardSwish', 'plain', [x('x', [2, 3, 4], away(-5, 5, [-3, 3]))])],
  Tanh: [one('Tanh', 'plain', [x('x', [2, 3, 4], uniform(-3, 3))])],
  Elu: [
    one('Elu', 'default alpha', [x('x', [2, 3, 4], away(-3, 3, [0]))]),
    one('Elu', 'alpha 0.5', [x('x', [2, 3, 4], away(-3, 3, [0]))], { alpha: 0.5 }),
  ],
  Selu: [
    one('Selu', 'default alpha gamma', [x('x', [2, 3, 4], away(-3, 3, [0]))]),
    one('Selu', 'alpha 1.2 gamma 0.8', [x('x', [2, 3, 4], away(-3, 3, [0]))], { alpha: 1.2, gamma: 0.8 }),
  ],
  Softplus: [one('Softplus', 'plain', [x('x', [2, 3, 4], uniform(-3, 3))])],
  Erf: [one('Erf', 'plain', [x('x', [2, 3, 4], uniform(-2, 2))])],
  Softmax: [
    one('Softmax', 'axis -1 on 2-D', [x('x', [2, 5], uniform(-2, 2))], { axis: -1 }),
    one('Softmax', 'axis 1 on 4-D', [x('x', [2, 3, 2, 2], uniform(-2, 2))], { axis: 1 }),
    one('Softmax', 'default axis on 3-D', [x('x', [2, 3, 4], uniform(-2, 2))]),
  ],
  LogSoftmax: [
    one('LogSoftmax', 'axis -1 on 2-D', [x('x', [2, 5], uniform(-2, 2))], { axis: -1 }),
    one('LogSoftmax', 'axis 1 on 4-D', [x('x', [2, 3, 2, 2], uniform(-2, 2))], { axis: 1 }),
  ],
  Exp: [one('Exp', 'plain', [x('x', [2, 3, 4], uniform(-2, 2))])],
  Log: [one('Log', 'positive inputs', [x('x', [2, 3, 4], uniform(0.5, 3))])],
  Sqrt: [one('Sqrt', 'positive inputs', [x('x', [2, 3, 4], uniform(0.5, 3))])],
  Reciprocal: [one('Reciprocal', 'nonzero inputs', [x('x', [2, 3, 4], nonzero)])],
  Pow: [
    one('Pow', 'exponent 2', [x('x', [2, 3, 4], uniform(-2, 2)), scalar('e', 2)]),
    one('Pow', 'exponent 0.75 positive base', [x('x', [2, 3, 4], positive), scalar('e', 0.75)]),
    one('Pow', 'per-channel exponent [3,1]', [x('x', [2, 3, 4], positive), k('e', [3, 1], uniform(-1, 2))]),
    one('Pow', 'int64 exponent 3', [x('x', [2, 3], uniform(-2, 2)), ints('e', [3], [])]),
  ],
  Neg: [one('Neg', 'plain', [x('x', [2, 3, 4])])],
  Abs: [one('Abs', 'away from 0', [x('x', [2, 3, 4], away(-2, 2, [0]))])],
  Identity: [one('Identity', 'plain', [x('x', [2, 3, 4])])],
  Dropout: [
    // One output: loaded as Identity.
    one('Dropout', 'inference, no mask', [x('x', [2, 3, 4])]),
    // With the mask output and a ratio input the node stays a Dropout.
    one('Dropout', 'inference with mask and ratio', [x('x', [2, 3, 4]), scalar('ratio', 0.3)], undefined, { nodeOutputs: ['y', 'mask'] }),
  ],
  Cast: [
    one('Cast', 'float to double', [x('x', [2, 3, 4])], { to: DataType.DOUBLE }, { precision: 'float32' }),
    one('Cast', 'float to float (double to double in the float64 build)', [x('x', [2, 3, 4])], (ft) => ({ to: ft })),
    one('Cast', 'double to float', [{ name: 'x', shape: [2, 3, 4], type: 'float64' }], { to: DataType.FLOAT }, { precision: 'float32' }),
  ],
  Add: [
    one('Add', '[2,3,4,5] + [3,1,1]', [x('a', [2, 3, 4, 5]), x('b', [3, 1, 1])]),
    one('Add', '[2,3,4,5] + [5]', [x('a', [2, 3, 4, 5]), x('b', [5])]),
    one('Add', 'bidirectional [1,4,1] + [3,1,5]', [x('a', [1, 4, 1]), x('b', [3, 1, 5])]),
    one('Add', 'same shape, one constant', [x('a', [2, 3]), k('b', [2, 3])]),
  ],
  Sub: [
    one('Sub', '[2,3,4,5] - [3,1,1]', [x('a', [2, 3, 4, 5]), x('b', [3, 1, 1])]),
    one('Sub', '[5] - [2,3,4,5]', [x('a', [5]), x('b', [2, 3, 4, 5])]),
  ],
  Mul: [
    one('Mul', '[2,3,4,5] * [3,1,1]', [x('a', [2, 3, 4, 5]), x('b', [3, 1, 1])]),
    one('Mul', '[2,3,4,5] * [5]', [x('a', [2, 3, 4, 5]), x('b', [5])]),
    one('Mul', 'bidirectional [1,4,1] * [3,1,5]', [x('a', [1, 4, 1]), x('b', [3, 1, 5])]),
    one('Mul', 'by a constant scalar', [x('a', [2, 3]), scalar('b', -1.5)]),
  ],
  Div: [
    one('Div', '[2,3,4,5] / [3,1,1]', [x('a', [2, 3, 4, 5]), x('b', [3, 1, 1], nonzero)]),
    one('Div', '[2,3,4,5] / [5]', [x('a', [2, 3, 4, 5]), x('b', [5], nonzero)]),
    one('Div', '[5] / [2,3,4,5]', [x('a', [5]), x('b', [2, 3, 4, 5], nonzero)]),
  ],
  Sum: [
    one('Sum', '3 inputs with broadcasting', [x('a', [2, 3, 4]), x('b', [3, 4]), x('c', [4])]),
    one('Sum', '3 inputs same shape', [x('a', [2, 3]), x('b', [2, 3]), x('c', [2, 3])]),
    one('Sum', 'one input', [x('a', [2, 3])]),
  ],
  Mean: [
    one('Mean', '3 inputs with broadcasting', [x('a', [2, 3, 4]), x('b', [3, 1]), x('c', [4])]),
    one('Mean', '2 inputs same shape', [x('a', [2, 3]), x('b', [2, 3])]),
  ],
  MaxPool: [
    one('MaxPool', 'overlapping 3x3/2 pads 1', [x('x', [1, 2, 7, 7], distinct)], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }),
    one('MaxPool', '2x2/2', [x('x', [2, 3, 6, 6], distinct)], { kernel_shape: [2, 2], strides: [2, 2] }),
    one('MaxPool', 'ceil_mode 1', [x('x', [1, 2, 8, 8], distinct)], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }),
    one('MaxPool', 'ceil_mode 1 pads 1', [x('x', [1, 1, 6, 6], distinct)], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }),
    one('MaxPool', 'dilations 2', [x('x', [1, 2, 7, 7], distinct)], { kernel_shape: [3, 3], dilations: [2, 2] }),
    one('MaxPool', 'auto_pad SAME_UPPER', [x('x', [1, 2, 5, 5], distinct)], { kernel_shape: [2, 2], strides: [2, 2], auto_pad: 'SAME_UPPER' }),
    one('MaxPool', 'asymmetric pads', [x('x', [1, 2, 5, 6], distinct)], { kernel_shape: [3, 2], strides: [1, 2], pads: [0, 1, 2, 0] }),
    one('MaxPool', 'with Indices output', [x('x', [1, 2, 6, 6], distinct)], { kernel_shape: [3, 3], strides: [2, 2] }, { nodeOutputs: ['y', 'indices'] }),
    one('MaxPool', '1-D', [x('x', [1, 2, 9], distinct)], { kernel_shape: [3], strides: [2] }),
  ],
  AveragePool: [
    one('AveragePool', 'pads 1 count_include_pad 0', [x('x', [1, 2, 6, 6])], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 0 }),
    one('AveragePool', 'pads 1 count_include_pad 1', [x('x', [1, 2, 6, 6])], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 }),
    one('AveragePool', 'ceil_mode 1', [x('x', [1, 2, 6, 6])], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }),
    one('AveragePool', 'ceil_mode 1 pads 1 count_include_pad 1', [x('x', [1, 2, 7, 7])], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1, count_include_pad: 1 }),
    one('AveragePool', 'ceil_mode 1 pads 1 count_include_pad 0', [x('x', [1, 2, 7, 7])], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1, count_include_pad: 0 }),
    one('AveragePool', 'asymmetric pads', [x('x', [1, 2, 5, 6])], { kernel_shape: [2, 3], pads: [0, 1, 1, 0] }),
    one('AveragePool', '2x2/2', [x('x', [2, 3, 4, 4])], { kernel_shape: [2, 2], strides: [2, 2] }),
    one('AveragePool', '1-D pads', [x('x', [1, 2, 7])], { kernel_shape: [3], strides: [2], pads: [1, 1] }),
  ],
  GlobalAveragePool: [one('GlobalAveragePool', 'plain', [x('x', [2, 3, 4, 5])])],
  GlobalMaxPool: [one('GlobalMaxPool', 'tie-free', [x('x', [2, 3, 4, 4], distinct)])],
  ReduceMean: [
    one('ReduceMean', 'axes [2,3] keepdims 1', [x('x', [2, 3, 4, 5])], { axes: [2, 3], keepdims: 1 }),
    one('ReduceMean', 'axes [1] keepdims 0', [x('x', [2, 3, 4])], { axes: [1], keepdims: 0 }),
    one('ReduceMean', 'axes [-1] default keepdims', [x('x', [2, 3, 4])], { axes: [-1] }),
    one('ReduceMean', 'all axes keepdims 0', [x('x', [2, 3])], { keepdims: 0 }, { unbatched: true }),
  ],
  ReduceSum: [
    one('ReduceSum', 'axes input [1] keepdims 0', [x('x', [2, 3, 4]), ints('axes', [1])], { keepdims: 0 }),
    one('ReduceSum', 'axes input [0,2] keepdims 1', [x('x', [2, 3, 4]), ints('axes', [0, 2])], { keepdims: 1 }, { unbatched: true }),
    one('ReduceSum', 'axes input [-1] default keepdims', [x('x', [2, 3, 4]), ints('axes', [-1])]),
    one('ReduceSum', 'no axes (all) keepdims 0', [x('x', [2, 3, 4])], { keepdims: 0 }, { unbatched: true }),
  ],
  ReduceMax: [
    one('ReduceMax', 'axes [2,3] keepdims 1', [x('x', [2, 3, 4, 5], distinct)], { axes: [2, 3], keepdims: 1 }),
    one('ReduceMax', 'axes [1] keepdims 0', [x('x', [2, 3, 4], distinct)], { axes: [1], keepdims: 0 }),
    one('ReduceMax', 'all axes keepdims 0', [x('x', [2, 3, 4], distinct)], { keepdims: 0 }, { unbatched: true }),
  ],
  Flatten: [
    one('Flatten', 'axis 1', [x('x', [2, 3, 4])], { axis: 1 }),
    one('Flatten', 'axis 2 of 4-D', [x('x', [2, 3, 4, 5])], { axis: 2 }, { unbatched: true }),
    one('Flatten', 'axis 0', [x('x', [2, 3])], { axis: 0 }, { unbatched: true }),
  ],
  Reshape: [
    one('Reshape', 'shape [-1, 6]', [x('x', [2, 3, 4]), ints('shape', [-1, 6])], undefined, { unbatched: true }),
    one('Reshape', 'shape [0, -1] (0 copies)', [x('x', [2, 3, 4]), ints('shape', [0, -1])]),
  ],
  Transpose: [
    one('Transpose', 'perm [0,2,3,1]', [x('x', [2, 3, 4, 5])], { perm: [0, 2, 3, 1] }),
    one('Transpose', 'default (reverse)', [x('x', [2, 3, 4])], undefined, { unbatched: true }),
  ],
  Squeeze: [
    one('Squeeze', 'axes input [1,3]', [x('x', [2, 1, 3, 1]), ints('axes', [1, 3])]),
    one('Squeeze', 'axes input [-1]', [x('x', [2, 3, 1]), ints('axes', [-1])]),
    one('Squeeze', 'no axes', [x('x', [1, 3, 1, 2])], undefined, { unbatched: true }),
  ],
  Unsqueeze: [
    one('Unsqueeze', 'axes input [0,3]', [x('x', [2, 3, 4]), ints('axes', [0, 3])], undefined, { unbatched: true }),
    one('Unsqueeze', 'axes input [-1]', [x('x', [2, 3]), ints('axes', [-1])]),
  ],
  Concat: [
    one('Concat', 'axis 1 both differentiable', [x('a', [2, 3, 4]), x('b', [2, 2, 4])], { axis: 1 }),
    one('Concat', '3 inputs axis -1', [x('a', [2, 3]), x('b', [2, 1]), x('c', [2, 4])], { axis: -1 }),
    one('Concat', 'one constant input', [k('a', [1, 3]), x('b', [2, 3])], { axis: 0 }, { unbatched: true }),
  ],
  Split: [
    // Only the second piece is the target: no gradient flows into the first.
    one('Split', 'into 2 with split input, target 2nd piece', [x('x', [2, 5, 3]), ints('split', [2, 3])], { axis: 1 }, { nodeOutputs: ['y0', 'y1'], target: 'y1' }),
    one('Split', 'into 2 with split input, target 1st piece', [x('x', [2, 5, 3]), ints('split', [2, 3])], { axis: 1 }, { nodeOutputs: ['y0', 'y1'], target: 'y0' }),
    chain('Split: into 3 with split input, all pieces used', [x('x', [2, 3, 5]), ints('split', [1, 2, 2])], [
      { op: 'Split', inputs: ['x', 'split'], outputs: ['y0', 'y1', 'y2'], attrs: { axis: 2 } },
      { op: 'Concat', inputs: ['y2', 'y0', 'y1'], outputs: ['z'], attrs: { axis: 2 } },
    ]),
    chain('Split: into 3 equal pieces (no split input)', [x('x', [6, 2])], [
      { op: 'Split', inputs: ['x'], outputs: ['y0', 'y1', 'y2'], attrs: { axis: 0 } },
      { op: 'Mul', inputs: ['y0', 'y2'], outputs: ['z'] },
    ], { unbatched: true }),
  ],
  Expand: [
    one('Expand', '[3,1] to [2,3,4]', [x('x', [3, 1]), ints('shape', [2, 3, 4])], undefined, { unbatched: true }),
    one('Expand', '[1,4] to [3,1] (bidirectional)', [x('x', [1, 4]), ints('shape', [3, 1])], undefined, { unbatched: true }),
  ],
  Slice: [
    one('Slice', 'starts ends axes steps with negative step', [x('x', [4, 6, 5]), ints('starts', [1, -1]), ints('ends', [3, -7]), ints('axes', [0, 1]), ints('steps', [1, -2])], undefined, { unbatched: true }),
    one('Slice', 'no axes no steps, INT64_MAX end', [x('x', [4, 6]), ints('starts', [1, 2]), ints('ends', [INT64_MAX, 5])], undefined, { unbatched: true }),
    one('Slice', 'negative axis step 2', [x('x', [2, 3, 7]), ints('starts', [0]), ints('ends', [7]), ints('axes', [-1]), ints('steps', [2])]),
    one('Slice', 'negative step -1 reverses', [x('x', [3, 5]), ints('starts', [-1]), ints('ends', [-100]), ints('axes', [1]), ints('steps', [-1])]),
  ],
  Gather: [
    one('Gather', 'constant indices axis 1 with a repeat', [x('x', [2, 5, 3]), ints('idx', [3, 0, 3])], { axis: 1 }),
    one('Gather', 'distinct indices axis 1', [x('x', [2, 5, 3]), ints('idx', [4, 1])], { axis: 1 }),
    one('Gather', 'scalar index axis 0', [x('x', [4, 3]), ints('idx', [2], [])], { axis: 0 }, { unbatched: true }),
    one('Gather', 'negative indices axis 2', [x('x', [2, 3, 4]), ints('idx', [-1, 0])], { axis: 2 }),
    one('Gather', '2-D indices axis 1', [x('x', [2, 4, 3]), ints('idx', [0, 2, 1, 0], [2, 2])], { axis: 1 }),
  ],
  Pad: [
    one('Pad', 'constant mode with value', [x('x', [1, 2, 4, 5]), ints('pads', [0, 0, 1, 2, 0, 0, 2, 1]), scalar('value', 0.5)], { mode: 'constant' }),
    one('Pad', 'negative pads', [x('x', [1, 2, 4, 5]), ints('pads', [0, 0, -1, 1, 0, 0, 1, -2])]),
    one('Pad', 'default value, 2-D', [x('x', [3, 4]), ints('pads', [1, 0, 0, 2])], undefined, { unbatched: true }),
  ],
  Resize: [
    one('Resize', 'nearest scales 2', [x('x', [1, 2, 3, 4]), '', f32('scales', [1, 1, 2, 2])], { mode: 'nearest' }),
    one('Resize', 'nearest asymmetric floor scales 2', [x('x', [1, 2, 3, 4]), '', f32('scales', [1, 1, 2, 2])], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }),
    one('Resize', 'nearest scales 1.5', [x('x', [1, 1, 4, 4]), '', f32('scales', [1, 1, 1.5, 1.5])], { mode: 'nearest' }),
    one('Resize', 'linear half_pixel scales 2', [x('x', [1, 2, 3, 4]), '', f32('scales', [1, 1, 2, 2])], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' }),
    one('Resize', 'linear align_corners sizes', [x('x', [1, 2, 3, 4]), '', '', ints('sizes', [1, 2, 5, 7])], { mode: 'linear', coordinate_transformation_mode: 'align_corners' }),
    one('Resize', 'linear pytorch_half_pixel downsampling sizes', [x('x', [1, 2, 4, 6]), '', '', ints('sizes', [1, 2, 2, 3])], { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' }),
    one('Resize', 'linear asymmetric height only', [x('x', [2, 1, 3, 4]), '', f32('scales', [1, 1, 2, 1])], { mode: 'linear', coordinate_transformation_mode: 'asymmetric' }),
  ],
  LRN: [
    one('LRN', 'size 3 strong alpha', [x('x', [2, 5, 3, 3])], { size: 3, alpha: 0.5, beta: 0.75, bias: 1 }),
    // onnxruntime's LRN kernel rejects even sizes, so the asymmetric window cannot be checked.
    one('LRN', 'size 1', [x('x', [1, 6, 2, 3])], { size: 1, alpha: 0.8, beta: 0.6, bias: 1.5 }),
    one('LRN', 'size 5 AlexNet-like', [x('x', [1, 7, 2, 2], uniform(-3, 3))], { size: 5, alpha: 1e-2, beta: 0.75, bias: 2 }),
  ],
  LayerNormalization: [
    one('LayerNormalization', 'axis -1 scale and bias', [x('x', [2, 3, 6]), k('scale', [6], uniform(0.5, 1.5)), k('bias', [6])], { axis: -1, epsilon: 1e-5 }),
    one('LayerNormalization', 'axis 1 over [3,4], no bias', [x('x', [2, 3, 4]), k('scale', [3, 4], uniform(-1.5, 1.5))], { axis: 1 }),
  ],
};

// Extra end-to-end chains (several rules, fan-out accumulation): not tied to one op.
const chains: OpCase[] = [
  chain('chain: Conv -> BatchNormalization -> Relu -> MaxPool -> Flatten -> Gemm -> Softmax', [
    x('x', [1, 2, 6, 6]), k('W', [3, 2, 3, 3]), k('Bc', [3]),
    k('scale', [3], uniform(0.5, 1.5)), k('B', [3]), k('mean', [3]), k('var', [3], positive),
    k('Wf', [4, 27]), k('bf', [4]),
  ], [
    { op: 'Conv', inputs: ['x', 'W', 'Bc'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
    { op: 'BatchNormalization', inputs: ['c', 'scale', 'B', 'mean', 'var'], outputs: ['bn'] },
    { op: 'Relu', inputs: ['bn'], outputs: ['r'] },
    { op: 'MaxPool', inputs: ['r'], outputs: ['p'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
    { op: 'Flatten', inputs: ['p'], outputs: ['f'] },
    { op: 'Gemm', inputs: ['f', 'Wf', 'bf'], outputs: ['logits'], attrs: { transB: 1 } },
    { op: 'Softmax', inputs: ['logits'], outputs: ['prob'] },
  ], { target: 'prob' }),
  chain('chain: Conv without bias -> BatchNormalization (folded into the Conv)', [
    x('x', [2, 3, 5, 5]), k('W', [4, 3, 3, 3]),
    k('scale', [4], uniform(-1.5, 1.5)), k('B', [4]), k('mean', [4]), k('var', [4], positive),
  ], [
    { op: 'Conv', inputs: ['x', 'W'], outputs: ['c'], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] } },
    { op: 'BatchNormalization', inputs: ['c', 'scale', 'B', 'mean', 'var'], outputs: ['y'], attrs: { epsilon: 1e-3 } },
  ]),
  chain('chain: residual block (x used twice)', [x('x', [1, 2, 5, 5]), k('W1', [2, 2, 3, 3]), k('W2', [2, 2, 3, 3])], [
    { op: 'Conv', inputs: ['x', 'W1'], outputs: ['c1'], attrs: { pads: [1, 1, 1, 1] } },
    { op: 'Tanh', inputs: ['c1'], outputs: ['t'] },
    { op: 'Conv', inputs: ['t', 'W2'], outputs: ['c2'], attrs: { pads: [1, 1, 1, 1] } },
    { op: 'Add', inputs: ['c2', 'x'], outputs: ['y'] },
    { op: 'GlobalAveragePool', inputs: ['y'], outputs: ['g'] },
  ]),
];

// ---------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------

function describe(r: Awaited<ReturnType<typeof gradCheck>>): string {
  const errs = Object.entries(r.maxRelErr).map(([p, e]) => `${p} max rel err ${e.toExponential(2)}`).join(', ');
  return `precision ${r.precision}${r.float64Unavailable ? ` (float64 unavailable: ${r.float64Unavailable})` : ''}; ${errs}`;
}

async function runCase(t: { diagnostic(msg: string): void }, c: OpCase): Promise<void> {
  const r = await gradCheck(c);
  t.diagnostic(describe(r));
  assert.ok(r.ok, `${c.name}:\n  ${r.failures.join('\n  ')}`);
}

const ruleOps = Object.keys(gradientRules).filter((op) => typeof gradientRules[op] === 'function');

for (const op of Object.keys(gradientRules)) {
  if (typeof gradientRules[op] !== 'function') continue;
  test(`gradient rule ${op}`, async (t) => {
    const list = cases[op] ?? [];
    assert.ok(list.length > 0, `the gradient rule for ${op} has no finite-difference case: add one to the cases table of test/rules.test.ts`);
    for (const c of list) await t.test(c.name, (st) => runCase(st, c));
  });
}

test('every op with a case has a gradient rule', () => {
  const missing = Object.keys(cases).filter((op) => !ruleOps.includes(op));
  assert.deepEqual(missing, [], `cases exist for ops without a gradient rule: ${missing.join(', ')}`);
});

test('chains of rules', async (t) => {
  for (const c of chains) await t.test(c.name, (st) => runCase(st, c));
});

// The alternative formulations the engine may switch to (bench/gradient-case.ts) must be
// exact too: every Conv and MaxPool case again with them.
test('alternative formulations', async (t) => {
  const alternatives: [string, RuleTable, OpCase[]][] = [
    ["Conv 'flipped'", { ...gradientRules, Conv: convRule('flipped') }, [...cases['Conv']!, ...chains]],
    ["MaxPool 'unpool-when-disjoint'", { ...gradientRules, MaxPool: maxPoolRule('unpool-when-disjoint') }, [...cases['MaxPool']!, ...chains]],
  ];
  for (const [label, rules, list] of alternatives) {
    for (const c of list) {
      await t.test(`${label}: ${c.name}`, async (st) => {
        const r = await gradCheck(c, { rules });
        st.diagnostic(describe(r));
        assert.ok(r.ok, `${label}, ${c.name}:\n  ${r.failures.join('\n  ')}`);
      });
    }
  }
});

test('the checker catches wrong rules', async () => {
  const c = one('Sigmoid', 'self-test', [x('x', [2, 3], uniform(-2, 2))]);
  const sigmoid = gradientRules['Sigmoid'] as Rule;
  // Pass-through instead of sigma'(x) dy: wrong in both builds.
  const identity: RuleTable = { ...gradientRules, Sigmoid: (ctx) => [ctx.gradOutputs[0]] };
  const wrong = await gradCheck(c, { rules: identity });
  assert.ok(!wrong.ok && wrong.failures.some((f) => f.startsWith('float64')) && wrong.failures.some((f) => f.startsWith('float32')), wrong.failures.join('\n'));
  // Off by 0.1%: below the float32 tolerance, caught by the float64 build.
  const scaled: RuleTable = {
    ...gradientRules,
    Sigmoid: (ctx) => sigmoid(ctx).map((g) => g && ctx.op('Mul', [g, ctx.scalar(1.001, ctx.node.input[0]!)], {}, 'off')),
  };
  const slightly = await gradCheck(c, { rules: scaled });
  assert.ok(!slightly.ok && slightly.failures.every((f) => f.startsWith('float64')), slightly.failures.join('\n'));
  // A float constant in a double graph is reported, not silently skipped.
  const mixed: RuleTable = {
    ...gradientRules,
    Sigmoid: (ctx) => sigmoid(ctx).map((g) => g && ctx.op('Mul', [g, ctx.builder.scalar('one_float', 1)], {}, 'mixed')),
  };
  const typed = await gradCheck(c, { rules: mixed });
  assert.ok(!typed.ok && typed.float64MissingKernel === false, typed.failures.join('\n'));
  assert.ok((await gradCheck(c)).ok);
});
