/**
 * Feature visualization: the objective rises under gradient ascent on zoo models (pixels and
 * Fourier parameterizations, class and channel objectives); the linear image maps
 * (Fourier parameterization, jitter, scale/rotate, resize) are checked literally and by
 * dot-product tests of their adjoints; Adam's bias correction; the objective algebra;
 * error messages; AbortSignal; DeepDream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GradientEngine } from '../src/autodiff/engine.ts';
import { OptionError } from '../src/errors.ts';
import type { ModelProto } from '../src/model/onnx-proto.ts';
import { Rng } from '../src/runtime/rng.ts';
import type { Tensor } from '../src/runtime/session.ts';
import { LayerError } from '../src/targets/layers.ts';
import { zoo } from './zoo/models.ts';
import {
  adam, blur, channel, classLogit, classModel, compose, dream, fourier, jitter, l2, negate, neuron, objectiveValue, pixels,
  randomRotate, randomScale, resize, resolveObjective, scale, scaleRotate, shift, standardTransforms, sum, totalVariation,
  visualize, warpMap, type ImageShape, type LinearMap, type Objective,
} from '../src/optvis/index.ts';

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const random = (rng: Rng, n: number) => Float64Array.from(rng.normals(n));

/** <A x, y> = <x, A^T y> for random x, y, to `tolerance` relative (float64). */
function assertAdjoint(map: LinearMap, inSize: number, outSize: number, label: string, tolerance = 1e-12): void {
  const rng = new Rng(11);
  for (let trial = 0; trial < 3; trial++) {
    const x = random(rng, inSize), y = random(rng, outSize);
    const ax = map.forward(x), aty = map.adjoint(y);
    assert.equal(ax.length, outSize, `${label}: forward size`);
    assert.equal(aty.length, inSize, `${label}: adjoint size`);
    const [lhs, rhs] = [dot(ax, y), dot(x, aty)];
    assert.ok(Math.abs(lhs - rhs) <= tolerance * Math.max(Math.abs(lhs), Math.abs(rhs)), `${label}: <Ax, y> = ${lhs} vs <x, A^T y> = ${rhs}`);
  }
}

/** The objective at an image (a tensor in the model's layout), from a forward pass. */
async function objectiveAt(engine: GradientEngine, objective: Objective, image: Tensor): Promise<number> {
  const parts = resolveObjective(await engine.specialize(image.dims), objective);
  const res = await engine.run(image, { expose: parts.map((p) => p.tensor) });
  return parts.reduce((s, p) => s + objectiveValue(p.weights, res.exposed[p.tensor]!), 0);
}

/** The channel of `layer` with the largest mean activation on a small random image (a live unit to maximize). */
async function liveChannel(engine: GradientEngine, dims: number[], layer: string): Promise<number> {
  const res = await engine.run({ data: new Rng(5).normals(dims.reduce((a, b) => a * b, 1), 0, 0.01), dims }, { expose: [layer] });
  const a = res.exposed[layer]!;
  const [, c = 1] = a.dims;
  const area = a.data.length / c;
  const means = Array.from({ length: c }, (_, k) => a.data.subarray(k * area, (k + 1) * area).reduce((s, v) => s + v, 0));
  return means.indexOf(Math.max(...means));
}

for (const name of ['tiny-vgg', 'tiny-resnet', 'mobilenet-v2', 'nhwc-input', 'softmax-head']) {
  test(`${name}: gradient ascent raises class and channel objectives (pixels and fourier)`, async () => {
    const entry = zoo[name]!;
    await using engine = new GradientEngine(entry.build());
    const dims = entry.inputShape(1);
    const objectives: [string, Objective][] = [
      ['classLogit(3)', classLogit(3)],
      ['channel', channel(entry.spatialLayer, await liveChannel(engine, dims, entry.spatialLayer))],
    ];
    for (const [label, objective] of objectives) {
      for (const parameterization of [pixels({ init: 'random' }), fourier()]) {
        const r = await visualize(engine, { objective, parameterization, steps: 30, seed: 3 });
        assert.equal(r.values.length, 30);
        assert.deepEqual(r.image.dims, dims);
        const after = await objectiveAt(engine, objective, r.image);
        assert.ok(after > r.values[0]! + 1e-3, `${name} ${label} ${parameterization.name}: ${r.values[0]} -> ${after}`);
      }
    }
  });
}

