/**
 * Grad-CAM element-wise, Finer-CAM and FullGrad against values computed here, independently
 * of convlens, by a plain-loop forward and backward pass (float64) of a tiny CNN:
 *
 *   x [1, 3, 3, 3] -> Conv 1x1 (no bias) -> BatchNormalization -> z1 -> Relu -> a1
 *     -> Conv 2x2 + bias -> z2 [1, 2, 2, 2] -> Relu -> a2 -> GlobalAveragePool -> Flatten
 *     -> Gemm (transB) + bias -> logits [1, 3]
 *
 * Also: Eigen-CAM claims no class, and Score-CAM warns instead of returning a silently
 * blank map.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelProto, NodeProto } from '../src/model/onnx-proto.ts';
import { Explainer } from '../src/methods/explainer.ts';
import { biasLayers } from '../src/methods/cam/full-grad.ts';
import { finerTarget, mostSimilarClasses } from '../src/methods/cam/finer-cam.ts';
import type { Tensor } from '../src/runtime/session.ts';
import { floatInitializer as f32, valueInfo as vi } from './helpers.ts';

const X = [1, -2, 3, 0.5, 2, -1, -0.5, 1.5, 2.5, 0.5, 1, -1, 2, -1.5, 0.5, 1, -2, 0.25, -1, 0.5, 2, -0.5, 1, 1.5, -2, 0.75, 0.3];
const W1 = [1, -0.5, 0.3, -0.75, 1.25, -0.4]; // [k, c]
const BN = { gamma: [1.5, 0.8], beta: [0.2, -0.3], mean: [0.1, -0.2], variance: [0.5, 2.0], eps: 1e-5 };
// [k, c, dy, dx]
const W2 = [0.5, -0.25, 1, 0.3, -0.4, 0.6, 0.2, -0.1, -0.3, 0.8, 0.1, 0.5, 0.7, -0.2, -0.6, 0.9];
const B2 = [-3.6, -1.5];
const WF = [1.2, -0.7, 0.4, 0.9, -0.5, 1.1]; // [class, k]
const BF = [0.05, -0.1, 0.2];

const model: ModelProto = (() => {
  const node: NodeProto[] = [
    { name: 'conv1', opType: 'Conv', input: ['x', 'W1'], output: ['c1'] },
    { name: 'bn', opType: 'BatchNormalization', input: ['c1', 'gamma', 'beta', 'mean', 'variance'], output: ['z1'], attribute: [{ name: 'epsilon', type: 1, f: BN.eps }] },
    { name: 'relu1', opType: 'Relu', input: ['z1'], output: ['a1'] },
    { name: 'conv2', opType: 'Conv', input: ['a1', 'W2', 'B2'], output: ['z2'] },
    { name: 'relu2', opType: 'Relu', input: ['z2'], output: ['a2'] },
    { name: 'gap', opType: 'GlobalAveragePool', input: ['a2'], output: ['P'] },
    { name: 'flatten', opType: 'Flatten', input: ['P'], output: ['F'] },
    { name: 'fc', opType: 'Gemm', input: ['F', 'WF', 'BF'], output: ['logits'], attribute: [{ name: 'transB', type: 2, i: 1 }] },
  ];
  const initializer = [
    f32('W1', [2, 3, 1, 1], W1),
    f32('gamma', [2], BN.gamma),
    f32('beta', [2], BN.beta),
    f32('mean', [2], BN.mean),
    f32('variance', [2], BN.variance),
    f32('W2', [2, 2, 2, 2], W2),
    f32('B2', [2], B2),
    f32('WF', [3, 2], WF),
    f32('BF', [3], BF),
  ];
  return { irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph: { name: 'tiny', node, initializer, input: [vi('x', [1, 3, 3, 3])], output: [vi('logits', [1, 3])] } };
})();
const input: Tensor = { data: Float32Array.from(X), dims: [1, 3, 3, 3] };

/** The network above in float64 plain loops; `b2` and `bf` may be perturbed (finite differences). */
function forward(b2 = B2) {
  const z1 = new Float64Array(18);
  for (let k = 0; k < 2; k++) {
    const f = BN.gamma[k]! / Math.sqrt(BN.variance[k]! + BN.eps);
    for (let p = 0; p < 9; p++) {
      let c = 0;
      for (let ci = 0; ci < 3; ci++) c += W1[k * 3 + ci]! * X[ci * 9 + p]!;
      z1[k * 9 + p] = f * (c - BN.mean[k]!) + BN.beta[k]!;
    }
  }
  const a1 = z1.map((v) => Math.max(v, 0));
  const z2 = new Float64Array(8);
  for (let k = 0; k < 2; k++)
    for (let y = 0; y < 2; y++)
      for (let x = 0; x < 2; x++) {
        let s = b2[k]!;
        for (let ci = 0; ci < 2; ci++) for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) s += W2[((k * 2 + ci) * 2 + dy) * 2 + dx]! * a1[ci * 9 + (y + dy) * 3 + x + dx]!;
        z2[k * 4 + y * 2 + x] = s;
      }
  const a2 = z2.map((v) => Math.max(v, 0));
  const pooled = [0, 1].map((k) => (a2[k * 4]! + a2[k * 4 + 1]! + a2[k * 4 + 2]! + a2[k * 4 + 3]!) / 4);
  const logits = [0, 1, 2].map((c) => BF[c]! + WF[c * 2]! * pooled[0]! + WF[c * 2 + 1]! * pooled[1]!);
  return { z1, a1, z2, a2, logits };
}

