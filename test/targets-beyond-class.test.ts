/**
 * Targets beyond one class, on tiny models whose gradients are written down by hand:
 * sigmoid (multi-label) and regression heads and --output, class names, regions in input
 * pixels and masks on NCHW and NHWC dense outputs, detection scores (on a [N, K, 6] output
 * and as a region on a dense head), cosine similarity to a reference embedding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelProto, NodeProto, TensorProto } from '../src/model/onnx-proto.ts';
import { makeAttribute, type AttrInput } from '../src/model/attributes.ts';
import { Explainer } from '../src/methods/explainer.ts';
import { Lens } from '../src/app/lens.ts';
import { formatScore } from '../src/targets/head.ts';
import { drawBox } from '../src/viz/box.ts';
import type { Tensor } from '../src/runtime/session.ts';
import { floatInitializer, valueInfo } from './helpers.ts';

const node = (opType: string, input: string[], output: string, attrs: Record<string, AttrInput> = {}): NodeProto => ({
  name: output,
  opType,
  domain: '',
  input,
  output: [output],
  attribute: Object.entries(attrs).map(([k, v]) => makeAttribute(k, v)),
});
const int64 = (name: string, values: number[]): TensorProto => ({ name, dataType: 7, dims: [values.length], rawData: new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer) });

function model(nodes: NodeProto[], initializer: TensorProto[], input: [string, number[]], outputs: [string, number[]][]): ModelProto {
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'm', node: nodes, initializer, input: [valueInfo(...input)], output: outputs.map(([n, d]) => valueInfo(n, d)) },
  };
}

const W = [1, -2, 3, 0.5, -1, 0, 2, 4]; // [2, 4]: the two sigmoid labels
const V = [0.25, -0.5, 1, 2]; // [1, 4]: the regression value

/** x [1, 1, 2, 2] -> flat [1, 4]; labels = sigmoid(flat W^T) [1, 2]; value = flat V^T [1, 1]. */
function twoHeads(): ModelProto {
  return model(
    [
      node('Flatten', ['x'], 'flat'),
      node('Gemm', ['flat', 'W'], 'z', { transB: 1 }),
      node('Sigmoid', ['z'], 'labels'),
      node('Gemm', ['flat', 'V'], 'value', { transB: 1 }),
    ],
    [floatInitializer('W', [2, 4], W), floatInitializer('V', [1, 4], V)],
    ['x', [1, 1, 2, 2]],
    [['labels', [1, 2]], ['value', [1, 1]]],
  );
}

const x1: Tensor = { data: Float32Array.from([0.5, -1, 2, 0.25]), dims: [1, 1, 2, 2] };
const dot = (a: ArrayLike<number>, b: ArrayLike<number>, from = 0) => Array.from(a).reduce((s, v, i) => s + v * b[from + i]!, 0);
const close = (actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5) => {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol * Math.max(1, Math.abs(expected[i]!)), `[${i}] ${actual[i]} != ${expected[i]}`);
};

test('a sigmoid head is explained before its Sigmoid; --output picks the regression head, whose target is the value itself', async () => {
  await using ex = await Explainer.create(twoHeads());
  // d z_1 / d x = W[1] (no sigmoid' factor: sigmoid'(z_1) = 0.0025 here would shrink it).
  const [g] = await ex.explain(x1, 'gradient', { target: 1 });
  close(g!.raw, W.slice(4));
  const [v] = await ex.explain(x1, 'gradient', { output: 'value' });
  close(v!.raw, V);
  assert.equal(v!.class, 0);
  await assert.rejects(ex.explain(x1, 'gradient', { output: 'valeu' }), /no output 'valeu' \(did you mean 'value'\?\): outputs are labels, value/);
});

