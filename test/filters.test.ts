/**
 * Kernel images and weight statistics on a hand-built model with known weights.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { specializeFor } from '../src/autodiff/compile.ts';
import { filterImages, weightStats } from '../src/inspect/filters.ts';
import type { ModelProto } from '../src/model/onnx-proto.ts';

// conv1: filter 0 holds 0..11 (R plane 0..3, G 4..7, B 8..11), filter 1 is 2, ten 0s, -2.
const W1 = [...Array.from({ length: 12 }, (_, i) => i), 2, ...new Array(10).fill(0), -2];
// conv2 [3, 2, 1, 2]: (out, in) kernels (0,0) [1, 3], (0,1) [2, 2], (1,0) [0, -1], (1,1) [5, 7], (2,0) [4, 4], (2,1) [-3, 0].
const W2 = [1, 3, 2, 2, 0, -1, 5, 7, 4, 4, -3, 0];
// dw: depthwise with channel multiplier 2 (group 3, 6 filters of 1 input each).
const W3 = [1, 2, 0, 0, 3, -1];

/**
 * x [1, 3, 4, 4] -> conv1 (2x2) -> relu1 -> conv2 (1x2) -> dw (1x1, group 3) -> GAP ->
 * Flatten -> mm (MatMul, [6, 4]) -> fc (Gemm, transB, [2, 4]) -> logits [1, 2].
 */
function handModel(): ModelProto {
  const vi = (name: string, dims: number[]) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  const f32 = (name: string, dims: number[], v: number[]) => ({ name, dataType: 1, dims, rawData: new Uint8Array(Float32Array.from(v).buffer) });
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'filters',
      node: [
        { name: 'conv1', opType: 'Conv', input: ['x', 'W1'], output: ['c1'] },
        { name: 'relu1', opType: 'Relu', input: ['c1'], output: ['r1'] },
        { name: 'conv2', opType: 'Conv', input: ['r1', 'W2'], output: ['c2'] },
        { name: 'dw', opType: 'Conv', input: ['c2', 'W3'], output: ['c3'], attribute: [{ name: 'group', type: 2, i: 3 }] },
        { name: 'gap', opType: 'GlobalAveragePool', input: ['c3'], output: ['p'] },
        { name: 'flatten', opType: 'Flatten', input: ['p'], output: ['f'] },
        { name: 'mm', opType: 'MatMul', input: ['f', 'Wm'], output: ['h'] },
        { name: 'fc', opType: 'Gemm', input: ['h', 'Wg'], output: ['logits'], attribute: [{ name: 'transB', type: 2, i: 1 }] },
      ],
      initializer: [
        f32('W1', [2, 3, 2, 2], W1),
        f32('W2', [3, 2, 1, 2], W2),
        f32('W3', [6, 1, 1, 1], W3),
        f32('Wm', [6, 4], Array.from({ length: 24 }, (_, i) => (i % 5) - 2)),
        f32('Wg', [2, 4], [1, 0, 0, 0, 0, 0, 0, 1]),
      ],
      input: [vi('x', [1, 3, 4, 4])],
      output: [vi('logits', [1, 2])],
    },
  };
}

const specialized = () => specializeFor(handModel(), { inputShape: [1, 3, 4, 4] });

const close = (actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6) => {
  assert.equal(actual.length, expected.length);
  Array.from(expected).forEach((e, i) => assert.ok(Math.abs(actual[i]! - e) <= tol, `index ${i}: ${actual[i]} vs ${e}`));
};

test('a first-layer conv with 3 inputs gives RGB tiles, each normalized over its own 3 x kh x kw values', async () => {
  const f = filterImages(await specialized(), 'conv1');
  assert.equal(f.mode, 'rgb');
  assert.deepEqual(f.kernel, [2, 2]);
  assert.deepEqual(f.tiles.map((t) => [t.out, t.in]), [[0, undefined], [1, undefined]]);
  close(f.tiles[0]!.values, Array.from({ length: 12 }, (_, i) => i / 11));
  close(f.tiles[1]!.values, [1, ...new Array(10).fill(0.5), 0]);
  // Pixel p takes (R, G, B) = round(255 * (v[p], v[4 + p], v[8 + p])): p = 0 is (0, 4, 8) / 11.
  assert.deepEqual(Array.from(f.tiles[0]!.image.data.subarray(0, 6)), [0, 93, 185, 23, 116, 209]);
  assert.deepEqual(Array.from(f.tiles[1]!.image.data.subarray(0, 3)), [255, 128, 128]);
  // make_grid layout, 1-pixel black padding: 2 * (2 + 1) + 1 by 2 + 2 * 1.
  assert.deepEqual([f.grid.width, f.grid.height], [7, 4]);
  assert.deepEqual(Array.from(f.grid.data.subarray(3 * (1 * 7 + 1), 3 * (1 * 7 + 3))), [0, 93, 185, 23, 116, 209]);
  assert.deepEqual(Array.from(f.grid.data.subarray(0, 3)), [0, 0, 0]);
  // The same layer by its output tensor and by its spatial-layer index.
  assert.equal(filterImages(await specialized(), 'c1').layer, 'conv1');
  assert.equal(filterImages(await specialized(), 0).layer, 'conv1');
});

