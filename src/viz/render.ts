// Turning attribution maps into pictures: heatmap overlays, signed maps,
// gradient images and figure grids. Bytes are round(255 * v) of values in
// [0, 1] throughout.

import { applyColormap, colormapOffset, colormapTable, type ColormapName } from './colormaps.ts';
import { createRgbImage, type Rgb, type RgbImage } from './image.ts';
import { absMaxScale, normalizeGradientImage } from './normalize.ts';

function checkMapSize(fn: string, map: Float32Array, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`${fn}: size must be non-negative integers, got ${width}x${height}`);
  }
  if (map.length !== width * height) {
    throw new RangeError(`${fn}: ${map.length} values do not make a ${width}x${height} map`);
  }
}

/**
 * Heatmap over an image: out = round(alpha * colormap(map) + (1 - alpha) * image)
 * per channel, with `map` in [0, 1], row-major, the image's size.
 *
 * The default alpha = 0.5 matches pytorch-grad-cam's `show_cam_on_image`,
 * whose `image_weight` defaults to 0.5. That function also divides the blend
 * by its maximum and truncates to bytes, and its jet is OpenCV's
 * `COLORMAP_JET`, not matplotlib's; this blend is the plain convex combination
 * (no re-normalisation), so image colours are kept.
 */
export function overlay(
  image: RgbImage,
  map: Float32Array,
  options: { colormap?: ColormapName; alpha?: number } = {},
): RgbImage {
  const { colormap = 'jet', alpha = 0.5 } = options;
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`overlay: alpha must be in [0, 1], got ${alpha}`);
  checkMapSize('overlay', map, image.width, image.height);
  if (image.data.length !== map.length * 3) throw new RangeError('overlay: image must be RGB (3 bytes per pixel)');
  // Colour and blend in one pass (this runs on every pixel of every map).
  const lut = colormapTable(colormap);
  const src = image.data;
  const out = new Uint8ClampedArray(src.length);
  const keep = 1 - alpha;
  for (let i = 0, j = 0; i < map.length; i++, j += 3) {
    const k = colormapOffset(map[i]!);
    out[j] = Math.round(alpha * lut[k]! + keep * src[j]!);
    out[j + 1] = Math.round(alpha * lut[k + 1]! + keep * src[j + 1]!);
    out[j + 2] = Math.round(alpha * lut[k + 2]! + keep * src[j + 2]!);
  }
  return { width: image.width, height: image.height, data: out };
}

/**
 * Signed map on a symmetric blue-white-red scale (as matplotlib's `bwr`), the
 * usual rendering of attributions such as gradient x input or integrated
 * gradients. With t = x / max|x| in [-1, 1] and s = round(255 * (1 - |t|)):
 *
 *   t = -1 -> (0, 0, 255) pure blue;  t = 0 -> (255, 255, 255) white;
 *   t = +1 -> (255, 0, 0) pure red;   t < 0 -> (s, s, 255);  t > 0 -> (255, s, s).
 *
 * An all-zero map is all white.
 */
export function diverging(map: Float32Array, width: number, height: number): RgbImage {
  checkMapSize('diverging', map, width, height);
  const t = absMaxScale(map);
  const out = new Uint8ClampedArray(map.length * 3);
  for (let i = 0; i < t.length; i++) {
    const v = t[i]!;
    const s = Math.round(255 * (1 - Math.abs(v)));
    out[3 * i] = v < 0 ? s : 255;
    out[3 * i + 1] = s;
    out[3 * i + 2] = v > 0 ? s : 255;
  }
  return { width, height, data: out };
}

/** [C, n] -> [n]: the sum over channels (what a signed image shows; its colorbar spans +-max |sum|). */
export function channelSum(values: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < values.length; i++) out[i % n] = out[i % n]! + values[i]!;
  return out;
}

/**
 * A signed attribution image [C, H, W] (any C; a map [H, W] is C = 1) as a heat map:
 * summed over channels to [H, W] (the relevance or attribution of each pixel), divided by
 * max |v| so that 0 sits at the colormap's middle, and coloured by a diverging map
 * (default coolwarm): red for the score, blue against it, neutral where nothing is. The
 * usual rendering of LRP relevance and of integrated
 * gradients, DeepLIFT or SHAP attributions.
 */
export function signedImage(values: Float32Array, width: number, height: number, colormap: ColormapName = 'coolwarm'): RgbImage {
  const n = width * height;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0 || values.length % n !== 0 || values.length === 0) {
    throw new RangeError(`signedImage: ${values.length} values are not channels of ${width}x${height}`);
  }
  const t = absMaxScale(channelSum(values, n));
  for (let i = 0; i < n; i++) t[i] = (t[i]! + 1) / 2;
  return applyColormap(t, width, height, colormap);
}