/** Gradients of sum_c seed_c logits_c with respect to z1, a1, z2, a2 and x (chain rule by hand). */
function backward(seed: readonly number[]) {
  const { z1, z2 } = forward();
  const dPooled = [0, 1].map((k) => seed.reduce((s, v, c) => s + v * WF[c * 2 + k]!, 0));
  const da2 = Float64Array.from({ length: 8 }, (_, i) => dPooled[Math.floor(i / 4)]! / 4);
  const dz2 = da2.map((g, i) => (z2[i]! > 0 ? g : 0));
  const da1 = new Float64Array(18);
  for (let k = 0; k < 2; k++)
    for (let y = 0; y < 2; y++)
      for (let x = 0; x < 2; x++)
        for (let ci = 0; ci < 2; ci++)
          for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) da1[ci * 9 + (y + dy) * 3 + x + dx] = da1[ci * 9 + (y + dy) * 3 + x + dx]! + dz2[k * 4 + y * 2 + x]! * W2[((k * 2 + ci) * 2 + dy) * 2 + dx]!;
  const dz1 = da1.map((g, i) => (z1[i]! > 0 ? g : 0));
  const dx = new Float64Array(27);
  for (let k = 0; k < 2; k++) {
    const f = BN.gamma[k]! / Math.sqrt(BN.variance[k]! + BN.eps);
    for (let ci = 0; ci < 3; ci++) for (let p = 0; p < 9; p++) dx[ci * 9 + p] = dx[ci * 9 + p]! + dz1[k * 9 + p]! * f * W1[k * 3 + ci]!;
  }
  return { dz1, da1, dz2, da2, dx };
}

const oneHotSeed = (c: number) => [0, 1, 2].map((i) => (i === c ? 1 : 0));

const close = (actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-4) => {
  assert.equal(actual.length, expected.length);
  Array.from(expected).forEach((e, i) => assert.ok(Math.abs(actual[i]! - e) <= tol * Math.max(1, Math.abs(e)), `index ${i}: ${actual[i]} vs ${e}`));
};

/** pytorch-grad-cam's per-map scaling: (v - min) / (max - min + 1e-7). */
const scale = (v: readonly number[]) => {
  const [lo, hi] = [Math.min(...v), Math.max(...v)];
  return v.map((x) => (x - lo) / (hi - lo + 1e-7));
};

test('the hand-built network is not degenerate (each ReLU passes some values and blocks some)', () => {
  const { z1, z2, logits } = forward();
  for (const z of [z1, z2]) assert.ok(z.some((v) => v > 0) && z.some((v) => v < 0));
  assert.ok(new Set(logits.map((v) => v.toFixed(6))).size === 3, 'distinct logits');
});

