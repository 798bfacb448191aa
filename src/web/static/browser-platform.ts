/**
 * The workspace's platform in a browser (a Web Worker or a page): images decoded by the
 * browser (createImageBitmap: PNG, JPEG, WebP, GIF, AVIF, BMP, SVG in pages), fitted
 * with the same size rules as the Node loader (input/image-file.ts: alpha flattened onto
 * white, 'stretch' or torchvision's center crop), PNGs from OffscreenCanvas.
 *
 * Pixels equal the Node loader's whenever no resize is needed (the image already has the
 * model's size); a resize is the browser's bilinear filter, close to but not bit-equal
 * with libvips'.
 */
import { InputError } from '../../input/layout.ts';
import { centerCropPlan } from '../../input/crop-plan.ts';
import { rgbToRgba, type RgbImage } from '../../viz/image.ts';
import type { WorkspacePlatform } from '../workspace-core.ts';

/** Same cap as the Node loader's default: 100 million pixels. */
const MAX_PIXELS = 100_000_000;

async function decodeImage(bytes: Uint8Array, fit: { height: number; width: number; resize: 'stretch' | 'center-crop'; name: string }): Promise<RgbImage> {
  const { height, width, name } = fit;
  if (bytes.length === 0) throw new InputError(`'${name}' is empty (0 bytes): re-export or re-download the image`);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
  } catch {
    throw new InputError(`'${name}' is not an image this browser can decode: convert it to PNG or JPEG`);
  }
  const original = { width: bitmap.width, height: bitmap.height };
  if (original.width * original.height > MAX_PIXELS) throw new InputError(`'${name}' is ${original.width}x${original.height} pixels, more than ${MAX_PIXELS / 1e6} megapixels: downscale it first`);
  const plan = fit.resize === 'stretch' ? { rw: width, rh: height, left: 0, top: 0 } : centerCropPlan(original, height, width);
  const canvas = new OffscreenCanvas(plan.rw, plan.rh);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new InputError('this browser has no 2-D canvas in workers: use a current Chromium, Firefox or Safari');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, plan.rw, plan.rh);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, plan.rw, plan.rh);
  bitmap.close();
  const rgba = ctx.getImageData(plan.left, plan.top, width, height).data;
  const data = new Uint8ClampedArray(width * height * 3);
  for (let p = 0, q = 0; q < rgba.length; p += 3, q += 4) {
    data[p] = rgba[q]!;
    data[p + 1] = rgba[q + 1]!;
    data[p + 2] = rgba[q + 2]!;
  }
  return { width, height, data };
}

async function encodePng(image: RgbImage): Promise<Uint8Array> {
  const rgba = rgbToRgba(image).data as Uint8ClampedArray<ArrayBuffer>;
  const canvas = new OffscreenCanvas(image.width, image.height);
  canvas.getContext('2d')!.putImageData(new ImageData(rgba, image.width, image.height), 0, 0);
  return new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
}

function newImageId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export const browserPlatform: WorkspacePlatform = { decodeImage, encodePng, newImageId };
