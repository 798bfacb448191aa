/**
 * Score-CAM and Ablation-CAM say why a map is blank instead of returning an empty picture.
 *
 * x [1, 2, 2, 2] -> A = Relu(x) -> GAP -> Flatten -> Gemm(W, transB) + b -> logits [1, 2],
 * W = [[1, -1], [0.5, 2]], b = [0.5, 0]: z_0 - z_1 = 0.5 m_0 - 3 m_1 + 0.5 (m: channel means).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelProto } from '../src/model/onnx-proto.ts';
import { Explainer } from '../src/methods/explainer.ts';
import type { Tensor } from '../src/runtime/session.ts';
import { floatInitializer as f32, valueInfo as vi } from './helpers.ts';

const model: ModelProto = {
  irVersion: 8,
  opsetImport: [{ domain: '', version: 17 }],
  graph: {
    name: 'gap',
    node: [
      { name: 'layer', opType: 'Relu', input: ['x'], output: ['A'] },
      { name: 'gap', opType: 'GlobalAveragePool', input: ['A'], output: ['P'] },
      { name: 'flatten', opType: 'Flatten', input: ['P'], output: ['F'] },
      { name: 'fc', opType: 'Gemm', input: ['F', 'W', 'b'], output: ['logits'], attribute: [{ name: 'transB', type: 2, i: 1 }] },
    ],
    initializer: [f32('W', [2, 2], [1, -1, 0.5, 2]), f32('b', [2], [0.5, 0])],
    input: [vi('x', [1, 2, 2, 2])],
    output: [vi('logits', [1, 2])],
  },
};
// A_0 = [0, 1, 0, 1], A_1 = [1, 2, 1, 2]: both min-max masks are H = [0, 1, 0, 1].
const x: Tensor = { data: Float32Array.from([0, 1, 0, 1, 1, 2, 1, 2]), dims: [1, 2, 2, 2] };

test("score-cam 'confidence-increase': every weight <= 0 gives a blank map with a warning saying why", async () => {
  await using ex = await Explainer.create(model);
  // Masked by H: m = (1/2, 1), z_0 - z_1 = 0.25 - 3 + 0.5 = -2.25 for both channels, against
  // 0.5 for the black image: p_0 drops, so both weights are sigmoid(-2.25) - sigmoid(0.5) < 0.
  const [paper] = await ex.explain(x, 'score-cam', { target: 0, targetLayers: ['A'], weighting: 'confidence-increase' });
  assert.ok(paper!.raw.every((v) => v === 0));
  assert.equal(paper!.warnings?.length, 1);
  assert.match(paper!.warnings![0]!, /score-cam map at layer 'A' is zero everywhere after ReLU: every channel weight is <= 0/);
  // The softmax weights are positive: a map, no warning (equal weights 1/2, since both masks are the same).
  const [softmax] = await ex.explain(x, 'score-cam', { target: 0, targetLayers: ['A'] });
  assert.deepEqual(Array.from(softmax!.raw), [0.5, 1.5, 0.5, 1.5]);
  assert.equal(softmax!.warnings, undefined);
});

test('a blank ablation-cam map carries a warning', async () => {
  await using ex = await Explainer.create(model);
  // A_0 = 0, A_1 = [0, 0.5, 0.5, 0]: class 0 scores z_0 = -m_1 + 0.5 = 0.25; zeroing channel 1
  // raises it to 0.5, so w_1 = (0.25 - 0.5) / 0.25 = -1 (w_0 = 0): the map -A_1 is blank.
  const dark: Tensor = { data: Float32Array.from([-1, -1, -1, -1, 0, 0.5, 0.5, 0]), dims: [1, 2, 2, 2] };
  const [blank] = await ex.explain(dark, 'ablation-cam', { target: 0, targetLayers: ['A'] });
  assert.ok(blank!.raw.every((v) => v === 0));
  assert.match(blank!.warnings?.[0] ?? '', /ablation-cam map at layer 'A' is zero everywhere after ReLU/);
  // Class 1 (z_1 = 2 m_1 = 0.5): zeroing channel 1 loses all of it, w_1 = 1: the map A_1, no warning.
  const [one] = await ex.explain(dark, 'ablation-cam', { target: 1, targetLayers: ['A'] });
  assert.deepEqual(Array.from(one!.raw), [0, 0.5, 0.5, 0]);
  assert.equal(one!.warnings, undefined);
});
