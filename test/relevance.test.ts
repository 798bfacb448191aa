/**
 * Relevance propagation (LRP rules and composites), DeepLIFT, DeepLIFT-SHAP and
 * GradientSHAP: literal values of each rule on a tiny dense layer, conservation properties,
 * agreement with Captum on tiny-vgg, every composite on every zoo model, batch == loop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gradientRules } from '../src/autodiff/rules/index.ts';
import { layerRelevance, type LayerRule } from '../src/autodiff/relevance/layer.ts';
import { epsilonRule } from '../src/autodiff/relevance/epsilon.ts';
import { gammaRule } from '../src/autodiff/relevance/gamma.ts';
import { alphaBetaRule, zPlusRule } from '../src/autodiff/relevance/alpha-beta.ts';
import { zBoxRule } from '../src/autodiff/relevance/z-box.ts';
import { flatRule } from '../src/autodiff/relevance/flat.ts';
import { wSquareRule } from '../src/autodiff/relevance/w-square.ts';
import { compositeNames, compositeRules } from '../src/autodiff/relevance/composites.ts';
import { graphFacts } from '../src/autodiff/relevance/facts.ts';
import { deepliftRules } from '../src/autodiff/relevance/deeplift.ts';
import { presetBox } from '../src/methods/relevance/lrp.ts';
import { specializeFor, compileSpecialized } from '../src/autodiff/compile.ts';
import type { RuleTable } from '../src/autodiff/rule.ts';
import { Explainer } from '../src/methods/explainer.ts';
import { readModelFile } from '../src/model/file.ts';
import type { ModelProto, NodeProto, TensorProto } from '../src/model/onnx-proto.ts';
import { DataType, makeTensorProto } from '../src/model/tensor-data.ts';
import { Rng } from '../src/runtime/rng.ts';
import { Session, type Tensor } from '../src/runtime/session.ts';
import { compileAndRun, feedsOf, makeModel, nodeProto, valueInfo, type NodeSpec } from './gradcheck.ts';
import { fixture, oneHot, readNpy, relativeL2 } from './helpers.ts';
import { Net } from './zoo/net.ts';
import { zoo } from './zoo/models.ts';

const floats = (name: string, dims: number[], values: number[]): TensorProto => makeTensorProto(name, { dataType: DataType.FLOAT, dims, data: Float32Array.from(values) });
const sum = (v: ArrayLike<number>) => Array.from(v).reduce((a, b) => a + b, 0);

function assertClose(actual: ArrayLike<number> | undefined, expected: readonly number[], what: string, tol = 1e-5): void {
  assert.ok(actual, `${what}: no result`);
  const got = Array.from(actual);
  assert.equal(got.length, expected.length, `${what}: length`);
  assert.ok(expected.every((e, i) => Math.abs(got[i]! - e) <= tol), `${what}: expected [${expected.join(', ')}], got [${got.map((v) => +v.toFixed(7)).join(', ')}]`);
}

/** The relevance reaching x when R is sent back from y through `nodes` under `rules`. */
async function relevance(nodes: NodeSpec[], initializers: TensorProto[], x: number[], xDims: number[], R: number[], rules: RuleTable): Promise<number[]> {
  const protos: NodeProto[] = nodes.map((n, i) => nodeProto(n, DataType.FLOAT, i));
  const model = makeModel(protos, [valueInfo('x', DataType.FLOAT, xDims)], initializers, [valueInfo('y', DataType.FLOAT)]);
  const run = await compileAndRun(model, { inputShape: { x: xDims }, targetTensor: 'y', wrt: ['x'], rules }, feedsOf({ x: { data: x, dims: xDims } }), R);
  return Array.from(run.gradients['x']!);
}

