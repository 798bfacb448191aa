/**
 * Image files -> the RGB image the model sees, with sharp (Node only).
 *
 * Decoding: EXIF orientation applied, alpha flattened onto white, gray / palette / 16-bit /
 * CMYK images converted to 8-bit sRGB, first frame of animations.
 *
 * Resizing (bilinear, antialiased when shrinking, like PIL/torchvision):
 *  - 'stretch': exactly height x width, aspect ratio not kept.
 *  - 'center-crop': torchvision's Resize(round(size / cropFraction)) + CenterCrop(size).
 *    The image side that limits the crop (the shorter side for a square target) is resized
 *    to round(target / cropFraction), the other side to floor(new * other / side) (as
 *    torchvision computes it), then the center height x width is cut out with the offset
 *    round((resized - target) / 2), rounding half to even like Python.
 */
import { readFile, stat } from 'node:fs/promises';
import type { OutputInfo } from 'sharp';
import { loadSharp } from '../sharp-module.ts';
import { InputError } from './layout.ts';
import { centerCropPlan, resizeModes, type ResizeMode } from './crop-plan.ts';
import type { RgbImage } from '../viz/image.ts';

export { centerCropPlan, resizeModes, type ResizeMode };

export interface LoadImageOptions {
  height: number;
  width: number;
  /** Default 'center-crop'. */
  resize?: ResizeMode;
  /** Fraction of the resized image kept by 'center-crop' (default 0.875 = 224/256). */
  cropFraction?: number;
  /** The name used in error messages when `source` is bytes (default 'image'). */
  name?: string;
  /** Largest image decoded, in pixels (default 100 million, e.g. 10000 x 10000), checked from the header before decoding. */
  maxPixels?: number;
}

export const defaultMaxPixels = 100_000_000;
/** The largest intermediate image a resize may make: 4 million pixels (or 16 times the target when that is more). */
const MAX_RESIZED_PIXELS = 4_000_000;

export interface LoadedImage {
  /** The resized / cropped image the model sees, height x width. */
  image: RgbImage;
  /** Size of the file's image after EXIF orientation. */
  original: { width: number; height: number };
  /**
   * The file itself when it is a PNG that shows exactly `image` (8-bit RGB at the model's
   * size, no orientation, transparency or colour profile): a copy of the input can be the
   * file, not a new encoding.
   */
  png?: Uint8Array;
}

export const imageFormatsText = 'JPEG, PNG, WebP, GIF, TIFF, AVIF, SVG';

