/**
 * Evaluation metrics (src/metrics): literal values on hand-built models, properties (the
 * true attribution of a linear model beats a random map; randomizing a real model's layers
 * decorrelates its gradient maps), and agreement with an independent computation of the
 * metrics.md definitions on a public reference model (test/fixtures/reference).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readModelFile } from '../src/model/file.ts';
import type { ModelProto } from '../src/model/onnx-proto.ts';
import { readTensorProto } from '../src/model/tensor-data.ts';
import { Explainer } from '../src/methods/explainer.ts';
import { Session } from '../src/runtime/session.ts';
import type { Tensor } from '../src/runtime/session.ts';
import { Rng } from '../src/runtime/rng.ts';
import { loadInputs } from '../src/input/load-input.ts';
import { auc, checkpoints, deletion, insertion } from '../src/metrics/causal.ts';
import { gkern, riseBlur } from '../src/metrics/rise-blur.ts';
import { noisyLinearImpute } from '../src/metrics/imputation.ts';
import { road } from '../src/metrics/road.ts';
import { confidenceChange } from '../src/metrics/confidence.ts';
import { pointingGame } from '../src/metrics/pointing-game.ts';
import { energyPointingGame } from '../src/metrics/energy-pointing-game.ts';
import { boxFromMap, iou, wsolIou } from '../src/metrics/wsol.ts';
import { infidelity } from '../src/metrics/infidelity.ts';
import { maxSensitivity } from '../src/metrics/max-sensitivity.ts';
import { gini, sparseness } from '../src/metrics/sparseness.ts';
import { entropy } from '../src/metrics/complexity.ts';
import { spearman, ssim } from '../src/metrics/similarity.ts';
import { dataRandomization, modelRandomization, randomizableLayers, randomizeLayers } from '../src/metrics/randomization.ts';
import { saliencyMap } from '../src/metrics/common.ts';
import { evaluate } from '../src/metrics/evaluate.ts';
import { fixture, floatInitializer, readNpy, valueInfo } from './helpers.ts';

const close = (actual: number, expected: number, tol = 1e-5, what = '') => assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what} ${actual} vs ${expected}`);
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** logits = [sum_q w_q x_q, 0] over a 1x1xSxS image: a linear score with p_0 = sigmoid(w . x). */
function linearModel(w: ArrayLike<number>, size: number): ModelProto {
  const n = size * size;
  const W = new Float32Array(2 * n);
  for (let q = 0; q < n; q++) W[2 * q] = w[q]!;
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'linear',
      node: [
        { name: 'flatten', opType: 'Flatten', input: ['x'], output: ['f'] },
        { name: 'fc', opType: 'Gemm', input: ['f', 'W'], output: ['logits'] },
      ],
      initializer: [floatInitializer('W', [n, 2], W)],
      input: [valueInfo('x', [1, 1, size, size])],
      output: [valueInfo('logits', [1, 2])],
    },
  };
}

// The 4x4 model of test/perturbation.test.ts: w_q = (q mod 3) - 1, x = 1..16, S(x) = -6,
// w * x = [-1 0 3 -4; 0 6 -7 0; 9 -10 0 12; -13 0 15 -16].
const w4 = Array.from({ length: 16 }, (_, q) => (q % 3) - 1);
const x4: Tensor = { data: Float32Array.from({ length: 16 }, (_, i) => i + 1), dims: [1, 1, 4, 4] };
const contribution4 = Float32Array.from(w4, (w, q) => w * (q + 1));

