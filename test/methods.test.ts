/**
 * Attribution methods: literal maps on a hand-computable model, agreement with PyTorch,
 * Captum and pytorch-grad-cam (fixtures/reference), and the paper identities.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { readModelFile } from '../src/model/file.ts';
import type { ModelProto } from '../src/model/onnx-proto.ts';
import { Explainer } from '../src/methods/explainer.ts';
import type { Tensor } from '../src/runtime/session.ts';
import { zoo } from './zoo/models.ts';
import { Rng } from '../src/runtime/rng.ts';
import { fixture, floatInitializer, pearson, readNpy, relativeL2, valueInfo } from './helpers.ts';

/**
 * x [1, 2, 2, 2] -> A = Relu(x) (the layer) -> B = A * M (M = [[1, 2], [0, 1]]) -> GAP ->
 * Flatten -> Gemm(W, transB) -> logits [1, 2], W = [[1, -1], [0.5, 2]]. For class 0 the
 * gradient at the layer is G_k(p) = W[0, k] M(p) / 4: G_0 = [.25, .5, 0, .25] = -G_1.
 */
function handModel(withMask = true): ModelProto {
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'hand',
      node: [
        { name: 'relu', opType: 'Relu', input: ['x'], output: ['A'] },
        ...(withMask ? [{ name: 'mask', opType: 'Mul', input: ['A', 'M'], output: ['B'] }] : []),
        { name: 'gap', opType: 'GlobalAveragePool', input: [withMask ? 'B' : 'A'], output: ['P'] },
        { name: 'flatten', opType: 'Flatten', input: ['P'], output: ['F'] },
        { name: 'fc', opType: 'Gemm', input: ['F', 'W'], output: ['logits'], attribute: [{ name: 'transB', type: 2, i: 1 }] },
      ],
      initializer: [floatInitializer('M', [1, 1, 2, 2], [1, 2, 0, 1]), floatInitializer('W', [2, 2], [1, -1, 0.5, 2])],
      input: [valueInfo('x', [1, 2, 2, 2])],
      output: [valueInfo('logits', [1, 2])],
    },
  };
}

// A_0 = [1, 2, 3, 4], A_1 = [2, 1, 1, 0] (row-major 2x2).
const handInput: Tensor = { data: Float32Array.from([1, 2, 3, 4, 2, 1, 1, 0]), dims: [1, 2, 2, 2] };

const close = (actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5) => {
  assert.equal(actual.length, expected.length);
  Array.from(expected).forEach((e, i) => assert.ok(Math.abs(actual[i]! - e) <= tol, `index ${i}: ${actual[i]} vs ${e}`));
};

test('CAM-family maps equal the hand-computed values', async () => {
  await using ex = await Explainer.create(handModel());
  const raw = async (method: string) => (await ex.explain(handInput, method, { target: 0, targetLayers: ['A'] }))[0]!.raw;
  // alpha = mean G = (0.25, -0.25): relu(0.25 (A_0 - A_1)) = relu(0.25 [-1, 1, 2, 4]).
  close(await raw('grad-cam'), [0, 0.25, 0.5, 1]);
  // sum_k G_k A_k = [-0.25, 0.5, 0, 1].
  close(await raw('hires-cam'), [0, 0.5, 0, 1]);
  // sum_k relu(G_k) A_k = G_0 A_0.
  close(await raw('layer-cam'), [0.25, 1, 0, 1]);
  // w = (2.25 / 10, -1 / 4): relu([-0.275, 0.2, 0.425, 0.9]).
  close(await raw('xgrad-cam'), [0, 0.2, 0.425, 0.9]);
  // Only channel 0 has positive gradients: w_0 = 2 * 0.25 * 0.0625 / 0.281251 + 0.5 * 0.25 / 1.750001.
  const w0 = (2 * 0.25 * 0.0625) / 0.281251 + (0.5 * 0.25) / 1.750001;
  close(await raw('grad-cam-plus-plus'), [1, 2, 3, 4].map((a) => w0 * a));
  // Centered X = [[-1.5, 1], [-0.5, 0], [0.5, 0], [1.5, -1]]; X^T X = [[5, -3], [-3, 2]],
  // top eigenvector v = (-0.850651, 0.525731): X v = [1.801707, 0.425325, -0.425325, -1.801707].
  // The mean activation [1.5, 1.5, 2, 2] disagrees with that sign, so it is flipped.
  close(await raw('eigen-cam'), [0, 0, 0.425325, 1.801707]);
});

