/**
 * Post-processing shared by every method: ReLU where the method defines it, bilinear
 * upsampling to the input size with half-pixel centers (torch align_corners=False, OpenCV
 * INTER_LINEAR), then per-map min-max normalization with a zero guard. (pytorch-grad-cam
 * normalizes, resizes and normalizes again; resizing is linear, so that equals this.)
 */
import { minMaxNormalize } from '../viz/normalize.ts';
import { resizeBilinear } from '../viz/resize.ts';
import type { Explanation, Method, RawResult } from './types.ts';

export function relu(v: Float32Array): Float32Array {
  return v.map((x) => (x > 0 ? x : 0));
}

/** A raw [h, w] map -> normalized [H, W] display values. */
export function mapToInput(raw: Float32Array, h: number, w: number, H: number, W: number): Float32Array {
  if (h === H && w === W) return minMaxNormalize(raw);
  const upsampled = resizeBilinear(raw, h, w, H, W);
  return minMaxNormalize(upsampled, upsampled); // a fresh array: normalized in place
}

export function finish(
  method: Method<never> | Method,
  result: RawResult,
  meta: { image: number; class: number | undefined },
  size: { height: number; width: number },
): Explanation {
  const isMap = result.dims.length === 2;
  const raw = isMap && method.relu ? relu(result.values) : result.values;
  const values = isMap ? mapToInput(raw, result.dims[0]!, result.dims[1]!, size.height, size.width) : raw;
  return {
    method: method.id,
    image: meta.image,
    class: meta.class,
    ...(result.layer !== undefined ? { layer: result.layer } : {}),
    kind: isMap ? 'map' : 'image',
    raw,
    rawDims: result.dims,
    values,
    dims: isMap ? [size.height, size.width] : result.dims,
    ...(result.extras ? { extras: result.extras } : {}),
    ...(result.warnings?.length ? { warnings: result.warnings } : {}),
  };
}

/** The fusion of several layers' maps of one row: the mean of their display values, renormalized. */
export function fuse(maps: readonly Explanation[]): Explanation {
  const first = maps[0]!;
  const mean = new Float32Array(first.values.length);
  for (const m of maps) m.values.forEach((v, i) => (mean[i] = mean[i]! + v / maps.length));
  return { ...first, layer: 'fused', raw: mean, rawDims: first.dims, values: minMaxNormalize(mean) };
}
