/**
 * src/viz: colour tables against matplotlib's published data, resampling against
 * PyTorch/OpenCV geometry, normalisations, rendering, and the PNG round trip.
 * Expected pixels are written out by hand; each literal says where it comes from.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  absMaxScale,
  applyColormap,
  channelsOf,
  colormapNames,
  colormapTable,
  createRgbImage,
  diverging,
  gradientImage,
  grid,
  minMaxNormalize,
  normalizeGradientImage,
  overlay,
  percentileClip,
  resizeBilinear,
  rgbaToRgb,
  rgbToRgba,
  signedImage,
  type ColormapName,
  type RgbImage,
} from '../src/viz/index.ts';
import { decodeImage, encodePng } from '../src/viz/png.ts';
import { Rng } from '../src/runtime/rng.ts';
import { renderAttribution } from '../src/viz/render.ts';
import { methods } from '../src/methods/registry.ts';

const f32 = (values: number[]): Float32Array => Float32Array.from(values);
const bytes = (values: number[]): Uint8ClampedArray => Uint8ClampedArray.from(values);
const entry = (table: Uint8Array, i: number): number[] => Array.from(table.subarray(3 * i, 3 * i + 3));
/** Pixels of an RGB image as [r, g, b] triples, row-major. */
const pixels = (image: RgbImage): number[][] =>
  Array.from({ length: image.width * image.height }, (_, i) => Array.from(image.data.subarray(3 * i, 3 * i + 3)));

/** CIE L* (D65) of an sRGB byte triple. */
function lightness([r, g, b]: number[]): number {
  const lin = (c: number): number => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const y = 0.2126 * lin(r!) + 0.7152 * lin(g!) + 0.0722 * lin(b!);
  return y > 216 / 24389 ? 116 * Math.cbrt(y) - 16 : (24389 / 27) * y;
}