test('deletion and insertion of a linear model follow the closed form', async () => {
  await using ex = await Explainer.create(linearModel(w4, 4));
  const input = { explainer: ex, images: x4, maps: [contribution4], classes: [0] };
  // Order 15, 12, 9, 6 | 3, 0, 0, 0 | 0, 0, -1, -4 | -7, -10, -13, -16 (4 pixels per step, the width):
  // deletion to 0 leaves S minus the removed contributions: [-6, -48, -51, -46, 0].
  const del = await deletion(input, { score: 'logit' });
  assert.deepEqual(del.fractions, [0, 0.25, 0.5, 0.75, 1]);
  del.curves[0]!.forEach((v, i) => close(v, [-6, -48, -51, -46, 0][i]!));
  close(del.values[0]!, (-151 + 3) / 4);
  // Insertion into 0 adds them: [0, 42, 45, 40, -6], AUC (121 + 3) / 4.
  const ins = await insertion(input, { score: 'logit', substrate: 'zero' });
  close(ins.values[0]!, 31);
  // Probabilities (RISE's default) are p_0 = sigmoid(logit).
  const delP = await deletion(input);
  close(delP.values[0]!, auc([-6, -48, -51, -46, 0].map(sigmoid)), 1e-6);
  // Xplique's checkpoints: floor(linspace(0, floor(16 * 0.5), 3)) = 0, 4, 8.
  assert.deepEqual(checkpoints(16, { steps: 2, maxFraction: 0.5 }, 4), [0, 4, 8]);
  assert.deepEqual(checkpoints(10, { step: 4 }, 4), [0, 4, 8, 10]);
  close(auc([1, 0]), 0.5);
});

test('the RISE blur kernel is scipy gaussian_filter(delta, 5) on 11x11 (metrics.md: 0.00774 .. 0.00883)', () => {
  const k = gkern();
  close(Math.min(...k), 0.00774, 1e-3);
  close(Math.max(...k), 0.00883, 1e-3);
  close(k.reduce((a, b) => a + b, 0), 1, 1e-9);
  // Blurring a centred delta in an 11x11 image reproduces the kernel (conv2d, padding 5).
  const delta = new Float32Array(121);
  delta[60] = 1;
  const out = riseBlur(delta, { layout: 'nchw', channels: 1, height: 11, width: 11 });
  out.forEach((v, i) => close(v, k[i]!, 1e-6));
  // A constant image darkens at the borders by the kernel mass outside (zero padding).
  const ones = riseBlur(new Float32Array(121).fill(1), { layout: 'nchw', channels: 1, height: 11, width: 11 });
  close(ones[60]!, 1, 1e-6);
  let corner = 0;
  for (let y = 5; y < 11; y++) for (let x = 5; x < 11; x++) corner += k[y * 11 + x]!;
  close(ones[0]!, corner, 1e-6);
});

test('a random map scores worse than the true attribution of a linear model (deletion, insertion, infidelity)', async () => {
  const rng = new Rng(3);
  const w = rng.normals(64, 0, 0.2);
  const x: Tensor = { data: rng.uniforms(64, 0, 1), dims: [1, 1, 8, 8] };
  await using ex = await Explainer.create(linearModel(w, 8));
  const truth = Float32Array.from(w, (v, i) => v * x.data[i]!);
  const random = rng.normals(64);
  const run = async (map: Float32Array) => ({
    del: (await deletion({ explainer: ex, images: x, maps: [map], classes: [0] }, { step: 1, score: 'logit' })).values[0]!,
    ins: (await insertion({ explainer: ex, images: x, maps: [map], classes: [0] }, { step: 1, score: 'logit', substrate: 'zero' })).values[0]!,
  });
  const [t, r] = [await run(truth), await run(random)];
  assert.ok(t.del < r.del - 0.1, `deletion ${t.del} vs random ${r.del}`);
  assert.ok(t.ins > r.ins + 0.1, `insertion ${t.ins} vs random ${r.ins}`);
  // The gradient w is exact for a linear score: infidelity 0 (float rounding); a random map is not.
  const infid = async (phi: Float32Array) => (await infidelity({ explainer: ex, images: x, attributions: [phi], classes: [0] }, { noise: 0.1 }))[0]!;
  const [it, ir] = [await infid(w), await infid(random)];
  assert.ok(it < 1e-8, `infidelity of the gradient ${it}`);
  assert.ok(ir > 1e-3, `infidelity of a random map ${ir}`);
});

