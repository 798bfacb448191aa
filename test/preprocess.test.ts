/**
 * The input pipeline: image files / folders / .npy -> the model's input tensor.
 * Synthetic images with known pixels give exact expected values for every preset and
 * layout; a real photo (test/fixtures/images) checks the whole path on natural data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { encodeNpy } from '../src/runtime/npy.ts';
import { detectLayout, type InputLayout } from '../src/input/layout.ts';
import { channelNormalization, presetNames, presets } from '../src/input/presets.ts';
import { imageToTensor, tensorToImage, tensorToImages, type RgbImage } from '../src/input/preprocess.ts';
import { centerCropPlan, loadImageForModel } from '../src/input/image-file.ts';
import { loadInputs } from '../src/input/load-input.ts';
import { fixture } from './helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'convlens-input-'));

/** Write an 8-bit PNG from raw RGB(A) bytes. */
async function writePng(name: string, width: number, height: number, pixels: number[], channels: 1 | 2 | 3 | 4 = 3): Promise<string> {
  const path = join(tmp, name);
  await sharp(Buffer.from(pixels), { raw: { width, height, channels } }).png().toFile(path);
  return path;
}

/** 2x2: red, green / blue, (128, 64, 32). */
const PIXELS = [255, 0, 0, 0, 255, 0, 0, 0, 255, 128, 64, 32];
const twoByTwo = writePng('2x2.png', 2, 2, PIXELS);

function assertClose(actual: ArrayLike<number>, expected: readonly number[], tol = 1e-5, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `${what}[${i}]: ${actual[i]} != ${expected[i]}`);
  }
}

const nchw3: InputLayout = { layout: 'nchw', channels: 3 };
const nhwc3: InputLayout = { layout: 'nhwc', channels: 3 };

test('imagenet, NCHW: exact normalized values of a 2x2 PNG', async () => {
  const { tensor, images, names } = await loadInputs([await twoByTwo], [1, 3, 2, 2], { preset: 'imagenet', resize: 'stretch' });
  assert.deepEqual(tensor.dims, [1, 3, 2, 2]);
  // (x/255 - mean) / std, planes R, G, B; pixels red, green, blue, (128, 64, 32).
  assertClose(tensor.data, [
    2.248908, -2.117904, -2.117904, 0.074065,
    -2.035714, 2.428571, -2.035714, -0.915266,
    -1.804444, -1.804444, 2.64, -1.24671,
  ]);
  assert.deepEqual(names, ['2x2']);
  assert.deepEqual([...images[0]!.data], PIXELS);
});

test('tf, NHWC: x/127.5 - 1, channels last', async () => {
  const { tensor } = await loadInputs([await twoByTwo], [1, 2, 2, 3], { preset: 'tf', resize: 'stretch' });
  assert.deepEqual(tensor.dims, [1, 2, 2, 3]);
  assertClose(tensor.data, [1, -1, -1, -1, 1, -1, -1, -1, 1, 0.003922, -0.498039, -0.74902]);
});

test('caffe: BGR order, mean subtracted on 0..255, no scaling', async () => {
  const { tensor } = await loadInputs([await twoByTwo], [undefined, 3, undefined, undefined], { preset: 'caffe', resize: 'stretch', size: 2 });
  assert.deepEqual(tensor.dims, [1, 3, 2, 2]);
  assertClose(tensor.data, [
    -103.939, -103.939, 151.061, -71.939, // B - 103.939
    -116.779, 138.221, -116.779, -52.779, // G - 116.779
    131.32, -123.68, -123.68, 4.32, // R - 123.68
  ], 1e-4);
});