test('with transforms and regularizers the objective still rises, and each step is one compiled run per objective tensor', async () => {
  const entry = zoo['tiny-vgg']!;
  await using engine = new GradientEngine(entry.build());
  let runs = 0;
  const counted = Object.assign(Object.create(engine) as GradientEngine, {
    run: (...args: Parameters<GradientEngine['run']>) => {
      runs++;
      return engine.run(...args);
    },
  });
  const objective = classLogit(1);
  const r = await visualize(counted, {
    objective, steps: 40, seed: 1, learningRate: 0.1,
    transforms: [jitter(1), randomScale([0.95, 1.05]), randomRotate(5)],
    regularizers: [l2(1e-4), totalVariation(1e-4), blur({ every: 8, sigma: 0.5 })],
  });
  assert.equal(runs, 40);
  assert.ok(r.penalties.every((p) => p > 0));
  assert.ok((await objectiveAt(engine, objective, r.image)) > r.values[0]! + 0.1);
  // Two tensors: two runs a step, gradients summed.
  runs = 0;
  await visualize(counted, { objective: sum(classLogit(1), channel('features', 0)), steps: 3 });
  assert.equal(runs, 6);
});

test('classModel: Simonyan et al. from the zero image maximizes the pre-softmax score', async () => {
  await using engine = new GradientEngine(zoo['softmax-head']!.build());
  const r = await classModel(engine, 7, { steps: 30, lambda: 1e-3, learningRate: 0.05 });
  // Step 0 is the zero image; values are logits (probabilities would be in (0, 1)).
  const zero = await objectiveAt(engine, classLogit(7), { data: new Float32Array(3 * 16 * 16), dims: [1, 3, 16, 16] });
  assert.ok(Math.abs(r.values[0]! - zero) < 1e-5);
  assert.ok(r.values[29]! > r.values[0]! + 0.2, `logit ${r.values[0]} -> ${r.values[29]}`);
  const final = await engine.run(r.image, { expose: ['logits'] });
  assert.ok(Math.abs((await objectiveAt(engine, classLogit(7), r.image)) - final.exposed['logits']!.data[7]!) < 1e-6);
  assert.ok(r.penalties[0] === 0 && r.penalties[29]! > 0);
});

test('snapshots and onStep', async () => {
  await using engine = new GradientEngine(zoo['tiny-vgg']!.build());
  const seen: [number, boolean][] = [];
  const r = await visualize(engine, { objective: classLogit(0), steps: 7, snapshotEvery: 3, onStep: (step, _value, image) => void seen.push([step, image !== undefined]) });
  assert.deepEqual(r.snapshots.map((s) => s.step), [0, 3, 6]);
  assert.deepEqual(seen, [[0, true], [1, false], [2, false], [3, true], [4, false], [5, false], [6, true]]);
  assert.deepEqual(r.snapshots[0]!.image.dims, [1, 3, 32, 32]);
});

test('AbortSignal stops the loop between steps and returns what was done', async () => {
  await using engine = new GradientEngine(zoo['tiny-vgg']!.build());
  const controller = new AbortController();
  const r = await visualize(engine, { objective: classLogit(0), steps: 100, signal: controller.signal, onStep: (step) => void (step === 4 && controller.abort()) });
  assert.equal(r.aborted, true);
  assert.equal(r.values.length, 5);
  assert.deepEqual(r.image.dims, [1, 3, 32, 32]);
  const none = await visualize(engine, { objective: classLogit(0), steps: 100, signal: AbortSignal.abort() });
  assert.deepEqual([none.aborted, none.values.length], [true, 0]);
  const d = await dream(engine, none.image, 'features', { octaves: 1, steps: 50, signal: AbortSignal.abort() });
  assert.deepEqual([d.aborted, d.values.length], [true, 0]);
});