describe('colormaps', () => {
  test('names are the single list of maps, each with a 256 x RGB table', () => {
    assert.deepEqual([...colormapNames], ['jet', 'turbo', 'viridis', 'inferno', 'gray', 'coolwarm']);
    for (const name of colormapNames) assert.equal(colormapTable(name).length, 768, name);
  });

  // Expected bytes are round(255 * v) of the floats in matplotlib's
  // lib/matplotlib/_cm_listed.py (entries 0, 128, 255 of _viridis_data,
  // _inferno_data, _turbo_data), e.g. viridis[0] = [0.267004, 0.004874, 0.329415]
  // -> 68.09, 1.24, 84.00 -> [68, 1, 84].
  const listed: Record<'viridis' | 'inferno' | 'turbo', [number, number[]][]> = {
    viridis: [
      [0, [68, 1, 84]], // [0.267004, 0.004874, 0.329415]
      [128, [33, 145, 140]], // [0.127568, 0.566949, 0.550556]
      [255, [253, 231, 37]], // [0.993248, 0.906157, 0.143936]
    ],
    inferno: [
      [0, [0, 0, 4]], // [0.001462, 0.000466, 0.013866]
      [128, [188, 55, 84]], // [0.735683, 0.215906, 0.330245]
      [255, [252, 255, 164]], // [0.988362, 0.998364, 0.644924]
    ],
    turbo: [
      [0, [48, 18, 59]], // [0.18995, 0.07176, 0.23217]; also Google's turbo_srgb_bytes[0]
      [128, [164, 252, 60]], // [0.64362, 0.98999, 0.23356]
      [255, [122, 4, 3]], // [0.47960, 0.01583, 0.01055]; also turbo_srgb_bytes[255]
    ],
  };
  for (const [name, cases] of Object.entries(listed)) {
    test(`${name} entries equal matplotlib's listed data`, () => {
      const table = colormapTable(name as ColormapName);
      for (const [i, rgb] of cases) assert.deepEqual(entry(table, i), rgb, `${name}[${i}]`);
    });
  }

  test("jet entries follow matplotlib's _jet_data segments", () => {
    // lib/matplotlib/_cm.py _jet_data, sampled at x = i / 255:
    //   x = 0: red 0, green 0, blue 0.5 -> [0, 0, 127.5 -> 128]
    //   x = 128/255: red on (0.35, 0) -> (0.66, 1): (128/255 - 0.35) / 0.31 = 125/255;
    //     green in the flat 1 between 0.375 and 0.64;
    //     blue on (0.34, 1) -> (0.65, 0): 1 - (128/255 - 0.34) / 0.31 = 0.47755 -> 121.77
    //   x = 1: red 0.5, green 0, blue 0 -> [128, 0, 0]
    const jet = colormapTable('jet');
    assert.deepEqual(entry(jet, 0), [0, 0, 128]);
    assert.deepEqual(entry(jet, 128), [125, 255, 122]);
    assert.deepEqual(entry(jet, 255), [128, 0, 0]);
    // x = 100/255: red (100/255 - 0.35) / 0.31 * 255 = 34.68, blue 1 - (100/255 - 0.34) / 0.31 -> 212.10
    assert.deepEqual(entry(jet, 100), [35, 255, 212]);
    // x = 200/255: green on (0.64, 1) -> (0.91, 0): 118.70; blue 0 after 0.65
    assert.deepEqual(entry(jet, 200), [255, 119, 0]);
    // x = 22/255: blue 0.5 + 0.5 * (22/255) / 0.11 is 227.5/255 exactly, a rounding tie;
    // matplotlib's float arithmetic lands on 227.49999999999997, so the byte is 227.
    assert.deepEqual(entry(jet, 22), [0, 0, 227]);
    // x = 33/255: green (33/255 - 0.125) / 0.25 * 255 = 4.5 exactly; matplotlib samples at
    // 255 * (33 * (1 / 255)) against breakpoints scaled by 255, giving 4.499999999999972 -> 4
    // (sampling at exactly 33 would give 4.5 -> 5).
    assert.deepEqual(entry(jet, 33), [0, 4, 255]);
  });

  test('whole tables equal matplotlib 3.6.3, by FNV-1a hash', () => {
    // Computed outside this repo from matplotlib 3.6.3: for each map,
    // floor(255 * cmap._lut[:256, :3] + 0.5) flattened row by row, hashed with
    // 32-bit FNV-1a (offset basis 0x811c9dc5, prime 0x01000193).
    const fnv1a = (data: Uint8Array): number => {
      let h = 0x811c9dc5;
      for (const b of data) h = Math.imul(h ^ b, 0x01000193) >>> 0;
      return h;
    };
    const expected: Record<Exclude<ColormapName, 'coolwarm'>, number> = {
      jet: 0x4f921ff6,
      turbo: 0x2aa9b486,
      viridis: 0x056643bb,
      inferno: 0x9cb067d9,
      gray: 0x7f16e8c5,
    };
    for (const name of Object.keys(expected) as (keyof typeof expected)[]) assert.equal(fnv1a(colormapTable(name)).toString(16), expected[name].toString(16), name);
  });

  test("coolwarm: Moreland's end colours, a neutral grey in the middle, his table's quarter points", () => {
    const cw = colormapTable('coolwarm');
    assert.deepEqual(entry(cw, 0), [59, 76, 192]);
    assert.deepEqual(entry(cw, 255), [180, 4, 38]);
    // Msh (88, 0, 0): L* = 88, a grey of sRGB 0.865 (Moreland's table: 0.865, 0.865, 0.865).
    for (const i of [127, 128]) for (const v of entry(cw, i)) assert.ok(Math.abs(v - 221) <= 1, `entry ${i}: ${entry(cw, i)}`);
    // Moreland's 33-entry table at 0.25: (0.552, 0.690, 0.996); at 0.75: (0.958, 0.603, 0.482).
    const near = (got: number[], want: number[]) => got.forEach((v, c) => assert.ok(Math.abs(v - 255 * want[c]!) <= 2, `${got} vs ${want}`));
    near(entry(cw, 64), [0.552, 0.69, 0.996]);
    near(entry(cw, 191), [0.958, 0.603, 0.482]);
  });

  test('gray entry i is (i, i, i)', () => {
    const gray = colormapTable('gray');
    assert.deepEqual(entry(gray, 0), [0, 0, 0]);
    assert.deepEqual(entry(gray, 128), [128, 128, 128]);
    assert.deepEqual(entry(gray, 255), [255, 255, 255]);
  });

  test('viridis is monotone in lightness; turbo is not', () => {
    const L = Array.from({ length: 256 }, (_, i) => lightness(entry(colormapTable('viridis'), i)));
    assert.ok(L[255]! - L[0]! > 70, `L* spans ${L[0]} .. ${L[255]}`);
    for (let i = 0; i + 1 < 256; i++) {
      // Byte rounding can cost a few hundredths of L* between neighbours (the
      // float data rises by >= 0.28 per step), two steps apart it always rises.
      assert.ok(L[i + 1]! - L[i]! > -0.05, `viridis L* drops at ${i}: ${L[i]} -> ${L[i + 1]}`);
      if (i + 2 < 256) assert.ok(L[i + 2]! > L[i]!, `viridis L* not rising over ${i}..${i + 2}`);
    }
    const T = Array.from({ length: 256 }, (_, i) => lightness(entry(colormapTable('turbo'), i)));
    assert.ok(T.some((v, i) => i > 0 && v < T[i - 1]! - 0.5), 'the property must be able to fail');
  });

  test('colormapTable returns a copy', () => {
    colormapTable('viridis').fill(0);
    assert.deepEqual(entry(colormapTable('viridis'), 0), [68, 1, 84]);
  });

  test('applyColormap picks entry round(clamp(v, 0, 1) * 255)', () => {
    const map = f32([0, 0.25, 0.5, 1, -3, 7, Number.NaN, 0.998]);
    const img = applyColormap(map, 4, 2, 'gray');
    assert.equal(img.width, 4);
    assert.equal(img.height, 2);
    // 0.25 * 255 = 63.75 -> 64; 0.5 * 255 = 127.5 -> 128; NaN -> 0; 0.998 * 255 = 254.49 -> 254
    assert.deepEqual(pixels(img).map((p) => p[0]), [0, 64, 128, 255, 0, 255, 0, 254]);
    assert.deepEqual(pixels(applyColormap(f32([0, 1]), 2, 1, 'viridis')), [
      [68, 1, 84],
      [253, 231, 37],
    ]);
    assert.throws(() => applyColormap(f32([0, 1, 2]), 2, 2, 'jet'), RangeError);
  });
});