test('grad-cam-elementwise = ReLU(sum_k ReLU(g_k A_k)) at a1', async () => {
  await using ex = await Explainer.create(model);
  const [e] = await ex.explain(input, 'grad-cam-elementwise', { target: 2, targetLayers: ['a1'] });
  const { a1 } = forward();
  const { da1 } = backward(oneHotSeed(2));
  const expected = Array.from({ length: 9 }, (_, p) => Math.max(da1[p]! * a1[p]!, 0) + Math.max(da1[9 + p]! * a1[9 + p]!, 0));
  assert.ok(expected.some((v) => v > 0));
  close(e!.raw, expected);
  assert.equal(e!.class, 2);
});

test('finer-cam = Grad-CAM of pytorch-grad-cam\'s FinerWeightedTarget, its gradient by finite differences', async () => {
  await using ex = await Explainer.create(model);
  const { logits, a2 } = forward();
  const alpha = 0.7;
  const main = 0;
  // The comparison classes: the others, by distance of their logit to the target's.
  const others = [1, 2].sort((a, b) => Math.abs(logits[a]! - logits[main]!) - Math.abs(logits[b]! - logits[main]!));
  // T(y) = sum_j p_j (y_main - alpha y_j) / (sum_j p_j + 1e-9), p = softmax(y).
  const T = (y: number[]) => {
    const e = y.map((v) => Math.exp(v));
    const p = e.map((v) => v / e.reduce((a, b) => a + b, 0));
    return others.reduce((s, j) => s + p[j]! * (y[main]! - alpha * y[j]!), 0) / (others.reduce((s, j) => s + p[j]!, 0) + 1e-9);
  };
  const h = 1e-6;
  const seed = [0, 1, 2].map((i) => (T(logits.map((v, c) => (c === i ? v + h : v))) - T(logits.map((v, c) => (c === i ? v - h : v)))) / (2 * h));
  const analytic = finerTarget(logits, main, others, alpha);
  close(analytic.gradient, seed, 1e-6);
  close([analytic.value], [T(logits)], 1e-12);
  // Grad-CAM at a2 from the gradients of T.
  const { da2 } = backward(seed);
  const w = [0, 1].map((k) => (da2[k * 4]! + da2[k * 4 + 1]! + da2[k * 4 + 2]! + da2[k * 4 + 3]!) / 4);
  const expected = Array.from({ length: 4 }, (_, p) => Math.max(w[0]! * a2[p]! + w[1]! * a2[4 + p]!, 0));
  assert.ok(expected.some((v) => v > 0));
  const [e] = await ex.explain(input, 'finer-cam', { target: main, targetLayers: ['a2'], alpha, comparisons: 2 });
  close(e!.raw, expected);
  assert.deepEqual([e!.extras!['compared1'], e!.extras!['compared2']], others);
  // One comparison: the class whose logit is closest.
  const [one] = await ex.explain(input, 'finer-cam', { target: main, targetLayers: ['a2'], comparisons: 1 });
  assert.equal(one!.extras!['compared1'], others[0]);
  assert.deepEqual(mostSimilarClasses([0, 5, 1, 1], 0, 3), [2, 3, 1]);
  // alpha = 0 with one comparison: T = y_main (up to the 1e-9 stabilizer), so it is Grad-CAM.
  const [plain] = await ex.explain(input, 'finer-cam', { targetLayers: ['a2'], alpha: 0, comparisons: 1 });
  const [gradCam] = await ex.explain(input, 'grad-cam', { targetLayers: ['a2'] });
  close(plain!.raw, gradCam!.raw, 1e-5);
  assert.equal(plain!.class, gradCam!.class);
  // More comparisons than classes: all of them, and a warning says so.
  const [many] = await ex.explain(input, 'finer-cam', { target: main, targetLayers: ['a2'], alpha, comparisons: 5 });
  close(many!.raw, expected);
  assert.match(many!.warnings?.join() ?? '', /compared 2 classes, not 5/);
});

