/**
 * Colorbars (src/viz/colorbar.ts) and the report's scales: a map's scale is the value range
 * its colours stand for, checked against the renderer's own normalization (min + v * (max - min)
 * gives back the map before normalizing), and an explain run's report puts under every
 * rendered map a colorbar whose range is that of the map (saliency: the extent of the raw
 * gradient magnitudes from a separate library run).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { colorbarStrip, colorbarTicks, cssGradient, explanationScale, formatTick, valueRange } from '../src/viz/colorbar.ts';
import { colormapTable } from '../src/viz/colormaps.ts';
import { resizeBilinear } from '../src/viz/resize.ts';
import { gradientImage, signedImage } from '../src/viz/render.ts';
import { Lens } from '../src/app/lens.ts';
import { explainRun } from '../src/app/explain-run.ts';
import { loadInputs } from '../src/input/load-input.ts';
import { zoo } from './zoo/models.ts';
import { fixture } from './helpers.ts';

test('tick labels: min, 0 inside, max; short numbers', () => {
  assert.deepEqual(colorbarTicks({ colormap: 'jet', min: -1, max: 3 }), [
    { value: -1, at: 0, label: '-1' },
    { value: 0, at: 0.25, label: '0' },
    { value: 3, at: 1, label: '3' },
  ]);
  assert.deepEqual(colorbarTicks({ colormap: 'jet', min: 0, max: 0.5 }).map((t) => t.label), ['0', '0.5']);
  assert.deepEqual(colorbarTicks({ colormap: 'jet', min: 2, max: 2 }), [{ value: 2, at: 0, label: '2' }]);
  assert.deepEqual([0.123456, 12345.6, -0.00001234, 1e-3, 999.4, 100].map(formatTick), ['0.123', '1.23e4', '-1.23e-5', '0.001', '999', '100']);
  assert.deepEqual(valueRange(new Float32Array([3, -2, 7, 0])), { min: -2, max: 7 });
  assert.deepEqual(valueRange(new Float32Array(0)), { min: 0, max: 0 });
});

test('strip and CSS gradient come from the colormap table: left = entry 0, right = entry 255', () => {
  const jet = colormapTable('jet');
  const strip = colorbarStrip('jet', 256, 2);
  for (const x of [0, 37, 128, 255]) {
    assert.deepEqual([...strip.data.subarray(3 * x, 3 * x + 3)], [...jet.subarray(3 * x, 3 * x + 3)]);
    assert.deepEqual([...strip.data.subarray(3 * (256 + x), 3 * (256 + x) + 3)], [...jet.subarray(3 * x, 3 * x + 3)]); // second row the same
  }
  // 'channels' is grey: entry round(127.5) = 128 in the middle.
  assert.equal(cssGradient('channels', 3), 'linear-gradient(to right, #000000 0%, #808080 50%, #ffffff 100%)');
});

test("a map's scale is what its colours stand for: min + v * (max - min) gives back the upsampled raw map", async () => {
  await using lens = await Lens.open(zoo['tiny-vgg']!.build(), { preset: 'unit', resize: 'stretch' });
  const loaded = await loadInputs([fixture('images/coffee.jpg'), fixture('images/chelsea.jpg')], [1, 3, 32, 32], { preset: 'unit', resize: 'stretch' });
  for (const method of ['grad-cam', 'saliency', 'occlusion']) {
    for (const e of await lens.explain(loaded.tensor, method)) {
      const scale = explanationScale(e, 'jet');
      const [h, w] = e.rawDims as [number, number];
      const [H, W] = e.dims as [number, number];
      const before = h === H && w === W ? e.raw : resizeBilinear(e.raw, h, w, H, W);
      const range = scale.max - scale.min;
      assert.ok(range > 0, `${method}: a blank map`);
      let worst = 0;
      e.values.forEach((v, i) => (worst = Math.max(worst, Math.abs(scale.min + v * range - before[i]!))));
      assert.ok(worst <= 1e-5 * range, `${method}: ${worst}`);
      // The ends are reached: the colormap's two ends are really in the picture.
      assert.equal(Math.min(...e.values), 0);
      assert.ok(Math.abs(Math.max(...e.values) - 1) < 1e-6);
      if (e.method === 'grad-cam') assert.ok(h < H && scale.min >= Math.min(...e.raw) && scale.max <= Math.max(...e.raw));
    }
  }
  // An attribution image: black is its smallest value, white its largest, over all channels.
  const [g] = await lens.explain(loaded.tensor, 'guided-backprop');
  const scale = explanationScale(g!, 'jet');
  assert.equal(scale.colormap, 'channels');
  const picture = gradientImage(g!.values, g!.dims[2]!, g!.dims[1]!, { mode: 'minmax' });
  const plane = g!.dims[1]! * g!.dims[2]!;
  const at = (v: number) => g!.values.indexOf(v);
  const lo = at(scale.min);
  const hi = at(scale.max);
  assert.equal(picture.data[3 * (lo % plane) + Math.floor(lo / plane)], 0);
  assert.equal(picture.data[3 * (hi % plane) + Math.floor(hi / plane)], 255);
  // A signed attribution image: the channel sum on coolwarm, 0 in the middle; the pixel with
  // the largest |sum| takes an end colour of the table, the sign choosing which.
  const [x] = await lens.explain(loaded.tensor, 'input-x-gradient');
  const signed = explanationScale(x!, 'jet', true);
  assert.equal(signed.colormap, 'coolwarm');
  assert.equal(signed.min, -signed.max);
  const sums = new Float64Array(plane);
  x!.values.forEach((v, i) => (sums[i % plane] = sums[i % plane]! + v));
  let k = 0;
  sums.forEach((v, i) => (k = Math.abs(v) > Math.abs(sums[k]!) ? i : k));
  assert.ok(Math.abs(Math.abs(sums[k]!) - signed.max) <= 1e-5 * signed.max);
  const drawn = signedImage(x!.values, x!.dims[2]!, x!.dims[1]!);
  const table = colormapTable('coolwarm');
  const end = sums[k]! > 0 ? 255 : 0;
  assert.deepEqual([...drawn.data.subarray(3 * k, 3 * k + 3)], [...table.subarray(3 * end, 3 * end + 3)]);
});

test('explain run: every map in the report carries a colorbar with its range; saliency\'s equals the raw extent of a separate run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convlens-colorbar-'));
  try {
    const images = join(dir, 'images');
    mkdirSync(images);
    copyFileSync(fixture('images/coffee.jpg'), join(images, 'coffee.jpg'));
    copyFileSync(fixture('images/chelsea.jpg'), join(images, 'chelsea.jpg'));
    const spec = { preset: 'unit', resize: 'stretch' as const };
    await using lens = await Lens.open(zoo['tiny-vgg']!.build(), spec);
    const methods = ['grad-cam', 'saliency', 'guided-backprop', 'input-x-gradient', 'occlusion-probability'];
    const out = join(dir, 'out');
    const summary = await explainRun(lens, [images], { methods, out, raw: false, colormap: 'viridis', alpha: 0.5, options: { batchSize: 2 } });
    const html = readFileSync(summary.report, 'utf8');
    const cells = html.split('<figure class="cell">').slice(1);
    assert.equal(cells.length, 2 * methods.length);
    const bars = cells.map((c) => {
      const m = /<code>([^<]*)<\/code>[\s\S]*?<div class="cbar"[^>]*data-min="([^"]*)" data-max="([^"]*)"><span class="strip cm-([a-z]+)">/.exec(c);
      assert.ok(m, `a map without a colorbar: ${c.slice(0, 120)}`);
      return { method: m[1]!, min: Number(m[2]), max: Number(m[3]), colormap: m[4]! };
    });
    for (const b of bars) assert.equal(b.colormap, b.method === 'guided-backprop' ? 'channels' : b.method === 'input-x-gradient' ? 'coolwarm' : 'viridis');
    for (const b of bars.filter((x) => x.method === 'input-x-gradient')) assert.ok(b.min === -b.max && b.max > 0);
    const loaded = await loadInputs([join(images, 'chelsea.jpg'), join(images, 'coffee.jpg')], [1, 3, 32, 32], spec);
    await using separate = await Lens.open(zoo['tiny-vgg']!.build(), spec);
    const saliency = await separate.explain(loaded.tensor, 'saliency');
    const shown = bars.filter((b) => b.method === 'saliency');
    // Report rows are in input order (chelsea, coffee: sorted file names).
    for (const [i, e] of saliency.entries()) {
      const { min, max } = valueRange(e.raw);
      assert.ok(Math.abs(shown[i]!.min - min) <= 1e-6 * max && Math.abs(shown[i]!.max - max) <= 1e-6 * max, `${shown[i]!.min}..${shown[i]!.max} vs ${min}..${max}`);
    }
    // Probabilities: occlusion-probability's range lies in [0, 1].
    for (const b of bars.filter((x) => x.method === 'occlusion-probability')) assert.ok(b.min >= 0 && b.max <= 1 && b.min < b.max);
    assert.match(html, /Reads the OTHER way from occlusion/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