describe('resizeBilinear', () => {
  test('2x2 -> 4x4 matches align_corners=False by hand', () => {
    // Source coordinates for out = 4, in = 2: (o + 0.5) / 2 - 0.5 = -0.25 (-> 0), 0.25, 0.75, 1.25 (-> 1).
    const out = resizeBilinear(f32([0, 1, 2, 3]), 2, 2, 4, 4);
    assert.deepEqual(
      out,
      f32([0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3]),
    );
  });

  test('channel-major planes are resized independently', () => {
    const out = resizeBilinear(f32([0, 1, 2, 3, 0, 10, 20, 30]), 2, 2, 4, 4, 2);
    assert.deepEqual(
      out.subarray(16),
      f32([0, 2.5, 7.5, 10, 5, 7.5, 12.5, 15, 15, 17.5, 22.5, 25, 20, 22.5, 27.5, 30]),
    );
  });

  test('downsampling 1x3 -> 1x2 reads x = 0.25 and 1.75 (no antialias)', () => {
    // (o + 0.5) * 3 / 2 - 0.5 = 0.25, 1.75 on [0, 3, 6] -> 0.75, 5.25
    assert.deepEqual(resizeBilinear(f32([0, 3, 6]), 1, 3, 1, 2), f32([0.75, 5.25]));
  });

  test('equal sizes give an exact copy', () => {
    const src = f32([0.1, -2, 3.5, 7, 1e-8, 42]);
    const out = resizeBilinear(src, 2, 3, 2, 3);
    assert.deepEqual(out, src);
    assert.notEqual(out, src);
  });

  test('a linear ramp stays linear inside the border', () => {
    // f(y, x) = 2x - 3y + 1 on a 3x4 grid, resized to 7x9. Bilinear reproduces
    // linear functions, so every output equals f at its clamped source
    // coordinate, and away from the clamped border it steps by a constant.
    const [h, w, H, W] = [3, 4, 7, 9];
    const f = (y: number, x: number): number => 2 * x - 3 * y + 1;
    const src = new Float32Array(h * w);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) src[y * w + x] = f(y, x);
    const out = resizeBilinear(src, h, w, H, W);
    const coord = (o: number, inSize: number, outSize: number): number => (o + 0.5) * (inSize / outSize) - 0.5;
    const clamp = (v: number, hi: number): number => Math.min(Math.max(v, 0), hi);
    for (let oy = 0; oy < H; oy++) {
      for (let ox = 0; ox < W; ox++) {
        const expected = f(clamp(coord(oy, h, H), h - 1), clamp(coord(ox, w, W), w - 1));
        assert.ok(Math.abs(out[oy * W + ox]! - expected) < 1e-5, `(${oy}, ${ox}): ${out[oy * W + ox]} vs ${expected}`);
      }
    }
    const inside = (o: number, inSize: number, outSize: number): boolean =>
      coord(o, inSize, outSize) >= 0 && coord(o, inSize, outSize) <= inSize - 1;
    for (let oy = 0; oy < H; oy++) {
      if (!inside(oy, h, H)) continue;
      for (let ox = 0; ox + 1 < W; ox++) {
        if (!inside(ox, w, W) || !inside(ox + 1, w, W)) continue;
        const step = out[oy * W + ox + 1]! - out[oy * W + ox]!;
        assert.ok(Math.abs(step - (2 * w) / W) < 1e-5, `x step ${step} at (${oy}, ${ox})`);
      }
    }
  });

  test('equals the direct four-tap formula, up and down, on several channels (to the bit)', () => {
    const rng = new Rng(3);
    const taps = (o: number, inSize: number, outSize: number) => {
      const x = Math.min(Math.max((o + 0.5) * (inSize / outSize) - 0.5, 0), inSize - 1);
      const lo = Math.floor(x);
      return [lo, Math.min(lo + 1, inSize - 1), x - lo] as const;
    };
    for (const [h, w, H, W, C] of [[7, 7, 224, 224, 1], [5, 3, 2, 9, 3], [13, 17, 4, 6, 2], [1, 4, 3, 1, 1]] as const) {
      const src = Float32Array.from({ length: C * h * w }, () => rng.normal());
      const out = resizeBilinear(src, h, w, H, W, C);
      for (let c = 0; c < C; c++) {
        for (let oy = 0; oy < H; oy++) {
          const [y0, y1, wy] = taps(oy, h, H);
          for (let ox = 0; ox < W; ox++) {
            const [x0, x1, wx] = taps(ox, w, W);
            const at = (y: number, x: number) => src[c * h * w + y * w + x]!;
            const top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx;
            const bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx;
            assert.equal(out[c * H * W + oy * W + ox], Math.fround(top * (1 - wy) + bottom * wy), `${h}x${w}->${H}x${W} c${c} (${oy}, ${ox})`);
          }
        }
      }
    }
  });

  test('rejects a buffer of the wrong size', () => {
    assert.throws(() => resizeBilinear(f32([1, 2, 3]), 2, 2, 4, 4), RangeError);
    assert.throws(() => resizeBilinear(f32([1, 2, 3, 4]), 2, 2, 4, 4, 1, new Float32Array(15)), /out holds 15 values, not 1x4x4/);
  });

  test('into a given buffer: the same values, whatever the buffer held', () => {
    const rng = new Rng(5);
    const src = Float32Array.from({ length: 2 * 3 * 4 }, () => rng.normal());
    const out = new Float32Array(2 * 5 * 7).fill(NaN);
    assert.equal(resizeBilinear(src, 3, 4, 5, 7, 2, out), out);
    assert.deepEqual(out, resizeBilinear(src, 3, 4, 5, 7, 2));
    const same = new Float32Array(src.length).fill(NaN);
    assert.deepEqual(resizeBilinear(src, 3, 4, 3, 4, 2, same), src);
  });
});