test('fourier: one coefficient gives the expected cosine (and sine) pattern', () => {
  // 8x8, no colour mix, decay 1: coefficient (ky, kx) = (1, 2) has f = sqrt(1 + 4)/8, scale
  // 8 / f / 4, multiplicity 2, irfft norm 1/64: amplitude 1/(2 sqrt 5) = 0.2236068.
  const shape: ImageShape = [1, 1, 8, 8];
  const p = fourier().create(shape, new Rng(0));
  const k = 8 / 2 + 1;
  const c = new Float64Array(p.params.length);
  c[2 * (1 * k + 2)] = 1;
  const x = p.image(c);
  const at = (y: number, xx: number) => x[y * 8 + xx]!;
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);
  close(at(0, 0), 0.22360679774997896);
  close(at(0, 1), 0); // cos(pi/2)
  close(at(0, 2), -0.22360679774997896); // cos(pi)
  close(at(1, 0), 0.15811388300841897); // cos(pi/4)
  close(at(3, 1), -0.15811388300841897); // cos(5 pi/4)
  // An imaginary coefficient: Re(i e^(i theta)) = -sin(theta).
  c.fill(0);
  c[2 * (1 * k + 2) + 1] = 1;
  const s = p.image(c);
  close(s[1]!, -0.22360679774997896); // -sin(pi/2) at (0, 1)
  close(s[0]!, 0);
});

test('fourier: exact adjoint (dot-product test) for even and odd sizes, with and without colour mix', () => {
  const rng = new Rng(2);
  for (const [shape, options] of [
    [[1, 3, 8, 8], {}],
    [[2, 3, 9, 7], { decay: 1.5 }],
    [[1, 1, 6, 5], {}],
    [[1, 3, 10, 12], { decorrelate: false }],
  ] as const) {
    const p = fourier(options).create(shape, rng);
    const size = (shape as readonly number[]).reduce((a, b) => a * b, 1);
    assertAdjoint({ forward: (c) => p.image(c), adjoint: (g) => p.adjoint(g) }, p.params.length, size, `fourier ${shape.join('x')}`, 1e-9);
  }
  const px = pixels({ decorrelate: true }).create([1, 3, 5, 4], rng);
  assertAdjoint({ forward: (c) => px.image(c), adjoint: (g) => px.adjoint(g) }, 60, 60, 'decorrelated pixels', 1e-9);
});

test('fourier 224x224: forward plus adjoint transform well under 30 ms', () => {
  const p = fourier().create([1, 3, 224, 224], new Rng(0));
  const x = p.image();
  for (let i = 0; i < 3; i++) p.adjoint(p.image());
  const t = performance.now();
  for (let i = 0; i < 5; i++) p.adjoint(p.image());
  const ms = (performance.now() - t) / 5;
  assert.ok(ms < 30, `${ms.toFixed(1)} ms`);
  assert.equal(x.length, 3 * 224 * 224);
});

test('periodic blur: the Fourier blur (a product in the spectrum) equals the circular pixel blur of its image', () => {
  const shape: ImageShape = [1, 3, 9, 8];
  const f = fourier().create(shape, new Rng(4));
  const px = pixels({ init: f.image() }).create(shape, new Rng(0));
  f.blur(0.8);
  px.blur(0.8);
  const [a, b] = [f.image(), px.image()];
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-12);
});

test('jitter moves pixels exactly; shift, scale/rotate and resize have exact adjoints', () => {
  // A 3x4 plane holding 0..11, moved by (dy, dx) = (1, 2).
  const shape: ImageShape = [1, 1, 3, 4];
  const x = Float64Array.from({ length: 12 }, (_, i) => i);
  assert.deepEqual([...shift(shape, 1, 2, 'wrap').forward(x)], [10, 11, 8, 9, 2, 3, 0, 1, 6, 7, 4, 5]);
  assert.deepEqual([...shift(shape, 1, 2, 'zero').forward(x)], [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 4, 5]);
  assert.deepEqual([...shift(shape, -1, -1, 'zero').forward(x)], [5, 6, 7, 0, 9, 10, 11, 0, 0, 0, 0, 0]);
  // A 90 degree turn counter-clockwise brings the pixel right of the centre above it.
  const dotRight = new Float64Array(9);
  dotRight[1 * 3 + 2] = 1;
  const turned = scaleRotate([1, 1, 3, 3], 1, 90).forward(dotRight);
  assert.ok(Math.abs(turned[0 * 3 + 1]! - 1) < 1e-12 && turned.reduce((s, v) => s + Math.abs(v), 0) < 1 + 1e-12);

  const big: ImageShape = [2, 3, 11, 9];
  const n = 2 * 3 * 11 * 9;
  assertAdjoint(shift(big, 3, -2, 'wrap'), n, n, 'shift wrap');
  assertAdjoint(shift(big, -4, 5, 'zero'), n, n, 'shift zero');
  assertAdjoint(scaleRotate(big, 1.13, 0), n, n, 'scale');
  assertAdjoint(scaleRotate(big, 1, 17), n, n, 'rotate');
  assertAdjoint(scaleRotate(big, 0.9, -8), n, n, 'scale and rotate');
  assertAdjoint(resize(big, 7, 13), n, 2 * 3 * 7 * 13, 'resize');
  const rng = new Rng(9);
  assertAdjoint(warpMap(big, standardTransforms().map((t) => t.sample(rng, big))), n, n, 'standard transforms (fused)');
  assertAdjoint(warpMap(big, [jitter(3, { boundary: 'wrap' }), randomRotate(10), jitter(2)].map((t) => t.sample(rng, big))), n, n, 'mixed boundaries');
  assertAdjoint(compose([shift(big, 1, 1, 'wrap'), scaleRotate(big, 1.1, 5)]), n, n, 'compose');
});

