/**
 * The smoothing wrapper (src/methods/smooth.ts) over any method: exact on a linear model
 * (constant gradient), the three aggregates consistent with each other, noise 0 equal to
 * the plain method, the smoothgrad ids equal to their wrapper form, batch equal to a loop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Explainer } from '../src/methods/explainer.ts';
import { OptionError } from '../src/errors.ts';
import { Rng } from '../src/runtime/rng.ts';
import type { Tensor } from '../src/runtime/session.ts';
import { Net } from './zoo/net.ts';
import { zoo } from './zoo/models.ts';

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
const scale = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

function randomImages(dims: number[], seed: number): Tensor {
  const rng = new Rng(seed);
  return { data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng.normal()), dims };
}

test('on a linear model smoothing changes nothing: mean = gradient, mean of squares = its square, variance = 0', async () => {
  const net = new Net('linear', 3, ['N', 3, 8, 8]);
  const model = net.finish([net.gemm(net.flatten(net.conv(net.input, 4)), 5, { gain: 1, name: 'logits' })]);
  await using ex = await Explainer.create(model);
  const x = randomImages([2, 3, 8, 8], 4);
  const plain = await ex.explain(x, 'gradient', { target: [1, 1] });
  const noisy = { target: [1, 1], samples: 5, noise: 0.5 };
  const mean = await ex.explain(x, 'gradient', { ...noisy, smooth: 'smoothgrad' });
  const squares = await ex.explain(x, 'gradient', { ...noisy, smooth: 'smoothgrad-squared' });
  const variance = await ex.explain(x, 'gradient', { ...noisy, smooth: 'vargrad' });
  for (const [i, p] of plain.entries()) {
    assert.ok(maxDiff(mean[i]!.raw, p.raw) <= 1e-5 * scale(p.raw), 'mean');
    assert.ok(maxDiff(squares[i]!.raw, p.raw.map((v) => v * v)) <= 1e-5 * scale(p.raw) ** 2, 'mean of squares');
    assert.ok(scale(variance[i]!.raw) <= 1e-5 * scale(p.raw) ** 2, 'variance');
  }
});

test('vargrad = smoothgrad-squared - smoothgrad^2 with the same noise (lrp on tiny-vgg)', async () => {
  await using ex = await Explainer.create(zoo['tiny-vgg']!.build());
  const x = randomImages([2, 3, 32, 32], 5);
  const o = { target: [3, 7], samples: 4, noise: 0.2, seed: 9 };
  const [mean, squares, variance] = await Promise.all(['smoothgrad', 'smoothgrad-squared', 'vargrad'].map((smooth) => ex.explain(x, 'lrp', { ...o, smooth })));
  for (let i = 0; i < 2; i++) {
    const expected = squares![i]!.raw.map((v, j) => v - mean![i]!.raw[j]! ** 2);
    assert.ok(maxDiff(variance![i]!.raw, expected) <= 1e-4 * scale(squares![i]!.raw), `image ${i}`);
    assert.ok(scale(variance![i]!.raw) > 0, 'the noise changed something');
  }
});

test('noise 0 gives the plain method (grad-cam rectified per sample, integrated-gradients)', async () => {
  await using ex = await Explainer.create(zoo['tiny-resnet']!.build());
  const x = randomImages([2, 3, 32, 32], 6);
  for (const [method, extra] of [['grad-cam', {}], ['integrated-gradients', { steps: 8 }]] as const) {
    const plain = await ex.explain(x, method, { ...extra });
    const smoothed = await ex.explain(x, method, { ...extra, smooth: 'smoothgrad', samples: 3, noise: 0 });
    assert.equal(smoothed.length, plain.length);
    for (const [i, p] of plain.entries()) assert.ok(maxDiff(smoothed[i]!.raw, p.raw) <= 1e-5 * scale(p.raw), `${method} ${i}`);
  }
});

test('the smoothgrad ids are the wrapper over their base; a batch equals a loop over its images', async () => {
  await using ex = await Explainer.create(zoo['tiny-vgg']!.build());
  const x = randomImages([3, 3, 32, 32], 7);
  const o = { samples: 3, noise: 0.1, seed: 2 };
  const alias = await ex.explain(x, 'smoothgrad', { ...o, base: 'guided-backprop' });
  const wrapped = await ex.explain(x, 'guided-backprop', { ...o, smooth: 'smoothgrad' });
  for (const [i, a] of alias.entries()) assert.ok(maxDiff(a.raw, wrapped[i]!.raw) <= 1e-6 * scale(a.raw), `image ${i}`);
  const per = 3 * 32 * 32;
  for (let i = 0; i < 3; i++) {
    const one = { data: x.data.slice(i * per, (i + 1) * per), dims: [1, 3, 32, 32] };
    const [single] = await ex.explain(one, 'guided-backprop', { ...o, smooth: 'smoothgrad', target: [alias[i]!.class!] });
    assert.ok(maxDiff(single!.raw, wrapped[i]!.raw) <= 1e-5 * scale(single!.raw), `loop image ${i}`);
  }
});

test('smoothing option mistakes are OptionErrors naming the valid values', async () => {
  await using ex = await Explainer.create(zoo['tiny-vgg']!.build());
  const x = randomImages([1, 3, 32, 32], 8);
  await assert.rejects(ex.explain(x, 'grad-cam', { smooth: 'gaussian' }), (e: Error) => e instanceof OptionError && /smoothgrad-squared/.test(e.message));
  await assert.rejects(ex.explain(x, 'lrp', { smooth: 'smoothgrad', samples: 0 }), OptionError);
  await assert.rejects(ex.explain(x, 'saliency', { smooth: 'smoothgrad', noise: -1 }), OptionError);
});
