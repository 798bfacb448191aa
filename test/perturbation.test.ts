/**
 * Perturbation methods (occlusion, occlusion-probability, RISE) and the forward-only CAMs
 * (Score-CAM, Ablation-CAM): literal maps on hand-built models, agreement with Captum and
 * pytorch-grad-cam (fixtures/reference), and properties.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readModelFile } from '../src/model/file.ts';
import type { ModelProto, NodeProto } from '../src/model/onnx-proto.ts';
import { Explainer } from '../src/methods/explainer.ts';
import { occlusionMask } from '../src/methods/perturbation/occlusion.ts';
import { applyMask } from '../src/methods/perturbation/base.ts';
import { resizeAlignCorners } from '../src/methods/cam/score-cam.ts';
import type { Tensor } from '../src/runtime/session.ts';
import { Rng } from '../src/runtime/rng.ts';
import { fixture, pearson, readNpy, relativeL2 } from './helpers.ts';

const f32 = (name: string, dims: number[], v: ArrayLike<number>) => ({ name, dataType: 1, dims, rawData: new Uint8Array(Float32Array.from(v).buffer) });
const vi = (name: string, dims: number[]) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });

function model(node: NodeProto[], initializer: ReturnType<typeof f32>[], input: number[], output: number[]): ModelProto {
  return { irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph: { name: 'hand', node, initializer, input: [vi('x', input)], output: [vi('logits', output)] } };
}

const close = (actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5) => {
  assert.equal(actual.length, expected.length);
  Array.from(expected).forEach((e, i) => assert.ok(Math.abs(actual[i]! - e) <= tol * Math.max(1, Math.abs(e)), `index ${i}: ${actual[i]} vs ${e}`));
};
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/**
 * logits = [sum_q w_q x_q, 0] over a 1x1x4x4 image x = 1..16 (row-major), w_q = (q mod 3) - 1:
 *   w = [-1 0 1 -1; 0 1 -1 0; 1 -1 0 1; -1 0 1 -1],  w * x = [-1 0 3 -4; 0 6 -7 0; 9 -10 0 12; -13 0 15 -16],
 * so S(x) = -6 and occluding a window W with baseline b drops the score by sum_W w_q (x_q - b).
 */
const linear = model(
  [
    { name: 'flatten', opType: 'Flatten', input: ['x'], output: ['f'] },
    { name: 'fc', opType: 'Gemm', input: ['f', 'W'], output: ['logits'] },
  ],
  [f32('W', [16, 2], Array.from({ length: 32 }, (_, i) => (i % 2 === 0 ? ((i / 2) % 3) - 1 : 0)))],
  [1, 1, 4, 4],
  [1, 2],
);
const linearInput: Tensor = { data: Float32Array.from({ length: 16 }, (_, i) => i + 1), dims: [1, 1, 4, 4] };

test('occlusion equals the hand-computed drops of a linear model', async () => {
  await using ex = await Explainer.create(linear);
  const raw = async (options: Record<string, unknown>) => (await ex.explain(linearInput, 'occlusion', { target: 0, ...options }))[0]!.raw;
  // Window 2, stride 2: four disjoint windows with drops 5, -8 (top), -14, 11 (bottom).
  close(await raw({ window: 2, stride: 2, baseline: 0 }), [5, 5, -8, -8, 5, 5, -8, -8, -14, -14, 11, 11, -14, -14, 11, 11]);
  // Baseline 1: each drop loses sum_W w_q (0, 1, 1, -1 per window).
  close(await raw({ window: 2, stride: 2, baseline: 1 }), [5, 5, -7, -7, 5, 5, -7, -7, -13, -13, 10, 10, -13, -13, 10, 10]);
  // Window 3, stride 2: starts 0 and 2 (the second clipped to 2 pixels); drops [[0, 4], [1, 11]];
  // row and column 2 are covered twice and get the mean, e.g. pixel (2, 2): (0 + 4 + 1 + 11) / 4.
  close(await raw({ window: 3, stride: 2, baseline: 0 }), [0, 0, 2, 4, 0, 0, 2, 4, 0.5, 0.5, 4, 7.5, 1, 1, 6, 11]);
});