test('infidelity: beta scaling removes the map scale; without it, 2w and 0 both miss by (w . I)^2', async () => {
  await using ex = await Explainer.create(linearModel(w4, 4));
  const base = { explainer: ex, images: x4, classes: [0] };
  const w = Float32Array.from(w4);
  const twice = w.map((v) => 2 * v);
  const plain = { normalize: false, noise: 0.1, seed: 4 };
  const a = (await infidelity({ ...base, attributions: [twice] }, plain))[0]!;
  const b = (await infidelity({ ...base, attributions: [new Float32Array(16)] }, plain))[0]!;
  close(a, b, 1e-3);
  assert.ok(a > 1e-3);
  assert.ok((await infidelity({ ...base, attributions: [twice] }, { noise: 0.1, seed: 4 }))[0]! < 1e-8);
});

test('noisy linear imputation: a removed pixel is the weighted mean of its 8 neighbours; two removed pixels solve the 2x2 system', () => {
  const g = { layout: 'nchw' as const, channels: 1, height: 3, width: 3 };
  const img = Float32Array.from([1, 2, 3, 4, 100, 6, 7, 8, 9]);
  const removed = new Uint8Array(9);
  removed[4] = 1;
  noisyLinearImpute(img, removed, g, 0, new Rng(0));
  // (2 + 4 + 6 + 8) / 6 + (1 + 3 + 7 + 9) / 12 = 20/6 + 20/12 = 5.
  close(img[4]!, 5, 1e-6);
  // Corner pixel 0 removed with pixel 1: in-image weights 1/6 + 1/6 + 1/12 = 5/12 for pixel 0,
  // 1/6 * 3 + 1/12 * 2 = 2/3 for pixel 1. With a = x0, b = x1 and the rest v:
  //   (5/12) a - (1/6) b = (1/6) v3 + (1/12) v4;   (2/3) b - (1/6) a = (1/6)(v2 + v4) + (1/12)(v3 + v5).
  const v = [0, 0, 3, 4, 5, 6, 7, 8, 9];
  const img2 = Float32Array.from(v);
  const r2 = new Uint8Array(9);
  r2[0] = r2[1] = 1;
  noisyLinearImpute(img2, r2, g, 0, new Rng(0));
  const [c0, c1] = [v[3]! / 6 + v[4]! / 12, (v[2]! + v[4]!) / 6 + (v[3]! + v[5]!) / 12];
  const det = (5 / 12) * (2 / 3) - (1 / 6) * (1 / 6);
  close(img2[0]!, (c0 * (2 / 3) + (1 / 6) * c1) / det, 1e-5);
  close(img2[1]!, ((5 / 12) * c1 + (1 / 6) * c0) / det, 1e-5);
  // Noise is added to imputed values only, with the given standard deviation.
  const big = { layout: 'nchw' as const, channels: 1, height: 40, width: 40 };
  const flat = new Float32Array(1600).fill(2);
  const rm = new Uint8Array(1600).map((_, i) => (i % 2 === 0 ? 1 : 0));
  noisyLinearImpute(flat, rm, big, 0.5, new Rng(1));
  const imputed = Array.from(flat).filter((_, i) => i % 2 === 0);
  const mean = imputed.reduce((a, b) => a + b, 0) / imputed.length;
  const std = Math.sqrt(imputed.reduce((a, b) => a + (b - mean) ** 2, 0) / imputed.length);
  close(mean, 2, 0.05);
  close(std, 0.5, 0.1);
  assert.ok(Array.from(flat).every((v2, i) => i % 2 === 0 || v2 === 2));
});