test('regularizers: L2 and total variation gradients', () => {
  const shape: ImageShape = [1, 2, 5, 6];
  const rng = new Rng(3);
  const x = random(rng, 60);
  const g = new Float64Array(60);
  assert.ok(Math.abs(l2(0.5).apply(x, shape, g, 1) - 0.5 * dot(x, x)) < 1e-12);
  x.forEach((v, i) => assert.ok(Math.abs(g[i]! - v) < 1e-15)); // 2 lambda I
  const tv = totalVariation(0.3, { epsilon: 0.1 });
  const grad = new Float64Array(60);
  tv.apply(x, shape, grad, 1);
  const v = random(rng, 60);
  const h = 1e-6;
  const at = (s: number) => tv.apply(x.map((xi, i) => xi + s * h * v[i]!), shape, new Float64Array(60), 0);
  const fd = (at(1) - at(-1)) / (2 * h);
  assert.ok(Math.abs(fd - dot(grad, v)) < 1e-6 * Math.abs(fd), `${fd} vs ${dot(grad, v)}`);
  // A constant image has no variation.
  assert.equal(tv.apply(new Float64Array(60).fill(2), shape, new Float64Array(60), 0), 0);
});

test("Adam's first step has the size of the learning rate (bias correction)", () => {
  const rng = new Rng(1);
  const g = Float64Array.from(rng.normals(100, 0, 5));
  const params = new Float64Array(100);
  adam(100, 0.05).step(params, g);
  // lr g / (|g| + eps): lr up to eps/|g| (1e-8/|g|), in every coordinate, whatever |g|.
  params.forEach((p, i) => assert.ok(Math.abs(p - 0.05 * Math.sign(g[i]!)) <= 0.05 * (1e-8 / Math.abs(g[i]!)) * 1.001, `${p} for gradient ${g[i]}`));
});

test('objective algebra: sum, scale and negate give the expected weight tensors', async () => {
  await using engine = new GradientEngine(zoo['tiny-vgg']!.build());
  const s = await engine.specialize([2, 3, 32, 32]);
  // features: [2, 16, 16, 16]
  const parts = resolveObjective(s, sum(scale(channel('features', 3), 2), negate(channel('features', 5)), neuron('features', 1, 2, 3), neuron('features', 0)));
  assert.equal(parts.length, 1);
  const [{ tensor, weights }] = parts as [(typeof parts)[0]];
  assert.equal(tensor, 'features');
  assert.deepEqual(weights.dims, [2, 16, 16, 16]);
  const area = 256;
  for (const image of [0, 1]) {
    const w = (k: number, y: number, x: number) => weights.data[image * 16 * area + k * area + y * 16 + x]!;
    assert.equal(w(3, 0, 0), 2 / 256);
    assert.equal(w(3, 15, 15), 2 / 256);
    assert.equal(w(5, 7, 9), -1 / 256);
    assert.equal(w(1, 2, 3), 1);
    assert.equal(w(1, 2, 4), 0);
    assert.equal(w(0, 8, 8), 1); // default neuron position: the centre
  }
  const nonzero = weights.data.reduce((c, v) => c + (v !== 0 ? 1 : 0), 0);
  assert.equal(nonzero, 2 * (2 * area + 2));
  // Different tensors stay separate parts; the class term is the (pre-softmax) logit.
  const mixed = resolveObjective(s, sum(scale(classLogit(4), 3), channel('features', 0)));
  assert.deepEqual(mixed.map((p) => p.tensor), ['logits', 'features']);
  assert.deepEqual([...mixed[0]!.weights.data], [0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0]);
  await using soft = new GradientEngine(zoo['softmax-head']!.build());
  assert.equal(resolveObjective(await soft.specialize([1, 3, 16, 16]), classLogit(2))[0]!.tensor, 'logits');
});

