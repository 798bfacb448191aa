/**
 * The guided and deconvnet rule sets are not true gradients, so they cannot be checked by
 * finite differences: these tests compare them with values computed by hand on tiny graphs.
 *
 * Notation: x is the rectifier's forward input, w the signal arriving at its output (the
 * target weight for the last layer), R the signal it passes back.
 *   gradient:  R = f'(x) * w
 *   guided:    R = f'(x) * relu(w)          (Springenberg et al. 2015)
 *   deconvnet: R = relu(w) for Relu/Clip, leaky(w) for LeakyRelu/PRelu (Zeiler & Fergus 2014)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradientRules } from '../src/autodiff/rules/index.ts';
import { ruleSets, type RuleSetName } from '../src/autodiff/rulesets.ts';
import type { NodeProto, TensorProto } from '../src/model/onnx-proto.ts';
import { DataType, makeTensorProto } from '../src/model/tensor-data.ts';
import { compileAndRun, feedsOf, makeModel, nodeProto, valueInfo, type NodeSpec } from './gradcheck.ts';

const SETS: RuleSetName[] = ['gradient', 'guided', 'deconvnet'];

function floats(name: string, dims: number[], values: number[]): TensorProto {
  return makeTensorProto(name, { dataType: DataType.FLOAT, dims, data: Float32Array.from(values) });
}

/**
 * The signals reaching `wrt` when `w` is sent back from `target` of a graph over the
 * float32 input x, under one rule set.
 */
async function signals(
  nodes: NodeSpec[],
  initializers: TensorProto[],
  xDims: number[],
  x: number[],
  w: number[],
  rules: RuleSetName,
  wrt: string[] = ['x'],
  target = 'y',
): Promise<Record<string, number[]>> {
  const protos: NodeProto[] = nodes.map((n, i) => nodeProto(n, DataType.FLOAT, i));
  const model = makeModel(protos, [valueInfo('x', DataType.FLOAT, xDims)], initializers, [valueInfo(target, DataType.FLOAT)]);
  const run = await compileAndRun(model, { inputShape: { x: xDims }, targetTensor: target, wrt, rules }, feedsOf({ x: { data: x, dims: xDims } }), w);
  return Object.fromEntries(Object.entries(run.gradients).map(([k, v]) => [k, Array.from(v)]));
}

function assertClose(actual: readonly number[] | undefined, expected: readonly number[], what: string, tol = 1e-6): void {
  assert.ok(actual, `${what}: no result`);
  assert.equal(actual.length, expected.length, `${what}: length`);
  const bad = expected.some((e, i) => !(Math.abs(actual[i]! - e) <= tol));
  assert.ok(!bad, `${what}: expected [${expected.join(', ')}], got [${actual.map((v) => +v.toFixed(7)).join(', ')}]`);
}

/** Expected results per rule set for one graph and one wrt tensor. */
type Expected = Record<RuleSetName, Record<string, number[]>>;

async function checkAll(nodes: NodeSpec[], initializers: TensorProto[], x: number[], w: number[], expected: Expected): Promise<void> {
  for (const set of SETS) {
    const wrt = Object.keys(expected[set]);
    const got = await signals(nodes, initializers, [x.length], x, w, set, wrt);
    for (const t of wrt) assertClose(got[t], expected[set][t]!, `${set}, signal at '${t}'`);
  }
}

const X = [-1, 2, 3, -4];

test('Relu under the three rule sets', async () => {
  // x = [-1, 2, 3, -4], w = [1, -1, 2, 3]; f'(x) = [x > 0] = [0, 1, 1, 0].
  //   gradient:  f'(x) * w       = [0, -1, 2, 0]
  //   guided:    f'(x) * relu(w) = [0, 1, 1, 0] * [1, 0, 2, 3] = [0, 0, 2, 0]
  //   deconvnet: relu(w)         = [1, 0, 2, 3]
  await checkAll([{ op: 'Relu', inputs: ['x'], outputs: ['y'] }], [], X, [1, -1, 2, 3], {
    gradient: { x: [0, -1, 2, 0] },
    guided: { x: [0, 0, 2, 0] },
    deconvnet: { x: [1, 0, 2, 3] },
  });
});

