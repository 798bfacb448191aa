/**
 * Every registered method on every zoo model: finite values of the expected shape,
 * determinism, and a batch equal to the loop over its images. Methods that do not apply
 * to a model (CAM without a GAP -> FC head) must say so with a clear error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { methods } from '../src/methods/registry.ts';
import { Explainer } from '../src/methods/explainer.ts';
import { CamHeadError } from '../src/methods/cam/cam.ts';
import type { Explanation } from '../src/methods/types.ts';
import { Rng } from '../src/runtime/rng.ts';
import { zoo } from './zoo/models.ts';

/** Small settings so the table runs quickly; the methods' own tests use real ones. */
const fast: Record<string, Record<string, unknown>> = {
  smoothgrad: { samples: 3 },
  'smoothgrad-squared': { samples: 3 },
  vargrad: { samples: 3 },
  'integrated-gradients': { steps: 6 },
  rise: { masks: 24 },
  occlusion: { window: 8, stride: 8 },
  'occlusion-probability': { window: 8, stride: 8 },
};

const same = (a: Explanation[], b: Explanation[]) => {
  assert.equal(a.length, b.length);
  a.forEach((e, i) => {
    assert.deepEqual(e.dims, b[i]!.dims);
    const d = e.values.reduce((m, v, j) => Math.max(m, Math.abs(v - b[i]!.values[j]!)), 0);
    assert.ok(d <= 1e-4, `${e.method} result ${i} differs by ${d}`);
  });
};

for (const [name, entry] of Object.entries(zoo)) {
  test(`every method on ${name}`, async () => {
    await using ex = await Explainer.create(entry.build());
    const rng = new Rng(21);
    const dims = entry.inputShape(2);
    const batch = { data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng.normal()), dims };
    const half = batch.data.length / 2;
    const single = (i: number) => ({ data: batch.data.slice(i * half, (i + 1) * half), dims: entry.inputShape(1) });
    const geometry = name === 'nhwc-input' ? { c: dims[3]!, h: dims[1]!, w: dims[2]! } : { c: dims[1]!, h: dims[2]!, w: dims[3]! };
    for (const method of methods) {
      const options = { ...fast[method.id], target: [3, 7], targetLayers: [entry.spatialLayer] };
      let results: Explanation[];
      try {
        results = await ex.explain(batch, method.id, options);
      } catch (e) {
        assert.ok(method.id === 'cam' && e instanceof CamHeadError, `${method.id}: ${(e as Error).message}`);
        assert.match((e as Error).message, /global average pooling.*use grad-cam/);
        continue;
      }
      assert.equal(results.length, 2, method.id);
      for (const r of results) {
        assert.ok(r.values.every(Number.isFinite) && r.raw.every(Number.isFinite), `${method.id}: finite`);
        if (r.kind === 'map') {
          assert.deepEqual(r.dims, [geometry.h, geometry.w], `${method.id}: map shape`);
          assert.ok(r.values.every((v) => v >= 0 && v <= 1), `${method.id}: normalized`);
        } else assert.deepEqual(r.dims, [geometry.c, geometry.h, geometry.w], `${method.id}: image shape`);
      }
      // A method that uses no class (eigen-cam) claims none.
      const [c0, c1] = method.usesTarget === false ? [undefined, undefined] : [3, 7];
      assert.deepEqual(results.map((r) => [r.image, r.class]), [[0, c0], [1, c1]], `${method.id}: rows`);
      same(results, await ex.explain(batch, method.id, options));
      const loop = [
        ...(await ex.explain(single(0), method.id, { ...options, target: 3 })),
        ...(await ex.explain(single(1), method.id, { ...options, target: 7 })),
      ];
      same(results, loop.map((e, i) => ({ ...e, image: i })));
    }
  });
}

test('bad method, layer and target choices are clear errors, and nothing stays open after them', async () => {
  const entry = zoo['tiny-vgg']!;
  const ex = await Explainer.create(entry.build());
  const x = { data: new Float32Array(3 * 32 * 32).fill(0.5), dims: entry.inputShape(1) };
  await assert.rejects(ex.explain(x, 'grad-cam-9000'), /unknown method 'grad-cam-9000' \(choices: gradient, saliency, .*grad-cam/);
  await assert.rejects(ex.explain(x, 'grad-cam', { targetLayers: ['nope'] }), /no layer 'nope'; spatial layers are .*features/);
  await assert.rejects(ex.explain(x, 'grad-cam', { targetLayers: ['logits'] }), /'logits' has shape \[1, 10\], not a spatial map/);
  await assert.rejects(ex.explain(x, 'grad-cam', { targetLayers: [99] }), /layer index 99 is out of range/);
  await assert.rejects(ex.explain(x, 'gradient', { target: 10 }), /target class 10 is outside the model's 10 outputs \(0..9\)/);
  await assert.rejects(ex.explain(x, 'deconvnet', { layer: 'features', channel: 99 }), /channel between 0 and 15, not 99/);
  await assert.rejects(ex.explain({ data: new Float32Array(3 * 20 * 20), dims: [1, 3, 20, 20] }, 'gradient'), /takes shape .*resize/);
  await ex.release();
  assert.equal((ex.engine as unknown as { sessions: { size: number } }).sessions.size, 0);
});