test('occlusion-probability is the class probability per window position; occlusionMask marks the windows below a threshold', async () => {
  await using ex = await Explainer.create(linear);
  const [e] = await ex.explain(linearInput, 'occlusion-probability', { target: 0, window: 2, stride: 2, baseline: 0 });
  // p_0 = sigmoid(z_0 - z_1) = sigmoid(-6 - drop).
  assert.deepEqual(e!.rawDims, [2, 2]);
  close(e!.raw, [-11, 2, 8, -17].map(sigmoid), 1e-6);
  close([e!.extras!['probability']!], [sigmoid(-6)], 1e-6);
  // Below 0.5: the top-left and bottom-right windows.
  assert.deepEqual(Array.from(occlusionMask(e!, 0.5)), [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1]);
  // Below 0.9: all but the bottom-left window (p = sigmoid(8) > 0.9).
  assert.deepEqual(Array.from(occlusionMask(e!, 0.9)), [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1]);
  assert.throws(() => occlusionMask({ ...e!, extras: {} }, 0.5), /window and stride/);
});

test('occlusion is exactly zero where the model does not look', async () => {
  // x [1, 1, 8, 8] * M (columns 4..7 zeroed) -> Relu -> Gemm with random weights.
  const rng = new Rng(5);
  const M = Array.from({ length: 64 }, (_, i) => (i % 8 < 4 ? 1 : 0));
  const ignoring = model(
    [
      { name: 'mask', opType: 'Mul', input: ['x', 'M'], output: ['m'] },
      { name: 'relu', opType: 'Relu', input: ['m'], output: ['r'] },
      { name: 'flatten', opType: 'Flatten', input: ['r'], output: ['f'] },
      { name: 'fc', opType: 'Gemm', input: ['f', 'W'], output: ['logits'] },
    ],
    [f32('M', [1, 1, 8, 8], M), f32('W', [64, 3], rng.normals(192))],
    [1, 1, 8, 8],
    [1, 3],
  );
  await using ex = await Explainer.create(ignoring);
  const x: Tensor = { data: rng.uniforms(64, 0.2, 1), dims: [1, 1, 8, 8] };
  const [e] = await ex.explain(x, 'occlusion', { target: 1, window: 2, stride: 1, baseline: 0 });
  for (let y = 0; y < 8; y++) {
    // Every 2-wide window covering column >= 5 starts at column >= 4: it hides nothing the model sees.
    for (let c = 5; c < 8; c++) assert.equal(e!.raw[y * 8 + c], 0, `pixel (${y}, ${c})`);
    // Where the model looks (all inputs positive, so every occlusion changes the score), it is not.
    for (let c = 0; c < 4; c++) assert.notEqual(e!.raw[y * 8 + c], 0, `pixel (${y}, ${c})`);
  }
});

/**
 * x [1, 2, 2, 2] -> A = op(x) (the layer) -> GAP -> Flatten -> Gemm(W, transB) + b -> logits [1, 2],
 * W = [[1, -1], [0.5, 2]], b = [0.5, 0]: z_c = sum_k W[c, k] mean(A_k) + b_c.
 */
function gapModel(op: 'Relu' | 'Identity'): ModelProto {
  return model(
    [
      { name: 'layer', opType: op, input: ['x'], output: ['A'] },
      { name: 'gap', opType: 'GlobalAveragePool', input: ['A'], output: ['P'] },
      { name: 'flatten', opType: 'Flatten', input: ['P'], output: ['F'] },
      { name: 'fc', opType: 'Gemm', input: ['F', 'W', 'b'], output: ['logits'], attribute: [{ name: 'transB', type: 2, i: 1 }] },
    ],
    [f32('W', [2, 2], [1, -1, 0.5, 2]), f32('b', [2], [0.5, 0])],
    [1, 2, 2, 2],
    [1, 2],
  );
}
// A_0 = [1, 2, 3, 4], A_1 = [2, 1, 1, 0] (row-major 2x2): means 2.5 and 1.
const gapInput: Tensor = { data: Float32Array.from([1, 2, 3, 4, 2, 1, 1, 0]), dims: [1, 2, 2, 2] };

test('ablation-cam weights are the relative score drops of a GAP -> Gemm head', async () => {
  await using ex = await Explainer.create(gapModel('Relu'));
  const [e] = await ex.explain(gapInput, 'ablation-cam', { target: 0, targetLayers: ['A'] });
  // y = 2.5 - 1 + 0.5 = 2; without A_0: y^0 = -0.5, w_0 = 2.5 / 2; without A_1: y^1 = 3, w_1 = -1 / 2.
  // 1.25 A_0 - 0.5 A_1 = [0.25, 2, 3.25, 5].
  close(e!.raw, [0.25, 2, 3.25, 5]);
});

