/**
 * Readable figures (src/inspect/figure.ts): tiles upscaled by the smallest integer factor
 * reaching the minimum size, every value a k x k square in its place, a caption under each
 * tile, a colorbar whose ends are the colormap's; feature and filter figures label tiles
 * with their channel (filter/input) and give per-layer maps their real value range.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { featureFigure } from '../src/inspect/feature-maps.ts';
import { filterFigure, filterImages } from '../src/inspect/filters.ts';
import { tileFigure, upscaleFactor, upscaleNearest } from '../src/inspect/figure.ts';
import { figureSvg } from '../src/inspect/figure-png.ts';
import { specializeFor } from '../src/autodiff/compile.ts';
import { applyColormap, colormapTable } from '../src/viz/colormaps.ts';
import { createRgbImage } from '../src/viz/image.ts';
import type { LayerInfo } from '../src/targets/layers.ts';
import { zoo } from './zoo/models.ts';

const pixel = (im: { width: number; data: Uint8ClampedArray }, x: number, y: number) => [...im.data.subarray(3 * (y * im.width + x), 3 * (y * im.width + x) + 3)];

test('upscaleNearest: each pixel a k x k square', () => {
  const im = createRgbImage(2, 1, { data: new Uint8ClampedArray([10, 20, 30, 40, 50, 60]) });
  const up = upscaleNearest(im, 3);
  assert.deepEqual([up.width, up.height], [6, 3]);
  for (let y = 0; y < 3; y++) for (let x = 0; x < 6; x++) assert.deepEqual(pixel(up, x, y), x < 3 ? [10, 20, 30] : [40, 50, 60]);
  assert.deepEqual([upscaleFactor(7, 7, 64), upscaleFactor(3, 3, 64), upscaleFactor(28, 14, 64), upscaleFactor(100, 100, 64)], [10, 22, 3, 1]);
});

test('tileFigure: 7x7 tiles become 70 px squares in a grid, captioned underneath, with a colorbar', () => {
  const tiles = [0, 1, 2].map((v) => createRgbImage(7, 7, { fill: [v * 100, 0, 0] }));
  tiles[1]!.data.set([1, 2, 3], 3 * (6 * 7 + 6)); // bottom-right pixel of tile 1
  const { canvas, labels } = tileFigure(tiles, { columns: 2, captions: ['a', 'bb', 'c'], title: 'T', colorbar: { scale: { colormap: 'viridis', min: -1, max: 3 }, caption: 'value' } });
  const tileLabels = labels.filter((l) => ['a', 'bb', 'c'].includes(l.text));
  // Tile t sits at (x, y); its caption is centred under it.
  const positions = tileLabels.map((l) => [l.x - 35, l.y]);
  const [x0, y0] = [positions[0]![0]!, positions[0]![1]! - 70 - 12];
  assert.deepEqual(pixel(canvas, x0, y0), [0, 0, 0]);
  assert.deepEqual(pixel(canvas, x0 + 69, y0 + 69), [0, 0, 0]);
  const x1 = positions[1]![0]!;
  assert.ok(x1 >= x0 + 70);
  assert.deepEqual(pixel(canvas, x1, y0), [100, 0, 0]);
  assert.deepEqual(pixel(canvas, x1 + 60, y0 + 60), [1, 2, 3]); // the 10x10 square of pixel (6, 6)
  assert.deepEqual(pixel(canvas, x1 + 59, y0 + 59), [100, 0, 0]);
  assert.equal(positions[2]![0], x0); // third tile starts the second row
  assert.ok(positions[2]![1]! > positions[0]![1]! + 70);
  // Colorbar ticks: -1 at the left, 0 a quarter in, 3 at the right; the strip's ends are viridis' ends.
  const ticks = labels.filter((l) => ['-1', '0', '3'].includes(l.text));
  assert.deepEqual(ticks.map((t) => t.text), ['-1', '0', '3']);
  assert.deepEqual(ticks.map((t) => t.anchor), ['start', 'middle', 'end']);
  const barY = ticks[0]!.y - 11 - 2 - 5;
  const v = colormapTable('viridis');
  assert.deepEqual(pixel(canvas, ticks[0]!.x, barY), [...v.subarray(0, 3)]);
  assert.deepEqual(pixel(canvas, ticks[2]!.x, barY), [...v.subarray(765, 768)]);
  assert.equal(labels[0]!.text, 'T');
});

test('featureFigure: channel labels, the layer in the title, per-layer maps on their real range', async () => {
  const layer: LayerInfo = { tensor: 'block/relu', node: 'relu', op: 'Relu', shape: [1, 4, 2, 2], index: 3 };
  const maps = { data: new Float32Array([0, 1, 2, 3, 4, 5, 6, 7]), dims: [2, 2, 2] };
  const fig = featureFigure({ layer, image: 0, maps, channels: [3, 1], means: [1.5, 5.5] }, { normalize: 'per-layer', colormap: 'gray' });
  const texts = fig.labels.map((l) => l.text);
  assert.equal(texts[0], 'block/relu  [4x2x2]  Relu: 2 of 4 channels');
  assert.ok(texts.includes('3') && texts.includes('1'));
  assert.ok(texts.includes('0') && texts.includes('7'), texts.join('|')); // the colorbar spans the layer's values
  // Per-layer: value 7 is white, value 0 black (gray colormap); tile 0 holds 0..3, tile 1 holds 4..7.
  const first = fig.labels.find((l) => l.text === '3')!;
  const x = first.x - 32;
  const y = first.y - 64 - 12;
  assert.deepEqual(pixel(fig.canvas, x, y), [0, 0, 0]);
  const expected = [...applyColormap(new Float32Array([3 / 7]), 1, 1, 'gray').data];
  assert.deepEqual(pixel(fig.canvas, x + 63, y + 63), expected);
  const svg = await figureSvg(fig);
  assert.ok(svg.includes('>block/relu  [4x2x2]  Relu: 2 of 4 channels</text>'));
  assert.match(svg, /<image [^>]*href="data:image\/png;base64,/);
});

test('filterFigure: one tile per filter/input pair, labelled out/in', async () => {
  const s = await specializeFor(zoo['tiny-vgg']!.build(), { inputShape: [1, 3, 32, 32] });
  const f = filterImages(s, 'conv2', { maxTiles: 5 });
  const fig = filterFigure(f);
  const captions = fig.labels.filter((l) => /^\d+(\/\d+)?$/.test(l.text)).map((l) => l.text);
  // conv2 reads conv1's channels: grey tiles, filter 0 with its inputs 0..4 first.
  assert.equal(f.mode, 'gray');
  assert.deepEqual(captions, ['0/0', '0/1', '0/2', '0/3', '0/4']);
  assert.ok(fig.labels[0]!.text.startsWith(f.layer));
});
