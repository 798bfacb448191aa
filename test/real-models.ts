/**
 * Shared checks for the real pretrained models (@vladmandic/human, nsfwjs; dev
 * dependencies): every registry method on one image, and a finite-difference check of the
 * input gradient along its own direction.
 */
import assert from 'node:assert/strict';
import { methodIds } from '../src/methods/registry.ts';
import type { Lens } from '../src/app/lens.ts';
import type { Target } from '../src/targets/targets.ts';
import type { Tensor } from '../src/runtime/session.ts';
import type { Explanation } from '../src/methods/types.ts';

/** Every method explains `x` with finite, non-constant values (maps in [0, 1]); returns the results by id. */
export async function everyMethod(lens: Lens, x: Tensor, target: Target, options: Record<string, Record<string, unknown>>): Promise<Map<string, Explanation>> {
  const results = new Map<string, Explanation>();
  for (const id of methodIds) {
    const [e] = await lens.explain(x, id, { target, batchSize: 16, ...(options[id] ?? {}) });
    let [lo, hi] = [Infinity, -Infinity];
    for (const v of e!.values) {
      assert.ok(Number.isFinite(v), `${id}: a value is ${v}`);
      [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    }
    assert.ok(hi > lo, `${id}: a constant result (${lo})`);
    if (e!.kind === 'map') assert.ok(lo >= 0 && hi <= 1, `${id}: map values outside [0, 1]`);
    results.set(id, e!);
  }
  return results;
}

/**
 * The gradient g of class `c`'s score at x against (f(x + h u) - f(x - h u)) / 2h along
 * u = g / |g| (which is |g|): the relative error.
 */
export async function directionalError(lens: Lens, x: Tensor, c: number, h: number): Promise<number> {
  const [g] = await lens.explain(x, 'gradient', { target: c });
  // The gradient method returns [C, H, W]; an NHWC input's direction is the same values in HWC order.
  const [, a, b, k] = x.dims as [number, number, number, number];
  const nhwc = k === 1 || k === 3;
  const [ch, height, width] = nhwc ? [k, a, b] : [a, b, k];
  const u = new Float32Array(x.data.length);
  let norm = 0;
  for (const v of g!.raw) norm += v * v;
  norm = Math.sqrt(norm);
  for (let q = 0; q < ch; q++) {
    for (let p = 0; p < height * width; p++) u[nhwc ? p * ch + q : q * height * width + p] = g!.raw[q * height * width + p]! / norm;
  }
  const shifted = (s: number): Tensor => ({ data: x.data.map((v, i) => v + s * h * u[i]!), dims: x.dims });
  const both: Tensor = { data: Float32Array.from([...shifted(1).data, ...shifted(-1).data]), dims: [2, ...x.dims.slice(1)] };
  const { scores } = await lens.explainer.predict(both);
  const per = scores.data.length / 2;
  const fd = (scores.data[c]! - scores.data[per + c]!) / (2 * h);
  return Math.abs(fd - norm) / norm;
}