// One dense layer y = x W^T + b (Gemm, transB = 1) with
//   x = [1, -2],  W = [[1, 2], [-1, 3]],  b = [0.5, -1],  R_out = [1, 2];
// z = W x + b = [-2.5, -8]. Positive/negative parts: x+ = [1, 0], x- = [0, -2],
// W+ = [[1, 2], [0, 3]], W- = [[0, 0], [-1, 0]].
const dense: NodeSpec[] = [{ op: 'Gemm', inputs: ['x', 'W', 'b'], outputs: ['y'], attrs: { transB: 1 } }];
const denseInit = [floats('W', [2, 2], [1, 2, -1, 3]), floats('b', [2], [0.5, -1])];
const X = [1, -2];
const R_OUT = [1, 2];

async function denseRule(rule: LayerRule, box = { low: [-1, -3], high: [2, 2] }): Promise<number[]> {
  const table = { ...gradientRules, Gemm: layerRelevance(rule, { nonNegative: () => false, box }) };
  return relevance(dense, denseInit, X, [1, 2], R_OUT, table);
}

test('epsilon rule on a dense layer (eps 0.5)', async () => {
  // stab(z) = z + 0.5 sign(z) = [-3, -8.5]; s = R / stab(z) = [-1/3, -2/8.5];
  // c = W^T s = [-1/3 + 2/8.5, -2/3 - 6/8.5] = [-0.0980392, -1.3725490]; R_in = x * c.
  assertClose(await denseRule(epsilonRule(0.5)), [-0.0980392, 2.7450980], 'epsilon');
});

test('epsilon rule with eps -> 0 on a bias-free layer conserves relevance and equals gradient x input', async () => {
  const table = { ...gradientRules, Gemm: layerRelevance(epsilonRule(1e-9), { nonNegative: () => false, box: undefined }) };
  const init = [floats('W', [2, 2], [1, 2, -1, 3]), floats('b', [2], [0, 0])];
  // z = [-3, -7]; R_in = x * W^T (R / z) = [1 * (-1/3 + 2/7), -2 * (-2/3 - 6/7)] = [-0.0476190, 3.0476190], sum = 3 = sum R_out.
  const r = await relevance(dense, init, X, [1, 2], R_OUT, table);
  assertClose(r, [-0.0476190, 3.0476190], 'LRP-0');
  assert.ok(Math.abs(sum(r) - 3) < 1e-5);
});

test('gamma rule (gamma 0.25)', async () => {
  // rho(w) = w + 0.25 w+: W' = [[1.25, 2.5], [-1, 3.75]], b' = [0.625, -1]; z = [-3.125, -9.5];
  // R_in = x * W'^T (R / z) = [1 * (1.25 / -3.125 + -1 * 2 / -9.5), -2 * (2.5 / -3.125 + 3.75 * 2 / -9.5)].
  assertClose(await denseRule(gammaRule(0.25)), [-0.1894737, 3.1789474], 'gamma');
});

test('alpha-beta rule (alpha 2, beta 1)', async () => {
  // z+ = W+ x+ + W- x- + b+ = [1 + 0 + 0.5, 0 + 0 + 0] = [1.5, 0]; z- = W- x+ + W+ x- + b- = [0 - 4, -1 - 6 - 1] = [-4, -8].
  // s+ = 2 R / stab(z+) = [4/3, 2/1e-6]; s- = -1 R / z- = [1/4, 1/4].
  // R_in = x+ (W+^T s+) + x- (W-^T s+) + x+ (W-^T s-) + x- (W+^T s-):
  //   R_in[0] = 1 * (1 * 4/3 + 0) + 1 * (0 + -1 * 1/4) = 4/3 - 1/4 = 1.0833333
  //   R_in[1] = -2 * (0 * 4/3 + 0 * 2e6) + -2 * (2 * 1/4 + 3 * 1/4) = -2.5
  assertClose(await denseRule(alphaBetaRule(2, 1)), [1.0833333, -2.5], 'alpha2-beta1');
});