test('deeper convs give grey tiles per (out, in) pair in weight order, capped at maxTiles', async () => {
  const s = await specialized();
  const f = filterImages(s, 'conv2', { maxTiles: 4 });
  assert.equal(f.mode, 'gray');
  assert.deepEqual(f.tiles.map((t) => [t.out, t.in]), [[0, 0], [0, 1], [1, 0], [1, 1]]);
  // Each 1x2 kernel by its own extent; a constant kernel is all 0.
  close(f.tiles.flatMap((t) => Array.from(t.values)), [0, 1, 0, 0, 1, 0, 0, 1]);
  assert.deepEqual(Array.from(f.tiles[2]!.image.data), [255, 255, 255, 0, 0, 0]);
  assert.equal(filterImages(s, 'conv2').tiles.length, 6);
  // Depthwise, multiplier 2: filter m reads input channel floor(m / 2).
  assert.deepEqual(filterImages(s, 'dw').tiles.map((t) => [t.out, t.in]), [[0, 0], [1, 0], [2, 1], [3, 1], [4, 2], [5, 2]]);
});

test('weightStats: min, max, mean, population std, zero share and a numpy-style histogram per weight layer', async () => {
  const stats = weightStats(await specialized());
  assert.deepEqual(stats.map((s) => [s.layer, s.op, s.weight, s.shape]), [
    ['conv1', 'Conv', 'W1', [2, 3, 2, 2]],
    ['conv2', 'Conv', 'W2', [3, 2, 1, 2]],
    ['dw', 'Conv', 'W3', [6, 1, 1, 1]],
    ['mm', 'MatMul', 'Wm', [6, 4]],
    ['fc', 'Gemm', 'Wg', [2, 4]],
  ]);
  const c2 = stats[1]!;
  // W2: sum 24 over 12 -> mean 2; squared deviations sum to 86 -> std sqrt(86 / 12); two zeros.
  assert.deepEqual([c2.count, c2.min, c2.max, c2.mean, c2.zeros], [12, -3, 7, 2, 2 / 12]);
  assert.ok(Math.abs(c2.std - Math.sqrt(86 / 12)) < 1e-12);
  // numpy.histogram(W2, bins=30): bin width 1/3 from -3; 7 falls in the closed last bin.
  const expected = new Array(30).fill(0);
  for (const [bin, count] of [[0, 1], [6, 1], [9, 2], [12, 1], [15, 2], [18, 1], [21, 2], [24, 1], [29, 1]] as const) expected[bin] = count;
  assert.deepEqual(c2.histogram.counts, expected);
  assert.equal(c2.histogram.edges.length, 31);
  assert.deepEqual([c2.histogram.edges[0], c2.histogram.edges[15], c2.histogram.edges[30]], [-3, 2, 7]);
  for (const s of stats) assert.equal(s.histogram.counts.reduce((a, b) => a + b, 0), s.count);
  // fc: six of eight weights are 0.
  assert.equal(stats[4]!.zeros, 0.75);
});

test('filterImages errors name the layer, its op and the layers that have kernels', async () => {
  const s = await specialized();
  assert.throws(() => filterImages(s, 'relu1'), { name: 'LayerError', message: "layer 'relu1' (Relu) has no weights: choose one of conv1, conv2, dw" });
  assert.throws(() => filterImages(s, 'r1'), /layer 'r1' \(Relu\) has no weights: choose one of conv1, conv2, dw/);
  assert.throws(() => filterImages(s, 'fc'), /layer 'fc' \(Gemm\) has no 2-D kernels to show: choose one of conv1, conv2, dw/);
  assert.throws(() => filterImages(s, 'nope'), /the model has no layer 'nope': choose one of conv1, conv2, dw/);
  assert.throws(() => filterImages(s, 9), /layer index 9 is out of range: the model has 4 spatial layers \(0\.\.3\)/);
  assert.throws(() => filterImages(s, 'conv1', { maxTiles: 0 }), /maxTiles must be an integer >= 1/);
});