test('ROAD of a linear model: score changes equal w . (imputed - x); combined is (mean LeRF - mean MoRF) / 2', async () => {
  await using ex = await Explainer.create(linearModel(w4, 4));
  // The contributions with the zeros at 1, 4, 7, 10, 13 made distinct (0.4 .. 2): no ties,
  // whatever the 1e-4 tie-breaking noise draws.
  const map = contribution4.map((v, q) => (v === 0 ? 2 - 0.1 * q : v));
  const r = await road({ explainer: ex, images: x4, maps: [map], classes: [0] }, { score: 'logit', noise: 0, fractions: [0.25, 0.5] });
  // The expected change on the same masks, with the imputer checked by hand above.
  const order = [14, 11, 8, 5, 2, 1, 4, 7, 10, 13, 0, 3, 6, 9, 12, 15];
  const change = (removedPixels: number[]) => {
    const img = Float32Array.from(x4.data);
    const m = new Uint8Array(16);
    removedPixels.forEach((p) => (m[p] = 1));
    noisyLinearImpute(img, m, { layout: 'nchw', channels: 1, height: 4, width: 4 }, 0, new Rng(0));
    return w4.reduce((a, w, q) => a + w * (img[q]! - x4.data[q]!), 0);
  };
  const morf = [change(order.slice(0, 4)), change(order.slice(0, 8))];
  const lerf = [change(order.slice(12)), change(order.slice(8))];
  r.morf[0]!.forEach((v, i) => close(v, morf[i]!, 1e-4, 'morf'));
  r.lerf[0]!.forEach((v, i) => close(v, lerf[i]!, 1e-4, 'lerf'));
  close(r.values[0]!, ((lerf[0]! + lerf[1]!) / 2 - (morf[0]! + morf[1]!) / 2) / 2, 1e-4);
  // Removing the top contributions (15, 12, 9, 6) lowers the score; removing the bottom raises it.
  assert.ok(morf[0]! < 0 && lerf[0]! > 0);
});

test('average drop / increase in confidence / average gain on a linear model', async () => {
  await using ex = await Explainer.create(linearModel(w4, 4));
  // Map 1 where w * x > 0 (3, 6, 9, 12, 15), else 0: E keeps those pixels, O = sigmoid(45).
  const keep = contribution4.map((v) => (v > 0 ? 1 : 0));
  const r = await confidenceChange({ explainer: ex, images: x4, maps: [keep], classes: [0] });
  const [y, o] = [sigmoid(-6), sigmoid(45)];
  close(r.base[0]!, y, 1e-6);
  close(r.masked[0]!, o, 1e-6);
  assert.equal(r.drop[0], 0);
  assert.equal(r.increase[0], 1);
  close(r.gain[0]!, (o - y) / (1 - y), 1e-6);
  // The complement keeps only negative contributions: O = sigmoid(-51), drop (Y - O) / Y.
  const r2 = await confidenceChange({ explainer: ex, images: x4, maps: [keep.map((v) => 1 - v)], classes: [0] });
  close(r2.drop[0]!, (y - sigmoid(-51)) / y, 1e-5);
  assert.equal(r2.increase[0], 0);
  assert.equal(r2.gain[0], 0);
});

test('pointing game and energy pointing game: a map that is the box hits with energy 1', () => {
  const size = { height: 6, width: 8 };
  const box = [2, 1, 5, 4] as const; // x 2..4, y 1..3
  const inBox = new Float32Array(48).map((_, p) => (p % 8 >= 2 && p % 8 < 5 && Math.floor(p / 8) >= 1 && Math.floor(p / 8) < 4 ? 1 : 0));
  assert.deepEqual(pointingGame([inBox], [{ boxes: [box] }], size), [1]);
  assert.deepEqual(energyPointingGame([inBox], [{ boxes: [box] }], size), [1]);
  // Maximum at (y 5, x 7), 2 and 3 px from the box corner (4, 3): 2^2 + 3^2 = 13.
  const far = new Float32Array(48).fill(0.1);
  far[5 * 8 + 7] = 1;
  assert.deepEqual(pointingGame([far], [{ boxes: [box] }], size), [0]);
  assert.deepEqual(pointingGame([far], [{ boxes: [box] }], size, { tolerance: 4 }), [1]); // 13 < 16
  assert.deepEqual(pointingGame([far], [{ boxes: [box] }], size, { tolerance: Math.sqrt(13) }), [0]); // strict <
  // Energy: 9 box pixels of 0.1 out of 47 * 0.1 + 1.
  close(energyPointingGame([far], [{ boxes: [box] }], size)[0]!, 0.9 / 5.7, 1e-6);
  // A tie for the maximum hits when any tied point is inside (Quantus); a mask works like a box.
  const tie = new Float32Array(48);
  tie[0] = tie[2 * 8 + 3] = 1;
  const mask = new Uint8Array(48);
  mask[2 * 8 + 3] = 1;
  assert.deepEqual(pointingGame([tie], [{ mask }], size), [1]);
  assert.ok(Number.isNaN(pointingGame([tie], [{ mask: new Uint8Array(48) }], size)[0]!));
  assert.throws(() => pointingGame([tie], [{ boxes: [[5, 1, 2, 4]] }], size), /x0 < x1/);
});

