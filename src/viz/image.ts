// Plain 8-bit image containers shared by the rendering functions.
//
// Both layouts are interleaved and row-major: pixel (x, y) starts at byte
// (y * width + x) * channels. RgbaImage has the same fields as the DOM's
// ImageData, so in a browser `new ImageData(rgba.data, rgba.width, rgba.height)`
// hands it to a canvas without copying.

export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** RGB, 3 bytes per pixel, row-major. */
  readonly data: Uint8ClampedArray;
}

export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  /** RGBA, 4 bytes per pixel, row-major, straight (not premultiplied) alpha. */
  readonly data: Uint8ClampedArray;
}

export type Rgb = readonly [r: number, g: number, b: number];

function checkSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`image size must be non-negative integers, got ${width}x${height}`);
  }
}

/**
 * An RGB image of the given size, filled with `fill` (black by default), or
 * wrapping `data` when given (its length must be width * height * 3).
 */
export function createRgbImage(
  width: number,
  height: number,
  init: { fill?: Rgb; data?: Uint8ClampedArray } = {},
): RgbImage {
  checkSize(width, height);
  const n = width * height;
  if (init.data !== undefined) {
    if (init.data.length !== n * 3) {
      throw new RangeError(`RGB data for ${width}x${height} needs ${n * 3} bytes, got ${init.data.length}`);
    }
    return { width, height, data: init.data };
  }
  const data = new Uint8ClampedArray(n * 3);
  const [r, g, b] = init.fill ?? [0, 0, 0];
  if (r !== 0 || g !== 0 || b !== 0) {
    for (let i = 0; i < n; i++) {
      data[3 * i] = r;
      data[3 * i + 1] = g;
      data[3 * i + 2] = b;
    }
  }
  return { width, height, data };
}

/**
 * Bytes per pixel of an image, read from its buffer length: 3 for RgbImage,
 * 4 for RgbaImage. The two interfaces are structurally identical, so this is
 * the only way to tell them apart at run time.
 */
export function channelsOf(image: RgbImage | RgbaImage): 3 | 4 {
  checkSize(image.width, image.height);
  const n = image.width * image.height;
  if (image.data.length === n * 3) return 3;
  if (image.data.length === n * 4) return 4;
  throw new RangeError(
    `image data of ${image.data.length} bytes fits neither RGB nor RGBA at ${image.width}x${image.height}`,
  );
}

/** Adds an alpha channel, opaque unless `alpha` (0..255) says otherwise. */
export function rgbToRgba(image: RgbImage, options: { alpha?: number } = {}): RgbaImage {
  const alpha = options.alpha ?? 255;
  const n = image.width * image.height;
  if (image.data.length !== n * 3) throw new RangeError('rgbToRgba expects 3 bytes per pixel');
  const src = image.data;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    out[4 * i] = src[3 * i]!;
    out[4 * i + 1] = src[3 * i + 1]!;
    out[4 * i + 2] = src[3 * i + 2]!;
    out[4 * i + 3] = alpha;
  }
  return { width: image.width, height: image.height, data: out };
}

/**
 * Removes the alpha channel.
 *
 * - 'composite' (default): "over" compositing onto `background` (white by
 *   default), out = round(a/255 * c + (1 - a/255) * bg) per channel, which is
 *   what a viewer shows for a straight-alpha image.
 * - 'drop': keeps the colour bytes as they are and ignores alpha.
 */
export function rgbaToRgb(
  image: RgbaImage,
  options: { alpha?: 'composite' | 'drop'; background?: Rgb } = {},
): RgbImage {
  const mode = options.alpha ?? 'composite';
  const [br, bg, bb] = options.background ?? [255, 255, 255];
  const n = image.width * image.height;
  if (image.data.length !== n * 4) throw new RangeError('rgbaToRgb expects 4 bytes per pixel');
  const src = image.data;
  const out = new Uint8ClampedArray(n * 3);
  for (let i = 0; i < n; i++) {
    const r = src[4 * i]!;
    const g = src[4 * i + 1]!;
    const b = src[4 * i + 2]!;
    if (mode === 'drop') {
      out[3 * i] = r;
      out[3 * i + 1] = g;
      out[3 * i + 2] = b;
    } else {
      const a = src[4 * i + 3]! / 255;
      out[3 * i] = Math.round(a * r + (1 - a) * br);
      out[3 * i + 1] = Math.round(a * g + (1 - a) * bg);
      out[3 * i + 2] = Math.round(a * b + (1 - a) * bb);
    }
  }
  return { width: image.width, height: image.height, data: out };
}