test('predict shows sigmoids for a sigmoid head and the raw value for a regression head; class names resolve from the labels', async () => {
  await using lens = await Lens.open(twoHeads(), { labels: ['cat', 'dog'] });
  const z = [dot(x1.data, W.slice(0, 4)), dot(x1.data, W.slice(4))]; // [6.25, -0.5]
  const { top } = await lens.predict(x1);
  assert.deepEqual(top[0]!.map((t) => t.label), ['cat', 'dog']);
  close(top[0]!.map((t) => t.probability), z.map((v) => 1 / (1 + Math.exp(-v))));
  const value = await lens.predict(x1, 5, 'value');
  assert.ok(Number.isNaN(value.top[0]![0]!.probability));
  close([value.top[0]![0]!.score], [dot(x1.data, V)]);
  assert.equal(formatScore({ label: 'value', probability: NaN, score: 3.125 }), 'value 3.125');
  const [byName] = await lens.explain(x1, 'gradient', { target: 'dog' });
  close(byName!.raw, W.slice(4));
  assert.equal(byName!.class, 1);
  await assert.rejects(lens.explain(x1, 'gradient', { target: 'dgo' }), /unknown class 'dgo' \(did you mean 'dog'\?\): classes are cat, dog/);
});

/**
 * x [1, 4, 4, 3] (NHWC) -> NCHW -> 1x1 conv with stride 2, Wd[c, k] = c - k (5 classes)
 * -> logits [1, 5, 2, 2]; heat = NHWC of sigmoid(logits) [1, 2, 2, 5] (or of the logits
 * when `sigmoid` is false); boxes [1, 2, 6] = a constant (zero weights, bias rows).
 */
function denseNhwc(sigmoid: boolean): ModelProto {
  const wd = Array.from({ length: 15 }, (_, i) => Math.floor(i / 3) - (i % 3));
  const boxes = [0, 0, 2, 2, 0.9, 3, 1, 2, 4, 4, 0.8, 1];
  return model(
    [
      node('Transpose', ['x'], 'x_nchw', { perm: [0, 3, 1, 2] }),
      node('Conv', ['x_nchw', 'Wd'], 'logits', { kernel_shape: [1, 1], strides: [2, 2] }),
      ...(sigmoid ? [node('Sigmoid', ['logits'], 'prob')] : []),
      node('Transpose', [sigmoid ? 'prob' : 'logits'], 'heat', { perm: [0, 2, 3, 1] }),
      node('Flatten', ['x'], 'flat'),
      node('Gemm', ['flat', 'Z', 'B'], 'rows', { transB: 1 }),
      node('Reshape', ['rows', 'shape'], 'boxes'),
    ],
    [floatInitializer('Wd', [5, 3, 1, 1], wd), floatInitializer('Z', [12, 48], new Float32Array(12 * 48)), floatInitializer('B', [12], boxes), int64('shape', [-1, 2, 6])],
    ['x', [1, 4, 4, 3]],
    [['heat', [1, 2, 2, 5]], ['boxes', [1, 2, 6]]],
  );
}

const image = (seed: number, n = 1): Tensor => ({ data: Float32Array.from({ length: 48 * n }, (_, i) => Math.sin(i * 0.7 + seed)), dims: [n, 4, 4, 3] });

/** Gradient [3, 4, 4] (CHW, as attribution images are) of sum over cells of weight[cell] * logit[c, cell]. */
function denseGradient(c: number, weight: (i: number, j: number) => number): number[] {
  const g = new Array<number>(48).fill(0);
  for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) for (let k = 0; k < 3; k++) g[(k * 4 + 2 * i) * 4 + 2 * j] = weight(i, j) * (c - k);
  return g;
}

test('a region in input pixels weights each output cell by its part inside the box, through Sigmoid and an NHWC output', async () => {
  for (const sigmoid of [true, false]) {
    await using ex = await Explainer.create(denseNhwc(sigmoid));
    // Box x 1..4, y 0..2: cell (0, 0) covers x 0..2 (half inside), cell (0, 1) x 2..4 (all); row 1 is outside.
    const [g] = await ex.explain(image(1), 'gradient', { target: { region: { class: 4, pixels: [1, 0, 4, 2] } } });
    close(g!.raw, denseGradient(4, (i, j) => (i === 0 ? (j === 0 ? 0.5 : 1) : 0)));
    assert.equal(g!.class, 4);
    // A mask at the input size: each cell weighs the mean of its 2x2 pixels (3 of 4 set in cell (0, 0), 1 in cell (1, 1)).
    const mask = new Float32Array(16);
    for (const p of [0, 1, 4, 15]) mask[p] = 1;
    const [m] = await ex.explain(image(1), 'gradient', { target: { region: { class: 2, mask } } });
    close(m!.raw, denseGradient(2, (i, j) => (i === 0 && j === 0 ? 0.75 : i === 1 && j === 1 ? 0.25 : 0)));
  }
});