test('CAM equals Grad-CAM up to a positive scale on a GAP -> FC model (Selvaraju et al. 3.1)', async () => {
  await using ex = await Explainer.create(handModel(false));
  const [cam] = await ex.explain(handInput, 'cam', { target: 1, targetLayers: ['A'] });
  const [grad] = await ex.explain(handInput, 'grad-cam', { target: 1, targetLayers: ['A'] });
  // W row 1 = (0.5, 2): CAM = 0.5 A_0 + 2 A_1 (no ReLU); Grad-CAM = relu(CAM / 4).
  close(cam!.raw, [4.5, 3, 3.5, 2]);
  close(grad!.raw, [4.5, 3, 3.5, 2].map((v) => v / 4));
  close(cam!.values, grad!.values);
  // And on a zoo model with a real GAP -> Gemm head.
  const entry = zoo['tiny-resnet']!;
  await using zx = await Explainer.create(entry.build());
  const rng = new Rng(5);
  const x = { data: Float32Array.from({ length: 3 * 32 * 32 }, () => rng.normal()), dims: entry.inputShape(1) };
  const [c2] = await zx.explain(x, 'cam', { target: 3, targetLayers: [entry.spatialLayer] });
  const [g2] = await zx.explain(x, 'grad-cam', { target: 3, targetLayers: [entry.spatialLayer] });
  const area = c2!.rawDims[0]! * c2!.rawDims[1]!;
  close(g2!.raw, Array.from(c2!.raw, (v) => Math.max(v, 0) / area), 1e-5);
});

test('a counterfactual explanation is the explanation of the negated score', async () => {
  await using ex = await Explainer.create(handModel());
  const [counter] = await ex.explain(handInput, 'grad-cam', { target: 0, targetLayers: ['A'], counterfactual: true });
  // relu(-0.25 [-1, 1, 2, 4]).
  close(counter!.raw, [0.25, 0, 0, 0]);
});

const referenceCases = ['tiny-vgg', 'alexnetish', 'dense-se'];
const gradientRefs: [method: string, tolerance: number][] = [
  ['gradient', 1e-3],
  ['input-x-gradient', 1e-3],
  ['guided-backprop', 1e-3],
  ['deconvnet', 1e-3],
  // Captum's trapezoid steps sum to (n-1)/n; ours integrate exactly (see PROVENANCE.md).
  ['integrated-gradients', 2e-2],
];
const camRefs = ['cam', 'grad-cam', 'grad-cam-plus-plus', 'xgrad-cam', 'hires-cam', 'layer-cam'];

for (const name of referenceCases) {
  const dir = fixture(`reference/${name}`);
  const meta = JSON.parse(readFileSync(`${dir}/meta.json`, 'utf8')) as { target: number; layer: string };
  test(`${name}: methods agree with PyTorch, Captum and pytorch-grad-cam`, async () => {
    await using ex = await Explainer.create(readModelFile(`${dir}/model.onnx`));
    const x = readNpy(`${dir}/input.npy`);
    for (const [method, tol] of gradientRefs) {
      const path = `${dir}/ref.${method}.npy`;
      if (!existsSync(path)) continue;
      const [e] = await ex.explain(x, method, { target: meta.target, ...(method === 'integrated-gradients' ? { steps: 128 } : {}) });
      const err = relativeL2(e!.raw, readNpy(path).data);
      assert.ok(err < tol, `${method}: relative L2 ${err}`);
    }
    for (const method of camRefs) {
      const path = `${dir}/ref.${method}.npy`;
      if (!existsSync(path)) continue;
      const [e] = await ex.explain(x, method, { target: meta.target, targetLayers: [meta.layer] });
      const r = pearson(e!.values, readNpy(path).data);
      assert.ok(r >= 0.99, `${method}: Pearson r ${r}`);
    }
    // Eigen-CAM: a principal component's sign is arbitrary (numpy's SVD picks one, convlens
    // agrees with the mean activation): the map matches the reference for one of the signs.
    const eigen = (await ex.explain(x, 'eigen-cam', { targetLayers: [meta.layer] }))[0]!;
    const ref = readNpy(`${dir}/ref.eigen-cam.npy`).data;
    const best = Math.max(pearson(eigen.values, ref), await eigenOtherSign(ex, x, meta.layer, ref));
    assert.ok(best >= 0.99, `eigen-cam: Pearson r ${best}`);
  });
}