test('alpha-beta on a non-negative input: z- = z - z+ (one convolution fewer) gives the same relevance', async () => {
  const rule = alphaBetaRule(2, 1);
  const run = (nonNegative: boolean) =>
    relevance(dense, denseInit, [1, 2], [1, 2], R_OUT, { ...gradientRules, Gemm: layerRelevance(rule, { nonNegative: () => nonNegative, box: undefined }) });
  // x = [1, 2] >= 0: z+ = W+ x + b+ = [5.5, 6], z- = W- x + b- = [0, -2];
  // R_in = x * (W+^T (2 R / z+) + W-^T (-R / z-)) = [1 * (1 * 2/5.5 + (-1) * (-2/-2)), 2 * (2 * 2/5.5 + 3 * 4/6)] = [-0.6363636, 5.4545454].
  assertClose(await run(true), [-0.6363636, 5.4545454], 'complement');
  assertClose(await run(false), [-0.6363636, 5.4545454], 'full');
});

test('z+ rule (alpha 1, beta 0) is non-negative for positive R', async () => {
  // Only z+ = [1.5, 0]: R_in[0] = 1 * 1 * 1 / 1.5; output 1 has no positive contribution (its relevance is not propagated).
  assertClose(await denseRule(zPlusRule()), [0.6666667, 0], 'z+');
});

test('z^B rule with bounds l = [-1, -3], h = [2, 2]', async () => {
  // z = W x - W+ l - W- h = [-3 - (-7) - 0, -7 - (-9) - (-2)] = [4, 4]; s = R / z = [1/4, 1/2];
  // R_in = x W^T s - l W+^T s - h W-^T s = [1 * (1/4 - 1/2) + 1 * (1/4) + -2 * (-1/2), -2 * (2/4 + 3/2) + 3 * (2/4 + 3/2) - 0] = [1, 2].
  assertClose(await denseRule(zBoxRule()), [1, 2], 'z^B');
});

test('flat rule', async () => {
  // Every output reads both inputs with weight 1: z = [2, 2]; R_in = [1/2 + 2/2, 1/2 + 2/2].
  assertClose(await denseRule(flatRule()), [1.5, 1.5], 'flat');
});

test('w-square rule', async () => {
  // w^2 = [[1, 4], [1, 9]]: z = [5, 10]; R_in = [1 * 1/5 + 1 * 2/10, 4 * 1/5 + 9 * 2/10] = [0.4, 2.6].
  assertClose(await denseRule(wSquareRule()), [0.4, 2.6], 'w^2');
});

const epsilonTable = (facts = { firstInputs: new Set<string>(), nonNegative: new Set<string>() }) =>
  compositeRules({ composite: 'epsilon', epsilon: 1e-9, gamma: 0.25, alpha: 2, beta: 1 }, facts);

test('residual Add: relevance split in proportion to the operands; Relu passes it', async () => {
  // a = relu(x) = [2, 0, 3], y = a + x = [4, -1, 6]; R = [1, 1, 1].
  // Add: R_a = a / y R = [0.5, 0, 0.5], R_x(skip) = x / y R = [0.5, 1, 0.5]; Relu passes R_a.
  // R_in = [1, 1, 1]: conserved.
  const nodes: NodeSpec[] = [
    { op: 'Relu', inputs: ['x'], outputs: ['a'] },
    { op: 'Add', inputs: ['a', 'x'], outputs: ['y'] },
  ];
  assertClose(await relevance(nodes, [], [2, -1, 3], [3], [1, 1, 1], epsilonTable()), [1, 1, 1], 'residual');
});

test('bias Add absorbs its share; a squeeze-excitation gate takes none', async () => {
  // y = x + 1 with x = [1, 3]: R_x = x / y R = [1/2, 3/4] for R = [1, 1].
  assertClose(await relevance([{ op: 'Add', inputs: ['x', 'one'], outputs: ['y'] }], [floats('one', [], [1])], [1, 3], [2], [1, 1], epsilonTable()), [0.5, 0.75], 'bias');
  // y = x * sigmoid(gap(x)) ([1, 2, 1, 2] -> gate [1, 2, 1, 1]): the signal x takes R unchanged.
  const nodes: NodeSpec[] = [
    { op: 'GlobalAveragePool', inputs: ['x'], outputs: ['p'] },
    { op: 'Sigmoid', inputs: ['p'], outputs: ['g'] },
    { op: 'Mul', inputs: ['x', 'g'], outputs: ['y'] },
  ];
  assertClose(await relevance(nodes, [], [1, -2, 3, 4], [1, 2, 1, 2], [1, 2, 3, 4], epsilonTable()), [1, 2, 3, 4], 'gate');
});

