/**
 * How an explanation is drawn, shared by the server (the `png` of /api/explain) and the
 * browser (which redraws on colormap or opacity changes without asking the server):
 * maps are blended over the image the model sees, attribution images are shown on their
 * own, as `convlens explain` writes them: signed ones (the method's `signed` in the
 * registry) summed over channels on a diverging colormap centered at 0, the others min-max
 * scaled. Browser-safe (no Node imports).
 */
import type { OutputKind } from '../methods/types.ts';
import type { ColormapName } from '../viz/colormaps.ts';
import type { RgbImage } from '../viz/image.ts';
import { renderAttribution } from '../viz/render.ts';
import { bytesToBase64 } from '../base64.ts';

/** `signed`: the method's MethodInfo.signed (its attribution images are signed). */
export function renderResult(kind: OutputKind, values: Float32Array, dims: readonly number[], image: RgbImage, colormap: ColormapName, alpha: number, signed = false): RgbImage {
  return renderAttribution(kind, values, dims, image, { colormap, alpha, signed });
}

/** Float32 values <-> base64 of their little-endian bytes (every platform convlens runs on is little-endian). */
export function floatsToBase64(values: Float32Array): string {
  return bytesToBase64(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

export function base64ToFloats(b64: string): Float32Array {
  const text = atob(b64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}