test('bad layer, channel, position and class name the valid range', async () => {
  await using engine = new GradientEngine(zoo['tiny-vgg']!.build());
  const s = await engine.specialize([1, 3, 32, 32]);
  assert.throws(() => resolveObjective(s, channel('features', 99)), (e: unknown) => e instanceof OptionError && e.message === "channel 99 of 'features' is out of range: it has 16 channels (0..15)");
  assert.throws(() => resolveObjective(s, neuron('features', 1, 16, 0)), /row y = 16 of 'features' is out of range: it has 16 rows \(0\.\.15\)/);
  assert.throws(() => resolveObjective(s, classLogit(10)), /class 10 of 'logits' is out of range: it has 10 classes \(0\.\.9\)/);
  assert.throws(() => resolveObjective(s, channel('nope', 0)), (e: unknown) => e instanceof LayerError && /no layer 'nope'.*features/.test(e.message));
  assert.throws(() => resolveObjective(s, channel(99, 0)), /layer index 99 is out of range/);
  await assert.rejects(visualize(engine, { objective: classLogit(0), steps: 0 }), /steps must be a whole number >= 1, not 0/);
  await assert.rejects(visualize(engine, { objective: classLogit(0), optimizer: 'rmsprop' as 'adam' }), /unknown optimizer 'rmsprop' \(choices: adam, sgd\)/);
});

/** The model with its input's height and width made free (so octaves can change the size). */
function freeSize(model: ModelProto): ModelProto {
  const input = model.graph!.input![0]!;
  const dim = input.type!.tensorType!.shape!.dim!;
  const free = dim.map((d, i) => (i >= 2 ? { dimParam: i === 2 ? 'H' : 'W' } : d));
  return { ...model, graph: { ...model.graph!, input: [{ ...input, type: { tensorType: { ...input.type!.tensorType!, shape: { dim: free } } } }] } };
}

test('dream: octaves raise 0.5 ||A||^2 of the layer from a photo', async () => {
  await using engine = new GradientEngine(freeSize(zoo['tiny-resnet']!.build()));
  const photo: Tensor = { data: new Rng(8).uniforms(3 * 32 * 32, -1, 1), dims: [1, 3, 32, 32] };
  const layer = 'block2.relu';
  const energy = async (image: Tensor) => {
    const a = (await engine.run(image, { expose: [layer] })).exposed[layer]!;
    return 0.5 * dot(a.data, a.data);
  };
  const r = await dream(engine, photo, layer, { octaves: 2, octaveScale: 1.4, steps: 8, learningRate: 0.02, jitter: 4 });
  assert.equal(r.values.length, 16);
  assert.deepEqual(r.image.dims, [1, 3, 32, 32]);
  const [before, after] = [await energy(photo), await energy(r.image)];
  assert.ok(after > 1.2 * before, `${before} -> ${after}`);
  // Aborted in the small octave: the detail so far comes back at the photo's size.
  const controller = new AbortController();
  const cut = await dream(engine, photo, layer, { octaves: 2, steps: 8, learningRate: 0.02, jitter: 4, signal: controller.signal, onStep: (s) => void (s === 2 && controller.abort()) });
  assert.deepEqual([cut.aborted, cut.values.length, cut.image.dims], [true, 3, [1, 3, 32, 32]]);
  assert.ok(cut.image.data.some((v, i) => Math.abs(v - photo.data[i]!) > 1e-4));
  // A fixed-size model cannot take the smaller octaves.
  await using fixed = new GradientEngine(zoo['tiny-resnet']!.build());
  await assert.rejects(dream(fixed, photo, layer, { octaves: 2 }), /takes only 32x32 images.*octaves: 1/);
});