/** Read an image (path or encoded bytes) and resize it for the model. */
export async function loadImageForModel(source: string | Uint8Array, options: LoadImageOptions): Promise<LoadedImage> {
  const { height, width, resize = 'center-crop', cropFraction = 0.875 } = options;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) {
    throw new InputError(`the target size must be positive integers, got ${width}x${height} (WxH)`);
  }
  if (!(cropFraction > 0 && cropFraction <= 1)) throw new InputError(`cropFraction must be in (0, 1], got ${cropFraction}`);
  if (resize !== 'stretch' && resize !== 'center-crop') throw new InputError(`unknown resize mode '${String(resize)}': use ${resizeModes.join(' or ')}`);

  const name = typeof source === 'string' ? `'${source}'` : `'${options.name ?? 'image'}'`;
  const bytes = typeof source === 'string' ? await readImageFile(source) : source;
  if (bytes.length === 0) throw new InputError(`${name} is empty (0 bytes): re-export or re-download the image`);

  const maxPixels = options.maxPixels ?? defaultMaxPixels;
  const sharp = await loadSharp();
  const open = () => sharp(bytes, { autoOrient: true, failOn: 'error', limitInputPixels: Math.max(1, Math.min(maxPixels, 2 ** 32 - 1)) });
  let original: { width: number; height: number };
  let plainPng = false;
  try {
    const meta = await open().metadata();
    original = { width: meta.autoOrient?.width ?? meta.width, height: meta.autoOrient?.height ?? meta.height };
    plainPng = meta.format === 'png' && meta.channels === 3 && meta.depth === 'uchar' && !meta.hasAlpha && !meta.hasProfile && (meta.orientation ?? 1) === 1;
  } catch (e) {
    throw decodeError(name, e);
  }
  if (!(original.width > 0 && original.height > 0)) {
    throw new InputError(`${name} is ${original.width}x${original.height} pixels: the image has no pixels, use a non-empty image`);
  }
  if (original.width * original.height > maxPixels) {
    throw new InputError(`${name} is ${original.width}x${original.height} pixels, more than the ${maxPixels / 1e6} megapixels convlens decodes: downscale it first (or raise maxPixels)`);
  }

  const plan = resize === 'stretch' ? { rw: width, rh: height, left: 0, top: 0 } : centerCropPlan(original, height, width, cropFraction);
  if (plan.rw * plan.rh > Math.max(MAX_RESIZED_PIXELS, 16 * width * height)) {
    throw new InputError(`${name} is ${original.width}x${original.height} pixels: center-crop would first resize it to ${plan.rw}x${plan.rh}, too large for its extreme aspect ratio; crop the image or use --resize stretch`);
  }
  let pipeline = open().flatten({ background: '#ffffff' }).toColourspace('srgb');
  if (plan.rw !== original.width || plan.rh !== original.height) {
    pipeline = pipeline.resize(plan.rw, plan.rh, { fit: 'fill', kernel: 'linear', fastShrinkOnLoad: false });
  }
  let raw: Buffer;
  let info: OutputInfo;
  try {
    ({ data: raw, info } = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true }));
  } catch (e) {
    throw decodeError(name, e);
  }
  if (info.channels !== 3 || info.width !== plan.rw || info.height !== plan.rh) {
    throw new InputError(`${name} decoded to ${info.width}x${info.height}x${info.channels}, expected ${plan.rw}x${plan.rh}x3: convert it to an 8-bit RGB PNG or JPEG`);
  }
  const data = new Uint8ClampedArray(width * height * 3);
  for (let y = 0; y < height; y++) {
    const start = ((plan.top + y) * plan.rw + plan.left) * 3;
    data.set(raw.subarray(start, start + width * 3), y * width * 3);
  }
  const unchanged = plainPng && original.width === width && original.height === height;
  return { image: { width, height, data }, original, ...(unchanged ? { png: bytes } : {}) };
}

async function readImageFile(path: string): Promise<Uint8Array> {
  const name = `'${path}'`;
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw new InputError(`${name} is a folder, not an image file: pass the image files (or use loadInputs, which reads folders)`);
    if (!s.isFile()) throw new InputError(`${name} is not a regular file (a pipe, socket or device): save the image to a file`);
    if (s.size === 0) throw new InputError(`${name} is empty (0 bytes): re-export or re-download the image`);
    return await readFile(path);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${name} does not exist: check the path`);
    if (code === 'EACCES' || code === 'EPERM') throw new InputError(`${name} cannot be read (permission denied): check the file's permissions`);
    throw new InputError(`${name} cannot be read: ${(e as Error).message}`);
  }
}

function decodeError(name: string, e: unknown): InputError {
  const msg = e instanceof Error ? e.message : String(e);
  if (/pixel limit/i.test(msg)) {
    return new InputError(`${name} has more pixels than convlens decodes: downscale it first`);
  }
  if (/unsupported image format/i.test(msg)) {
    return new InputError(`${name} is not an image sharp can read (${imageFormatsText}): convert it to PNG or JPEG`);
  }
  if (/bad dimensions|width is zero|height is zero|zero (width|height)/i.test(msg)) {
    return new InputError(`${name} has a zero width or height: the image has no pixels, use a non-empty image`);
  }
  return new InputError(`${name} could not be decoded (sharp: ${msg.split('\n')[0]}): the file may be truncated or corrupt; re-export it as PNG or JPEG`);
}