test('WSOL: the box of the largest component above 20% of the max, and its IoU', () => {
  const [H, W] = [8, 10];
  const map = new Float32Array(H * W);
  // A 3x4 blob (value 1) at x 1..4, y 2..4, a diagonal-connected pixel at (5, 5), and a
  // separate 2x2 blob (0.5) at x 8..9, y 0..1; background 0.15 (below 0.2).
  map.fill(0.15);
  for (let y = 2; y < 5; y++) for (let x = 1; x < 5; x++) map[y * W + x] = 1;
  map[5 * W + 5] = 0.3;
  for (let y = 0; y < 2; y++) for (let x = 8; x < 10; x++) map[y * W + x] = 0.5;
  assert.deepEqual(boxFromMap(map, H, W), [1, 2, 6, 6]);
  // At 40% the 0.3 pixel drops out.
  assert.deepEqual(boxFromMap(map, H, W, { threshold: 0.4 }), [1, 2, 5, 5]);
  // IoU of [1,2,6,6) (area 20) with [2,2,6,7) (area 20): intersection 4x4 = 16, union 24.
  close(iou([1, 2, 6, 6], [2, 2, 6, 7]), 16 / 24);
  const r = wsolIou([map], [[[2, 2, 6, 7], [8, 0, 10, 2]]], { height: H, width: W });
  close(r.values[0]!, 16 / 24);
  assert.equal(boxFromMap(new Float32Array(4), 2, 2), undefined);
});

test('sparseness (Gini) and complexity (entropy) by hand', () => {
  const n = 50;
  const oneHot = new Float32Array(n);
  oneHot[7] = 3;
  close(gini(oneHot), (n - 1) / n);
  close(gini(new Float32Array(n).fill(2)), 0);
  // Sorted |a| = 1, 2, 3, 4: (-3*1 - 1*2 + 1*3 + 3*4) / (4 * 10) = 0.25; signs do not matter.
  close(gini([4, -1, 3, 2]), 0.25);
  assert.deepEqual(sparseness([Float32Array.from([0, 0, 1])]).map((v) => v.toFixed(6)), [(2 / 3).toFixed(6)]);
  close(entropy(oneHot), 0);
  close(entropy(new Float32Array(n).fill(1)), Math.log(n));
  // p = 1/4, 3/4.
  close(entropy([1, -3]), -(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75)));
  assert.ok(Number.isNaN(gini(new Float32Array(3))) && Number.isNaN(entropy(new Float32Array(3))));
});

test('Spearman (average ranks) and SSIM by hand', () => {
  // Ranks [1, 2.5, 2.5, 4] and [1, 3, 2, 4]: 4.5 / sqrt(4.5 * 5).
  close(spearman([1, 2, 2, 3], [1, 3, 2, 4]), 4.5 / Math.sqrt(22.5));
  close(spearman([1, 2, 3], [30, 20, 10]), -1);
  const rng = new Rng(2);
  const a = rng.uniforms(144, 0, 1);
  close(ssim(a, a, 12, 12), 1, 1e-9);
  // Constant maps a, b: (2ab + C1) / (a^2 + b^2 + C1), the structure terms being C2 / C2.
  const c1 = 1e-4;
  close(ssim(new Float32Array(144).fill(0.2), new Float32Array(144).fill(0.6), 12, 12), (2 * 0.12 + c1) / (0.04 + 0.36 + c1), 1e-6);
});