test('average pooling is proportional, max pooling winner-take-all', async () => {
  // x = [1, 3, 2, 6] as [1, 1, 1, 4], pools of 2: avg y = [2, 4], R = [1, 2]:
  //   R_in = x / (2 y) * R per window = [1/4, 3/4, 2/8 * 2, 6/8 * 2] = [0.25, 0.75, 0.5, 1.5].
  const pool = (op: string): NodeSpec[] => [{ op, inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [1, 2], strides: [1, 2] } }];
  assertClose(await relevance(pool('AveragePool'), [], [1, 3, 2, 6], [1, 1, 1, 4], [1, 2], epsilonTable()), [0.25, 0.75, 0.5, 1.5], 'avg');
  assertClose(await relevance(pool('MaxPool'), [], [1, 3, 2, 6], [1, 1, 1, 4], [1, 2], epsilonTable()), [0, 1, 0, 2], 'max');
});

test('DeepLIFT rescale on Relu: m = dy/dx where x differs from the baseline, the gradient where not', async () => {
  // Batch [x; x0] with x = [2, -1, 3], x0 = [-2, 1, 3]: y = [2, 0, 3], y0 = [0, 1, 3];
  // dy/dx = [2/4, -1/-2, (none: the gradient [x > 0] = 1)] = [0.5, 0.5, 1] times the weight [1, 1, 1].
  const nodes: NodeSpec[] = [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }];
  const m = await relevance(nodes, [], [2, -1, 3, -2, 1, 3], [2, 3], [1, 1, 1, 1, 1, 1], deepliftRules);
  assertClose(m.slice(0, 3), [0.5, 0.5, 1], 'rescale');
});

// ---------------------------------------------------------------------------------------
// Properties on networks
// ---------------------------------------------------------------------------------------

/** A bias-free ReLU network with max and average pooling, a residual Add and a Concat. */
function biasFreeNet(): ModelProto {
  const net = new Net('bias-free', 3, ['N', 3, 16, 16]);
  let x = net.relu(net.conv(net.input, 8, { bias: false }));
  const y = net.relu(net.conv(x, 8, { bias: false }));
  x = net.add(x, y);
  x = net.maxpool(x, { k: 2 });
  x = net.concat([net.relu(net.conv(x, 4, { bias: false })), x]);
  x = net.avgpool(x, { k: 2 });
  const model = net.finish([net.gemm(net.flatten(x), 10, { gain: 1, name: 'logits' })]);
  for (const t of model.graph!.initializer!) if (t.name!.endsWith('.bias')) t.rawData = new Uint8Array(t.rawData!.length);
  return model;
}

async function withExplainer<T>(model: ModelProto, body: (e: Explainer) => Promise<T>): Promise<T> {
  const e = await Explainer.create(model);
  try {
    return await body(e);
  } finally {
    await e.release();
  }
}

const images = (dims: number[], seed: number): Tensor => ({ data: new Rng(seed).normals(dims.reduce((a, b) => a * b, 1)), dims });

test('epsilon-LRP on a bias-free ReLU network: relevance sums to the target logit', async () => {
  await withExplainer(biasFreeNet(), async (e) => {
    const x = images([2, 3, 16, 16], 5);
    const { scores } = await e.predict(x);
    const maps = await e.explain(x, 'lrp', { composite: 'epsilon', epsilon: 1e-9, target: [3, 7] });
    maps.forEach((m, i) => {
      const logit = scores.data[i * 10 + m.class!]!;
      assert.ok(Math.abs(sum(m.raw) - logit) <= 1e-4 * Math.max(1, Math.abs(logit)), `image ${i}: relevance ${sum(m.raw)} vs logit ${logit}`);
      assert.ok(Math.abs(m.extras!['relevance']! - logit) <= 1e-4 * Math.max(1, Math.abs(logit)));
    });
  });
});