test('unit / none / raw and a custom normalization', async () => {
  const img: RgbImage = { width: 2, height: 2, data: new Uint8ClampedArray(PIXELS) };
  const unit = imageToTensor([img], nhwc3, 'unit').data;
  assertClose(unit, PIXELS.map((v) => v / 255));
  assert.deepEqual([...imageToTensor([img], nhwc3, 'none').data], [...unit]);
  assert.deepEqual([...imageToTensor([img], nhwc3, 'raw').data], PIXELS);
  // (x/255 - 0.5) / 0.5 in BGR order == tf with the channels reversed.
  const custom = imageToTensor([img], nhwc3, { mean: [0.5], std: [0.5], scale: 1 / 255, order: 'bgr' }).data;
  assertClose(custom, [-1, -1, 1, -1, 1, -1, 1, -1, -1, -0.74902, -0.498039, 0.003922]);
  assert.deepEqual([...presetNames], ['imagenet', 'unit', 'none', 'raw', 'tf', 'caffe']);
  assert.throws(() => imageToTensor([img], nhwc3, 'torch'), /unknown preset 'torch': use one of imagenet, unit, none, raw, tf, caffe/);
  assert.throws(() => imageToTensor([img], nhwc3, { mean: [0, 0], std: [1], scale: 1, order: 'rgb' }), /mean must have 1 or 3 entries/);
  assert.throws(() => imageToTensor([img], nhwc3, { mean: [0], std: [0], scale: 1, order: 'rgb' }), /std must be finite and non-zero/);
});

test('1-channel models: BT.601 luma, first mean/std (imagenet: the average)', async () => {
  const path = await twoByTwo;
  const unit = await loadInputs([path], [1, 1, 2, 2], { preset: 'unit', resize: 'stretch' });
  assert.deepEqual(unit.tensor.dims, [1, 1, 2, 2]);
  assertClose(unit.tensor.data, [0.299, 0.587, 0.114, 0.311718]);
  const imagenet = await loadInputs([path], [1, 2, 2, 1], { preset: 'imagenet', resize: 'stretch' });
  assert.deepEqual(imagenet.tensor.dims, [1, 2, 2, 1]);
  assertClose(imagenet.tensor.data, [-0.663717, 0.610619, -1.482301, -0.607444]);
  assert.deepEqual(channelNormalization('imagenet', 1), { mean: [0.449], std: [0.226], scale: 1 / 255, order: 'rgb' });
  assert.deepEqual(channelNormalization('caffe', 1).mean, [103.939]);
  assert.equal(presets.imagenet.gray.mean, (0.485 + 0.456 + 0.406) / 3);
  // `images` holds the RGB image that was loaded (the overlay background), not the luma.
  assert.deepEqual([...unit.images[0]!.data.subarray(0, 3)], [255, 0, 0]);
  // De-normalizing a gray tensor gives a gray image: luma 0.299 * 255 = 76.245 -> 76, ...
  const back = tensorToImage(unit.tensor, { layout: 'nchw', channels: 1 }, 'unit');
  assert.deepEqual([...back.data], [76, 76, 76, 150, 150, 150, 29, 29, 29, 79, 79, 79]);
});

test('tensorToImage inverts imageToTensor for every preset and both layouts', () => {
  const width = 5;
  const height = 3;
  const data = new Uint8ClampedArray(width * height * 3).map((_, i) => (i * 37 + 11) % 256);
  const img: RgbImage = { width, height, data };
  for (const preset of presetNames) {
    for (const layout of [nchw3, nhwc3]) {
      const t = imageToTensor([img, img], layout, preset);
      const back = tensorToImages(t, layout, preset);
      assert.equal(back.length, 2);
      assert.deepEqual([...back[1]!.data], [...data], `${preset} ${layout.layout}`);
      assert.equal(back[1]!.width, width);
      assert.equal(back[1]!.height, height);
    }
  }
  // Out-of-range values clamp: unit 1.5 -> 255, -0.2 -> 0; NaN -> 0.
  const t = { data: new Float32Array([1.5, -0.2, Number.NaN, 0.5]), dims: [1, 1, 1, 4] };
  const out = tensorToImage(t, { layout: 'nchw', channels: 1 }, 'unit');
  assert.deepEqual([...out.data], [255, 255, 255, 0, 0, 0, 0, 0, 0, 128, 128, 128]);
  assert.throws(() => tensorToImage({ data: new Float32Array(8), dims: [1, 2, 2, 2] }, nchw3, 'unit'), /has 2 channels in NCHW layout, expected 3/);
});

