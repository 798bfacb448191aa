/**
 * How an explanation is drawn, shared by the server (the `png` of /api/explain) and the
 * browser (which redraws on colormap or opacity changes without asking the server):
 * maps are blended over the image the model sees, attribution images are shown on their
 * own, min-max scaled, as `convlens explain` writes them. Browser-safe (no Node imports).
 */
import type { OutputKind } from '../methods/types.ts';
import type { ColormapName } from '../viz/colormaps.ts';
import type { RgbImage } from '../viz/image.ts';
import { gradientImage, overlay } from '../viz/render.ts';

export function renderResult(kind: OutputKind, values: Float32Array, dims: readonly number[], image: RgbImage, colormap: ColormapName, alpha: number): RgbImage {
  if (kind === 'map') return overlay(image, values, { colormap, alpha });
  return gradientImage(values, dims[2]!, dims[1]!, { mode: 'minmax' });
}

/** Float32 values <-> base64 of their little-endian bytes (every platform convlens runs on is little-endian). */
export function floatsToBase64(values: Float32Array): string {
  return bytesToBase64(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

/** Base64 without Node's Buffer (the explorer's workspace also runs in a Web Worker). */
export function bytesToBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

export function base64ToFloats(b64: string): Float32Array {
  const text = atob(b64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}