test('Relu -> Mul(-1) -> Relu: the sign flip between two rectifiers', async () => {
  // Forward: a = relu(x) = [0, 2, 3, 0]; b = -a = [0, -2, -3, 0]; y = relu(b) = [0, 0, 0, 0].
  // Backward with w = [1, -1, 2, 3]:
  //   gradient:  at b: [b > 0] * w = 0 everywhere (b <= 0); hence 0 at a and x.
  //   guided:    at b: [b > 0] * relu(w) = 0; hence 0 at a and x.
  //   deconvnet: at b: relu(w) = [1, 0, 2, 3] (no forward switch); at a: -1 * that =
  //              [-1, 0, -2, -3]; at x: relu([-1, 0, -2, -3]) = [0, 0, 0, 0].
  // Only deconvnet sends a signal past the second rectifier, and the first one kills it.
  const nodes: NodeSpec[] = [
    { op: 'Relu', inputs: ['x'], outputs: ['a'] },
    { op: 'Mul', inputs: ['a', 'minus_one'], outputs: ['b'] },
    { op: 'Relu', inputs: ['b'], outputs: ['y'] },
  ];
  const zeros = [0, 0, 0, 0];
  await checkAll(nodes, [floats('minus_one', [], [-1])], X, [1, -1, 2, 3], {
    gradient: { x: zeros, a: zeros, b: zeros },
    guided: { x: zeros, a: zeros, b: zeros },
    deconvnet: { x: zeros, a: [-1, 0, -2, -3], b: [1, 0, 2, 3] },
  });
});

test('Relu -> Mul(-1) -> Add(2.5) -> Relu: where the three rule sets part', async () => {
  // Forward: a = relu(x) = [0, 2, 3, 0]; b = -a = [0, -2, -3, 0];
  //          c = b + 2.5 = [2.5, 0.5, -0.5, 2.5]; y = relu(c) = [2.5, 0.5, 0, 2.5].
  // Backward with w = [1, -1, 2, 3]:
  //   gradient:  at c: [c > 0] * w = [1, -1, 0, 3]; at a: -[1, -1, 0, 3] = [-1, 1, 0, -3];
  //              at x: [x > 0] * [-1, 1, 0, -3] = [0, 1, 0, 0].
  //   guided:    at c: [c > 0] * relu(w) = [1, 0, 0, 3]; at a: [-1, 0, 0, -3];
  //              at x: [x > 0] * relu([-1, 0, 0, -3]) = [0, 0, 0, 0].
  //   deconvnet: at c: relu(w) = [1, 0, 2, 3]; at a: [-1, 0, -2, -3];
  //              at x: relu([-1, 0, -2, -3]) = [0, 0, 0, 0].
  const nodes: NodeSpec[] = [
    { op: 'Relu', inputs: ['x'], outputs: ['a'] },
    { op: 'Mul', inputs: ['a', 'minus_one'], outputs: ['b'] },
    { op: 'Add', inputs: ['b', 'offset'], outputs: ['c'] },
    { op: 'Relu', inputs: ['c'], outputs: ['y'] },
  ];
  await checkAll(nodes, [floats('minus_one', [], [-1]), floats('offset', [], [2.5])], X, [1, -1, 2, 3], {
    gradient: { x: [0, 1, 0, 0], a: [-1, 1, 0, -3], c: [1, -1, 0, 3] },
    guided: { x: [0, 0, 0, 0], a: [-1, 0, 0, -3], c: [1, 0, 0, 3] },
    deconvnet: { x: [0, 0, 0, 0], a: [-1, 0, -2, -3], c: [1, 0, 2, 3] },
  });
});

test('Clip(0, 6) (ReLU6) under the three rule sets', async () => {
  // x = [-1, 2, 7, 3, 5], w = [1, 1, 1, -2, 0.5]; [0 < x < 6] = [0, 1, 0, 1, 1].
  //   gradient:  [0 < x < 6] * w       = [0, 1, 0, -2, 0.5]
  //   guided:    [0 < x < 6] * relu(w) = [0, 1, 0, 1, 1] * [1, 1, 1, 0, 0.5] = [0, 1, 0, 0, 0.5]
  //   deconvnet: relu(w)               = [1, 1, 1, 0, 0.5]
  const nodes: NodeSpec[] = [{ op: 'Clip', inputs: ['x', 'lo', 'hi'], outputs: ['y'] }];
  await checkAll(nodes, [floats('lo', [], [0]), floats('hi', [], [6])], [-1, 2, 7, 3, 5], [1, 1, 1, -2, 0.5], {
    gradient: { x: [0, 1, 0, -2, 0.5] },
    guided: { x: [0, 1, 0, 0, 0.5] },
    deconvnet: { x: [1, 1, 1, 0, 0.5] },
  });
});