describe('normalize', () => {
  test('minMaxNormalize', () => {
    assert.deepEqual(minMaxNormalize(f32([2, 4, 6, 3])), f32([0, 0.5, 1, 0.25]));
    assert.deepEqual(minMaxNormalize(f32([5, 5, 5])), f32([0, 0, 0]));
    assert.deepEqual(minMaxNormalize(f32([])), f32([]));
    // in place: the same values; a constant map becomes zeros there too
    const map = f32([2, 4, 6, 3]);
    assert.equal(minMaxNormalize(map, map), map);
    assert.deepEqual(map, f32([0, 0.5, 1, 0.25]));
    const flat = f32([5, 5, 5]);
    assert.deepEqual(minMaxNormalize(flat, flat), f32([0, 0, 0]));
  });

  test('normalizeGradientImage: minus min, then over max', () => {
    assert.deepEqual(normalizeGradientImage(f32([-1, 0, 3, 1])), f32([0, 0.25, 1, 0.5]));
    assert.deepEqual(normalizeGradientImage(f32([-2, -2])), f32([0, 0]));
    assert.deepEqual(normalizeGradientImage(f32([0, 0, 0])), f32([0, 0, 0]));
  });

  test('absMaxScale keeps sign and zero', () => {
    assert.deepEqual(absMaxScale(f32([-4, 2, 0, 1])), f32([-1, 0.5, 0, 0.25]));
    assert.deepEqual(absMaxScale(f32([3, -1.5])), f32([1, -0.5]));
    const zeros = absMaxScale(f32([0, -0, 0]));
    assert.deepEqual(zeros, f32([0, 0, 0]));
    assert.ok(!zeros.some((v) => Number.isNaN(v)));
  });

  test('percentileClip clips to numpy-style percentiles of |x|', () => {
    // |x| sorted [1, 2, 3, 4, 10]: 50th percentile is 3.
    assert.deepEqual(percentileClip(f32([-10, 1, 2, 3, 4]), 50), f32([-3, 1, 2, 3, 3]));
    // np.percentile([1, 2, 3, 4, 5], 90) = 4.6 (rank 3.6 between 4 and 5).
    assert.deepEqual(percentileClip(f32([1, 2, 3, 4, 5]), 90), f32([1, 2, 3, 4, 4.6]));
    // 0..100: the 99th percentile is 99, so only 100 moves (SmoothGrad's p = 99).
    const ramp = f32(Array.from({ length: 101 }, (_, i) => i));
    const clipped = percentileClip(ramp, 99);
    assert.equal(clipped[100], 99);
    assert.deepEqual(clipped.subarray(0, 100), ramp.subarray(0, 100));
    assert.deepEqual(percentileClip(f32([0, 0]), 99), f32([0, 0]));
    assert.throws(() => percentileClip(ramp, 101), RangeError);
  });
});