test('auto on an NHWC dense output explains each position\'s predicted class over the last axis', async () => {
  await using ex = await Explainer.create(denseNhwc(false));
  const x = image(4);
  const [g] = await ex.explain(x, 'gradient');
  // logits[c] at cell (i, j) = sum_k (c - k) x[2i, 2j, k] = c S - sum_k k x_k with S = sum_k x_k: class 4 where S > 0, else 0.
  const best = (i: number, j: number) => ([0, 1, 2].reduce((s, k) => s + x.data[((2 * i) * 4 + 2 * j) * 3 + k]!, 0) > 0 ? 4 : 0);
  const expected = new Array<number>(48).fill(0);
  for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) for (let k = 0; k < 3; k++) expected[(k * 4 + 2 * i) * 4 + 2 * j] = best(i, j) - k;
  assert.ok(new Set([0, 1, 2, 3].map((p) => best(Math.floor(p / 2), p % 2))).size === 2, 'both classes occur');
  close(g!.raw, expected);
});

test('a detection target: the score column of a [N, K, 6] output, or on a dense head the detection\'s class over its box; batch equals loop', async () => {
  await using ex = await Explainer.create(denseNhwc(true));
  // boxes = B (zero weights): detection 1 is x 1..4, y 2..4, class 1; detection 0 is x 0..2, y 0..2, class 3.
  const [onDense] = await ex.explain(image(2), 'gradient', { target: { detection: 0 } });
  close(onDense!.raw, denseGradient(3, (i, j) => (i === 0 && j === 0 ? 1 : 0)));
  assert.equal(onDense!.class, 3);
  const [second] = await ex.explain(image(2), 'gradient', { target: { detection: 1 } });
  close(second!.raw, denseGradient(1, (i, j) => (i === 1 ? (j === 0 ? 0.5 : 1) : 0)));
  assert.deepEqual(second!.box, [1, 2, 4, 4], 'the detection\'s box travels with the map (drawn on the rendered image)');
  // On the boxes output itself: d score / d x = row 4 of Z, all zeros here (and the score column is the one seeded).
  const [score] = await ex.explain(image(2), 'gradient', { target: { detection: 1 }, output: 'boxes' });
  close(score!.raw, new Array<number>(48).fill(0));
  await assert.rejects(ex.explain(image(2), 'gradient', { target: { detection: 2 } }), /detection 2 is outside the model's 2 detections/);
  const [byClass] = await ex.explain(image(2), 'gradient', { target: { detection: { class: 1 } } });
  close(byClass!.raw, second!.raw);
  await assert.rejects(ex.explain(image(2), 'gradient', { target: { detection: { class: 2 } } }), /input 0 has no detection of class 2/);
  const batch = await ex.explain(image(3, 2), 'gradient', { target: { detection: 1 } });
  close(batch[1]!.raw, second!.raw);
});

/** A [N, K, 6] detections output whose score column depends on x: rows = flat D^T, D [12, 4]. */
function detector(): ModelProto {
  const d = Array.from({ length: 48 }, (_, i) => ((i * 7) % 11) - 5);
  return model([node('Flatten', ['x'], 'flat'), node('Gemm', ['flat', 'D'], 'rows', { transB: 1 }), node('Reshape', ['rows', 'shape'], 'detections')], [floatInitializer('D', [12, 4], d), int64('shape', [-1, 2, 6])], ['x', [1, 1, 2, 2]], [['detections', [1, 2, 6]]]);
}

test('a detection\'s score on a [N, K, 6] output differentiates that one value', async () => {
  await using ex = await Explainer.create(detector());
  const d = Array.from({ length: 48 }, (_, i) => ((i * 7) % 11) - 5);
  for (const k of [0, 1]) {
    const [g] = await ex.explain(x1, 'gradient', { target: { detection: k } });
    close(g!.raw, d.slice((k * 6 + 4) * 4, (k * 6 + 5) * 4));
  }
  // By class: the better-scoring of the detections of that class (here detection 1).
  const rows = Array.from({ length: 12 }, (_, r) => dot(x1.data, d, r * 4)); // both of class round(-7) = round(-7.25); scores -6.5, 9.75
  const c = Math.round(rows[5]!);
  const ks = [0, 1].filter((k) => Math.round(rows[k * 6 + 5]!) === c).sort((a, b) => rows[b * 6 + 4]! - rows[a * 6 + 4]!);
  const [g] = await ex.explain(x1, 'gradient', { target: { detection: { class: c } } });
  assert.deepEqual(ks, [1, 0]);
  close(g!.raw, d.slice((ks[0]! * 6 + 4) * 4, (ks[0]! * 6 + 5) * 4));
});

test('similar-to: the gradient of cos(E x, E r) equals E^T of the cosine\'s gradient, and finite differences of the cosine', async () => {
  const E = [1, 0, 2, -1, 0.5, 3, -2, 1, 0, 1, 1, 1]; // [3, 4]
  await using ex = await Explainer.create(model([node('Flatten', ['x'], 'flat'), node('Gemm', ['flat', 'E'], 'embedding', { transB: 1 })], [floatInitializer('E', [3, 4], E)], ['x', [1, 1, 2, 2]], [['embedding', [1, 3]]]));
  const ref: Tensor = { data: Float32Array.from([1, 2, -1, 0.5]), dims: [1, 1, 2, 2] };
  const embed = (x: ArrayLike<number>) => [0, 1, 2].map((r) => dot(x, E, r * 4));
  const cos = (x: ArrayLike<number>) => {
    const [e, r] = [embed(x), embed(ref.data)];
    return dot(e, r) / Math.sqrt(dot(e, e) * dot(r, r));
  };
  const [g] = await ex.explain(x1, 'gradient', { target: { similarTo: ref } });
  const [e, r] = [embed(x1.data), embed(ref.data)];
  const [ne, nr, er] = [Math.sqrt(dot(e, e)), Math.sqrt(dot(r, r)), dot(e, r)];
  const dcos = e.map((v, j) => r[j]! / (ne * nr) - (er * v) / (ne ** 3 * nr));
  close(g!.raw, [0, 1, 2, 3].map((i) => dcos.reduce((s, v, j) => s + v * E[j * 4 + i]!, 0)));
  const h = 1e-4;
  close(g!.raw, [0, 1, 2, 3].map((i) => {
    const [up, down] = [Float64Array.from(x1.data), Float64Array.from(x1.data)];
    up[i]! += h;
    down[i]! -= h;
    return (cos(up) - cos(down)) / (2 * h);
  }), 1e-4);
  const both: Tensor = { data: Float32Array.from([...x1.data, ...ref.data]), dims: [2, 1, 2, 2] };
  const batch = await ex.explain(both, 'gradient', { target: { similarTo: ref } });
  close(batch[0]!.raw, g!.raw);
  close(batch[1]!.raw, [0, 0, 0, 0], 1e-5); // the reference is most similar to itself: a zero gradient
});

test('drawBox outlines [x0, y0, x1, y1) on a copy, clipped to the image', () => {
  const image = { width: 5, height: 4, data: new Uint8ClampedArray(60) };
  const boxed = drawBox(image, [1, 1, 4, 9], [255, 0, 0], 1);
  const red = [...Array(20).keys()].filter((p) => boxed.data[3 * p] === 255);
  // Rows 1..3 (clipped at the bottom), columns 1..3: the outline leaves (2, 2) inside.
  assert.deepEqual(red, [6, 7, 8, 11, 13, 16, 17, 18]);
  assert.equal(image.data[18], 0, 'the input image is unchanged');
});