// LRP-0 (epsilon -> 0) equals gradient x input on piecewise-linear ReLU networks, biases
// included (Ancona et al. 2018, "Towards Better Understanding of Gradient-Based Attribution
// Methods", section 3.1): by induction R = z * dS/dz at every layer. Two independent
// computations: the relevance rule set and the plain gradient.
for (const name of ['tiny-vgg', 'tiny-resnet', 'fpn', 'torch-flatten']) {
  test(`epsilon-LRP with eps 1e-9 equals input x gradient on ${name}`, async () => {
    await withExplainer(zoo[name]!.build(), async (e) => {
      const x = images(zoo[name]!.inputShape(2), 21);
      const lrpMaps = await e.explain(x, 'lrp', { composite: 'epsilon', epsilon: 1e-9, target: [2, 6] });
      const gxi = await e.explain(x, 'input-x-gradient', { target: [2, 6] });
      lrpMaps.forEach((m, i) => {
        const err = relativeL2(m.raw, gxi[i]!.raw);
        assert.ok(err < 1e-3, `image ${i}: relative L2 ${err}`);
      });
    });
  });
}

test('z+ relevance is non-negative (z+ on every layer, positive score)', async () => {
  const model = biasFreeNet();
  const x = images([1, 3, 16, 16], 6);
  const s = await specializeFor(model, { inputShape: x.dims });
  const facts = graphFacts(s.view);
  const plus = compositeRules({ composite: 'epsilon-plus', epsilon: 1e-6, gamma: 0.25, alpha: 2, beta: 1 }, facts);
  const rules = { ...plus, Gemm: layerRelevance(zPlusRule(), { nonNegative: (t) => facts.nonNegative.has(t), box: undefined }) };
  const c = compileSpecialized(s, { inputShape: x.dims, wrt: ['input'], rules, seed: 'weighted-target' });
  const session = await Session.create(c.model);
  try {
    const logits = (await session.run({ input: x, [c.targetWeight]: oneHot(c.targetShape, [0]) }))['logits']!.data as Float32Array;
    const target = Array.from(logits).findIndex((v) => v > 0);
    const out = await session.run({ input: x, [c.targetWeight]: oneHot(c.targetShape, [target]) });
    const r = out[c.gradients['input']!]!.data as Float32Array;
    assert.ok(r.every((v) => v >= 0), `negative relevance ${Math.min(...r)}`);
    assert.ok(sum(r) > 0 && sum(r) <= logits[target]! * (1 + 1e-4), `z+ relevance ${sum(r)}, score ${logits[target]}`);
  } finally {
    await session.release();
  }
});

for (const name of ['tiny-resnet', 'mobilenet-v2', 'fpn', 'dense-net']) {
  test(`DeepLIFT sums to f(x) - f(baseline) on ${name} (no max pooling)`, async () => {
    await withExplainer(zoo[name]!.build(), async (e) => {
      const x = images(zoo[name]!.inputShape(2), 9);
      for (const baseline of [0, 'blur'] as const) {
        const maps = await e.explain(x, 'deeplift', { baseline });
        for (const m of maps) {
          const change = m.extras!['delta']! - sum(m.raw);
          assert.ok(Math.abs(m.extras!['delta']!) <= 1e-3 * Math.max(1, Math.abs(change)), `${baseline}: delta ${m.extras!['delta']} for a change of ${-change}`);
        }
      }
    });
  });
}

// ---------------------------------------------------------------------------------------
// Agreement with Captum (fixtures/reference/tiny-vgg, see PROVENANCE.md)
// ---------------------------------------------------------------------------------------

