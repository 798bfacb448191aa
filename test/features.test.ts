/**
 * Feature-map grids: make_grid's layout and normalization on literal maps, labels, topK
 * against a direct computation from exposed activations, the layer-outputs figure, errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GradientEngine } from '../src/autodiff/engine.ts';
import { featureMaps, layerOutputs, makeGrid, renderGrid } from '../src/inspect/feature-maps.ts';
import { Rng } from '../src/runtime/rng.ts';
import type { Tensor } from '../src/runtime/session.ts';
import { applyColormap } from '../src/viz/colormaps.ts';
import { zoo } from './zoo/models.ts';

const maps = (values: number[], k: number, h: number, w: number): Tensor => ({ data: Float32Array.from(values), dims: [k, h, w] });

const close = (actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6) => {
  assert.equal(actual.length, expected.length);
  Array.from(expected).forEach((e, i) => assert.ok(Math.abs(actual[i]! - e) <= tol, `index ${i}: ${actual[i]} vs ${e}`));
};

function randomImages(n: number, dims: number[], seed = 3): Tensor {
  const rng = new Rng(seed);
  const size = dims.reduce((a, b) => a * b, 1);
  return { data: Float32Array.from({ length: n * size }, () => rng.normal()), dims: [n, ...dims] };
}

test('makeGrid lays out tiles as torchvision make_grid', () => {
  // make_grid(x.unsqueeze(1), nrow=2, padding=1) of three 2x2 maps: 2 columns, 2 rows,
  // 2 * (2 + 1) + 1 = 7 pixels each way; the fourth cell stays pad.
  const g = makeGrid(maps([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 3, 2, 2), { nrow: 2, padding: 1, normalize: 'none', padValue: -1 });
  assert.equal(g.width, 7);
  assert.equal(g.height, 7);
  // prettier-ignore
  assert.deepEqual(Array.from(g.data), [
    -1, -1, -1, -1, -1, -1, -1,
    -1,  1,  2, -1,  5,  6, -1,
    -1,  3,  4, -1,  7,  8, -1,
    -1, -1, -1, -1, -1, -1, -1,
    -1,  9, 10, -1, -1, -1, -1,
    -1, 11, 12, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1,
  ]);
  // nrow larger than the map count: one row of as many tiles as there are (make_grid's xmaps = min(nrow, K)).
  const row = makeGrid(maps([1, 2], 2, 1, 1), { nrow: 8, padding: 2, normalize: 'none' });
  assert.deepEqual([row.width, row.height], [8, 5]);
  assert.deepEqual(Array.from(row.data.subarray(16, 24)), [0, 0, 1, 0, 0, 2, 0, 0]);
  // A single map is padded too (make_grid would return it bare).
  assert.deepEqual([makeGrid(maps([3], 1, 1, 1), { padding: 1 }).width], [3]);
});

test('per-map and per-layer normalization are make_grid scale_each=True / False', () => {
  const m = maps([0, 1, 2, 4, -2, -2, -2, -2, 2, 3, 4, 6], 3, 2, 2);
  const tiles = (g: ReturnType<typeof makeGrid>) => [0, 1, 2].map((t) => [0, 1].flatMap((y) => Array.from(g.data.subarray((1 + y) * g.width + 1 + 3 * t, (1 + y) * g.width + 3 + 3 * t))));
  // Each map by its own extent; a constant map becomes 0.
  close(tiles(makeGrid(m, { nrow: 3, padding: 1, normalize: 'per-map' })).flat(), [0, 0.25, 0.5, 1, 0, 0, 0, 0, 0, 0.25, 0.5, 1]);
  // One extent for all: lo = -2, hi = 6.
  close(tiles(makeGrid(m, { nrow: 3, padding: 1, normalize: 'per-layer' })).flat(), [0.25, 0.375, 0.5, 0.75, 0, 0, 0, 0, 0.5, 0.625, 0.75, 1]);
  // norm_ip divides by max(hi - lo, 1e-5): a range of 1e-6 maps to [0, 0.1], not [0, 1].
  close(Array.from(makeGrid(maps([0, 1e-6], 1, 1, 2), { padding: 0 }).data), [0, 0.1]);
});

test('renderGrid colours through the colormap and draws channel labels that fit', () => {
  const g = makeGrid(maps(new Array(2 * 7 * 6).fill(0.5), 2, 7, 6), { nrow: 2, padding: 1, normalize: 'none', channels: [7, 10] });
  const im = renderGrid(g, { colormap: 'gray' });
  const px = (x: number, y: number) => im.data[3 * (y * im.width + x)]!;
  // Tile 0 at (1, 1): label '7' = rows 111, 001, 001, 001, 001 in a 5x7 black box.
  const box = Array.from({ length: 7 }, (_, y) => Array.from({ length: 5 }, (_, x) => (px(1 + x, 1 + y) === 255 ? '#' : px(1 + x, 1 + y) === 0 ? '.' : '?')).join(''));
  assert.deepEqual(box, ['.....', '.###.', '...#.', '...#.', '...#.', '...#.', '.....']);
  assert.equal(px(6, 7), 128); // outside the box: the map's own colour
  assert.equal(px(0, 0), 0); // pad value 0 through 'gray'
  // '10' needs a 9-pixel box: wider than the 6-pixel tile, so tile 1 is left unlabelled.
  for (let y = 1; y < 8; y++) for (let x = 8; x < 14; x++) assert.equal(px(x, y), 128);
  // Viridis by default: the pad pixel is viridis(0) = #440154.
  assert.deepEqual(Array.from(renderGrid(g).data.subarray(0, 3)), [0x44, 0x01, 0x54]);
});

test('featureMaps: topK picks the channels with the largest mean activation, per image', async () => {
  const model = zoo['tiny-vgg']!;
  await using engine = new GradientEngine(model.build());
  const images = randomImages(2, [3, 32, 32]);
  const direct = (await engine.run(images, { expose: ['conv3'] })).exposed['conv3']!;
  const [, c, h, w] = direct.dims as [number, number, number, number];
  const sets = await featureMaps(engine, images, ['conv3', 'relu1'], { topK: 5 });
  assert.deepEqual(sets.map((s) => [s.layer.tensor, s.image]), [['conv3', 0], ['conv3', 1], ['relu1', 0], ['relu1', 1]]);
  for (const image of [0, 1]) {
    const plane = h * w;
    const means = Array.from({ length: c }, (_, ch) => direct.data.subarray((image * c + ch) * plane, (image * c + ch + 1) * plane).reduce((a, b) => a + b, 0) / plane);
    const expected = means.map((m, ch) => [m, ch] as const).sort((a, b) => b[0] - a[0]).slice(0, 5).map(([, ch]) => ch);
    const set = sets[image]!;
    assert.deepEqual(set.channels, expected);
    close(set.means, expected.map((ch) => means[ch]!), 1e-5);
    assert.deepEqual(set.maps.dims, [5, h, w]);
    expected.forEach((ch, k) => assert.deepEqual(set.maps.data.subarray(k * plane, (k + 1) * plane), direct.data.subarray((image * c + ch) * plane, (image * c + ch + 1) * plane)));
  }
  // Explicit channels keep their order; a topK above the channel count gives every channel.
  assert.deepEqual((await featureMaps(engine, images, [5], { channels: [3, 0] }))[0]!.channels, [3, 0]);
  assert.equal((await featureMaps(engine, images, ['relu1'], { topK: 100 }))[0]!.channels.length, 8);
});

test('featureMaps errors name the valid layers and channel range', async () => {
  await using engine = new GradientEngine(zoo['tiny-vgg']!.build());
  const images = randomImages(1, [3, 32, 32]);
  await assert.rejects(featureMaps(engine, images, ['nope']), /no layer 'nope'; spatial layers are .*8: features \[1x16x16x16\]/);
  await assert.rejects(featureMaps(engine, images, [42]), /layer index 42 is out of range: the model has 10 spatial layers \(0\.\.9\)/);
  await assert.rejects(featureMaps(engine, images, ['features'], { channels: [2, 16] }), /channel 16 is out of range for layer 'features': it has 16 channels \(0\.\.15\)/);
  await assert.rejects(featureMaps(engine, images, ['features'], { topK: 0 }), /topK must be an integer >= 1/);
  await assert.rejects(featureMaps(engine, images, ['features'], { topK: 2, channels: [1] }), /either topK or channels/);
});

test('layerOutputs: one row per layer, tiles scaled to one height by nearest neighbour', async () => {
  await using engine = new GradientEngine(zoo['tiny-vgg']!.build());
  const images = randomImages(2, [3, 32, 32]);
  const figures = await layerOutputs(engine, images, ['relu1', 'features'], { channels: 3, padding: 2, colormap: 'gray' });
  assert.equal(figures.length, 2);
  const { image, rows } = figures[1]!;
  // 32x32 tiles in both rows (features' 16x16 maps doubled): 2 + 3 * 34 wide, 2 + 2 * 34 high.
  assert.deepEqual([image.width, image.height], [104, 70]);
  assert.deepEqual(rows.map((r) => [r.layer.tensor, r.y, r.height, r.channels]), [['relu1', 2, 32, [0, 1, 2]], ['features', 36, 32, [0, 1, 2]]]);
  // Padding is the background (white), between rows too.
  for (const [x, y] of [[0, 0], [35, 40], [50, 34], [50, 35], [103, 69]] as const) assert.deepEqual(Array.from(image.data.subarray(3 * (y * 104 + x), 3 * (y * 104 + x) + 3)), [255, 255, 255]);
  // Row 2, tile 1 = features channel 1 of image 1, min-max normalized, each pixel doubled.
  const [set] = (await featureMaps(engine, images, ['features'], { channels: [1] })).filter((s) => s.image === 1);
  const plane = set!.maps.data;
  const [lo, hi] = [Math.min(...plane), Math.max(...plane)];
  const up = Float32Array.from({ length: 32 * 32 }, (_, i) => (plane[Math.floor(i / 64) * 16 + Math.floor((i % 32) / 2)]! - lo) / (hi - lo));
  const expected = applyColormap(up, 32, 32, 'gray').data;
  for (let y = 0; y < 32; y++) {
    const at = 3 * ((36 + y) * image.width + 36);
    assert.deepEqual(image.data.subarray(at, at + 96), expected.subarray(96 * y, 96 * (y + 1)), `row ${y}`);
  }
});