test('finer-cam needs class scores and a class target', async () => {
  await using ex = await Explainer.create(model);
  await assert.rejects(ex.explain(input, 'finer-cam', { target: { weights: { data: Float32Array.from([1, 1, 0]), dims: [1, 3] } }, targetLayers: ['a2'] }), /give the target as a class index/);
});

test('full-grad: |x g| per input channel plus the scaled |b_k dS/dz_k| maps of the BN and the biased conv, upsampled', async () => {
  await using ex = await Explainer.create(model);
  // The bias layers: the BN (bias beta - mean gamma / sqrt(var + eps)) and conv2; conv1 has none.
  const s = await ex.engine.specialize([1, 3, 3, 3]);
  const layers = biasLayers(s.view, s.shapes);
  assert.deepEqual(layers.map((l) => l.tensor), ['z1', 'z2']);
  const bnBias = [0, 1].map((k) => BN.beta[k]! - (BN.mean[k]! * BN.gamma[k]!) / Math.sqrt(BN.variance[k]! + BN.eps));
  close(layers[0]!.bias, bnBias, 1e-6);
  close(layers[1]!.bias, B2, 1e-6);

  const target = 1;
  const { dz1, dz2, dx } = backward(oneHotSeed(target));
  const map = new Array<number>(9).fill(0);
  const add = (v: number[]) => v.forEach((x, p) => (map[p] = map[p]! + x));
  for (let c = 0; c < 3; c++) add(scale(Array.from({ length: 9 }, (_, p) => Math.abs(X[c * 9 + p]! * dx[c * 9 + p]!))));
  for (let k = 0; k < 2; k++) add(scale(Array.from({ length: 9 }, (_, p) => Math.abs(bnBias[k]! * dz1[k * 9 + p]!))));
  // conv2's 2x2 maps, summed, then upsampled to 3x3 with half-pixel centers: source
  // coordinates (o + 0.5) * 2/3 - 0.5 = -1/6, 1/2, 7/6 -> rows/columns [v0, (v0 + v1) / 2, v1].
  const small = [0, 0, 0, 0];
  for (let k = 0; k < 2; k++) scale(Array.from({ length: 4 }, (_, p) => Math.abs(B2[k]! * dz2[k * 4 + p]!))).forEach((v, p) => (small[p] = small[p]! + v));
  const up1 = (a: number, b: number) => [a, (a + b) / 2, b];
  const rows = [up1(small[0]!, small[1]!), up1(small[2]!, small[3]!)];
  add([...rows[0]!, ...rows[0]!.map((v, i) => (v + rows[1]![i]!) / 2), ...rows[1]!]);
  const [e] = await ex.explain(input, 'full-grad', { target });
  assert.deepEqual(e!.rawDims, [3, 3]);
  close(e!.raw, map);
  assert.equal(e!.class, target);
});

test('a bias gradient is the layer-output gradient summed over positions (what full-grad relies on)', async () => {
  await using ex = await Explainer.create(model);
  const res = await ex.engine.run(input, { wrt: ['z2'] }, { data: Float32Array.from([0, 0, 1]), dims: [1, 3] });
  const G = res.gradients['z2']!.data;
  const h = 1e-6;
  for (let k = 0; k < 2; k++) {
    const bump = (d: number) => forward(B2.map((b, i) => (i === k ? b + d : b))).logits[2]!;
    const fd = (bump(h) - bump(-h)) / (2 * h);
    close([G[k * 4]! + G[k * 4 + 1]! + G[k * 4 + 2]! + G[k * 4 + 3]!], [fd], 1e-4);
  }
});

test('eigen-cam claims no class; grad-cam does', async () => {
  await using ex = await Explainer.create(model);
  const [eigen] = await ex.explain(input, 'eigen-cam', { targetLayers: ['a1'] });
  assert.equal(eigen!.class, undefined);
  const [smoothed] = await ex.explain(input, 'eigen-cam', { targetLayers: ['a1'], smooth: 'smoothgrad', samples: 2 });
  assert.equal(smoothed!.class, undefined);
  const [grad] = await ex.explain(input, 'grad-cam', { targetLayers: ['a1'] });
  const { logits } = forward();
  assert.equal(grad!.class, logits.indexOf(Math.max(...logits)));
});