test("ablation-cam 'pytorch-grad-cam' ablates a layer with negative values at min - (k mod 32 + 1) * 1e7", async () => {
  await using ex = await Explainer.create(gapModel('Identity'));
  // A_0 = [1, 2, 3, 4], A_1 = [-1, 0, 0, 1]: min -1, means 2.5 and 0, y = 2.5 + 0.5 = 3.
  const x: Tensor = { data: Float32Array.from([1, 2, 3, 4, -1, 0, 0, 1]), dims: [1, 2, 2, 2] };
  const raw = async (ablation: string) => (await ex.explain(x, 'ablation-cam', { target: 0, targetLayers: ['A'], ablation }))[0]!.raw;
  // Channel 0 set to -1 - 1e7: y^0 = -1e7 - 0.5, w_0 = (1e7 + 3.5) / 3.
  // Channel 1 set to -1 - 2e7: y^1 = 2e7 + 4, w_1 = -(2e7 + 1) / 3.
  const [w0, w1] = [(1e7 + 3.5) / 3, -(2e7 + 1) / 3];
  close(await raw('pytorch-grad-cam'), [1, 2, 3, 4].map((a0, p) => a0 * w0 + [-1, 0, 0, 1][p]! * w1), 1e-5);
  // The paper's zero: y^0 = 0.5, w_0 = 2.5 / 3; y^1 = y, w_1 = 0.
  close(await raw('zero'), [1, 2, 3, 4].map((a0) => (a0 * 2.5) / 3));
});

test('score-cam: both weightings equal their hand-computed values', async () => {
  await using ex = await Explainer.create(gapModel('Relu'));
  // H_0 = [0, 1/3, 2/3, 1] masks x: channel means (5/3, 1/4), z = (23/12, 4/3);
  // H_1 = [1, 1/2, 1/2, 0]: means (7/8, 3/4), z = (5/8, 31/16); the zero image: z = (1/2, 0).
  const A0 = [1, 2, 3, 4];
  const A1 = [2, 1, 1, 0];
  const combine = (w0: number, w1: number) => A0.map((a, p) => Math.max(0, w0 * a + w1 * A1[p]!));
  const raw = async (target: number, weighting: string) => (await ex.explain(gapInput, 'score-cam', { target, targetLayers: ['A'], weighting }))[0]!.raw;
  // pytorch-grad-cam: softmax over channels of the class-0 logits (23/12, 5/8).
  const e0 = Math.exp(23 / 12);
  const e1 = Math.exp(5 / 8);
  close(await raw(0, 'channel-softmax'), combine(e0 / (e0 + e1), e1 / (e0 + e1)));
  // The paper, class 1: p_1 = sigmoid(z_1 - z_0) of each masked input minus that of the zero image.
  const base = sigmoid(-1 / 2);
  close(await raw(1, 'confidence-increase'), combine(sigmoid(4 / 3 - 23 / 12) - base, sigmoid(31 / 16 - 5 / 8) - base));
});

test('align-corners resizing puts the source corners on the output corners', () => {
  close(resizeAlignCorners(Float32Array.from([0, 1]), 1, 2, 1, 4), [0, 1 / 3, 2 / 3, 1]);
  close(resizeAlignCorners(Float32Array.from([0, 1, 2, 3]), 2, 2, 3, 3), [0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3]);
});

test('a [H, W] mask multiplies every channel, in either layout', () => {
  const nchw = Float32Array.from([1, 2, 3, 4]); // [C=2, H=1, W=2]
  applyMask(nchw, [0.5, 2], { layout: 'nchw', channels: 2, height: 1, width: 2 });
  assert.deepEqual(Array.from(nchw), [0.5, 4, 1.5, 8]);
  const nhwc = Float32Array.from([1, 2, 3, 4]); // [H=1, W=2, C=2]
  applyMask(nhwc, [0.5, 2], { layout: 'nhwc', channels: 2, height: 1, width: 2 });
  assert.deepEqual(Array.from(nhwc), [0.5, 1, 6, 8]);
});