test('max-sensitivity: the identity explanation has sensitivity max ||d|| / ||x||; a linear model\'s gradient has 0', async () => {
  const x: Tensor = { data: new Rng(8).uniforms(32, 0.5, 1), dims: [2, 1, 4, 4] };
  const seen: Tensor[] = [];
  const identity = async (images: Tensor) => {
    seen.push(images);
    return Array.from({ length: images.dims[0]! }, (_, i) => images.data.slice(i * 16, (i + 1) * 16));
  };
  const r = await maxSensitivity({ images: x, classes: [0, 0], explain: identity }, { radius: 0.1, samples: 5 });
  const perturbed = seen[1]!;
  assert.deepEqual(perturbed.dims, [10, 1, 4, 4]);
  for (let row = 0; row < 2; row++) {
    const xr = x.data.subarray(row * 16, (row + 1) * 16);
    const norm = Math.hypot(...xr);
    let worst = 0;
    for (let k = 0; k < 5; k++) {
      const p = perturbed.data.subarray((row * 5 + k) * 16, (row * 5 + k + 1) * 16);
      assert.ok(p.every((v, j) => Math.abs(v - xr[j]!) <= 0.1 + 1e-6));
      worst = Math.max(worst, Math.hypot(...p.map((v, j) => v - xr[j]!)) / norm);
    }
    close(r[row]!, worst, 1e-5);
  }
  await using ex = await Explainer.create(linearModel(w4, 4));
  const grad = async (images: Tensor, classes: readonly number[]) => (await ex.explain(images, 'gradient', { target: [...classes] })).map((e) => e.raw);
  const s = await maxSensitivity({ images: x4, classes: [0], explain: grad });
  close(s[0]!, 0, 1e-6);
});

test('randomizeLayers rewrites only the chosen initializers, within PyTorch\'s default bound', () => {
  const model = linearModel(w4, 4);
  const layers = randomizableLayers(model);
  assert.deepEqual(layers.map((l) => [l.name, l.op, l.tensors.map((t) => [t.name, t.fanIn])]), [['fc', 'Gemm', [['W', 16]]]]);
  const r = randomizeLayers(model, layers, 3);
  const w = readTensorProto(r.graph!.initializer![0]!).data as Float32Array;
  assert.ok(w.every((v) => Math.abs(v) <= 0.25) && w.some((v, i) => v !== (i % 2 === 0 ? w4[i / 2] : 0)));
  // The original is untouched, and the same seed gives the same weights.
  assert.deepEqual(Array.from(readTensorProto(model.graph!.initializer![0]!).data as Float32Array).filter((_, i) => i % 2 === 0), w4);
  assert.deepEqual(readTensorProto(randomizeLayers(model, layers, 3).graph!.initializer![0]!).data, w);
});

const fashion = async () => {
  const model = readModelFile('models/fashion-mnist/model.onnx');
  const loaded = await loadInputs(['models/fashion-mnist/samples'], [1, 1, 28, 28], { preset: 'unit', resize: 'center-crop' });
  const images: Tensor = { data: loaded.tensor.data.slice(0, 4 * 784), dims: [4, 1, 28, 28] };
  return { model, images };
};

test('randomizing every layer of the bundled model decorrelates its gradient maps (cascading, top-down)', async () => {
  const { model, images } = await fashion();
  await using ex = await Explainer.create(model);
  const maps = async (e: Explainer, imgs: Tensor, classes: readonly number[]) => (await e.explain(imgs, 'gradient', { target: [...classes] })).map(saliencyMap);
  const classes = [0, 1, 2, 3];
  const r = await modelRandomization({ explainer: ex, images, classes, maps });
  assert.deepEqual(r.layers, randomizableLayers(model).reverse().map((l) => l.name));
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const last = mean(r.spearman.at(-1)!);
  assert.ok(Math.abs(last) < 0.3, `Spearman after randomizing every layer: ${last}`);
  assert.ok(mean(r.ssim.at(-1)!) < 0.3);
  // Against itself (data randomization with the same model): identical maps.
  const same = await dataRandomization({ explainer: ex, randomLabel: ex, images, classes, maps });
  same.spearman.forEach((v) => close(v, 1, 1e-9));
  same.ssim.forEach((v) => close(v, 1, 1e-9));
  // Independent: only the classifier randomized still changes the maps, less than all layers.
  const ind = await modelRandomization({ explainer: ex, images, classes, maps }, { order: 'independent', layers: 1 });
  assert.equal(ind.spearman.length, 1);
  close(mean(ind.spearman[0]!), mean(r.spearman[0]!), 1e-9);
});