test('tiny-vgg: lrp (epsilon 1e-9) matches Captum LRP, deeplift (zeros) matches Captum DeepLift', async () => {
  const dir = fixture('reference/tiny-vgg');
  const meta = JSON.parse(readFileSync(`${dir}/meta.json`, 'utf8')) as { target: number; lrp: { sum: number }; deeplift: { sum: number } };
  const x = readNpy(`${dir}/input.npy`);
  await withExplainer(readModelFile(`${dir}/model.onnx`), async (e) => {
    const [l] = await e.explain(x, 'lrp', { composite: 'epsilon', epsilon: 1e-9, target: meta.target });
    const lrpErr = relativeL2(l!.raw, readNpy(`${dir}/ref.lrp.npy`).data);
    assert.ok(lrpErr < 1e-3, `lrp relative L2 ${lrpErr}`);
    assert.ok(Math.abs(sum(l!.raw) - meta.lrp.sum) < 1e-5);
    const [d] = await e.explain(x, 'deeplift', { baseline: 0, target: meta.target });
    const dlErr = relativeL2(d!.raw, readNpy(`${dir}/ref.deeplift.npy`).data);
    assert.ok(dlErr < 1e-3, `deeplift relative L2 ${dlErr}`);
    assert.ok(Math.abs(sum(d!.raw) - meta.deeplift.sum) < 1e-5);
  });
});

// ---------------------------------------------------------------------------------------
// Every composite on every zoo model; batch == loop; the SHAP estimators
// ---------------------------------------------------------------------------------------

for (const [name, entry] of Object.entries(zoo)) {
  test(`zoo ${name}: every LRP composite runs, finite, and a batch equals a loop`, async () => {
    await withExplainer(entry.build(), async (e) => {
      const x = images(entry.inputShape(2), 11);
      const box = presetBox('imagenet', 3);
      for (const composite of compositeNames) {
        const maps = await e.explain(x, 'lrp', { composite, target: [1, 4] });
        assert.equal(maps.length, 2);
        for (const m of maps) {
          assert.ok(m.raw.every(Number.isFinite), `${composite}: non-finite relevance`);
          assert.ok(m.raw.some((v) => v !== 0), `${composite}: all-zero relevance`);
        }
        if (composite === 'epsilon-gamma-box') {
          const per = x.data.length / 2;
          const one = await e.explain({ data: x.data.slice(per), dims: [1, ...x.dims.slice(1)] }, 'lrp', { composite, target: 4 });
          assert.ok(relativeL2(one[0]!.raw, maps[1]!.raw) < 1e-5, 'batch and loop differ');
          assert.ok(box.low.every((l, c) => l < box.high[c]!));
        }
      }
    });
  });
}

test('gradient-shap on a linear model equals (x - baseline) * W for any draw; batch == loop', async () => {
  const net = new Net('linear', 2, ['N', 3, 8, 8]);
  const model = net.finish([net.gemm(net.flatten(net.conv(net.input, 4, { k: 3 })), 10, { gain: 1, name: 'logits' })]);
  await withExplainer(model, async (e) => {
    const x = images([2, 3, 8, 8], 13);
    const grad = await e.explain(x, 'input-x-gradient', { target: 2 });
    const shap = await e.explain(x, 'gradient-shap', { baselines: 'zeros', samples: 4, target: 2 });
    shap.forEach((m, i) => assert.ok(relativeL2(m.raw, grad[i]!.raw) < 1e-5, `image ${i}`));
    const noisy = await e.explain(x, 'gradient-shap', { samples: 6, noise: 0.1, target: 2, seed: 3 });
    const per = x.data.length / 2;
    const single = await e.explain({ data: x.data.slice(per), dims: [1, 3, 8, 8] }, 'gradient-shap', { samples: 6, noise: 0.1, target: 2, seed: 3 });
    assert.ok(relativeL2(single[0]!.raw, noisy[1]!.raw) < 1e-6, 'batch and loop differ');
  });
});