describe('image', () => {
  test('RGB <-> RGBA', () => {
    const rgb = createRgbImage(2, 1, { data: bytes([10, 20, 30, 40, 50, 60]) });
    const rgba = rgbToRgba(rgb);
    assert.deepEqual(rgba.data, bytes([10, 20, 30, 255, 40, 50, 60, 255]));
    assert.equal(channelsOf(rgb), 3);
    assert.equal(channelsOf(rgba), 4);
    assert.deepEqual(rgbaToRgb(rgba).data, rgb.data);
    // Straight alpha 128/255 over white: 200 * 128/255 + 255 * 127/255 = 227.4 -> 227, etc.
    const half = { width: 2, height: 1, data: bytes([200, 100, 0, 128, 9, 9, 9, 0]) };
    assert.deepEqual(rgbaToRgb(half).data, bytes([227, 177, 127, 255, 255, 255]));
    assert.deepEqual(rgbaToRgb(half, { background: [0, 0, 0] }).data, bytes([100, 50, 0, 0, 0, 0]));
    assert.deepEqual(rgbaToRgb(half, { alpha: 'drop' }).data, bytes([200, 100, 0, 9, 9, 9]));
    assert.deepEqual(createRgbImage(1, 2, { fill: [1, 2, 3] }).data, bytes([1, 2, 3, 1, 2, 3]));
  });
});