test('imageToTensor rejects images of the wrong size', () => {
  const a: RgbImage = { width: 2, height: 2, data: new Uint8ClampedArray(12) };
  const b: RgbImage = { width: 3, height: 2, data: new Uint8ClampedArray(18) };
  assert.throws(() => imageToTensor([a, b], nchw3, 'unit'), /image 1 is 3x2 but image 0 is 2x2/);
  assert.throws(() => imageToTensor([a], { ...nchw3, height: 4, width: 4 }, 'unit'), /the model takes 4x4/);
  assert.throws(() => imageToTensor([], nchw3, 'unit'), /no images/);
});

test('layout detection', () => {
  const cases: [(number | undefined)[], InputLayout][] = [
    [[1, 3, 224, 224], { layout: 'nchw', channels: 3, height: 224, width: 224 }],
    [[undefined, 3, undefined, undefined], { layout: 'nchw', channels: 3 }],
    [[1, 1, 28, 28], { layout: 'nchw', channels: 1, height: 28, width: 28 }],
    [[1, 224, 160, 3], { layout: 'nhwc', channels: 3, height: 224, width: 160 }],
    [[undefined, 28, 28, 1], { layout: 'nhwc', channels: 1, height: 28, width: 28 }],
    [[undefined, undefined, undefined, 3], { layout: 'nhwc', channels: 3 }],
    [[1, 3, 32, 3], { layout: 'nchw', channels: 3, height: 32, width: 3 }], // both could be channels: NCHW wins
    [[1, 3, 1, 1], { layout: 'nchw', channels: 3, height: 1, width: 1 }],
  ];
  for (const [dims, expected] of cases) assert.deepEqual(detectLayout(dims), expected, `[${dims}]`);
  for (const dims of [[1, 4, 224, 224], [1, 224, 224, 4], [1, 3, 224], [1, 3, 224, 224, 1], [undefined, undefined, undefined, undefined]]) {
    assert.throws(
      () => detectLayout(dims, 'pixel_values'),
      (e: Error) => e.message.startsWith(`input 'pixel_values' has shape [`) && e.message.endsWith('convlens expects an image batch NCHW or NHWC with 1 or 3 channels'),
      `[${dims}]`,
    );
  }
  assert.throws(() => detectLayout([undefined, 4, 8, 8], 'x'), /^InputError: input 'x' has shape \[\?, 4, 8, 8\]/);
});