test('deeplift-shap with a set of baselines is the mean of DeepLIFT over them', async () => {
  await withExplainer(zoo['tiny-resnet']!.build(), async (e) => {
    const x = images([1, 3, 32, 32], 17);
    const set = images([2, 3, 32, 32], 19);
    const per = x.data.length;
    const shap = await e.explain(x, 'deeplift-shap', { baselines: set, target: 5 });
    const a = await e.explain(x, 'deeplift', { baseline: { data: set.data.slice(0, per), dims: x.dims }, target: 5 });
    const b = await e.explain(x, 'deeplift', { baseline: { data: set.data.slice(per), dims: x.dims }, target: 5 });
    const mean = a[0]!.raw.map((v, i) => (v + b[0]!.raw[i]!) / 2);
    assert.ok(relativeL2(shap[0]!.raw, mean) < 1e-5);
    const noise = await e.explain(x, 'deeplift-shap', { samples: 3, target: 5 });
    assert.ok(Math.abs(noise[0]!.extras!['delta']!) < 1e-3, 'summation to delta, averaged');
  });
});

test('CLI: explain -m lrp --composite epsilon --epsilon 1e-9 --raw and -m deeplift --baseline 0 --raw write the Captum values', () => {
  const dir = fixture('reference/tiny-vgg');
  const out = mkdtempSync(join(tmpdir(), 'convlens-relevance-'));
  const bin = fileURLToPath(new URL('../bin/convlens.js', import.meta.url));
  try {
    for (const args of [['-m', 'lrp', '--composite', 'epsilon', '--epsilon', '1e-9'], ['-m', 'deeplift', '--baseline', '0']]) {
      const r = spawnSync(process.execPath, [bin, 'explain', `${dir}/model.onnx`, `${dir}/input.npy`, ...args, '-t', '7', '--raw', '-o', out], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    for (const method of ['lrp', 'deeplift']) {
      const got = readNpy(join(out, `input.${method}.npy`));
      assert.deepEqual(got.dims, [3, 32, 32]);
      const err = relativeL2(got.data, readNpy(`${dir}/ref.${method}.npy`).data);
      assert.ok(err < 1e-3, `${method}: relative L2 ${err}`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('lrp option mistakes are OptionErrors naming the fix', async () => {
  await withExplainer(zoo['tiny-vgg']!.build(), async (e) => {
    const x = images([1, 3, 32, 32], 23);
    await assert.rejects(e.explain(x, 'lrp', { composite: 'epsilon-alpha2-beta1', alpha: 2, beta: 2 }), (err: Error) => err.name === 'OptionError' && /alpha - beta = 1/.test(err.message));
    await assert.rejects(e.explain(x, 'lrp', { composite: 'zplus' }), (err: Error) => err.name === 'OptionError' && /epsilon-plus/.test(err.message));
    await assert.rejects(e.explain(x, 'lrp', { composite: 'epsilon-gamma-box', low: 3, high: 1 }), (err: Error) => err.name === 'OptionError' && /low must be below high/.test(err.message));
  });
});

test("lrp's z^B box: unset is the imagenet box; another preset's box gives other relevance; low/high override it", async () => {
  await withExplainer(zoo['tiny-vgg']!.build(), async (e) => {
    const x = images([1, 3, 32, 32], 29);
    const run = async (o: Record<string, unknown>) => (await e.explain(x, 'lrp', { composite: 'epsilon-gamma-box', target: 2, ...o }))[0]!.raw;
    const unset = await run({});
    assert.deepEqual(Array.from(unset), Array.from(await run({ box: 'imagenet' })));
    assert.ok(relativeL2(await run({ box: 'unit' }), unset) > 1e-3, 'the unit box ([0, 1]) is not the imagenet box');
    const unit = presetBox('unit', 3);
    assert.deepEqual(Array.from(await run({ box: 'unit' })), Array.from(await run({ low: unit.low[0]!, high: unit.high[0]! })));
  });
});