describe('render', () => {
  test('overlay blends alpha * heat + (1 - alpha) * image', () => {
    const white = createRgbImage(2, 1, { fill: [255, 255, 255] });
    // Default jet, alpha 0.5: jet[0] = (0, 0, 128) -> (127.5, 127.5, 191.5) -> (128, 128, 192);
    // jet[255] = (128, 0, 0) -> (191.5, 127.5, 127.5) -> (192, 128, 128).
    assert.deepEqual(pixels(overlay(white, f32([0, 1]))), [
      [128, 128, 192],
      [192, 128, 128],
    ]);
    // viridis[255] = (253, 231, 37) over grey 200 at alpha 0.25: 213.25, 207.75, 159.25.
    const grey = createRgbImage(1, 1, { fill: [200, 200, 200] });
    assert.deepEqual(pixels(overlay(grey, f32([1]), { colormap: 'viridis', alpha: 0.25 })), [[213, 208, 159]]);
    const img = createRgbImage(1, 1, { data: bytes([100, 50, 0]) });
    assert.deepEqual(pixels(overlay(img, f32([1]), { colormap: 'gray', alpha: 0 })), [[100, 50, 0]]);
    assert.deepEqual(pixels(overlay(img, f32([1]), { colormap: 'gray', alpha: 1 })), [[255, 255, 255]]);
    assert.throws(() => overlay(img, f32([1, 0])), RangeError);
  });

  test('diverging: blue at -max, white at 0, red at +max', () => {
    // t = x / 4 = [-1, -0.25, 0, 0.5, 1]; s = round(255 * (1 - |t|)) = [0, 191, 255, 128, 0].
    assert.deepEqual(pixels(diverging(f32([-4, -1, 0, 2, 4]), 5, 1)), [
      [0, 0, 255],
      [191, 191, 255],
      [255, 255, 255],
      [255, 128, 128],
      [255, 0, 0],
    ]);
    assert.deepEqual(pixels(diverging(f32([0, 0]), 1, 2)), [
      [255, 255, 255],
      [255, 255, 255],
    ]);
  });

  test('signedImage sums channels, scales by max |sum| and centers 0 on coolwarm', () => {
    const cw = colormapTable('coolwarm');
    // [C = 2, H = 1, W = 4]: sums [2, -2, 0, 1] -> t = [1, -1, 0, 0.5] -> entries 255, 0, 128, 191.
    const image = signedImage(f32([1, -2, 0, 1.5, 1, 0, 0, -0.5]), 4, 1);
    assert.deepEqual(pixels(image), [255, 0, 128, 191].map((i) => entry(cw, i)));
    // All zero: every pixel is the neutral middle.
    assert.deepEqual(pixels(signedImage(f32([0, 0]), 2, 1)), [entry(cw, 128), entry(cw, 128)]);
    assert.throws(() => signedImage(f32([1, 2, 3]), 2, 1), /not channels of 2x1/);
  });

  test('renderAttribution: maps over the image, signed images on coolwarm, others min-max; the registry says which are signed', () => {
    const img = createRgbImage(2, 1, { fill: [10, 20, 30] });
    const values = f32([-1, 3]);
    assert.deepEqual(renderAttribution('image', values, [1, 1, 2], img, { colormap: 'jet', alpha: 0.5, signed: true }), signedImage(values, 2, 1));
    assert.deepEqual(renderAttribution('image', values, [1, 1, 2], img, { colormap: 'jet', alpha: 0.5, signed: false }), gradientImage(values, 2, 1, { mode: 'minmax' }));
    assert.deepEqual(renderAttribution('map', f32([0, 1]), [1, 2], img, { colormap: 'jet', alpha: 0.5, signed: true }), overlay(img, f32([0, 1]), { colormap: 'jet', alpha: 0.5 }));
    assert.deepEqual(
      methods.filter((m) => m.signed).map((m) => m.id),
      ['input-x-gradient', 'integrated-gradients', 'lrp', 'deeplift', 'deeplift-shap', 'gradient-shap'],
    );
  });

  test("gradientImage 'minmax' normalises all channels jointly", () => {
    // [C=3, H=1, W=2]: R [-1, 1], G [0, 0], B [1, 3]; min -1, then max 4:
    // R [0, 0.5], G [0.25, 0.25], B [0.5, 1] -> bytes 0, 128, 64, 64, 128, 255.
    const g = f32([-1, 1, 0, 0, 1, 3]);
    assert.deepEqual(pixels(gradientImage(g, 2, 1, { mode: 'minmax' })), [
      [0, 64, 128],
      [128, 64, 255],
    ]);
    assert.deepEqual(pixels(gradientImage(f32([2, 4]), 2, 1, { mode: 'minmax' })), [
      [0, 0, 0],
      [255, 255, 255],
    ]);
  });

  test("gradientImage 'abs' renders max_c |g| in grey", () => {
    // R [-4, 1], G [2, -2], B [0, 0]: max |.| = [4, 2] -> [1, 0.5] -> 255, 128.
    assert.deepEqual(pixels(gradientImage(f32([-4, 1, 2, -2, 0, 0]), 2, 1, { mode: 'abs' })), [
      [255, 255, 255],
      [128, 128, 128],
    ]);
    assert.throws(() => gradientImage(f32([1, 2, 3, 4]), 2, 1, { mode: 'abs' }), RangeError);
  });

  test('grid places tiles row-major with padding, like make_grid', () => {
    // Three 2x2 tiles; tile k pixel (x, y) is red 10 * (k + 1) + 2y + x.
    const tiles = [0, 1, 2].map((k) =>
      createRgbImage(2, 2, {
        data: bytes([0, 1, 2, 3].flatMap((p) => [10 * (k + 1) + p, 0, 0])),
      }),
    );
    const out = grid(tiles, { columns: 2, padding: 1 });
    // Width 2 * (2 + 1) + 1 = 7, height 2 * (2 + 1) + 1 = 7; background white.
    const _ = 255;
    const red = [
      [_, _, _, _, _, _, _],
      [_, 10, 11, _, 20, 21, _],
      [_, 12, 13, _, 22, 23, _],
      [_, _, _, _, _, _, _],
      [_, 30, 31, _, _, _, _],
      [_, 32, 33, _, _, _, _],
      [_, _, _, _, _, _, _],
    ];
    assert.equal(out.width, 7);
    assert.equal(out.height, 7);
    assert.deepEqual(pixels(out), red.flat().map((r) => (r === _ ? [_, _, _] : [r, 0, 0])));
  });

  test('grid: default padding 2, fewer images than columns, custom background', () => {
    const one = createRgbImage(1, 1, { fill: [1, 2, 3] });
    const a = grid([one], { columns: 4 });
    assert.equal(a.width, 5);
    assert.equal(a.height, 5);
    assert.deepEqual(pixels(a)[12], [1, 2, 3]);
    assert.equal(pixels(a).filter((p) => p.join() === '255,255,255').length, 24);
    const b = grid([one, createRgbImage(1, 1)], { columns: 1, padding: 0, background: [9, 9, 9] });
    assert.deepEqual(pixels(b), [
      [1, 2, 3],
      [0, 0, 0],
    ]);
    assert.throws(() => grid([one, createRgbImage(2, 1)], { columns: 2 }), RangeError);
  });
});