test('agreement with metrics.md on the tiny-vgg reference: deletion (0 substrate) and insertion (RISE blur) recomputed independently', async () => {
  const dir = fixture('reference/tiny-vgg');
  const model = readModelFile(`${dir}/model.onnx`);
  const x = readNpy(`${dir}/input.npy`);
  const map = readNpy(`${dir}/ref.grad-cam.npy`).data;
  await using ex = await Explainer.create(model);
  const classes = [7];
  const step = 64;
  const del = await deletion({ explainer: ex, images: x, maps: [map], classes }, { step });
  const ins = await insertion({ explainer: ex, images: x, maps: [map], classes }, { step });
  // Independent: sort with an explicit comparator, build each image, run onnxruntime directly,
  // softmax, trapezoid over x in [0, 1]; the blur is a direct 2-D zero-padded convolution with
  // gkern built from scipy's definition (reflect-padded delta, Gaussian radius 20).
  const [C, H, W] = [3, 32, 32];
  const order = Array.from({ length: H * W }, (_, i) => i).sort((a, b) => (map[b]! - map[a]!) || a - b);
  const g1 = Array.from({ length: 41 }, (_, i) => Math.exp(-0.5 * ((i - 20) / 5) ** 2));
  const gs = g1.reduce((a, b) => a + b, 0);
  const padded = Array.from({ length: 51 }, (_, i) => { const m = i - 20; const r = m < 0 ? -m - 1 : m > 10 ? 21 - m : m; return r === 5 ? 1 : 0; });
  const k1 = Array.from({ length: 11 }, (_, i) => g1.reduce((a, gv, j) => a + gv * padded[i + j]!, 0) / gs);
  const blurred = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) {
    let v = 0;
    for (let dy = -5; dy <= 5; dy++) for (let dx = -5; dx <= 5; dx++) {
      const [yy, xs] = [y + dy, xx + dx];
      if (yy >= 0 && yy < H && xs >= 0 && xs < W) v += k1[dy + 5]! * k1[dx + 5]! * x.data[(c * H + yy) * W + xs]!;
    }
    blurred[(c * H + y) * W + xx] = v;
  }
  const session = await Session.create(model);
  const curve = async (start: Float32Array, finish: Float32Array) => {
    const out: number[] = [];
    for (let k = 0; k <= H * W; k += step) {
      const img = Float32Array.from(start);
      for (const p of order.slice(0, k)) for (let c = 0; c < C; c++) img[c * H * W + p] = finish[c * H * W + p]!;
      const logits = (await session.run({ [session.inputNames[0]!]: { data: img, dims: [1, C, H, W] } }))[session.outputNames[0]!]!.data as Float32Array;
      const m = Math.max(...logits);
      const e = Array.from(logits, (v) => Math.exp(v - m));
      out.push(e[7]! / e.reduce((a, b) => a + b, 0));
    }
    return out;
  };
  const trapezoid = (s: number[]) => s.slice(1).reduce((a, v, i) => a + (v + s[i]!) / 2, 0) / (s.length - 1);
  const refDel = await curve(x.data, new Float32Array(C * H * W));
  const refIns = await curve(blurred, x.data);
  await session.release();
  del.curves[0]!.forEach((v, i) => close(v, refDel[i]!, 1e-5, `deletion point ${i}`));
  close(del.values[0]!, trapezoid(refDel), 1e-5);
  ins.curves[0]!.forEach((v, i) => close(v, refIns[i]!, 1e-4, `insertion point ${i}`));
  close(ins.values[0]!, trapezoid(refIns), 1e-4);
});

