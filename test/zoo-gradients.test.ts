/**
 * Whole-model gradient checks on every zoo model: the compiled directional derivative
 * <dS/dx, v> agrees with a central finite difference of S = sum(w * logits) (float32, so
 * the tolerance is loose), for several targets and batch sizes, with respect to the input
 * and, by the chain rule through the exposed activation, to the last conv stage; and a
 * batch gives the per-image results.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { zoo } from './zoo/models.ts';
import { Rng } from '../src/runtime/rng.ts';
import { GradientEngine } from '../src/autodiff/engine.ts';
import type { Tensor } from '../src/runtime/session.ts';
import { oneHot, relativeL2 } from './helpers.ts';

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

function randomTensor(rng: Rng, dims: number[], scale = 1): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  return { data: Float32Array.from({ length: n }, () => scale * rng.normal()), dims };
}

for (const [name, entry] of Object.entries(zoo)) {
  test(`${name}: input and layer gradients agree with finite differences`, async () => {
    const rng = new Rng(7);
    await using engine = new GradientEngine(entry.build());
    for (const batch of [1, 2]) {
      const x = randomTensor(rng, entry.inputShape(batch));
      const targets = Array.from({ length: batch }, () => Math.floor(rng.uniform() * 10));
      const w = oneHot([batch, 10], targets);
      const layer = entry.spatialLayer;
      const res = await engine.run(x, { wrt: ['input', layer], expose: [layer] }, w);
      // A direction correlated with the gradient (a random one mostly cancels, leaving a
      // derivative too small for float32 differences), with a random part.
      const g = res.gradients['input']!.data;
      const gMax = g.reduce((m, t) => Math.max(m, Math.abs(t)), 1e-12);
      const v = { data: g.map((t) => t / gMax + 0.3 * rng.normal()), dims: x.dims };
      const h = 1e-3;
      // The target is the pre-softmax score (softmax-head differentiates its logits).
      const target = res.compiled.target;
      const at = (s: number) => engine.run({ data: x.data.map((xi, i) => xi + s * h * v.data[i]!), dims: x.dims }, { expose: [layer, target] });
      const [p, m] = [await at(1), await at(-1)];
      const score = (r: typeof p) => dot(r.exposed[target]!.data, w.data);
      const dS = score(p) - score(m);
      const close = (a: number, b: number) => Math.abs(a - b) <= 2e-2 * Math.max(Math.abs(a), Math.abs(b), 1e-3);
      // Input: <dS/dx, 2 h v> against the central difference.
      const viaInput = 2 * h * dot(res.gradients['input']!.data, v.data);
      assert.ok(close(viaInput, dS), `${name} batch ${batch} input: ${viaInput} vs dS ${dS}`);
      // Layer: the chain rule <dS/dA, A(x + h v) - A(x - h v)> against the same difference.
      const dA = p.exposed[layer]!.data.map((a, i) => a - m.exposed[layer]!.data[i]!);
      const viaLayer = dot(res.gradients[layer]!.data, dA);
      assert.ok(close(viaLayer, dS), `${name} batch ${batch} layer: ${viaLayer} vs dS ${dS}`);
    }
  });

  test(`${name}: a batch of 3 equals three single images (gradients and activations)`, async () => {
    const rng = new Rng(11);
    await using engine = new GradientEngine(entry.build());
    const x = randomTensor(rng, entry.inputShape(3));
    const targets = [1, 4, 9];
    const req = { wrt: ['input', entry.spatialLayer], expose: [entry.spatialLayer] };
    const all = await engine.run(x, req, oneHot([3, 10], targets));
    const size = x.data.length / 3;
    for (let i = 0; i < 3; i++) {
      const one = await engine.run({ data: x.data.slice(i * size, (i + 1) * size), dims: entry.inputShape(1) }, req, oneHot([1, 10], [targets[i]!]));
      for (const [kind, key] of [['gradients', 'input'], ['gradients', entry.spatialLayer], ['exposed', entry.spatialLayer]] as const) {
        const full = all[kind][key]!.data;
        const part = one[kind][key]!.data;
        const slice = full.subarray(i * part.length, (i + 1) * part.length);
        assert.ok(relativeL2(slice, part) < 1e-5, `${name} image ${i} ${kind} ${key}`);
      }
    }
  });
}
