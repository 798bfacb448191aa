/** Targets (class, top-k, weights, regions of dense outputs) and layer selection. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelProto } from '../src/model/onnx-proto.ts';
import { Explainer } from '../src/methods/explainer.ts';
import { convLayers } from '../src/targets/layers.ts';
import { topClasses } from '../src/targets/targets.ts';
import { minMaxNormalize } from '../src/viz/normalize.ts';
import { Rng } from '../src/runtime/rng.ts';
import { zoo } from './zoo/models.ts';
import { floatInitializer, relativeL2, valueInfo } from './helpers.ts';

const random = (dims: number[], seed: number) => {
  const rng = new Rng(seed);
  return { data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng.normal()), dims };
};

/** A 1x1 conv "segmentation" model: x [1, 3, 4, 4] -> logits [1, 4, 4, 4], W[c, k] = c - k. */
function denseModel(): ModelProto {
  const w = Float32Array.from({ length: 12 }, (_, i) => Math.floor(i / 3) - (i % 3));
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'dense',
      node: [{ name: 'head', opType: 'Conv', input: ['x', 'W'], output: ['logits'], attribute: [{ name: 'kernel_shape', type: 7, ints: [1, 1] }] }],
      initializer: [floatInitializer('W', [4, 3, 1, 1], w)],
      input: [valueInfo('x', [1, 3, 4, 4])],
      output: [valueInfo('logits', [1, 4, 4, 4])],
    },
  };
}

test('a region target on a dense output differentiates the class inside the box only', async () => {
  await using ex = await Explainer.create(denseModel());
  const [g] = await ex.explain(random([1, 3, 4, 4], 1), 'gradient', { target: { region: { class: 2, box: [1, 1, 3, 2] } } });
  // d/dx[k, y, x] of sum over the box of logits[2] = W[2, k] = 2 - k inside rows 1..2, col 1.
  const expected = Array.from({ length: 48 }, (_, i) => {
    const [k, y, x] = [Math.floor(i / 16), Math.floor((i % 16) / 4), i % 4];
    return y >= 1 && y < 3 && x === 1 ? 2 - k : 0;
  });
  assert.deepEqual(Array.from(g!.raw), expected);
  assert.equal(g!.class, 2);
  await assert.rejects(ex.explain(random([1, 3, 4, 4], 1), 'gradient', { target: { region: { class: 2, box: [0, 0, 5, 1] } } }), /not inside the 4x4 output/);
});

test('top-k explains each image\'s k best classes, equal to explicit class targets', async () => {
  const entry = zoo['tiny-vgg']!;
  await using ex = await Explainer.create(entry.build());
  const x = random(entry.inputShape(2), 2);
  const { scores } = await ex.predict(x);
  const top = await ex.explain(x, 'saliency', { target: { topK: 2 } });
  assert.deepEqual(top.map((e) => e.image), [0, 0, 1, 1]);
  for (const [i, e] of top.entries()) {
    const row = Array.from(scores.data.subarray(e.image * 10, e.image * 10 + 10));
    const order = row.map((v, c) => [v, c] as const).sort((a, b) => b[0] - a[0]).map(([, c]) => c);
    assert.equal(e.class, order[i % 2], 'best classes first');
    const one = { data: x.data.slice(e.image * 3072, (e.image + 1) * 3072), dims: entry.inputShape(1) };
    const [explicit] = await ex.explain(one, 'saliency', { target: e.class! });
    assert.ok(relativeL2(e.raw, explicit!.raw) < 1e-6);
  }
});

test('a weight tensor target is linear: weights (a, b) give a * class a + b * class b', async () => {
  const entry = zoo['tiny-vgg']!;
  await using ex = await Explainer.create(entry.build());
  const x = random(entry.inputShape(1), 3);
  const w = new Float32Array(10);
  w[1] = 2;
  w[4] = -0.5;
  const [mixed] = await ex.explain(x, 'gradient', { target: { weights: { data: w, dims: [10] } } });
  const [one] = await ex.explain(x, 'gradient', { target: 1 });
  const [four] = await ex.explain(x, 'gradient', { target: 4 });
  const expected = one!.raw.map((v, i) => 2 * v - 0.5 * four!.raw[i]!);
  assert.ok(relativeL2(mixed!.raw, expected) < 1e-5);
  await assert.rejects(ex.explain(x, 'gradient', { target: { weights: { data: new Float32Array(7), dims: [7] } } }), /target weights have 7 values/);
});

test("targetLayers 'all' gives one map per conv layer, and fuse their normalized mean", async () => {
  const entry = zoo['tiny-resnet']!;
  await using ex = await Explainer.create(entry.build());
  const x = random(entry.inputShape(1), 4);
  const s = await ex.specialize(x);
  const convs = convLayers(s);
  // stem, block1 (2 convs), block2 (2 convs + the projection shortcut).
  assert.equal(convs.length, 6);
  const maps = await ex.explain(x, 'grad-cam', { targetLayers: 'all', fuse: true });
  assert.deepEqual(maps.map((m) => m.layer), [...convs.map((l) => l.tensor), 'fused']);
  const mean = new Float32Array(32 * 32);
  for (const m of maps.slice(0, -1)) m.values.forEach((v, i) => (mean[i] = mean[i]! + v / convs.length));
  assert.ok(relativeL2(maps.at(-1)!.values, minMaxNormalize(mean)) < 1e-6);
});

test('topClasses: the k best of each row, best first, ties in class order (as a stable sort of every class)', () => {
  const rng = new Rng(11);
  for (let trial = 0; trial < 300; trial++) {
    const classes = 1 + Math.floor(rng.uniform() * 20);
    const n = 1 + Math.floor(rng.uniform() * 3);
    const k = Math.floor(rng.uniform() * (classes + 2));
    // Few distinct values, so ties are common.
    const data = Float32Array.from({ length: n * classes }, () => Math.floor(rng.uniform() * 4) - 1);
    const sorted = Array.from({ length: n }, (_, i) =>
      [...data.subarray(i * classes, (i + 1) * classes)].map((v, c) => ({ v, c })).sort((a, b) => b.v - a.v).slice(0, k).map((e) => e.c),
    );
    assert.deepEqual(topClasses({ data, dims: [n, classes] }, k), sorted, `k=${k} of ${classes}: ${data.join(',')}`);
  }
  assert.deepEqual(topClasses({ data: new Float32Array([0.5, 2, -1, 2, 7]), dims: [1, 5] }, 3), [[4, 1, 3]]);
});