test('rise: keep = 1 gives the probability everywhere; seeded, batch-independent, seed-dependent', async () => {
  await using ex = await Explainer.create(linear);
  // Every mask is all ones: sum_i P(x) / (N * 1) = P(x) = sigmoid(-6).
  const [all] = await ex.explain(linearInput, 'rise', { target: 0, masks: 10, keep: 1 });
  close(all!.raw, new Array<number>(16).fill(sigmoid(-6)), 1e-6);
  // A black image scores p = 1/2 under every mask: S(p) = 1/2 sum_i M_i(p) / (N keep), whose
  // expectation is 1/2 (E[M] = keep); 2000 masks average within a few percent.
  const [black] = await ex.explain({ data: new Float32Array(16), dims: [1, 1, 4, 4] }, 'rise', { target: 0, keep: 0.3 });
  const mean = black!.raw.reduce((s, v) => s + v, 0) / 16;
  assert.ok(Math.abs(mean - 0.5) < 0.02, `mean saliency ${mean}`);
  assert.ok(black!.raw.every((v) => Math.abs(v - 0.5) < 0.1), 'every pixel near 1/2');
  const run = async (images: Tensor, seed: number) => ex.explain(images, 'rise', { target: 0, masks: 100, cells: 2, seed });
  const [a] = await run(linearInput, 0);
  const [b] = await run(linearInput, 0);
  const [c] = await run(linearInput, 1);
  assert.deepEqual(Array.from(a!.raw), Array.from(b!.raw));
  assert.ok(relativeL2(c!.raw, a!.raw) > 1e-3, 'another seed draws other masks');
  // Masks that hide the heavy negative-weight pixels raise p_0: the map is not flat.
  assert.ok(Math.max(...a!.raw) - Math.min(...a!.raw) > 1e-3);
  const other = linearInput.data.map((v) => 17 - v);
  const [, second] = await run({ data: Float32Array.from([...linearInput.data, ...other]), dims: [2, 1, 4, 4] }, 0);
  const [alone] = await run({ data: other, dims: [1, 1, 4, 4] }, 0);
  close(second!.raw, alone!.raw, 1e-6);
});

const cases = ['tiny-vgg', 'alexnetish', 'dense-se'];
for (const name of cases) {
  const dir = fixture(`reference/${name}`);
  const meta = JSON.parse(readFileSync(`${dir}/meta.json`, 'utf8')) as { target: number; layer: string; occlusion: { window: number; stride: number; baseline: number } };
  const explain = async (method: string, options: Record<string, unknown>) => {
    await using ex = await Explainer.create(readModelFile(`${dir}/model.onnx`));
    return (await ex.explain(readNpy(`${dir}/input.npy`), method, { target: meta.target, targetLayers: [meta.layer], ...options }))[0]!;
  };

  test(`${name}: occlusion matches Captum's raw map`, async () => {
    const e = await explain('occlusion', meta.occlusion);
    const ref = readNpy(`${dir}/ref.occlusion.npy`).data;
    const r = pearson(e.raw, ref);
    assert.ok(r >= 0.95, `pearson ${r}`);
    assert.ok(relativeL2(e.raw, ref) < 1e-3, 'same scale: the mean logit drop');
  });

  test(`${name}: score-cam 'channel-softmax' matches pytorch-grad-cam`, async () => {
    const e = await explain('score-cam', { weighting: 'channel-softmax' });
    const r = pearson(e.values, readNpy(`${dir}/ref.score-cam.npy`).data);
    assert.ok(r >= 0.97, `pearson ${r}`);
  });

  test(`${name}: ablation-cam 'pytorch-grad-cam' matches pytorch-grad-cam`, async () => {
    const e = await explain('ablation-cam', { ablation: 'pytorch-grad-cam' });
    const ref = readNpy(`${dir}/ref.ablation-cam.npy`).data;
    if (ref.every((v) => v === 0)) {
      // alexnetish: every ablation weight combination is negative, so ReLU leaves nothing.
      assert.ok(e.raw.every((v) => v === 0), 'an all-zero map like the reference');
      assert.match(e.warnings?.[0] ?? '', /ablation-cam map at layer .* is zero everywhere after ReLU/, 'and a warning saying so');
      return;
    }
    const r = pearson(e.values, ref);
    assert.ok(r >= 0.97, `pearson ${r}`);
  });
}

test('perturbation methods report progress over the whole method: rising, several steps, ending at 1, in every row', async () => {
  await using explainer = await Explainer.create(readModelFile(fixture('reference/tiny-vgg/model.onnx')));
  const rng = new Rng(21);
  const images = { data: Float32Array.from({ length: 2 * 3 * 32 * 32 }, () => rng.normal()), dims: [2, 3, 32, 32] };
  for (const [method, options, least] of [
    ['occlusion', { window: 4, stride: 2 }, 8],
    ['rise', { masks: 200 }, 4],
    ['score-cam', {}, 2],
    ['ablation-cam', {}, 2],
  ] as const) {
    const seen: number[] = [];
    await explainer.explain(images, method, { ...options, batchSize: 8 }, { onProgress: (f) => seen.push(f) });
    assert.ok(seen.length >= least, `${method}: ${seen.length} reports`);
    seen.forEach((f, i) => assert.ok(f > 0 && f <= 1 && (i === 0 || f >= seen[i - 1]!), `${method} rises within (0, 1]: ${seen.join(', ')}`));
    assert.equal(seen.at(-1), 1, `${method} ends at 1`);
    // Half-way through means the first image is done, not that one call of many ended.
    assert.ok(seen.filter((f) => f <= 0.5).length >= least / 2, `${method}: ${seen.join(', ')}`);
  }
});