test('evaluate: one table row per metric column and method, batch equals per-image runs', async () => {
  const { model, images } = await fashion();
  await using ex = await Explainer.create(model);
  const metrics = ['deletion', 'insertion', 'average-drop', 'sparseness', 'pointing-game'];
  const boxes = [[[4, 4, 24, 24]], [[0, 0, 28, 28]], [[10, 0, 18, 28]], [[5, 5, 10, 10]]] as const;
  const all = await evaluate(ex, images, { methods: ['grad-cam', 'gradient'], metrics, boxes, seed: 1 });
  assert.deepEqual(all.table.map((r) => `${r.metric}/${r.method}`), ['grad-cam', 'gradient'].flatMap((m) => ['deletion', 'insertion', 'average-drop', 'increase-in-confidence', 'average-gain', 'sparseness', 'pointing-game'].map((c) => `${c}/${m}`)));
  const one = await evaluate(ex, { data: images.data.slice(784, 1568), dims: [1, 1, 28, 28] }, { methods: ['grad-cam'], metrics, boxes: [boxes[1]], seed: 1, classes: [all.classes[1]!] });
  for (const column of ['deletion', 'insertion', 'average-drop', 'sparseness']) close(one.perImage['grad-cam']![column]![0]!, all.perImage['grad-cam']![column]![1]!, 1e-5, column);
  // The table's mean and standard error are those of the per-image values.
  const del = all.perImage['gradient']!['deletion']!;
  const mean = del.reduce((a, b) => a + b, 0) / 4;
  const row = all.table.find((r) => r.metric === 'deletion' && r.method === 'gradient')!;
  close(row.mean, mean, 1e-9);
  close(row.stderr, Math.sqrt(del.reduce((a, b) => a + (b - mean) ** 2, 0) / 3 / 4), 1e-9);
  assert.equal(all.curves['deletion']!['grad-cam']!.x.length, 29);
  assert.equal(all.perImage['grad-cam']!['pointing-game']![1], 1); // the whole image is the box
  await assert.rejects(evaluate(ex, images, { methods: ['grad-cam'], metrics: ['wsol'] }), /needs ground-truth boxes/);
  await assert.rejects(evaluate(ex, images, { methods: ['grad-cam'], metrics: ['nope'] }), /unknown metric 'nope'/);
});

test('convlens evaluate writes the table (JSON, CSV), SVG plots and the HTML page; a bad boxes file fails in one line', async () => {
  const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { spawnSync } = await import('node:child_process');
  const out = mkdtempSync(join(tmpdir(), 'convlens-eval-'));
  const boxes = join(out, 'boxes.json');
  writeFileSync(boxes, JSON.stringify({ '01-trouser': [[0, 0, 28, 28]], '08-bag': [[2, 2, 26, 26]] }));
  const inputs = ['models/fashion-mnist/samples/01-trouser.png', 'models/fashion-mnist/samples/08-bag.png'];
  const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/convlens.js', ...args], { encoding: 'utf8', env: { ...process.env, CONVLENS_DEBUG: '' } });
  const r = cli('--json', 'evaluate', 'models/fashion-mnist/model.onnx', ...inputs, '--preset', 'unit', '--methods', 'grad-cam,gradient', '--metrics', 'deletion,sparseness,pointing-game,randomization', '--randomize-layers', '2', '--boxes', boxes, '-o', out);
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { table: { metric: string; method: string; mean: number }[]; perImage: Record<string, Record<string, number[]>> };
  const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 1 + json.table.length);
  assert.equal(json.table.length, 2 * 5);
  json.table.forEach((row, i) => assert.ok(csv[i + 1]!.startsWith(`${row.metric},${row.method},${row.mean},`)));
  // The whole image is the trouser's box: a hit whatever the map.
  assert.equal(json.perImage['grad-cam']!['pointing-game']![0], 1);
  for (const plot of ['deletion.svg', 'randomization.svg']) assert.match(readFileSync(join(out, plot), 'utf8'), /^<svg[^>]*>[\s\S]*<path/);
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  assert.match(html, /<td>sparseness<\/td><td>higher<\/td>/);
  assert.equal((html.match(/<svg/g) ?? []).length, 2);
  writeFileSync(boxes, JSON.stringify({ '01-trouser': [[0, 0, 28, 28]] }));
  const bad = cli('evaluate', 'models/fashion-mnist/model.onnx', ...inputs, '--preset', 'unit', '--metrics', 'wsol', '--boxes', boxes, '-o', out);
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr.trim(), `convlens: boxes file '${boxes}' has no entry for input '08-bag' (entries are keyed by file name without extension)`);
  const unknown = cli('evaluate', 'models/fashion-mnist/model.onnx', ...inputs, '--metrics', 'nope', '-o', out);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /unknown metric 'nope'/);
});