/** Pearson r of the reference with relu(-projection), the other sign's map. */
async function eigenOtherSign(ex: Explainer, x: Tensor, layer: string, ref: Float32Array): Promise<number> {
  const { firstComponentProjection } = await import('../src/methods/cam/eigen-cam.ts');
  const { mapToInput } = await import('../src/methods/postprocess.ts');
  const res = await ex.engine.run(x, { expose: [layer] });
  const A = res.exposed[layer]!;
  const [K, h, w] = [A.dims[1]!, A.dims[2]!, A.dims[3]!];
  const X = new Float64Array(h * w * K);
  for (let k = 0; k < K; k++) {
    let mean = 0;
    for (let p = 0; p < h * w; p++) mean += A.data[k * h * w + p]! / (h * w);
    for (let p = 0; p < h * w; p++) X[p * K + k] = A.data[k * h * w + p]! - mean;
  }
  const projection = firstComponentProjection(X, h * w, K);
  const other = Float32Array.from(projection, (v) => Math.max(-v, 0));
  return pearson(mapToInput(other, h, w, x.dims[2]!, x.dims[3]!), ref);
}

test('integrated gradients is complete: sum(attr) = S(x) - S(baseline) within 1% at 128 steps', async () => {
  for (const [name, entry] of Object.entries(zoo)) {
    await using ex = await Explainer.create(entry.build());
    const rng = new Rng(9);
    const x = { data: Float32Array.from({ length: entry.inputShape(1).reduce((a, b) => a * b, 1) }, () => rng.normal()), dims: entry.inputShape(1) };
    const [e] = await ex.explain(x, 'integrated-gradients', { steps: 128, batchSize: 32 });
    const { delta, scoreChange } = e!.extras as { delta: number; scoreChange: number };
    assert.ok(Math.abs(delta) <= 0.01 * Math.abs(scoreChange), `${name}: delta ${delta} vs change ${scoreChange}`);
  }
});

test('the principal-component projection is the same through either Gram matrix', async () => {
  const { firstComponentProjection } = await import('../src/methods/cam/eigen-cam.ts');
  const rng = new Rng(13);
  const [rows, cols] = [5, 8];
  const X = Float64Array.from({ length: rows * cols }, () => rng.normal());
  const viaRows = firstComponentProjection(X, rows, cols); // 5 < 8: X X^T
  const padded = new Float64Array(9 * cols);
  padded.set(X);
  const viaCols = firstComponentProjection(padded, 9, cols).subarray(0, rows); // 8 <= 9: X^T X
  const sign = Math.sign(viaRows[0]!) * Math.sign(viaCols[0]!);
  close(viaRows, Array.from(viaCols, (v) => sign * v), 1e-9);
  assert.ok(Math.hypot(...viaRows) > 1, 'a non-trivial projection');
});

test("deconvnet projects one activation back (Zeiler & Fergus' use): the strongest by default", async () => {
  await using ex = await Explainer.create(handModel());
  // A_0 = [1, 2, 3, 4]: its strongest activation is position 3 (value 4); every other one is
  // zeroed, and the deconvnet Relu passes relu(4) back to x[0, 1, 1].
  const [strongest] = await ex.explain(handInput, 'deconvnet', { layer: 'A', channel: 0 });
  close(strongest!.raw, [0, 0, 0, 4, 0, 0, 0, 0]);
  const [chosen] = await ex.explain(handInput, 'deconvnet', { layer: 'A', channel: 1, position: [0, 1] });
  close(chosen!.raw, [0, 0, 0, 0, 0, 1, 0, 0]);
  await assert.rejects(ex.explain(handInput, 'deconvnet', { layer: 'A', channel: 2 }), /channel between 0 and 1, not 2/);
});