/**
 * How an explanation is drawn, the one rule `convlens explain` and the explorer share: a
 * map ([H, W] in [0, 1]) blended over the image; an attribution image [C, H, W] on its own,
 * summed on a diverging colormap when its values are signed, else min-max scaled.
 */
export function renderAttribution(
  kind: 'map' | 'image',
  values: Float32Array,
  dims: readonly number[],
  image: RgbImage,
  options: { colormap: ColormapName; alpha: number; signed: boolean },
): RgbImage {
  if (kind === 'map') return overlay(image, values, options);
  if (options.signed) return signedImage(values, dims[2]!, dims[1]!);
  return gradientImage(values, dims[2]!, dims[1]!, { mode: 'minmax' });
}

/**
 * An input-space gradient g, layout [C, H, W] with C = 1 or 3, as a picture.
 *
 * - 'minmax': `normalizeGradientImage` over all channels jointly, then
 *   channel c becomes colour c (C = 1 is repeated into grey). The figure
 *   convention for guided backpropagation (Springenberg et al. 2015) and
 *   deconvnet reconstructions: a roughly symmetric gradient puts zero near
 *   mid-grey, and hue shows which input channels the gradient favours.
 * - 'abs': max over channels of |g|, divided by its maximum, as grey: the
 *   saliency map of Simonyan et al. 2014 (their M_ij = max_c |w_h(i,j,c)|).
 */
export function gradientImage(
  g: Float32Array,
  width: number,
  height: number,
  options: { mode: 'minmax' | 'abs' },
): RgbImage {
  const n = width * height;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`gradientImage: size must be non-negative integers, got ${width}x${height}`);
  }
  const channels = n === 0 ? 1 : g.length / n;
  if (channels !== 1 && channels !== 3) {
    throw new RangeError(`gradientImage: ${g.length} values are not 1 or 3 channels of ${width}x${height}`);
  }
  const out = new Uint8ClampedArray(n * 3);
  if (options.mode === 'minmax') {
    const v = normalizeGradientImage(g);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) {
        const plane = channels === 3 ? c : 0;
        out[3 * i + c] = Math.round(255 * v[plane * n + i]!);
      }
    }
  } else {
    const m = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let a = 0;
      for (let c = 0; c < channels; c++) a = Math.max(a, Math.abs(g[c * n + i]!));
      m[i] = a;
    }
    const v = absMaxScale(m);
    for (let i = 0; i < n; i++) out.fill(Math.round(255 * v[i]!), 3 * i, 3 * i + 3);
  }
  return { width, height, data: out };
}

/**
 * Tiles equally sized images row-major into `columns` columns (fewer when there
 * are fewer images), with `padding` background pixels between tiles and around
 * the border. Layout as torchvision.utils.make_grid(nrow=columns, padding):
 * tile k sits at x = padding + (k % cols) * (w + padding),
 * y = padding + floor(k / cols) * (h + padding), and the result is
 * cols * (w + padding) + padding wide and rows * (h + padding) + padding high.
 * Unlike make_grid, a single image is padded too (make_grid returns it bare),
 * and the background defaults to white (make_grid's pad value is black).
 */
export function grid(
  images: readonly RgbImage[],
  options: { columns: number; padding?: number; background?: Rgb },
): RgbImage {
  const { columns, padding = 2, background = [255, 255, 255] } = options;
  const first = images[0];
  if (first === undefined) throw new RangeError('grid: no images');
  if (!Number.isInteger(columns) || columns < 1) throw new RangeError(`grid: columns must be a positive integer, got ${columns}`);
  if (!Number.isInteger(padding) || padding < 0) throw new RangeError(`grid: padding must be a non-negative integer, got ${padding}`);
  const { width: w, height: h } = first;
  for (const im of images) {
    if (im.width !== w || im.height !== h || im.data.length !== w * h * 3) {
      throw new RangeError(`grid: every image must be RGB ${w}x${h}, got ${im.width}x${im.height}`);
    }
  }
  const cols = Math.min(columns, images.length);
  const rows = Math.ceil(images.length / cols);
  const out = createRgbImage(cols * (w + padding) + padding, rows * (h + padding) + padding, { fill: background });
  const rowBytes = out.width * 3;
  images.forEach((im, k) => {
    const x0 = padding + (k % cols) * (w + padding);
    const y0 = padding + Math.floor(k / cols) * (h + padding);
    for (let y = 0; y < h; y++) {
      out.data.set(im.data.subarray(y * w * 3, (y + 1) * w * 3), (y0 + y) * rowBytes + x0 * 3);
    }
  });
  return out;
}