test('center-crop: geometry on small images and torchvision sizes', async () => {
  // 4x2, columns A B C D; target 2x2 with nothing to resize: the middle columns B C.
  const cols = [[10, 0, 0], [20, 0, 0], [30, 0, 0], [40, 0, 0]];
  const row = cols.flat();
  const p4x2 = await writePng('4x2.png', 4, 2, [...row, ...row]);
  const { image, original } = await loadImageForModel(p4x2, { height: 2, width: 2, resize: 'center-crop', cropFraction: 1 });
  assert.deepEqual(original, { width: 4, height: 2 });
  assert.deepEqual([...image.data], [20, 0, 0, 30, 0, 0, 20, 0, 0, 30, 0, 0]);

  // 8x4 with pixel (x, y) = (30x, 60y, 7); cropFraction 0.5: the short side 4 = round(2 / 0.5)
  // (no resampling), crop 2x2 at left 3, top 1.
  const px: number[] = [];
  for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) px.push(30 * x, 60 * y, 7);
  const p8x4 = await writePng('8x4.png', 8, 4, px);
  const crop = await loadImageForModel(p8x4, { height: 2, width: 2, resize: 'center-crop', cropFraction: 0.5 });
  assert.deepEqual([...crop.image.data], [90, 60, 7, 120, 60, 7, 90, 120, 7, 120, 120, 7]);

  // Odd margins round half to even like torchvision (Python round): 3 wide -> left 0.
  const p3x2 = await writePng('3x2.png', 3, 2, [1, 1, 1, 2, 2, 2, 3, 3, 3, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
  const odd = await loadImageForModel(p3x2, { height: 2, width: 2, resize: 'center-crop', cropFraction: 1 });
  assert.deepEqual([...odd.image.data], [1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2]);

  // torchvision Resize(256) + CenterCrop(224) on 500x375: resized 341x256, crop at (58, 16).
  assert.deepEqual(centerCropPlan({ width: 500, height: 375 }, 224, 224), { rw: 341, rh: 256, left: 58, top: 16 });
  assert.deepEqual(centerCropPlan({ width: 375, height: 500 }, 224, 224), { rw: 256, rh: 341, left: 16, top: 58 });
  assert.deepEqual(centerCropPlan({ width: 224, height: 224 }, 224, 224), { rw: 256, rh: 256, left: 16, top: 16 });
  // Non-square target: the side that limits the crop is scaled to round(target / 0.875).
  assert.deepEqual(centerCropPlan({ width: 100, height: 100 }, 64, 128), { rw: 146, rh: 146, left: 9, top: 41 });
});

test('stretch resizes to exactly height x width', async () => {
  const p = await writePng('7x5.png', 7, 5, Array.from({ length: 35 }, () => [10, 200, 30]).flat());
  const { image, original } = await loadImageForModel(p, { height: 4, width: 3, resize: 'stretch' });
  assert.deepEqual(original, { width: 7, height: 5 });
  assert.equal(image.width, 3);
  assert.equal(image.height, 4);
  assert.deepEqual([...image.data], Array.from({ length: 12 }, () => [10, 200, 30]).flat());
});

test('alpha over white, gray PNGs to RGB, EXIF rotation', async () => {
  // RGBA: opaque red, transparent green, half-transparent black, opaque blue.
  const rgba = await writePng('rgba.png', 2, 2, [255, 0, 0, 255, 0, 255, 0, 0, 0, 0, 0, 128, 0, 0, 255, 255], 4);
  const a = await loadImageForModel(rgba, { height: 2, width: 2, resize: 'stretch' });
  assert.deepEqual([...a.image.data], [255, 0, 0, 255, 255, 255, 127, 127, 127, 0, 0, 255]);

  const gray = await writePng('gray.png', 2, 1, [0, 200], 1);
  const g = await loadImageForModel(gray, { height: 1, width: 2, resize: 'stretch' });
  assert.deepEqual([...g.image.data], [0, 0, 0, 200, 200, 200]);

  // 8x4 stored, left half red / right half blue, EXIF orientation 6 (rotate 90 degrees
  // clockwise to display): shown 4x8 with red on top.
  const px: number[] = [];
  for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) px.push(...(x < 4 ? [255, 0, 0] : [0, 0, 255]));
  const rotated = join(tmp, 'rotated.jpg');
  await sharp(Buffer.from(px), { raw: { width: 8, height: 4, channels: 3 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toFile(rotated);
  const r = await loadImageForModel(rotated, { height: 8, width: 4, resize: 'stretch' });
  assert.deepEqual(r.original, { width: 4, height: 8 });
  const at = (x: number, y: number) => [...r.image.data.subarray((y * 4 + x) * 3, (y * 4 + x) * 3 + 3)];
  for (const [x, y, color] of [[0, 0, 'red'], [3, 1, 'red'], [0, 7, 'blue'], [3, 6, 'blue']] as const) {
    const [R, , B] = at(x, y);
    assert.ok(color === 'red' ? R! > 200 && B! < 60 : B! > 200 && R! < 60, `(${x}, ${y}) should be ${color}: ${at(x, y)}`);
  }
});

test('.npy inputs pass through unchanged; batches split; shapes checked', async () => {
  const values = Float32Array.from({ length: 12 }, (_, i) => i * 0.1 - 0.5);
  const one = join(tmp, 'pre.npy');
  writeFileSync(one, encodeNpy({ data: values, dims: [3, 2, 2] }));
  const r = await loadInputs([one], [1, 3, 2, 2], { preset: 'unit', resize: 'stretch' });
  assert.deepEqual(r.tensor.dims, [1, 3, 2, 2]);
  assert.deepEqual([...r.tensor.data], [...values]);
  assert.deepEqual(r.names, ['pre']);
  // Displayable image via the preset ('unit': v * 255, clamped): pixel 0 = (R -0.5, G -0.1, B 0.3).
  assert.deepEqual([...r.images[0]!.data.subarray(0, 3)], [0, 0, 77]);
  // Pixel 3 = (R -0.2, G 0.2, B 0.6) -> (0, 51, 153).
  assert.deepEqual([...r.images[0]!.data.subarray(9, 12)], [0, 51, 153]);

  // A batch of 2, NHWC model, mixed with an image file: order kept, names stem_i.
  const batch = Float32Array.from({ length: 24 }, (_, i) => i / 24);
  const two = join(tmp, 'pair.npy');
  writeFileSync(two, encodeNpy({ data: batch, dims: [2, 2, 2, 3] }));
  const m = await loadInputs([two, await twoByTwo], [1, 2, 2, 3], { preset: 'unit', resize: 'stretch' });
  assert.deepEqual(m.tensor.dims, [3, 2, 2, 3]);
  assert.deepEqual([...m.tensor.data.subarray(0, 24)], [...batch]);
  assertClose(m.tensor.data.subarray(24), PIXELS.map((v) => v / 255));
  assert.deepEqual(m.names, ['pair_0', 'pair_1', '2x2']);
  assert.equal(m.images.length, 3);

  // Model with a symbolic size: the .npy sets it.
  const sym = await loadInputs([one], [undefined, 3, undefined, undefined], { preset: 'unit', resize: 'stretch' });
  assert.deepEqual(sym.tensor.dims, [1, 3, 2, 2]);

  // Wrong shape: both shapes in the message.
  const wrong = join(tmp, 'wrong.npy');
  writeFileSync(wrong, encodeNpy({ data: new Float32Array(48), dims: [3, 4, 4] }));
  await assert.rejects(
    loadInputs([wrong], [1, 3, 2, 2], { preset: 'unit', resize: 'stretch' }),
    /'.*wrong\.npy' has shape \[3, 4, 4\] but input 'input' takes \[1, 3, 2, 2\]: save an array of shape \[3, 2, 2\] or \[N, 3, 2, 2\]/,
  );
  // Channels-last array for a channels-first model.
  await assert.rejects(loadInputs([two], [1, 3, 2, 2], { preset: 'unit', resize: 'stretch' }), /has shape \[2, 2, 2, 3\]/);
});

test('folders: image files sorted by name, other files skipped', async () => {
  const dir = join(tmp, 'folder');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  await sharp(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), { raw: { width: 2, height: 2, channels: 3 } }).png().toFile(join(dir, 'b.png'));
  await sharp(Buffer.from(new Array(12).fill(255)), { raw: { width: 2, height: 2, channels: 3 } }).png().toFile(join(dir, 'a.PNG'));
  writeFileSync(join(dir, 'notes.txt'), 'not an image');
  await sharp(Buffer.from(new Array(12).fill(9)), { raw: { width: 2, height: 2, channels: 3 } }).png().toFile(join(dir, 'sub', 'c.png'));
  const r = await loadInputs([dir, await twoByTwo], [1, 3, 2, 2], { preset: 'raw', resize: 'center-crop' });
  assert.deepEqual(r.names, ['a', 'b', '2x2']);
  assert.deepEqual(r.tensor.dims, [3, 3, 2, 2]);
  assert.deepEqual([...r.tensor.data.subarray(0, 12)], new Array(12).fill(255));
  assert.deepEqual([...r.tensor.data.subarray(12, 24)], new Array(12).fill(0));
  // Same file twice: distinct names.
  const twice = await loadInputs([await twoByTwo, await twoByTwo], [1, 3, 2, 2], { preset: 'raw', resize: 'stretch' });
  assert.deepEqual(twice.names, ['2x2', '2x2-2']);
});

test('errors name the problem and the fix', async () => {
  const opts = { preset: 'imagenet', resize: 'stretch' } as const;
  const text = join(tmp, 'notes.txt');
  writeFileSync(text, 'hello, not an image\n');
  await assert.rejects(loadInputs([text], [1, 3, 2, 2], opts), (e: Error) => {
    assert.equal(e.message, `'${text}' is not an image sharp can read (JPEG, PNG, WebP, GIF, TIFF, AVIF, SVG): convert it to PNG or JPEG`);
    return true;
  });
  await assert.rejects(loadInputs([join(tmp, 'nope.png')], [1, 3, 2, 2], opts), /'.*nope\.png' does not exist: check the path/);
  await assert.rejects(loadImageForModel(join(tmp, 'nope.png'), { height: 2, width: 2 }), /'.*nope\.png' does not exist: check the path/);
  const empty = join(tmp, 'empty.png');
  writeFileSync(empty, '');
  await assert.rejects(loadInputs([empty], [1, 3, 2, 2], opts), /'.*empty\.png' is empty \(0 bytes\)/);
  await assert.rejects(loadImageForModel(new Uint8Array(0), { height: 2, width: 2, name: 'upload' }), /'upload' is empty \(0 bytes\)/);
  const emptyDir = join(tmp, 'empty-dir');
  mkdirSync(emptyDir);
  writeFileSync(join(emptyDir, 'readme.md'), '# nothing here');
  await assert.rejects(loadInputs([emptyDir], [1, 3, 2, 2], opts), /folder '.*empty-dir' has no image files \(JPEG, PNG/);
  const zero = join(tmp, 'zero.svg');
  writeFileSync(zero, '<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0"></svg>');
  await assert.rejects(loadInputs([zero], [1, 3, 2, 2], opts), /'.*zero\.svg' has a zero width or height/);
  const truncated = join(tmp, 'truncated.png');
  writeFileSync(truncated, (await sharp({ create: { width: 64, height: 64, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).png().toBuffer()).subarray(0, 200));
  await assert.rejects(loadInputs([truncated], [1, 3, 2, 2], opts), /'.*truncated\.png' could not be decoded \(sharp: .*\): the file may be truncated or corrupt/);
  await assert.rejects(
    loadInputs([await twoByTwo], [undefined, 3, undefined, undefined], opts),
    /input 'input' has shape \[\?, 3, \?, \?\] with a symbolic height\/width: give the image size with the size option/,
  );
  await assert.rejects(loadInputs([await twoByTwo], [1, 3, 2, 2], { ...opts, size: 4 }), /size 4x4 \(HxW\) does not match input 'input' of shape \[1, 3, 2, 2\]/);
  await assert.rejects(loadInputs([], [1, 3, 2, 2], opts), /no inputs given/);
  await assert.rejects(loadInputs([await twoByTwo], [1, 3, 2, 2], { ...opts, preset: 'vgg' }), /unknown preset 'vgg'/);
  await assert.rejects(loadInputs([await twoByTwo], [1, 5, 2, 2], { ...opts, inputName: 'data' }), /input 'data' has shape \[1, 5, 2, 2\]/);
});

test('a real photo (chelsea, CC0): loads at the model size with plausible values', async () => {
  const path = fixture('images/chelsea.jpg');
  const loaded = await loadImageForModel(path, { height: 48, width: 48, resize: 'center-crop' });
  assert.deepEqual(loaded.original, { width: 96, height: 64 });
  assert.equal(loaded.image.data.length, 48 * 48 * 3);

  const { tensor, images } = await loadInputs([path, fixture('images/coffee.jpg')], [1, 3, 48, 48], { preset: 'imagenet', resize: 'center-crop' });
  assert.deepEqual(tensor.dims, [2, 3, 48, 48]);
  assert.deepEqual([...images[0]!.data], [...loaded.image.data]);
  assert.ok(tensor.data.every(Number.isFinite));
  // imagenet-normalized values lie in [-2.12, 2.64]; a natural photo averages near 0.
  const plane = 48 * 48;
  const channelMean = (n: number, c: number) => tensor.data.subarray((n * 3 + c) * plane, (n * 3 + c + 1) * plane).reduce((a, b) => a + b, 0) / plane;
  const cat = [0, 1, 2].map((c) => channelMean(0, c));
  const mean = cat.reduce((a, b) => a + b, 0) / 3;
  assert.ok(mean > -1.2 && mean < 1.2, `mean ${mean}`);
  assert.ok(Math.min(...tensor.data) >= -2.1180 && Math.max(...tensor.data) <= 2.6401);
  // A ginger cat: red above blue (in normalized units too), and a spread of values.
  assert.ok(cat[0]! > cat[2]!, `R ${cat[0]} should exceed B ${cat[2]}`);
  const catData = tensor.data.subarray(0, 3 * plane);
  const std = Math.sqrt(catData.reduce((a, v) => a + (v - mean) ** 2, 0) / catData.length);
  assert.ok(std > 0.2 && std < 1.5, `std ${std}`);
  // The two photos differ.
  assert.notDeepEqual([...images[0]!.data], [...images[1]!.data]);
});