describe('png (Node)', () => {
  test('encode -> decode is pixel-exact on a 3x2 image', async () => {
    const image = createRgbImage(3, 2, {
      data: bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 1, 2, 3, 128, 127, 126, 250, 251, 252]),
    });
    const png = await encodePng(image);
    assert.deepEqual(Array.from(png.subarray(0, 8)), [137, 80, 78, 71, 13, 10, 26, 10]);
    const back = await decodeImage(png);
    assert.equal(back.width, 3);
    assert.equal(back.height, 2);
    assert.deepEqual(back.data, image.data);
  });

  test('RGBA is encoded with alpha and flattened on decode', async () => {
    const png = await encodePng({ width: 3, height: 1, data: bytes([200, 100, 0, 255, 200, 100, 0, 0, 200, 100, 0, 128]) });
    assert.equal((await sharp(png).metadata()).channels, 4);
    // Same "over" compositing as rgbaToRgb: 128/255 of (200, 100, 0) over white -> (227, 177, 127).
    assert.deepEqual((await decodeImage(png)).data, bytes([200, 100, 0, 255, 255, 255, 227, 177, 127]));
    assert.deepEqual((await decodeImage(png, { background: [0, 0, 0] })).data, bytes([200, 100, 0, 0, 0, 0, 100, 50, 0]));
  });

  test('decodes grey images to three channels, and reads from a path', async () => {
    const greyPng = await sharp(new Uint8Array([0, 77, 255, 128]), { raw: { width: 2, height: 2, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    assert.equal((await sharp(greyPng).metadata()).channels, 1);
    const dir = await mkdtemp(join(tmpdir(), 'convlens-viz-'));
    try {
      const path = join(dir, 'grey.png');
      await writeFile(path, greyPng);
      const img = await decodeImage(path);
      assert.deepEqual(pixels(img), [
        [0, 0, 0],
        [77, 77, 77],
        [255, 255, 255],
        [128, 128, 128],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("EXIF orientation is ignored unless asked for ('exif')", async () => {
    // 2x1 JPEG tagged orientation 6 (rotate 90 degrees clockwise to display).
    const jpeg = await sharp(new Uint8Array([255, 0, 0, 0, 0, 255]), { raw: { width: 2, height: 1, channels: 3 } })
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
      .toBuffer();
    const stored = await decodeImage(jpeg);
    const shown = await decodeImage(jpeg, { orientation: 'exif' });
    assert.deepEqual([stored.width, stored.height], [2, 1]);
    assert.deepEqual([shown.width, shown.height], [1, 2]);
  });
});

test('src/viz is browser-safe apart from png.ts', async () => {
  const dir = new URL('../src/viz/', import.meta.url);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.ts') && f !== 'png.ts');
  assert.ok(files.length >= 6, files.join());
  for (const file of files) {
    const source = await readFile(new URL(file, dir), 'utf8');
    for (const m of source.matchAll(/\bfrom\s+'([^']+)'/g)) {
      assert.match(m[1]!, /^\.\/[\w-]+\.ts$/, `${file} imports ${m[1]}`);
    }
    assert.doesNotMatch(source, /\bimport\s*\(|\brequire\s*\(|\bprocess\.|\bBuffer\b/, file);
  }
});