test('LeakyRelu(alpha 0.1) under the three rule sets', async () => {
  // x = [-1, 2, 3, -4], w = [-2, -1, 2, 3]; f'(x) = [0.1, 1, 1, 0.1].
  //   gradient:  f'(x) * w       = [-0.2, -1, 2, 0.3]
  //   guided:    f'(x) * relu(w) = [0.1, 1, 1, 0.1] * [0, 0, 2, 3] = [0, 0, 2, 0.3]
  //   deconvnet: leaky(w)        = w where w >= 0 else 0.1 w = [-0.2, -0.1, 2, 3]
  await checkAll([{ op: 'LeakyRelu', inputs: ['x'], outputs: ['y'], attrs: { alpha: 0.1 } }], [], X, [-2, -1, 2, 3], {
    gradient: { x: [-0.2, -1, 2, 0.3] },
    guided: { x: [0, 0, 2, 0.3] },
    deconvnet: { x: [-0.2, -0.1, 2, 3] },
  });
});

test('PRelu(slope 0.2) under the three rule sets', async () => {
  // x = [-1, 2, 3, -4], w = [-2, -1, 2, 3]; f'(x) = [0.2, 1, 1, 0.2].
  //   gradient:  f'(x) * w       = [-0.4, -1, 2, 0.6]
  //   guided:    f'(x) * relu(w) = [0, 0, 2, 0.6]
  //   deconvnet: prelu(w, 0.2)   = [-0.4, -0.2, 2, 3]
  await checkAll([{ op: 'PRelu', inputs: ['x', 'slope'], outputs: ['y'] }], [floats('slope', [1], [0.2])], X, [-2, -1, 2, 3], {
    gradient: { x: [-0.4, -1, 2, 0.6] },
    guided: { x: [0, 0, 2, 0.6] },
    deconvnet: { x: [-0.4, -0.2, 2, 3] },
  });
});

test('smooth activations keep their true gradient in every rule set (Sigmoid)', async () => {
  // sigma'(x) = sigma(x) (1 - sigma(x)) at x = [-1, 2, 3, -4]:
  //   [0.19661193, 0.10499359, 0.04517666, 0.01766271]; times w = [1, -1, 2, 3]:
  const expected = [0.19661193, -0.10499359, 0.09035332, 0.05298813];
  await checkAll([{ op: 'Sigmoid', inputs: ['x'], outputs: ['y'] }], [], X, [1, -1, 2, 3], {
    gradient: { x: expected },
    guided: { x: expected },
    deconvnet: { x: expected },
  });
});

test('max pooling routes through the forward switches in every rule set', async () => {
  // x (1x1x2x4) = [[1, 5, 2, 0], [3, 4, 7, 6]], 2x2 windows with stride 2:
  //   window 0 = {1, 5, 3, 4}: max 5 at flat index 1; window 1 = {2, 0, 7, 6}: max 7 at 6.
  // w = [-1, 2] goes to the arg max of each window, whatever its sign.
  const nodes: NodeSpec[] = [{ op: 'MaxPool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } }];
  const x = [1, 5, 2, 0, 3, 4, 7, 6];
  const expected = [0, -1, 0, 0, 0, 0, 2, 0];
  for (const set of SETS) {
    const got = await signals(nodes, [], [1, 1, 2, 4], x, [-1, 2], set);
    assertClose(got['x'], expected, `${set}, MaxPool`);
  }
});

test('guided and deconvnet override only the rectifiers', () => {
  const rectifiers = ['Clip', 'LeakyRelu', 'PRelu', 'Relu'];
  for (const set of ['guided', 'deconvnet'] as const) {
    const table = ruleSets[set];
    assert.deepEqual(Object.keys(table).sort(), Object.keys(gradientRules).sort(), `${set}: same ops as the gradient table`);
    const changed = Object.keys(table).filter((op) => table[op] !== gradientRules[op]).sort();
    assert.deepEqual(changed, rectifiers, `${set}: overridden ops`);
  }
});
